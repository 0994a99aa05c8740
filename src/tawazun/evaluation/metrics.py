"""Scores for point forecasts and predictive distributions, and a grouped bootstrap.

Conventions: ``y`` (N,) outcomes; ``pred`` (N,) point forecasts; ``samples`` (N, m) an
equally weighted ensemble per case (a predictive distribution given as m atoms).

CRPS(F, y) = E|X - y| - 1/2 E|X - X'| with X, X' independent draws from F. For an
ensemble this is exact (``crps_ensemble``: sorted form, O(m log m)); for a normal
N(mu, s^2) it has the closed form
    CRPS = s * ( z (2 Phi(z) - 1) + 2 phi(z) - 1/sqrt(pi) ),  z = (y - mu) / s.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from tawazun.random import generator


def _arr(x) -> np.ndarray:
    return np.asarray(x, dtype=float)


def errors(pred, y) -> np.ndarray:
    return _arr(pred) - _arr(y)


def mae(pred, y) -> float:
    return float(np.mean(np.abs(errors(pred, y))))


def rmse(pred, y) -> float:
    return float(np.sqrt(np.mean(errors(pred, y) ** 2)))


def within(pred, y, k: float = 10.0) -> float:
    """Share of cases with |forecast - outcome| <= k (inclusive)."""
    return float(np.mean(np.abs(errors(pred, y)) <= k + 1e-9))


def _samples2d(samples, n: int) -> np.ndarray:
    s = _arr(samples)
    if s.ndim == 1:
        s = np.broadcast_to(s, (n, s.size))
    if s.shape[0] != n:
        raise ValueError(f"samples have {s.shape[0]} rows for {n} outcomes")
    return s


def crps_ensemble(samples, y) -> np.ndarray:
    """Exact CRPS of the equally weighted ensemble, per case. samples (N, m) or (m,)."""
    y = np.atleast_1d(_arr(y))
    s = np.sort(_samples2d(samples, y.size), axis=1)
    m = s.shape[1]
    term1 = np.mean(np.abs(s - y[:, None]), axis=1)
    # E|X - X'| = 2/m^2 * sum_i (2i - m - 1) x_(i), i = 1..m
    coef = 2.0 * np.arange(1, m + 1) - m - 1
    term2 = 2.0 / (m * m) * (s @ coef)
    return term1 - 0.5 * term2


def crps_ensemble_naive(samples, y) -> np.ndarray:
    """Same quantity by the O(m^2) double sum (for tests and small m)."""
    y = np.atleast_1d(_arr(y))
    s = _samples2d(samples, y.size)
    term1 = np.mean(np.abs(s - y[:, None]), axis=1)
    term2 = np.mean(np.abs(s[:, :, None] - s[:, None, :]), axis=(1, 2))
    return term1 - 0.5 * term2


def crps_normal(mu, sigma, y) -> np.ndarray:
    """Closed-form CRPS of N(mu, sigma^2) at y (Gneiting & Raftery 2007, eq. 21)."""
    mu, sigma, y = np.broadcast_arrays(_arr(mu), _arr(sigma), _arr(y))
    z = (y - mu) / sigma
    return sigma * (z * (2 * stats.norm.cdf(z) - 1) + 2 * stats.norm.pdf(z) - 1 / math.sqrt(math.pi))


def ensemble_quantile(samples, q: float) -> np.ndarray:
    """Quantile of the empirical distribution (inverse CDF, no interpolation)."""
    return np.quantile(_arr(samples), q, axis=-1, method="inverted_cdf")


def central_interval(samples, level: float) -> tuple[np.ndarray, np.ndarray]:
    a = (1.0 - level) / 2.0
    return ensemble_quantile(samples, a), ensemble_quantile(samples, 1.0 - a)


def coverage(samples, y, level: float) -> float:
    """Share of outcomes inside the closed central ``level`` interval of their ensemble."""
    y = np.atleast_1d(_arr(y))
    lo, hi = central_interval(_samples2d(samples, y.size), level)
    return float(np.mean((y >= lo - 1e-9) & (y <= hi + 1e-9)))


def pit(samples, y, rng: np.random.Generator) -> np.ndarray:
    """Randomised probability integral transform: F(y-) + U (F(y) - F(y-)).

    Uniform on [0, 1] for a calibrated forecast even when the predictive distribution
    or the outcome has atoms (DEU outcomes are often exactly 0, 50 or 100).
    """
    y = np.atleast_1d(_arr(y))
    s = _samples2d(samples, y.size)
    below = np.mean(s < y[:, None] - 1e-9, axis=1)
    at_or_below = np.mean(s <= y[:, None] + 1e-9, axis=1)
    return below + rng.random(y.size) * (at_or_below - below)


def coverage_curve(samples, y, levels) -> list[float]:
    return [coverage(samples, y, lv) for lv in levels]


def bootstrap_mean(values, groups, *, n_boot: int = 2000, seed: int = 0,
                   level: float = 0.95) -> dict:
    """Mean of ``values`` with a percentile interval from resampling whole groups.

    Each replicate draws as many groups as there are, with replacement, and takes the
    mean over all cases of the drawn groups (a case-weighted mean, as the point
    estimate). Same seed, same interval.
    """
    v = _arr(values)
    g = np.asarray(groups)
    labels, inv = np.unique(g, return_inverse=True)
    k = labels.size
    sums = np.bincount(inv, weights=v, minlength=k)
    counts = np.bincount(inv, minlength=k).astype(float)
    rng = generator(seed, "score-bootstrap")
    draws = rng.integers(0, k, size=(n_boot, k))
    mult = np.zeros((n_boot, k))
    np.add.at(mult, (np.repeat(np.arange(n_boot), k), draws.ravel()), 1.0)
    reps = (mult @ sums) / (mult @ counts)
    a = (1.0 - level) / 2.0
    lo, hi = np.quantile(reps, [a, 1.0 - a])
    return {"mean": float(v.mean()), "lo": float(lo), "hi": float(hi),
            "n_groups": int(k), "n_boot": int(n_boot), "seed": int(seed)}
