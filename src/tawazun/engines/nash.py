"""Asymmetric Nash bargaining solution over an issue's scale or a space of issues.

The forecast maximises the weighted Nash product

    N(x) = sum_i w_i * ln(u_i(x) - u_i(d))

over the points x of the scale box, among the points that leave every participating actor
strictly better off than the disagreement point d. In one and two dimensions a compiled
optimiser finds the maximum exactly (``solve_compiled``); ``nash_reference`` and
``solve_reference`` keep the original NumPy grid search, the definition it is tested
against and the path beyond two dimensions. See ``docs/models/nash.md`` for the options,
the method and the decisions log.
"""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import numpy as np
from numba import njit

from tawazun.engines.base import EngineResult, Problem, register
from tawazun.engines.threads import compile_once, default_threads, fan_out

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
    tolerance: float = 1e-9  # the maximiser is found to within tolerance x span

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


_RAY_FRACTIONS = (1e-3, 1e-2, 0.1, 0.25, 0.5, 0.75, 1.0)


def _candidates(ideal, w, dpt, o: NashOptions):
    """The start candidates both optimisers share: the coarse grid (G, d), the fractions
    along the rays (T,) and the ray targets (B, n + 1, d): every ideal, then the
    w-weighted centre of the ideals."""
    wsum = np.where(w.sum(1, keepdims=True) > 0, w.sum(1, keepdims=True), 1.0)
    centre = (w[:, :, None] * ideal).sum(1) / wsum
    targets = np.concatenate([ideal, centre[:, None, :]], axis=1)
    return _coarse_grid(ideal.shape[2], o.grid), np.array(_RAY_FRACTIONS), targets


def _participants(ideal, sal, w, dpt, o: NashOptions):
    """u_i(d) (B, n) and who takes part (B, n)."""
    u_d = utility(dpt[:, None, :], ideal, sal, o.utility)[:, 0]
    best_gain = -u_d  # gain of an actor at its own ideal, where its utility is 0
    return u_d, (best_gain > o.min_gain) & (w > 0)


def solve_reference(ideal, sal, w, dpt, o: NashOptions):
    """The reference optimiser (NumPy, any d): candidates, then a shrinking local grid.

    Everything normalised to [0, 1]^d. Returns (x (B, d), value (B,), include (B, n), agree (B,)).
    """
    b, n, d = ideal.shape
    u_d, include = _participants(ideal, sal, w, dpt, o)
    # Candidates: a coarse grid, d, every ideal, and points between d and each ideal.
    grid0, ts, targets = _candidates(ideal, w, dpt, o)
    grid = np.broadcast_to(grid0[None], (b,) + grid0.shape)
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


# ---------------------------------------------------------------------------------------
# The compiled optimiser (1 and 2 dimensions). Per draw:
#  1. Agreement is decided on the reference's own candidates (rays from d, then the coarse
#     grid), stopping at the first feasible one: "some candidate leaves every participant
#     strictly better off", exactly the reference's test. In one dimension a participant on
#     each side of d is proof that none is (every move hurts one of them), so the scan is
#     skipped then.
#  2. N is concave; it is maximised exactly rather than by search. Over one coordinate t
#     (the other held) the feasible points form an interval, known in closed form for each
#     utility; N' is decreasing on it and runs from +inf to -inf at its open ends, so its
#     root is bracketed and found by Newton steps that fall back to bisection when they
#     leave the bracket or stop halving (safe at the kinks of |.|).
#  3. In two dimensions, where N is smooth (Euclidean, quadratic), damped Newton ascent
#     from that start; where it stalls (a top at or next to an ideal, the tip of a cone)
#     or N has kink lines (city-block), the outer coordinate maximises
#     phi(x1) = max_t N(x1, t), concave too, whose slope is dN/dx1 at (x1, t*(x1)) and
#     curvature N11 - N12^2 / N22: the same root finder, each step solving step 2 on t.
# ---------------------------------------------------------------------------------------

_KINDS = {"euclidean": 0, "cityblock": 1, "quadratic": 2}
_MAX_ITER = 200
_NEWTON_ITER = 40
_QUADRATIC = 1e-3  # Newton decrement below which the full step is taken unchecked
_DECREMENT = 1e-8  # Newton decrement below which a step under the tolerance is the top
_START_TOL = 1e-3  # how exactly the line searches that place Newton's start are solved


