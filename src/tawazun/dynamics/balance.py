"""The armed balance over time: state variables driven by event processes, and regimes on them.

One step (a week or a month) of every path, in this order:

1. **Processes**, in an order where each follows the processes that drive it
   (:func:`tawazun.dynamics.model.process_order`). A process's *drive* is
   ``d = sum_c w_c (source_c - reference_c)`` over the couplings into it; sources are
   covariates, states as they stand at the start of the step, and processes already run
   this step.

   * ``hawkes``: events in the step with baseline ``b * exp(d)`` per step, excitation and
     decay per step; the excitation carries over from step to step (:mod:`.hawkes`);
   * ``poisson``: ``Poisson(b * exp(d))``;
   * ``protest``: the civil-violence world of the path runs ``ticks`` ticks with legitimacy
     ``clip(x_legitimacy + d, 0, 1)``; its output is the mean share of citizens active
     over those ticks (:mod:`.protest`). Each path keeps its own world across steps; it runs
     ``burn_in`` ticks at the initial legitimacy before the first step. With ``method:
     emulator`` no world runs: the step's share is drawn from the world's tabulated output
     at this step's legitimacy and its change since the last step, with the world's lag-1
     dependence (:mod:`.emulator`; the last step's legitimacy is the initial one at the
     first step).

2. **States**: ``x' = clip(e + rho (x - e) + sum_c w_c (source_c - reference_c) + sigma eps,
   min, max)`` with ``eps ~ N(0, 1)``; state sources are lagged (start of the step), process
   sources are this step's outputs. Lagged state-to-state links cannot form a cycle.

3. **Regimes**: a conditional regime holds on a path once its state has been below (above)
   its threshold for ``for`` consecutive steps, and while it stays so; an absorbing regime,
   once entered, holds to the horizon (collapse is not undone by one good month). The
   ``otherwise`` regime holds where no conditional regime does.

Every ranged parameter is drawn once per path (triangular on low/mode/high) before the first
step. All randomness comes from the Generator passed in, in a fixed order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from tawazun.arena.model import Number, triplet
from tawazun.dynamics import emulator, hawkes, protest
from tawazun.dynamics.model import DynamicsSection, process_order
from tawazun.errors import InputError

MAX_RATE = 1e6
"""Events per step above which a rate is an input error (runaway couplings), not a forecast."""

__all__ = ["Compiled", "compile_section", "run_system", "draw"]


def draw(x: Number | None, paths: int, rng: np.random.Generator, default: float = 0.0) -> np.ndarray:
    """``(paths,)`` triangular draws on a range (a plain number repeats)."""
    if x is None:
        return np.full(paths, float(default))
    lo, mo, hi = triplet(x)
    if hi <= lo:
        return np.full(paths, float(mo))
    return rng.triangular(lo, mo, hi, size=paths)


@dataclass
class _Coupling:
    src_kind: str     # covariate | state | process
    src: int
    tgt_kind: str     # state | process
    tgt: int
    weight: np.ndarray
    reference: float


@dataclass
class Compiled:
    """A section with every parameter drawn for ``paths`` paths."""

    section: DynamicsSection
    paths: int
    cov_ids: list[str]
    state_ids: list[str]
    proc_ids: list[str]
    cov: np.ndarray          # (paths, C)
    x0: np.ndarray           # (paths, S)
    eq: np.ndarray
    pers: np.ndarray
    noise: np.ndarray
    lo: np.ndarray           # (S,)
    hi: np.ndarray
    proc: list[dict] = field(default_factory=list)
    couplings: list[_Coupling] = field(default_factory=list)
    order: list[int] = field(default_factory=list)


def protest_params(p) -> protest.ProtestParams:
    """The world of a ``protest`` process."""
    w = p.world
    return protest.ProtestParams(
        width=w.width, height=w.height, citizen_density=w.citizen_density, cop_density=w.cop_density,
        vision=w.vision, k=w.k, threshold=w.threshold, j_max=w.j_max,
        hardship_low=float(p.hardship.low), hardship_high=float(p.hardship.high))


def compile_section(section: DynamicsSection, paths: int, rng: np.random.Generator,
                    covariates: dict[str, np.ndarray] | None = None) -> Compiled:
    """Draw every parameter for each path. ``covariates`` maps a covariate id, or the issue it
    names, to per-path values ``(paths,)`` (e.g. bargaining forecasts) that replace its range."""
    covariates = dict(covariates or {})
    cov_ids = [c.id for c in section.covariates]
    state_ids = [s.id for s in section.states]
    proc_ids = [p.id for p in section.processes]
    known = set(cov_ids) | {c.issue for c in section.covariates if c.issue}
    unknown = sorted(set(covariates) - known)
    if unknown:
        raise ValueError(f"covariates given for unknown ids/issues: {', '.join(unknown)}")
    cov = np.empty((paths, len(cov_ids)))
    for j, c in enumerate(section.covariates):
        drawn = draw(c.value, paths, rng)       # always drawn: the stream does not depend on what is given
        given = covariates.get(c.id, covariates.get(c.issue) if c.issue else None)
        if given is not None:
            arr = np.broadcast_to(np.asarray(given, dtype=float), (paths,))
            if not np.all(np.isfinite(arr)):
                raise ValueError(f"covariate {c.id!r}: values must be finite")
            drawn = arr
        cov[:, j] = drawn
    S = len(state_ids)
    x0, eq, pers, noise = (np.empty((paths, S)) for _ in range(4))
    for j, s in enumerate(section.states):
        x0[:, j] = draw(s.initial, paths, rng)
        eq[:, j] = x0[:, j] if s.equilibrium is None else draw(s.equilibrium, paths, rng)
        pers[:, j] = draw(s.persistence, paths, rng)
        noise[:, j] = draw(s.noise, paths, rng)
    lo = np.array([s.min for s in section.states])
    hi = np.array([s.max for s in section.states])
    proc = []
    for p in section.processes:
        d: dict = {"kind": p.kind}
        if p.kind in ("hawkes", "poisson"):
            d["baseline"] = draw(p.baseline, paths, rng)
        if p.kind == "hawkes":
            if p.branching is not None:
                # one draw per parameter as with excitation, so the stream layout is the same
                n = draw(p.branching, paths, rng)
                d["decay"] = draw(p.decay, paths, rng)
                d["alpha"] = n * d["decay"]
            else:
                d["alpha"] = draw(p.excitation, paths, rng)
                d["decay"] = draw(p.decay, paths, rng)
        if p.kind == "protest":
            params = protest_params(p)
            d["params"] = params
            d["legit"] = state_ids.index(p.legitimacy)
            d["ticks"] = p.ticks
            d["burn_in"] = p.burn_in
            d["method"] = p.method
            if p.method == "emulator":
                d["table"] = emulator.table_for(params, p.ticks)
        proc.append(d)
    index = {**{c: ("covariate", i) for i, c in enumerate(cov_ids)},
             **{s: ("state", i) for i, s in enumerate(state_ids)},
             **{p: ("process", i) for i, p in enumerate(proc_ids)}}
    couplings = []
    for c in section.couplings:
        sk, si = index[c.source]
        tk, ti = index[c.target]
        couplings.append(_Coupling(sk, si, tk, ti, draw(c.weight, paths, rng), c.reference))
    order = [proc_ids.index(p) for p in (process_order(section) or [])]
    return Compiled(section, paths, cov_ids, state_ids, proc_ids, cov, x0, eq, pers, noise, lo, hi,
                    proc, couplings, order)


def _value(c: _Coupling, cov, x, out) -> np.ndarray:
    if c.src_kind == "covariate":
        return cov[:, c.src]
    if c.src_kind == "state":
        return x[:, c.src]
    return out[c.src]


def run_system(comp: Compiled, horizon: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Simulate ``horizon`` steps. Returns ``states`` ``(paths, steps, S)``, ``processes``
    ``(paths, steps, Q)``, ``regimes`` ``(paths, steps, R)`` (bool) and ``clamped`` ``(paths,)``:
    the steps where an emulated protest's change of legitimacy lay beyond its table."""
    P, S, Q = comp.paths, len(comp.state_ids), len(comp.proc_ids)
    regimes = comp.section.regimes
    R = len(regimes)
    states = np.empty((P, horizon, S))
    procs = np.zeros((P, horizon, Q))
    in_reg = np.zeros((P, horizon, R), dtype=bool)
    x = comp.x0.copy()
    excite = {q: np.zeros(P) for q, d in enumerate(comp.proc) if d["kind"] == "hawkes"}
    worlds = {}
    last_legit = {}
    last_z: dict[int, np.ndarray | None] = {}
    clamped = np.zeros(P, dtype=np.int64)
    for q, d in enumerate(comp.proc):
        if d["kind"] == "protest" and d["method"] == "emulator":
            last_legit[q] = np.clip(comp.x0[:, d["legit"]], 0.0, 1.0)
            last_z[q] = None
        elif d["kind"] == "protest":
            worlds[q] = protest.init_world(d["params"], P, rng)
            if d["burn_in"]:
                protest.advance(worlds[q], np.clip(comp.x0[:, d["legit"]], 0.0, 1.0), d["burn_in"], rng)
    into_proc = {q: [c for c in comp.couplings if c.tgt_kind == "process" and c.tgt == q] for q in range(Q)}
    into_state = [[c for c in comp.couplings if c.tgt_kind == "state" and c.tgt == s] for s in range(S)]
    state_idx = {s.id: i for i, s in enumerate(comp.section.states)}
    run_len = np.zeros((P, R), dtype=np.int64)
    entered = np.zeros((P, R), dtype=bool)
    for t in range(horizon):
        out: dict[int, np.ndarray] = {}
        for q in comp.order:
            d = comp.proc[q]
            drive = np.zeros(P)
            for c in into_proc[q]:
                drive += c.weight * (_value(c, comp.cov, x, out) - c.reference)
            rate = None
            if d["kind"] in ("hawkes", "poisson"):
                rate = d["baseline"] * np.exp(np.minimum(drive, 50.0))
                if np.any(rate > MAX_RATE):
                    raise InputError(
                        f"dynamics.processes[{q}]: the rate of {comp.proc_ids[q]!r} reaches "
                        f"{rate.max():.3g} events per step on some path (limit {MAX_RATE:g}): "
                        "check the weights of the couplings into it")
            if d["kind"] == "hawkes":
                mu = rate
                counts, excite[q] = hawkes.simulate_counts(mu[:, None], d["alpha"], d["decay"], rng,
                                                           excite0=excite[q], return_state=True)
                out[q] = counts[:, 0].astype(float)
            elif d["kind"] == "poisson":
                out[q] = rng.poisson(rate).astype(float)
            elif d["method"] == "emulator":
                legit = np.clip(x[:, d["legit"]] + drive, 0.0, 1.0)
                u, last_z[q] = emulator.step_uniforms(d["table"], legit, last_z[q], rng.standard_normal(P))
                out[q], beyond = emulator.sample(d["table"], last_legit[q], legit, u)
                clamped += beyond
                last_legit[q] = legit
            else:
                legit = np.clip(x[:, d["legit"]] + drive, 0.0, 1.0)
                active, _ = protest.advance(worlds[q], legit, d["ticks"], rng)
                out[q] = active.mean(axis=1) / d["params"].n_citizens
            procs[:, t, q] = out[q]
        shocks = rng.standard_normal((P, S))
        new = comp.eq + comp.pers * (x - comp.eq) + comp.noise * shocks
        for s in range(S):
            for c in into_state[s]:
                new[:, s] += c.weight * (_value(c, comp.cov, x, out) - c.reference)
        x = np.clip(new, comp.lo, comp.hi)
        states[:, t] = x
        cond_any = np.zeros(P, dtype=bool)
        for r, reg in enumerate(regimes):
            if reg.otherwise:
                continue
            v = x[:, state_idx[reg.state]]
            cond = v < reg.below if reg.below is not None else v > reg.above
            run_len[:, r] = np.where(cond, run_len[:, r] + 1, 0)
            now = run_len[:, r] >= reg.for_
            if reg.absorbing:
                entered[:, r] |= now
                now = entered[:, r]
            in_reg[:, t, r] = now
            cond_any |= now
        for r, reg in enumerate(regimes):
            if reg.otherwise:
                in_reg[:, t, r] = ~cond_any
    return {"states": states, "processes": procs, "regimes": in_reg, "clamped": clamped}
