"""An emulator of the civil-violence world: a table of its monthly output, built from the kernel.

The agent worlds of :mod:`tawazun.dynamics.protest` cost about 0.1 ms of CPU per world and
tick (296 agents), so a run of 10,000 paths spends minutes in them. Measured on the shipped
world (docs/models/dynamics.md, "The protest emulator"), the *step* output the balance reads
-- the mean share of citizens active over the step's ``ticks`` -- is, once the world has
settled, depends on two inputs: the legitimacy of the step ``L`` and its change from the previous
step ``dL`` (a fall of legitimacy sets off an outburst in the first step after it, Epstein's
"sudden versus gradual" effect: ``dL = -0.01`` alone lifts the next step's share by about
a fifth), and it carries some memory from one step to the next where legitimacy is low (lag-1
rank autocorrelation at a steady ``L``: 0.2-0.4, mean 0.31, below L = 0.3; within +/- 0.15
for L in 0.6-0.9). So the emulator draws each step's share from the kernel's own distribution at
``(L, dL)``, through a Gaussian copula that keeps the lag-1 dependence:

    share_t = Q(Phi(z_t); L_t, dL_t),   z_t = r z_{t-1} + sqrt(1 - r^2) e_t,   e_t ~ N(0, 1)

with ``Q`` the quantile function estimated from ``worlds`` kernel worlds per cell of a grid
(``L`` in steps of 0.01 on [0, 1]; ``dL`` on :data:`DELTAS`) and interpolated linearly in
``L``, ``dL`` and the quantile level, and ``r = 2 sin(pi rho_s / 6)`` the normal correlation
of the kernel's measured rank autocorrelation ``rho_s`` at ``L_t`` (a constant legitimacy for
two steps; 0 where the share is constant). A cell's worlds run ``burn_in`` ticks at ``L - dL``, then one step of
``ticks`` ticks at ``L``. Where every citizen's grievance is at most the threshold
(``L >= 1 - T / h_high``) no citizen can be active and the share is exactly 0: those cells are
not simulated.

What it leaves out (measured, docs/models/dynamics.md): memory beyond one step (the second
step after a large fall stays slightly above the stationary share), and falls beyond the
grid's -0.2 (such steps use the -0.2 row and are counted: the run's notes say how many).

A table depends only on the world, the hardship band and ``ticks`` (its key), and is built
with a fixed seed, so a run's numbers do not depend on where its table came from: the
package ships the tables of its arenas (``data/protest-tables/``); any other is built on
first use (minutes, with progress) and kept in the user cache (``$TAWAZUN_CACHE``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
from dataclasses import asdict, dataclass
from importlib import resources
from typing import Callable

import numba as nb
import numpy as np

from tawazun.dynamics import protest
from tawazun.engines.threads import compile_once
from tawazun.random import generator

__all__ = ["DELTAS", "LEVELS", "Table", "build_table", "table_for", "table_key", "sample", "step_uniforms",
           "zero_above"]

DELTAS = np.array([-0.2, -0.1, -0.05, -0.03, -0.02, -0.01, 0.0, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2])
"""Grid of the step's change of legitimacy ``dL``: finer near 0, where the shipped arena's
monthly changes lie (noise sd 0.01)."""
LEVELS = np.linspace(0.0, 1.0, 101)
"""Quantile levels stored per cell."""
STEP = 0.01
"""Spacing of the legitimacy grid."""
WORLDS, BURN_IN, SEED = 400, 100, 0
"""Build settings of every cached or shipped table (part of the key). 100 ticks of burn-in: a
world started all quiet bursts out, jails most of the aggrieved, and rings for about 60 ticks
as they come back (on the shipped world at L = 0.8 ticks 40-45 are a trough 14 % below the
settled share); by tick 80 it has settled."""
FORMAT = 1

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class Table:
    key: str
    q: np.ndarray          # (len(legit), len(DELTAS), len(LEVELS)) share quantiles
    legit: np.ndarray      # (I,) legitimacy grid
    deltas: np.ndarray     # (J,)
    levels: np.ndarray     # (K,)
    zero_above: float      # share is exactly 0 where L >= this
    lag1: np.ndarray       # (I,) lag-1 rank autocorrelation of the step share at dL = 0 (nan: constant)
    info: dict             # the world, ticks and build settings


def zero_above(params: protest.ProtestParams) -> float:
    """Legitimacy from which no citizen can be active: ``G = H (1 - L) <= h_high (1 - L) <= T``."""
    if params.threshold < 0 or params.hardship_high <= 0:
        return float("inf") if params.threshold < 0 else 0.0
    return max(0.0, 1.0 - params.threshold / params.hardship_high)


def _settings(params: protest.ProtestParams, ticks: int, worlds: int, burn_in: int, seed: int) -> dict:
    return {"format": FORMAT, "world": asdict(params), "ticks": int(ticks), "worlds": int(worlds),
            "burn_in": int(burn_in), "seed": int(seed), "step": STEP, "deltas": [float(d) for d in DELTAS],
            "levels": len(LEVELS)}


def _build(worlds: int | None, burn_in: int | None, seed: int | None) -> tuple[int, int, int]:
    """Build settings, the module's (read at call time, so tests can shrink them) where not given."""
    return (WORLDS if worlds is None else worlds, BURN_IN if burn_in is None else burn_in,
            SEED if seed is None else seed)


