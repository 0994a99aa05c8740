"""Exact enumeration of consistent scenarios (pruned depth-first search, three methods) and
Knuth's estimate of a search's size."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Iterable, Literal

import numpy as np
from numba import njit
from numba.typed import List as NumbaList

from tawazun.engines.threads import fan_out
from tawazun.scenarios.cib.structure import (
    _EPS, Scores, clean_matrix, descriptor_of, evaluate, n_scenarios, offsets_of,
)

# --------------------------------------------------------------------------- enumeration


def _pair_bounds(c: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """W (V, M) competitor columns and G (D, V, M) per-descriptor best pairwise gains.

    ``G[X, v, j] = max_a (C[(X,a), v] - C[(X,a), w_j])`` with ``w_j`` the j-th variant of
    v's descriptor: the most descriptor X can still add to (balance v - balance w_j).
    """
    off = offsets_of(counts)
    desc = descriptor_of(counts)
    m = int(counts.max())
    v = int(off[-1])
    j = np.arange(m)
    w = off[desc][:, None] + np.minimum(j[None, :], counts[desc][:, None] - 1)  # (V, M)
    g = np.zeros((counts.size, v, m))
    for x in range(counts.size):
        block = c[off[x] : off[x + 1]]  # (nX, V)
        g[x] = (block[:, :, None] - block[:, w]).max(axis=0)
    return w, g


def search_order(c: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Default descriptor order: largest bound slack per variant first.

    A descriptor's slack is ``sum over (v, j) of G[X, v, j]``: how much it still adds to the
    upper bounds while open. Fixing the biggest contributors first shrinks the bounds
    fastest (1.3-2.5x fewer nodes than "strongest |impact| first" on random matrices).
    """
    _, g = _pair_bounds(c, counts)
    slack = g.sum(axis=(1, 2)) / counts
    return np.argsort(-slack, kind="stable")


@njit(cache=True, nogil=True)
def _must_stop(nodes, max_nodes, ctl, slot):  # pragma: no cover - compiled
    """The kernels' one budget check, per node: past ``max_nodes`` (> 0), or, every 16,384
    nodes, after publishing the count in ``ctl[slot]``, when ``ctl[0]`` asks to stop."""
    if max_nodes > 0 and nodes > max_nodes:
        return True
    if not (nodes & 16383):
        ctl[slot] = nodes
        return ctl[0] != 0
    return False


@njit(cache=True, nogil=True)
def _dfs(c, off, counts, w, r, tol, max_nodes, first, second, ctl, slot):  # pragma: no cover - compiled
    """Depth-first search over descriptors 0..d-1; ``first`` / ``second`` >= 0 restrict
    descriptors 0 / 1 to that variant (one subtree, for running subtrees on threads)."""
    d = counts.size
    v = off[d]
    p = np.zeros((d + 1, v))
    choice = np.full(d, -1, dtype=np.int64)
    allowed = np.zeros(d, dtype=np.int64)  # variants of each depth's descriptor still able to win
    found = NumbaList()
    nodes = 0
    allowed[0] = (np.int64(1) << counts[0]) - 1 if first < 0 else np.int64(1) << first
    m = 0
    while m >= 0:
        nxt_choice = choice[m] + 1
        while nxt_choice < counts[m] and not ((allowed[m] >> nxt_choice) & 1):
            nxt_choice += 1
        choice[m] = nxt_choice
        if nxt_choice >= counts[m]:
            choice[m] = -1
            m -= 1
            continue
        nodes += 1
        if _must_stop(nodes, max_nodes, ctl, slot):
            return found, -nodes
        a = off[m] + choice[m]
        pp = p[m + 1]
        pm = p[m]
        rr = r[m + 1]
        for t in range(v):
            pp[t] = pm[t] + c[a, t]
        ok = True
        # fixed descriptors: can each chosen variant still be within tol of every rival?
        # (the one fixed last first: it fails most often)
        for k in range(m + 1):
            y = m - k
            cv = off[y] + choice[y]
            base = pp[cv]
            for j in range(counts[y]):
                ww = w[cv, j]
                if ww != cv and base - pp[ww] + rr[cv, j] < -tol:
                    ok = False
                    break
            if not ok:
                break
        # look-ahead: every open descriptor must keep at least one variant that can still win;
        # for the next one, remember which (only those are tried)
        if ok:
            for y in range(m + 1, d):
                mask = np.int64(0)
                for ci in range(counts[y]):
                    cv = off[y] + ci
                    base = pp[cv]
                    good = True
                    for j in range(counts[y]):
                        ww = w[cv, j]
                        if ww != cv and base - pp[ww] + rr[cv, j] < -tol:
                            good = False
                            break
                    if good:
                        mask |= np.int64(1) << ci
                        if y > m + 1:
                            break
                if mask == 0:
                    ok = False
                    break
                if y == m + 1:
                    if m == 0 and second >= 0:
                        mask &= np.int64(1) << second
                    allowed[y] = mask
        if not ok:
            continue
        if m == d - 1:
            found.append(choice.copy())
            continue
        m += 1
    return found, nodes


