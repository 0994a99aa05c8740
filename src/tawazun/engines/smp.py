"""KTAB's Spatial Model of Politics (SMP), re-implemented for batches of draws.

This follows the algorithm of KAPSARC's KTAB ``smpc`` (2019 code) step by step; see
``docs/models/smp.md`` for the equations, every option and the decisions log. All
arithmetic runs on positions normalised to [0, 1] per dimension (as KTAB does).

Two backends compute the same numbers: ``numba`` (default) runs each draw's whole
simulation as compiled loops (``_run_one``); ``numpy`` is the readable reference, vectorised
over the Monte Carlo batch (B), the actors and the actor pairs (``_step``). The tests check
that they agree under every option.

Array names used below: ``x`` positions (B, n, d) in [0, 1]; ``s`` saliences (B, n, d);
``c`` capabilities (B, n); ``D[b, a, m]`` the salience-weighted distance from actor a's
ideal (= its current position) to actor m's position; ``R`` (B, n) risk attitudes.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass

import numba
import numpy as np

from tawazun.engines.base import EngineResult, Problem, register
from tawazun.engines.threads import default_threads

# Small constants of the original, kept so that results match it.
_MIN_COALITION = 1e-8  # floor of a coalition's strength in an election between options
_MIN_CHALLENGE = 1e-10  # floor of a coalition's strength in a challenge (i:j)
_MIN_GAIN = 1e-5  # smallest expected gain that makes a challenge worth making
_MIN_W = 1e-6  # keeps the bargain interpolation away from 0/0
_BINARY_STEP = 1e-8  # width of the ramp of the "Binary" voting rule
_BINARY_VP_THRESH = 1.10  # strength ratio that decides a "Binary" victory for sure
_BINARY_VP_MIN = 1e-6

VOTING_RULES = ("Proportional", "Binary", "PropBin", "PropCbc", "Cubic", "ASymProsp")
VICTORY_MODELS = ("Linear", "Square", "Quartic", "Octic", "Binary")
PCE_MODELS = ("Conditional", "MarkovUniform", "MarkovIncentive")
RISK_RANGES = ("Mid", "Min", "Max")
RISK_ADJUSTS = ("OneThird", "Half", "TwoThirds", "Full", "None")
THIRD_PARTY = ("SemiCommit", "FullCommit", "NoCommit")
INTERPOLATIONS = ("S2P2", "S1P1", "S2PMax")
TRANSITIONS = ("Deterministic", "Stochastic")
SALIENCE_OVERFLOW = ("rescale", "error")
BACKENDS = ("numba", "numpy")


@dataclass(frozen=True)
class SmpOptions:
    """KTAB's model options (defaults = the ``smpc`` defaults that made the reference runs)."""

    voting_rule: str = "Proportional"  # how an actor's vote scales with its utility difference
    victory_prob: str = "Linear"  # P[i>j] from coalition strengths
    pce: str = "Conditional"  # probabilistic Condorcet election
    risk_range: str = "Mid"  # maps election probabilities to risk attitudes R
    risk_adjust: str = "OneThird"  # h's estimate of i's risk attitude
    third_party: str = "SemiCommit"  # how third parties value the outcomes of (i:j)
    interpolation: str = "S2P2"  # bargain interpolation between the two positions
    transition: str = "Deterministic"  # Deterministic: most likely bargain; Stochastic: a draw
    max_turns: int = 100
    min_turns: int = 2
    stop_ratio: float = 0.02  # stop when dist(t-1, t) / (dist(0, 1) + stop_epsilon) < ratio
    stop_epsilon: float = 1e-4
    position_tolerance: float = 1e-3  # positions closer than this (on [0, 1]) are one position
    bargain_decimals: int = 4  # S1P1/S2P2 bargains are rounded to this many decimals on [0, 1]
    salience_overflow: str = "rescale"  # an actor whose saliences sum above 1: rescale or error
    backend: str = "numba"  # numba: compiled run per draw; numpy: the vectorised reference

    def validate(self) -> None:
        checks = [
            ("voting_rule", VOTING_RULES),
            ("victory_prob", VICTORY_MODELS),
            ("pce", PCE_MODELS),
            ("risk_range", RISK_RANGES),
            ("risk_adjust", RISK_ADJUSTS),
            ("third_party", THIRD_PARTY),
            ("interpolation", INTERPOLATIONS),
            ("transition", TRANSITIONS),
            ("salience_overflow", SALIENCE_OVERFLOW),
            ("backend", BACKENDS),
        ]
        for name, allowed in checks:
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"smp option {name}={value!r}: expected one of {', '.join(allowed)}")
        if self.max_turns < 0:
            raise ValueError("smp option max_turns must be >= 0")
        if self.min_turns < 1:
            raise ValueError("smp option min_turns must be >= 1")


# ----------------------------------------------------------------------------------------
# Building blocks (each vectorised over any leading axes)


def vote(rule: str, w: np.ndarray, du: np.ndarray) -> np.ndarray:
    """Vote of weight ``w`` for option 1 over option 2 when u1 - u2 = ``du``."""
    if rule == "Proportional":
        return w * du
    if rule == "Binary":
        return w * np.clip(du / _BINARY_STEP, -1.0, 1.0)
    if rule == "PropBin":
        return w * (0.8 * du + 0.2 * np.clip(du / _BINARY_STEP, -1.0, 1.0))
    if rule == "PropCbc":
        return w * (0.5 * du + 0.5 * du * du * du)
    if rule == "Cubic":
        return w * (du * du * du)
    if rule == "ASymProsp":
        return np.where(du < 0.0, w * du, np.where(du > 0.0, (2.0 * w * du) / 3.0, 0.0))
    raise ValueError(f"unknown voting rule {rule!r}")


