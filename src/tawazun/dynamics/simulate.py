"""``simulate(arena, ...)``: the arena's dynamics section over Monte Carlo paths, summarised per step."""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from tawazun.arena.model import Arena
from tawazun.dynamics.balance import compile_section, run_system
from tawazun.dynamics.model import DynamicsSection, parse
from tawazun.errors import InputError
from tawazun.random import generator

QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class SimResult:
    arena: str
    seed: int
    horizon: int
    paths: int
    steps: list[dt.date]
    series: dict[str, dict[str, np.ndarray]]          # name -> {"mean": (steps,), 0.1: (steps,), ...}
    regimes: dict[str, np.ndarray]                    # name -> probability by step, (steps,)
    kinds: dict[str, str]                             # series name -> state | process kind
    # per-path values, (paths, steps) per series name and per regime name (bool): for paired
    # comparisons (what-if) and question probabilities; never written to the result JSON
    raw: dict[str, np.ndarray] = field(default_factory=dict, repr=False, compare=False)
    notes: tuple[str, ...] = ()                       # what the reader must know to trust the numbers


def step_dates(as_of: dt.date, step: str, horizon: int) -> list[dt.date]:
    """The end date of each step after ``as_of``: weeks, or calendar months (day clipped)."""
    if step == "week":
        return [as_of + dt.timedelta(weeks=k) for k in range(1, horizon + 1)]
    out = []
    for k in range(1, horizon + 1):
        m = as_of.month - 1 + k
        y, m = as_of.year + m // 12, m % 12 + 1
        out.append(dt.date(y, m, min(as_of.day, calendar.monthrange(y, m)[1])))
    return out


def section_of(arena: Arena) -> DynamicsSection:
    raw = getattr(arena, "dynamics", None)
    if raw is None:
        raise InputError(f"arena {arena.meta.id!r} has no dynamics section")
    return raw if isinstance(raw, DynamicsSection) else parse(raw)


def scenario_covariates(section: DynamicsSection, variants: dict[str, str], paths: int) -> dict[str, np.ndarray]:
    """Covariate values under one consistent future (descriptor -> variant): each covariate with
    a scenario map whose descriptor's variant it lists, as ``(paths,)`` constants."""
    out: dict[str, np.ndarray] = {}
    for c in section.covariates:
        if c.scenario is None:
            continue
        v = variants.get(c.scenario.descriptor)
        if v is not None and v in c.scenario.values:
            out[c.id] = np.full(paths, float(c.scenario.values[v]))
    return out


BLOCK = 1000
"""Paths per random stream: block ``k`` (paths ``[k * BLOCK, (k + 1) * BLOCK)``) draws from
``stream(seed, "dynamics", k)``, so a path's numbers do not depend on how many paths the run
has beyond its block, nor on where its block ran. Changing it changes every seeded result
of more than 1000 paths."""

Progress = Callable[[int, int], None]


def blocks(paths: int) -> list[tuple[int, int]]:
    """``(start, count)`` of each block of a run of ``paths`` paths, in path order."""
    return [(s, min(BLOCK, paths - s)) for s in range(0, paths, BLOCK)]


