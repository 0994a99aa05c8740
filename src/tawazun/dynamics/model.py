"""The optional ``dynamics`` section of an arena: the security system over time.

    dynamics:
      step: month                 # week | month
      horizon: 12                 # default number of steps after the arena's as_of
      covariates:                 # inputs, constant over the horizon on each path
        - {id: us-presence, issue: us-presence, value: {low: 60, mode: 75, high: 90}, evidence: [...]}
      states:                     # x[t+1] = clip(eq + persistence (x[t] - eq) + sum of couplings + noise)
        - {id: hold, initial: {...}, min: 0, max: 1, equilibrium: 0.5, persistence: 0.9, noise: 0.02, evidence: [...]}
      processes:
        - {id: attacks, kind: hawkes, baseline: {...}, excitation: {...}, decay: {...}, evidence: [...]}
        - {id: protests, kind: protest, legitimacy: legitimacy, ticks: 5, burn_in: 20, world: {...}, method: agents, evidence: [...]}
      couplings:                  # weight * (source - reference) enters the target
        - {from: us-presence, to: attacks, weight: {...}, reference: 75, evidence: [...]}
      regimes:
        - {id: collapse, state: balance, below: 0.25, for: 3, absorbing: true, evidence: [...]}
        - {id: fragile-security, otherwise: true, evidence: [...]}

Every number may be a range (low/mode/high) as stances' are; each path draws its own value.
Field rules live in the pydantic models; rules that need the whole section (known ids,
couplings that can be ordered, thresholds inside a state's bounds, rates that cannot be
negative, stationarity) in :func:`check`. :func:`check_section` is what the arena loader
calls, as it does for ``scenarios``.
"""

from __future__ import annotations

from typing import Any, Iterable, Literal, Mapping, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from tawazun.arena.model import Evidence, Number, Range, triplet

Path = tuple[Union[str, int], ...]
Problem = tuple[Path, str]

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class ScenarioMap(_Strict):
    """The covariate's value under each variant of one CIB descriptor (a run conditioned on
    one consistent future uses it; variants not listed leave the covariate as it is)."""

    descriptor: str
    values: dict[str, float] = Field(min_length=1)


class Covariate(_Strict):
    id: str = Field(pattern=_ID)
    title: str = ""
    issue: str | None = None      # per-path forecasts of this issue replace `value` when given
    value: Number
    scenario: ScenarioMap | None = None  # conditioning on a consistent future overrides both
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class State(_Strict):
    id: str = Field(pattern=_ID)
    title: str = ""
    initial: Number
    min: float = 0.0
    max: float = 1.0
    equilibrium: Number | None = None   # None: the initial value
    persistence: Number = 1.0           # 1: no pull back to the equilibrium
    noise: Number = 0.0                 # sd of a normal shock per step
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class ProtestWorld(_Strict):
    # small defaults: one world per path, run ticks x steps times (cost ~ paths x agents x ticks)
    width: int = Field(default=20, ge=3, le=400)
    height: int = Field(default=20, ge=3, le=400)
    citizen_density: float = Field(default=0.7, ge=0.0, le=1.0)
    cop_density: float = Field(default=0.04, ge=0.0, le=1.0)
    vision: int = Field(default=3, ge=1)
    k: float = Field(default=2.3, ge=0.0)
    threshold: float = 0.1
    j_max: int = Field(default=30, ge=1)


class Process(_Strict):
    id: str = Field(pattern=_ID)
    title: str = ""
    kind: Literal["hawkes", "poisson", "protest"]
    # hawkes / poisson: events per step at the couplings' reference values
    baseline: Number | None = None
    excitation: Number | None = None    # hawkes: jump of the intensity per event (per step)
    branching: Number | None = None     # hawkes: excitation / decay, instead of excitation (a fit
    #                                     pins the ratio far better than either: they correlate)
    decay: Number | None = None         # hawkes: decay rate per step
    # protest: the state read as legitimacy (in [0, 1]) and the agents' hardship band
    legitimacy: str | None = None
    hardship: Range = Range(low=0.0, mode=0.5, high=1.0)
    ticks: int = Field(default=5, ge=1, le=1000)
    # ticks run before the first step at the initial legitimacy, so that the worlds start from
    # their usual state and not from Epstein's all-quiet start (whose first ticks are an outburst)
    burn_in: int = Field(default=20, ge=0, le=10_000)
    world: ProtestWorld = ProtestWorld()
    # protest: run the agent worlds themselves, or draw each step from a table of their output
    # (dynamics/emulator.py): the same model's step distribution, at a tiny fraction of the cost
    method: Literal["agents", "emulator"] = "agents"
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class Coupling(_Strict):
    source: str = Field(alias="from")
    target: str = Field(alias="to")
    weight: Number
    reference: float = 0.0
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class Regime(_Strict):
    id: str = Field(pattern=_ID)
    title: str = ""
    state: str | None = None
    below: float | None = None
    above: float | None = None
    for_: int = Field(default=1, ge=1, alias="for")
    absorbing: bool = False
    otherwise: bool = False
    evidence: list[Evidence] = Field(min_length=1)
    note: str = ""