def victory_pair(model: str, s1: np.ndarray, s2: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P[1 beats 2], P[2 beats 1]) from the two coalition strengths."""
    if model == "Linear":
        x1, x2 = s1, s2
    elif model == "Square":
        x1, x2 = s1 * s1, s2 * s2
    elif model == "Quartic":
        x1, x2 = (s1 * s1) ** 2, (s2 * s2) ** 2
    elif model == "Octic":
        x1, x2 = ((s1 * s1) ** 2) ** 2, ((s2 * s2) ** 2) ** 2
    elif model == "Binary":
        t = _BINARY_VP_THRESH
        with np.errstate(divide="ignore", invalid="ignore"):
            r12 = s1 / (s1 + s2)
        p12 = (r12 * (t + 1.0) - 1.0) / (t - 1.0)
        win1 = s1 >= t * s2
        win2 = (~win1) & (s2 >= t * s1)
        x1 = np.where(win1, 1.0, np.where(win2, _BINARY_VP_MIN, p12))
        x2 = np.where(win1, _BINARY_VP_MIN, np.where(win2, 1.0, 1.0 - p12))
    else:
        raise ValueError(f"unknown victory-probability model {model!r}")
    tot = x1 + x2
    return x1 / tot, x2 / tot


def coalition_matrix(w: np.ndarray, u: np.ndarray, rule: str, floor: float = _MIN_COALITION,
                     valid: np.ndarray | None = None) -> np.ndarray:
    """Coalition strengths C[..., i, j] of option i against option j.

    ``w`` (..., A) voter weights, ``u`` (..., A, M) utility to voter a of option m. As in
    the original, only pairs i > j are voted on: the votes' positive parts build C[i, j]
    and their negative parts C[j, i] (this matters only for the asymmetric rule).
    """
    du = u[..., :, :, None] - u[..., :, None, :]  # (..., A, i, j) = u_ai - u_aj
    v = vote(rule, w[..., :, None, None], du)
    m = u.shape[-1]
    idx = np.arange(m)
    if rule == "ASymProsp":
        cpos = floor + np.maximum(v, 0.0).sum(axis=-3)
        cneg = floor - np.minimum(v, 0.0).sum(axis=-3)
        lower = np.tri(m, m, -1, dtype=bool)
        c = np.where(lower, cpos, np.swapaxes(cneg, -1, -2))
    else:
        # Every other rule is odd in du (v(j, i) = -v(i, j) exactly), so the negative
        # part of the (i:j) votes is the positive part of the (j:i) votes.
        c = floor + np.maximum(v, 0.0).sum(axis=-3)
    c[..., idx, idx] = floor
    if valid is not None:
        pair = valid[..., :, None] & valid[..., None, :]
        c = np.where(pair, c, 0.0)
    return c


def victory_matrix(model: str, c: np.ndarray) -> np.ndarray:
    """P[..., i, j] = probability that option i beats option j (P[i, i] = 1/2)."""
    ct = np.swapaxes(c, -1, -2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p1, p2 = victory_pair(model, c, ct)
    m = c.shape[-1]
    lower = np.tri(m, m, -1, dtype=bool)
    p = np.where(lower, p1, np.swapaxes(p2, -1, -2))
    idx = np.arange(m)
    p[..., idx, idx] = 0.5
    return p


def _damped_fixed_point(p: np.ndarray, update, tol: float, max_iter: int = 1000) -> np.ndarray:
    """Iterate p <- (p + update(p)) / 2 over the last axis, each batch row until its largest
    change is at most ``tol`` (rows that converged stop moving)."""
    active = np.ones(p.shape[:-1], dtype=bool)
    for _ in range(max_iter):
        q = update(p)
        change = np.abs(q - p).max(axis=-1)
        p = np.where(active[..., None], (p + q) / 2.0, p)
        active &= change > tol
        if not active.any():
            break
    return p


def pce(model: str, victory: str, c: np.ndarray, valid: np.ndarray | None = None) -> np.ndarray:
    """Probabilistic Condorcet election: probability of each option, (..., M)."""
    m = c.shape[-1]
    if valid is None:
        valid = np.ones(c.shape[:-1], dtype=bool)
    pair = valid[..., :, None] & valid[..., None, :]
    pv = np.where(pair, victory_matrix(victory, np.where(pair, c, 1.0)), 0.0)
    if model == "Conditional":
        factors = np.where(valid[..., None, :], pv, 1.0)
        prod = np.where(valid, factors.prod(axis=-1), 0.0)
        tot = prod.sum(axis=-1, keepdims=True)
        good = (tot > 0) & np.isfinite(tot)
        if good.all():
            return prod / tot
        # Every product underflowed: the same ratios, computed from logarithms.
        with np.errstate(divide="ignore"):
            logp = np.where(valid, np.log(factors).sum(axis=-1), -np.inf)
        e = np.exp(logp - logp.max(axis=-1, keepdims=True))
        return np.where(good, prod / np.where(good, tot, 1.0), e / e.sum(axis=-1, keepdims=True))
    nvalid = valid.sum(axis=-1, keepdims=True).astype(float)
    p = np.where(valid, 1.0 / nvalid, 0.0)
    if model == "MarkovUniform":
        return _damped_fixed_point(p, lambda p: (pv * (p[..., :, None] + p[..., None, :])).sum(axis=-1) / nvalid,
                                   tol=1e-6)
    if model == "MarkovIncentive":
        tol = 1e-8
        inc = np.where(pair, c * pv, 0.0)
        idx = np.arange(m)
        inc[..., idx, idx] += np.where(valid, 1e-10, 0.0)
        colsum = inc.sum(axis=-2, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            cp = np.where(colsum > 0, inc / colsum, 0.0)  # cp[i, j] = P[i challenges j]
        def update(p: np.ndarray) -> np.ndarray:
            ct = p[..., :, None] * np.swapaxes(cp, -1, -2)  # ct[i, j] = p_i cp[j, i]
            return (pv * (ct + np.swapaxes(ct, -1, -2))).sum(axis=-1)

        return _damped_fixed_point(p, update, tol=tol)
    raise ValueError(f"unknown PCE model {model!r}")


def bs_util(d: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Utility of a normalised distance d under risk attitude r: (1 - d)(1 + d r)."""
    return np.where(d <= 1.0, (1.0 - d) * (1.0 + d * r), (1.0 - d) * (1.0 + r))


