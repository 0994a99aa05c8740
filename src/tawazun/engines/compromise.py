"""Compromise model: the capability x salience weighted mean of positions.

Achen's "compromise model"; the benchmark bargaining models are judged against.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tawazun.engines.base import EngineOptions, EngineResult, Problem, register, weights


@dataclass(frozen=True)
class CompromiseOptions(EngineOptions):
    engine = "compromise"  # no fields: nothing to validate


@register("compromise", options=CompromiseOptions, max_dims=None, joint=False,
          summary="capability x salience weighted mean")
def compromise(problem: Problem, options: CompromiseOptions | None = None,
               rng: np.random.Generator | None = None) -> EngineResult:
    """Capability x salience weighted mean, per dimension."""
    w = weights(problem)
    total = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        forecast = (w * problem.position).sum(axis=1) / total
    return EngineResult("compromise", forecast, options={})
