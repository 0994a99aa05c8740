"""Scoring sealed forecasts against outcomes: Brier, log score, CRPS, reliability.

Formulas (docs/loop.md):

* binary, forecast probability p, outcome o in {0, 1}: Brier ``(p - o)^2``;
  log score ``-ln(p)`` if o = 1 else ``-ln(1 - p)``;
* categorical, probabilities p_k, outcome category j: Brier ``sum_k (p_k - [k = j])^2``;
  log score ``-ln(p_j)``;
* numeric, draws x_1..x_M, outcome y: CRPS of the empirical distribution
  ``(1/M) sum_i |x_i - y| - (1 / (2 M^2)) sum_i sum_j |x_i - x_j|``.

A Monte Carlo probability can be exactly 0 or 1; the log score clips it to
``[eps, 1 - eps]`` with ``eps = 1 / (2 M)`` for M draws (half a draw), so a confident miss
costs ``ln(2M)`` rather than infinity. Lower is better for all three.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

BINS = 10


class Outcome(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    question: str
    value: Union[bool, float, str]
    date: dt.date | None = None
    source: str = Field(min_length=1)  # where the outcome was read: required
    note: str = ""


class OutcomesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["tawazun-outcomes/1"] = "tawazun-outcomes/1"
    outcomes: list[Outcome]


def brier_binary(p: float, o: int) -> float:
    return (float(p) - float(o)) ** 2


def log_binary(p: float, o: int, eps: float = 0.0) -> float:
    q = float(p) if o else 1.0 - float(p)
    return -math.log(min(max(q, eps), 1.0 - eps) if eps else q)


def brier_categorical(probs: dict[str, float], outcome: str) -> float:
    return float(sum((p - (1.0 if k == outcome else 0.0)) ** 2 for k, p in probs.items()))


def log_categorical(probs: dict[str, float], outcome: str, eps: float = 0.0) -> float:
    q = float(probs.get(outcome, 0.0))
    return -math.log(min(max(q, eps), 1.0 - eps) if eps else q)


def crps_sample(sample: np.ndarray | list[float], y: float) -> float:
    """CRPS of the empirical distribution of ``sample`` at ``y`` (O(M log M) via sorting)."""
    x = np.sort(np.asarray(sample, dtype=float))
    m = x.size
    first = np.abs(x - y).mean()
    # sum_i sum_j |x_i - x_j| = 2 sum_i (2i - m - 1) x_(i), i = 1..m
    i = np.arange(1, m + 1)
    pair = 2.0 * np.sum((2 * i - m - 1) * x)
    return float(first - pair / (2.0 * m * m))


def _eps(forecast: dict[str, Any]) -> float:
    m = int(forecast.get("draws") or 0)
    return 0.5 / m if m > 0 else 1e-6


def _binary_outcome(value: Any) -> int | None:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, str) and value.lower() in ("yes", "true", "no", "false"):
        return int(value.lower() in ("yes", "true"))
    if isinstance(value, (int, float)) and value in (0, 1):
        return int(value)
    return None


def score_entry_question(question: dict[str, Any], outcome: Outcome) -> tuple[list[dict[str, Any]], str | None]:
    """Scores of every engine's forecast of one sealed question, or a problem message."""
    kind = question["kind"]
    rows = []
    for f in question.get("forecasts", []):
        row: dict[str, Any] = {"question": question["id"], "kind": kind, "engine": f["engine"]}
        if kind == "binary":
            o = _binary_outcome(outcome.value)
            if o is None:
                return [], f"value: a binary question takes yes/no, got {outcome.value!r}"
            if "probability" not in f:
                continue
            p = f["probability"]
            row.update(forecast=p, outcome=o, brier=brier_binary(p, o), log=log_binary(p, o, _eps(f)))
        elif kind == "categorical":
            if "probabilities" not in f:
                continue
            if str(outcome.value) not in f["probabilities"]:
                return [], (f"value: {outcome.value!r} is not a category of {question['id']!r}; "
                            f"categories: {', '.join(f['probabilities'])}")
            probs, o = f["probabilities"], str(outcome.value)
            row.update(forecast=probs, outcome=o, brier=brier_categorical(probs, o),
                       log=log_categorical(probs, o, _eps(f)))
        else:
            if isinstance(outcome.value, (bool, str)):
                return [], f"value: a numeric question takes a number, got {outcome.value!r}"
            if not f.get("sample"):
                continue
            row.update(forecast=f["quantiles"]["50"], outcome=float(outcome.value),
                       crps=crps_sample(f["sample"], float(outcome.value)))
        rows.append(row)
    return rows, None