@njit(cache=True, nogil=True)
def _fcff(c, off, counts, w, g, tol, max_nodes, ctl, slot):  # pragma: no cover - compiled
    """Forward checking, fail-first: branch on the open descriptor with fewest live variants.

    ``u[v, j]`` = sum over open descriptors X of g[X, v, j] (the most they can still add to
    balance(v) - balance(w_j)); ``p`` the balances from the fixed descriptors. Both are
    updated in place on the way down and undone on the way back (exact for integers).
    """
    d = counts.size
    v = off[d]
    mm = w.shape[1]
    p = np.zeros(v)
    u = np.zeros((v, mm))
    live = np.zeros((d + 1, d), dtype=np.int64)  # live-variant masks (fixed ones: their bit)
    fixed = np.zeros(d, dtype=np.bool_)
    bvar = np.zeros(d + 1, dtype=np.int64)
    brow = np.full(d + 1, -1, dtype=np.int64)  # row applied at this depth (-1: none)
    tomask = np.zeros(d + 1, dtype=np.int64)
    found = NumbaList()
    for x in range(d):
        u += g[x]
        live[0, x] = (np.int64(1) << counts[x]) - 1
    nodes = 0
    z = _fc_check(p, u, live[0], fixed, off, counts, w, tol)
    if z == -2:
        return found, nodes
    if z == -1:
        found.append(_first_bits(live[0], counts))
        return found, nodes
    depth = 0
    bvar[0] = z
    tomask[0] = live[0, z]
    while depth >= 0:
        y = bvar[depth]
        # undo the variant applied at this depth, if any
        if brow[depth] >= 0:
            row = brow[depth]
            for t in range(v):
                p[t] -= c[row, t]
            brow[depth] = -1
        if tomask[depth] == 0:
            # leave this depth: reopen its descriptor
            fixed[y] = False
            for t in range(v):
                for j in range(mm):
                    u[t, j] += g[y, t, j]
            depth -= 1
            continue
        a = 0
        while not ((tomask[depth] >> a) & 1):
            a += 1
        tomask[depth] &= ~(np.int64(1) << a)
        nodes += 1
        if _must_stop(nodes, max_nodes, ctl, slot):
            return found, -nodes
        if not fixed[y]:
            fixed[y] = True
            for t in range(v):
                for j in range(mm):
                    u[t, j] -= g[y, t, j]
        row = off[y] + a
        brow[depth] = row
        for t in range(v):
            p[t] += c[row, t]
        nxt = depth + 1
        live[nxt] = live[depth]
        live[nxt, y] = np.int64(1) << a
        z = _fc_check(p, u, live[nxt], fixed, off, counts, w, tol)
        if z == -2:
            continue
        if z == -1:
            found.append(_first_bits(live[nxt], counts))
            continue
        depth = nxt
        bvar[depth] = z
        brow[depth] = -1
        tomask[depth] = live[depth, z]
    return found, nodes


