"""Asymmetric Nash bargaining solution over an issue's scale or a space of issues.

The forecast maximises the weighted Nash product

    N(x) = sum_i w_i * ln(u_i(x) - u_i(d))

over the points x of the scale box, among the points that leave every participating actor
strictly better off than the disagreement point d. See ``docs/models/nash.md`` for the
options and the decisions log.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np

from tawazun.engines.base import EngineResult, Problem, register

UTILITIES = ("euclidean", "cityblock", "quadratic")
WEIGHTS = ("capability", "capability_salience")
FALLBACKS = ("worst", "compromise", "lower", "upper")
_MAX_POINTS = 2_000_000  # evaluation points x actors per chunk


@dataclass(frozen=True)
class NashOptions:
    utility: str = "euclidean"  # u_i(x) = -sqrt(sum_k (s_ik (x_k - p_ik) / span_k)^2)
    weight: str = "capability"  # w_i = capability; "capability_salience": capability x mean salience
    disagreement: str = "worst"  # used only when the problem has no status quo
    min_gain: float = 1e-9  # an actor whose best possible gain over d is below this sits out
    grid: int = 1025  # coarse grid points per draw (spread over the dimensions)
    tolerance: float = 1e-9  # refinement stops when the step is below tolerance x span

    def validate(self) -> None:
        for name, allowed in (("utility", UTILITIES), ("weight", WEIGHTS),
                              ("disagreement", FALLBACKS)):
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"nash option {name}={value!r}: expected one of {', '.join(allowed)}")
        if self.grid < 3:
            raise ValueError("nash option grid must be >= 3")


def utility(x: np.ndarray, ideal: np.ndarray, sal: np.ndarray, kind: str) -> np.ndarray:
    """u[b, g, i] of points x (B, G, d) for actors with ideals (B, n, d), all normalised."""
    diff = x[:, :, None, :] - ideal[:, None, :, :]  # (B, G, n, d)
    s = sal[:, None, :, :]
    if kind == "euclidean":
        return -np.sqrt(((s * diff) ** 2).sum(axis=-1))
    if kind == "cityblock":
        return -(s * np.abs(diff)).sum(axis=-1)
    if kind == "quadratic":
        return -(s * diff * diff).sum(axis=-1)
    raise ValueError(f"unknown utility {kind!r}")


def _objective(x, ideal, sal, w, u_d, include, kind, min_gain):
    """Weighted Nash product (B, G); -inf where some participant does not gain."""
    gain = utility(x, ideal, sal, kind) - u_d[:, None, :]
    ok = (gain > 0.0) | ~include[:, None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(include[:, None, :], w[:, None, :] * np.log(np.where(ok, gain, 1.0)), 0.0)
    val = terms.sum(axis=-1)
    feasible = ok.all(axis=-1) & include.any(axis=-1)[:, None]
    return np.where(feasible, val, -np.inf)


def _best(x, ideal, sal, w, u_d, include, kind, min_gain):
    """Best of the candidate points x (B, G, d): (point (B, d), value (B,))."""
    b, g, d = x.shape
    n = ideal.shape[1]
    step = max(1, _MAX_POINTS // max(1, b * n))
    best_val = np.full(b, -np.inf)
    best_x = x[:, 0].copy()
    for lo in range(0, g, step):
        chunk = x[:, lo: lo + step]
        val = _objective(chunk, ideal, sal, w, u_d, include, kind, min_gain)
        k = np.argmax(val, axis=1)
        v = val[np.arange(b), k]
        better = v > best_val
        best_val = np.where(better, v, best_val)
        best_x = np.where(better[:, None], chunk[np.arange(b), k], best_x)
    return best_x, best_val


def disagreement_point(problem: Problem, kind: str) -> np.ndarray:
    """The status quo, or the documented fallback, on the problem's own scale (B, d)."""
    if problem.status_quo is not None:
        return problem.status_quo
    lo, hi = problem.lower[None, :], problem.upper[None, :]
    w = problem.capability[:, :, None] * problem.salience
    tot = w.sum(axis=1)
    mean = (w * problem.position).sum(axis=1) / np.where(tot > 0, tot, 1.0)
    mean = np.where(tot > 0, mean, problem.position.mean(axis=1))
    if kind == "compromise":
        return mean
    if kind == "lower":
        return np.broadcast_to(lo, mean.shape).copy()
    if kind == "upper":
        return np.broadcast_to(hi, mean.shape).copy()
    # worst: on each dimension, the end of the scale farther from the weighted mean
    return np.where(mean - lo >= hi - mean, lo, hi)


