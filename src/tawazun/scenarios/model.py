"""The optional ``scenarios`` section of an arena: CIB descriptors, variants and judgments.

YAML shape (see docs/models/cib.md)::

    scenarios:
      scale: 3                      # optional, judgments lie in -scale..+scale (default 3)
      descriptors:
        - id: us-role
          names: {en: "US military role", ar: "..."}
          variants:
            - {id: advisory, label: "Advisory mission", meaning: "..."}
            - {id: combat, label: "Combat mission continues", meaning: "..."}
      judgments:
        - source: us-role.advisory    # "descriptor.variant" that exerts the influence
          target: attacks.resumed     # "descriptor.variant" that is promoted (+) / restricted (-)
          value: 2                    # or {low: 1, mode: 2, high: 3}
          rationale: "..."
          evidence: [{source: seed, locator: "¶10", note: "..."}]

Every pair not listed is 0. Validation problems are reported one per line as
``path: problem`` with a dotted path from the section (``judgments.4.value``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]*$"
_ID = re.compile(ID_PATTERN)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False)


class Names(_Strict):
    en: str
    ar: str | None = None


class Variant(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    label: str
    meaning: str = ""


class Descriptor(_Strict):
    id: str = Field(pattern=ID_PATTERN)
    names: Names
    variants: list[Variant] = Field(min_length=2)
    note: str = ""


class JudgmentRange(_Strict):
    low: int
    mode: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> "JudgmentRange":
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"need low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self


class Evidence(_Strict):
    source: str
    locator: str
    note: str = ""


class Judgment(_Strict):
    source: str  # "descriptor.variant"
    target: str  # "descriptor.variant"
    value: int | JudgmentRange
    rationale: str = ""
    evidence: list[Evidence] = Field(default_factory=list)

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
                raise ValueError("; ".join(error_lines(exc))) from None
        raise ValueError("must be an integer or {low, mode, high}")

    @property
    def nonzero(self) -> bool:
        if isinstance(self.value, JudgmentRange):
            return (self.value.low, self.value.mode, self.value.high) != (0, 0, 0)
        return self.value != 0

    def bounds(self) -> tuple[int, int, int]:
        if isinstance(self.value, JudgmentRange):
            return self.value.low, self.value.mode, self.value.high
        return self.value, self.value, self.value


class ScenariosSection(_Strict):
    """Descriptors, their variants and the cross-impact judgments between variants."""

    scale: int = Field(default=3, ge=1, le=99)
    descriptors: list[Descriptor] = Field(min_length=1)
    judgments: list[Judgment] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> "ScenariosSection":
        problems = section_problems(self)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    # -- lookups -------------------------------------------------------------------------
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


def section_problems(section: ScenariosSection) -> list[str]:
    """Cross-reference problems of a structurally valid section, ``path: problem`` each."""
    problems: list[str] = []
    for i, first in _repeats([d.id for d in section.descriptors]):
        d = section.descriptors[i]
        problems.append(f"descriptors.{i}.id: duplicate descriptor id {d.id!r} (first at descriptors.{first})")
    for i, d in enumerate(section.descriptors):
        for j, first in _repeats([v.id for v in d.variants]):
            problems.append(f"descriptors.{i}.variants.{j}.id: duplicate variant id {d.variants[j].id!r} "
                            f"in descriptor {d.id!r} (first at descriptors.{i}.variants.{first})")
    index = section.variant_index()
    descriptor_ids = {d.id for d in section.descriptors}
    pairs: dict[tuple[str, str], int] = {}
    s = section.scale
    for k, jd in enumerate(section.judgments):
        where = f"judgments.{k}"
        ends: list[str] = []
        for field_name in ("source", "target"):
            ref = getattr(jd, field_name)
            did, dot, vid = ref.partition(".")
            if not dot or not did or not vid:
                problems.append(f"{where}.{field_name}: {ref!r} is not 'descriptor.variant'")
            elif did not in descriptor_ids:
                problems.append(f"{where}.{field_name}: unknown descriptor {did!r}")
            elif ref not in index:
                problems.append(f"{where}.{field_name}: unknown variant {vid!r} of descriptor {did!r}")
            else:
                ends.append(did)
        if len(ends) == 2 and ends[0] == ends[1]:
            problems.append(f"{where}: same-descriptor judgment {jd.source} -> {jd.target} (must be between different descriptors)")
        key = (jd.source, jd.target)
        if key in pairs:
            problems.append(f"{where}: duplicate judgment {jd.source} -> {jd.target} (first at judgments.{pairs[key]})")
        else:
            pairs[key] = k
        lo, _, hi = jd.bounds()
        if lo < -s or hi > s:
            problems.append(f"{where}.value: outside -{s}..+{s}")
        if jd.nonzero:
            if not jd.rationale.strip():
                problems.append(f"{where}.rationale: missing (required for a non-zero judgment)")
            if not jd.evidence:
                problems.append(f"{where}.evidence: missing (required for a non-zero judgment)")
    return problems


def check(section: ScenariosSection, source_ids: Iterable[str]) -> list[str]:
    """Problems needing the arena around the section: evidence citing unknown sources."""
    known = set(source_ids)
    out = []
    for k, jd in enumerate(section.judgments):
        for e, ev in enumerate(jd.evidence):
            if ev.source not in known:
                out.append(f"judgments.{k}.evidence.{e}.source: unknown source {ev.source!r}")
    return out


_OWN_LINE = re.compile(r"^(descriptors|judgments)(\.[\w-]+)*: ")


def error_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One ``path: problem`` line per pydantic error; cross-check errors are split per line.

    Works for a bare section (paths like ``judgments.3.value``) and for a section nested in
    a bigger model (``scenarios.judgments.3.value``).
    """
    lines: list[str] = []
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"])
        msg = err["msg"]
        if msg.startswith("Value error, "):
            msg = msg[len("Value error, ") :]
        for part in msg.splitlines():
            if _OWN_LINE.match(part):
                full = f"{path}.{part}" if path else part
            else:
                full = f"{path}: {part}" if path else part
            lines.append(f"{prefix}{full}")
    return lines


