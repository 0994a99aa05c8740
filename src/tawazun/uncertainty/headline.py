"""What a forecast headlines, and when to warn that it is unstable.

The rule (docs/uncertainty.md, "Headline forecasts"): with Monte Carlo draws, the headline is
the **median of the draws**, shown beside the run with every range at its mode ("at modes");
without draws it is the run at the modes. The median always lies inside the 80 % interval, so
a headline never contradicts its own interval. A result is flagged **unstable**, with one line
saying why, when any of these holds:

* ``modes-outside`` — the run at the modes falls outside the draws' 80 % interval: a small
  move of the inputs changes the answer, so the single run is not a typical outcome;
* ``multimodal`` — the draws form separate clusters (two or more peaks of the smoothed
  histogram, each holding at least ``MIN_PEAK_MASS`` of the draws, with a valley below
  ``VALLEY_RATIO`` of the lower peak between them): the median may sit between outcomes;
* ``split`` — the labelled outcome is a toss-up: the second most likely labelled band has at
  least ``SPLIT_PROBABILITY`` of the draws.
"""

from __future__ import annotations

from typing import Any

import numpy as np

MIN_PEAK_MASS = 0.10
VALLEY_RATIO = 0.5
SPLIT_PROBABILITY = 0.30
RULE_DRAWS = "median of the draws"
RULE_MODES = "run at the modes (no draws)"


def _clusters(counts: list[int], edges: list[float]) -> list[tuple[float, float]]:
    """(centre, mass share) of each well-separated peak of a histogram."""
    c = np.asarray(counts, dtype=float)
    total = c.sum()
    if total <= 0 or c.size < 3:
        return []
    # light smoothing so that sampling noise in a bin does not make a peak
    s = np.convolve(np.pad(c, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")
    peaks = [k for k in range(s.size)
             if s[k] > 0 and (k == 0 or s[k] > s[k - 1]) and (k == s.size - 1 or s[k] >= s[k + 1])]
    if not peaks:
        return []
    # merge neighbouring peaks unless the valley between them is deep enough
    groups: list[list[int]] = [[peaks[0]]]
    for k in peaks[1:]:
        prev = groups[-1]
        top_prev = max(prev, key=lambda i: s[i])
        valley = s[top_prev:k + 1].min()
        if valley <= VALLEY_RATIO * min(s[top_prev], s[k]):
            groups.append([k])
        else:
            prev.append(k)
    # each group's region runs to the lowest point between it and its neighbours
    tops = [max(g, key=lambda i: s[i]) for g in groups]
    cuts = [0] + [int(a + np.argmin(s[a:b + 1])) for a, b in zip(tops, tops[1:])] + [s.size]
    out = []
    mids = 0.5 * (np.asarray(edges[:-1]) + np.asarray(edges[1:]))
    for top, lo, hi in zip(tops, cuts, cuts[1:]):
        out.append((float(mids[top]), float(c[lo:hi].sum() / total)))
    return out


def assess(point: float, summary: dict[str, Any] | None) -> dict[str, Any]:
    """The headline of one result on one issue: ``{value, at_modes, rule, unstable, flags,
    note}``; ``flags`` are ``{code, message}`` and ``note`` is the first message (or None)."""
    point = float(point)
    if not summary or summary.get("quantiles", {}).get("50") is None:
        return {"value": point, "at_modes": point, "rule": RULE_MODES, "unstable": None,
                "flags": [], "note": None}
    q = summary["quantiles"]
    q10, q50, q90 = float(q["10"]), float(q["50"]), float(q["90"])
    flags: list[dict[str, str]] = []
    if point < q10 or point > q90:
        flags.append({"code": "modes-outside",
                      "message": f"the run at the modes ({point:.1f}) lies outside the 80% interval "
                                 f"({q10:.1f}–{q90:.1f}) of the draws"})
    hist = summary.get("histogram") or {}
    big = [(x, m) for x, m in _clusters(hist.get("counts", []), hist.get("edges", [])) if m >= MIN_PEAK_MASS]
    if len(big) >= 2:
        where = " and ".join(f"{x:.0f} ({m:.0%})" for x, m in sorted(big, key=lambda t: -t[1])[:3])
        flags.append({"code": "multimodal",
                      "message": f"the draws form {len(big)} separate clusters, around {where}"})
    bands = sorted(summary.get("bands") or [], key=lambda b: -b["probability"])
    if len(bands) >= 2 and bands[1]["probability"] >= SPLIT_PROBABILITY:
        flags.append({"code": "split",
                      "message": f"the labelled outcome is split: P({bands[0]['label']}) = "
                                 f"{bands[0]['probability']:.0%}, P({bands[1]['label']}) = "
                                 f"{bands[1]['probability']:.0%}"})
    return {"value": q50, "at_modes": point, "rule": RULE_DRAWS, "unstable": bool(flags),
            "flags": flags, "note": flags[0]["message"] if flags else None}