@njit(cache=True)
def _first_bits(masks, counts):  # pragma: no cover - compiled
    out = np.zeros(counts.size, dtype=np.int64)
    for x in range(counts.size):
        b = 0
        while not ((masks[x] >> b) & 1):
            b += 1
        out[x] = b
    return out


@njit(cache=True)
def _fc_check(p, u, live, fixed, off, counts, w, tol):  # pragma: no cover - compiled
    """-2: dead end; -1: all fixed and consistent; else the open descriptor to branch on.

    Open descriptors' live masks are narrowed (counting stops at two live variants); the
    branch goes to the first open descriptor with a single live variant (forced, no real
    branching), else to the first open descriptor (the caller orders descriptors well).
    """
    d = counts.size
    first = -1
    forced = -1
    for y in range(d):
        if fixed[y]:
            ci = 0
            while not ((live[y] >> ci) & 1):
                ci += 1
            cv = off[y] + ci
            base = p[cv]
            for j in range(counts[y]):
                if j != ci and base - p[w[cv, j]] + u[cv, j] < -tol:
                    return -2
        else:
            m = np.int64(0)
            k = 0
            for ci in range(counts[y]):
                if (live[y] >> ci) & 1:
                    cv = off[y] + ci
                    base = p[cv]
                    good = True
                    for j in range(counts[y]):
                        if j != ci and base - p[w[cv, j]] + u[cv, j] < -tol:
                            good = False
                            break
                    if good:
                        m |= np.int64(1) << ci
                        k += 1
                        if k >= 2 and (forced >= 0 or first >= 0):
                            # enough: this descriptor is neither dead nor a better branch
                            m = live[y]
                            break
            if k == 0:
                return -2
            if k >= 2 and m != live[y]:
                live[y] = m
            elif k == 1:
                live[y] = m
            if k == 1 and forced < 0:
                forced = y
            if first < 0:
                first = y
    if forced >= 0:
        return forced
    return first


@njit(cache=True, nogil=True)
def _shift(tab, x, old, new, bnd):  # pragma: no cover - compiled
    """Descriptor x's live mask goes from ``old`` to ``new``: move every pair bound by the
    change in x's best contribution (``tab[x, mask]`` holds it for each mask)."""
    a = tab[x, old]
    b = tab[x, new]
    for t in range(bnd.shape[0]):
        for j in range(bnd.shape[1]):
            bnd[t, j] += b[t, j] - a[t, j]


@njit(cache=True, nogil=True)
def _propagate(f, tab, drop, spread, off, counts, live, bnd, tol):  # pragma: no cover - compiled
    """Narrow the live masks to a fixpoint; False when some descriptor has none left.

    ``bnd[v, j]`` = sum over descriptors X other than v's of the best live contribution of X
    to balance(v) - balance(w_j): exact for a decided X (one live variant).
    Rule 1: a live variant v with some ``bnd[v, j] < -tol`` can never be within tol of best.
    Rule 2: for a decided descriptor with variant v, the slack ``bnd[v, j] + tol`` is all its
    open descriptors may lose together: a variant of X that loses more than that against X's
    best live variant is dropped from X.
    """
    d = counts.size
    changed = True
    while changed:
        changed = False
        for y in range(d):
            m = live[y]
            nm = m
            for ci in range(counts[y]):
                if (m >> ci) & 1:
                    cv = off[y] + ci
                    for j in range(counts[y]):
                        if j != ci and bnd[cv, j] < -tol:
                            nm &= ~(np.int64(1) << ci)
                            break
            if nm == 0:
                return False
            if nm != m:
                _shift(tab, y, m, nm, bnd)
                live[y] = nm
                changed = True
        for y in range(d):
            m = live[y]
            if m & (m - 1):
                continue
            ci = 0
            while not ((m >> ci) & 1):
                ci += 1
            cv = off[y] + ci
            for j in range(counts[y]):
                if j == ci:
                    continue
                slack = bnd[cv, j] + tol
                if slack < 0:
                    return False
                if slack >= drop[cv, j]:
                    continue  # no open descriptor can lose that much on this pair
                for x in range(d):
                    mx = live[x]
                    if x == y or not (mx & (mx - 1)) or slack >= spread[x, cv, j]:
                        continue
                    top = tab[x, mx, cv, j]
                    nm = mx
                    for q in range(counts[x]):
                        if (mx >> q) & 1 and top - f[off[x] + q, cv, j] > slack:
                            nm &= ~(np.int64(1) << q)
                    if nm != mx:
                        _shift(tab, x, mx, nm, bnd)
                        live[x] = nm
                        changed = True
                        slack = bnd[cv, j] + tol
                        if slack < 0:
                            return False
    return True


