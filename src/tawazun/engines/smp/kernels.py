"""The compiled backend of the Spatial Model of Politics (the default): each draw's whole run
as compiled loops (``_run_one``), draws spread over threads. Same algorithm as the NumPy
reference (``reference.py``), which the tests check it against.
"""

from __future__ import annotations

import numba
import numpy as np

from tawazun.engines.smp.options import (
    _BINARY_STEP, _BINARY_VP_MIN, _BINARY_VP_THRESH, _MIN_CHALLENGE, _MIN_COALITION, _MIN_GAIN,
    _MIN_W, INTERPOLATIONS, PCE_MODELS, RISK_ADJUSTS, RISK_RANGES, THIRD_PARTY, VICTORY_MODELS,
    VOTING_RULES, SmpOptions,
)
from tawazun.engines.threads import compile_once, default_threads, fan_out

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


def _f64(a) -> np.ndarray:
    """A writable C-contiguous float64 array (the one array type _run_one is compiled for)."""
    a = np.ascontiguousarray(a, dtype=np.float64)
    return a if a.flags.writeable else a.copy()


def _call_run_one(x0, s, c, codes, T, min_turns, o: SmpOptions, draws, traj, risk, targets, pprob):
    """_run_one with exactly the argument types it is compiled for."""
    return _run_one(_f64(x0), _f64(s), _f64(c), codes, int(T), int(min_turns),
                    float(o.stop_ratio), float(o.stop_epsilon), float(o.position_tolerance),
                    float(o.bargain_decimals), _f64(draws), traj, risk, targets, pprob)


def _warm() -> None:
    """Compile (or load from the cache) ``_run_one`` on the smallest run: 2 actors, 1 turn."""
    n, d, T = 2, 1, 1
    _call_run_one(np.array([[0.2], [0.8]]), np.full((n, d), 0.5), np.ones(n),
                  np.zeros(8, dtype=np.int64), T, 1, SmpOptions(), np.zeros((T, n)),
                  np.empty((T + 1, n, d)), np.empty((T + 1, n)),
                  np.empty((T, n), dtype=np.int64), np.empty((T + 1, n)))


def simulate(x0, s, c, o: SmpOptions, draws) -> dict[str, np.ndarray]:
    """The run of every draw through ``_run_one``; same contract as
    :func:`tawazun.engines.smp.simulate` (``draws``: (B, T, n) uniforms or None)."""
    compile_once("smp", _warm)
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
    edges = np.linspace(0, b, workers + 1).astype(int)
    fan_out([lambda lo=int(lo), hi=int(hi): block(lo, hi) for lo, hi in zip(edges[:-1], edges[1:])],
            workers)
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
