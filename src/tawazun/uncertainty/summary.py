"""Summarise a forecast distribution on one issue's scale.

Bands: the scale's labelled anchors ``(value, label)`` are sorted by value; anchor k
owns ``[midpoint(k-1, k), midpoint(k, k+1))``, the first band starting at the scale
minimum and the last ending at the scale maximum, inclusive. A draw that falls outside
``[min, max]`` (an engine should not produce one) is counted in the nearest end band.
Draws that are NaN (e.g. every weight zero) are left out and counted as ``invalid``.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

QUANTILES = (5, 10, 25, 50, 75, 90, 95)
"""Reported percentiles."""


def band_edges(lower: float, upper: float, anchors: Sequence[tuple[float, str]]
               ) -> list[tuple[str, float, float]]:
    """``(label, low, high)`` per anchor band, in increasing order of value."""
    lower, upper = float(lower), float(upper)
    pts = sorted(((float(v), str(lab)) for v, lab in anchors), key=lambda t: t[0])
    out = []
    for k, (value, label) in enumerate(pts):
        lo = lower if k == 0 else 0.5 * (pts[k - 1][0] + value)
        hi = upper if k == len(pts) - 1 else 0.5 * (value + pts[k + 1][0])
        out.append((label, max(lo, lower), min(hi, upper)))
    return out


def band_probabilities(values: np.ndarray, lower: float, upper: float,
                       anchors: Sequence[tuple[float, str]]) -> list[dict[str, Any]]:
    """Probability of landing in each anchor band (see the module docstring)."""
    v = np.asarray(values, dtype=float).ravel()
    v = v[~np.isnan(v)]
    bands = band_edges(lower, upper, anchors)
    if not bands:
        return []
    inner = np.array([b[1] for b in bands[1:]])  # left edges of bands 1..K-1
    # searchsorted(side="right"): a draw equal to a boundary belongs to the band above.
    idx = np.searchsorted(inner, v, side="right")
    counts = np.bincount(idx, minlength=len(bands))
    total = v.size
    return [
        {"label": label, "low": lo, "high": hi,
         "probability": float(counts[k] / total) if total else 0.0}
        for k, (label, lo, hi) in enumerate(bands)
    ]


def summarize(values: np.ndarray, lower: float, upper: float,
              anchors: Sequence[tuple[float, str]] = (), bins: int = 40) -> dict[str, Any]:
    """JSON-able summary of ``values`` (N,) on the scale ``[lower, upper]``.

    Keys: draws, invalid, mean, sd, quantiles {"5": ..}, bands [{label, low, high,
    probability}], histogram {edges, counts} (``bins`` equal bins over [lower, upper]).
    """
    v = np.asarray(values, dtype=float).ravel()
    ok = v[~np.isnan(v)]
    lower, upper = float(lower), float(upper)
    edges = np.linspace(lower, upper, int(bins) + 1)
    if ok.size:
        counts, _ = np.histogram(np.clip(ok, lower, upper), bins=edges)
        q = np.percentile(ok, QUANTILES)
        mean = float(ok.mean())
        sd = float(ok.std(ddof=1)) if ok.size > 1 else 0.0
        quant = {str(p): float(x) for p, x in zip(QUANTILES, q)}
    else:
        counts = np.zeros(int(bins), dtype=int)
        mean = sd = None
        quant = {str(p): None for p in QUANTILES}
    return {
        "draws": int(v.size),
        "invalid": int(v.size - ok.size),
        "mean": mean,
        "sd": sd,
        "quantiles": quant,
        "bands": band_probabilities(ok, lower, upper, anchors),
        "histogram": {"edges": [float(e) for e in edges], "counts": [int(c) for c in counts]},
    }
