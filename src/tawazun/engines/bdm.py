"""Bueno de Mesquita's expected-utility ("challenge") model, one issue at a time.

The reconstruction follows Scholz, Calbert & Smith (2011), who rebuilt the model from
Bueno de Mesquita's publications and replicated his 1994 EC car-emission example. Every
point where their text, their figures and the original disagree is a named option of
:class:`BdmOptions`; ``docs/models/bdm.md`` states the equations and the decisions.

Shapes: B draws, n actors. Positions are carried in scale units u = (x - lower) / R,
R = upper - lower, so an affine change of the scale changes nothing but the units of
the answer.

Two implementations of the same arithmetic:

* ``_simulate_numpy`` - the reference: (B, n), (B, n, n) and (B, n, n, n) arrays, a
  Python loop over rounds and over chunks of the batch only. It is the path for
  ``risk_range="alternatives"``.
* ``_simulate_compiled`` - the default path: the batch in cache-sized chunks, rounds
  outside, and within a round Numba kernels that go draw by draw, with NumPy's
  vectorised log and exp evaluating the powers of the whole chunk on flat per-draw
  rows the kernels fill and read (``_pow_layout``). The vote sums there cost O(n^2)
  per draw instead of O(n^3) (see ``_nb_vote_sums``). Chunks may be shared among
  threads (``set_threads``); every draw's arithmetic is the same on any thread.
  Profiling showed the NumPy reference about 25 times slower than the speed target
  on the emission case; the tests check the two agree.
"""

from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from numba import njit

from tawazun.engines.base import EngineResult, Problem, register
from tawazun.engines.median import weighted_median
from tawazun.engines.threads import default_threads

_CHOICES: dict[str, tuple[str, ...]] = {
    "reference": ("median", "mean"),
    "security_sum": ("received", "given"),
    "risk_range": ("actors", "alternatives"),
    "prob_voters": ("all", "third_parties"),
    "conflict_rule": ("weaker_moves", "nobody_moves"),
    "compromise_sign": ("text", "figure"),
    "offer_choice": ("by_type_low_point", "least_move", "by_type", "largest_eu"),
    "perspective": ("own", "receiver"),
    "prob_norm": ("pair", "all_pairs"),
}