@njit(cache=True, nogil=True, error_model="numpy")
def _gain(p, s, ud, kind, x):
    """u(x) - u(d) of one actor, with the same operations as :func:`utility`."""
    acc = 0.0
    for k in range(x.shape[0]):
        diff = x[k] - p[k]
        if kind == 0:
            v = s[k] * diff
            acc += v * v
        elif kind == 1:
            acc += s[k] * abs(diff)
        else:
            acc += s[k] * diff * diff
    if kind == 0:
        return -np.sqrt(acc) - ud
    return -acc - ud


@njit(cache=True, nogil=True, error_model="numpy")
def _feasible(ideal, sal, ud, inc, kind, x):
    """Every participant strictly gains at x (the reference's finite-N test)."""
    for i in range(ideal.shape[0]):
        if inc[i] and not _gain(ideal[i], sal[i], ud[i], kind, x) > 0.0:
            return False
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _derivs(ideal, sal, w, ud, inc, kind, x, out):
    """Gradient and Hessian of N at x into out = (g0, g1, h00, h11, h01); False where some
    participant does not gain (x outside the feasible set)."""
    two = x.shape[0] == 2
    x0 = x[0]
    x1 = x[1] if two else 0.0
    g0 = g1 = h00 = h11 = h01 = 0.0
    for i in range(ideal.shape[0]):
        if not inc[i]:
            continue
        d0 = x0 - ideal[i, 0]
        d1 = x1 - ideal[i, 1] if two else 0.0
        s0 = sal[i, 0]
        s1 = sal[i, 1] if two else 0.0
        # u_i, its first and second derivatives (u as in _gain, operation for operation)
        if kind == 0:
            v0 = s0 * d0
            v1 = s1 * d1
            a0 = v0 * v0
            a1 = v1 * v1
            r = np.sqrt(a0 + a1)
            u = -r
            if r > 0.0:
                ir = 1.0 / r
                ir3 = ir * ir * ir
                u0 = -s0 * v0 * ir
                u1 = -s1 * v1 * ir
                u00 = -s0 * s0 * a1 * ir3
                u11 = -s1 * s1 * a0 * ir3
                u01 = s0 * s1 * v0 * v1 * ir3
            else:  # at the ideal: the cone's apex (never used: see _off_kinks)
                u0 = u1 = u00 = u11 = u01 = 0.0
        elif kind == 1:
            u = -(s0 * abs(d0) + s1 * abs(d1)) if two else -(s0 * abs(d0))
            u0 = -s0 * np.sign(d0)
            u1 = -s1 * np.sign(d1)
            u00 = u11 = u01 = 0.0
        else:
            u = -(s0 * d0 * d0 + s1 * d1 * d1) if two else -(s0 * d0 * d0)
            u0 = -2.0 * s0 * d0
            u1 = -2.0 * s1 * d1
            u00 = -2.0 * s0
            u11 = -2.0 * s1
            u01 = 0.0
        g = u - ud[i]
        if not g > 0.0:
            return False
        ig = 1.0 / g
        wg = w[i] * ig
        q0 = u0 * ig
        q1 = u1 * ig
        g0 += wg * u0
        g1 += wg * u1
        h00 += wg * (u00 - u0 * q0)
        h11 += wg * (u11 - u1 * q1)
        h01 += wg * (u01 - u0 * q1)
    out[0] = g0
    out[1] = g1
    out[2] = h00
    out[3] = h11
    out[4] = h01
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _slice(ideal, sal, ud, inc, kind, x, k, lims):
    """The open interval of x[k] (other coordinates held) where every participant gains,
    cut to [0, 1]: lims = (lo, hi, lo is the box's end, hi is the box's end). False if empty."""
    d = x.shape[0]
    lo, hi = 0.0, 1.0
    lo_box = hi_box = 1.0
    for i in range(ideal.shape[0]):
        if not inc[i]:
            continue
        bound = -ud[i]  # the actor's best gain, u_i(ideal) - u_i(d)
        rest = 0.0  # what the held coordinates already cost it
        for j in range(d):
            if j != k:
                diff = x[j] - ideal[i, j]
                if kind == 0:
                    v = sal[i, j] * diff
                    rest += v * v
                elif kind == 1:
                    rest += sal[i, j] * abs(diff)
                else:
                    rest += sal[i, j] * diff * diff
        s = sal[i, k]
        if kind == 0:
            m = bound * bound - rest
        else:
            m = bound - rest
        if not m > 0.0:
            return False
        if s <= 0.0:
            continue  # this coordinate does not matter to the actor
        if kind == 0:
            rho = np.sqrt(m) / s
        elif kind == 1:
            rho = m / s
        else:
            rho = np.sqrt(m / s)
        a = ideal[i, k] - rho
        b = ideal[i, k] + rho
        if a >= lo:
            lo = a
            lo_box = 0.0
        if b <= hi:
            hi = b
            hi_box = 0.0
    if not lo < hi:
        return False
    lims[0] = lo
    lims[1] = hi
    lims[2] = lo_box
    lims[3] = hi_box
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _off_kinks(ideal, k, v, a, b, delta):
    """v, moved by delta towards the middle of (a, b) while it sits exactly on some ideal's
    k-th coordinate. There |.| has no derivative (N has a kink, or a cone's apex), and a
    one-sided slope taken as a derivative could point the root finder the wrong way.
    Positions such as 50 on a 0-100 scale do land on bisection points exactly."""
    for _ in range(16):
        hit = False
        for i in range(ideal.shape[0]):
            if ideal[i, k] == v:
                hit = True
                break
        if not hit:
            return v
        v = v + delta if v < 0.5 * (a + b) else v - delta
    return v


