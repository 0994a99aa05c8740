"""The compiled (Numba) path of the expected-utility model, the default.

The batch in cache-sized chunks, rounds outside, and within a round Numba kernels that go
draw by draw, with NumPy's vectorised log and exp evaluating the powers of the whole chunk
on flat per-draw rows the kernels fill and read (``_pow_layout``). The vote sums cost
O(n^2) per draw instead of O(n^3) (see ``_nb_vote_sums``). Chunks may be shared among
threads (``set_threads``); every draw's arithmetic is the same on any thread. Profiling
showed the NumPy reference (``reference.py``) about 25 times slower than the speed target
on the emission case; the tests check the two agree.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tawazun.engines.bdm.options import CYCLE_MAX, BdmOptions
from tawazun.engines.threads import compile_once, default_threads, fan_out

# The compiled path keeps its (chunk, n, n) arrays small enough to stay in cache.
_KERNEL_CHUNK_ELEMENTS = 1 << 16
# Median and mean rows are only split among threads above this many rows per thread.
_SUMMARY_ROWS_PER_THREAD = 8192

# ---------------------------------------------------------------------------------------
# Compiled path. In one dimension voter k is closer to x_i than to x_j exactly when it
# lies on x_i's side of their midpoint, so each vote sum is a difference of prefix sums
# over the actors sorted by position; walking the pairs in position order, the count of
# voters below the midpoint only moves forward (two pointers), O(n^2) per draw.
# ---------------------------------------------------------------------------------------

_OPT_CODES = {
    "reference": {"median": 0, "mean": 1},
    "security_sum": {"received": 0, "given": 1},
    "prob_voters": {"all": 0, "third_parties": 1},
    "conflict_rule": {"weaker_moves": 0, "nobody_moves": 1},
    "compromise_sign": {"text": 0, "figure": 1},
    "offer_choice": {"by_type_low_point": 0, "least_move": 1, "by_type": 2, "largest_eu": 3},
    "perspective": {"own": 0, "receiver": 1},
    "prob_norm": {"pair": 0, "all_pairs": 1},
}


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_weighted_median(u, w, order):
    n = u.shape[0]
    total = 0.0
    for k in range(n):
        total += w[k]
    if total <= 0.0:
        # equal weights
        half = 0.5 * n
        cum = 0.0
        for m in range(n):
            cum += 1.0
            if cum >= half * (1.0 - 1e-12):
                return u[order[m]]
        return u[order[n - 1]]
    half = 0.5 * total
    cum = 0.0
    for m in range(n):
        cum += w[order[m]]
        if cum >= half * (1.0 - 1e-12):
            return u[order[m]]
    return u[order[n - 1]]


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_vote_sums(u, w, order, third, plain_distance, num, den, phi, cw, ptr, reuse):
    """num[i, j], den[i, j] of P_i(j) for one draw. phi[k, l] is voter k's (possibly
    risk-transformed) distance to actor l; with plain_distance the distances are
    |u_k - u_l|, computed here (phi is then not used). cw is a work array. The voter
    counts below each pair's midpoint depend on the positions only: they are stored in
    ptr (two per pair, pairs in position order) and, with reuse, read back from it
    instead of being searched again."""
    n = u.shape[0]
    # cw[c, l] = sum over the first c actors in position order of w_k phi[k, l]
    for l in range(n):
        cw[0, l] = 0.0
    for c in range(n):
        k = order[c]
        wk = w[k]
        if plain_distance:
            uk = u[k]
            for l in range(n):
                cw[c + 1, l] = cw[c, l] + wk * abs(uk - u[l])
        else:
            for l in range(n):
                cw[c + 1, l] = cw[c, l] + wk * phi[k, l]
    # Pairs in position order: for a fixed lower actor the midpoint rises with the upper
    # one, so the two voter counts below it only move forward (two pointers, O(n^2)).
    for a in range(n):
        num[a, a] = 0.0
        den[a, a] = 0.0
    q = 0
    for ia in range(n):
        lo = order[ia]
        c_lt = ia  # #{k: u_k < mid}
        c_le = ia  # #{k: u_k <= mid}
        for ib in range(ia + 1, n):
            hi = order[ib]
            q += 2
            if u[hi] == u[lo]:
                num[lo, hi] = 0.0
                num[hi, lo] = 0.0
                den[lo, hi] = 0.0
                den[hi, lo] = 0.0
                continue
            if reuse:
                c_lt = ptr[q - 2]
                c_le = ptr[q - 1]
            else:
                mid = 0.5 * (u[lo] + u[hi])
                while c_lt < n and u[order[c_lt]] < mid:
                    c_lt += 1
                if c_le < c_lt:
                    c_le = c_lt
                while c_le < n and u[order[c_le]] <= mid:
                    c_le += 1
                ptr[q - 2] = c_lt
                ptr[q - 1] = c_le
            # voters below the midpoint prefer lo; above it prefer hi
            for_lo = (cw[c_lt, hi] - cw[c_lt, lo])
            for_hi = (cw[n, lo] - cw[c_le, lo]) - (cw[n, hi] - cw[c_le, hi])
            if third:
                # drop the two contenders' own votes
                if plain_distance:
                    d = abs(u[lo] - u[hi])
                    for_lo -= w[lo] * d
                    for_hi -= w[hi] * d
                else:
                    for_lo -= w[lo] * phi[lo, hi]
                    for_hi -= w[hi] * phi[hi, lo]
                if for_lo < 0.0:
                    for_lo = 0.0
                if for_hi < 0.0:
                    for_hi = 0.0
            num[lo, hi] = for_lo
            num[hi, lo] = for_hi
            den[lo, hi] = for_lo + for_hi
            den[hi, lo] = for_lo + for_hi


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_prob(num, den, all_pairs, P):
    n = num.shape[0]
    norm = 0.0
    if all_pairs:
        for i in range(n):
            for j in range(n):
                norm += den[i, j]
    for i in range(n):
        for j in range(n):
            d = norm if all_pairs else den[i, j]
            P[i, j] = num[i, j] / d if d > 0.0 else 0.5


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_eu(us, uf, usq, Dij, mu_c, P, s_t, r, q):
    """E of challenger c against target t from the success/failure utilities us, uf,
    the status-quo utility usq (all at risk exponent r), Dij = |x_c - x_t|,
    mu_c = |x_c - mu| and P = P_c(t)."""
    e = s_t * (P * us + (1.0 - P) * uf) + (1.0 - s_t) * us - q * usq
    if q < 1.0:
        M = mu_c + Dij
        if mu_c < Dij:
            ub = M if r == 1.0 else 2.0 - 4.0 * (0.5 - 0.25 * M) ** r
            e -= (1.0 - q) * ub
        else:
            uw = -M if r == 1.0 else 2.0 - 4.0 * (0.5 + 0.25 * M) ** r
            e -= (1.0 - q) * uw
    return e


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_sort(u, order):
    """Stable insertion sort of indices by position (n is small, and positions change
    little from round to round, so the previous order is a good start)."""
    n = u.shape[0]
    for m in range(1, n):
        k = order[m]
        v = u[k]
        p = m - 1
        while p >= 0 and (u[order[p]] > v or (u[order[p]] == v and order[p] > k)):
            order[p + 1] = order[p]
            p -= 1
        order[p + 1] = k


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_stage_risk(u, w, s, order, q, risk, reference, security_sum, third, all_pairs,
                   use_phi, P1, r, mud, LA, num, den, phi, cw, sec, ptr):
    """Per draw of a chunk: sort, reference point, P with r = 1, risk exponents and,
    with risk, the arguments of the logarithms in the powers (see ``_pow_layout``)."""
    B, n = u.shape
    npair = n * (n - 1) // 2
    for b in range(B):
        ub = u[b]
        wb = w[b]
        sb = s[b]
        ob = order[b]
        _nb_sort(ub, ob)
        if q < 1.0:
            if reference == 0:
                mu = _nb_weighted_median(ub, wb, ob)
            else:
                tot = 0.0
                acc = 0.0
                for k in range(n):
                    tot += wb[k]
                    acc += wb[k] * ub[k]
                if tot > 0.0:
                    mu = acc / tot
                else:
                    mu = 0.0
                    for k in range(n):
                        mu += ub[k]
                    mu /= n
            for k in range(n):
                mud[b, k] = abs(ub[k] - mu)
        else:
            for k in range(n):
                mud[b, k] = 0.0
        _nb_vote_sums(ub, wb, ob, third, True, num, den, phi, cw, ptr[b], False)
        _nb_prob(num, den, all_pairs, P1[b])
        if not risk:
            for k in range(n):
                r[b, k] = 1.0
            continue
        # log arguments of the pair (i < j): 1/2 - D/2, 1/2 + D/2 and D (D symmetric)
        la = LA[b]
        p = 0
        for i in range(n):
            ui = ub[i]
            for j in range(i + 1, n):
                d = abs(ui - ub[j])
                la[p] = d * -0.5 + 0.5
                la[npair + p] = d * 0.5 + 0.5
                p += 1
        if use_phi:
            p = 2 * npair
            for i in range(n):
                ui = ub[i]
                for j in range(i + 1, n):
                    la[p] = abs(ui - ub[j])
                    p += 1
        for k in range(n):
            sec[k] = 0.0
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                Dij = abs(ub[i] - ub[j])
                e = _nb_eu(2.0 * Dij, -2.0 * Dij, 0.0, Dij, mud[b, i], P1[b, i, j], sb[j], 1.0, q)
                if security_sum == 0:
                    sec[j] += e
                else:
                    sec[i] += e
        lo = sec[0]
        hi = sec[0]
        for k in range(1, n):
            lo = min(lo, sec[k])
            hi = max(hi, sec[k])
        span = hi - lo
        ok = span > 1e-12 * max(1.0, max(abs(hi), abs(lo)))
        for k in range(n):
            R = (2.0 * sec[k] - hi - lo) / span if ok else 0.0
            R = min(1.0, max(-1.0, R))
            r[b, k] = (1.0 - R / 3.0) / (1.0 + R / 3.0)


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_exp_args(L, r, use_phi, log_half, E):
    """Exponent arguments r log(.) from the logarithms L (layout of ``_pow_layout``)."""
    B, n = r.shape
    npair = n * (n - 1) // 2
    base = (6 if use_phi else 4) * npair
    for b in range(B):
        lb = L[b]
        eb = E[b]
        rb = r[b]
        p = 0
        for i in range(n):
            ri = rb[i]
            for j in range(i + 1, n):
                rj = rb[j]
                ls = lb[p]
                lf = lb[npair + p]
                eb[p] = ls * rj  # GS[i, j] = (1/2 - D/2)^(r_j)
                eb[npair + p] = ls * ri  # GS[j, i]
                eb[2 * npair + p] = lf * rj  # GF[i, j] = (1/2 + D/2)^(r_j)
                eb[3 * npair + p] = lf * ri  # GF[j, i]
                if use_phi:
                    lp = lb[2 * npair + p]
                    eb[4 * npair + p] = lp * ri  # PHI[i, j] = D^(r_i)
                    eb[5 * npair + p] = lp * rj  # PHI[j, i] = D^(r_j)
                p += 1
        for k in range(n):
            eb[base + k] = rb[k] * log_half  # 1/2^(r_k)


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_stage_offers(u, w, s, order, q, third, weaker_moves, figure, offer_choice,
                     receiver, all_pairs, capitulation, use_phi, P1, r, mud, E,
                     new_u, counts, num, den, phi, cw, P, A, Bm, kinds, targets, ptr):
    """Per draw of a chunk: votes with risk (with ``use_phi``), expected utilities from
    the powers E (layout of ``_pow_layout``; Us = 2 - 4 (1/2 - D/2)^r, Uf = 2 - 4
    (1/2 + D/2)^r, exact linear forms where r = 1), the offers and the chosen moves
    (into new_u) with counts (lost conflicts, compromises, capitulations, moved)."""
    B, n = u.shape
    npair = n * (n - 1) // 2
    base = (6 if use_phi else 4) * npair
    for b in range(B):
        ub = u[b]
        sb = s[b]
        rb = r[b]
        eb = E[b]
        if use_phi:
            # voter k's distance to l raised to r_k; exactly D where r_k = 1
            p = 0
            for i in range(n):
                phi[i, i] = 0.0
                for j in range(i + 1, n):
                    d = abs(ub[i] - ub[j])
                    phi[i, j] = d if rb[i] == 1.0 else eb[4 * npair + p]
                    phi[j, i] = d if rb[j] == 1.0 else eb[5 * npair + p]
                    p += 1
            _nb_vote_sums(ub, w[b], order[b], third, False, num, den, phi, cw, ptr[b], True)
            _nb_prob(num, den, all_pairs, P)
            Pb = P
        else:
            Pb = P1[b]
        p = -1
        for i in range(n):
            A[i, i] = 0.0
            Bm[i, i] = 0.0
            ri = rb[i]
            sq_i = 0.0 if ri == 1.0 else 2.0 - 4.0 * eb[base + i]
            for j in range(i + 1, n):
                p += 1
                Dij = abs(ub[i] - ub[j])
                if Dij == 0.0:
                    # actors at the same position have nothing to bargain about
                    A[i, j] = 0.0
                    A[j, i] = 0.0
                    Bm[i, j] = 0.0
                    Bm[j, i] = 0.0
                    continue
                rj = rb[j]
                if ri == 1.0:
                    us_i = 2.0 * Dij
                    uf_i = -2.0 * Dij
                else:
                    us_i = 2.0 - 4.0 * eb[npair + p]
                    uf_i = 2.0 - 4.0 * eb[3 * npair + p]
                if rj == 1.0:
                    us_j = 2.0 * Dij
                    uf_j = -2.0 * Dij
                    sq_j = 0.0
                else:
                    us_j = 2.0 - 4.0 * eb[p]
                    uf_j = 2.0 - 4.0 * eb[2 * npair + p]
                    sq_j = 2.0 - 4.0 * eb[base + j]
                # i challenging j valued by i, and j challenging i valued by j
                e_ij_i = _nb_eu(us_i, uf_i, sq_i, Dij, mud[b, i], Pb[i, j], sb[j], ri, q)
                e_ji_j = _nb_eu(us_j, uf_j, sq_j, Dij, mud[b, j], Pb[j, i], sb[i], rj, q)
                if receiver:
                    # each receiver values both directions with its own exponent
                    A[i, j] = _nb_eu(us_j, uf_j, sq_j, Dij, mud[b, i], Pb[i, j], sb[j], rj, q)
                    Bm[i, j] = e_ji_j
                    A[j, i] = _nb_eu(us_i, uf_i, sq_i, Dij, mud[b, j], Pb[j, i], sb[i], ri, q)
                    Bm[j, i] = e_ij_i
                else:
                    A[i, j] = e_ij_i
                    Bm[i, j] = e_ji_j
                    A[j, i] = e_ji_j
                    Bm[j, i] = e_ij_i
        n_lost = 0
        n_comp = 0
        n_cap = 0
        n_moved = 0
        for j in range(n):
            # classify the offers to j (kind -1: none, 0 lost conflict, 1 compromise,
            # 2 capitulation) and their targets; except for "largest_eu", which needs
            # the top EU first (a second pass), choose in the same pass
            top_eu = -np.inf
            best = -1
            best_rank = 3
            best_key = np.inf
            uj = ub[j]
            for i in range(n):
                kinds[i] = -1
                if i == j:
                    continue
                a = A[i, j]
                if not a > 0.0:
                    continue
                bb = Bm[i, j]
                kind = -1
                if bb > 0.0:
                    if weaker_moves and a > bb:
                        kind = 0
                        n_lost += 1
                        target = ub[i]
                elif a > -bb:
                    kind = 1
                    n_comp += 1
                    frac = -bb / a
                    if figure:
                        frac = 1.0 - frac
                    target = uj + (ub[i] - uj) * frac
                elif capitulation:
                    kind = 2
                    n_cap += 1
                    target = ub[i]
                if kind < 0:
                    continue
                kinds[i] = kind
                targets[i] = target
                if a > top_eu:
                    top_eu = a
                if offer_choice == 3:
                    continue
                move = abs(target - uj)
                if offer_choice == 1:  # least move
                    rank = 0
                    key = move
                else:  # by type
                    rank = kind
                    if offer_choice == 0 and kind == 1:
                        key = (-bb * uj + a * ub[i]) / (a - bb)
                    else:
                        key = move
                if rank < best_rank or (rank == best_rank and key < best_key):
                    best = i
                    best_rank = rank
                    best_key = key
            if offer_choice == 3:
                # largest sender EU (to 1e-12), then least move
                for i in range(n):
                    if kinds[i] < 0:
                        continue
                    a = A[i, j]
                    rank = 0 if a >= top_eu * (1.0 - 1e-12) else 1
                    key = abs(targets[i] - uj)
                    if rank < best_rank or (rank == best_rank and key < best_key):
                        best = i
                        best_rank = rank
                        best_key = key
            if best >= 0:
                new_u[b, j] = min(1.0, max(0.0, targets[best]))
            else:
                new_u[b, j] = ub[j]
            if new_u[b, j] != ub[j]:
                n_moved += 1
        counts[b, 0] = n_lost
        counts[b, 1] = n_comp
        counts[b, 2] = n_cap
        counts[b, 3] = n_moved


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_summaries(x, w, median, mean):
    """Per row of x (rows, n) with weights w (rows, n): the lower weighted median (as
    ``tawazun.engines.median.weighted_median``) and the weighted mean; equal weights
    where a row's weights sum to 0."""
    rows, n = x.shape
    order = np.arange(n)
    for row in range(rows):
        xr = x[row]
        wr = w[row]
        total = 0.0
        acc = 0.0
        for k in range(n):
            total += wr[k]
            acc += wr[k] * xr[k]
        equal = not total > 0.0
        if equal:
            total = float(n)
            acc = 0.0
            for k in range(n):
                acc += xr[k]
        mean[row] = acc / total
        # stable insertion sort of the row
        for k in range(n):
            order[k] = k
        _nb_sort(xr, order)
        half = 0.5 * total * (1.0 - 1e-12)
        cum = 0.0
        median[row] = xr[order[n - 1]]
        for m in range(n):
            cum += 1.0 if equal else wr[order[m]]
            if cum >= half:
                median[row] = xr[order[m]]
                break


