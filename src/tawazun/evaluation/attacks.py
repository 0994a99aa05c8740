"""Rolling-origin backtest of monthly attack counts: Hawkes vs Poisson, NB and persistence.

The event list (``data/attacks/iraq-us-sites-2019-2022.csv``, a verified *sample* of
reported attacks) is read strictly (:func:`load_attacks`), filtered (:func:`select_events`),
and turned into event times in days since the first day of the window
(:func:`event_times`). At each origin (a month start) every model sees only the events
before it and forecasts the counts of the next ``horizons`` calendar months:

* ``hawkes``: :func:`tawazun.dynamics.hawkes.fit_hawkes` on the event times before the
  origin (constant baseline, continuous-time MLE), then ``paths`` exact simulations of the
  next months started from the excitation left at the origin (plug-in parameters).
* ``poisson`` / ``negbin``: :func:`fit_poisson` / :func:`fit_negbin` on the monthly counts
  before the origin; the same plug-in predictive for every horizon.
* ``persistence``: "no change" — Poisson with mean = last month's count, floored at
  :data:`PERSISTENCE_FLOOR` so that a quiet month does not give probability 0 to any attack.

Scores per (origin, horizon, model): the CRPS (exact for the three count laws, summed over
a support truncated where the upper tail is below 1e-12; the sorted-sample form for the
Hawkes ensemble) and the log score ``-ln p(y)`` (lower is better, as the CRPS). The
Hawkes ensemble's p(y) is add-one smoothed: ``(n_y + 1) / (M + K + 1)`` with ``n_y`` the
paths that gave ``y``, ``M`` the paths and ``{0..K}``, ``K = max(max simulated, y)``, the
support smoothed over, so an outcome no path produced costs ``ln(M + K + 1)`` not infinity.
Differences to ``poisson`` are paired by (origin, horizon); their interval resamples
non-overlapping blocks of ``block`` consecutive origins (forecasts from neighbouring
origins share target months, so single origins are not independent).

Randomness: one named stream tree, ``tawazun.random.generator(seed, "attacks", purpose, i)``
— ``("times", 0)`` places events within their day/month, ``("paths", k)`` simulates origin
k. The bootstrap is :func:`tawazun.evaluation.metrics.bootstrap_mean` on the
``score-bootstrap`` stream. Same seed, same document.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
from scipy import stats

from tawazun.errors import InputError
from tawazun.evaluation.metrics import bootstrap_mean, crps_ensemble
from tawazun.files import read_text
from tawazun.random import generator

__all__ = [
    "AttackEvent", "load_attacks", "select_events", "event_times", "month_edges",
    "monthly_counts", "crps_count", "logscore_count", "logscore_samples",
    "hawkes_paths", "run_attacks_backtest", "MODELS",
]

REQUIRED = ("id", "date", "date_precision", "target_type", "weapon", "claimed_by")
PRECISIONS = ("day", "month")
TARGET_TYPES = ("base", "airport", "embassy", "convoy", "other")
WEAPONS = ("rocket", "ied", "drone", "mortar", "other", "unknown")
MODELS = ("hawkes", "poisson", "negbin", "persistence")
PERSISTENCE_FLOOR = 0.5
MIN_HISTORY_MONTHS = 12
TAIL = 1e-12  # the count laws' support is cut where P(X > K) < TAIL


# ------------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class AttackEvent:
    line: int               # line in the file (header = 1)
    id: str
    date: _dt.date          # for month precision: the 1st of the month
    precision: str          # "day" | "month"
    target_type: str
    weapon: str
    claimed_by: str

    @property
    def state_strike(self) -> bool:
        """An Iranian state strike (ballistic missiles): ``weapon=other`` on a non-convoy target.

        ``weapon=other`` also codes arson of convoy trucks (a militia attack); the README of
        the list names the two state strikes (8 Jan 2020, 13 Mar 2022) and this rule."""
        return self.weapon == "other" and self.target_type != "convoy"


def load_attacks(path: str | Path) -> list[AttackEvent]:
    """Read the event list; every problem is one ``file:line: column: message`` line."""
    p = Path(path)
    text = read_text(p, "CSV file of attacks", allow_empty=False)
    reader = csv.reader(io.StringIO(text, newline=""))
    name = str(p)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:  # pragma: no cover - read_text refuses empty files
        raise InputError(f"{name}:1: header: {exc}") from None
    header = [h.strip() for h in header]
    problems: list[str] = []
    seen: set[str] = set()
    for h in header:
        if h in seen:
            problems.append(f"{name}:1: header: column {h!r} appears twice")
        seen.add(h)
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        problems.append(f"{name}:1: header: missing column(s) {', '.join(missing)}")
    if problems:
        raise InputError(problems)
    col = {h: i for i, h in enumerate(header)}
    events: list[AttackEvent] = []
    line = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            raise InputError(f"{name}:{reader.line_num}: row: {exc}") from None
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        if [c.strip() for c in row] == header:
            problems.append(f"{name}:{line}: row: the header line is repeated")
            continue
        if len(row) != len(header):
            problems.append(f"{name}:{line}: row: {len(row)} cells, the header has {len(header)}")
            continue
        cell = {c: row[col[c]].strip() for c in REQUIRED}
        bad = False
        prec = cell["date_precision"]
        if prec not in PRECISIONS:
            problems.append(f"{name}:{line}: date_precision: expected day or month, got {prec!r}")
            bad = True
        try:
            date = _dt.date.fromisoformat(cell["date"])
            if len(cell["date"]) != 10:
                raise ValueError
        except ValueError:
            problems.append(f"{name}:{line}: date: not a YYYY-MM-DD date: {cell['date']!r}")
            bad = True
        else:
            if prec == "month" and date.day != 1:
                problems.append(f"{name}:{line}: date: a month-precision date is stored on the 1st, "
                                f"got {cell['date']}")
                bad = True
        for c, known in (("target_type", TARGET_TYPES), ("weapon", WEAPONS)):
            if cell[c] not in known:
                problems.append(f"{name}:{line}: {c}: expected one of {', '.join(known)}, got {cell[c]!r}")
                bad = True
        if not bad:
            events.append(AttackEvent(line, cell["id"], date, prec, cell["target_type"],
                                      cell["weapon"], cell["claimed_by"]))
        if len(problems) >= 20:
            problems.append(f"{name}: stopped after 20 problems")
            break
    if problems:
        raise InputError(problems)
    if not events:
        raise InputError(f"{name}:{line}: row: no events in the file")
    return events


def select_events(events: Sequence[AttackEvent], *, state_strikes: bool = False,
                  targets: Sequence[str] | None = None) -> tuple[list[AttackEvent], dict[str, int]]:
    """The events the backtest counts, and how many were dropped for each reason."""
    wanted = set(TARGET_TYPES if targets is None else targets)
    kept, dropped = [], {"state strike": 0, "target type not selected": 0}
    for e in events:
        if e.state_strike and not state_strikes:
            dropped["state strike"] += 1
        elif e.target_type not in wanted:
            dropped["target type not selected"] += 1
        else:
            kept.append(e)
    return kept, dropped


# ------------------------------------------------------------------------------ time axis


def _month_index(d: _dt.date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(idx: int) -> _dt.date:
    return _dt.date(idx // 12, idx % 12 + 1, 1)


def month_label(idx: int) -> str:
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def parse_month(text: str) -> int:
    """``YYYY-MM`` -> month index (year * 12 + month - 1); ValueError otherwise."""
    y, sep, m = text.strip().partition("-")
    if not sep or len(y) != 4 or not y.isdigit() or not m.isdigit() or not 1 <= int(m) <= 12:
        raise ValueError(f"expected YYYY-MM, got {text!r}")
    return int(y) * 12 + int(m) - 1


def month_edges(first_month: int, n_months: int) -> np.ndarray:
    """Days since the first day of ``first_month`` at each month start, ``(n_months + 1,)``."""
    t0 = _month_start(first_month)
    return np.array([(_month_start(first_month + k) - t0).days for k in range(n_months + 1)], dtype=float)


def event_times(events: Sequence[AttackEvent], first_month: int, rng: np.random.Generator,
                month_rows: str = "uniform") -> np.ndarray:
    """Sorted event times in days since the first day of ``first_month``.

    A day-precision event is placed uniformly at random within its day (several rows share
    a day; distinct times keep the Hawkes likelihood from reading a same-day pair as an
    instant offspring). A month-precision event is placed uniformly within its month
    (``month_rows="uniform"``) or at its midpoint (``"mid"``). Draws come from ``rng`` in
    file order, one per event, whatever the choice, so the choice moves no other event.
    """
    if month_rows not in ("uniform", "mid"):
        raise ValueError(f"month_rows: expected uniform or mid, got {month_rows!r}")
    t0 = _month_start(first_month)
    u = rng.random(len(events))
    out = np.empty(len(events))
    for k, e in enumerate(events):
        if e.precision == "day":
            out[k] = (e.date - t0).days + u[k]
        else:
            start = (e.date - t0).days
            length = (_month_start(_month_index(e.date) + 1) - e.date).days
            out[k] = start + (u[k] if month_rows == "uniform" else 0.5) * length
    return np.sort(out)


def monthly_counts(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Events per interval ``[edges[k], edges[k+1])``."""
    return np.histogram(times, bins=edges)[0].astype(np.int64)