@njit(cache=True, nogil=True, error_model="numpy")
def _kink_in(ideal, inc, k, a, b):
    """A participant's ideal coordinate in [a, b], else nan. When the bracket of the root of
    N' has shrunk to the tolerance without a Newton step landing, N' jumps there: the top
    is the kink itself, which is returned exactly rather than to within the tolerance."""
    for i in range(ideal.shape[0]):
        if inc[i] and a <= ideal[i, k] <= b:
            return ideal[i, k]
    return np.nan


@njit(cache=True, nogil=True, error_model="numpy")
def _inner(ideal, sal, w, ud, inc, kind, x, k, t0, tol, lims, der, info):
    """Maximise N over x[k] with the other coordinate held; x[k] is left at the maximiser.
    info = (1 if x[k] ended on an end of the box or where N' jumps, else 0): there x[k] does
    not move smoothly with the held coordinate. False if no point gains for everyone."""
    if not _slice(ideal, sal, ud, inc, kind, x, k, lims):
        return False
    a, b = lims[0], lims[1]
    delta = min(tol, 0.25 * (b - a)) * 1e-3
    info[0] = 0.0
    t = t0 if a < t0 < b else 0.5 * (a + b)
    end_checked = False
    best = np.nan  # the last point evaluated inside the feasible set
    step_old = b - a
    step = step_old
    for _ in range(_MAX_ITER):
        t = _off_kinks(ideal, k, t, a, b, delta)
        x[k] = t
        if _derivs(ideal, sal, w, ud, inc, kind, x, der):
            best = t
            h = der[k]
            dh = der[2 + k]
            if h == 0.0:
                break
            if not end_checked:
                # A closed end of the box, on the side N rises towards, is the answer
                # when N still rises (falls) next to it.
                end_checked = True
                up = h > 0.0
                if lims[3 if up else 2] > 0.0:
                    e = lims[1] if up else lims[0]
                    x[k] = _off_kinks(ideal, k, e - delta if up else e + delta, a, b, delta)
                    if _derivs(ideal, sal, w, ud, inc, kind, x, der) and der[k] * h >= 0.0:
                        info[0] = 1.0
                        x[k] = e
                        return True
            if h > 0.0:
                a = t
            else:
                b = t
        else:
            # rounding at an open end: which end is nearer tells the side
            h = np.nan
            dh = np.nan
            if t - a < b - t:
                a = t
            else:
                b = t
        if b - a <= tol:
            info[0] = 1.0
            t = _kink_in(ideal, inc, k, a, b)
            if t == t:
                x[k] = t
                if _feasible(ideal, sal, ud, inc, kind, x):
                    best = t
            break
        newton = dh < 0.0
        if newton:
            tn = t - h / dh
            newton = a < tn < b and abs(2.0 * h) <= abs(step_old * dh)
        step_old = step
        if newton:
            step = tn - t
        else:
            step = 0.5 * (a + b) - t
        if abs(step) <= tol and newton:
            # A tiny Newton step means convergence only if N' changes sign just beyond
            # it: next to an open end of the slice (a pole of N') steps are tiny too.
            probe = t + step + (0.5 * tol if step > 0.0 else -0.5 * tol)
            if a < probe < b:
                x[k] = probe
                if _derivs(ideal, sal, w, ud, inc, kind, x, der) and (der[k] > 0.0) != (h > 0.0):
                    newton = False  # bracketed: done
                else:
                    if (probe - a < b - probe) if not _feasible(ideal, sal, ud, inc, kind, x) \
                            else der[k] > 0.0:
                        a = probe
                    else:
                        b = probe
                    t = 0.5 * (a + b)
                    continue
            t = t + step
            x[k] = t
            if _feasible(ideal, sal, ud, inc, kind, x):
                best = t
            break
        t = t + step
        if abs(step) <= tol:  # a bisection: the bracket is within twice the tolerance
            kink = _kink_in(ideal, inc, k, a, b)
            x[k] = kink if kink == kink else t
            if _feasible(ideal, sal, ud, inc, kind, x):
                best = x[k]
            info[0] = 1.0
            break
    if best != best:  # never inside: cannot happen on a non-empty slice; be safe
        best = 0.5 * (lims[0] + lims[1])
    x[k] = best
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _outer_slope(ideal, sal, w, ud, inc, kind, y, t0, itol, lims, der, info, out):
    """phi(y[0]) = max over y[1]: out = (slope, curvature) of phi, y[1] left at the inner
    maximiser. False if no y[1] gains for everyone."""
    # Next to an ideal's first coordinate the slice passes close to that actor's cone tip,
    # where N bends on the scale of the distance: y[1] must be found well within it for
    # the slope to have the right sign.
    near = 1.0
    for i in range(ideal.shape[0]):
        if inc[i]:
            near = min(near, abs(y[0] - ideal[i, 0]))
    itol = min(itol, max(1e-3 * near, 1e-15))
    if not _inner(ideal, sal, w, ud, inc, kind, y, 1, t0, itol, lims, der, info):
        return False
    if not _derivs(ideal, sal, w, ud, inc, kind, y, der):
        return False
    out[0] = der[0]
    # the inner maximiser moves with y[0] (implicit function) unless it sits on a kink
    if info[0] > 0.0 or not der[3] < 0.0:
        out[1] = der[2]
    else:
        out[1] = der[2] - der[4] * der[4] / der[3]
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _value(ideal, sal, w, ud, inc, kind, x):
    """N(x); -inf where some participant does not gain."""
    v = 0.0
    for i in range(ideal.shape[0]):
        if inc[i]:
            g = _gain(ideal[i], sal[i], ud[i], kind, x)
            if not g > 0.0:
                return -np.inf
            v += w[i] * np.log(g)
    return v