def simulate_block(section: DynamicsSection, start: int, count: int, horizon: int, seed: int,
                   covariates: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Paths ``[start, start + count)`` (one block: ``start`` a multiple of :data:`BLOCK`),
    ``covariates`` already sliced to them. Module-level and free of closures so that Dask
    workers can run it."""
    rng = generator(seed, "dynamics", start // BLOCK)
    comp = compile_section(section, count, rng, covariates)
    return run_system(comp, horizon, rng)


def ensure_tables(section: DynamicsSection) -> None:
    """Load (or build once, saying so on stderr) every emulated protest's table here, before
    any block runs, so that workers find it in the cache instead of each building it."""
    from tawazun.dynamics import emulator
    from tawazun.dynamics.balance import protest_params

    for p in section.processes:
        if p.kind == "protest" and p.method == "emulator":
            emulator.table_for(protest_params(p), p.ticks, announce=f"process {p.id!r}")


def simulate_section(section: DynamicsSection, paths: int, horizon: int, seed: int,
                     covariates: dict[str, np.ndarray] | None = None, *, workers: int = 1,
                     scheduler: Any = None, progress: Progress | None = None) -> dict[str, np.ndarray]:
    """Raw per-path arrays (see :func:`tawazun.dynamics.balance.run_system`), block by block
    (:data:`BLOCK`): in this process, or as Dask tasks when ``workers`` > 1 or a ``scheduler``
    (an address or an open ``distributed.Client``) is given; the numbers are the same.
    ``progress(done, total)`` counts paths as blocks finish."""
    if paths < 1 or horizon < 1:
        raise ValueError("paths and horizon must be >= 1")
    workers = int(workers)
    if workers < 1:
        raise InputError(f"workers: must be at least 1, got {workers}")
    ensure_tables(section)
    # per-path arrays, sliced per block (a scalar or (1,) value broadcasts to every path)
    full = {k: np.broadcast_to(np.asarray(v, dtype=float), (paths,)) for k, v in (covariates or {}).items()}
    plan = blocks(paths)
    tasks = [(section, s, c, horizon, seed, {k: np.ascontiguousarray(v[s:s + c]) for k, v in full.items()})
             for s, c in plan]
    counts = [c for _, c in plan]
    if scheduler is None and (workers <= 1 or len(plan) == 1):  # one block: nothing to spread
        results, done = [], 0
        for task, c in zip(tasks, counts):
            results.append(simulate_block(*task))
            done += c
            if progress is not None:
                progress(done, paths)
    else:
        from tawazun.uncertainty.distributed import map_chunks

        results = map_chunks(simulate_block, tasks, workers=workers, scheduler=scheduler,
                             progress=progress, total=paths, counts=counts)
    if len(results) == 1:
        return results[0]
    return {key: np.concatenate([r[key] for r in results], axis=0) for key in results[0]}


def simulate(arena: Arena, paths: int = 1000, horizon: int | None = None, seed: int = 0,
             covariates: dict[str, np.ndarray] | None = None, *, workers: int = 1,
             scheduler: Any = None, progress: Progress | None = None) -> SimResult:
    """Simulate the arena's dynamics. ``covariates``: per-path draws, ``(paths,)`` per covariate
    id or issue id (e.g. the Monte Carlo forecasts of a bargaining engine); the rest are drawn
    from their ranges. ``horizon`` defaults to the section's. ``workers``/``scheduler``/
    ``progress``: see :func:`simulate_section` (the result does not depend on them)."""
    section = section_of(arena)
    horizon = int(horizon or section.horizon)
    raw = simulate_section(section, paths, horizon, seed, covariates, workers=workers,
                           scheduler=scheduler, progress=progress)
    series: dict[str, dict[str, np.ndarray]] = {}
    kinds: dict[str, str] = {}
    per_path: dict[str, np.ndarray] = {}

    def summarise(name: str, a: np.ndarray, kind: str) -> None:
        q = np.quantile(a, QUANTILES, axis=0)
        series[name] = {"mean": a.mean(axis=0), **{f"{p:g}": q[i] for i, p in enumerate(QUANTILES)}}
        kinds[name] = kind
        per_path[name] = a

    for j, s in enumerate(section.states):
        summarise(s.id, raw["states"][:, :, j], "state")
    for j, p in enumerate(section.processes):
        summarise(p.id, raw["processes"][:, :, j], p.kind)
    regimes = {r.id: raw["regimes"][:, :, j].mean(axis=0) for j, r in enumerate(section.regimes)}
    for j, r in enumerate(section.regimes):
        per_path[r.id] = raw["regimes"][:, :, j]
    notes = []
    clamped = int(raw["clamped"].sum())
    if clamped:
        notes.append(f"{clamped} of {paths * horizon} path-steps moved legitimacy by more than 0.2 in one step, "
                     "beyond the protest emulator's table; their protest share is read at the table's edge "
                     "(the outburst after such a fall is understated)")
    return SimResult(arena.meta.id, seed, horizon, paths, step_dates(arena.meta.as_of, section.step, horizon),
                     series, regimes, kinds, per_path, tuple(notes))


def to_json(res: SimResult) -> dict:
    from tawazun import __version__

    def fl(a) -> list[float]:
        return [round(float(v), 10) for v in a]

    doc = {
        "arena": res.arena,
        "version": __version__,
        "seed": res.seed,
        "horizon": res.horizon,
        "paths": res.paths,
        "steps": [d.isoformat() for d in res.steps],
        "series": {name: {"kind": res.kinds[name], "mean": fl(v["mean"]),
                          "quantiles": {k: fl(a) for k, a in v.items() if k != "mean"}}
                   for name, v in res.series.items()},
        "regimes": {name: {"probability_by_step": fl(p)} for name, p in res.regimes.items()},
    }
    if res.notes:  # only when there is something to say: earlier documents stay as they were
        doc["notes"] = list(res.notes)
    return doc