def reliability(rows: list[dict[str, Any]], bins: int = BINS) -> dict[str, list[dict[str, Any]]]:
    """Per engine: forecast-probability bins with mean forecast, observed frequency, count.
    Binary questions count once; a categorical question counts once per category."""
    events: dict[str, list[tuple[float, int]]] = {}
    for r in rows:
        if r["kind"] == "binary":
            events.setdefault(r["engine"], []).append((r["forecast"], r["outcome"]))
        elif r["kind"] == "categorical":
            for k, p in r["forecast"].items():
                events.setdefault(r["engine"], []).append((p, int(k == r["outcome"])))
    out: dict[str, list[dict[str, Any]]] = {}
    for engine, ev in events.items():
        p = np.array([e[0] for e in ev])
        o = np.array([e[1] for e in ev])
        idx = np.minimum((p * bins).astype(int), bins - 1)
        out[engine] = [{"low": b / bins, "high": (b + 1) / bins, "count": int((idx == b).sum()),
                        "forecast": float(p[idx == b].mean()), "observed": float(o[idx == b].mean())}
                       for b in range(bins) if (idx == b).any()]
    return out


def summary(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Mean scores per engine (over the questions each engine forecast)."""
    out = []
    for engine in dict.fromkeys(r["engine"] for r in rows):
        mine = [r for r in rows if r["engine"] == engine]

        def mean(key: str) -> float | None:
            vals = [r[key] for r in mine if key in r]
            return float(np.mean(vals)) if vals else None

        out.append({"engine": engine, "questions": len(mine), "brier": mean("brier"), "log": mean("log"),
                    "crps": mean("crps")})
    return out


# ------------------------------------------------------------------ reference forecasts
NO_CHANGE = "no change"
UNIFORM = "uniform"


def baseline_forecast(arena: Any, question_id: str) -> tuple[str, dict[str, Any]] | None:
    """The reference forecast of one question from the sealed arena alone (never the outcomes).

    * an issue question: **no change**, the issue's status quo (its mode) as the forecast —
      numeric: that point; binary: probability 1 if the status quo satisfies the rule, else 0;
      categorical: all the probability on the status quo's band;
    * a descriptor question: **uniform** over the descriptor's variants.

    None where there is none: a question without a rule, an issue without a status quo, a
    series or regime question (the dynamics have no stated "no change" here).
    """
    from tawazun.arena.model import triplet
    from tawazun.loop.questions import band_index, bands, event

    q = next((x for x in (getattr(arena, "questions", None) or []) if x.id == question_id), None)
    if q is None or q.rule is None:
        return None
    r = q.rule
    if r.issue is not None:
        issue = arena.issue(r.issue)
        if issue.status_quo is None:
            return None
        sq = float(triplet(issue.status_quo)[1])
        if q.kind == "numeric":
            return NO_CHANGE, {"point": sq}
        if q.kind == "binary":
            return NO_CHANGE, {"probability": float(event(q, issue, np.array([sq]))[0]), "point": sq}
        k = int(band_index(issue, np.array([sq]))[0])
        return NO_CHANGE, {"probabilities": {lab: float(j == k) for j, (lab, _, _) in enumerate(bands(issue))},
                           "point": sq}
    if r.descriptor is not None and arena.scenarios is not None:
        desc = next(d for d in arena.scenarios.descriptors if d.id == r.descriptor)
        ids = [v.id for v in desc.variants]
        if q.kind == "binary":
            return UNIFORM, {"probability": 1.0 / len(ids)}
        return UNIFORM, {"probabilities": {v: 1.0 / len(ids) for v in ids}}
    return None


def score_baseline(question: dict[str, Any], outcome: Outcome, arena: Any, draws: int) -> dict[str, Any] | None:
    """The reference forecast's scores (a row shaped as :func:`score_entry_question`'s, with
    ``baseline: true``). The log score clips as the engines' is: ``eps = 1/(2 draws)``."""
    found = baseline_forecast(arena, question["id"])
    if found is None:
        return None
    name, f = found
    kind = question["kind"]
    eps = 0.5 / draws if draws > 0 else 1e-6
    row: dict[str, Any] = {"question": question["id"], "kind": kind, "engine": name, "baseline": True}
    if kind == "binary":
        o = _binary_outcome(outcome.value)
        if o is None or "probability" not in f:
            return None
        p = f["probability"]
        row.update(forecast=p, outcome=o, brier=brier_binary(p, o), log=log_binary(p, o, eps))
    elif kind == "categorical":
        if "probabilities" not in f or str(outcome.value) not in f["probabilities"]:
            return None
        probs, o = f["probabilities"], str(outcome.value)
        row.update(forecast=probs, outcome=o, brier=brier_categorical(probs, o), log=log_categorical(probs, o, eps))
    else:
        if isinstance(outcome.value, (bool, str)) or "point" not in f:
            return None
        # the CRPS of a point forecast is the absolute error
        row.update(forecast=f["point"], outcome=float(outcome.value), crps=abs(f["point"] - float(outcome.value)))
    return row