@njit(cache=True, nogil=True, error_model="numpy")
def _newton2(ideal, sal, w, ud, inc, kind, x, tol, der, xn):
    """Damped Newton ascent in two dimensions from a feasible x, a coordinate on an end of
    the box held while N pushes outwards there. True if it converged (the step fell below
    tol with a negative definite Hessian): x is then the maximiser. False where N is not
    smooth enough for it (a maximum at an ideal, or kinks): the caller falls back."""
    f = _value(ideal, sal, w, ud, inc, kind, x)
    for _ in range(_NEWTON_ITER):
        if not _derivs(ideal, sal, w, ud, inc, kind, x, der):
            return False
        g0, g1, h00, h11, h01 = der[0], der[1], der[2], der[3], der[4]
        fix0 = (x[0] <= 0.0 and g0 < 0.0) or (x[0] >= 1.0 and g0 > 0.0)
        fix1 = (x[1] <= 0.0 and g1 < 0.0) or (x[1] >= 1.0 and g1 > 0.0)
        if fix0 and fix1:
            return True  # a corner of the box, N falling inwards on both sides
        if fix0 or fix1:
            if not (h11 < 0.0 if fix0 else h00 < 0.0):
                return False
            p0 = 0.0 if fix0 else -g0 / h00
            p1 = -g1 / h11 if fix0 else 0.0
        else:
            det = h00 * h11 - h01 * h01
            if not (h00 < 0.0 and det > 0.0):
                return False
            p0 = -(h11 * g0 - h01 * g1) / det
            p1 = -(h00 * g1 - h01 * g0) / det
        slope = g0 * p0 + g1 * p1  # the Newton decrement: > 0 uphill
        if not slope >= 0.0:
            return False
        alpha = 1.0
        ok = False
        if slope < _QUADRATIC:
            # close to the top (quadratic convergence), where N's change is below its
            # rounding: the full step, if feasible, without the logarithms of N
            xn[0] = min(1.0, max(0.0, x[0] + p0))
            xn[1] = min(1.0, max(0.0, x[1] + p1))
            if _feasible(ideal, sal, ud, inc, kind, xn):
                ok = True
                fn = f  # not evaluated; only compared while still far from the top
        for _ in range(0 if ok else 60):
            xn[0] = min(1.0, max(0.0, x[0] + alpha * p0))
            xn[1] = min(1.0, max(0.0, x[1] + alpha * p1))
            fn = _value(ideal, sal, w, ud, inc, kind, xn)
            # Armijo: N must rise by a fraction of what the slope promises
            if fn >= f + 1e-4 * alpha * slope:
                ok = True
                break
            alpha *= 0.5
        if not ok:
            return False
        step = max(abs(xn[0] - x[0]), abs(xn[1] - x[1]))
        x[0] = xn[0]
        x[1] = xn[1]
        f = fn
        if step <= tol:
            # Converged only if the decrement (~ twice the gain still possible) is nil
            # too: next to an ideal the cone's curvature makes every step tiny while the
            # slope stays large, and Newton stalls there.
            return slope <= _DECREMENT
    return False


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_draw(ideal, sal, w, ud, inc, targets, grid, ts, kind, tol, x):
    """One draw: x (d,) in, the maximiser out; False (x untouched) if no agreement."""
    n, d = ideal.shape
    dpt = x.copy()
    if d == 1:
        above = below = False
        for i in range(n):
            if inc[i]:
                if ideal[i, 0] > dpt[0]:
                    above = True
                elif ideal[i, 0] < dpt[0]:
                    below = True
        if above and below:
            return False
    any_inc = False
    for i in range(n):
        any_inc = any_inc or inc[i]
    if not any_inc:
        return False
    # 1. a feasible start: rays from d (centre first), then the grid
    found = False
    x0 = np.empty(d)
    for j in range(targets.shape[0] - 1, -1, -1):
        for r in range(ts.shape[0] - 1, -1, -1):
            for k in range(d):
                x0[k] = dpt[k] + ts[r] * (targets[j, k] - dpt[k])
            if _feasible(ideal, sal, ud, inc, kind, x0):
                found = True
                break
        if found:
            break
    if not found:
        for g in range(grid.shape[0]):
            for k in range(d):
                x0[k] = grid[g, k]
            if _feasible(ideal, sal, ud, inc, kind, x0):
                found = True
                break
    if not found:
        return False
    lims = np.empty(4)
    der = np.empty(5)
    info = np.empty(1)
    y = x0.copy()
    if d == 1:
        _inner(ideal, sal, w, ud, inc, kind, y, 0, x0[0], tol, lims, der, info)
        x[0] = y[0]
        return True
    # 2. two dimensions: Newton's method where N is smooth (Euclidean and quadratic
    # utilities, the maximum away from every ideal: nearly always), else the root finder
    # on x1 -> phi'(x1), which needs no smoothness
    if kind != 1:
        # A start near the edge of the feasible set (a short ray from d) would cost Newton
        # many damped steps against the logarithms: one exact line search along each
        # coordinate first moves it well inside.
        for k in (1, 0):
            _inner(ideal, sal, w, ud, inc, kind, y, k, y[k], _START_TOL, lims, der, info)
        xn = np.empty(2)
        if _newton2(ideal, sal, w, ud, inc, kind, y, tol, der, xn):
            x[0] = y[0]
            x[1] = y[1]
            return True
        y[0] = x0[0]
        y[1] = x0[1]
    itol = tol
    delta = tol  # off an ideal's coordinate by the tolerance (see _outer_slope)
    sl = np.empty(2)
    t_prev = x0[1]
    a, b = 0.0, 1.0
    s = x0[0]
    step_old = 1.0
    step = 1.0
    end_checked = False
    best0, best1 = np.nan, np.nan
    for _ in range(_MAX_ITER):
        s = _off_kinks(ideal, 0, s, a, b, delta)
        y[0] = s
        if _outer_slope(ideal, sal, w, ud, inc, kind, y, t_prev, itol, lims, der, info, sl):
            best0, best1 = s, y[1]
            t_prev = y[1]
            h = sl[0]
            dh = sl[1]
            if h == 0.0:
                break
            if not end_checked:
                # the box's end on the rising side is the answer if phi still rises there
                end_checked = True
                up = h > 0.0
                e = 1.0 if up else 0.0
                y[0] = _off_kinks(ideal, 0, e - delta if up else e + delta, a, b, delta)
                if _outer_slope(ideal, sal, w, ud, inc, kind, y, t_prev, itol, lims, der,
                                info, sl) and sl[0] * h >= 0.0:
                    # confirmed by N itself: at the top N is at least N here (a slope
                    # taken next to a cone's tip on the box's edge can mislead)
                    y[0] = e
                    if _inner(ideal, sal, w, ud, inc, kind, y, 1, y[1], itol, lims, der, info):
                        n_end = _value(ideal, sal, w, ud, inc, kind, y)
                        y[0] = best0
                        y[1] = best1
                        if n_end >= _value(ideal, sal, w, ud, inc, kind, y):
                            best0, best1 = e, 0.0
                            y[0] = e
                            _inner(ideal, sal, w, ud, inc, kind, y, 1, t_prev, itol, lims, der,
                                   info)
                            best1 = y[1]
                            break
            if h > 0.0:
                a = s
            else:
                b = s
        else:
            # no feasible y[1] here: the feasible x1 form an interval holding x0[0]
            h = np.nan
            dh = np.nan
            if s < x0[0]:
                a = s
            else:
                b = s
        if b - a <= tol:
            s = _kink_in(ideal, inc, 0, a, b)
            if s == s:
                y[0] = s
                if _inner(ideal, sal, w, ud, inc, kind, y, 1, t_prev, itol, lims, der, info):
                    best0, best1 = s, y[1]
            break
        newton = dh < 0.0
        if newton:
            sn = s - h / dh
            newton = a < sn < b and abs(2.0 * h) <= abs(step_old * dh)
        step_old = step
        if newton:
            step = sn - s
        else:
            step = 0.5 * (a + b) - s
        if abs(step) <= tol and newton:
            # as in _inner: a tiny Newton step must be confirmed by a sign change
            probe = s + step + (0.5 * tol if step > 0.0 else -0.5 * tol)
            if a < probe < b:
                y[0] = probe
                okp = _outer_slope(ideal, sal, w, ud, inc, kind, y, t_prev, itol, lims, der,
                                   info, sl)
                if not (okp and (sl[0] > 0.0) != (h > 0.0)):
                    if (probe < x0[0]) if not okp else sl[0] > 0.0:
                        a = probe
                    else:
                        b = probe
                    s = 0.5 * (a + b)
                    continue
        s = s + step
        if abs(step) <= tol:
            if not newton:
                kink = _kink_in(ideal, inc, 0, a, b)
                if kink == kink:
                    s = kink
            y[0] = s
            if _inner(ideal, sal, w, ud, inc, kind, y, 1, t_prev, itol, lims, der, info):
                best0, best1 = s, y[1]
            break
    if best0 != best0:  # cannot happen: x0 itself is feasible
        best0, best1 = x0[0], x0[1]
    x[0] = best0
    x[1] = best1
    return True


