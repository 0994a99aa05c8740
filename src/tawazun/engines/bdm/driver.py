"""The ``bdm`` engine: map the problem to scale units, simulate, summarise each round."""

from __future__ import annotations

import dataclasses

import numpy as np

from tawazun.engines.base import EngineResult, Problem, register
from tawazun.engines.bdm import kernels, reference
from tawazun.engines.bdm.options import SCHOLZ, BdmOptions



@register("bdm", options=BdmOptions, dynamic=True, max_dims=1,
          summary="Bueno de Mesquita's expected-utility challenge model (Scholz et al. 2011 reading)")
def bdm(problem: Problem, options: BdmOptions | None = None,
        rng: np.random.Generator | None = None) -> EngineResult:
    """Bueno de Mesquita's expected-utility model, rounds of challenges and concessions."""
    opts = options if options is not None else SCHOLZ
    if problem.n_dims != 1:
        raise ValueError(f"bdm handles one dimension, got {problem.n_dims}")
    lower = float(problem.lower[0])
    upper = float(problem.upper[0])
    if not upper > lower:
        raise ValueError(f"bdm needs upper > lower on the scale, got [{lower}, {upper}]")
    scale = upper - lower
    B, n = problem.batch, problem.n_actors
    T = int(opts.rounds)

    x0 = np.clip(problem.position[:, :, 0], lower, upper)
    s = np.clip(problem.salience[:, :, 0], 0.0, None)
    c = np.clip(problem.capability, 0.0, None)
    w = c * s

    u0 = (x0 - lower) / scale
    if opts.risk and opts.risk_range == "alternatives":
        traj, counts, risk = reference.simulate(u0, w, s, opts)
    else:
        traj, counts, risk = kernels.simulate(u0, w, s, opts)
    # back to the scale; an actor still at its starting point keeps it exactly
    traj = np.where(traj == u0[:, None, :], x0[:, None, :], lower + traj * scale)

    flat = np.ascontiguousarray(traj.reshape(B * (T + 1), n))
    median, mean = kernels.summaries(flat, np.repeat(w, T + 1, axis=0))
    median = median.reshape(B, T + 1)
    mean = mean.reshape(B, T + 1)
    diagnostics = {
        "median": median,
        "mean": mean,
        "conflicts": counts[:, :, 0],
        "compromises": counts[:, :, 1],
        "capitulations": counts[:, :, 2],
        "moved": counts[:, :, 3],
        "risk_exponent": risk,
    }
    return EngineResult(
        "bdm",
        forecast=median[:, -1:].copy(),
        trajectory=traj[:, :, :, None],
        diagnostics=diagnostics,
        options=dataclasses.asdict(opts),
    )
