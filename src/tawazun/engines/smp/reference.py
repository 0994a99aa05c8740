"""The NumPy reference of the Spatial Model of Politics, vectorised over the batch (B), the
actors and the actor pairs: the readable arithmetic, tested against the compiled backend.

Array names: ``x`` positions (B, n, d) in [0, 1]; ``s`` saliences (B, n, d); ``c``
capabilities (B, n); ``D[b, a, m]`` the salience-weighted distance from actor a's ideal
(= its current position) to actor m's position; ``R`` (B, n) risk attitudes.
"""

from __future__ import annotations

import numpy as np

from tawazun.engines.smp.options import (
    _BINARY_STEP, _BINARY_VP_MIN, _BINARY_VP_THRESH, _MIN_CHALLENGE, _MIN_COALITION, _MIN_GAIN,
    _MIN_W, SmpOptions,
)

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
# One turn


def risk_state(x: np.ndarray, s: np.ndarray, c: np.ndarray, o: SmpOptions) -> tuple[np.ndarray, np.ndarray]:
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
        dist, R = risk_state(x, s, c, o)
    rep = _unique_reps(x, o.position_tolerance)
    valid = rep == np.arange(x.shape[1])
    r_aa = estimated_risk(R, R, o.risk_adjust)
    u = bs_util(dist, r_aa[..., :, None])
    coal = coalition_matrix(c, u, o.voting_rule, valid=valid)
    prob = pce(o.pce, o.victory_prob, coal, valid=valid)
    return np.where(valid, prob, 0.0), rep


def normalise_saliences(s: np.ndarray, o: SmpOptions) -> np.ndarray:
    tot = s.sum(axis=-1, keepdims=True)
    if np.any(tot > 1.0 + 1e-9):
        if o.salience_overflow == "error":
            raise ValueError("smp: an actor's saliences sum to more than 1 across the space")
        s = np.where(tot > 1.0, s / np.where(tot > 0, tot, 1.0), s)
    return s


def _chunk_size(n: int) -> int:
    return max(1, int(3e6 // max(1, n**3)))



def simulate(x0: np.ndarray, s: np.ndarray, c: np.ndarray, o: SmpOptions,
             draws: np.ndarray | None) -> dict[str, np.ndarray]:
    """The whole run, turn by turn over the batch (``max_turns`` >= 1; ``draws`` (B, T, n)
    uniforms for the stochastic transition, else None). Same contract as
    :func:`tawazun.engines.smp.simulate`."""
    b, n, d = x0.shape
    traj = [x0.copy()]
    risks = []
    targets = []
    probs = []
    turns = np.zeros(b, dtype=int)
    active = np.ones(b, dtype=bool)
    x = x0.copy()
    dist01 = None
    dist, R = risk_state(x, s, c, o)
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
            dd, rr = risk_state(new[sub], s[sub], c[sub], o)
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
