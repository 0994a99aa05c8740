"""The ``smp`` engine: normalise the problem to [0, 1], simulate (compiled or reference),
pick the most probable final position."""

from __future__ import annotations

from dataclasses import asdict

import numpy as np

from tawazun.engines.base import EngineResult, Problem, register
from tawazun.engines.smp import kernels, reference
from tawazun.engines.smp.options import SmpOptions


def simulate(x0: np.ndarray, s: np.ndarray, c: np.ndarray, o: SmpOptions,
             rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Run the model on normalised arrays. Returns trajectory (B, T+1, n, d), turns (B,),
    risk (B, T+1, n), targets (B, T, n), position_probability (B, T+1, n)."""
    b, n, d = x0.shape
    draws = None
    if o.transition == "Stochastic":
        if rng is None:
            rng = np.random.default_rng()
        draws = rng.random((b, o.max_turns, n))  # one uniform per draw, turn and actor
    if o.max_turns == 0:  # no bargaining: the input state and its position probabilities
        dist, R = reference.risk_state(x0, s, c, o)
        return {"trajectory": x0[:, None].copy(), "turns": np.zeros(b, dtype=np.int64),
                "risk": R[:, None], "targets": np.zeros((b, 0, n), dtype=np.int64),
                "position_probability": reference.position_probability(x0, s, c, o, dist, R)[0][:, None]}
    if o.backend == "numba":
        return kernels.simulate(x0, s, c, o, draws)
    return reference.simulate(x0, s, c, o, draws)


@register("smp", options=SmpOptions, dynamic=True, max_dims=None,
          summary="KTAB Spatial Model of Politics: challenges, bargains, PCE choice per turn")
def smp(problem: Problem, options: SmpOptions | None = None,
        rng: np.random.Generator | None = None) -> EngineResult:
    """KTAB's Spatial Model of Politics (exact re-implementation, batched).

    Returns ``trajectory`` (B, T+1, n, d) on the problem's scales (turn 0 = input; a draw
    that stopped before T repeats its last positions; ``diagnostics["turns"]`` (B,) says
    where each stopped) and ``forecast`` (B, d): the final position with the largest
    probability. ``diagnostics["position_probability"]`` (B, T+1, n): per turn, the
    probability of each distinct position, stored in the column of the first actor (in
    actor order) holding it and 0 for the other holders, so each row sums to 1.
    Also ``risk`` (B, T+1, n), ``targets`` (B, T, n; -1 = none) and ``winner`` (B,).
    """
    o = options or SmpOptions()
    o.validate()
    lo = problem.lower[None, None, :]
    span = (problem.upper - problem.lower)[None, None, :]
    span = np.where(span > 0, span, 1.0)
    x0 = np.clip((problem.position - lo) / span, 0.0, 1.0)
    s = reference.normalise_saliences(np.clip(problem.salience, 0.0, None), o)
    c = np.clip(problem.capability, 0.0, None)
    if o.transition == "Stochastic" and rng is None:
        rng = np.random.default_rng()
    out = simulate(x0, s, c, o, rng)
    traj = out["trajectory"]
    final = traj[:, -1]
    pfinal = out["position_probability"][:, -1]
    win = np.argmax(pfinal, axis=-1)
    forecast = np.take_along_axis(final, win[:, None, None], axis=1)[:, 0] * span[0] + lo[0]
    diagnostics = {
        "turns": out["turns"],
        "position_probability": out["position_probability"],
        "risk": out["risk"],
        "targets": out["targets"],
        "winner": win,
    }
    return EngineResult("smp", forecast, traj * span[:, None] + lo[:, None], diagnostics, asdict(o))