# ------------------------------------------------------------------------------ scores


def _support(dist, y: int) -> np.ndarray:
    hi = int(max(y, dist.isf(TAIL) if np.isfinite(dist.isf(TAIL)) else y)) + 1
    return np.arange(hi + 1)


def crps_count(dist, y: int) -> float:
    """Exact CRPS of an integer-valued law at integer y: ``sum_k (F(k) - 1{k >= y})^2``.

    (The integral of (F(x) - 1{x >= y})^2 over x is this sum because both step at the
    integers.) The sum stops where the upper tail is below :data:`TAIL`.
    """
    k = _support(dist, y)
    F = dist.cdf(k)
    return float(np.sum((F - (k >= y)) ** 2))


def logscore_count(dist, y: int) -> float:
    """``-ln p(y)`` of a count law."""
    return float(-dist.logpmf(y))


def logscore_samples(samples: np.ndarray, y: int) -> float:
    """``-ln p(y)`` with p the add-one smoothed empirical pmf over ``{0..K}``, ``K = max(max sample, y)``."""
    s = np.asarray(samples, dtype=np.int64)
    K = int(max(s.max(initial=0), y))
    n_y = int(np.count_nonzero(s == y))
    return float(-np.log((n_y + 1) / (s.size + K + 1)))


# ------------------------------------------------------------------------------ models


