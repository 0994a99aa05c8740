"""Forecast questions: the arena's optional ``questions`` section and their probabilities.

A question is tied to one model output by its ``rule``:

* ``issue`` + ``above``/``below`` (binary): the issue's forecast ends above / below a threshold;
* ``issue`` + ``band`` (binary): the forecast lands in the band of that scale label;
* ``issue`` alone, kind ``categorical``: which labelled band the forecast lands in;
* ``issue`` alone, kind ``numeric``: the forecast value itself (quantiles, CRPS when resolved);
* ``descriptor`` + ``variant`` (binary) or ``descriptor`` alone (categorical): a CIB descriptor
  of the arena's ``scenarios`` section;
* ``series`` + ``above``/``below`` (binary), ``series`` alone (numeric), ``regime`` (binary):
  the dynamics section's outputs at the last step on or before ``resolves_on``; ``by: ever``
  asks instead whether the event happened at any step up to then (validated only when the
  arena has a dynamics section; without it they are reported as an unknown series).

Probabilities come from the Monte Carlo draws of a run, per engine, and for the dynamics
from the run's dynamics paths (:func:`question_forecasts`).
This module imports nothing of the arena package (the arena model imports it).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
QUANTILES = (5, 10, 25, 50, 75, 90, 95)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuestionText(_Strict):
    en: str
    ar: str | None = None


class Rule(_Strict):
    """Which model output resolves the question (exactly one target: issue, descriptor,
    series or regime)."""

    issue: str | None = None
    above: float | None = None  # binary: value > above
    below: float | None = None  # binary: value < below
    band: str | None = None  # binary: value in the band of this anchor label
    descriptor: str | None = None  # CIB descriptor
    variant: str | None = None  # binary: descriptor takes this variant
    series: str | None = None  # dynamics (when the arena has that section)
    regime: str | None = None
    # dynamics, binary: the event at the step on or before resolves_on ("step", the default),
    # or at any step up to it ("ever")
    by: Literal["step", "ever"] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> "Rule":
        targets = [k for k in ("issue", "descriptor", "series", "regime") if getattr(self, k) is not None]
        if len(targets) != 1:
            raise ValueError("a rule names exactly one of issue, descriptor, series, regime")
        if self.issue is None and self.band is not None:
            raise ValueError("band applies to an issue rule")
        if self.issue is None and self.series is None and (self.above, self.below) != (None, None):
            raise ValueError("above and below apply to an issue or series rule")
        if self.descriptor is None and self.variant is not None:
            raise ValueError("variant applies to a descriptor rule")
        if self.by is not None and self.series is None and self.regime is None:
            raise ValueError("by applies to a series or regime rule")
        if sum(x is not None for x in (self.above, self.below, self.band)) > 1:
            raise ValueError("give one of above, below, band")
        return self

    @property
    def binary_test(self) -> bool:
        return any(x is not None for x in (self.above, self.below, self.band, self.variant))


class Resolution(_Strict):
    source: str  # where to check (a source id of the arena, or a named public record)
    how: str = ""


class Question(_Strict):
    id: str = Field(pattern=ID)
    text: QuestionText
    kind: Literal["binary", "numeric", "categorical"]
    resolves_on: dt.date
    rule: Rule | None = None  # a draft may omit it; `tawazun seal` refuses such questions
    resolution: Resolution | None = None
    note: str = ""

    @model_validator(mode="after")
    def _kind_fits_rule(self) -> "Question":
        r = self.rule
        if r is None:
            return self
        if self.kind == "binary" and not r.binary_test and r.series is None and r.regime is None:
            raise ValueError("a binary question's rule needs above, below, band or variant")
        if self.kind != "binary" and r.binary_test:
            raise ValueError(f"a {self.kind} question's rule takes no above, below, band or variant")
        if self.kind == "numeric" and r.descriptor is not None:
            raise ValueError("a numeric question needs an issue or series rule")
        if r.regime is not None and self.kind != "binary":
            raise ValueError("a regime question is binary (is the path in the regime?)")
        if r.series is not None and self.kind == "categorical":
            raise ValueError("a series question is binary (above/below) or numeric")
        if r.series is not None and self.kind == "binary" and not r.binary_test:
            raise ValueError("a binary series question needs above or below")
        if self.kind == "numeric" and r.by == "ever":
            raise ValueError("by: ever applies to binary questions")
        return self


# ------------------------------------------------------------------ whole-arena checks
def check_questions(arena: Any) -> list[tuple[tuple[str | int, ...], str]]:
    """Cross-references of the questions section (paths for the loader's line numbers)."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    questions = getattr(arena, "questions", None) or []
    issues = {i.id: i for i in arena.issues}
    scen = getattr(arena, "scenarios", None)  # the typed section (arena.model.ScenariosSection)
    variants: dict[str, list[str]] = {
        d.id: [v.id for v in d.variants] for d in (scen.descriptors if scen is not None else [])}
    dynamics = getattr(arena, "dynamics", None)
    seen: dict[str, int] = {}
    for q_idx, q in enumerate(questions):
        base: tuple[str | int, ...] = ("questions", q_idx)
        if q.id in seen:
            problems.append((base + ("id",), f"duplicate id {q.id!r} (first at questions[{seen[q.id]}])"))
        seen.setdefault(q.id, q_idx)
        r = q.rule
        if r is None:
            continue
        at = base + ("rule",)
        if r.issue is not None:
            issue = issues.get(r.issue)
            if issue is None:
                problems.append((at + ("issue",), f"unknown issue {r.issue!r}"))
                continue
            lo, hi = issue.scale.min, issue.scale.max
            for key in ("above", "below"):
                v = getattr(r, key)
                if v is not None and not lo <= v <= hi:
                    problems.append((at + (key,), f"threshold {v:g} outside the scale [{lo:g}, {hi:g}]"))
            labels = [a.label for a in issue.scale.anchors]
            if r.band is not None and r.band not in labels:
                problems.append((at + ("band",), f"no anchor labelled {r.band!r} on {r.issue!r}; "
                                 f"labels: {', '.join(labels) or '(none)'}"))
            if (q.kind == "categorical" or r.band is not None) and len(labels) < 2:
                problems.append((at + ("issue",), f"issue {r.issue!r} needs two or more anchors for bands"))
        elif r.descriptor is not None:
            if scen is None:
                problems.append((at + ("descriptor",), "the arena has no scenarios section"))
            elif r.descriptor not in variants:
                problems.append((at + ("descriptor",), f"unknown descriptor {r.descriptor!r}; "
                                 f"known: {', '.join(variants)}"))
            elif r.variant is not None and r.variant not in variants[r.descriptor]:
                problems.append((at + ("variant",), f"unknown variant {r.variant!r} of {r.descriptor!r}; "
                                 f"known: {', '.join(variants[r.descriptor])}"))
        else:
            key = "series" if r.series is not None else "regime"
            name = getattr(r, key)
            known = _dynamics_names(dynamics, key)
            if known is None:
                problems.append((at + (key,), f"unknown {key} {name!r}: the arena has no dynamics section"))
            elif name not in known:
                problems.append((at + (key,), f"unknown {key} {name!r}; known: {', '.join(sorted(known)) or '(none)'}"))
    return problems


def _dynamics_names(dynamics: Any, key: str) -> set[str] | None:
    """The series or regime ids a dynamics section declares (None: no section)."""
    if dynamics is None:
        return None
    data = dynamics.model_dump() if hasattr(dynamics, "model_dump") else dynamics
    # a section's series are its states and processes (there is no `series` key)
    keys = ("states", "processes") if key == "series" else ("regimes",)
    items = [x for k in keys for x in ((data or {}).get(k) or [])]
    return {str(x.get("id")) for x in items if isinstance(x, dict)}


# ------------------------------------------------------------------ bands and probabilities
def bands(issue: Any) -> list[tuple[str, float, float]]:
    """(label, low, high) per anchor, as docs/uncertainty.md defines the labelled bands."""
    anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
    vals = [a.value for a in anchors]
    out = []
    for k, a in enumerate(anchors):
        lo = issue.scale.min if k == 0 else 0.5 * (vals[k - 1] + vals[k])
        hi = issue.scale.max if k == len(anchors) - 1 else 0.5 * (vals[k] + vals[k + 1])
        out.append((a.label, lo, hi))
    return out


def band_index(issue: Any, values: np.ndarray) -> np.ndarray:
    """Index of each value's band (a value on a boundary belongs to the band above)."""
    edges = np.array([b[1] for b in bands(issue)[1:]])
    return np.searchsorted(edges, np.asarray(values, dtype=float), side="right")


def event(question: Question, issue: Any, values: np.ndarray) -> np.ndarray:
    """Boolean per draw: does the issue rule's event happen (binary questions)?"""
    r = question.rule
    assert r is not None
    v = np.asarray(values, dtype=float)
    if r.above is not None or r.below is not None:
        return threshold_event(r, v)
    labels = [b[0] for b in bands(issue)]
    return band_index(issue, v) == labels.index(r.band)


def threshold_event(rule: Any, v: np.ndarray) -> np.ndarray:
    """Boolean per value: above the rule's ``above`` (strictly), else below its ``below``;
    the one reading of a threshold for issue and series questions alike."""
    return v > rule.above if rule.above is not None else v < rule.below


def numeric_summary(v: np.ndarray) -> dict[str, Any]:
    """A numeric question's forecast from its values (issue draws or dynamics paths)."""
    return {"quantiles": {str(q): float(np.percentile(v, q)) for q in QUANTILES},
            "mean": float(v.mean()),
            # the values themselves, rounded, so that a sealed forecast can be scored by CRPS later
            "sample": [round(float(x), 6) for x in np.sort(v)]}


def issue_forecast(question: Question, issue: Any, values: np.ndarray) -> dict[str, Any]:
    """The question's forecast from one engine's draws of the issue (NaN draws left out)."""
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    out: dict[str, Any] = {"draws": int(v.size)}
    if v.size == 0:
        return out
    if question.kind == "binary":
        out["probability"] = float(event(question, issue, v).mean())
    elif question.kind == "categorical":
        idx = band_index(issue, v)
        out["probabilities"] = {label: float((idx == k).mean()) for k, (label, _, _) in enumerate(bands(issue))}
    else:
        out.update(numeric_summary(v))
    return out


def scenario_forecast(question: Question, payload: dict[str, Any]) -> dict[str, Any]:
    """A descriptor question from the consistent CIB scenarios: the share of consistent
    scenarios with each variant (every consistent scenario counts once; a crude,
    model-implied frequency — see docs/loop.md)."""
    r = question.rule
    assert r is not None
    rows = [s for s in payload.get("scenarios", []) if s.get("inconsistency", 1) <= 0]
    desc = next(d for d in payload["descriptors"] if d["id"] == r.descriptor)
    out: dict[str, Any] = {"scenarios": len(rows), "complete": bool(payload.get("complete", True))}
    if not rows:
        return out
    shares = {v: sum(s["variants"][r.descriptor] == v for s in rows) / len(rows) for v in desc["variants"]}
    if question.kind == "binary":
        out["probability"] = float(shares[r.variant])
    else:
        out["probabilities"] = {k: float(p) for k, p in shares.items()}
    return out


def question_forecasts(run: Any) -> list[dict[str, Any]]:
    """Each question of ``run.arena`` with its forecast per engine (a ForecastRun after draws;
    read duck-typed so that this module does not import the pipeline)."""
    arena = run.arena
    out = []
    for q in getattr(arena, "questions", None) or []:
        entry: dict[str, Any] = {"id": q.id, "kind": q.kind, "resolves_on": q.resolves_on.isoformat(),
                                 "text": q.text.en, "forecasts": []}
        r = q.rule
        if r is None:
            entry["note"] = "no resolution rule"
        elif r.issue is not None:
            issue = arena.issue(r.issue)
            for ur in run.results:
                if r.issue in ur.issues and ur.samples is not None:
                    k = ur.issues.index(r.issue)
                    entry["forecasts"].append({"engine": ur.label, **issue_forecast(q, issue, ur.samples[:, k])})
            if not entry["forecasts"]:
                entry["note"] = "no draws (run with --draws > 0)"
        elif r.descriptor is not None:
            entry["forecasts"].append({"engine": "cib", **scenario_forecast(q, _futures(run))})
        else:
            dyn = getattr(run, "dynamics", None)
            if dyn is None:
                entry["note"] = "the run has no dynamics (dynamics off, or no dynamics section)"
            else:
                forecast, note = dynamics_forecast(q, dyn.result)
                if forecast is not None:
                    entry["forecasts"].append({"engine": dyn.engine or "dynamics", **forecast})
                entry["note"] = note
        out.append(entry)
    return out


def dynamics_step(steps: list[dt.date], resolves_on: dt.date) -> int | None:
    """Index of the last step whose date is on or before ``resolves_on`` (None: none is)."""
    k = sum(d <= resolves_on for d in steps)  # steps are increasing
    return k - 1 if k else None


def dynamics_forecast(question: Question, result: Any) -> tuple[dict[str, Any] | None, str]:
    """A series or regime question from the dynamics paths (``result``: a SimResult, whose
    ``raw`` holds ``(paths, steps)`` per series and regime). Read at the last step on or before
    ``resolves_on``; a date past the horizon (or before the first step) gives no forecast and a
    note. Binary: the share of paths with the event at that step (``by: ever``: at any step up
    to it); numeric: quantiles, mean and the paths' values, as numeric issue questions."""
    r = question.rule
    assert r is not None
    steps = list(result.steps)
    last = steps[-1].isoformat()
    if question.resolves_on > steps[-1]:
        return None, (f"resolves on {question.resolves_on.isoformat()}, past the dynamics horizon "
                      f"(last step {last}): no forecast; a longer horizon would reach it")
    t = dynamics_step(steps, question.resolves_on)
    if t is None:
        return None, (f"resolves on {question.resolves_on.isoformat()}, before the first dynamics step "
                      f"({steps[0].isoformat()}): no forecast")
    name = r.series if r.series is not None else r.regime
    paths = np.asarray(result.raw[name])
    by = r.by or "step"
    out: dict[str, Any] = {"draws": int(paths.shape[0]), "step": steps[t].isoformat()}
    if question.kind == "binary":
        if r.regime is not None:
            hit = paths.astype(bool)
        else:
            hit = threshold_event(r, paths.astype(float))
        happened = hit[:, : t + 1].any(axis=1) if by == "ever" else hit[:, t]
        out["by"] = by
        out["probability"] = float(happened.mean())
    else:
        out.update(numeric_summary(paths[:, t].astype(float)))
    when = f"at any step up to {steps[t].isoformat()}" if by == "ever" and question.kind == "binary" \
        else f"at the step of {steps[t].isoformat()}"
    return out, (f"from the run's dynamics paths {when} (one dynamics run per forecast, its covariates "
                 "coupled to the engine named)")


def _futures(run: Any) -> dict[str, Any]:
    """The run's consistent CIB scenarios, or (a run without the search) the exact search now,
    uncapped, so that a question's forecast never depends on whether a report was made."""
    futures = getattr(run, "scenarios", None)
    if futures is not None and futures.payload.get("complete", True):
        return futures.payload
    cache = getattr(run, "_question_futures", None)
    if cache is None:
        from tawazun.scenarios.analysis import analyse

        cache = analyse(run.arena.scenarios, tolerance=0)
        run._question_futures = cache
    return cache


def headline(forecast: dict[str, Any], kind: str) -> str:
    """A short text for tables: 'p = 0.62', 'label 0.55', or the median and 80 % interval."""
    if "probability" in forecast:
        return f"p = {forecast['probability']:.2f}"
    if "probabilities" in forecast:
        best = max(forecast["probabilities"].items(), key=lambda kv: kv[1])
        return f"{best[0]} {best[1]:.2f}"
    if "quantiles" in forecast:
        q = forecast["quantiles"]
        return f"{q['50']:.1f} ({q['10']:.1f}–{q['90']:.1f})"
    return "–"


def unresolvable(questions: Iterable[Question]) -> list[str]:
    """Ids of questions that cannot be sealed: no rule, or no stated resolution source."""
    return [q.id for q in questions if q.rule is None or q.resolution is None]
