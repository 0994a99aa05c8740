"""Weighted median: the position holding the capability x salience weighted median.

In one dimension this is the Condorcet winner under weighted (Euclidean) voting
(Black's median voter theorem), and the forecast of Bueno de Mesquita's model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tawazun.engines.base import EngineOptions, EngineResult, Problem, register, weights


@dataclass(frozen=True)
class MedianOptions(EngineOptions):
    engine = "median"  # no fields: nothing to validate


def weighted_median(x: np.ndarray, w: np.ndarray, axis: int = -1) -> np.ndarray:
    """Lower weighted median along ``axis``: the smallest x whose cumulative weight
    reaches half the total. Vectorised over every other axis."""
    x = np.asarray(x, dtype=float)
    w = np.broadcast_to(np.asarray(w, dtype=float), x.shape)
    x = np.moveaxis(x, axis, -1)
    w = np.moveaxis(w, axis, -1)
    order = np.argsort(x, axis=-1, kind="stable")
    xs = np.take_along_axis(x, order, axis=-1)
    ws = np.take_along_axis(w, order, axis=-1)
    cum = np.cumsum(ws, axis=-1)
    half = 0.5 * cum[..., -1:]
    # A relative tolerance keeps exact halves (e.g. two equal blocs) on the lower side
    # regardless of summation order.
    idx = np.argmax(cum >= half * (1.0 - 1e-12), axis=-1)
    out = np.take_along_axis(xs, idx[..., None], axis=-1)[..., 0]
    return np.where(cum[..., -1] > 0, out, np.nan)


@register("median", options=MedianOptions, max_dims=None, joint=False,
          summary="capability x salience weighted median")
def median(problem: Problem, options: MedianOptions | None = None,
           rng: np.random.Generator | None = None) -> EngineResult:
    """Capability x salience weighted median, per dimension."""
    forecast = weighted_median(problem.position, weights(problem), axis=1)
    return EngineResult("median", forecast, options={})