def table_key(params: protest.ProtestParams, ticks: int, worlds: int | None = None, burn_in: int | None = None,
              seed: int | None = None) -> str:
    """The table's name: a hash of the world, ``ticks`` and the build settings."""
    text = json.dumps(_settings(params, ticks, *_build(worlds, burn_in, seed)), sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _copy(w: protest.World) -> protest.World:
    return protest.World(w.params, w.pos.copy(), w.hardship, w.risk, w.active.copy(), w.jail.copy(),
                         w.occ.copy(), w.tick)


def build_table(params: protest.ProtestParams, ticks: int, *, worlds: int | None = None, burn_in: int | None = None,
                seed: int | None = None, rows: list[int] | None = None, progress: Progress | None = None) -> Table:
    """Estimate the table from the kernel. ``rows``: indices of the legitimacy grid to simulate
    *as the previous step's legitimacy* (default all; tests build a few). Cell ``(i, j)`` comes
    from the worlds of row ``i - dL_j / STEP``, whose stream is ``("protest-table", row)``, so a
    cell's numbers do not depend on which other rows were built."""
    worlds, burn_in, seed = _build(worlds, burn_in, seed)
    grid = np.round(np.arange(0.0, 1.0 + STEP / 2, STEP), 10)
    n_i, n_j = grid.size, DELTAS.size
    shift = np.round(DELTAS / STEP).astype(int)
    z = zero_above(params)
    q = np.full((n_i, n_j, LEVELS.size), np.nan)
    q[grid >= z - 1e-12] = 0.0
    lag1 = np.full(n_i, np.nan)
    todo = range(n_i) if rows is None else sorted(set(rows))
    # a previous-step row is needed when some target row it feeds is below the zero line
    todo = [r for r in todo if any(0 <= r + s < n_i and grid[r + s] < z - 1e-12 for s in shift)]
    n_cit = params.n_citizens
    for done, r in enumerate(todo):
        rng = generator(seed, "protest-table", r)
        base = protest.init_world(params, worlds, rng)
        if burn_in:
            protest.advance(base, grid[r], burn_in, rng)
        for j, s in enumerate(shift):
            i = r + s
            if not (0 <= i < n_i) or grid[i] >= z - 1e-12:
                continue
            w = _copy(base)
            steps = 2 if s == 0 else 1    # dL = 0: a second step for the autocorrelation
            active, _ = protest.advance(w, grid[i], ticks * steps, rng)
            share = active.reshape(worlds, steps, ticks).mean(axis=2) / n_cit
            q[i, j] = np.quantile(share[:, 0], LEVELS)
            if s == 0:
                a, b = share[:, 0], share[:, 1]
                if np.ptp(a) > 0 and np.ptp(b) > 0:
                    from scipy.stats import spearmanr

                    lag1[i] = float(spearmanr(a, b)[0])
        if progress is not None:
            progress(done + 1, len(todo))
    if rows is None:
        # cells whose previous legitimacy lies off [0, 1] cannot happen (L - dL is a legitimacy):
        # they take the nearest feasible change of the same row, so interpolation never meets a gap
        for i in range(n_i):
            have = [j for j in range(n_j) if not np.isnan(q[i, j, 0])]
            for j in range(n_j):
                if np.isnan(q[i, j, 0]):
                    q[i, j] = q[i, min(have, key=lambda h: (abs(h - j), h))]
    return Table(table_key(params, ticks, worlds, burn_in, seed), q, grid, DELTAS.copy(), LEVELS.copy(), z,
                 lag1, _settings(params, ticks, worlds, burn_in, seed))


# ---------------------------------------------------------------- storage
def to_bytes(t: Table) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, q=t.q.astype(np.float64), legit=t.legit, deltas=t.deltas, levels=t.levels,
                        zero_above=np.array(t.zero_above), lag1=t.lag1,
                        info=np.array(json.dumps(t.info, sort_keys=True)), key=np.array(t.key))
    return buf.getvalue()