@njit(cache=True, nogil=True)
def _prop(f, tab, drop, spread, off, counts, tol, max_nodes, path, ctl, slot):  # pragma: no cover - compiled
    """Propagation search: live variant masks narrowed to a fixpoint at every node (rules in
    ``_propagate``), branching on the open descriptor with the fewest live variants (ties:
    lowest index). ``path[k]`` >= 0 keeps just that variant of the branching descriptor at
    depth k (one subtree, for running subtrees on threads; empty ``path``: the whole tree).
    A node or leaf above the end of the path is shared by the tasks that differ only below
    it: only the task whose remaining path entries are all 0 (or -1) counts or reports it."""
    d = counts.size
    npath = path.size
    canon = np.ones(npath + 1, dtype=np.bool_)  # canon[k]: path[k:] all <= 0
    for k in range(npath - 1, -1, -1):
        canon[k] = canon[k + 1] and path[k] <= 0
    v = off[d]
    mm = f.shape[2]
    live = np.zeros((d + 1, d), dtype=np.int64)
    bnd = np.zeros((d + 1, v, mm))
    var = np.zeros(d + 1, dtype=np.int64)
    todo = np.zeros(d + 1, dtype=np.int64)
    found = NumbaList()
    for x in range(d):
        full = (np.int64(1) << counts[x]) - 1
        live[0, x] = full
        for t in range(v):
            for j in range(mm):
                bnd[0, t, j] += tab[x, full, t, j]
    nodes = 0
    if not _propagate(f, tab, drop, spread, off, counts, live[0], bnd[0], tol):
        return found, nodes
    depth = 0
    while depth >= 0:
        best = -1
        fewest = 99
        for x in range(d):
            m = live[depth, x]
            if m & (m - 1):
                k = 0
                while m:
                    m &= m - 1
                    k += 1
                if k < fewest:
                    fewest = k
                    best = x
        if best < 0:  # every descriptor decided and every pair bound exact: a solution
            out = np.zeros(d, dtype=np.int64)
            for x in range(d):
                q = 0
                while not ((live[depth, x] >> q) & 1):
                    q += 1
                out[x] = q
            if depth >= npath or canon[depth]:
                found.append(out)
            depth -= 1
        else:
            var[depth] = best
            todo[depth] = live[depth, best]
            if depth < npath and path[depth] >= 0:
                todo[depth] &= np.int64(1) << path[depth]
        while depth >= 0:
            if todo[depth] == 0:
                depth -= 1
                continue
            x = var[depth]
            q = 0
            while not ((todo[depth] >> q) & 1):
                q += 1
            todo[depth] &= ~(np.int64(1) << q)
            if depth + 1 < npath and not canon[depth + 1]:
                pass  # shared with the canonical task, which counts it
            else:
                nodes += 1
                if _must_stop(nodes, max_nodes, ctl, slot):
                    return found, -nodes
            live[depth + 1] = live[depth]
            bnd[depth + 1] = bnd[depth]
            nm = np.int64(1) << q
            _shift(tab, x, live[depth, x], nm, bnd[depth + 1])
            live[depth + 1, x] = nm
            if _propagate(f, tab, drop, spread, off, counts, live[depth + 1], bnd[depth + 1], tol):
                depth += 1
                break
    return found, nodes


