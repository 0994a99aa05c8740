"""Levers: which moves would bring one issue's forecast closest to an actor's goal.

For one actor, one issue and one engine, two kinds of lever are ranked by how close the
forecast (every range at its mode) comes to the goal (by default the actor's own position):

* **own moves**: the actor's position, or its salience, set anywhere within its stated range
  (or within ``budget`` of its mode, on the arena's scale, when a budget is given);
* **persuasion**: another actor's position range shifted toward the actor's position by
  ``step`` scale units (never past it), one actor at a time.

A persuasion lever is one engine run. An own move is an optimisation over an interval: exact
for the compromise model (the forecast is linear in the position and monotone in the
salience: closed forms), exact for the weighted median (the forecast is piecewise constant or
the identity between known breakpoints; every breakpoint is evaluated), and a search over a
grid of :data:`GRID` points (plus the goal and the mode) for the other engines, batched in one
engine call. Each lever carries its ``--set`` argument: applied with :mod:`tawazun.loop.whatif`
it gives the same forecast at the modes, and the same paired interval over the draws.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from tawazun.arena.compile import ranged_problem
from tawazun.arena.model import Arena, triplet
from tawazun.engines.base import RangedProblem, get_engine
from tawazun.errors import InputError
from tawazun.forecast import bargaining_units, engine_options, sampling_seed, unit_seed
from tawazun.uncertainty.ensemble import Chunk, chunks, default_chunk_size, evaluate_chunks
from tawazun.uncertainty.sampling import flat_ranges, input_names, unflatten

GRID = 41
LEVER_DRAWS = 200
INTERVALS = 5
"""Levers (best first) that get a paired interval under a dynamic engine (BDM, SMP: many rounds
per run): each interval is a whole ensemble of ``draws`` runs, the bulk of the ranking's cost."""


def _unit_for(arena: Arena, issue: str, engine: str) -> tuple[str, bool]:
    for unit, ids in bargaining_units(arena, get_engine(engine)):
        if issue in ids:
            return unit, len(ids) > 1
    raise InputError(f"engine: {engine} does not forecast {issue!r} (its space has too many issues)")


def _column(ranged: RangedProblem, actor: str, field: str, dim: str) -> int:
    return input_names(ranged).index((actor, field, dim))


def _with_column(ranged: RangedProblem, col: int, tri: tuple[float, float, float]) -> RangedProblem:
    """A copy of ``ranged`` with one ranged scalar replaced (same layout: CRN holds)."""
    flat = flat_ranges(ranged).copy()
    flat[:, col] = tri
    p = unflatten(ranged, flat)  # (3, ...) treated as a batch of three
    return dataclasses.replace(ranged, position=p.position, salience=p.salience, capability=p.capability,
                               status_quo=p.status_quo)


def _evaluate(ranged: RangedProblem, engine: str, opts: Any, col: int, values: np.ndarray,
              seed: int, unit: str, k: int) -> np.ndarray:
    """The forecast on dimension ``k`` at the modes, with column ``col`` set to each value."""
    modes = flat_ranges(ranged)[1]
    batch = np.repeat(modes[None], len(values), axis=0)
    batch[:, col] = values
    spec = get_engine(engine)
    res = spec.run(unflatten(ranged, batch), opts, np.random.default_rng(unit_seed(seed, engine, unit)))
    return np.asarray(res.forecast, dtype=float).reshape(len(values), -1)[:, k]


def _ensembles(problems: list[RangedProblem], engine: str, opts: Any, seed: int, unit: str, draws: int,
               dist: str) -> list[np.ndarray]:
    """The ensemble of each problem of one unit exactly as the forecast pipeline draws it (same
    seeds and chunks), all chunks in one evaluation pass."""
    s = sampling_seed(seed, unit)
    tasks, owners = [], []
    for j, prob in enumerate(problems):
        for a, c in chunks(draws, default_chunk_size(prob)):
            tasks.append(Chunk(prob, engine, opts, s, dist, a, c))
            owners.append(j)
    outs = evaluate_chunks(tasks)
    return [np.concatenate([o[0] for o, w in zip(outs, owners) if w == j], axis=0) for j in range(len(problems))]


