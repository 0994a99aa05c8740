"""Monte Carlo throughput of ``tawazun.uncertainty.run_ensemble``.

For every registered engine (or those named with --engines) prints draws per second on
  (a) the EC car-emission case (10 actors; numbers below, Bueno de Mesquita 1994 Table 1)
      with ranges: position -1/+0.5 years (inside 4..10), salience +-10 points,
      capability +-25 %, status quo 4 .. 4 .. 5;
  (b) synthetic arenas of 30 and 100 actors (seeded; ranges of 0..15 points around
      each position, +-0.1 salience, +-20 % capability, status quo 40 .. 50 .. 60),
single process, then with Dask (``workers=2``) twice: a cold run that includes starting
the LocalCluster, and a warm run on an already started 2-worker cluster (its address is
passed as ``scheduler``; an untimed warm-up first lets each worker import the engine and
compile any Numba code). The sampling alone (``sample``) is timed too. Every parallel
result is checked bit for bit against the single-process one.

Slow engines get fewer draws: a pilot of 64 draws sets the count so that one run takes
about --budget seconds (never more than --draws).

With --shipped it instead times ``forecast_distribution`` for every engine on every
bargaining unit of the shipped arena at the default number of draws (what
``tawazun forecast --draws`` costs), twice: the first pass includes one-off costs such
as Numba compilation.

With --nash it compares the Nash engine before and after its compiled optimiser: the
NumPy reference (``nash_reference``) against ``nash`` on the same sampled draws of the
emission case and of the shipped arena's joint space (iraq-deal, 2-D), interleaved
(reference, compiled on one thread, compiled on all threads; --repeats times), with
the median of the per-round ratios and the largest forecast difference over the span.

Run:  .venv/bin/python bench/ensemble.py [--draws 20000] [--engines compromise,median]
                                         [--workers 2] [--budget 2] [--no-dask]
      .venv/bin/python bench/ensemble.py --shipped [--draws 500]
      .venv/bin/python bench/ensemble.py --nash [--draws 1000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import time
import warnings

import numpy as np

from tawazun.engines.base import REGISTRY, RangedProblem, get_engine
from tawazun.uncertainty import run_ensemble, sample

# actor, capability, position (years of delay), salience (0-100)
EMISSIONS = [
    ("Netherlands", 0.08, 4, 80), ("Belgium", 0.08, 7, 40), ("Luxembourg", 0.03, 4, 20),
    ("Germany", 0.16, 4, 80), ("France", 0.16, 10, 60), ("Italy", 0.16, 10, 60),
    ("UK", 0.16, 10, 90), ("Ireland", 0.05, 7, 10), ("Denmark", 0.05, 4, 100),
    ("Greece", 0.08, 7, 70),
]


def emissions() -> RangedProblem:
    cap = np.array([c for _, c, _, _ in EMISSIONS])
    pos = np.array([p for _, _, p, _ in EMISSIONS], dtype=float)
    sal = np.array([s for *_, s in EMISSIONS]) / 100.0
    return RangedProblem(
        actors=tuple(a for a, *_ in EMISSIONS), dims=("delay",),
        position=np.stack([np.clip(pos - 1, 4, 10), pos, np.clip(pos + 0.5, 4, 10)])[..., None],
        salience=np.stack([np.clip(sal - 0.1, 0, 1), sal, np.clip(sal + 0.1, 0, 1)])[..., None],
        capability=np.stack([0.75 * cap, cap, 1.25 * cap]),
        lower=np.array([4.0]), upper=np.array([10.0]),
        status_quo=np.array([[4.0], [4.0], [5.0]]),
    )


def synthetic(n: int, seed: int = 2021) -> RangedProblem:
    rng = np.random.default_rng(seed)
    mode = rng.uniform(0, 100, n)
    pos = np.stack([np.clip(mode - rng.uniform(0, 15, n), 0, 100), mode,
                    np.clip(mode + rng.uniform(0, 15, n), 0, 100)])[..., None]
    s = rng.uniform(0.2, 0.9, n)
    sal = np.stack([s - 0.1, s, s + 0.1])[..., None]
    c = rng.uniform(0.1, 1.0, n)
    cap = np.stack([0.8 * c, c, 1.2 * c])
    return RangedProblem(tuple(f"a{i:03d}" for i in range(n)), ("x",), pos, sal, cap,
                         np.array([0.0]), np.array([100.0]), np.array([[40.0], [50.0], [60.0]]))


def timed(fn):
    t0 = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t0


def shipped(engines: list[str], draws: int, seed: int) -> None:
    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem, units
    from tawazun.uncertainty import forecast_distribution

    arena = load_arena(None)
    print(f"shipped arena {arena.meta.id}: {draws} draws per engine and unit, seed {seed}")
    for attempt in ("first pass (includes compilation)", "second pass"):
        totals: dict[str, float] = {}
        for unit, issues in units(arena):
            for name in engines:
                spec = get_engine(name)
                targets = [unit] if spec.joint else issues
                for target in targets:
                    rp = ranged_problem(arena, target, joint=spec.joint)
                    if spec.max_dims is not None and len(rp.dims) > spec.max_dims:
                        continue
                    _, t = timed(lambda: forecast_distribution(rp, name, draws=draws, seed=seed))
                    totals[name] = totals.get(name, 0.0) + t
        cells = ", ".join(f"{k} {v:.2f} s" for k, v in totals.items())
        print(f"{attempt}: {cells}; all engines {sum(totals.values()):.2f} s")


def nash_before_after(draws: int, repeats: int, seed: int) -> None:
    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem
    from tawazun.engines import nash as nash_module

    deal = ranged_problem(load_arena(None), "iraq-deal", joint=True)
    cases = [("emissions (10 actors, 1-D)", emissions()),
             (f"iraq-deal ({len(deal.actors)} actors, {len(deal.dims)}-D)", deal)]
    nash_module.nash(sample(cases[1][1], 8, seed))  # compile, or load Numba's cache
    env = "TAWAZUN_NASH_THREADS"
    saved = os.environ.get(env)
    threads = nash_module.default_threads(env)
    print(f"Nash before/after: {draws} draws per case, {repeats} interleaved rounds, "
          f"{os.cpu_count()} CPUs (all threads = {threads})")
    header = (f"{'case':28} {'reference/s':>12} {'1 thread/s':>11} {'ratio':>7} "
              f"{'all/s':>10} {'ratio':>7} {'max|diff|/span':>15}")
    print(header)
    print("-" * len(header))
    try:
        for label, rp in cases:
            p = sample(rp, draws, seed)
            t_ref, t_one, t_all = [], [], []
            for _ in range(repeats):
                ref, t = timed(lambda: nash_module.nash_reference(p))
                t_ref.append(t)
                os.environ[env] = "1"
                new, t = timed(lambda: nash_module.nash(p))
                t_one.append(t)
                os.environ[env] = str(threads)
                _, t = timed(lambda: nash_module.nash(p))
                t_all.append(t)
            assert np.array_equal(ref.diagnostics["agreement"], new.diagnostics["agreement"])
            diff = (np.abs(ref.forecast - new.forecast) / (rp.upper - rp.lower)).max()
            r_one = float(np.median(np.array(t_ref) / np.array(t_one)))
            r_all = float(np.median(np.array(t_ref) / np.array(t_all)))
            print(f"{label:28} {draws / np.median(t_ref):>12.0f} {draws / np.median(t_one):>11.0f} "
                  f"{r_one:>6.0f}x {draws / np.median(t_all):>10.0f} {r_all:>6.0f}x {diff:>15.2e}",
                  flush=True)
    finally:
        if saved is None:
            os.environ.pop(env, None)
        else:
            os.environ[env] = saved
    print("draws/s are medians over the rounds (noisy on a loaded machine); ratio = median of "
          "reference time / compiled time within each round")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--draws", type=int, default=20000)
    ap.add_argument("--engines", default="")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--budget", type=float, default=2.0, help="target seconds per single-process run")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--shipped", action="store_true", help="time the shipped arena instead")
    ap.add_argument("--nash", action="store_true",
                    help="Nash before/after: reference vs compiled optimiser")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds for --nash")
    args = ap.parse_args()

    get_engine("compromise")  # registers the built-ins
    engines = [e for e in args.engines.split(",") if e] or sorted(REGISTRY)
    if args.nash:
        draws = args.draws if args.draws != ap.get_default("draws") else 1000
        nash_before_after(draws, max(1, args.repeats), args.seed)
        return
    if args.shipped:
        from tawazun.uncertainty import DEFAULT_DRAWS

        draws = args.draws if args.draws != ap.get_default("draws") else DEFAULT_DRAWS
        shipped(engines, draws, args.seed)
        return
    cases = [("emissions (10 actors)", emissions()), ("synthetic 30 actors", synthetic(30)),
             ("synthetic 100 actors", synthetic(100))]
    print(f"tawazun Monte Carlo bench: python {platform.python_version()}, numpy {np.__version__}, "
          f"{os.cpu_count()} CPUs, engines: {', '.join(engines)}")

    cluster = None
    if not args.no_dask:
        from distributed import LocalCluster

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            (cluster, t_start) = timed(lambda: LocalCluster(
                n_workers=args.workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.CRITICAL))
        print(f"warm cluster: {args.workers} workers started in {t_start:.2f} s")

    header = (f"{'case':24} {'engine':12} {'draws':>7} {'sample/s':>10} {'1 proc/s':>10} "
              f"{'warm ' + str(args.workers) + 'w/s':>10} {'ratio':>6} {'cold ' + str(args.workers) + 'w s':>10}")
    print(header)
    print("-" * len(header))
    for label, rp in cases:
        # Own seeds (no reuse of cached blocks), best of three.
        ts = min(timed(lambda: sample(rp, 4096, args.seed + 7919 + i))[1] for i in range(3))
        sample_rate = 4096 / ts
        for name in engines:
            spec = get_engine(name)
            if spec.max_dims is not None and spec.max_dims < 1:
                continue
            pilot = 64
            tp = min(timed(lambda: run_ensemble(rp, name, draws=pilot, seed=args.seed + 1 + i))[1]
                     for i in range(2))
            draws = int(min(args.draws, max(pilot, args.budget * pilot / max(tp, 1e-9))))
            ref, t1 = timed(lambda: run_ensemble(rp, name, draws=draws, seed=args.seed))
            row = f"{label:24} {name:12} {draws:>7} {sample_rate:>10.0f} {draws / t1:>10.0f}"
            if cluster is not None:
                chunk = max(64, -(-draws // (4 * args.workers)))
                # Untimed warm-up: imports and any JIT compilation happen once per worker.
                run_ensemble(rp, name, draws=2 * args.workers, seed=args.seed, chunk_size=1,
                             scheduler=cluster.scheduler_address)
                warm, tw = timed(lambda: run_ensemble(rp, name, draws=draws, seed=args.seed,
                                                      chunk_size=chunk,
                                                      scheduler=cluster.scheduler_address))
                assert np.array_equal(warm.forecast, ref.forecast), "Dask result differs"
                cold, tc = timed(lambda: run_ensemble(rp, name, draws=draws, seed=args.seed,
                                                      chunk_size=chunk, workers=args.workers))
                assert np.array_equal(cold.forecast, ref.forecast), "Dask result differs"
                row += f" {draws / tw:>10.0f} {t1 / tw:>6.2f} {tc:>10.2f}"
            print(row, flush=True)
    if cluster is not None:
        cluster.close()
    print("ratio = single-process seconds / warm-cluster seconds (> 1: the cluster is faster)")


if __name__ == "__main__":
    main()
