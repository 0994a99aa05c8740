"""Protest cascades: Epstein's (2002) civil-violence agent model (Model I), compiled.

Citizens and cops live on a W x H torus, one agent per cell at most. Each citizen has a
hardship ``H ~ U(h_low, h_high)`` and a risk aversion ``R ~ U(0, 1)``; the regime's
legitimacy ``L`` (which may change from tick to tick) is common to all. A citizen's

* grievance     ``G = H (1 - L)``;
* arrest risk   ``P = 1 - exp(-k * floor(C / (A + 1)))`` with ``C`` cops and ``A`` active
  citizens within its vision (Moore radius ``v``, own cell excluded; the ``+ 1`` is itself);
* net risk      ``N = R P``;
* it is active (protesting) when ``G - N > T``, quiescent otherwise.

A cop arrests one active citizen within its vision, chosen uniformly; the citizen goes to
jail for ``J ~ U{1, ..., j_max}`` ticks (off the grid, inert) and on release reappears,
quiescent, on a uniformly chosen empty cell.

Update order (the semantics the Mesa reference in :mod:`tawazun.dynamics.protest_mesa` has
too): every tick each agent is activated once, in a fresh uniformly random order over all
agents, citizens and cops together (Mesa's ``agents.shuffle_do("step")``). An activated
citizen in jail serves one tick (and is released when its term reaches 0); otherwise it moves
to a uniformly chosen empty cell within its vision (stays if none) and then decides. An
activated cop moves the same way and then arrests. Positions, states and jail terms change
immediately, so later agents in the order see them: this is Epstein's asynchronous update,
kept exactly rather than replaced by a synchronous one, because synchronous moves collide
and synchronous arrests double-count, which changes the cascade statistics.

Initial state: ``round(citizen_density * W * H)`` citizens and ``round(cop_density * W * H)``
cops on distinct uniformly chosen cells, every citizen quiescent, nobody in jail.

The kernel runs many independent worlds (one per Monte Carlo path) in parallel under Numba;
each world's stream is seeded from the Generator passed in, one seed per (world, call), so
results do not depend on the thread count. Worlds are steppable: :func:`advance` continues
a :class:`World` for some ticks with a legitimacy per (world, tick), which is how the
balance model feeds legitimacy back in.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numba as nb
import numpy as np

from tawazun.engines.threads import compile_once

__all__ = ["ProtestParams", "World", "init_world", "advance", "run", "summarise", "effective_legitimacy"]

CITIZEN, COP = 0, 1


@dataclass(frozen=True)
class ProtestParams:
    """Parameters of one civil-violence world (defaults: Epstein 2002, Run 1, scaled down)."""

    width: int = 20
    height: int = 20
    citizen_density: float = 0.7
    cop_density: float = 0.04
    vision: int = 3
    k: float = 2.3                 # arrest-probability constant (P = 0.9 at C / (A+1) = 1)
    threshold: float = 0.1
    j_max: int = 30
    hardship_low: float = 0.0
    hardship_high: float = 1.0

    def __post_init__(self) -> None:
        if self.width < 3 or self.height < 3:
            raise ValueError("grid must be at least 3 x 3")
        if not (1 <= self.vision and 2 * self.vision + 1 <= min(self.width, self.height)):
            raise ValueError("vision must be >= 1 and 2 * vision + 1 <= the grid's side")
        if not (0 <= self.citizen_density and 0 <= self.cop_density
                and self.citizen_density + self.cop_density < 1):
            raise ValueError("densities must be >= 0 and sum to < 1 (an empty cell must exist)")
        if self.j_max < 1 or self.k < 0 or not (0 <= self.hardship_low <= self.hardship_high <= 1):
            raise ValueError("need j_max >= 1, k >= 0, 0 <= hardship_low <= hardship_high <= 1")

    @property
    def cells(self) -> int:
        return self.width * self.height

    @property
    def n_citizens(self) -> int:
        return int(round(self.citizen_density * self.cells))

    @property
    def n_cops(self) -> int:
        return int(round(self.cop_density * self.cells))


@dataclass
class World:
    """State of ``runs`` independent worlds; agent arrays are ``(runs, agents)``, cops first."""

    params: ProtestParams
    pos: np.ndarray        # cell index, -1 in jail
    hardship: np.ndarray
    risk: np.ndarray
    active: np.ndarray     # bool
    jail: np.ndarray       # ticks left, 0 when free
    occ: np.ndarray        # (runs, cells): agent index or -1
    tick: int = 0
    history_active: list = field(default_factory=list)


def effective_legitimacy(legitimacy, boycott=0.0, boycott_weight=0.0):
    """Legitimacy the agents perceive: ``L (1 - w b)``, clipped to [0, 1].

    ``b`` is the share of the electorate that boycotts (or ``1 - turnout`` relative to a
    normal election); ``w`` how much of the regime's legitimacy a full boycott removes.
    """
    return np.clip(np.asarray(legitimacy, float) * (1.0 - boycott_weight * np.asarray(boycott, float)), 0.0, 1.0)


def init_world(params: ProtestParams, runs: int, rng: np.random.Generator) -> World:
    n_cop, n_cit = params.n_cops, params.n_citizens
    n = n_cop + n_cit
    pos = np.empty((runs, n), dtype=np.int64)
    for r in range(runs):
        pos[r] = rng.choice(params.cells, size=n, replace=False)
    hardship = np.zeros((runs, n))
    hardship[:, n_cop:] = rng.uniform(params.hardship_low, params.hardship_high, size=(runs, n_cit))
    risk = np.zeros((runs, n))
    risk[:, n_cop:] = rng.uniform(0.0, 1.0, size=(runs, n_cit))
    occ = np.full((runs, params.cells), -1, dtype=np.int64)
    np.put_along_axis(occ, pos, np.broadcast_to(np.arange(n), (runs, n)), axis=1)
    return World(params, pos, hardship, risk, np.zeros((runs, n), dtype=np.bool_),
                 np.zeros((runs, n), dtype=np.int64), occ)


def wrap_index(n: int, vision: int) -> np.ndarray:
    """``w[i + vision] = i mod n`` for ``i`` in ``[-vision, n + vision)``: torus wrap without ``%``."""
    return ((np.arange(n + 2 * vision) - vision) % n).astype(np.int64)


@nb.njit(cache=True)
def _world_ticks(pos, hard, risk, active, jail, occ, legit, n_cop, W, v, wx, wy, k, thr, j_max, seed,
                 out_active, out_jailed):  # pragma: no cover - numba
    # Neighbourhoods are visited row by row (dy, then dx), on the fly: a precomputed table of
    # every cell's neighbours is (2v+1)^2 times the grid and falls out of cache on big worlds.
    np.random.seed(seed)
    n = pos.shape[0]
    buf = np.empty((2 * v + 1) * (2 * v + 1), dtype=np.int64)
    cells = occ.shape[0]
    for t in range(legit.shape[0]):
        L = legit[t]
        order = np.random.permutation(n)
        for oi in range(n):
            i = order[oi]
            if i >= n_cop and jail[i] > 0:
                jail[i] -= 1
                if jail[i] == 0:
                    while True:  # uniform among empty cells (rejection; an empty cell exists)
                        c = np.random.randint(0, cells)
                        if occ[c] < 0:
                            break
                    pos[i] = c
                    occ[c] = i
                continue
            # move to a uniformly chosen empty cell in vision, if any
            c0 = pos[i]
            x0 = c0 % W
            y0 = c0 // W
            m = 0
            for dy in range(2 * v + 1):
                rb = wy[y0 + dy] * W
                for dx in range(2 * v + 1):
                    if dx == v and dy == v:
                        continue
                    c = rb + wx[x0 + dx]
                    if occ[c] < 0:
                        buf[m] = c
                        m += 1
            c1 = c0
            if m > 0:
                c1 = buf[np.random.randint(0, m)]
                occ[c0] = -1
                occ[c1] = i
                pos[i] = c1
            x1 = c1 % W
            y1 = c1 // W
            if i >= n_cop:
                g = hard[i] * (1.0 - L)
                if g <= thr:
                    # G - R P <= G <= T whatever the neighbours: skip the scan (same result)
                    active[i] = False
                    continue
                cops = 0
                acts = 1
                for dy in range(2 * v + 1):
                    rb = wy[y1 + dy] * W
                    for dx in range(2 * v + 1):
                        if dx == v and dy == v:
                            continue
                        j = occ[rb + wx[x1 + dx]]
                        if j >= 0:
                            if j < n_cop:
                                cops += 1
                            elif active[j]:
                                acts += 1
                p_arrest = 1.0 - np.exp(-k * np.floor(cops / acts))
                active[i] = g - risk[i] * p_arrest > thr
            else:
                m = 0
                for dy in range(2 * v + 1):
                    rb = wy[y1 + dy] * W
                    for dx in range(2 * v + 1):
                        if dx == v and dy == v:
                            continue
                        j = occ[rb + wx[x1 + dx]]
                        if j >= n_cop and active[j]:
                            buf[m] = j
                            m += 1
                if m > 0:
                    j = buf[np.random.randint(0, m)]
                    active[j] = False
                    jail[j] = np.random.randint(1, j_max + 1)
                    occ[pos[j]] = -1
                    pos[j] = -1
        na = 0
        nj = 0
        for i in range(n_cop, n):
            if active[i]:
                na += 1
            if jail[i] > 0:
                nj += 1
        out_active[t] = na
        out_jailed[t] = nj


@nb.njit(cache=True, parallel=True)
def _advance_all(pos, hard, risk, active, jail, occ, legit, n_cop, W, v, wx, wy, k, thr, j_max, seeds,
                 out_active, out_jailed):  # pragma: no cover - numba
    for r in nb.prange(pos.shape[0]):
        _world_ticks(pos[r], hard[r], risk[r], active[r], jail[r], occ[r], legit[r], n_cop, W, v, wx, wy,
                     k, thr, j_max, seeds[r], out_active[r], out_jailed[r])


def _warm() -> None:
    # compile (or load from Numba's disk cache) the kernel once, under the shared lock
    p = ProtestParams(width=5, height=5, vision=1)
    w = init_world(p, 1, np.random.default_rng(0))
    _advance_all(w.pos, w.hardship, w.risk, w.active, w.jail, w.occ, np.full((1, 2), 0.5), p.n_cops,
                 p.width, p.vision, wrap_index(p.width, 1), wrap_index(p.height, 1), p.k, p.threshold,
                 p.j_max, np.array([1]), np.zeros((1, 2), dtype=np.int64), np.zeros((1, 2), dtype=np.int64))


def advance(world: World, legitimacy, ticks: int, rng: np.random.Generator):
    """Run every world ``ticks`` more ticks, in place. Returns ``(active, jailed)`` counts, ``(runs, ticks)``.

    ``legitimacy``: a scalar, ``(runs,)`` or ``(runs, ticks)``.
    """
    compile_once("dynamics-protest", _warm)
    p = world.params
    runs = world.pos.shape[0]
    legit = np.ascontiguousarray(np.broadcast_to(
        np.asarray(legitimacy, float).reshape((runs, 1) if np.ndim(legitimacy) == 1 else np.shape(legitimacy)),
        (runs, ticks)))
    if np.any((legit < 0) | (legit > 1)) or not np.all(np.isfinite(legit)):
        raise ValueError("legitimacy must lie in [0, 1]")
    seeds = rng.integers(0, 2**31 - 1, size=runs)
    out_a = np.zeros((runs, ticks), dtype=np.int64)
    out_j = np.zeros((runs, ticks), dtype=np.int64)
    _advance_all(world.pos, world.hardship, world.risk, world.active, world.jail, world.occ, legit,
                 p.n_cops, p.width, p.vision, wrap_index(p.width, p.vision), wrap_index(p.height, p.vision),
                 p.k, p.threshold, p.j_max, seeds, out_a, out_j)
    world.tick += ticks
    return out_a, out_j


def run(params: ProtestParams, runs: int, ticks: int, legitimacy, rng: np.random.Generator):
    """Fresh worlds run for ``ticks``: ``(active, jailed)`` counts per (run, tick)."""
    world = init_world(params, runs, rng)
    return advance(world, legitimacy, ticks, rng)


def summarise(active: np.ndarray, n_citizens: int) -> dict[str, np.ndarray]:
    """Per run: peak active share, tick of the peak (first, 1-based) and mean active share."""
    a = np.atleast_2d(active) / float(n_citizens)
    return {
        "peak_share": a.max(axis=1),
        "time_to_peak": a.argmax(axis=1) + 1,
        "mean_share": a.mean(axis=1),
    }


def with_inputs(params: ProtestParams, hardship_low: float, hardship_high: float) -> ProtestParams:
    """The same world with another hardship band (the arena's hardship input)."""
    return replace(params, hardship_low=hardship_low, hardship_high=hardship_high)