def _candidates(engine: str, lo: float, hi: float, goal_pt: float, others: np.ndarray, mode: float,
                field: str, ranged: RangedProblem, a_idx: int, k: int) -> tuple[np.ndarray, str]:
    """Values of the lever's input to evaluate, and the method's name."""
    base = [lo, hi, mode, float(np.clip(goal_pt, lo, hi))]
    if engine == "compromise":
        return np.clip(np.array(base), lo, hi), "exact (closed form)"
    if engine == "median" and len(ranged.dims) == 1:
        if field == "position":
            pts = np.unique(np.clip(np.concatenate([base, others]), lo, hi))
            mids = 0.5 * (pts[:-1] + pts[1:])
            return np.concatenate([pts, mids]), "exact (every breakpoint)"
        # salience: the lower weighted median changes where A's weight a = c*t crosses
        # W_o - 2 C_j or 2 C_j - W_o (C_j: the others' weight up to the j-th position)
        c = ranged.capability[1, a_idx]
        w = ranged.capability[1][:, None] * ranged.salience[1]
        w_o = np.delete(w[:, k], a_idx)
        x_o = np.delete(ranged.position[1, :, k], a_idx)
        cum = np.cumsum(w_o[np.argsort(x_o, kind="stable")])
        tot = w_o.sum()
        brk = np.concatenate([tot - 2 * cum, 2 * cum - tot]) / c if c > 0 else np.array([])
        brk = brk[np.isfinite(brk)]
        pts = np.concatenate([base, brk, brk * (1 + 1e-9), brk * (1 - 1e-9)])
        return np.unique(np.clip(pts, lo, hi)), "exact (every breakpoint)"
    return np.unique(np.concatenate([np.linspace(lo, hi, GRID), np.clip(base, lo, hi)])), f"search ({GRID}-point grid)"


def _compromise_optimum(ranged: RangedProblem, a_idx: int, k: int, field: str, goal: float,
                        lo: float, hi: float) -> float:
    """The compromise model's closed form: the input value whose forecast is nearest the goal."""
    c = ranged.capability[1]
    s = ranged.salience[1, :, k]
    x = ranged.position[1, :, k]
    w = c * s
    if field == "position":
        total = w.sum()
        if w[a_idx] <= 0 or total <= 0:
            return float(x[a_idx])
        f0 = float((w * x).sum() / total)
        return float(np.clip(x[a_idx] + (goal - f0) * total / w[a_idx], lo, hi))
    # salience t: F(t) = (S_o + c t x_A) / (W_o + c t), monotone from F_o (t=0) toward x_A
    mask = np.arange(len(w)) != a_idx
    w_o, s_o = w[mask].sum(), (w[mask] * x[mask]).sum()
    if c[a_idx] <= 0:
        return float(s[a_idx])
    if goal == x[a_idx]:
        return hi
    t = (s_o - goal * w_o) / (c[a_idx] * (goal - x[a_idx]))
    return float(np.clip(t, lo, hi)) if np.isfinite(t) else hi


