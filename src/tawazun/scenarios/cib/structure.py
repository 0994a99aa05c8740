"""CIB structure and evaluation: variant offsets, scenario spaces, impact balances, scores."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

_EPS = 1e-9  # slack in comparisons: exact for integer matrices, robust for sampled floats


# --------------------------------------------------------------------------- structure


def offsets_of(counts: Iterable[int]) -> np.ndarray:
    counts = np.asarray(list(counts), dtype=np.int64)
    if counts.ndim != 1 or counts.size == 0 or (counts < 1).any():
        raise ValueError("counts must be a non-empty 1-D array of positive ints")
    return np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)


def descriptor_of(counts: Iterable[int]) -> np.ndarray:
    counts = np.asarray(list(counts), dtype=np.int64)
    return np.repeat(np.arange(counts.size, dtype=np.int64), counts)


def clean_matrix(matrix: np.ndarray, counts: Iterable[int]) -> np.ndarray:
    """Float64 copy of ``matrix`` with every same-descriptor block set to 0."""
    counts = np.asarray(list(counts), dtype=np.int64)
    off = offsets_of(counts)
    c = np.array(matrix, dtype=np.float64, copy=True)
    v = int(off[-1])
    if c.shape != (v, v):
        raise ValueError(f"matrix must be ({v}, {v}) for variant counts {counts.tolist()}, got {c.shape}")
    for d in range(counts.size):
        c[off[d] : off[d + 1], off[d] : off[d + 1]] = 0.0
    return c


def n_scenarios(counts: Iterable[int]) -> int:
    total = 1
    for n in counts:
        total *= int(n)
    return total


def all_scenarios(counts: Iterable[int]) -> np.ndarray:
    """Every scenario (N, D), the last descriptor varying fastest."""
    counts = [int(n) for n in counts]
    grids = np.meshgrid(*[np.arange(n) for n in counts], indexing="ij")
    return np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)


# --------------------------------------------------------------------------- evaluation


def balances(matrix: np.ndarray, counts: Iterable[int], scenarios: np.ndarray) -> np.ndarray:
    """Impact balances (N, V) of a batch of scenarios (N, D) (or (V,) for one (D,))."""
    counts = np.asarray(list(counts), dtype=np.int64)
    c = clean_matrix(matrix, counts)
    s = np.asarray(scenarios, dtype=np.int64)
    single = s.ndim == 1
    s = np.atleast_2d(s)
    rows = offsets_of(counts)[:-1][None, :] + s
    out = c[rows].sum(axis=1)
    return out[0] if single else out


@dataclass
class Scores:
    """Per-scenario scores of a batch: all arrays have the batch axis first."""

    balances: np.ndarray  # (N, V)
    inconsistency: np.ndarray  # (N,)
    consistency: np.ndarray  # (N,)
    tis: np.ndarray  # (N,)
    gaps: np.ndarray  # (N, D): best balance - chosen balance, per descriptor


def evaluate(matrix: np.ndarray, counts: Iterable[int], scenarios: np.ndarray) -> Scores:
    counts = np.asarray(list(counts), dtype=np.int64)
    off = offsets_of(counts)
    s = np.atleast_2d(np.asarray(scenarios, dtype=np.int64))
    b = balances(matrix, counts, s)
    n, d = s.shape
    chosen = np.take_along_axis(b, off[:-1][None, :] + s, axis=1)  # (N, D)
    gaps = np.zeros((n, d))
    margin = np.full((n, d), np.inf)
    for j in range(d):
        block = b[:, off[j] : off[j + 1]]
        gaps[:, j] = block.max(axis=1) - chosen[:, j]
        if counts[j] > 1:
            other = block.copy()
            other[np.arange(n), s[:, j]] = -np.inf
            margin[:, j] = chosen[:, j] - other.max(axis=1)
    cv = margin.min(axis=1)
    cv[~np.isfinite(cv)] = 0.0
    return Scores(b, gaps.max(axis=1), cv, chosen.sum(axis=1), gaps)


def is_consistent(matrix: np.ndarray, counts: Iterable[int], scenario: np.ndarray, tolerance: float = 0) -> bool:
    return bool(evaluate(matrix, counts, scenario).inconsistency[0] <= tolerance + _EPS)


def brute_force(matrix: np.ndarray, counts: Iterable[int], tolerance: float = 0) -> np.ndarray:
    """Reference: every scenario with IC <= tolerance, in lexicographic order (small cases)."""
    s = all_scenarios(counts)
    sc = evaluate(matrix, counts, s)
    return s[sc.inconsistency <= tolerance + _EPS]
