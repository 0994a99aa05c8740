"""Seconds of ``tawazun.loop.levers.levers`` on the shipped arena, per engine.

The case of issue #15: ``tawazun levers --actor iraq-gov --issue us-presence --engine E``
(200 draws, seed 0). Each engine is timed in this process after one untimed call (which
compiles the Numba kernels or loads them from the cache, and warms the imports), best of
``--repeat``, two ways, interleaved so that the machine's load hits both alike:

* ``default``: the ranking at the modes, then paired intervals for the top levers only
  (every lever for compromise, median and nash, 5 for bdm and smp);
* ``all``: an interval for every lever (``intervals=99``), which is the work the command did
  before the top-only intervals.

The rankings and the shared intervals are checked equal. Prints the load average with the
figures; assert nothing about time.

Run:  .venv/bin/python bench/levers.py [--repeat 3] [--engines compromise,median,nash,bdm,smp]
"""

from __future__ import annotations

import argparse
import time

from tawazun.arena import load_arena
from tawazun.loop.levers import levers


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--engines", default="compromise,median,nash,bdm,smp")
    args = ap.parse_args()
    arena = load_arena(None)
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'engine':<11} {'levers':>6} {'default s':>10} {'all s':>8} {'ratio':>6}")
    for engine in args.engines.split(","):
        levers(arena, "iraq-gov", "us-presence", engine, draws=200)  # warm-up, untimed
        best = {"default": float("inf"), "all": float("inf")}
        docs = {}
        for _ in range(args.repeat):
            for way, n in (("default", None), ("all", 99)):
                t = time.perf_counter()
                docs[way] = levers(arena, "iraq-gov", "us-presence", engine, draws=200, intervals=n)
                best[way] = min(best[way], time.perf_counter() - t)
        a, b = docs["default"]["levers"], docs["all"]["levers"]
        assert [x["apply"] for x in a] == [x["apply"] for x in b]
        assert all(x["q10"] == y["q10"] for x, y in zip(a, b) if x["q10"] is not None)
        print(f"{engine:<11} {len(a):>6} {best['default']:>10.2f} {best['all']:>8.2f} "
              f"{best['all'] / best['default']:>6.1f}")
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
