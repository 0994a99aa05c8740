"""Draw batches of point problems from a :class:`RangedProblem`.

Every ranged number (each actor's position and salience per dimension, each actor's
capability, the status quo per dimension) is drawn independently from a distribution
on its ``{low, mode, high}``:

* ``triangular`` (default): the triangular distribution with those three points;
* ``pert``: the PERT distribution, a Beta on ``[low, high]`` with shape
  ``alpha = 1 + 4 (mode - low) / (high - low)``, ``beta = 1 + 4 (high - mode) / (high - low)``;
* ``uniform``: uniform on ``[low, high]`` (the mode is ignored).

A range with ``low == high`` yields exactly that number in every draw.

Reproducibility by blocks: draws are numbered 0, 1, 2, ... and grouped in blocks of
:data:`BLOCK` draws. Block ``k`` is generated from its own generator,
``tawazun.random.generator(seed, "block", k)``, always as one
full ``(BLOCK, K)`` matrix over all ``K`` ranged scalars (degenerate ones included, so
the layout never shifts). Draws ``[start, start + draws)`` are therefore identical
whether they are made in one call or in many, in this process or on another machine.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Literal

import numpy as np
from scipy import special

from tawazun.engines.base import Problem, RangedProblem
from tawazun.errors import InputError
from tawazun.random import generator

BLOCK = 1024
"""Draws per reproducibility block. Changing it changes every seeded stream."""

PERT_LAMBDA = 4.0
"""Weight of the mode in the PERT distribution (the classic value)."""

Dist = Literal["triangular", "pert", "uniform"]
DISTS: tuple[str, ...] = ("triangular", "pert", "uniform")


# ----------------------------------------------------------------------------- layout


def flat_ranges(ranged: RangedProblem) -> np.ndarray:
    """All ranged scalars as a ``(3, K)`` array (low, mode, high).

    Column order: position (actor-major, then dimension), salience (same order),
    capability (per actor), status quo (per dimension; absent when there is none).
    """
    n, d = len(ranged.actors), len(ranged.dims)
    parts = [
        np.asarray(ranged.position, dtype=float).reshape(3, n * d),
        np.asarray(ranged.salience, dtype=float).reshape(3, n * d),
        np.asarray(ranged.capability, dtype=float).reshape(3, n),
    ]
    if ranged.status_quo is not None:
        parts.append(np.asarray(ranged.status_quo, dtype=float).reshape(3, d))
    return np.concatenate(parts, axis=1)


def input_names(ranged: RangedProblem) -> list[tuple[str, str, str | None]]:
    """One ``(actor, field, dim)`` per column of :func:`flat_ranges`.

    ``field`` is ``position``, ``salience``, ``capability`` or ``status_quo``; ``dim``
    is ``None`` for capability; ``actor`` is ``""`` for the status quo.
    """
    names: list[tuple[str, str, str | None]] = []
    for field in ("position", "salience"):
        names += [(a, field, x) for a in ranged.actors for x in ranged.dims]
    names += [(a, "capability", None) for a in ranged.actors]
    if ranged.status_quo is not None:
        names += [("", "status_quo", x) for x in ranged.dims]
    return names


def unflatten(ranged: RangedProblem, values: np.ndarray) -> Problem:
    """Inverse of the :func:`flat_ranges` layout: ``(B, K)`` values -> a batched Problem."""
    n, d = len(ranged.actors), len(ranged.dims)
    b = values.shape[0]
    nd = n * d
    pos = values[:, :nd].reshape(b, n, d)
    sal = values[:, nd : 2 * nd].reshape(b, n, d)
    cap = values[:, 2 * nd : 2 * nd + n]
    sq = values[:, 2 * nd + n : 2 * nd + n + d] if ranged.status_quo is not None else None
    return Problem(
        actors=tuple(ranged.actors),
        dims=tuple(ranged.dims),
        position=pos,
        salience=sal,
        capability=cap,
        lower=ranged.lower,
        upper=ranged.upper,
        status_quo=sq,
    )


def check_ranges(ranged: RangedProblem) -> np.ndarray:
    """:func:`flat_ranges` after checking ``low <= mode <= high`` and finiteness."""
    tri = flat_ranges(ranged)
    if not np.all(np.isfinite(tri)):
        raise InputError("ranged problem: every low/mode/high must be a finite number")
    bad = np.nonzero((tri[0] > tri[1]) | (tri[1] > tri[2]))[0]
    if bad.size:
        names = input_names(ranged)
        lines = []
        for j in bad[:10]:
            actor, field, dim = names[j]
            where = ".".join(p for p in (actor, field, dim) if p)
            lines.append(
                f"ranged problem: {where}: needs low <= mode <= high, got "
                f"{tri[0, j]:g} / {tri[1, j]:g} / {tri[2, j]:g}"
            )
        raise InputError(lines)
    return tri


def _check_dist(dist: str) -> str:
    if dist not in DISTS:
        raise InputError(f"distribution {dist!r} is not one of: {', '.join(DISTS)}")
    return dist


# ------------------------------------------------------------------- distributions


def pert_shapes(low: np.ndarray, mode: np.ndarray, high: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """PERT Beta shapes (alpha, beta); 1, 1 where the range has zero width."""
    width = high - low
    safe = np.where(width > 0, width, 1.0)
    alpha = np.where(width > 0, 1.0 + PERT_LAMBDA * (mode - low) / safe, 1.0)
    beta = np.where(width > 0, 1.0 + PERT_LAMBDA * (high - mode) / safe, 1.0)
    return alpha, beta


def inverse_cdf(u: np.ndarray, tri: np.ndarray, dist: str = "triangular") -> np.ndarray:
    """Map uniforms ``u`` (..., K) in [0, 1] to values through the inverse CDF.

    ``tri`` is (3, K): low, mode, high per column. Zero-width columns give the point
    exactly. Used by the Sobol analysis (quasi-random points in the unit cube).
    """
    _check_dist(dist)
    low, mode, high = (np.asarray(t, dtype=float) for t in tri)
    u = np.clip(np.asarray(u, dtype=float), 0.0, 1.0)
    width = high - low
    if dist == "uniform":
        x = low + u * width
    elif dist == "triangular":
        safe = np.where(width > 0, width, 1.0)
        fc = np.where(width > 0, (mode - low) / safe, 0.5)
        left = low + np.sqrt(u * width * (mode - low))
        right = high - np.sqrt((1.0 - u) * width * (high - mode))
        x = np.where(u < fc, left, right)
    else:  # pert
        alpha, beta = pert_shapes(low, mode, high)
        x = low + width * special.betaincinv(alpha, beta, u)
    x = np.clip(x, low, high)
    return np.where(width > 0, x, mode)


def moments(low: float, mode: float, high: float, dist: str = "triangular") -> tuple[float, float]:
    """Theoretical mean and variance of one ranged number (see docs/uncertainty.md)."""
    _check_dist(dist)
    a, c, b = float(low), float(mode), float(high)
    if dist == "uniform":
        return (a + b) / 2.0, (b - a) ** 2 / 12.0
    if dist == "triangular":
        mean = (a + b + c) / 3.0
        var = (a * a + b * b + c * c - a * b - a * c - b * c) / 18.0
        return mean, var
    if b == a:
        return a, 0.0
    alpha, beta = pert_shapes(np.array(a), np.array(c), np.array(b))
    alpha, beta = float(alpha), float(beta)
    mean = (a + PERT_LAMBDA * c + b) / (PERT_LAMBDA + 2.0)
    var = alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1.0)) * (b - a) ** 2
    return mean, var


_CACHE: "OrderedDict[tuple, np.ndarray]" = OrderedDict()
_CACHE_SIZE = 4


def _block(tri: np.ndarray, seed: int, k: int, dist: str) -> np.ndarray:
    """Block ``k``: a full ``(BLOCK, K)`` matrix of draws (a few recent blocks are cached,
    so consecutive chunks that share a block do not generate it twice)."""
    key = (tri.tobytes(), tri.shape, seed, k, dist)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    rng = generator(seed, "block", k)
    low, mode, high = tri
    width = high - low
    kdim = tri.shape[1]
    if dist == "pert":
        alpha, beta = pert_shapes(low, mode, high)
        x = low + width * rng.beta(alpha, beta, size=(BLOCK, kdim))
        x = np.where(width > 0, np.clip(x, low, high), mode)
    else:
        x = inverse_cdf(rng.random((BLOCK, kdim)), tri, dist)
    x.setflags(write=False)
    _CACHE[key] = x
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return x


def sample_flat(
    ranged: RangedProblem, draws: int, seed: int, *, dist: str = "triangular", start: int = 0
) -> np.ndarray:
    """Draws ``[start, start + draws)`` as a ``(draws, K)`` matrix in :func:`flat_ranges` order."""
    _check_dist(dist)
    draws, start, seed = int(draws), int(start), int(seed)
    if draws < 0 or start < 0:
        raise ValueError("draws and start must be >= 0")
    if seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}")
    tri = check_ranges(ranged)
    out = np.empty((draws, tri.shape[1]))
    if draws == 0:
        return out
    first, last = start // BLOCK, (start + draws - 1) // BLOCK
    for k in range(first, last + 1):
        block = _block(tri, seed, k, dist)
        lo = max(start, k * BLOCK)
        hi = min(start + draws, (k + 1) * BLOCK)
        out[lo - start : hi - start] = block[lo - k * BLOCK : hi - k * BLOCK]
    return out


def sample(
    ranged: RangedProblem, draws: int, seed: int, *, dist: str = "triangular", start: int = 0
) -> Problem:
    """A batched :class:`Problem` holding draws ``[start, start + draws)`` of ``ranged``."""
    return unflatten(ranged, sample_flat(ranged, draws, seed, dist=dist, start=start))