def _pow_layout(n: int, use_phi: bool) -> tuple[int, int]:
    """Row lengths of the per-draw power buffers of the compiled path.

    With p the index of the pair (i < j) in row-major order and m = n(n-1)/2 pairs, the
    logarithm row holds [1/2 - D_ij/2 | 1/2 + D_ij/2 | D_ij] (D is symmetric, so each
    logarithm serves both orders of the pair) and the exponential row
    [GS_ij | GS_ji | GF_ij | GF_ji | PHI_ij | PHI_ji | 1/2^(r_k)], where GS_ij =
    (1/2 - D_ij/2)^(r_j), GF_ij = (1/2 + D_ij/2)^(r_j) and PHI_ij = D_ij^(r_i); the
    D and PHI blocks only when the votes use risk (``use_phi``).
    """
    m = n * (n - 1) // 2
    return (3 if use_phi else 2) * m, (6 if use_phi else 4) * m + n


def _default_threads() -> int:
    """``TAWAZUN_BDM_THREADS`` (or ``TAWAZUN_THREADS``) if set; else 1 inside a Dask worker;
    else the number of cores this process may run on."""
    return default_threads("TAWAZUN_BDM_THREADS")


_THREADS: int | None = None  # None: _default_threads() at each call


def set_threads(threads: int | None = None) -> int | None:
    """Set the threads the compiled path spreads its chunks of draws over; None (the
    initial state) means the default of :func:`_default_threads`, looked up at each
    call. Returns the previous setting. A batch of one chunk runs on the calling thread.

    Every draw is computed by the same code whatever thread runs it, so the results do
    not depend on this number; only the wall-clock time does.
    """
    global _THREADS
    previous = _THREADS
    _THREADS = None if threads is None else max(1, int(threads))
    return previous