def distances(ideal: np.ndarray, pos: np.ndarray, s: np.ndarray) -> np.ndarray:
    """D[..., a, m]: distance from a's ideal to m's position, weighted by a's saliences."""
    diff = ideal[..., :, None, :] - pos[..., None, :, :]  # (..., a, m, d)
    ds = diff * s[..., :, None, :]
    ss = (s * s).sum(axis=-1)[..., :, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.sqrt((ds * ds).sum(axis=-1) / ss)
    return np.where(ss > 0, out, 0.0)


def risk_from_prob(p: np.ndarray, rng_name: str) -> np.ndarray:
    """Risk attitude of each actor from the probability of its position winning."""
    pmin = np.minimum(p.min(axis=-1, keepdims=True), 1.0)
    pmax = np.maximum(p.max(axis=-1, keepdims=True), 0.0)
    span = pmax - pmin
    safe = np.where(span > 0, span, 1.0)
    if rng_name == "Mid":
        r = (3.0 * p - (pmax + 2.0 * pmin)) / (2.0 * safe)
    elif rng_name == "Min":
        r = (p - pmin) / safe
    elif rng_name == "Max":
        r = (2.0 * p - (pmax + pmin)) / safe
    else:
        raise ValueError(f"unknown risk range {rng_name!r}")
    return np.where(span > 0, r, 0.0)


def estimated_risk(rh: np.ndarray, ri: np.ndarray, adjust: str) -> np.ndarray:
    """h's estimate of i's risk attitude."""
    if adjust == "Full":
        return ri + 0.0 * rh
    if adjust == "TwoThirds":
        return (rh + 2.0 * ri) / 3.0
    if adjust == "Half":
        return (rh + ri) / 2.0
    if adjust == "OneThird":
        return (2.0 * rh + ri) / 3.0
    if adjust == "None":
        return rh + 0.0 * ri
    raise ValueError(f"unknown risk adjustment {adjust!r}")


def _round(x: np.ndarray, decimals: int) -> np.ndarray:
    """Half-up rounding of non-negative values, as the original does."""
    scale = 10.0 ** decimals
    return np.trunc(0.5 + x * scale) / scale


# ----------------------------------------------------------------------------------------
# Compiled scalar helpers (profiling showed NumPy temporaries and call overhead dominate).

_RULE_CODE = {name: k for k, name in enumerate(VOTING_RULES)}
_TP_CODE = {name: k for k, name in enumerate(THIRD_PARTY)}


@numba.njit(cache=True)
def _vote1(rule, w, du):  # pragma: no cover - compiled
    if rule == 0:
        return w * du
    b = du / _BINARY_STEP
    if b > 1.0:
        b = 1.0
    elif b < -1.0:
        b = -1.0
    if rule == 1:
        return w * b
    if rule == 2:
        return w * (0.8 * du + 0.2 * b)
    if rule == 3:
        return w * (0.5 * du + 0.5 * du * du * du)
    if rule == 4:
        return w * (du * du * du)
    if du < 0.0:
        return w * du
    if du > 0.0:
        return (2.0 * w * du) / 3.0
    return 0.0


@numba.njit(cache=True)
def _bs1(d, r):  # pragma: no cover - compiled
    if d <= 1.0:
        return (1.0 - d) * (1.0 + d * r)
    return (1.0 - d) * (1.0 + r)


@numba.njit(cache=True)
def _gains_one(dist, rhi, wgt, ssum, rule, tp, gain, prob):  # pragma: no cover - compiled
    """One draw: gain[i, j] = expected gain to i of challenging j as i sees it; prob[i, j] =
    i's estimate of P[i beats j] with every third party joining in."""
    n = dist.shape[0]
    dt = np.ascontiguousarray(dist.T)  # dt[m, a] = D[a, m]
    uni = np.empty(n)
    for i in range(n):
        for k in range(n):
            uni[k] = _bs1(dt[i, k], rhi[i, k])  # U_i(k, i)
        for j in range(n):
            if i == j:
                gain[i, j] = -np.inf
                prob[i, j] = 0.5
                continue
            uij = _bs1(dist[i, j], rhi[i, i])
            uji = uni[j]
            ci = _vote1(rule, wgt[i], 1.0 - uij)
            cj = _vote1(rule, wgt[j], uji - 1.0)
            chij = _MIN_CHALLENGE
            chji = _MIN_CHALLENGE
            if ci > 0.0:
                chij += ci
            if ci < 0.0:
                chji -= ci
            if cj > 0.0:
                chij += cj
            if cj < 0.0:
                chji -= cj
            cij0 = chij
            cji0 = chji
            if rule == 0 and tp == 0:
                # The default options (Proportional, SemiCommit), written out: same arithmetic.
                for k in range(n):
                    if k == i or k == j:
                        continue
                    un_i = uni[k]
                    un_j = _bs1(dt[j, k], rhi[i, k])
                    wk = wgt[k]
                    v0 = wk * (un_i - un_j)
                    cni = cij0 + max(v0, 0.0)
                    cnj = cji0 + max(-v0, 0.0)
                    pin = cni / (cni + cnj)
                    pjn = 1.0 - pin
                    two_i = un_i + un_i
                    two_j = un_j + un_j
                    vn = wk * ((pin * (two_i + 1.0) + pjn * (two_j + un_j))
                               - (pin * (two_i + un_i) + pjn * (two_j + 1.0)))
                    chij += max(vn, 0.0)
                    chji += max(-vn, 0.0)
            else:
                for k in range(n):
                    if k == i or k == j:
                        continue
                    un_i = uni[k]
                    un_j = _bs1(dt[j, k], rhi[i, k])
                    unn = 1.0
                    wk = wgt[k]
                    v0 = _vote1(rule, wk, un_i - un_j)
                    # branch-free, and exactly equal: adding 0.0 leaves a sum unchanged
                    cni = cij0 + max(v0, 0.0)
                    cnj = cji0 + max(-v0, 0.0)
                    pin = cni / (cni + cnj)
                    pjn = 1.0 - pin
                    if tp == 0:  # SemiCommit
                        a1 = un_i + un_i + unn
                        a2 = un_j + un_j + un_j
                        a3 = un_i + un_i + un_i
                        a4 = un_j + un_j + unn
                    elif tp == 1:  # FullCommit
                        a1 = un_i + un_i + un_i
                        a2 = un_j + un_j + un_j
                        a3 = un_i + un_i + un_i
                        a4 = un_j + un_j + un_j
                    else:  # NoCommit
                        a1 = un_i + un_i + unn
                        a2 = un_j + un_j + unn
                        a3 = un_i + un_i + unn
                        a4 = un_j + un_j + unn
                    vn = _vote1(rule, wk, (pin * a1 + pjn * a2) - (pin * a3 + pjn * a4))
                    chij += max(vn, 0.0)
                    chji += max(-vn, 0.0)
            pij = chij / (chij + chji)
            pji = chji / (chij + chji)
            sj = ssum[j]
            eu_contest = pij * 2.0 + pji * (uij + uij)
            gain[i, j] = ((1.0 - sj) * 2.0 + sj * eu_contest) - (1.0 + uij)
            prob[i, j] = pij


# ----------------------------------------------------------------------------------------
# The whole run of one draw, compiled (the default backend). Same algorithm as the NumPy
# functions below, which stay as the readable reference and are tested against it.

_VP_CODE = {name: k for k, name in enumerate(VICTORY_MODELS)}
_PCE_CODE = {name: k for k, name in enumerate(PCE_MODELS)}
_RR_CODE = {name: k for k, name in enumerate(RISK_RANGES)}
_RA_CODE = {name: k for k, name in enumerate(RISK_ADJUSTS)}
_IV_CODE = {name: k for k, name in enumerate(INTERPOLATIONS)}


@numba.njit(cache=True)
def _est1(rh, ri, adj):  # pragma: no cover - compiled
    if adj == 0:
        return (2.0 * rh + ri) / 3.0
    if adj == 1:
        return (rh + ri) / 2.0
    if adj == 2:
        return (rh + 2.0 * ri) / 3.0
    if adj == 3:
        return ri
    return rh


@numba.njit(cache=True)
def _vp1(model, s1, s2):  # pragma: no cover - compiled
    if model == 0:
        x1, x2 = s1, s2
    elif model == 1:
        x1, x2 = s1 * s1, s2 * s2
    elif model == 2:
        x1, x2 = (s1 * s1) ** 2, (s2 * s2) ** 2
    elif model == 3:
        x1, x2 = ((s1 * s1) ** 2) ** 2, ((s2 * s2) ** 2) ** 2
    else:
        t = _BINARY_VP_THRESH
        if s1 >= t * s2:
            x1, x2 = 1.0, _BINARY_VP_MIN
        elif s2 >= t * s1:
            x1, x2 = _BINARY_VP_MIN, 1.0
        else:
            r12 = s1 / (s1 + s2)
            p12 = (r12 * (t + 1.0) - 1.0) / (t - 1.0)
            x1, x2 = p12, 1.0 - p12
    return x1 / (x1 + x2), x2 / (x1 + x2)


@numba.njit(cache=True)
def _pce1(c, m, vpm, pcem, pv, p, q):  # pragma: no cover - compiled
    """PCE over the first m options of coalition matrix c; result in p[:m] (pv, q: scratch)."""
    for i in range(m):
        pv[i, i] = 0.5
        for j in range(i):
            p1, p2 = _vp1(vpm, c[i, j], c[j, i])
            pv[i, j] = p1
            pv[j, i] = p2
    if pcem == 0:
        tot = 0.0
        for i in range(m):
            pi = 1.0
            for j in range(m):
                pi = pi * pv[i, j]
            p[i] = pi
            tot += pi
        if tot > 0.0 and tot < np.inf:
            for i in range(m):
                p[i] = p[i] / tot
            return
        # every product underflowed: the same ratios from logarithms
        top = -np.inf
        for i in range(m):
            lp = 0.0
            for j in range(m):
                lp += np.log(pv[i, j])
            q[i] = lp
            if lp > top:
                top = lp
        tot = 0.0
        for i in range(m):
            p[i] = np.exp(q[i] - top)
            tot += p[i]
        for i in range(m):
            p[i] = p[i] / tot
        return
    for i in range(m):
        p[i] = 1.0 / m
    if pcem == 1:
        tol = 1e-6
    else:
        tol = 1e-8
        # incentive of i to challenge j, then the chance that j is challenged by i
        for i in range(m):
            for j in range(m):
                c[i, j] = c[i, j] * pv[i, j]
            c[i, i] += 1e-10
        for j in range(m):
            sj = 0.0
            for k in range(m):
                sj += c[k, j]
            for i in range(m):
                c[i, j] = c[i, j] / sj
    for _ in range(1000):
        change = 0.0
        for i in range(m):
            qi = 0.0
            for j in range(m):
                if pcem == 1:
                    qi += pv[i, j] * (p[i] + p[j])
                else:
                    qi += pv[i, j] * (p[i] * c[j, i] + p[j] * c[i, j])
            if pcem == 1:
                qi = qi / m
            q[i] = qi
            if abs(qi - p[i]) > change:
                change = abs(qi - p[i])
        for i in range(m):
            p[i] = (p[i] + q[i]) / 2.0
        if not change > tol:
            break


@numba.njit(cache=True)
def _dist1(ideal, pos, s, out):  # pragma: no cover - compiled
    na, d = ideal.shape
    m = pos.shape[0]
    for a in range(na):
        ss = 0.0
        for k in range(d):
            ss += s[a, k] * s[a, k]
        for j in range(m):
            ds = 0.0
            for k in range(d):
                z = (ideal[a, k] - pos[j, k]) * s[a, k]
                ds += z * z
            out[a, j] = np.sqrt(ds / ss) if ss > 0 else 0.0


@numba.njit(cache=True)
def _elect(w, u, opts, m, rule, vpm, pcem, cm, pv, p, q):  # pragma: no cover - compiled
    """Capability-weighted PCE among the options opts[:m] (columns of u); result in p[:m]."""
    na = u.shape[0]
    for i in range(m):
        cm[i, i] = _MIN_COALITION
        oi = opts[i]
        for j in range(i):
            oj = opts[j]
            cij = _MIN_COALITION
            cji = _MIN_COALITION
            for k in range(na):
                v = _vote1(rule, w[k], u[k, oi] - u[k, oj])
                if v > 0:
                    cij += v
                if v < 0:
                    cji -= v
            cm[i, j] = cij
            cm[j, i] = cji
    _pce1(cm, m, vpm, pcem, pv, p, q)


@numba.njit(cache=True)
def _state1(x, s, c, codes, pos_tol, dist, u, r, prob, opts, cm, pv, p, q):  # pragma: no cover
    """Distances, risk attitudes r and the distinct-position probabilities of a state."""
    rule, vpm, pcem, rr, adj = codes[0], codes[1], codes[2], codes[3], codes[4]
    n, d = x.shape
    _dist1(x, x, s, dist)
    for a in range(n):
        opts[a] = a
        for m in range(n):
            u[a, m] = _bs1(dist[a, m], 0.0)
    _elect(c, u, opts, n, rule, vpm, pcem, cm, pv, p, q)
    pmin = 1.0
    pmax = 0.0
    for i in range(n):
        pmin = min(pmin, p[i])
        pmax = max(pmax, p[i])
    span = pmax - pmin
    for i in range(n):
        if not span > 0:
            r[i] = 0.0
        elif rr == 0:
            r[i] = (3.0 * p[i] - (pmax + 2.0 * pmin)) / (2.0 * span)
        elif rr == 1:
            r[i] = (p[i] - pmin) / span
        else:
            r[i] = (2.0 * p[i] - (pmax + pmin)) / span
    # distinct positions: the first holder of each stands for it
    nr = 0
    for i in range(n):
        found = False
        for t in range(nr):
            j = opts[t]
            z = 0.0
            for k in range(d):
                z += (x[i, k] - x[j, k]) ** 2
            if np.sqrt(z) < pos_tol:
                found = True
                break
        if not found:
            opts[nr] = i
            nr += 1
    for a in range(n):
        ra = _est1(r[a], r[a], adj)
        for m in range(n):
            u[a, m] = _bs1(dist[a, m], ra)
    _elect(c, u, opts, nr, rule, vpm, pcem, cm, pv, p, q)
    for i in range(n):
        prob[i] = 0.0
    for t in range(nr):
        prob[opts[t]] = p[t]


@numba.njit(cache=True, nogil=True)
def _run_one(x0, s, c, codes, max_turns, min_turns, stop_ratio, stop_eps, pos_tol,
             decimals, draws, traj, risk, targets, pprob):  # pragma: no cover - compiled
    """Run one draw to the end; fills traj (T+1, n, d), risk, targets, pprob; returns turns."""
    rule, vpm, pcem, adj, tp, iv, stochastic = (codes[0], codes[1], codes[2], codes[4],
                                                codes[5], codes[6], codes[7])
    n, d = x0.shape
    scale = 10.0 ** decimals
    ssum = np.zeros(n)
    wgt = np.zeros(n)
    for i in range(n):
        for k in range(d):
            ssum[i] += s[i, k]
        wgt[i] = ssum[i] * c[i]
    x = np.empty((n, d))
    new = np.empty((n, d))
    bi = np.empty((n, d))
    bj = np.empty((n, d))
    dist = np.empty((n, n))
    dbi = np.empty((n, n))
    dbj = np.empty((n, n))
    u = np.empty((n, n))
    val = np.empty((n, n + 1))
    gain = np.empty((n, n))
    prob = np.empty((n, n))
    rhi = np.empty((n, n))
    cm = np.empty((n + 1, n + 1))
    pv = np.empty((n + 1, n + 1))
    p = np.empty(n + 1)
    q = np.empty(n + 1)
    opts = np.empty(n + 1, dtype=np.int64)
    tgt = np.empty(n, dtype=np.int64)
    pbest = np.empty(n)
    for i in range(n):
        for k in range(d):
            x[i, k] = x0[i, k]
            traj[0, i, k] = x0[i, k]
    _state1(x, s, c, codes, pos_tol, dist, u, risk[0], pprob[0], opts, cm, pv, p, q)
    d01 = 0.0
    t = 0
    while True:
        t += 1
        r = risk[t - 1]
        for h in range(n):
            for i in range(n):
                rhi[h, i] = _est1(r[h], r[i], adj)
        _gains_one(dist, rhi, wgt, ssum, rule, tp, gain, prob)
        for i in range(n):
            tgt[i] = -1
            pbest[i] = 0.0
            best = -1.0
            for j in range(n):
                g = gain[i, j]
                if g > _MIN_GAIN and best < g:
                    best = g
                    tgt[i] = j
                    pbest[i] = prob[i, j]
            targets[t - 1, i] = tgt[i]
        # Bargains: bi[i] for the initiator i, bj[i] for its target.
        for i in range(n):
            j = tgt[i]
            for k in range(d):
                bi[i, k] = x[i, k]
                bj[i, k] = x[i, k]
            if j < 0:
                continue
            pr = pbest[i]
            pq = 1.0 - pr
            for k in range(d):
                xi, xj, si, sj = x[i, k], x[j, k], s[i, k], s[j, k]
                if iv == 2:  # S2PMax
                    di = pq - pr if pq > pr else 0.0
                    dj = pr - pq if pr > pq else 0.0
                    si2, sj2 = si * si, sj * sj
                    dik = (di * sj2) / ((di * sj2) + _MIN_W + ((1.0 - di) * si2))
                    djk = (dj * si2) / ((dj * si2) + _MIN_W + ((1.0 - dj) * sj2))
                    bi[i, k] = xi + dik * (xj - xi)
                    bj[i, k] = xj + djk * (xi - xj)
                else:
                    if iv == 0:
                        wi = (si * si) * (pr * pr)
                        wj = (sj * sj) * (pq * pq)
                    else:
                        wi = si * pr
                        wj = sj * pq
                    den = wi + _MIN_W + wj
                    bi[i, k] = np.trunc(0.5 + (((wi + _MIN_W) * xi + wj * xj) / den) * scale) / scale
                    bj[i, k] = np.trunc(0.5 + ((wi * xi + (_MIN_W + wj) * xj) / den) * scale) / scale
        # Value to every actor a of the state after each option: 0 = status quo, 1 + i.
        _dist1(x, bi, s, dbi)
        _dist1(x, bj, s, dbj)
        for a in range(n):
            raa = _est1(r[a], r[a], adj)
            base = 0.0
            for m in range(n):
                u[a, m] = _bs1(dist[a, m], raa)
                base += u[a, m]
            val[a, 0] = base / n
            for i in range(n):
                j = tgt[i]
                if j < 0:
                    val[a, 1 + i] = val[a, 0]
                    continue
                v = _bs1(dbi[a, i], r[a]) + _bs1(dbj[a, i], r[a])
                for m in range(n):
                    if m != i and m != j:
                        v += u[a, m]
                val[a, 1 + i] = v / n
        for k in range(n):
            for z in range(d):
                new[k, z] = x[k, z]
            nq = 1
            opts[0] = 0
            for i in range(n):
                if tgt[i] >= 0 and (i == k or tgt[i] == k):
                    opts[nq] = 1 + i
                    nq += 1
            if nq == 1:
                continue
            _elect(c, val, opts, nq, rule, vpm, pcem, cm, pv, p, q)
            choice = 0
            if stochastic:
                u01 = draws[t - 1, k]
                cum = 0.0
                choice = nq - 1
                for w in range(nq):
                    cum += p[w]
                    if u01 <= cum:
                        choice = w
                        break
            else:
                for w in range(1, nq):
                    if p[w] > p[choice]:
                        choice = w
            if choice == 0:
                continue
            i = opts[choice] - 1
            for z in range(d):
                new[k, z] = bi[i, z] if i == k else bj[i, z]
        moved = 0.0
        for i in range(n):
            z2 = 0.0
            for k in range(d):
                z2 += (new[i, k] - x[i, k]) ** 2
                x[i, k] = new[i, k]
                traj[t, i, k] = new[i, k]
            moved += np.sqrt(z2)
        if t == 1:
            d01 = moved + stop_eps
        _state1(x, s, c, codes, pos_tol, dist, u, risk[t], pprob[t], opts, cm, pv, p, q)
        if t >= max_turns or (t >= min_turns and moved / d01 < stop_ratio):
            return t
    return t


# ----------------------------------------------------------------------------------------
# One turn


def _risk(x: np.ndarray, s: np.ndarray, c: np.ndarray, o: SmpOptions) -> tuple[np.ndarray, np.ndarray]:
    """Distances D (B, n, n) and risk attitudes R (B, n) of a state."""
    dist = distances(x, x, s)
    rn_util = bs_util(dist, np.zeros_like(dist))  # risk-neutral utilities
    coal = coalition_matrix(c, rn_util, o.voting_rule)
    p = pce(o.pce, o.victory_prob, coal)
    return dist, risk_from_prob(p, o.risk_range)


def _challenges(dist, R, s, c, o: SmpOptions):
    """Each actor's best target: (target (B, n) or -1, P[i beats target] (B, n))."""
    b, n = R.shape
    r_hi = estimated_risk(R[:, :, None], R[:, None, :], o.risk_adjust)  # (B, h, i)
    ssum = s.sum(axis=-1)  # (B, n)
    wgt = ssum * c  # voting weight in challenges
    # Utilities from h = i's perspective.
    u_ij = bs_util(dist, np.diagonal(r_hi, axis1=1, axis2=2)[:, :, None])  # U_i(i, j)   [b,i,j]
    u_ji = bs_util(np.swapaxes(dist, 1, 2), r_hi)  # U_i(j, i) = bs(D[j,i], r_ij)      [b,i,j]
    u_ni = u_ji  # U_i(n, i) = bs(D[n,i], r_in)                                          [b,i,n]
    # U_i(n, j) = bs(D[n, j], r_in), laid out [b, i, j, n]
    u_nj = bs_util(np.swapaxes(dist, 1, 2)[:, None, :, :], r_hi[:, :, None, :])
    rule = o.voting_rule
    v_i = vote(rule, wgt[:, :, None], 1.0 - u_ij)  # i's own vote in (i:j); U_i(i,i) = 1
    v_j = vote(rule, wgt[:, None, :], u_ji - 1.0)  # j's vote; U_i(j,j) = 1
    ch_ij0 = _MIN_CHALLENGE + np.maximum(v_i, 0.0) + np.maximum(v_j, 0.0)
    ch_ji0 = _MIN_CHALLENGE - np.minimum(v_i, 0.0) - np.minimum(v_j, 0.0)
    # Third parties n: first the little contest (i:j) with n alone joining in.
    uni = u_ni[:, :, None, :]  # [b, i, 1, n]
    wn = wgt[:, None, None, :]
    v_n0 = vote(rule, wn, uni - u_nj)
    ci = ch_ij0[..., None] + np.maximum(v_n0, 0.0)
    cj = ch_ji0[..., None] - np.minimum(v_n0, 0.0)
    pin = ci / (ci + cj)
    pjn = 1.0 - pin
    unn = 1.0
    if o.third_party == "SemiCommit":
        u_ikj = pin * (uni + uni + unn) + pjn * (u_nj + u_nj + u_nj)
        u_ijk = pin * (uni + uni + uni) + pjn * (u_nj + u_nj + unn)
    elif o.third_party == "FullCommit":
        u_ikj = pin * (uni + uni + uni) + pjn * (u_nj + u_nj + u_nj)
        u_ijk = pin * (uni + uni + uni) + pjn * (u_nj + u_nj + u_nj)
    else:  # NoCommit
        u_ikj = pin * (uni + uni + unn) + pjn * (u_nj + u_nj + unn)
        u_ijk = pin * (uni + uni + unn) + pjn * (u_nj + u_nj + unn)
    v_n = vote(rule, wn, u_ikj - u_ijk)  # [b, i, j, n]
    eye = np.eye(n, dtype=bool)
    third = ~(eye[:, None, :] | eye[None, :, :])  # n differs from both i and j
    v_n = np.where(third[None], v_n, 0.0)
    ch_ij = ch_ij0 + np.maximum(v_n, 0.0).sum(axis=-1)
    ch_ji = ch_ji0 - np.minimum(v_n, 0.0).sum(axis=-1)
    p_ij = ch_ij / (ch_ij + ch_ji)
    sj = ssum[:, None, :]
    eu_contest = p_ij * 2.0 + (ch_ji / (ch_ij + ch_ji)) * (u_ij + u_ij)
    gain = ((1.0 - sj) * 2.0 + sj * eu_contest) - (1.0 + u_ij)
    gain = np.where(eye[None], -np.inf, gain)
    ok = gain > _MIN_GAIN
    masked = np.where(ok, gain, -np.inf)
    target = np.argmax(masked, axis=-1)
    has = ok.any(axis=-1)
    p_best = np.take_along_axis(p_ij, target[..., None], axis=-1)[..., 0]
    return np.where(has, target, -1), p_best, np.where(ok, gain, np.nan), p_ij


def _interpolate(xi, si, xj, sj, p, o: SmpOptions):
    """Bargain positions (initiator, receiver) per dimension; p = P[initiator wins]."""
    q = 1.0 - p
    if o.interpolation == "S2PMax":
        di = np.maximum(q - p, 0.0)
        dj = np.maximum(p - q, 0.0)
        si2, sj2 = si * si, sj * sj
        dik = (di * sj2) / ((di * sj2) + _MIN_W + ((1.0 - di) * si2))
        djk = (dj * si2) / ((dj * si2) + _MIN_W + ((1.0 - dj) * sj2))
        return xi + dik * (xj - xi), xj + djk * (xi - xj)
    k = 2 if o.interpolation == "S2P2" else 1
    wi = si ** k * p ** k
    wj = sj ** k * q ** k
    den = wi + _MIN_W + wj
    bi = ((wi + _MIN_W) * xi + wj * xj) / den
    bj = (wi * xi + (_MIN_W + wj) * xj) / den
    return _round(bi, o.bargain_decimals), _round(bj, o.bargain_decimals)


def _step(x, s, c, dist, R, o: SmpOptions, draw: np.ndarray | None):
    """One turn of challenges, bargains and choices. Returns new positions and targets."""
    b, n, d = x.shape
    target, p_best, _, _ = _challenges(dist, R, s, c, o)
    has = target >= 0
    tgt = np.where(has, target, np.arange(n)[None, :])
    xj = np.take_along_axis(x, tgt[..., None], axis=1)
    sj = np.take_along_axis(s, tgt[..., None], axis=1)
    bi, bj = _interpolate(x, s, xj, sj, p_best[..., None], o)  # (B, i, d) each
    # Utility to every actor a of every bargain (one per initiator i), averaged over the state.
    r_aa = estimated_risk(R, R, o.risk_adjust)
    u_own = bs_util(dist, r_aa[:, :, None])  # U_a(a, m) [b, a, m]
    base = u_own.sum(axis=-1)  # (B, a)
    d_bi = distances(x, bi, s)  # [b, a, i]
    d_bj = distances(x, bj, s)
    pu_i = bs_util(d_bi, R[:, :, None])
    pu_j = bs_util(d_bj, R[:, :, None])
    u_at_i = u_own  # U_a(a, i) [b, a, i]
    u_at_j = np.take_along_axis(u_own, np.broadcast_to(tgt[:, None, :], (b, n, n)), axis=2)
    val = (base[:, :, None] - u_at_i - u_at_j + pu_i + pu_j) / n  # [b, a, i]
    val_sq = base / n  # [b, a]
    # Options: 0 = status quo, 1 + i = the bargain initiated by i. The strength of a
    # coalition for one option over another does not depend on whose queue holds them,
    # so one (n+1) x (n+1) matrix serves every actor's queue.
    opts = np.concatenate([val_sq[:, :, None], val], axis=-1)  # [b, a, o]
    coal_all = coalition_matrix(c, opts, o.voting_rule)  # [b, o1, o2]
    # Actor k's queue: status quo, then every bargain it is party to, by initiator index.
    ar = np.arange(n)
    own = ar[None, :, None] == ar[None, None, :]
    member = has[:, None, :] & (own | (target[:, None, :] == ar[None, :, None]))
    count = member.sum(axis=-1)  # (B, k)
    qmax = int(count.max()) + 1 if count.size else 1
    order = np.argsort(~member, axis=-1, kind="stable")[..., : qmax - 1]  # (B, k, Q-1)
    qvalid = np.concatenate([np.ones((b, n, 1), bool),
                             np.arange(qmax - 1)[None, None, :] < count[..., None]], axis=-1)
    qidx = np.concatenate([np.zeros((b, n, 1), int), order + 1], axis=-1)
    qidx = np.where(qvalid, qidx, 0)
    bidx = np.arange(b)[:, None, None, None]
    coal = coal_all[bidx, qidx[..., :, None], qidx[..., None, :]]  # (B, k, Q, Q)
    prob = pce(o.pce, o.victory_prob, coal, valid=qvalid)  # (B, k, Q)
    if o.transition == "Deterministic":
        choice = np.argmax(prob, axis=-1)
    else:
        cum = np.cumsum(prob, axis=-1)
        choice = np.minimum((cum < draw[..., None]).sum(axis=-1), count)
    if qmax > 1:
        chosen_i = np.take_along_axis(order, np.maximum(choice - 1, 0)[..., None], axis=-1)[..., 0]
    else:
        chosen_i = np.zeros((b, n), int)
    as_init = chosen_i == ar[None, :]
    new_i = np.take_along_axis(bi, chosen_i[..., None], axis=1)
    new_j = np.take_along_axis(bj, chosen_i[..., None], axis=1)
    new = np.where(as_init[..., None], new_i, new_j)
    new = np.where((choice == 0)[..., None], x, new)
    return new, target


def _unique_reps(x: np.ndarray, tol: float) -> np.ndarray:
    """rep[..., i] = index of the first earlier position within ``tol`` of i (itself if none)."""
    *lead, n, _ = x.shape
    diff = np.sqrt(((x[..., :, None, :] - x[..., None, :, :]) ** 2).sum(axis=-1))
    close = diff < tol
    is_rep = np.zeros(tuple(lead) + (n,), dtype=bool)
    rep = np.zeros(tuple(lead) + (n,), dtype=int)
    for i in range(n):
        cand = close[..., i, :i] & is_rep[..., :i]
        anyc = cand.any(axis=-1) if i else np.zeros(tuple(lead), bool)
        first = np.argmax(cand, axis=-1) if i else np.zeros(tuple(lead), int)
        rep[..., i] = np.where(anyc, first, i)
        is_rep[..., i] = ~anyc
    return rep


def position_probability(x, s, c, o: SmpOptions, dist=None, R=None) -> tuple[np.ndarray, np.ndarray]:
    """Probability of each distinct position in a state (B, n), and the representatives.

    prob[b, i] > 0 only where actor i is the first holder of a distinct position; it is the
    probability that this position wins a capability-weighted PCE among the distinct
    positions, using each actor's own risk-aware utilities.
    """
    if dist is None or R is None:
        dist, R = _risk(x, s, c, o)
    rep = _unique_reps(x, o.position_tolerance)
    valid = rep == np.arange(x.shape[1])
    r_aa = estimated_risk(R, R, o.risk_adjust)
    u = bs_util(dist, r_aa[..., :, None])
    coal = coalition_matrix(c, u, o.voting_rule, valid=valid)
    prob = pce(o.pce, o.victory_prob, coal, valid=valid)
    return np.where(valid, prob, 0.0), rep


def _normalise_saliences(s: np.ndarray, o: SmpOptions) -> np.ndarray:
    tot = s.sum(axis=-1, keepdims=True)
    if np.any(tot > 1.0 + 1e-9):
        if o.salience_overflow == "error":
            raise ValueError("smp: an actor's saliences sum to more than 1 across the space")
        s = np.where(tot > 1.0, s / np.where(tot > 0, tot, 1.0), s)
    return s


def _chunk_size(n: int) -> int:
    return max(1, int(3e6 // max(1, n**3)))


_COMPILED = False


def _f64(a) -> np.ndarray:
    """A writable C-contiguous float64 array (the one array type _run_one is compiled for)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a if a.flags.writeable else a.copy()


def _call_run_one(x0, s, c, codes, T, min_turns, o: SmpOptions, draws, traj, risk, targets, pprob):
    """_run_one with exactly the argument types it is compiled for."""
    return _run_one(_f64(x0), _f64(s), _f64(c), codes, int(T), int(min_turns),
                    float(o.stop_ratio), float(o.stop_epsilon), float(o.position_tolerance),
                    float(o.bargain_decimals), _f64(draws), traj, risk, targets, pprob)


def _ensure_compiled() -> None:
    """Compile (or load from Numba's disk cache) once per process, under a file lock.

    Numba's cache is not safe against several processes compiling the same function at the
    same time (numba/numba#4807: it can crash the process); Dask workers or parallel test
    runs would do exactly that on a fresh checkout. The lock serialises the first call.
    """
    global _COMPILED
    if _COMPILED:
        return
    import os
    import tempfile

    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        fcntl = None
    lock = os.path.join(tempfile.gettempdir(), "tawazun-smp-numba.lock")
    with open(lock, "a+") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            n, d, T = 2, 1, 1
            _call_run_one(np.array([[0.2], [0.8]]), np.full((n, d), 0.5), np.ones(n),
                          np.zeros(8, dtype=np.int64), T, 1, SmpOptions(), np.zeros((T, n)),
                          np.empty((T + 1, n, d)), np.empty((T + 1, n)),
                          np.empty((T, n), dtype=np.int64), np.empty((T + 1, n)))
        finally:
            if fcntl is not None:
                fcntl.flock(fh, fcntl.LOCK_UN)
    _COMPILED = True


def _simulate_compiled(x0, s, c, o: SmpOptions, draws) -> dict[str, np.ndarray]:
    _ensure_compiled()
    b, n, d = x0.shape
    T = int(o.max_turns)
    codes = np.array([_RULE_CODE[o.voting_rule], _VP_CODE[o.victory_prob], _PCE_CODE[o.pce],
                      _RR_CODE[o.risk_range], _RA_CODE[o.risk_adjust], _TP_CODE[o.third_party],
                      _IV_CODE[o.interpolation], int(o.transition == "Stochastic")], dtype=np.int64)
    turns = np.zeros(b, dtype=np.int64)
    runs: list = [None] * b

    def block(lo: int, hi: int) -> None:
        # Per-thread scratch for a full-length run; each draw's used part is kept.
        traj_k = np.empty((T + 1, n, d))
        risk_k = np.empty((T + 1, n))
        targets_k = np.empty((T, n), dtype=np.int64)
        pprob_k = np.empty((T + 1, n))
        nodraws = np.zeros((T, n))
        for k in range(lo, hi):
            tk = _call_run_one(x0[k], s[k], c[k], codes, T, o.min_turns, o,
                               nodraws if draws is None else draws[k], traj_k, risk_k, targets_k, pprob_k)
            turns[k] = tk
            runs[k] = (traj_k[: tk + 1].copy(), risk_k[: tk + 1].copy(), targets_k[:tk].copy(),
                       pprob_k[: tk + 1].copy())

    # Draws are independent and _run_one releases the GIL: contiguous blocks on threads.
    workers = max(1, min(b, default_threads("TAWAZUN_SMP_THREADS")))
    if workers == 1:
        block(0, b)
    else:
        edges = np.linspace(0, b, workers + 1).astype(int)
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for fut in [pool.submit(block, int(lo), int(hi)) for lo, hi in zip(edges[:-1], edges[1:])]:
                fut.result()
    last = int(turns.max()) if b else 0
    traj = np.empty((b, last + 1, n, d))
    risk = np.empty((b, last + 1, n))
    targets = np.full((b, last, n), -1, dtype=np.int64)
    pprob = np.empty((b, last + 1, n))
    for k, (tr, rk, tg, pp) in enumerate(runs):
        tk = turns[k]
        # a draw that stopped early repeats its final state
        traj[k, : tk + 1], traj[k, tk + 1:] = tr, tr[-1]
        risk[k, : tk + 1], risk[k, tk + 1:] = rk, rk[-1]
        pprob[k, : tk + 1], pprob[k, tk + 1:] = pp, pp[-1]
        targets[k, :tk] = tg
    return {"trajectory": traj, "turns": turns, "risk": risk, "targets": targets,
            "position_probability": pprob}


def simulate(x0: np.ndarray, s: np.ndarray, c: np.ndarray, o: SmpOptions,
             rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Run the model on normalised arrays. Returns trajectory (B, T+1, n, d), turns (B,),
    risk (B, T+1, n), targets (B, T, n), position_probability (B, T+1, n)."""
    b, n, d = x0.shape
    draws = None
    if o.transition == "Stochastic":
        if rng is None:
            rng = np.random.default_rng()
        draws = rng.random((b, o.max_turns, n))  # one uniform per draw, turn and actor
    if o.max_turns == 0:  # no bargaining: the input state and its position probabilities
        dist, R = _risk(x0, s, c, o)
        return {"trajectory": x0[:, None].copy(), "turns": np.zeros(b, dtype=np.int64),
                "risk": R[:, None], "targets": np.zeros((b, 0, n), dtype=np.int64),
                "position_probability": position_probability(x0, s, c, o, dist, R)[0][:, None]}
    if o.backend == "numba":
        return _simulate_compiled(x0, s, c, o, draws)
    traj = [x0.copy()]
    risks = []
    targets = []
    probs = []
    turns = np.zeros(b, dtype=int)
    active = np.ones(b, dtype=bool)
    x = x0.copy()
    dist01 = None
    dist, R = _risk(x, s, c, o)
    probs.append(position_probability(x, s, c, o, dist, R)[0])
    risks.append(R)
    t = 0
    while active.any():
        t += 1
        idx = np.flatnonzero(active)
        new = x.copy()
        tg = np.full((b, n), -1, dtype=int)
        newR = risks[-1].copy()
        newP = probs[-1].copy()
        step = _chunk_size(n)
        for lo in range(0, idx.size, step):
            sub = idx[lo: lo + step]
            nx, ntg = _step(x[sub], s[sub], c[sub], dist[sub], R[sub], o,
                            None if draws is None else draws[sub, t - 1])
            new[sub] = nx
            tg[sub] = ntg
        ndist, nR = dist.copy(), R.copy()
        for lo in range(0, idx.size, step):
            sub = idx[lo: lo + step]
            dd, rr = _risk(new[sub], s[sub], c[sub], o)
            ndist[sub], nR[sub] = dd, rr
            newP[sub] = position_probability(new[sub], s[sub], c[sub], o, dd, rr)[0]
            newR[sub] = rr
        moved = np.linalg.norm(new - x, axis=-1).sum(axis=-1)  # (B,)
        if t == 1:
            dist01 = moved + o.stop_epsilon
        quiet = moved / dist01 < o.stop_ratio
        stop = active & ((t >= o.max_turns) | ((t >= o.min_turns) & quiet))
        x = new
        dist, R = ndist, nR
        turns[active] = t
        traj.append(x.copy())
        risks.append(newR)
        probs.append(newP)
        targets.append(tg)
        active &= ~stop
    return {
        "trajectory": np.stack(traj, axis=1),
        "turns": turns,
        "risk": np.stack(risks, axis=1),
        "targets": np.stack(targets, axis=1) if targets else np.zeros((b, 0, n), int),
        "position_probability": np.stack(probs, axis=1),
    }


@register("smp", options=SmpOptions, dynamic=True, max_dims=None,
          summary="KTAB Spatial Model of Politics: challenges, bargains, PCE choice per turn")
def smp(problem: Problem, options: SmpOptions | None = None,
        rng: np.random.Generator | None = None) -> EngineResult:
    """KTAB's Spatial Model of Politics (exact re-implementation, batched).

    Returns ``trajectory`` (B, T+1, n, d) on the problem's scales (turn 0 = input; a draw
    that stopped before T repeats its last positions; ``diagnostics["turns"]`` (B,) says
    where each stopped) and ``forecast`` (B, d): the final position with the largest
    probability. ``diagnostics["position_probability"]`` (B, T+1, n): per turn, the
    probability of each distinct position, stored in the column of the first actor (in
    actor order) holding it and 0 for the other holders, so each row sums to 1.
    Also ``risk`` (B, T+1, n), ``targets`` (B, T, n; -1 = none) and ``winner`` (B,).
    """
    o = options or SmpOptions()
    o.validate()
    lo = problem.lower[None, None, :]
    span = (problem.upper - problem.lower)[None, None, :]
    span = np.where(span > 0, span, 1.0)
    x0 = np.clip((problem.position - lo) / span, 0.0, 1.0)
    s = _normalise_saliences(np.clip(problem.salience, 0.0, None), o)
    c = np.clip(problem.capability, 0.0, None)
    if o.transition == "Stochastic" and rng is None:
        rng = np.random.default_rng()
    out = simulate(x0, s, c, o, rng)
    traj = out["trajectory"]
    final = traj[:, -1]
    pfinal = out["position_probability"][:, -1]
    win = np.argmax(pfinal, axis=-1)
    forecast = np.take_along_axis(final, win[:, None, None], axis=1)[:, 0] * span[0] + lo[0]
    diagnostics = {
        "turns": out["turns"],
        "position_probability": out["position_probability"],
        "risk": out["risk"],
        "targets": out["targets"],
        "winner": win,
    }
    return EngineResult("smp", forecast, traj * span[:, None] + lo[:, None], diagnostics, asdict(o))
