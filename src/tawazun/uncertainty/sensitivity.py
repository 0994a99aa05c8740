"""Which inputs move the forecast: one-at-a-time tornado and Sobol variance indices.

* :func:`tornado`: every ranged input in turn is set to its low and to its high while
  all others stay at their mode; the forecast swing ``|f(high) - f(low)|`` ranks them.
  All ``1 + 2K`` cases go through the engine in one batched call.
* :func:`sobol`: first-order (S1) and total (ST) Sobol indices with bootstrap
  confidence intervals, through SALib (Saltelli/Sobol' sampling, Saltelli-Jansen
  estimators). The inputs are every ranged number with non-zero width; SALib samples
  the unit cube and each coordinate is mapped through the inverse CDF of the chosen
  distribution (triangular by default), so the indices apportion the variance of the
  same forecast distribution the Monte Carlo ensemble estimates.
  :func:`sobol_indices` is the model-agnostic wrapper (tested on Ishigami).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from tawazun.engines.base import RangedProblem
from tawazun.errors import InputError
from tawazun.random import generator, seed_int
from tawazun.uncertainty.ensemble import default_chunk_size, resolve_engine
from tawazun.uncertainty.sampling import check_ranges, input_names, inverse_cdf, unflatten

DEFAULT_SOBOL_N = 512
"""Default Sobol base sample size N (engine evaluations: N * (D + 2))."""


def input_label(actor: str, field: str, dim: str | None, multi_dim: bool) -> str:
    """Readable name of one ranged input, e.g. ``us-gov.position``."""
    base = field if not actor else f"{actor}.{field}"
    return f"{base}[{dim}]" if (multi_dim and dim is not None) else base


def _dim_index(ranged: RangedProblem, dim: str | int) -> int:
    if isinstance(dim, str):
        if dim not in ranged.dims:
            raise InputError(f"dimension {dim!r} is not one of: {', '.join(ranged.dims)}")
        return ranged.dims.index(dim)
    j = int(dim)
    if not 0 <= j < len(ranged.dims):
        raise InputError(f"dimension index {j} is out of range (0..{len(ranged.dims) - 1})")
    return j


def _evaluate(ranged: RangedProblem, spec: Any, opts: Any, values: np.ndarray, j: int,
              seed: int = 0, progress: Callable[[int, int], None] | None = None) -> np.ndarray:
    """Forecast of dimension ``j`` for each row of ``values`` (rows in flat layout),
    in batched engine calls of :func:`default_chunk_size` rows."""
    out = np.empty(values.shape[0])
    chunk = default_chunk_size(ranged)
    total = values.shape[0]
    for s in range(0, total, chunk):
        rows = values[s : s + chunk]
        rng = generator(seed, "sensitivity", s)
        res = spec.run(unflatten(ranged, rows), opts, rng)
        out[s : s + rows.shape[0]] = np.asarray(res.forecast, dtype=float).reshape(rows.shape[0], -1)[:, j]
        if progress is not None:
            progress(s + rows.shape[0], total)
    return out


# ------------------------------------------------------------------------ tornado


def tornado(ranged: RangedProblem, engine: Any, options: Any = None, dim: str | int = 0,
            include_zero: bool = False) -> list[dict[str, Any]]:
    """One-at-a-time swings, largest first.

    Each record: ``actor``, ``input`` (position, salience, capability, status_quo),
    ``dim``, ``label``, ``low``/``mode``/``high`` (the input's range), ``base`` (forecast at
    the modes), ``forecast_low``/``forecast_high`` (input at low / high) and ``swing``.
    Inputs with zero width are left out unless ``include_zero``.
    """
    spec, opts = resolve_engine(engine, options)
    j = _dim_index(ranged, dim)
    tri = check_ranges(ranged)
    names = input_names(ranged)
    k = tri.shape[1]
    cols = [c for c in range(k) if include_zero or tri[2, c] > tri[0, c]]
    rows = np.repeat(tri[1][None], 1 + 2 * len(cols), axis=0)
    for i, c in enumerate(cols):
        rows[1 + 2 * i, c] = tri[0, c]
        rows[2 + 2 * i, c] = tri[2, c]
    f = _evaluate(ranged, spec, opts, rows, j)
    base = float(f[0])
    multi = len(ranged.dims) > 1
    records = []
    for i, c in enumerate(cols):
        actor, fld, dname = names[c]
        flo, fhi = float(f[1 + 2 * i]), float(f[2 + 2 * i])
        records.append({
            "actor": actor, "input": fld, "dim": dname,
            "label": input_label(actor, fld, dname, multi),
            "low": float(tri[0, c]), "mode": float(tri[1, c]), "high": float(tri[2, c]),
            "base": base, "forecast_low": flo, "forecast_high": fhi,
            "swing": abs(fhi - flo),
        })
    records.sort(key=lambda r: (-r["swing"] if not math.isnan(r["swing"]) else math.inf, r["label"]))
    return records


# -------------------------------------------------------------------------- Sobol


@dataclass
class SobolResult:
    """First-order and total Sobol indices with confidence half-widths."""

    names: list[str]
    S1: np.ndarray
    S1_conf: np.ndarray
    ST: np.ndarray
    ST_conf: np.ndarray
    n: int  # base sample size (a power of two)
    evaluations: int
    seed: int
    conf_level: float
    dist: str = "uniform"
    meta: dict[str, Any] = field(default_factory=dict)

    def records(self) -> list[dict[str, Any]]:
        """One dict per input, largest total index first."""
        recs = [
            {"input": name, "S1": float(s1), "S1_conf": float(c1), "ST": float(st), "ST_conf": float(ct)}
            for name, s1, c1, st, ct in zip(self.names, self.S1, self.S1_conf, self.ST, self.ST_conf)
        ]
        recs.sort(key=lambda r: (-r["ST"] if not math.isnan(r["ST"]) else math.inf, r["input"]))
        return recs

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n, "evaluations": self.evaluations, "seed": self.seed,
            "conf_level": self.conf_level, "dist": self.dist, **self.meta,
            "indices": self.records(),
        }


def _power_of_two(n: int) -> int:
    n = int(n)
    if n < 2:
        raise InputError(f"Sobol sample size must be at least 2, got {n}")
    return 1 << (n - 1).bit_length()


def _bootstrap_seed(seed: int) -> int:
    """A non-zero seed for SALib's bootstrap, derived from ``seed``.

    SALib ignores a falsy seed (0) and then draws from NumPy's global generator, so the
    confidence intervals would change from run to run.
    """
    return seed_int(seed, "bootstrap") | 1


def sobol_indices(model: Callable[[np.ndarray], np.ndarray], names: Sequence[str], n: int = 1024,
                  seed: int = 0, conf_level: float = 0.95, num_resamples: int = 100
                  ) -> SobolResult:
    """Sobol S1/ST of ``model`` over the unit cube ``[0, 1]^D``.

    ``model`` takes a ``(M, D)`` array of points and returns ``(M,)`` outputs in one call.
    ``n`` is rounded up to a power of two; the model sees ``n * (D + 2)`` points.
    """
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import sobol as sobol_sample

    names = list(names)
    d = len(names)
    n = _power_of_two(n)
    if int(seed) < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}")
    if d == 0:
        empty = np.zeros(0)
        return SobolResult([], empty, empty, empty, empty, n, 0, int(seed), conf_level)
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        x = sobol_sample.sample(problem, n, calc_second_order=False, seed=int(seed))
    y = np.asarray(model(x), dtype=float).reshape(-1)
    if y.shape[0] != x.shape[0]:
        raise ValueError(f"model returned {y.shape[0]} values for {x.shape[0]} points")
    if np.isnan(y).any():
        raise InputError(f"Sobol analysis: the model gave NaN for {int(np.isnan(y).sum())} of "
                         f"{y.size} input points")
    if np.ptp(y) == 0:
        zeros = np.zeros(d)
        return SobolResult(names, zeros, zeros.copy(), zeros.copy(), zeros.copy(), n, int(y.size),
                           int(seed), conf_level, meta={"note": "the output does not vary"})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        si = sobol_analyze.analyze(problem, y, calc_second_order=False, num_resamples=num_resamples,
                                   conf_level=conf_level, seed=_bootstrap_seed(int(seed)))
    return SobolResult(names, np.asarray(si["S1"]), np.asarray(si["S1_conf"]), np.asarray(si["ST"]),
                       np.asarray(si["ST_conf"]), n, int(y.size), int(seed), conf_level)


def sobol(ranged: RangedProblem, engine: Any, options: Any = None, n: int = DEFAULT_SOBOL_N,
          seed: int = 0, dist: str = "triangular", dim: str | int = 0, conf_level: float = 0.95,
          num_resamples: int = 100, progress: Callable[[int, int], None] | None = None
          ) -> SobolResult:
    """Sobol indices of the engine's forecast on dimension ``dim`` over every ranged input.

    ``progress(done, total)`` is called after each batched engine call.
    """
    spec, opts = resolve_engine(engine, options)
    j = _dim_index(ranged, dim)
    tri = check_ranges(ranged)
    inverse_cdf(np.zeros((1, 1)), tri[:, :1], dist)  # validates dist early
    active = np.nonzero(tri[2] > tri[0])[0]
    names = input_names(ranged)
    multi = len(ranged.dims) > 1
    labels = [input_label(*names[c], multi) for c in active]

    def model(u: np.ndarray) -> np.ndarray:
        rows = np.repeat(tri[1][None], u.shape[0], axis=0)
        rows[:, active] = inverse_cdf(u, tri[:, active], dist)
        return _evaluate(ranged, spec, opts, rows, j, seed=int(seed), progress=progress)

    res = sobol_indices(model, labels, n=n, seed=seed, conf_level=conf_level,
                        num_resamples=num_resamples)
    res.dist = dist
    res.meta = {**res.meta, "engine": spec.name, "dim": ranged.dims[j]}
    return res