def from_bytes(data: bytes) -> Table:
    with np.load(io.BytesIO(data), allow_pickle=False) as z:
        return Table(str(z["key"]), z["q"], z["legit"], z["deltas"], z["levels"], float(z["zero_above"]),
                     z["lag1"], json.loads(str(z["info"])))


def _shipped(key: str) -> bytes | None:
    try:
        return resources.files("tawazun").joinpath("data", "protest-tables", f"{key}.npz").read_bytes()
    except (FileNotFoundError, OSError):
        return None


_memo: dict[str, Table] = {}


def _cache_path(key: str) -> str:
    from tawazun.cache import cache_dir

    return os.path.join(cache_dir(), "protest-tables", f"{key}.npz")


def available(params: protest.ProtestParams, ticks: int) -> bool:
    """Whether the table can be had without building it."""
    key = table_key(params, ticks)
    return key in _memo or _shipped(key) is not None or os.path.exists(_cache_path(key))


def table_for(params: protest.ProtestParams, ticks: int, announce: str | None = None) -> Table:
    """The table of a world: shipped with the package, else from the user cache, else built
    (and cached). Same key, same numbers, wherever it came from. ``announce``: what the table is
    for; when given, a build says so on stderr and counts its rows there."""
    import sys

    from tawazun.cache import read_bytes, write_cache

    key = table_key(params, ticks)
    if key in _memo:
        return _memo[key]
    data = _shipped(key)
    path = _cache_path(key)
    if data is None:
        try:
            data = read_bytes(path)
        except OSError:
            data = None
    table = None
    if data is not None:
        try:
            table = from_bytes(data)
        except Exception:  # noqa: BLE001 - a damaged cache file is rebuilt, not an error
            table = None
        if table is not None and table.key != key:
            table = None
    if table is None:
        progress = None
        if announce is not None:
            # cost ~ 101 rows x WORLDS x (BURN_IN + 14 ticks) x agents: 238 s for the 296-agent
            # default world on 2 cores, proportionally longer for bigger worlds
            sys.stderr.write(f"tawazun: building the protest emulator's table for {announce} "
                             f"({params.n_citizens + params.n_cops} agents; once per world, then cached)\n")

            def progress(done: int, total: int) -> None:
                sys.stderr.write(f"\r  table row {done}/{total}" + ("\n" if done == total else ""))
        table = build_table(params, ticks, progress=progress)
        write_cache(path, to_bytes(table))
    _memo[key] = table
    return table


