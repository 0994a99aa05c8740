"""Arena format v1: pydantic models of one arena file.

Field-level rules live here (types, ranges that need no context). Rules that need the
whole arena (ids that must exist, values inside an issue's scale, the salience
convention) live in :mod:`tawazun.arena.checks`, so that every problem in a file can be
reported at once with its field path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal, Union

from pydantic import (
    AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator,
)

from tawazun.loop.questions import Question

FORMAT = "tawazun-arena/1"

# One id rule for every id in the format (actors, issues, spaces, descriptors, variants...).
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

ProblemPath = tuple[Union[str, int], ...]

#: Every number in an arena lies within ±MAX_MAGNITUDE: far beyond any real scale or
#: capability, and small enough that the engines' squares, products and sums stay finite.
MAX_MAGNITUDE = 1e9
#: A scale must span at least this share of max(1, |min|, |max|): narrower spans are
#: rounding noise, and the engines divide by the span.
MIN_SPAN_RELATIVE = 1e-6


def _magnitude(value: float | int) -> float | int:
    if abs(value) > MAX_MAGNITUDE:
        # via the bit length: a huge int can be neither a float nor a printable string
        size = f"{value:.3g}" if isinstance(value, float) else f"about 1e{int(value.bit_length() * 0.30103)}"
        bound = f"{MAX_MAGNITUDE:.0e}".replace("e+0", "e")
        raise ValueError(f"{size} is outside ±{bound}, the bound on every number of an arena")
    return value


def _not_bool(value: Any) -> Any:
    # YAML 1.1 reads yes/no/on/off/true/false as booleans, and bool is an int in Python:
    # without this, `position: yes` would silently be 1.
    if isinstance(value, bool):
        raise ValueError("expected a number, got a boolean (YAML reads yes/no/on/off/true/false as booleans)")
    return value


def _number_in(value: Any) -> Any:
    if isinstance(_not_bool(value), int):
        _magnitude(value)
    return value


#: A finite float within ±MAX_MAGNITUDE; booleans, NaN and infinities are refused.
Real = Annotated[float, BeforeValidator(_number_in), Field(allow_inf_nan=False), AfterValidator(_magnitude)]


class SectionProblems(ValueError):
    """Several problems found by one validator, each with its path below the validated object.

    pydantic keeps the exception in the error's ``ctx``; the arena loader's one formatter
    (:func:`tawazun.arena.load.pydantic_problems`) expands it into one line per problem.
    """

    def __init__(self, problems: list[tuple[ProblemPath, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{'.'.join(map(str, p))}: {m}" if p else m for p, m in problems))

ActorKind = Literal[
    "state", "government", "military", "militia", "party", "movement",
    "media", "international", "insurgent", "person",
]


class _Strict(BaseModel):
    # Unknown keys are almost always typos in hand-written YAML: reject them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """An uncertain number: low <= mode <= high."""

    low: Real
    mode: Real
    high: Real

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not (self.low <= self.mode <= self.high):
            raise ValueError(
                f"range must satisfy low <= mode <= high, got low={self.low:g}, "
                f"mode={self.mode:g}, high={self.high:g}"
            )
        return self


Number = Union[Real, Range]


def triplet(x: Number) -> tuple[float, float, float]:
    """(low, mode, high) of a value or range."""
    if isinstance(x, Range):
        return (x.low, x.mode, x.high)
    v = float(x)
    return (v, v, v)


def mode_of(x: Number) -> float:
    return triplet(x)[1]


class ArenaMeta(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    as_of: dt.date
    description: str = ""
    salience_scale: Literal["unit", "percent"] = "unit"


class Source(_Strict):
    id: str
    title: str
    publisher: str = ""
    date: dt.date | None = None
    language: str = "en"
    locator: str = "paragraph"
    url: str | None = None
    note: str = ""


class Names(_Strict):
    en: str
    ar: str | None = None


class Actor(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    names: Names
    aliases: list[str] = []
    kind: ActorKind
    capability: Number | None = None
    # "context": listed with its stances and evidence, but compiled into no engine's problem
    # (it does not bargain: a spoiler, a former office-holder, a part of another actor).
    role: Literal["bargainer", "context"] = "bargainer"
    note: str = ""


class Anchor(_Strict):
    value: Real
    label: str
    meaning: str = ""


class Scale(_Strict):
    min: Real
    max: Real
    anchors: list[Anchor] = []

    @model_validator(mode="after")
    def _span(self) -> "Scale":
        if not self.max > self.min:
            raise ValueError(f"scale max ({self.max:g}) must be greater than min ({self.min:g})")
        floor = MIN_SPAN_RELATIVE * max(1.0, abs(self.min), abs(self.max))
        if self.max - self.min < floor:
            raise ValueError(f"scale span {self.max - self.min:g} is too narrow: max - min must be at least "
                             f"{floor:g} (1e-6 of max(1, |min|, |max|))")
        return self


class Outcome(_Strict):
    value: Real
    date: dt.date | None = None
    source: str | None = None
    note: str = ""


class Issue(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str
    description: str = ""
    scale: Scale
    status_quo: Number | None = None
    outcome: Outcome | None = None


class Space(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    title: str = ""
    issues: list[str] = Field(min_length=2)


class Evidence(_Strict):
    source: str
    locator: str = ""
    note: str = ""


class Stance(_Strict):
    actor: str
    issue: str
    position: Number
    salience: Number
    capability: Number | None = None
    # What the actor says in public, where it differs from the position it acts on
    # (``position``, which the engines use). Shown, never computed with.
    declared: Number | None = None
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class Relation(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    sign: Annotated[Literal[-1, 1], BeforeValidator(_not_bool)]
    weight: Real = Field(default=1.0, ge=0.0, le=1.0)
    note: str = ""


# ---------------------------------------------------------------------------- scenarios
# The optional cross-impact balance section (docs/models/cib.md). Its arrays and search
# live in tawazun.scenarios; its format lives here, with the rest of the arena's.


class Period(_Strict):
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> "Period":
        if self.end < self.start:
            raise ValueError(f"period end {self.end} is before its start {self.start}")
        return self


class Variant(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    label: str
    meaning: str = ""


class Descriptor(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    names: Names
    variants: list[Variant] = Field(min_length=2)
    # When the descriptor's state is read: a date, or a period {start, end}.
    horizon: dt.date | Period | None = None
    note: str = ""
    evidence: list[Evidence] = []


class JudgmentRange(_Strict):
    low: int
    mode: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> "JudgmentRange":
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self


class Judgment(_Strict):
    source: str  # "descriptor.variant" that exerts the influence
    target: str  # "descriptor.variant" that is promoted (+) or restricted (-)
    value: int | JudgmentRange
    rationale: str = ""
    evidence: list[Evidence] = []

    @field_validator("value", mode="wrap")
    @classmethod
    def _value(cls, raw: Any, handler: Any) -> Any:
        """One clear message instead of pydantic's per-union-member errors."""
        if isinstance(raw, bool):
            raise ValueError("must be an integer or {low, mode, high}")
        if isinstance(raw, int):
            return raw
        if isinstance(raw, float) and raw.is_integer():
            return int(raw)
        if isinstance(raw, JudgmentRange):
            return raw
        if isinstance(raw, dict):
            try:
                return JudgmentRange.model_validate(raw)
            except ValidationError as exc:
                raise ValueError("; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())) from None
        raise ValueError("must be an integer or {low, mode, high}")

    @property
    def nonzero(self) -> bool:
        return self.bounds() != (0, 0, 0)

    def bounds(self) -> tuple[int, int, int]:
        if isinstance(self.value, JudgmentRange):
            return self.value.low, self.value.mode, self.value.high
        return self.value, self.value, self.value


class ScenariosSection(_Strict):
    """Descriptors, their variants and the cross-impact judgments between variants."""

    scale: int = Field(default=3, ge=1, le=99)
    descriptors: list[Descriptor] = Field(min_length=1)
    judgments: list[Judgment] = []

    @model_validator(mode="after")
    def _cross_checks(self) -> "ScenariosSection":
        problems = section_problems(self)
        if problems:
            raise SectionProblems(problems)
        return self

    def variant_index(self) -> dict[str, tuple[int, int]]:
        """"descriptor.variant" -> (descriptor index, local variant index)."""
        out: dict[str, tuple[int, int]] = {}
        for i, d in enumerate(self.descriptors):
            for j, v in enumerate(d.variants):
                out[f"{d.id}.{v.id}"] = (i, j)
        return out


def _repeats(ids: list[str]) -> list[tuple[int, int]]:
    """(index, index of its first occurrence) for every id seen before."""
    first: dict[str, int] = {}
    return [(i, first[x]) for i, x in enumerate(ids) if first.setdefault(x, i) != i]


def section_problems(section: ScenariosSection) -> list[tuple[ProblemPath, str]]:
    """Cross-reference problems of a structurally valid section, paths relative to it."""
    problems: list[tuple[ProblemPath, str]] = []
    add = problems.append
    for i, first in _repeats([d.id for d in section.descriptors]):
        add((("descriptors", i, "id"),
             f"duplicate descriptor id {section.descriptors[i].id!r} (first at descriptors.{first})"))
    for i, d in enumerate(section.descriptors):
        if "." in d.id:
            # judgments name variants as "descriptor.variant"
            add((("descriptors", i, "id"), f"descriptor id {d.id!r} may not contain '.'"))
        for j, first in _repeats([v.id for v in d.variants]):
            add((("descriptors", i, "variants", j, "id"),
                 f"duplicate variant id {d.variants[j].id!r} in descriptor {d.id!r} "
                 f"(first at descriptors.{i}.variants.{first})"))
    index = section.variant_index()
    descriptor_ids = {d.id for d in section.descriptors}
    pairs: dict[tuple[str, str], int] = {}
    s = section.scale
    for k, jd in enumerate(section.judgments):
        where: ProblemPath = ("judgments", k)
        ends: list[str] = []
        for field_name in ("source", "target"):
            ref = getattr(jd, field_name)
            did, dot, vid = ref.partition(".")
            if not dot or not did or not vid:
                add((where + (field_name,), f"{ref!r} is not 'descriptor.variant'"))
            elif did not in descriptor_ids:
                add((where + (field_name,), f"unknown descriptor {did!r}"))
            elif ref not in index:
                add((where + (field_name,), f"unknown variant {vid!r} of descriptor {did!r}"))
            else:
                ends.append(did)
        if len(ends) == 2 and ends[0] == ends[1]:
            add((where, f"same-descriptor judgment {jd.source} -> {jd.target} "
                        "(must be between different descriptors)"))
        key = (jd.source, jd.target)
        if key in pairs:
            add((where, f"duplicate judgment {jd.source} -> {jd.target} (first at judgments.{pairs[key]})"))
        else:
            pairs[key] = k
        lo, _, hi = jd.bounds()
        if lo < -s or hi > s:
            add((where + ("value",), f"outside -{s}..+{s}"))
        if jd.nonzero:
            if not jd.rationale.strip():
                add((where + ("rationale",), "missing (required for a non-zero judgment)"))
            if not jd.evidence:
                add((where + ("evidence",), "missing (required for a non-zero judgment)"))
    return problems


class Arena(_Strict):
    format: Literal["tawazun-arena/1"] = FORMAT
    meta: ArenaMeta = Field(alias="arena")  # the file's `arena:` block (id, title, as_of, ...)
    sources: list[Source] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    issues: list[Issue] = Field(min_length=1)
    spaces: list[Space] = []
    stances: list[Stance] = []
    # Deprecated (docs/arena-format.md): still accepted and checked so that older files
    # load unchanged, but read by no engine.
    relations: list[Relation] = Field(default=[], json_schema_extra={"deprecated": True})
    scenarios: ScenariosSection | None = None
    questions: list[Question] = []  # forecast questions with resolution rules (tawazun.loop.questions)
    # Validated by tawazun.dynamics (the security system over time) when present.
    dynamics: dict[str, Any] | None = None

    @property
    def arena(self) -> ArenaMeta:
        """Deprecated name of :attr:`meta` (``run.arena.meta.id`` read badly); kept for one release."""
        return self.meta

    # Look-ups used by the compiler and the checks.
    def actor(self, actor_id: str) -> Actor:
        return next(a for a in self.actors if a.id == actor_id)

    def issue(self, issue_id: str) -> Issue:
        return next(i for i in self.issues if i.id == issue_id)

    def space_of(self, issue_id: str) -> Space | None:
        return next((s for s in self.spaces if issue_id in s.issues), None)

    @property
    def salience_max(self) -> float:
        return 1.0 if self.meta.salience_scale == "unit" else 100.0

    @property
    def bargainers(self) -> list[Actor]:
        """The actors the engines see (``role: bargainer``), in file order."""
        return [a for a in self.actors if a.role == "bargainer"]

    @property
    def context_actors(self) -> list[Actor]:
        return [a for a in self.actors if a.role == "context"]