def levers(arena: Arena, actor: str, issue: str, engine: str = "compromise", *, goal: float | None = None,
           step: float | None = None, budget: float | None = None, seed: int = 0,
           draws: int = LEVER_DRAWS, dist: str = "triangular",
           options: dict[str, Any] | None = None, intervals: int | None = None) -> dict[str, Any]:
    """The ranked levers of ``actor`` on ``issue`` under ``engine`` (see the module doc).

    ``intervals``: how many of the ranked levers, best first, get the paired interval over
    the draws (None: every lever for the one-shot engines, compromise, median and Nash;
    :data:`INTERVALS` for the dynamic ones, BDM and SMP). The ranking itself, at the modes,
    never depends on it."""
    if actor not in {a.id for a in arena.actors}:
        raise InputError(f"actor: unknown actor {actor!r}")
    if arena.actor(actor).role == "context":
        raise InputError(f"actor: {actor!r} is a context actor: it takes no part in bargaining, so it has no levers")
    if issue not in {i.id for i in arena.issues}:
        raise InputError(f"issue: unknown issue {issue!r}")
    stance = next((s for s in arena.stances if s.actor == actor and s.issue == issue), None)
    if stance is None:
        raise InputError(f"actor: {actor!r} has no stance on {issue!r}")
    if draws < 1:
        raise InputError(f"draws: must be at least 1, got {draws}")
    if intervals is not None and intervals < 0:
        raise InputError(f"intervals: must be 0 or more, got {intervals}")
    spec = get_engine(engine) if engine in _registry() else None
    if spec is None:
        raise InputError(f"engine: unknown engine {engine!r}")
    if intervals is None:
        intervals = INTERVALS if spec.dynamic else 1 << 30
    opts = engine_options(spec, options or {}, None)
    unit, joint = _unit_for(arena, issue, engine)
    ranged = ranged_problem(arena, unit, joint=joint)
    k = ranged.dims.index(issue)
    a_idx = ranged.actors.index(actor)
    the_issue = arena.issue(issue)
    lo_s, hi_s = the_issue.scale.min, the_issue.scale.max
    smax = arena.salience_max
    own_pos = float(ranged.position[1, a_idx, k])
    goal = own_pos if goal is None else float(goal)
    if not lo_s <= goal <= hi_s:
        raise InputError(f"goal: {goal:g} outside the scale [{lo_s:g}, {hi_s:g}]")
    step = 0.1 * (hi_s - lo_s) if step is None else float(step)
    if step <= 0:
        raise InputError(f"step: must be positive, got {step:g}")
    if budget is not None and budget < 0:
        raise InputError(f"budget: must be 0 or more, got {budget:g}")

    base_point = float(_evaluate(ranged, engine, opts, 0, flat_ranges(ranged)[1, :1], seed, unit, k)[0])
    out: list[dict[str, Any]] = []
    variants: list[RangedProblem] = []

    def finish(lever: dict[str, Any], variant: RangedProblem, forecast: float) -> None:
        # ranked at the modes first; the paired intervals (ensembles) come after, for the top ones
        lever.update(forecast=forecast, effect=forecast - base_point, distance=abs(forecast - goal),
                     mean=None, q10=None, q90=None)
        out.append(lever)
        variants.append(variant)

    # own moves
    for field, scale_max in (("position", None), ("salience", smax)):
        col = _column(ranged, actor, field, issue)
        tri = triplet(getattr(stance, field))
        if budget is not None:
            lo, hi = tri[1] - budget, tri[1] + budget
        else:
            lo, hi = tri[0], tri[2]
        lo, hi = (max(lo, lo_s), min(hi, hi_s)) if field == "position" else (max(lo, 0.0), min(hi, smax))
        div = 1.0 if field == "position" else smax
        cands, method = _candidates(engine, lo / div, hi / div, goal, np.delete(ranged.position[1, :, k], a_idx),
                                    tri[1] / div, field, ranged, a_idx, k)
        if engine == "compromise":
            # the forecast is monotone in either input: the root, clipped, or an end of the room
            cands = np.array([_compromise_optimum(ranged, a_idx, k, field, goal, lo / div, hi / div),
                              lo / div, hi / div])
        f = _evaluate(ranged, engine, opts, col, cands, seed, unit, k)
        dist_to = np.abs(f - goal)
        # nearest to the goal; among equals the smallest change from the mode
        best = int(np.lexsort((np.abs(cands - tri[1] / div), dist_to))[0])
        value = float(cands[best]) * div
        lever = {"kind": "own", "actor": actor, "field": field, "from": tri[1], "to": round(value, 9),
                 "room": [lo, hi], "method": method,
                 "apply": f"{actor}.{issue}.{field}={_fmt(value)}"}
        finish(lever, _with_column(ranged, col, (value / div,) * 3), float(f[best]))

    # persuasion: another actor's position range shifted toward the actor's position
    col_of = {b: _column(ranged, b, "position", issue) for b in ranged.actors}
    for b_stance in arena.stances:
        b = b_stance.actor
        if b_stance.issue != issue or b == actor or b not in col_of:
            continue  # context actors take no part in bargaining: nobody persuades them here
        tri = triplet(b_stance.position)
        gap = own_pos - tri[1]
        shift = float(np.sign(gap) * min(step, abs(gap)))
        new = tuple(float(np.clip(v + shift, lo_s, hi_s)) for v in tri)
        lever = {"kind": "persuade", "actor": b, "field": "position", "from": tri[1], "to": round(new[1], 9),
                 "shift": shift, "method": "exact (one run)",
                 "apply": f"{b}.{issue}.position=" + (_fmt(new[0]) if new[0] == new[2] else ":".join(_fmt(v) for v in new))}
        variant = _with_column(ranged, col_of[b], new)
        f = float(_evaluate(variant, engine, opts, col_of[b], np.array([new[1]]), seed, unit, k)[0])
        finish(lever, variant, f)

    order = sorted(range(len(out)), key=lambda i: (out[i]["distance"], -abs(out[i]["effect"]),
                                                   out[i]["kind"], out[i]["actor"]))
    out = [out[i] for i in order]
    variants = [variants[i] for i in order]
    for rank, r in enumerate(out, 1):
        r["rank"] = rank
    top = min(intervals, len(out))
    if top:
        # one pass over every needed ensemble: the baseline's and the top levers' (the same
        # seeds and chunks as the pipeline: common random numbers, as in what-if)
        ens = _ensembles([ranged] + variants[:top], engine, opts, seed, unit, draws, dist)
        base_draws = ens[0][:, k]
        for lever, vd in zip(out[:top], ens[1:]):
            diff = vd[:, k] - base_draws
            ok = diff[np.isfinite(diff)]
            if ok.size:
                lever.update(mean=float(ok.mean()), q10=float(np.percentile(ok, 10)),
                             q90=float(np.percentile(ok, 90)))
    return {"arena": arena.meta.id, "actor": actor, "issue": issue, "engine": engine, "unit": unit,
            "goal": goal, "step": step, "budget": budget, "seed": seed, "draws": draws, "dist": dist,
            "baseline": base_point, "intervals": top, "levers": out}


def _registry() -> dict[str, Any]:
    from tawazun import engines as _  # noqa: F401  (registers built-ins)
    from tawazun.engines.base import REGISTRY

    return REGISTRY


def _fmt(v: float) -> str:
    return f"{v:.10g}"