def _prop_tables(c: np.ndarray, counts: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """f (V, V, M): row a's share of balance(v) - balance(w_j); tab (D, 2^nmax, V, M): the best
    share of descriptor X over the variants in a mask (0 on X's own columns); drop (V, M):
    the most any one descriptor can lose against its best variant on a pair; spread (D, V, M):
    the same per descriptor."""
    off = offsets_of(counts)
    desc = descriptor_of(counts)
    f = np.ascontiguousarray(c[:, :, None] - c[:, w])
    nmax = int(counts.max())
    tab = np.zeros((counts.size, 1 << nmax) + f.shape[1:])
    drop = np.zeros(f.shape[1:])
    spreads = np.zeros((counts.size,) + f.shape[1:])
    for x in range(counts.size):
        block = f[off[x] : off[x + 1]]  # (nX, V, M)
        n = int(counts[x])
        for mask in range(1, 1 << n):
            rows = [a for a in range(n) if (mask >> a) & 1]
            tab[x, mask] = block[rows].max(axis=0)
        own = desc == x
        tab[x, :, own] = 0.0
        spread = block.max(axis=0) - block.min(axis=0)
        spread[own] = 0.0
        spreads[x] = spread
        drop = np.maximum(drop, spread)
    return f, tab, drop, spreads


@dataclass
class Enumeration:
    scenarios: np.ndarray  # (M, D) local variant indices, lexicographic order
    scores: Scores
    evaluated: int  # search-tree nodes evaluated
    order: np.ndarray  # descriptor order used by the search
    complete: bool = True  # False when stopped by max_nodes, max_seconds
    method: str = "static"  # the search method that ran ("auto" resolved)


def reordered(c: np.ndarray, counts: np.ndarray, order: Iterable[int] | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The cleaned matrix with its descriptors in search order (default: :func:`search_order`).

    Returns (order, variant permutation, permuted matrix, permuted counts, permuted offsets).
    """
    counts = np.asarray(counts, dtype=np.int64)
    order_arr = search_order(c, counts) if order is None else np.asarray(list(order), dtype=np.int64)
    if sorted(order_arr.tolist()) != list(range(counts.size)):
        raise ValueError("order must be a permutation of the descriptors")
    off = offsets_of(counts)
    perm = np.concatenate([np.arange(off[x], off[x + 1]) for x in order_arr])
    cp = np.ascontiguousarray(c[np.ix_(perm, perm)])
    cnt = np.ascontiguousarray(counts[order_arr])
    return order_arr, perm, cp, cnt, offsets_of(cnt)


AUTO_DENSE = 0.9  # influence density from which "auto" searches with "static"


def influence_density(matrix: np.ndarray, counts: Iterable[int]) -> float:
    """Share of ordered descriptor pairs (X, Y), X != Y, in which X can change Y's choice:
    some variant of X adds unequal amounts to Y's variants (a block whose rows are each
    constant cannot, see the shift property in docs/models/cib.md)."""
    counts = np.asarray(list(counts), dtype=np.int64)
    d = counts.size
    if d < 2:
        return 0.0
    c = clean_matrix(matrix, counts)
    starts = offsets_of(counts)[:-1]
    spread = np.maximum.reduceat(c, starts, axis=1) - np.minimum.reduceat(c, starts, axis=1)  # (V, D)
    moves = np.logical_or.reduceat(spread > _EPS, starts, axis=0)  # (D, D), diagonal False
    return float(moves.sum()) / (d * (d - 1))


def _prop_fits(counts: np.ndarray) -> bool:
    return counts.size * 2 ** int(counts.max()) * int(counts.sum()) * int(counts.max()) <= 5 * 10**7


def choose_method(matrix: np.ndarray, counts: Iterable[int]) -> str:
    """The search ``method="auto"`` runs: "prop" unless the matrix is (nearly) complete,
    where "static"'s cheaper nodes win (see docs/models/cib.md, "Default method"), or
    "prop"'s subset tables would be too large."""
    counts = np.asarray(list(counts), dtype=np.int64)
    if not _prop_fits(counts) or influence_density(matrix, counts) >= AUTO_DENSE:
        return "static"
    return "prop"


def _run_tasks(tasks: list, threads: int, progress, max_seconds: float | None,
               here: bool = False) -> list[tuple]:
    """Run kernel tasks ``task(ctl, slot) -> (found, nodes)``. With ``here`` they run one
    after the other on this thread. Otherwise they run on worker threads while this thread
    reports progress (``progress(nodes so far)``), enforces ``max_seconds`` and turns Ctrl-C
    into a stop request (the kernels poll ``ctl[0]`` every 16,384 nodes) before re-raising
    it. Nodes of a stopped task come back negative."""
    ctl = np.zeros(len(tasks) + 1, dtype=np.int64)
    jobs = [lambda task=task, slot=i + 1: task(ctl, slot) for i, task in enumerate(tasks)]
    if here:
        return fan_out(jobs, 1)
    t0 = time.monotonic()

    def poll() -> None:
        if progress is not None:
            progress(int(ctl[1:].sum()))
        if max_seconds is not None and time.monotonic() - t0 > max_seconds:
            ctl[0] = 1

    def stop() -> None:
        ctl[0] = 1

    return fan_out(jobs, max(1, threads), poll=poll, on_abort=stop)


def enumerate_scenarios(
    matrix: np.ndarray,
    counts: Iterable[int],
    tolerance: float = 0,
    method: Literal["auto", "static", "fcff", "prop"] = "auto",
    order: Iterable[int] | None = None,
    max_nodes: int = 0,
    threads: int | None = None,
    max_seconds: float | None = None,
    progress=None,
) -> Enumeration:
    """Exactly every scenario with IC <= tolerance, by pruned depth-first search.

    method "static": descriptors fixed in one ``order`` (default: strongest first);
    a partial scenario is cut when, for some fixed descriptor, the most the open descriptors
    can still add to (chosen balance - rival balance) cannot bring it to >= -tolerance, or when
    some open descriptor has no variant left that could still win. method "fcff": the same
    bound with forward checking and fail-first dynamic order (fewer nodes, dearer nodes).
    method "prop": live-variant domains narrowed to a fixpoint at every node (bounds over the
    live variants only; a decided descriptor's slack removes variants of open ones) and
    branching on the open descriptor with the fewest live variants: 15-40x fewer nodes than
    "static" on dense random matrices at about 20-25x the cost per node, and 100x or more
    faster on sparse ones. Its tables hold every subset of a descriptor's variants: refused
    (ValueError) when D * 2^nmax * V * nmax > 5e7. method "auto" (default): see
    :func:`choose_method`.
    ``max_nodes`` > 0 stops the search after about that many nodes (shared out equally
    between threads), ``max_seconds`` after about that long: the result then has
    ``complete=False`` and lists only what was found. ``progress(nodes)`` is called about
    ten times a second with the nodes searched so far. ``threads``: "static" runs the
    subtrees of the first two descriptors' variants in parallel, "prop" those of the first
    two branching descriptors' variants (default: up to 4 threads above 10^7 scenarios,
    else 1); results and
    node counts do not depend on it ("fcff" is serial).
    """
    counts = np.asarray(list(counts), dtype=np.int64)
    if tolerance < 0:
        raise ValueError("tolerance must be >= 0")
    if counts.max() > 62:
        raise ValueError("at most 62 variants per descriptor")  # bit masks in "fcff"
    c = clean_matrix(matrix, counts)
    d = counts.size
    tol = float(tolerance) + _EPS
    if method not in ("auto", "static", "fcff", "prop"):
        raise ValueError(f"unknown method {method!r}")
    if method == "auto":
        method = choose_method(c, counts)
    if method == "prop" and not _prop_fits(counts):
        raise ValueError("method 'prop' tabulates every subset of a descriptor's variants: too many variants, use 'static'")
    order_arr, perm, cp, cnt, offp = reordered(c, counts, order)
    w, g = _pair_bounds(cp, cnt)
    if threads is None:
        threads = min(4, os.cpu_count() or 1) if n_scenarios(counts) > 10**7 else 1
    budget = int(max_nodes)
    extra = 0  # nodes counted by more than one task
    if method == "fcff":
        tasks = [lambda ctl, slot: _fcff(cp, offp, cnt, w, g, tol, budget, ctl, slot)]
    elif method == "prop":
        f, tab, drop, spread = _prop_tables(cp, cnt, w)
        if threads <= 1:
            paths = [np.zeros(0, dtype=np.int64)]
        else:
            # one subtree per variant pair of the first two branching descriptors (tasks for
            # variants they do not have are empty): nmax^2 tasks keep two cores evenly busy
            nmax = int(cnt.max())
            paths = [np.array([q, r], dtype=np.int64) for q in range(nmax) for r in range(nmax)]
            if budget > 0:
                budget = -(-budget // len(paths))
        tasks = [lambda ctl, slot, pth=pth: _prop(f, tab, drop, spread, offp, cnt, tol, budget, pth, ctl, slot)
                 for pth in paths]
    else:
        r = np.zeros((cnt.size + 1,) + g.shape[1:])
        r[:-1] = np.cumsum(g[::-1], axis=0)[::-1]
        if threads <= 1:
            tasks = [lambda ctl, slot: _dfs(cp, offp, cnt, w, r, tol, budget, -1, -1, ctl, slot)]
        else:
            # one subtree per variant pair of the first two descriptors (Numba releases the
            # GIL); each task also evaluates its depth-0 node, counted once below
            seconds = range(int(cnt[1])) if d >= 3 else [-1]
            pairs = [(a, b) for a in range(int(cnt[0])) for b in seconds]
            if budget > 0:
                budget = -(-budget // len(pairs))  # shared out
            tasks = [lambda ctl, slot, a=a, b=b: _dfs(cp, offp, cnt, w, r, tol, budget, a, b, ctl, slot)
                     for a, b in pairs]
            extra = int(cnt[0]) * (len(seconds) - 1)
    # small: run here (no worker thread to start for each of an ensemble's matrices)
    here = threads <= 1 and progress is None and max_seconds is None and n_scenarios(counts) <= 10**7
    parts = _run_tasks(tasks, threads, progress, max_seconds, here)
    found = [x for fd, _ in parts for x in fd]
    complete = all(n >= 0 for _, n in parts)
    nodes = sum(abs(int(n)) for _, n in parts) - extra
    sp = np.array([np.asarray(x) for x in found], dtype=np.int64).reshape(-1, d)
    s = np.empty_like(sp)
    s[:, order_arr] = sp
    if len(s):
        s = s[np.lexsort(s.T[::-1])]
    scores = evaluate(c, counts, s) if len(s) else _empty_scores(counts)
    return Enumeration(s, scores, nodes, order_arr, complete, method)


# --------------------------------------------------------------------------- tree size


def estimate_nodes(matrix: np.ndarray, counts: Iterable[int], method: str = "auto", probes: int = 200,
                   seed: int = 0, tolerance: float = 0) -> tuple[float, float]:
    """Knuth's (1975) unbiased estimate of a search's node count, without running it.

    Each probe walks from the root to a leaf or dead end, picking one surviving child at
    random and multiplying the number of children tried at every level; the mean over
    probes estimates the tree size. Returns (mean, standard error). The distribution is
    heavy-tailed, so few probes tend to underestimate: read it as an order of magnitude.
    method "prop" and "static" (and "auto", resolved as the search would); node
    definition as in the search (one variant tried at a depth is one node).
    """
    counts = np.asarray(list(counts), dtype=np.int64)
    c = clean_matrix(matrix, counts)
    if method == "auto":
        method = choose_method(c, counts)
    if method not in ("prop", "static"):
        raise ValueError("estimates exist for methods 'prop' and 'static'")
    _, _, cp, cnt, offp = reordered(c, counts)
    tol = float(tolerance) + _EPS
    rng = np.random.default_rng(seed)
    walk = _probe_prop if method == "prop" else _probe_static
    totals = walk(cp, cnt, offp, tol, probes, rng)
    t = np.asarray(totals, dtype=float)
    se = float(t.std(ddof=1) / np.sqrt(len(t))) if len(t) > 1 else 0.0
    return float(t.mean()), se


def _probe_prop(cp, cnt, offp, tol, probes, rng) -> list[float]:
    w, _ = _pair_bounds(cp, cnt)
    f, tab, drop, spread = _prop_tables(cp, cnt, w)
    d = cnt.size
    live0 = np.array([(1 << int(n)) - 1 for n in cnt], dtype=np.int64)
    bnd0 = tab[np.arange(d), live0].sum(axis=0)
    if not _propagate(f, tab, drop, spread, offp, cnt, live0, bnd0, tol):
        return [0.0]
    totals = []
    for _ in range(probes):
        live, bnd, weight, total = live0.copy(), bnd0.copy(), 1.0, 0.0
        while True:
            open_ = [(bin(int(m)).count("1"), x) for x, m in enumerate(live) if int(m) & (int(m) - 1)]
            if not open_:
                break
            _, x = min(open_)  # the search's branching rule: fewest live, then lowest index
            kids = []
            for q in range(int(cnt[x])):
                if not (int(live[x]) >> q) & 1:
                    continue
                total += weight
                l2, b2 = live.copy(), bnd.copy()
                _shift(tab, x, l2[x], np.int64(1 << q), b2)
                l2[x] = 1 << q
                if _propagate(f, tab, drop, spread, offp, cnt, l2, b2, tol):
                    kids.append((l2, b2))
            if not kids:
                break
            weight *= len(kids)
            live, bnd = kids[int(rng.integers(len(kids)))]
        totals.append(total)
    return totals


def _probe_static(cp, cnt, offp, tol, probes, rng) -> list[float]:
    """The "static" node test re-done in NumPy: bound on every fixed descriptor, then the
    look-ahead (each open descriptor keeps a variant that can still win)."""
    w, g = _pair_bounds(cp, cnt)
    r = np.zeros((cnt.size + 1,) + g.shape[1:])
    r[:-1] = np.cumsum(g[::-1], axis=0)[::-1]
    d = cnt.size
    totals = []
    for _ in range(probes):
        p = np.zeros(int(offp[-1]))
        allowed = np.ones(int(cnt[0]), dtype=bool)
        chosen: list[int] = []
        weight, total = 1.0, 0.0
        for m in range(d):
            kids = []
            for a in np.flatnonzero(allowed):
                total += weight
                pp = p + cp[offp[m] + a]
                okv = (pp[:, None] - pp[w] + r[m + 1] >= -tol).all(axis=1)  # (V,)
                cv = offp[np.arange(m + 1)] + np.array(chosen + [a])
                if not okv[cv].all():
                    continue
                live = np.bitwise_or.reduceat(okv.astype(np.int64), offp[:-1])[m + 1 :] if m + 1 < d else np.ones(0)
                if (live == 0).any():
                    continue
                kids.append((a, pp, okv[offp[m + 1] : offp[m + 2]] if m + 1 < d else None))
            if not kids:
                break
            weight *= len(kids)
            a, p, allowed = kids[int(rng.integers(len(kids)))]
            chosen.append(int(a))
        totals.append(total)
    return totals


def _empty_scores(counts: np.ndarray) -> Scores:
    v = int(np.sum(counts))
    z = np.zeros(0)
    return Scores(np.zeros((0, v)), z, z.copy(), z.copy(), np.zeros((0, counts.size)))


def warm_up() -> float:
    """Compile the Numba kernels (cached on disk); returns seconds spent."""
    from tawazun.scenarios.cib.succession import succession

    t0 = time.perf_counter()
    c = np.zeros((4, 4))
    c[0, 2] = 1
    enumerate_scenarios(c, [2, 2])
    enumerate_scenarios(c, [2, 2], method="fcff")
    enumerate_scenarios(c, [2, 2], threads=2)
    enumerate_scenarios(c, [2, 2], method="prop", threads=1)
    succession(c, [2, 2], mode="global")
    succession(c, [2, 2], mode="local")
    return time.perf_counter() - t0
