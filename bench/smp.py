"""Seconds per run of the SMP engine (``tawazun.engines.smp``) against KTAB's ``smpc``.

Random cases (seeded, drawn the way KTAB's own random SMP draws them: capability uniform
in [10, 200], positions uniform in [0, 100], per-dimension saliences uniform in [0.1, 1]
rescaled to a total uniform in [0.75, 0.99]) of 26 x 1, 80 x 1 and 100 x 2 actors x
dimensions, deterministic default options, one run each (best of --repeat). The KTAB
figures are those published beside the reference data (2019 code built -O2, minimal
logging, on a 2-core machine like this one); they are quoted, not measured here.

KTAB's figures do not say how many turns its runs took; the 26 x 1 figure is most likely
the SOE-Policy case (26 actors, 1 dimension, 19 turns), which is therefore timed too when
/work/shared is present. A random case may run many more turns than KTAB's timed run (e.g.
when it cycles), so seconds per turn are printed as well.

The first call compiles the Numba kernels (or loads them from the cache); that warm-up is
timed separately and excluded from the per-run figures.

Run:  .venv/bin/python bench/smp.py [--repeat 3] [--batch B]
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import numpy as np

from tawazun.engines.base import Problem
from tawazun.engines.smp import SmpOptions, smp

KTAB_SECONDS = {(26, 1): 3.1, (80, 1): 241.0, (100, 2): 621.0}
TARGET_RATIO = 100.0
SOE = Path(__file__).resolve().parents[1] / ".." / "shared" / "reference" / "ktab-smp" / "SOE-Policy.csv"


def random_case(n: int, d: int, seed: int, batch: int = 1) -> Problem:
    rng = np.random.default_rng(seed)
    cap = rng.uniform(10.0, 200.0, (batch, n))
    pos = rng.uniform(0.0, 100.0, (batch, n, d))
    raw = rng.uniform(0.1, 1.0, (batch, n, d))
    total = rng.uniform(0.75, 0.99, (batch, n, 1))
    sal = raw / raw.sum(axis=-1, keepdims=True) * total
    return Problem(tuple(f"A{i:03d}" for i in range(n)), tuple(f"D{k}" for k in range(d)),
                   pos, sal, cap, np.zeros(d), np.full(d, 100.0))


def soe_case() -> Problem | None:
    if not SOE.exists():
        return None
    rows = [r for r in csv.reader(SOE.open(encoding="utf-8"))][2:]
    rows = [r for r in rows if r and r[0].strip()]
    cap = np.array([float(r[2]) for r in rows])
    pos = np.array([[float(r[3])] for r in rows])
    sal = np.array([[float(r[4]) / 100.0] for r in rows])
    return Problem.from_points([r[0].strip() for r in rows], pos, sal, cap)


def timed(problem: Problem, repeat: int) -> tuple[float, np.ndarray]:
    best = np.inf
    turns = np.zeros(1)
    for _ in range(repeat):
        t = time.perf_counter()
        res = smp(problem, SmpOptions())
        best = min(best, time.perf_counter() - t)
        turns = res.diagnostics["turns"]
    return best, turns


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--batch", type=int, default=1, help="draws per run (default 1)")
    ap.add_argument("--seed", type=int, default=2026)
    args = ap.parse_args()

    t0 = time.perf_counter()
    smp(random_case(5, 1, 0))
    print(f"warm-up (Numba compile or cache load): {time.perf_counter() - t0:.2f} s")
    print(f"{'case':>12} {'turns':>6} {'tawazun s':>10} {'s/turn':>9} {'KTAB s':>8} {'ratio':>8}  target")
    worst = np.inf
    cases = [((n, d), f"random {n}x{d}", random_case(n, d, args.seed + n + d, args.batch))
             for (n, d) in KTAB_SECONDS]
    soe = soe_case()
    if soe is not None:
        cases.insert(0, ((26, 1), "SOE 26x1", soe))
    for key, label, problem in cases:
        ktab = KTAB_SECONDS[key]
        best, turns = timed(problem, args.repeat)
        per_draw = best / problem.batch
        ratio = ktab / per_draw
        worst = min(worst, ratio)
        ok = "ok" if ratio >= TARGET_RATIO else "MISSED"
        mean_turns = float(np.mean(turns))
        print(f"{label:>12} {mean_turns:>6.0f} {per_draw:>10.3f} {per_draw / mean_turns:>9.5f} "
              f"{ktab:>8.1f} {ratio:>7.0f}x  >= {TARGET_RATIO:.0f}x {ok}")
    if soe is not None:
        # KTAB's 26 x 1 run of SOE-Policy took 19 turns: compare seconds per turn too.
        print(f"KTAB SOE-Policy per turn: {KTAB_SECONDS[(26, 1)] / 19:.4f} s")
    print(f"smallest whole-run speed-up: {worst:.0f}x")


if __name__ == "__main__":
    main()