# ------------------------------------------------------------------------------ arrays


@dataclass
class CibArrays:
    """A section as arrays: matrices are (V, V), rows = source variant, columns = target."""

    descriptor_ids: list[str]
    variant_ids: list[list[str]]
    counts: np.ndarray  # (D,)
    offsets: np.ndarray  # (D+1,)
    matrix: np.ndarray  # (V, V) modes
    low: np.ndarray  # (V, V)
    high: np.ndarray  # (V, V)

    @property
    def has_ranges(self) -> bool:
        return bool(np.any(self.low != self.high))

    def label(self, scenario: Iterable[int]) -> dict[str, str]:
        return {d: self.variant_ids[i][int(j)] for i, (d, j) in enumerate(zip(self.descriptor_ids, scenario))}


def to_arrays(section: ScenariosSection) -> CibArrays:
    counts = np.array([len(d.variants) for d in section.descriptors], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    v = int(offsets[-1])
    mode = np.zeros((v, v))
    low = np.zeros((v, v))
    high = np.zeros((v, v))
    index = section.variant_index()
    for jd in section.judgments:
        si, sj = index[jd.source]
        ti, tj = index[jd.target]
        r, c = offsets[si] + sj, offsets[ti] + tj
        low[r, c], mode[r, c], high[r, c] = jd.bounds()
    return CibArrays(
        [d.id for d in section.descriptors],
        [[x.id for x in d.variants] for d in section.descriptors],
        counts,
        offsets,
        mode,
        low,
        high,
    )


# ------------------------------------------------------------------------------ arena hook


def _split_path(text: str) -> tuple[str | int, ...]:
    return tuple(int(p) if p.isdigit() else p for p in text.split(".") if p)


def check_section(data: Any, source_ids: Iterable[str]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every problem of a raw ``scenarios`` mapping as (path, message), path relative to it.

    This is what the arena loader calls (``tawazun.arena.checks``): it prefixes ``scenarios``
    and maps paths to lines. Structure, cross-references and evidence sources are checked.
    """
    if not isinstance(data, dict):
        return [((), "expected a mapping")]
    try:
        section = ScenariosSection.model_validate(data)
    except ValidationError as exc:
        out: list[tuple[tuple[str | int, ...], str]] = []
        for line in error_lines(exc):
            path, sep, msg = line.partition(": ")
            if not sep:
                out.append(((), line))
            else:
                out.append((_split_path(path), msg))
        return out
    return [(_split_path(p), m) for p, _, m in (x.partition(": ") for x in check(section, source_ids))]