@dataclass(frozen=True)
class BdmOptions:
    """Options of the expected-utility model; defaults are the Scholz et al. reading.

    rounds: bargaining rounds (no convergence rule is published, so the count is fixed).
    q: probability an actor expects the status quo to hold absent a challenge (Q).
    risk: compute risk exponents from security levels (False: r_i = 1 throughout).
    reference: the point mu in the "better"/"worse" utilities: weighted median or mean.
    security_sum: whose expected utilities make actor i's security level:
        "received" - sum over j of E_j(U_ji), what the others expect from challenging i;
        "given"    - sum over j of E_i(U_ij), what i expects from challenging the others.
    risk_range: where the max and min security levels in R_i come from:
        "actors"       - across all actors at their current positions (Scholz);
        "alternatives" - across the positions actor i could hold (each actor's current
                         position), others fixed (Bueno de Mesquita's original).
    prob_voters: who votes in the probability that i beats j: "all" actors (i and j
        included, as in the formula) or "third_parties" only.
    conflict_rule: when both sides expect to gain from a challenge: the side with the
        lower expected utility moves to the other ("weaker_moves") or "nobody_moves".
    compromise_sign: the compromise move of the target j towards the proposer i:
        "text"   - x_j + (x_i - x_j)|b/a| (moves the fraction |b/a| of the way);
        "figure" - x_j + (x_i - x_j)(1 - |b/a|) (stops |b/a| short of x_i).
    offer_choice: which of the offers an actor receives it acts on:
        "least_move"       - the one that moves it least (Scholz);
        "largest_eu"       - the one whose sender expects most from it;
        "by_type"          - a lost conflict first, else a compromise, else a
                             capitulation; the least move within the type;
        "by_type_low_point" - as "by_type" but among compromises the one whose
                             EU-weighted point (|b| x_j + a x_i)/(a + |b|) is lowest on
                             the scale (what a public port of Scholz's program does;
                             not invariant under reversing the scale).
    perspective: whose risk exponent values the two sides of a dyad (i proposes, j
        receives): "own" - E_i(U_ij) with r_i and E_j(U_ji) with r_j; "receiver" - both
        with r_j, i.e. the receiver's perception E^j(U_ij), E^j(U_ji) (BDM's notation).
    prob_norm: denominator of P_i(j): "pair" - sum_k c_k s_k |d_k| for this pair (the
        formula); "all_pairs" - the same sum over every ordered pair of positions (a
        port of Scholz's program reports this; P_i + P_j is then far below 1).
    vote_risk: raise each voter's normalised distances to its risk exponent in the
        probability votes (as the port of Scholz's program does) instead of using r = 1.
    capitulation: whether the capitulation case moves the target at all (the port of
        Scholz's program has a test that never fires, so it never capitulates).
    """

    rounds: int = 10
    q: float = 1.0
    risk: bool = True
    reference: str = "median"
    security_sum: str = "received"
    risk_range: str = "actors"
    prob_voters: str = "all"
    conflict_rule: str = "weaker_moves"
    compromise_sign: str = "text"
    offer_choice: str = "by_type_low_point"
    perspective: str = "receiver"
    prob_norm: str = "all_pairs"
    vote_risk: bool = True
    capitulation: bool = True

    def __post_init__(self) -> None:
        for name, allowed in _CHOICES.items():
            value = getattr(self, name)
            if value not in allowed:
                raise ValueError(f"bdm option {name}={value!r}: expected one of {', '.join(allowed)}")
        if int(self.rounds) != self.rounds or self.rounds < 0:
            raise ValueError(f"bdm option rounds={self.rounds!r}: expected a whole number >= 0")
        if not 0.0 <= float(self.q) <= 1.0:
            raise ValueError(f"bdm option q={self.q!r}: expected a number in [0, 1]")


#: Scholz, Calbert & Smith (2011) as their published numbers imply (7 of 8 medians within
#: 0.1): receiver's perception of both sides of a dyad, vote shares normalised over all
#: pairs, voters' risk exponents in the votes, offers by type. See docs/models/bdm.md.
SCHOLZ = BdmOptions()
#: The formulas as printed in Scholz et al.'s text (and our SPEC): each side values its own
#: challenge with its own risk exponent, P_i(j) normalised per pair, votes with r = 1, each
#: actor takes the offer that moves it least.
TEXT = dataclasses.replace(SCHOLZ, perspective="own", prob_norm="pair", vote_risk=False,
                           offer_choice="least_move")
#: The text reading with Bueno de Mesquita's own risk range (over the positions an actor
#: could hold rather than across actors).
ORIGINAL = dataclasses.replace(TEXT, risk_range="alternatives")
#: No risk adjustment (every r_i = 1): a baseline for sensitivity checks.
RISK_NEUTRAL = dataclasses.replace(SCHOLZ, risk=False)

PRESETS: dict[str, BdmOptions] = {
    "scholz": SCHOLZ, "text": TEXT, "original": ORIGINAL, "risk_neutral": RISK_NEUTRAL,
}

# Pairwise work is done on (chunk, n, n[, n]) arrays; this bounds one chunk's elements.
_CHUNK_ELEMENTS = 2_000_000
# The compiled path keeps its (chunk, n, n) arrays small enough to stay in cache.
_KERNEL_CHUNK_ELEMENTS = 1 << 16
# Median and mean rows are only split among threads above this many rows per thread.
_SUMMARY_ROWS_PER_THREAD = 8192


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


def _vote_sums(dist: np.ndarray, w: np.ndarray, voters: str) -> tuple[np.ndarray, np.ndarray]:
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


