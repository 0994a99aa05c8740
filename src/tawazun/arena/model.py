"""Arena format v1: pydantic models of one arena file.

Field-level rules live here (types, ranges that need no context). Rules that need the
whole arena (ids that must exist, values inside an issue's scale, the salience
convention) live in :mod:`tawazun.arena.checks`, so that every problem in a file can be
reported at once with its field path.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from tawazun.loop.questions import Question

FORMAT = "tawazun-arena/1"

ActorKind = Literal[
    "state", "government", "military", "militia", "party", "movement",
    "media", "international", "insurgent", "person",
]


class _Strict(BaseModel):
    # Unknown keys are almost always typos in hand-written YAML: reject them.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """An uncertain number: low <= mode <= high."""

    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> "Range":
        if not (self.low <= self.mode <= self.high):
            raise ValueError(
                f"range must satisfy low <= mode <= high, got low={self.low:g}, "
                f"mode={self.mode:g}, high={self.high:g}"
            )
        return self


Number = Union[float, Range]


def triplet(x: Number) -> tuple[float, float, float]:
    """(low, mode, high) of a value or range."""
    if isinstance(x, Range):
        return (x.low, x.mode, x.high)
    v = float(x)
    return (v, v, v)


def mode_of(x: Number) -> float:
    return triplet(x)[1]


class ArenaMeta(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
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
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    names: Names
    aliases: list[str] = []
    kind: ActorKind
    capability: Number | None = None
    note: str = ""


class Anchor(_Strict):
    value: float
    label: str
    meaning: str = ""


class Scale(_Strict):
    min: float
    max: float
    anchors: list[Anchor] = []

    @model_validator(mode="after")
    def _span(self) -> "Scale":
        if not self.max > self.min:
            raise ValueError(f"scale max ({self.max:g}) must be greater than min ({self.min:g})")
        return self


class Outcome(_Strict):
    value: float
    date: dt.date | None = None
    source: str | None = None
    note: str = ""


class Issue(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    title: str
    description: str = ""
    scale: Scale
    status_quo: Number | None = None
    outcome: Outcome | None = None


class Space(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
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
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class Relation(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    source: str = Field(alias="from")
    target: str = Field(alias="to")
    sign: Literal[-1, 1]
    weight: float = Field(default=1.0, ge=0.0, le=1.0)
    note: str = ""


class Arena(_Strict):
    format: Literal["tawazun-arena/1"] = FORMAT
    arena: ArenaMeta
    sources: list[Source] = Field(min_length=1)
    actors: list[Actor] = Field(min_length=1)
    issues: list[Issue] = Field(min_length=1)
    spaces: list[Space] = []
    stances: list[Stance] = []
    relations: list[Relation] = []
    # Validated by tawazun.scenarios (cross-impact balance) when present.
    scenarios: dict[str, Any] | None = None
    questions: list[Question] = []  # forecast questions with resolution rules (tawazun.loop.questions)

    # Look-ups used by the compiler and the checks.
    def actor(self, actor_id: str) -> Actor:
        return next(a for a in self.actors if a.id == actor_id)

    def issue(self, issue_id: str) -> Issue:
        return next(i for i in self.issues if i.id == issue_id)

    def space_of(self, issue_id: str) -> Space | None:
        return next((s for s in self.spaces if issue_id in s.issues), None)

    @property
    def salience_max(self) -> float:
        return 1.0 if self.arena.salience_scale == "unit" else 100.0