def hawkes_paths(fit, times: np.ndarray, origin: float, ahead_edges: np.ndarray,
                 paths: int, rng: np.random.Generator) -> np.ndarray:
    """Simulated counts per month after ``origin``, ``(paths, months)``.

    One-day steps from the origin to ``ahead_edges[-1]`` (month starts fall on whole days),
    started from the excitation the events before the origin leave there.
    """
    from tawazun.dynamics.hawkes import simulate_counts

    n_days = int(round(ahead_edges[-1] - origin))
    e0 = fit.alpha * float(np.sum(np.exp(-fit.decay * (origin - times))))
    mu = np.full((paths, n_days), fit.mu)
    daily = simulate_counts(mu, fit.alpha, fit.decay, rng, dt=1.0, excite0=e0)
    starts = np.round(ahead_edges[:-1] - origin).astype(np.int64)
    return np.add.reduceat(daily, starts, axis=1)


@dataclass(frozen=True)
class _OriginResult:
    fits: dict
    scores: dict  # model -> {"crps": (H,), "log": (H,), "mean": (H,)}
    y: np.ndarray


def _score_origin(times: np.ndarray, edges: np.ndarray, counts: np.ndarray, o: int,
                  horizons: int, paths: int, rng: np.random.Generator) -> _OriginResult:
    from tawazun.dynamics.hawkes import fit_hawkes, fit_negbin, fit_poisson

    origin = edges[o]
    past = times[times < origin]
    y = counts[o:o + horizons]
    hist = counts[:o]
    scores: dict[str, dict[str, np.ndarray]] = {}
    fits: dict[str, dict] = {}

    hf = fit_hawkes(past, origin)
    sims = hawkes_paths(hf, past, origin, edges[o:o + horizons + 1], paths, rng)
    fits["hawkes"] = {"mu": hf.mu, "alpha": hf.alpha, "decay": hf.decay,
                      "branching_ratio": hf.branching_ratio, "converged": hf.converged,
                      "n_events": hf.n_events}
    scores["hawkes"] = {
        "crps": crps_ensemble(sims.T, y),
        "log": np.array([logscore_samples(sims[:, h], int(y[h])) for h in range(horizons)]),
        "mean": sims.mean(axis=0),
        "outside": np.array([int(y[h]) > sims[:, h].max() for h in range(horizons)]),
    }
    pf = fit_poisson(hist)
    nf = fit_negbin(hist)
    fits["poisson"] = {"mean": pf.mean}
    fits["negbin"] = {"mean": nf.mean, "size": nf.dispersion}
    last = float(hist[-1])
    fits["persistence"] = {"mean": max(last, PERSISTENCE_FLOOR)}
    laws = {"poisson": pf.predictive(), "negbin": nf.predictive(),
            "persistence": stats.poisson(max(last, PERSISTENCE_FLOOR))}
    for name, dist in laws.items():
        scores[name] = {
            "crps": np.array([crps_count(dist, int(v)) for v in y]),
            "log": np.array([logscore_count(dist, int(v)) for v in y]),
            "mean": np.full(horizons, float(dist.mean())),
        }
    return _OriginResult(fits, scores, y)