def get_threads() -> int:
    """Threads the next call will use at most (the setting, else the default)."""
    return _default_threads() if _THREADS is None else _THREADS


class _Chunks:
    """Scratch of one worker of the compiled path, for chunks of at most ``c`` draws."""

    def __init__(self, c: int, n: int, n_log: int, n_exp: int):
        self.num = np.empty((n, n))
        self.den = np.empty((n, n))
        self.phi = np.empty((n, n))
        self.cw = np.empty((n + 1, n))
        self.P = np.empty((n, n))
        self.A = np.empty((n, n))
        self.Bm = np.empty((n, n))
        self.sec = np.empty(n)
        self.kinds = np.empty(n, dtype=np.int64)
        self.targets = np.empty(n)
        self.P1 = np.empty((c, n, n))
        self.r = np.empty((c, n))
        self.mud = np.empty((c, n))
        self.u = np.empty((c, n))
        self.new_u = np.empty((c, n))
        self.cnt = np.empty((c, 4), dtype=np.int64)
        self.LA = np.empty((c, n_log))
        self.E = np.empty((c, n_exp))
        self.order = np.empty((c, n), dtype=np.int64)
        self.ptr = np.empty((c, n * (n - 1)), dtype=np.int64)  # voter counts per pair


def simulate(u0: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions,
             threads: int | None = None):
    """Same contract as :func:`tawazun.engines.bdm.reference.simulate`, through compiled
    kernels (compiled, or loaded from Numba's cache, under a lock on first use); see
    :func:`_simulate_chunks`."""
    compile_once("bdm", _warm)
    return _simulate_chunks(u0, w, s, opts, threads)


