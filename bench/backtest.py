"""Timing of the DEU backtest: per-engine forecast time over every development issue,
and the whole out-of-fold run. Prints numbers; asserts nothing. Skips (exit 0) when
../shared/data/deu3/deu3-dev.tsv is absent.

    .venv/bin/python bench/backtest.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

DEU = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "deu3" / "deu3-dev.tsv"


def main() -> int:
    if not DEU.is_file():
        print(f"skip: {DEU} not present")
        return 0
    from tawazun.evaluation import protocol as P
    from tawazun.evaluation.deu import load_deu

    t0 = time.perf_counter()
    data = load_deu(DEU)
    t_load = time.perf_counter() - t0
    t0 = time.perf_counter()
    feats, problems = P.build_features(data, "council", P.DEFAULT_SEED)
    t_feat = time.perf_counter() - t0
    print(f"load {t_load * 1e3:.1f} ms ({len(data.issues)} issues); features {t_feat * 1e3:.1f} ms")
    base = None
    for name in P.available_engines():
        t0 = time.perf_counter()
        P._engine_forecasts(name, problems, P.DEFAULT_SEED)
        dt = time.perf_counter() - t0
        base = base or dt
        print(f"engine {name:12s} {dt:8.3f} s  {dt / len(problems) * 1e3:8.2f} ms/issue  "
              f"x{dt / base:8.1f} vs compromise")
    t0 = time.perf_counter()
    P.run_backtest(data, list(P.FITTED), scheme="council")
    print(f"fitted models, full 5-fold run with inner cross-fitting: {time.perf_counter() - t0:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