def _coarse_grid(d: int, total: int) -> np.ndarray:
    per = max(3, int(round(total ** (1.0 / d))))
    axes = [np.linspace(0.0, 1.0, per)] * d
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, d)


def solve(ideal, sal, w, dpt, o: NashOptions):
    """Everything normalised to [0, 1]^d. Returns (x (B, d), value (B,), include (B, n))."""
    b, n, d = ideal.shape
    u_d = utility(dpt[:, None, :], ideal, sal, o.utility)[:, 0]  # (B, n)
    best_gain = -u_d  # gain of an actor at its own ideal, where its utility is 0
    include = (best_gain > o.min_gain) & (w > 0)
    # Candidates: a coarse grid, d, every ideal, and points between d and each ideal.
    grid = np.broadcast_to(_coarse_grid(d, o.grid)[None], (b,) + _coarse_grid(d, o.grid).shape)
    ts = np.array([1e-3, 1e-2, 0.1, 0.25, 0.5, 0.75, 1.0])
    wsum = np.where(w.sum(1, keepdims=True) > 0, w.sum(1, keepdims=True), 1.0)
    centre = (w[:, :, None] * ideal).sum(1) / wsum
    targets = np.concatenate([ideal, centre[:, None, :]], axis=1)  # (B, n+1, d)
    rays = dpt[:, None, None, :] + ts[None, :, None, None] * (targets[:, None] - dpt[:, None, None, :])
    cands = np.concatenate([grid, dpt[:, None, :], rays.reshape(b, -1, d)], axis=1)
    x, val = _best(cands, ideal, sal, w, u_d, include, o.utility, o.min_gain)
    # Refine: a local grid of 5^d points (3^d beyond 2 dimensions), halving the step
    # whenever the centre is best. The objective is concave, so this climbs to the top.
    k = 2 if d <= 2 else 1
    offsets = np.array(list(itertools.product(range(-k, k + 1), repeat=d)), dtype=float)
    h = np.full(b, 1.0 / (max(3, int(round(o.grid ** (1.0 / d)))) - 1))
    for _ in range(400):
        live = np.isfinite(val) & (h > o.tolerance)
        if not live.any():
            break
        idx = np.flatnonzero(live)
        pts = np.clip(x[idx, None, :] + h[idx, None, None] * offsets[None], 0.0, 1.0)
        nx, nv = _best(pts, ideal[idx], sal[idx], w[idx], u_d[idx], include[idx],
                       o.utility, o.min_gain)
        improved = nv > val[idx]
        x[idx] = np.where(improved[:, None], nx, x[idx])
        val[idx] = np.where(improved, nv, val[idx])
        h[idx] = np.where(improved, h[idx], h[idx] / 2.0)
    agree = np.isfinite(val)
    x = np.where(agree[:, None], x, dpt)
    return x, val, include, agree


@register("nash", options=NashOptions, dynamic=False, max_dims=None,
          summary="asymmetric Nash bargaining solution, disagreement = status quo")
def nash(problem: Problem, options: NashOptions | None = None,
         rng: np.random.Generator | None = None) -> EngineResult:
    """Capability-weighted Nash bargaining solution over the scale box."""
    o = options or NashOptions()
    o.validate()
    lo = problem.lower
    span = np.where(problem.upper - lo > 0, problem.upper - lo, 1.0)
    ideal = (problem.position - lo) / span
    sal = np.clip(problem.salience, 0.0, None)
    cap = np.clip(problem.capability, 0.0, None)
    if o.weight == "capability_salience":
        w = cap * sal.mean(axis=-1)
    else:
        w = cap
    d_raw = disagreement_point(problem, o.disagreement)
    dpt = np.clip((d_raw - lo) / span, 0.0, 1.0)
    x, val, include, agree = solve(ideal, sal, w, dpt, o)
    u_x = utility(x[:, None, :], ideal, sal, o.utility)[:, 0]
    u_d = utility(dpt[:, None, :], ideal, sal, o.utility)[:, 0]
    forecast = x * span + lo
    diagnostics = {
        "agreement": agree,
        "disagreement": dpt * span + lo,
        "participating": include,
        "gain": u_x - u_d,
        "nash_product": val,
    }
    return EngineResult("nash", forecast, None, diagnostics, asdict(o))