@njit(cache=True, nogil=True, error_model="numpy")
def _solve_block(ideal, sal, w, ud, inc, targets, grid, ts, kind, tol, x, agree, lo, hi):
    """Draws [lo, hi): x (B, d) holds d on entry and the solution on exit."""
    for b in range(lo, hi):
        agree[b] = _solve_draw(ideal[b], sal[b], w[b], ud[b], inc[b], targets[b], grid, ts,
                               kind, tol, x[b])


_THREADS_ENV = "TAWAZUN_NASH_THREADS"
_MIN_DRAWS_PER_THREAD = 1024  # below this a thread costs more than it saves (~1-20 us a draw)


def _f64(a):
    return np.ascontiguousarray(a, dtype=np.float64)


def _warm() -> None:
    """One small call per dimension count: compiles the kernels, or loads Numba's cache."""
    for d in (1, 2):
        ideal = np.full((1, 2, d), 0.5)
        ideal[0, 1] = 0.75
        solve_compiled(ideal, np.ones((1, 2, d)), np.ones((1, 2)), np.zeros((1, d)),
                       NashOptions(), threads=1, warm=False)


def solve_compiled(ideal, sal, w, dpt, o: NashOptions, threads: int | None = None,
                   warm: bool = True):
    """Same contract as :func:`solve_reference`, for 1 or 2 dimensions, draws shared
    among ``threads`` (default: ``TAWAZUN_NASH_THREADS`` / ``TAWAZUN_THREADS`` / cores).
    Every draw is computed by the same code on any thread: the answer does not depend
    on the thread count."""
    b, n, d = ideal.shape
    if d > 2:
        raise ValueError("the compiled Nash optimiser handles 1 or 2 dimensions")
    if warm:
        compile_once("nash", _warm)
    u_d, include = _participants(ideal, sal, w, dpt, o)
    grid, ts, targets = _candidates(ideal, w, dpt, o)
    ideal_c, sal_c, w_c, ud_c = _f64(ideal), _f64(sal), _f64(w), _f64(u_d)
    inc_c = np.ascontiguousarray(include, dtype=np.bool_)
    targets_c, grid_c = _f64(targets), _f64(grid)
    x = np.array(dpt, dtype=np.float64, order="C", copy=True)
    agree = np.zeros(b, dtype=np.bool_)
    kind = _KINDS[o.utility]
    tol = float(o.tolerance)
    workers = default_threads(_THREADS_ENV) if threads is None else max(1, int(threads))
    workers = max(1, min(workers, b // _MIN_DRAWS_PER_THREAD))

    def block(lo: int, hi: int) -> None:
        _solve_block(ideal_c, sal_c, w_c, ud_c, inc_c, targets_c, grid_c, ts, kind, tol,
                     x, agree, lo, hi)

    # contiguous blocks of draws, one per thread; the kernel releases the GIL
    edges = np.linspace(0, b, workers + 1).astype(int)
    fan_out([lambda lo=int(lo), hi=int(hi): block(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])],
            workers)
    x = np.where(agree[:, None], x, dpt)
    val = _objective(x[:, None, :], ideal, sal, w, u_d, include, o.utility, o.min_gain)[:, 0]
    return x, val, include, agree


def _normalised(problem: Problem, o: NashOptions):
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
    return ideal, sal, w, dpt, span


def _result(x, val, include, agree, ideal, sal, dpt, span, lo, o: NashOptions) -> EngineResult:
    u_x = utility(x[:, None, :], ideal, sal, o.utility)[:, 0]
    u_d = utility(dpt[:, None, :], ideal, sal, o.utility)[:, 0]
    diagnostics = {
        "agreement": agree,
        "disagreement": dpt * span + lo,
        "participating": include,
        "gain": u_x - u_d,
        "nash_product": val,
    }
    return EngineResult("nash", x * span + lo, None, diagnostics, asdict(o))


def nash_reference(problem: Problem, options: NashOptions | None = None,
                   rng: np.random.Generator | None = None) -> EngineResult:
    """The engine through the reference NumPy optimiser (:func:`solve_reference`): slow,
    kept as the readable definition the compiled path is tested against."""
    o = options or NashOptions()
    o.validate()
    ideal, sal, w, dpt, span = _normalised(problem, o)
    x, val, include, agree = solve_reference(ideal, sal, w, dpt, o)
    return _result(x, val, include, agree, ideal, sal, dpt, span, problem.lower, o)


@register("nash", options=NashOptions, dynamic=False, max_dims=None,
          summary="asymmetric Nash bargaining solution, disagreement = status quo")
def nash(problem: Problem, options: NashOptions | None = None,
         rng: np.random.Generator | None = None) -> EngineResult:
    """Capability-weighted Nash bargaining solution over the scale box: the compiled
    optimiser in 1 and 2 dimensions, the reference one beyond."""
    o = options or NashOptions()
    o.validate()
    ideal, sal, w, dpt, span = _normalised(problem, o)
    if problem.n_dims <= 2:
        x, val, include, agree = solve_compiled(ideal, sal, w, dpt, o)
    else:
        x, val, include, agree = solve_reference(ideal, sal, w, dpt, o)
    return _result(x, val, include, agree, ideal, sal, dpt, span, problem.lower, o)
