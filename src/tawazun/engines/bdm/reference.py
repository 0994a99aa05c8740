"""The NumPy reference of the expected-utility model: the readable arithmetic.

(B, n), (B, n, n) and (B, n, n, n) arrays, a Python loop over rounds and over chunks of
the batch only. It is the path for ``risk_range="alternatives"``; for every other option
set the compiled kernels (``kernels.simulate``) compute the same numbers and the tests
check that the two agree. Positions are in scale units u = (x - lower) / R.
"""

from __future__ import annotations

import numpy as np

from tawazun.engines.bdm.options import BdmOptions
from tawazun.engines.median import weighted_median

# Pairwise work is done on (chunk, n, n[, n]) arrays; this bounds one chunk's elements.
_CHUNK_ELEMENTS = 2_000_000


def _batch_median(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """c*s weighted (lower) median per draw; equal weights where a draw's weights are all 0."""
    total = w.sum(axis=1, keepdims=True)
    w = np.where(total > 0, w, 1.0)
    return weighted_median(x, w, axis=1)


def _batch_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    safe = np.where(total > 0, total, 1.0)
    mean = (w * x).sum(axis=1) / safe
    return np.where(total > 0, mean, x.mean(axis=1))


def vote_sums(dist: np.ndarray, w: np.ndarray, voters: str) -> tuple[np.ndarray, np.ndarray]:
    """For every ordered pair (i, j): numerator and denominator of P_i(j).

    d_k = |x_k - x_j| - |x_k - x_i| = dist[k, j] - dist[k, i];
    num[i, j] = sum_k w_k max(d_k, 0), den[i, j] = sum_k w_k |d_k|.
    dist is (b, n, n) in scale units (row k = voter k's distances), w (b, n).
    """
    # diff[b, k, i, j] = dist[b, k, j] - dist[b, k, i]
    diff = dist[:, :, None, :] - dist[:, :, :, None]
    if voters == "third_parties":
        n = dist.shape[1]
        eye = np.eye(n, dtype=bool)
        # voter k is excluded from pair (i, j) when k == i or k == j
        excl = eye[:, :, None] | eye[:, None, :]
        diff = np.where(excl[None], 0.0, diff)
    pos = np.maximum(diff, 0.0)
    np.abs(diff, out=diff)
    num = np.einsum("bkij,bk->bij", pos, w)
    den = np.einsum("bkij,bk->bij", diff, w)
    return num, den


def prob(num: np.ndarray, den: np.ndarray, norm: str = "pair") -> np.ndarray:
    """P_i(j) = num / den; 1/2 where nobody separates the two (den = 0)."""
    if norm == "all_pairs":
        den = np.broadcast_to(den.sum(axis=(1, 2))[:, None, None], den.shape)
    safe = np.where(den > 0, den, 1.0)
    return np.where(den > 0, num / safe, 0.5)


def _utilities(D: np.ndarray, M: np.ndarray, r: np.ndarray):
    """Us, Uf, Usq, Ub, Uw for distances D = |x_i - x_j|/R, M = (|x_i - mu| + |x_i - x_j|)/R."""
    if np.all(r == 1.0):
        return 2.0 * D, -2.0 * D, 0.0, M, -M
    us = 2.0 - 4.0 * np.power(0.5 - 0.5 * D, r)
    uf = 2.0 - 4.0 * np.power(0.5 + 0.5 * D, r)
    usq = 2.0 - 4.0 * np.power(0.5, r)
    ub = 2.0 - 4.0 * np.power(0.5 - 0.25 * M, r)
    uw = 2.0 - 4.0 * np.power(0.5 + 0.25 * M, r)
    return us, uf, usq, ub, uw


def _eu(D: np.ndarray, M: np.ndarray, P: np.ndarray, s_target: np.ndarray, r: np.ndarray,
        q: float) -> np.ndarray:
    """Expected utility of a challenge for every directed pair, (b, n, n).

    D = |x_c - x_t|/R, M = (|x_c - mu| + |x_c - x_t|)/R, P = P_c(t) (c challenger,
    t target), s_target the target's salience and r the valuing actor's risk exponent,
    each broadcastable to (b, n, n).
    """
    us, uf, usq, ub, uw = _utilities(D, M, r)
    eu = s_target * (P * us + (1.0 - P) * uf) + (1.0 - s_target) * us - q * usq
    if q < 1.0:
        # T = 1 when the reference point is closer to the challenger than the target is
        t = (M - D) < D
        eu = eu - (1.0 - q) * np.where(t, ub, uw)
    return eu


def _security_alternatives(dist: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions) -> np.ndarray:
    """Security of actor i if it stood at each actor l's position, (b, i, l), others fixed.

    Expected utilities at r = 1 without the Q terms (they vanish at r = 1 and Q = 1) and
    with P normalised per pair (``prob_norm`` does not apply here). Moving actor i to x_l
    changes each pairwise vote total only by actor i's own vote, so the (l, j) totals
    over all actors are reused: O(n^3) per draw rather than O(n^4).
    """
    n = dist.shape[1]
    num_full, den_full = vote_sums(dist, w, "all")  # [l, j]: would x_l beat x_j
    # With i placed at y = x_l, the contest "j challenges i" is decided by
    # d_k = |x_k - y| - |x_k - x_j|  (positive: k closer to x_j than to y)
    # The full-sum version of that is num over (j beats l): num_full[j, l], den_full[j, l].
    nt = np.swapaxes(num_full, 1, 2)  # [l, j] -> votes for j against l
    dt = np.swapaxes(den_full, 1, 2)
    A = dist  # A[a, b] = |x_a - x_b|
    wi = w[:, :, None, None]  # (b, i, 1, 1)
    # voter i's own term at its original place: d = A[i, l] - A[i, j]  (towards j positive)
    own = A[:, :, :, None] - A[:, :, None, :]  # (b, i, l, j)
    # voter i at y: d = |y - y| - |y - x_j| = -A[l, j]
    at_y = -A[:, None, :, :]  # (b, 1, l, j)
    num = nt[:, None] - wi * np.maximum(own, 0.0) + wi * np.maximum(at_y, 0.0)
    den = dt[:, None] - wi * np.abs(own) + wi * np.abs(at_y)
    if opts.prob_voters == "third_parties":
        # drop voter i (at y, already added above) and voter j (at x_j: d = A[j, l])
        wj = w[:, None, None, :]
        ajl = np.swapaxes(A, 1, 2)[:, None]  # (b, 1, l, j) = A[j, l]
        num = num - wi * np.maximum(at_y, 0.0) - wj * ajl
        den = den - wi * np.abs(at_y) - wj * ajl
    num = np.maximum(num, 0.0)
    p_j = prob(num, np.maximum(den, 0.0))  # P_j(i at y), (b, i, l, j)
    D = A[:, None, :, :]  # |x_j - y| = A[l, j]
    if opts.security_sum == "received":
        # E_j(U_j,i) with r = 1: 2D (1 - 2 s_i (1 - P_j))
        si = s[:, :, None, None]
        eu = 2.0 * D * (1.0 - 2.0 * si * (1.0 - p_j))
    else:
        # E_i(U_i,j) with i at y: P_i = 1 - P_j where the contest is decided, target salience s_j
        p_i = np.where(den > 0, 1.0 - p_j, 0.5)
        sj = s[:, None, None, :]
        eu = 2.0 * D * (1.0 - 2.0 * sj * (1.0 - p_i))
    # exclude j == i
    mask = ~np.eye(n, dtype=bool)[None, :, None, :]
    return np.where(mask, eu, 0.0).sum(axis=3)


def _risk_exponent(sec: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    span = hi - lo
    ok = span > 1e-12 * np.maximum(1.0, np.maximum(np.abs(hi), np.abs(lo)))
    big_r = np.where(ok, (2.0 * sec - hi - lo) / np.where(ok, span, 1.0), 0.0)
    big_r = np.clip(big_r, -1.0, 1.0)
    return (1.0 - big_r / 3.0) / (1.0 + big_r / 3.0)


def _round(x: np.ndarray, w: np.ndarray, s: np.ndarray, scale: float,
           lower: float, opts: BdmOptions):
    """One round for a chunk: new positions (b, n), offer counts (b, 4), risk exponents."""
    b, n = x.shape
    u = (x - lower) / scale  # positions in scale units, [0, 1]
    dist = np.abs(u[:, :, None] - u[:, None, :])  # D[i, j] = |x_i - x_j| / R
    offdiag = ~np.eye(n, dtype=bool)[None]
    ones = np.ones((b, n))
    if opts.q < 1.0:
        mu = _batch_median(u, w) if opts.reference == "median" else _batch_mean(u, w)
        M = np.abs(u - mu[:, None])[:, :, None] + dist
    else:
        M = dist
    num, den = vote_sums(dist, w, opts.prob_voters)
    P1 = prob(num, den, opts.prob_norm)
    s_col = s[:, None, :]  # target j's salience for pair (i, j)

    if opts.risk:
        if opts.risk_range == "actors":
            e1 = np.where(offdiag, _eu(dist, M, P1, s_col, ones[:, :, None], opts.q), 0.0)
            sec = e1.sum(axis=1) if opts.security_sum == "received" else e1.sum(axis=2)
            r = _risk_exponent(sec, sec.min(axis=1, keepdims=True), sec.max(axis=1, keepdims=True))
        else:
            alt = _security_alternatives(dist, w, s, opts)  # (b, i, l)
            sec = alt[:, np.arange(n), np.arange(n)]
            r = _risk_exponent(sec, alt.min(axis=2), alt.max(axis=2))
    else:
        r = ones

    if opts.vote_risk and not np.all(r == 1.0):
        num, den = vote_sums(np.power(dist, r[:, :, None]), w, opts.prob_voters)
        P = prob(num, den, opts.prob_norm)
    else:
        P = P1
    # a[i, j]: proposer i's EU of challenging j; bb[i, j]: receiver j's EU of challenging i.
    MT = np.swapaxes(M, 1, 2)
    PT = np.swapaxes(P, 1, 2)
    s_row = s[:, :, None]
    if opts.perspective == "own":
        E = np.where(offdiag, _eu(dist, M, P, s_col, r[:, :, None], opts.q), 0.0)
        a = E
        bb = np.swapaxes(E, 1, 2)
    else:
        rj = r[:, None, :]
        a = np.where(offdiag, _eu(dist, M, P, s_col, rj, opts.q), 0.0)
        bb = np.where(offdiag, _eu(dist, MT, PT, s_row, rj, opts.q), 0.0)

    # actors at the same position have nothing to bargain about
    apart = dist > 0
    a = np.where(apart, a, 0.0)
    bb = np.where(apart, bb, 0.0)
    sent = (a > 0) & offdiag
    conflict = sent & (bb > 0)
    if opts.conflict_rule == "weaker_moves":
        lost = conflict & (a > bb)
    else:
        lost = np.zeros_like(conflict)
    yielding = sent & ~(bb > 0)
    compromise = yielding & (a > -bb)
    capitulate = yielding & ~(a > -bb)
    if not opts.capitulation:
        capitulate = np.zeros_like(capitulate)
    xi = u[:, :, None]
    xj = u[:, None, :]
    frac = np.where(compromise, -bb / np.where(compromise, a, 1.0), 0.0)
    if opts.compromise_sign == "figure":
        frac = np.where(compromise, 1.0 - frac, 0.0)
    target = np.where(lost | capitulate, xi, xj + (xi - xj) * frac)
    offer = lost | compromise | capitulate
    move = np.abs(target - xj)
    if opts.offer_choice == "least_move":
        pick = np.argmin(np.where(offer, move, np.inf), axis=1)
    elif opts.offer_choice == "largest_eu":
        # largest sender EU (equal within 1e-12 relative), then the least move
        key = np.where(offer, a, -np.inf)
        best = key.max(axis=1, keepdims=True)
        pick = np.argmin(np.where(offer & (key >= best * (1.0 - 1e-12)), move, np.inf), axis=1)
    else:
        # by type: lost conflict, else compromise, else capitulation
        rank = np.where(lost, 0, np.where(compromise, 1, 2))
        top = np.where(offer, rank, 3).min(axis=1, keepdims=True)
        within = offer & (rank == top)
        if opts.offer_choice == "by_type_low_point":
            point = (-bb * xj + a * xi) / np.where(compromise, a - bb, 1.0)
            key = np.where(compromise, point, move)
        else:
            key = move
        pick = np.argmin(np.where(within, key, np.inf), axis=1)
    chosen = np.take_along_axis(target, pick[:, None, :], axis=1)[:, 0, :]
    has = offer.any(axis=1)
    new_u = np.clip(np.where(has, chosen, u), 0.0, 1.0)
    counts = np.stack([
        lost.sum(axis=(1, 2)), compromise.sum(axis=(1, 2)), capitulate.sum(axis=(1, 2)),
        (new_u != u).sum(axis=1),
    ], axis=1)
    return lower + new_u * scale, counts, r


def simulate(u0: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions):
    """Reference implementation on (B, n, n) arrays, chunked over the batch.

    u0 (B, n) positions in scale units [0, 1]. Returns trajectory (B, T+1, n) in scale
    units, offer counts (B, T, 4) and risk exponents (B, T, n).
    """
    B, n = u0.shape
    T = int(opts.rounds)
    traj = np.empty((B, T + 1, n))
    traj[:, 0] = u0
    counts = np.zeros((B, T, 4), dtype=np.int64)
    risk = np.ones((B, T, n))
    chunk = max(1, min(B, _CHUNK_ELEMENTS // max(1, n * n * n)))
    for start in range(0, B, chunk):
        sl = slice(start, min(B, start + chunk))
        x = u0[sl]
        for t in range(T):
            x, cnt, r = _round(x, w[sl], s[sl], 1.0, 0.0, opts)
            traj[sl, t + 1] = x
            counts[sl, t] = cnt
            risk[sl, t] = r
    if opts.converge:
        # every round was computed; overwrite the ones the stop skips (the same rule)
        from tawazun.engines.bdm.kernels import apply_stop

        apply_stop(traj, counts, risk, float(opts.converge_tol))
    return traj, counts, risk

