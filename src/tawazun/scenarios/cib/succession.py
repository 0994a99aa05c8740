"""Succession: from start scenarios, descriptors jump to their best variants until a fixed
point or a cycle (an attractor) is reached."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Literal

import numpy as np
from numba import njit

from tawazun.random import generator
from tawazun.scenarios.cib.structure import all_scenarios, clean_matrix, n_scenarios, offsets_of

TieRule = Literal["keep", "lowest"]
SuccessionMode = Literal["global", "local"]

# --------------------------------------------------------------------------- succession


@njit(cache=True)
def _step(c, off, counts, s, local, keep):  # pragma: no cover - compiled
    d = counts.size
    v = off[d]
    b = np.zeros(v)
    for x in range(d):
        row = off[x] + s[x]
        for t in range(v):
            b[t] += c[row, t]
    best = np.zeros(d, dtype=np.int64)  # lowest index among the best variants
    gap = np.zeros(d)
    for y in range(d):
        mx = b[off[y]]
        arg = 0
        for j in range(1, counts[y]):
            if b[off[y] + j] > mx + 1e-9:
                mx = b[off[y] + j]
                arg = j
        best[y] = arg
        gap[y] = mx - b[off[y] + s[y]]
    new = s.copy()
    if not local:
        for y in range(d):
            if not (keep and gap[y] <= 1e-9):
                new[y] = best[y]
        return new
    top = -1
    for y in range(d):
        if gap[y] > 1e-9 and (top < 0 or gap[y] > gap[top] + 1e-9):
            top = y
    if top >= 0:
        new[top] = best[top]
    elif not keep:
        for y in range(d):
            if best[y] != s[y]:
                new[y] = best[y]
                break
    return new


@njit(cache=True)
def _succession(c, off, counts, starts, local, keep, max_steps):  # pragma: no cover - compiled
    n, d = starts.shape
    rep = np.zeros((n, d), dtype=np.int64)
    clen = np.zeros(n, dtype=np.int64)
    steps = np.zeros(n, dtype=np.int64)
    traj = np.zeros((max_steps + 1, d), dtype=np.int64)
    for i in range(n):
        traj[0] = starts[i]
        t = 0
        hit = -1
        while t < max_steps:
            nxt = _step(c, off, counts, traj[t], local, keep)
            t += 1
            traj[t] = nxt
            for q in range(t):
                same = True
                for x in range(d):
                    if traj[q, x] != nxt[x]:
                        same = False
                        break
                if same:
                    hit = q
                    break
            if hit >= 0:
                break
        if hit < 0:
            clen[i] = -1
            rep[i] = traj[t]
            steps[i] = t
            continue
        length = t - hit
        clen[i] = length
        steps[i] = hit
        # representative: lexicographically smallest state of the cycle
        best = hit
        for q in range(hit + 1, t):
            for x in range(d):
                if traj[q, x] != traj[best, x]:
                    if traj[q, x] < traj[best, x]:
                        best = q
                    break
        rep[i] = traj[best]
    return rep, clen, steps


@dataclass
class Attractor:
    states: np.ndarray  # (L, D): L = 1 for a fixed point, L >= 2 for a cycle (in visiting order)
    basin: int  # number of starts that end in it

    @property
    def is_fixed_point(self) -> bool:
        return self.states.shape[0] == 1


@dataclass
class Succession:
    mode: str
    tie: str
    starts: int
    attractors: list[Attractor] = field(default_factory=list)  # fixed points first, by basin
    unfinished: int = 0  # starts that hit max_steps without repeating a state
    mean_steps: float = 0.0

    @property
    def fixed_points(self) -> list[Attractor]:
        return [a for a in self.attractors if a.is_fixed_point]

    @property
    def cycles(self) -> list[Attractor]:
        return [a for a in self.attractors if not a.is_fixed_point]


def succession(
    matrix: np.ndarray,
    counts: Iterable[int],
    mode: SuccessionMode = "global",
    tie: TieRule = "keep",
    starts: np.ndarray | int | None = None,
    seed: int | None = 0,
    max_steps: int = 1000,
) -> Succession:
    """Run succession from every scenario (``starts=None``), N sampled ones (int) or given ones.

    mode "global": every descriptor jumps at once to its best variant.
    mode "local": only the most inconsistent descriptor moves (ties: lowest descriptor index).
    tie "keep": a descriptor whose current variant ties for best keeps it, otherwise the lowest
    best index (ScenarioWizard); tie "lowest": always the lowest best index.
    """
    counts = np.asarray(list(counts), dtype=np.int64)
    if mode not in ("global", "local"):
        raise ValueError(f"unknown succession mode {mode!r}")
    if tie not in ("keep", "lowest"):
        raise ValueError(f"unknown tie rule {tie!r}")
    c = clean_matrix(matrix, counts)
    off = offsets_of(counts)
    if starts is None:
        if n_scenarios(counts) > 10**7:
            raise ValueError(f"{n_scenarios(counts):,} scenarios: too many to start from each; pass starts=N")
        st = all_scenarios(counts)
    elif isinstance(starts, (int, np.integer)):
        rng = generator(seed, "cib")
        st = np.stack([rng.integers(0, n, size=int(starts)) for n in counts], axis=1).astype(np.int64)
    else:
        st = np.atleast_2d(np.asarray(starts, dtype=np.int64))
    rep, clen, steps = _succession(c, off, counts, np.ascontiguousarray(st), mode == "local", tie == "keep", int(max_steps))
    done = clen > 0
    result = Succession(mode, tie, int(st.shape[0]), unfinished=int((~done).sum()))
    result.mean_steps = float(steps[done].mean()) if done.any() else 0.0
    if done.any():
        keys, inverse, basin = np.unique(rep[done], axis=0, return_inverse=True, return_counts=True)
        lengths = np.zeros(len(keys), dtype=np.int64)
        lengths[inverse.ravel()] = clen[done]
        attractors = []
        for key, length, size in zip(keys, lengths, basin):
            states = [key.copy()]
            for _ in range(int(length) - 1):
                states.append(_step(c, off, counts, states[-1], mode == "local", tie == "keep"))
            attractors.append(Attractor(np.array(states, dtype=np.int64), int(size)))
        attractors.sort(key=lambda a: (not a.is_fixed_point, -a.basin, a.states[0].tolist()))
        result.attractors = attractors
    return result