def run_attacks_backtest(
    times: np.ndarray,
    first_month: int,
    n_months: int,
    origins: Sequence[int],
    *,
    horizons: int = 6,
    paths: int = 2000,
    seed: int = 2026,
    block: int = 3,
    n_boot: int = 2000,
    progress: Callable[[int, int], None] | None = None,
) -> dict:
    """The backtest document (JSON-ready).

    ``times``: event times in days since the first day of ``first_month``; the window is
    ``n_months`` calendar months from there. ``origins``: month indices (same scale as
    ``first_month``); each needs :data:`MIN_HISTORY_MONTHS` months of history before it and
    its last horizon inside the window.
    """
    times = np.sort(np.asarray(times, dtype=float))
    edges = month_edges(first_month, n_months)
    counts = monthly_counts(times, edges)
    offs = [int(o) - first_month for o in origins]
    for o in offs:
        if o < MIN_HISTORY_MONTHS:
            raise ValueError(f"origin {month_label(o + first_month)} has {o} months of history, "
                             f"needs {MIN_HISTORY_MONTHS}")
        if o + horizons > n_months:
            raise ValueError(f"origin {month_label(o + first_month)} + {horizons} months passes the "
                             f"window's end {month_label(first_month + n_months - 1)}")
    per_origin = []
    results: list[_OriginResult] = []
    for k, o in enumerate(offs):
        r = _score_origin(times, edges, counts, o, horizons, paths, generator(seed, "attacks", "paths", k))
        results.append(r)
        per_origin.append({"origin": month_label(o + first_month), "fits": r.fits,
                           "observed": r.y.tolist(),
                           "mean_forecast": {m: [round(float(v), 6) for v in r.scores[m]["mean"]]
                                             for m in MODELS},
                           "scores": {m: {s: [float(v) for v in r.scores[m][s]] for s in ("crps", "log")}
                                      for m in MODELS}})
        if progress is not None:
            progress(k + 1, len(offs))

    n_o = len(results)
    arr = {m: {s: np.array([r.scores[m][s] for r in results]) for s in ("crps", "log")} for m in MODELS}
    groups = np.arange(n_o) // block

    def _summ(m: str, cols) -> dict:
        out = {}
        for s in ("crps", "log"):
            v = arr[m][s][:, cols]
            out[s] = float(v.mean())
            if m != "poisson":
                d = (v - arr["poisson"][s][:, cols])
                # row-major ravel: an origin's horizons sit together, so repeat its block label
                g = np.repeat(groups, v.shape[1])
                out[f"{s}_vs_poisson"] = bootstrap_mean(d.ravel(), g, n_boot=n_boot, seed=seed)
        return out

    table = {}
    for m in MODELS:
        table[m] = {str(h + 1): _summ(m, [h]) for h in range(horizons)}
        table[m]["all"] = _summ(m, list(range(horizons)))
    outside = np.array([r.scores["hawkes"]["outside"] for r in results])
    nonstat = sum(not r.fits["hawkes"]["branching_ratio"] < 1 for r in results)
    unconv = sum(not r.fits["hawkes"]["converged"] for r in results)
    return {
        "window": {"first_month": month_label(first_month),
                   "last_month": month_label(first_month + n_months - 1)},
        "monthly_counts": {month_label(first_month + k): int(c) for k, c in enumerate(counts)},
        "n_events": int(times.size),
        "origins": [month_label(o + first_month) for o in offs],
        "horizons": horizons, "paths": paths, "seed": seed,
        "bootstrap": {"block_origins": block, "n_boot": n_boot, "n_blocks": int(groups.max() + 1) if n_o else 0},
        "scores": table,
        "hawkes_diagnostics": {
            "fits_not_converged": int(unconv),
            "fits_branching_ratio_ge_1": int(nonstat),
            "outcomes_above_every_path": int(outside.sum()),
            "cases": int(outside.size),
        },
        "per_origin": per_origin,
    }