def _prob(num: np.ndarray, den: np.ndarray, norm: str = "pair") -> np.ndarray:
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
    num_full, den_full = _vote_sums(dist, w, "all")  # [l, j]: would x_l beat x_j
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
    p_j = _prob(num, np.maximum(den, 0.0))  # P_j(i at y), (b, i, l, j)
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
    num, den = _vote_sums(dist, w, opts.prob_voters)
    P1 = _prob(num, den, opts.prob_norm)
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
        num, den = _vote_sums(np.power(dist, r[:, :, None]), w, opts.prob_voters)
        P = _prob(num, den, opts.prob_norm)
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


def _simulate_numpy(u0: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions):
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
    return traj, counts, risk


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


def _simulate_compiled(u0: np.ndarray, w: np.ndarray, s: np.ndarray, opts: BdmOptions,
                       threads: int | None = None):
    """Same contract as :func:`_simulate_numpy`, through compiled kernels.

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
                traj[start:stop, t + 1] = ub
                counts[start:stop, t] = cnt
                risk[start:stop, t] = r

    if workers == 1:
        run(0)
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            for future in [pool.submit(run, k) for k in range(workers)]:
                future.result()
    return traj, counts, risk


@register("bdm", options=BdmOptions, dynamic=True, max_dims=1,
          summary="Bueno de Mesquita's expected-utility challenge model (Scholz et al. 2011 reading)")
def bdm(problem: Problem, options: BdmOptions | None = None,
        rng: np.random.Generator | None = None) -> EngineResult:
    """Bueno de Mesquita's expected-utility model, rounds of challenges and concessions."""
    opts = options if options is not None else SCHOLZ
    if problem.n_dims != 1:
        raise ValueError(f"bdm handles one dimension, got {problem.n_dims}")
    lower = float(problem.lower[0])
    upper = float(problem.upper[0])
    if not upper > lower:
        raise ValueError(f"bdm needs upper > lower on the scale, got [{lower}, {upper}]")
    scale = upper - lower
    B, n = problem.batch, problem.n_actors
    T = int(opts.rounds)

    x0 = np.clip(problem.position[:, :, 0], lower, upper)
    s = np.clip(problem.salience[:, :, 0], 0.0, None)
    c = np.clip(problem.capability, 0.0, None)
    w = c * s

    u0 = (x0 - lower) / scale
    if opts.risk and opts.risk_range == "alternatives":
        traj, counts, risk = _simulate_numpy(u0, w, s, opts)
    else:
        traj, counts, risk = _simulate_compiled(u0, w, s, opts)
    # back to the scale; an actor still at its starting point keeps it exactly
    traj = np.where(traj == u0[:, None, :], x0[:, None, :], lower + traj * scale)

    flat = np.ascontiguousarray(traj.reshape(B * (T + 1), n))
    wf = np.repeat(w, T + 1, axis=0)
    median = np.empty(B * (T + 1))
    mean = np.empty(B * (T + 1))
    if n > 0:
        rows = B * (T + 1)
        workers = max(1, min(get_threads(), rows // _SUMMARY_ROWS_PER_THREAD))
        if workers == 1:
            _nb_summaries(flat, wf, median, mean)
        else:  # rows are independent: split them among threads
            cuts = [rows * k // workers for k in range(workers + 1)]
            with ThreadPoolExecutor(max_workers=workers) as pool:
                jobs = [pool.submit(_nb_summaries, flat[a:z], wf[a:z], median[a:z], mean[a:z])
                        for a, z in zip(cuts[:-1], cuts[1:])]
                for job in jobs:
                    job.result()
    median = median.reshape(B, T + 1)
    mean = mean.reshape(B, T + 1)
    diagnostics = {
        "median": median,
        "mean": mean,
        "conflicts": counts[:, :, 0],
        "compromises": counts[:, :, 1],
        "capitulations": counts[:, :, 2],
        "moved": counts[:, :, 3],
        "risk_exponent": risk,
    }
    return EngineResult(
        "bdm",
        forecast=median[:, -1:].copy(),
        trajectory=traj[:, :, :, None],
        diagnostics=diagnostics,
        options=dataclasses.asdict(opts),
    )