def _simulate_chunks(u0: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions,
                     threads: int | None = None):
    """Same contract as :func:`tawazun.engines.bdm.reference.simulate`, through compiled kernels.

    The batch is cut into chunks; for each chunk, rounds are the outer loop and within
    a round the kernels go draw by draw (sorting, vote sums, risk; then expected
    utilities and offers). The powers x^r = exp(r log x) are evaluated by NumPy's
    vectorised log and exp, one call each per chunk and round, on flat buffers the
    kernels fill and read (``_pow_layout``): one logarithm per unordered pair and
    power, no (B, n, n) temporaries. With ``threads`` > 1 (default: :func:`get_threads`)
    the chunks are shared among that many threads (the kernels and NumPy release the
    GIL); each draw's arithmetic is the same whichever thread runs it.
    """
    B, n = u0.shape
    T = int(opts.rounds)
    traj = np.empty((B, T + 1, n))
    traj[:, 0] = u0
    counts = np.zeros((B, T, 4), dtype=np.int64)
    risk = np.ones((B, T, n))
    if B == 0 or T == 0 or n == 0:
        return traj, counts, risk
    code = {name: table[getattr(opts, name)] for name, table in _OPT_CODES.items()}
    third = code["prob_voters"] == 1
    all_pairs = code["prob_norm"] == 1
    weaker_moves = code["conflict_rule"] == 0
    figure = code["compromise_sign"] == 1
    receiver = code["perspective"] == 1
    capitulation = bool(opts.capitulation)
    use_phi = bool(opts.vote_risk and opts.risk)
    powers = bool(opts.risk)
    n_log, n_exp = _pow_layout(n, use_phi)
    if not powers:
        n_log = n_exp = 0
    q = float(opts.q)
    stop_rule = bool(opts.converge)
    tol = float(opts.converge_tol)
    log_half = np.log(0.5)
    chunk = max(1, min(B, _KERNEL_CHUNK_ELEMENTS // max(1, n * n)))
    starts = list(range(0, B, chunk))
    workers = max(1, min(len(starts), get_threads() if threads is None else int(threads)))

    def run(first: int) -> None:
        k = _Chunks(min(B, chunk), n, n_log, n_exp)
        for start in starts[first::workers]:
            stop = min(B, start + chunk)
            b = stop - start
            ub, nb = k.u[:b], k.new_u[:b]
            ub[...] = u0[start:stop]
            wc = np.ascontiguousarray(w[start:stop], dtype=np.float64)
            sc = np.ascontiguousarray(s[start:stop], dtype=np.float64)
            ob = k.order[:b]
            ob[...] = np.arange(n)
            P1, r, mud, cnt, LA, E = k.P1[:b], k.r[:b], k.mud[:b], k.cnt[:b], k.LA[:b], k.E[:b]
            ptr = k.ptr[:b]
            rows = slice(start, stop)  # the draws still running: a slice, or indices once some stop
            for t in range(T):
                _nb_stage_risk(ub, wc, sc, ob, q, powers, code["reference"], code["security_sum"],
                               third, all_pairs, use_phi, P1, r, mud, LA, k.num, k.den, k.phi,
                               k.cw, k.sec, ptr)
                if powers:
                    with np.errstate(divide="ignore"):
                        np.log(LA, out=LA)  # log 0 = -inf, and exp(-inf) = 0 below
                    _nb_exp_args(LA, r, use_phi, log_half, E)
                    np.exp(E, out=E)
                _nb_stage_offers(ub, wc, sc, ob, q, third, weaker_moves, figure,
                                 code["offer_choice"], receiver, all_pairs, capitulation,
                                 use_phi, P1, r, mud, E, nb, cnt, k.num, k.den, k.phi, k.cw,
                                 k.P, k.A, k.Bm, k.kinds, k.targets, ptr)
                ub, nb = nb, ub
                traj[rows, t + 1] = ub
                counts[rows, t] = cnt
                risk[rows, t] = r
                if not stop_rule or t + 1 == T:
                    continue
                period = stationary(traj, rows, t + 1, tol)
                if not period.any():
                    continue
                # these draws are done: fill their remaining rounds, drop them from the chunk
                ids = _indices(rows)
                repeat_rounds(traj, counts, risk, ids[period > 0], period[period > 0], t + 1)
                keep = period == 0
                m = int(keep.sum())
                if m == 0:
                    break
                ub[:m] = ub[keep]
                ob[:m] = ob[keep]
                wc, sc = wc[keep], sc[keep]
                ub, nb, ob = ub[:m], nb[:m], ob[:m]
                P1, r, mud, cnt, LA, E, ptr = P1[:m], r[:m], mud[:m], cnt[:m], LA[:m], E[:m], ptr[:m]
                rows = ids[keep]

    fan_out([lambda k=k: run(k) for k in range(workers)], workers)
    return traj, counts, risk


@njit(cache=True, nogil=True, error_model="numpy")
def _nb_stationary(traj, rows, t, tol, pmax, period):
    n = traj.shape[2]
    for m in range(rows.shape[0]):
        x = traj[rows[m]]
        found = 1
        for k in range(n):
            if not abs(x[t, k] - x[t - 1, k]) <= tol:
                found = 0
                break
        p = 2
        while found == 0 and p <= min(pmax, t):
            found = p
            for k in range(n):
                if x[t, k] != x[t - p, k]:
                    found = 0
                    break
            p += 1
        period[m] = found


def stationary(traj: np.ndarray, rows, t: int, tol: float) -> np.ndarray:
    """For the draws ``rows`` (a slice or indices) of traj (B, T+1, n) after round t: the
    period with which their positions have become stationary, 0 where they have not.
    1: no position moved by more than tol (in scale units) in round t; p in
    2..CYCLE_MAX: round t's positions equal exactly those after round t - p (the
    smallest such p). A round's outcome depends on the positions only (the sort order is
    a function of them), so from then on the draw repeats with that period."""
    ids = _indices(rows)
    period = np.zeros(ids.shape[0], dtype=np.int64)
    _nb_stationary(traj, ids, t, float(tol), CYCLE_MAX, period)
    return period


def _indices(rows) -> np.ndarray:
    """A contiguous slice (step 1) or an index array, as int64 indices."""
    if isinstance(rows, slice):
        return np.arange(rows.start, rows.stop, dtype=np.int64)
    return np.asarray(rows, dtype=np.int64)


def repeat_rounds(traj: np.ndarray, counts: np.ndarray, risk: np.ndarray, ids: np.ndarray,
                  period: np.ndarray, t: int) -> None:
    """Fill rounds t+1..T of the draws ``ids`` by repeating, with each draw's ``period``,
    what they did up to round t (positions after the round, its offer counts and risk
    exponents): what the model would compute for a draw whose positions have become
    stationary (exactly so when the stop was exact)."""
    T = counts.shape[1]
    for later in range(t + 1, T + 1):
        back = later - period
        traj[ids, later] = traj[ids, back]
        counts[ids, later - 1] = counts[ids, back - 1]
        risk[ids, later - 1] = risk[ids, back - 1]


def apply_stop(traj: np.ndarray, counts: np.ndarray, risk: np.ndarray, tol: float) -> None:
    """The ``converge`` stop applied after the fact to fully computed rounds (the NumPy
    reference computes every round and then overwrites those the compiled path skips):
    the same rule, round by round, as the compiled path."""
    B, T1, _ = traj.shape
    running = np.arange(B)
    for t in range(1, T1 - 1):
        if running.size == 0:
            return
        period = stationary(traj, running, t, tol)
        done = period > 0
        repeat_rounds(traj, counts, risk, running[done], period[done], t)
        running = running[~done]


def summaries(x: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lower weighted median and weighted mean of every row of x (rows, n), weights w;
    rows are independent, so above ``_SUMMARY_ROWS_PER_THREAD`` per thread they are split
    among threads."""
    rows, n = x.shape
    median = np.empty(rows)
    mean = np.empty(rows)
    if n == 0:
        return median, mean
    workers = max(1, min(get_threads(), rows // _SUMMARY_ROWS_PER_THREAD))
    cuts = [rows * k // workers for k in range(workers + 1)]
    fan_out([lambda a=a, z=z: _nb_summaries(x[a:z], w[a:z], median[a:z], mean[a:z])
             for a, z in zip(cuts[:-1], cuts[1:])], workers)
    return median, mean


def _warm() -> None:
    """Compile (or load from the cache) every kernel on the smallest inputs: two draws of
    two actors, one round, with and without risk (the types are those of real calls)."""
    u0 = np.array([[0.2, 0.8], [0.1, 0.9]])
    w = np.array([[1.0, 0.5], [0.5, 1.0]])
    for opts in (BdmOptions(rounds=1), BdmOptions(rounds=1, risk=False)):
        _simulate_chunks(u0, w, w, opts, 1)
    stationary(np.zeros((1, 2, 2)), slice(0, 1), 1, 0.0)
    summaries(u0, w)

