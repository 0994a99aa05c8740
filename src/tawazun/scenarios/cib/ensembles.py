"""Ensembles: matrices sampled from judgment ranges, each enumerated exactly."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

from tawazun.random import generator
from tawazun.scenarios.cib.search import enumerate_scenarios

# --------------------------------------------------------------------------- ensembles


def sample_triangular(
    low: np.ndarray, mode: np.ndarray, high: np.ndarray, draws: int, seed: int | None = 0, rounding: bool = True
) -> np.ndarray:
    """(draws, *shape) samples, triangular on [low, high] with peak at mode, seeded by SeedSequence.

    Entries with low == high are constant. ``rounding`` rounds to the nearest integer (half to
    even), keeping CIB's integer judgment scale.
    """
    low = np.asarray(low, dtype=float)
    mode = np.asarray(mode, dtype=float)
    high = np.asarray(high, dtype=float)
    if np.any(low > mode) or np.any(mode > high):
        raise ValueError("need low <= mode <= high")
    rng = generator(seed, "cib")
    u = rng.random((int(draws),) + low.shape)
    width = high - low
    safe = np.where(width > 0, width, 1.0)
    fc = (mode - low) / safe
    left = low + np.sqrt(u * safe * (mode - low))
    right = high - np.sqrt((1 - u) * safe * (high - mode))
    x = np.where(u < fc, left, right)
    x = np.where(width > 0, x, low)
    return np.rint(x) if rounding else x


@dataclass
class Ensemble:
    scenarios: np.ndarray  # (M, D) every scenario consistent (IC <= k) in at least one draw
    frequency: np.ndarray  # (M,) share of draws in which it is
    draws: int
    evaluated: int  # nodes over all draws


def ensemble(matrices: np.ndarray, counts: Iterable[int], tolerance: float = 0) -> Ensemble:
    """Enumerate each matrix of a batch (B, V, V); each scenario's frequency of consistency."""
    counts = np.asarray(list(counts), dtype=np.int64)
    mats = np.asarray(matrices, dtype=float)
    if mats.ndim == 2:
        mats = mats[None]
    tally: dict[tuple[int, ...], int] = {}
    nodes = 0
    for m in mats:
        res = enumerate_scenarios(m, counts, tolerance)
        nodes += res.evaluated
        for row in res.scenarios:
            key = tuple(int(x) for x in row)
            tally[key] = tally.get(key, 0) + 1
    keys = sorted(tally)
    s = np.array(keys, dtype=np.int64).reshape(-1, counts.size)
    f = np.array([tally[k] / len(mats) for k in keys])
    return Ensemble(s, f, len(mats), nodes)