# ---------------------------------------------------------------- sampling
def sample(t: Table, legit_prev: np.ndarray, legit: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step shares for ``(paths,)`` legitimacies and uniforms; also which paths had a change
    beyond the grid (clamped to its end)."""
    legit = np.clip(np.asarray(legit, float), 0.0, 1.0)
    d_raw = legit - np.clip(np.asarray(legit_prev, float), 0.0, 1.0)
    dl = np.clip(d_raw, t.deltas[0], t.deltas[-1])
    clamped = np.abs(d_raw - dl) > 1e-12
    compile_once("dynamics-emulator", _warm)
    out = np.empty(legit.shape)
    _trilinear(np.ascontiguousarray(t.q), t.deltas, legit.ravel(), dl.ravel(),
               np.ascontiguousarray(u, dtype=float).ravel(), float(t.zero_above), out.reshape(-1))
    return out, clamped


@nb.njit(cache=True)
def _trilinear(q, deltas, legit, dl, u, zero, out):  # pragma: no cover - numba
    # linear in L (grid STEP), in dL (grid deltas, searched) and in the quantile level
    n_i, n_j, n_k = q.shape
    for p in range(legit.shape[0]):
        if legit[p] >= zero - 1e-12:
            out[p] = 0.0
            continue
        x = legit[p] / STEP
        i = min(max(int(np.floor(x)), 0), n_i - 2)
        fi = min(max(x - i, 0.0), 1.0)
        j = n_j - 2
        for jj in range(1, n_j - 1):
            if dl[p] < deltas[jj]:
                j = jj - 1
                break
        fj = min(max((dl[p] - deltas[j]) / (deltas[j + 1] - deltas[j]), 0.0), 1.0)
        y = u[p] * (n_k - 1)
        k = min(max(int(np.floor(y)), 0), n_k - 2)
        fk = min(max(y - k, 0.0), 1.0)
        v = 0.0
        for di in range(2):
            wi = fi if di else 1.0 - fi
            for dj in range(2):
                wj = fj if dj else 1.0 - fj
                for dk in range(2):
                    wk = fk if dk else 1.0 - fk
                    v += wi * wj * wk * q[i + di, j + dj, k + dk]
        out[p] = min(max(v, 0.0), 1.0)


def _warm() -> None:
    q = np.zeros((3, 2, 2))
    _trilinear(q, np.array([-0.1, 0.1]), np.array([0.005]), np.array([0.0]), np.array([0.5]), 0.9, np.empty(1))


def step_uniforms(t: Table, legit: np.ndarray, z_prev: np.ndarray | None, eps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The copula: ``(u, z)`` of this step from last step's ``z`` (None at the first step) and
    fresh normals ``eps``; the correlation is the kernel's at this step's legitimacy."""
    from scipy.special import ndtr

    if z_prev is None:
        z = np.asarray(eps, float)
    else:
        rho_s = np.interp(np.clip(legit, 0.0, 1.0), t.legit, np.nan_to_num(t.lag1, nan=0.0))
        r = np.clip(2.0 * np.sin(np.pi * rho_s / 6.0), -0.99, 0.99)
        z = r * z_prev + np.sqrt(1.0 - r * r) * eps
    return ndtr(z), z


def main(argv: list[str] | None = None) -> int:
    """``python -m tawazun.dynamics.emulator [ARENA] [--into DIR]``: build (or find) the table of
    every emulated protest process of an arena and say where it is. ``--into`` also writes a
    copy there (how ``src/tawazun/data/protest-tables/`` was filled)."""
    import argparse
    import time
    from pathlib import Path

    from tawazun.arena.load import load_arena
    from tawazun.dynamics.balance import protest_params
    from tawazun.dynamics.simulate import section_of

    ap = argparse.ArgumentParser(prog="python -m tawazun.dynamics.emulator")
    ap.add_argument("arena", nargs="?", default=None)
    ap.add_argument("--into", default=None)
    a = ap.parse_args(argv)
    for p in section_of(load_arena(a.arena)).processes:
        if p.kind != "protest" or p.method != "emulator":
            continue
        params = protest_params(p)
        t0 = time.perf_counter()
        table = table_for(params, p.ticks, announce=f"process {p.id!r}")
        where = "shipped" if _shipped(table.key) is not None else _cache_path(table.key)
        print(f"{p.id}: table {table.key} ({where}; {time.perf_counter() - t0:.1f} s)")
        if a.into:
            out = Path(a.into) / f"{table.key}.npz"
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(to_bytes(table))
            print(f"  written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