class DynamicsSection(_Strict):
    step: Literal["week", "month"] = "month"
    horizon: int = Field(default=12, ge=1, le=10_000)
    covariates: list[Covariate] = []
    states: list[State] = Field(default=[], min_length=0)
    processes: list[Process] = []
    couplings: list[Coupling] = []
    regimes: list[Regime] = []

    def ids(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for kind, items in (("covariate", self.covariates), ("state", self.states), ("process", self.processes)):
            for item in items:
                out.setdefault(item.id, kind)
        return out


# ------------------------------------------------------------------------------ checks


def _neg(x: Number | None) -> bool:
    return x is not None and triplet(x)[0] < 0


def process_order(section: DynamicsSection) -> list[str] | None:
    """Processes in an order where each comes after the processes that drive it (None: a cycle)."""
    procs = [p.id for p in section.processes]
    deps = {p: {c.source for c in section.couplings if c.target == p and c.source in procs} for p in procs}
    out: list[str] = []
    while deps:
        ready = [p for p in procs if p in deps and not (deps[p] - set(out))]
        if not ready:
            return None
        for p in ready:
            out.append(p)
            del deps[p]
    return out


def check(section: DynamicsSection, source_ids: Iterable[str],
          issue_ids: Iterable[str] | None = None,
          descriptors: Mapping[str, Iterable[str]] | None = None) -> list[Problem]:
    """Whole-section problems as (path relative to the section, message).

    ``issue_ids``: the arena's issues, which covariates may name (unchecked when None).
    ``descriptors``: the arena's CIB descriptors -> variant ids, which covariates' scenario
    maps name (None: the arena has no scenarios section, so any scenario map is an error)."""
    sources = set(source_ids)
    issues = None if issue_ids is None else set(issue_ids)
    problems: list[Problem] = []
    add = problems.append

    seen: dict[str, str] = {}
    for kind, key in (("covariate", "covariates"), ("state", "states"), ("process", "processes"), ("regime", "regimes")):
        for idx, item in enumerate(getattr(section, key)):
            if item.id in seen:
                add(((key, idx, "id"), f"duplicate id {item.id!r} (already a {seen[item.id]})"))
            else:
                seen[item.id] = kind
            for e_idx, ev in enumerate(item.evidence):
                if ev.source not in sources:
                    add(((key, idx, "evidence", e_idx, "source"), f"unknown source {ev.source!r}"))
    if issues is not None:
        for idx, c in enumerate(section.covariates):
            if c.issue is not None and c.issue not in issues:
                add((("covariates", idx, "issue"), f"unknown issue {c.issue!r}"))
    for idx, c in enumerate(section.covariates):
        if c.scenario is None:
            continue
        base = ("covariates", idx, "scenario")
        if descriptors is None:
            add((base + ("descriptor",), "the arena has no scenarios section to condition on"))
        elif c.scenario.descriptor not in descriptors:
            add((base + ("descriptor",), f"unknown descriptor {c.scenario.descriptor!r}"))
        else:
            variants = list(descriptors[c.scenario.descriptor])
            for v in c.scenario.values:
                if v not in variants:
                    add((base + ("values", v),
                         f"unknown variant {v!r} of descriptor {c.scenario.descriptor!r} "
                         f"(variants: {', '.join(variants)})"))
    ids = section.ids()
    states = {s.id: s for s in section.states}

    for idx, s in enumerate(section.states):
        base = ("states", idx)
        if not s.max > s.min:
            add((base + ("max",), f"max ({s.max:g}) must be greater than min ({s.min:g})"))
            continue
        for name in ("initial", "equilibrium"):
            v = getattr(s, name)
            if v is not None:
                lo, _, hi = triplet(v)
                if lo < s.min or hi > s.max:
                    add((base + (name,), f"must lie within [{s.min:g}, {s.max:g}]"))
        lo, _, hi = triplet(s.persistence)
        if lo < 0 or hi > 1:
            add((base + ("persistence",), "must lie within [0, 1]"))
        if _neg(s.noise):
            add((base + ("noise",), "a standard deviation cannot be negative"))

    for idx, p in enumerate(section.processes):
        base = ("processes", idx)
        if p.kind in ("hawkes", "poisson"):
            if p.baseline is None:
                add((base + ("baseline",), f"a {p.kind} process needs a baseline rate"))
            elif _neg(p.baseline):
                add((base + ("baseline",), "a rate cannot be negative"))
        if p.kind == "hawkes":
            if p.decay is None:
                add((base + ("decay",), "a hawkes process needs it"))
            if (p.excitation is None) == (p.branching is None):
                add((base + ("excitation",), "a hawkes process needs exactly one of excitation / branching"))
            if _neg(p.excitation):
                add((base + ("excitation",), "cannot be negative"))
            if _neg(p.branching):
                add((base + ("branching",), "cannot be negative"))
            elif p.branching is not None and triplet(p.branching)[2] >= 1:
                add((base + ("branching",),
                     f"branching ratio can reach {triplet(p.branching)[2]:.3g} >= 1: the process would explode"))
            if p.decay is not None and triplet(p.decay)[0] <= 0:
                add((base + ("decay",), "must be > 0"))
            elif p.excitation is not None and p.decay is not None:
                br = triplet(p.excitation)[2] / triplet(p.decay)[0]
                if br >= 1:
                    add((base + ("excitation",),
                         f"branching ratio excitation/decay can reach {br:.3g} >= 1: the process would explode"))
        if p.kind == "protest":
            if p.legitimacy is None:
                add((base + ("legitimacy",), "a protest process needs the state read as legitimacy"))
            elif p.legitimacy not in states:
                add((base + ("legitimacy",), f"unknown state {p.legitimacy!r}"))
            else:
                st = states[p.legitimacy]
                if st.min < 0 or st.max > 1:
                    add((base + ("legitimacy",), f"state {p.legitimacy!r} must be bounded within [0, 1] to be a legitimacy"))
            w = p.world
            if 2 * w.vision + 1 > min(w.width, w.height):
                add((base + ("world", "vision"), "2 * vision + 1 must not exceed the grid's side"))
            if w.citizen_density + w.cop_density >= 1:
                add((base + ("world",), "citizen_density + cop_density must be < 1"))
            if p.hardship.low < 0 or p.hardship.high > 1:
                add((base + ("hardship",), "must lie within [0, 1]"))
        elif p.kind != "hawkes" and p.branching is not None:
            add((base + ("branching",), "only a hawkes process has branching"))
        if p.kind != "protest" and p.method != "agents":
            add((base + ("method",), "only a protest process has a method"))
        if p.kind != "protest":
            for name in ("legitimacy",):
                if getattr(p, name) is not None:
                    add((base + (name,), f"only a protest process has {name}"))

    for idx, c in enumerate(section.couplings):
        base = ("couplings", idx)
        if c.source not in ids:
            add((base + ("from",), f"unknown variable {c.source!r} (a covariate, state or process)"))
        if c.target not in ids:
            add((base + ("to",), f"unknown variable {c.target!r} (a state or process)"))
        elif ids[c.target] == "covariate":
            add((base + ("to",), f"{c.target!r} is a covariate: covariates are inputs, nothing drives them"))
    if process_order(section) is None:
        add((("couplings",), "processes drive each other in a cycle within a step: no order to simulate them in"))

    n_otherwise = 0
    for idx, r in enumerate(section.regimes):
        base = ("regimes", idx)
        if r.otherwise:
            n_otherwise += 1
            if r.state is not None or r.below is not None or r.above is not None:
                add((base,), "an `otherwise` regime has no condition")
            continue
        if r.state is None:
            add((base + ("state",), "a regime needs a state (or otherwise: true)"))
            continue
        if r.state not in states:
            add((base + ("state",), f"unknown state {r.state!r}"))
            continue
        if (r.below is None) == (r.above is None):
            add((base,), "give exactly one of below / above")
            continue
        st = states[r.state]
        name, thr = ("below", r.below) if r.below is not None else ("above", r.above)
        if not (st.min <= thr <= st.max):
            add((base + (name,), f"threshold {thr:g} lies outside state {r.state!r}'s range [{st.min:g}, {st.max:g}]"))
    if n_otherwise > 1:
        add((("regimes",), "at most one `otherwise` regime"))
    return problems


# ------------------------------------------------------------------------------ arena hook


def _loc(loc: tuple[Any, ...]) -> Path:
    # pydantic union tags (float / Range) are not part of the file's path
    return tuple(p for p in loc if not (isinstance(p, str) and (p in {"float", "Range", "int", "str", "none"}
                                                                   or p.startswith(("function-", "literal[")))))


def check_section(data: Any, source_ids: Iterable[str], issue_ids: Iterable[str] | None = None,
                  descriptors: Mapping[str, Iterable[str]] | None = None) -> list[Problem]:
    """Every problem of a raw ``dynamics`` mapping as (path, message), the path relative to it."""
    if not isinstance(data, dict):
        return [((), "expected a mapping")]
    try:
        section = DynamicsSection.model_validate(data)
    except ValidationError as exc:
        seen: dict[Path, str] = {}
        for err in exc.errors():
            path = _loc(tuple(err["loc"]))
            path = tuple("for" if p == "for_" else p for p in path)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field (check the spelling)"
            elif err["type"] == "missing":
                msg = "required field is missing"
            if path in seen and "range must" not in msg:
                continue
            seen[path] = msg
        return list(seen.items())
    return check(section, source_ids, issue_ids, descriptors)


def parse(data: Any) -> DynamicsSection:
    return DynamicsSection.model_validate(data)
