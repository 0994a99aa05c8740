"""Uncertainty at speed: Monte Carlo over arena ranges, forecast distributions, sensitivity.

Small modules in the order of use: :mod:`sampling` (ranges -> draws), :mod:`ensemble`
(draws -> forecasts, chunked and batched, optionally on Dask via :mod:`distributed`),
:mod:`summary` (forecasts -> JSON-able distribution), :mod:`sensitivity` (tornado and
Sobol). :func:`forecast_distribution` strings them together for ``tawazun forecast``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from tawazun.engines.base import EngineSpec, RangedProblem
from tawazun.uncertainty.distributed import ensemble_cluster
from tawazun.uncertainty.ensemble import DEFAULT_DRAWS, Ensemble, run_ensemble
from tawazun.uncertainty.sampling import BLOCK, DISTS, sample
from tawazun.uncertainty.summary import summarize

Anchors = Sequence[tuple[float, str]]


def forecast_distribution(
    ranged: RangedProblem,
    engine: str | EngineSpec,
    options: Any = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    dist: str = "triangular",
    workers: int = 1,
    scheduler: Any = None,
    anchors: Anchors | Mapping[str, Anchors] | None = None,
    progress: Any = None,
    bins: int = 40,
    chunk_size: int | None = None,
) -> tuple[Ensemble, dict[str, Any]]:
    """Run the ensemble and summarise it.

    One dimension: ``anchors`` is a list of ``(value, label)`` and the summary is one dict
    (see :func:`summarize`). Several dimensions (a space): ``anchors`` maps dimension id
    to its list and the summary maps dimension id to its dict. ``scheduler`` may be an
    address or a client from :func:`ensemble_cluster` (start a cluster once for many calls).
    """
    ens = run_ensemble(ranged, engine, options, draws=draws, seed=seed, dist=dist,
                       chunk_size=chunk_size, workers=workers, scheduler=scheduler,
                       progress=progress)
    dims = list(ranged.dims)

    def anchors_of(dim: str) -> Anchors:
        if anchors is None:
            return ()
        if isinstance(anchors, Mapping):
            return anchors.get(dim, ())
        return anchors

    per_dim = {
        dim: summarize(ens.forecast[:, j], float(ranged.lower[j]), float(ranged.upper[j]),
                       anchors_of(dim), bins=bins)
        for j, dim in enumerate(dims)
    }
    if len(dims) == 1:
        return ens, per_dim[dims[0]]
    return ens, per_dim


__all__ = [
    "BLOCK", "DEFAULT_DRAWS", "DISTS", "Ensemble", "ensemble_cluster", "forecast_distribution",
    "run_ensemble", "sample", "summarize",
]
