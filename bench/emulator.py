"""The protest emulator against the agent worlds it tabulates, on the shipped arena's dynamics.
Prints numbers; asserts nothing.

    .venv/bin/python bench/emulator.py [--paths N] [--horizon N] [--seed S] [--burn-in T]

Runs the shipped arena's dynamics section twice with the same seed, ranges only (no
bargaining): once with ``method: agents`` (one Epstein world per path) and once with ``method:
emulator`` (the shipped table), and prints the time of each, P(collapse) by month with two
standard errors of the difference, and the monthly protest share (mean, 10 % and 90 %
quantiles, two-sample KS p-value). ``--burn-in T`` sets the agent worlds' burn-in (the
arena's is 20 ticks; the table's worlds settle for 100): with 100 the agent side starts from
the same settled state as the table.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from scipy import stats


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--paths", type=int, default=1000)
    ap.add_argument("--horizon", type=int, default=24)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--burn-in", type=int, default=None)
    a = ap.parse_args()

    from tawazun.arena.load import load_arena
    from tawazun.dynamics.simulate import section_of, simulate

    arena = load_arena()
    sec = section_of(arena)
    res, secs = {}, {}
    for method in ("agents", "emulator"):
        change = {"method": method, **({"burn_in": a.burn_in} if a.burn_in is not None else {})}
        procs = [p.model_copy(update=change) if p.kind == "protest" else p for p in sec.processes]
        proc = next(p for p in procs if p.kind == "protest")
        run_arena = arena.model_copy(update={"dynamics": sec.model_copy(update={"processes": procs})})
        simulate(run_arena, paths=4, horizon=1, seed=a.seed)          # compile / load outside the timing
        t = time.perf_counter()
        res[method] = simulate(run_arena, paths=a.paths, horizon=a.horizon, seed=a.seed)
        secs[method] = time.perf_counter() - t
    n = a.paths
    burn = proc.burn_in
    print(f"shipped arena dynamics, ranges only, {n} paths x {a.horizon} months, seed {a.seed}; "
          f"agent worlds burn in {burn} ticks")
    print(f"  time: agents {secs['agents']:.2f} s, emulator {secs['emulator']:.3f} s "
          f"(x{secs['agents'] / secs['emulator']:.0f})")
    ag, em = res["agents"], res["emulator"]
    for m in sorted({3, 6, 12, 18, 24} & set(range(1, a.horizon + 1))):
        pa, pe = ag.regimes["collapse"][m - 1], em.regimes["collapse"][m - 1]
        se = np.sqrt(pa * (1 - pa) / n + pe * (1 - pe) / n)
        print(f"  P(collapse) by month {m:>2}: agents {pa:.3f}  emulator {pe:.3f}  "
              f"difference {pe - pa:+.3f} (2 SE {2 * se:.3f})")
    for m in sorted({1, 2, 3, 6, 12, 24} & set(range(1, a.horizon + 1))):
        x, y = ag.raw["protests"][:, m - 1], em.raw["protests"][:, m - 1]
        print(f"  protest share month {m:>2}: mean {x.mean():.4f} / {y.mean():.4f}   "
              f"q10 {np.quantile(x, .1):.4f} / {np.quantile(y, .1):.4f}   "
              f"q90 {np.quantile(x, .9):.4f} / {np.quantile(y, .9):.4f}   KS p {stats.ks_2samp(x, y).pvalue:.3f}")
    x, y = ag.raw["protests"][:, 6:].mean(), em.raw["protests"][:, 6:].mean()
    print(f"  protest share, months 7-{a.horizon} pooled: agents {x:.4f}  emulator {y:.4f} ({y / x - 1:+.1%})")
    x, y = ag.raw["balance"][:, -1], em.raw["balance"][:, -1]
    print(f"  balance at month {a.horizon}: mean {x.mean():.4f} / {y.mean():.4f}   KS p {stats.ks_2samp(x, y).pvalue:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
