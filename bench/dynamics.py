"""Timing of the dynamics kernels. Prints numbers and ratios; asserts nothing.

    .venv/bin/python bench/dynamics.py [--mesa-runs N] [--kernel-runs N] [--mesa-ticks N] [--skip-peer]
                                       [--only hawkes|protest|system] [--system-paths N] [--system-workers N]

1. Hawkes counts: 10,000 paths x 365 daily steps (mu 0.5/day, branching ratio 0.5: ~1 event/day).
2. Hawkes MLE on ~1,000 events (baseline, excitation and decay).
3. The same two jobs with hawkesbook 0.1.0 (Laub, Lee & Taimre, the companion code of "The
   Elements of Hawkes Processes", Springer 2021; Numba), from a THROWAWAY venv (never a
   project dependency):

       python3 -m venv /tmp/hawkes-peer && /tmp/hawkes-peer/bin/pip install hawkesbook==0.1.0

   run through a subprocess (skipped when /tmp/hawkes-peer is absent). It simulates one path
   per call (thinning; a Python loop over paths, binned into days) and fits the same three
   parameters with scipy and an analytic gradient (no standard errors). tick 0.8.0.2 was tried
   first: its simulator runs but its learners fail to construct on Python 3.11
   ("no settable attribute 'events'"); hawkeslib 0.2.2 does not build.
4. The protest kernel against the Mesa reference on the target workload (~10,000 agents on a
   120 x 120 torus, vision 7 as in Epstein 2002, 200 ticks, 100 runs). Both sides are measured on
   fewer runs/ticks by default and scaled linearly (cost is linear in runs and ~linear in ticks);
   the printed lines say what was measured.
5. ``--only system`` (not run by default; about 5 s with the start-up): the shipped arena
   end to end, ``forecast.execute`` with 10,000 bargaining draws (engine compromise, the
   default dynamics engine), dynamics on (one path per draw, the default; the main run plus
   one run per consistent future, the default), horizon 24 months, sensitivity and Sobol off.
   Prints the total and its split by phase (point forecasts, bargaining draws, CIB futures,
   dynamics) and, inside the dynamics, the time in the protest kernel (agent worlds), the
   protest emulator and the Hawkes kernel, against the target of <= 2 s. The shipped arena's
   protests are emulated (``method: emulator``); ``bench/emulator.py`` compares that with the
   agent worlds. ``--system-paths N`` measures N draws/paths instead and scales
   linearly to 10,000 (every phase but the point forecasts and the CIB search is linear in
   the paths; the printed lines say what was measured).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

PEER = Path(os.environ.get("HAWKES_PEER", "/tmp/hawkes-peer/bin/python"))
MU, ALPHA, DECAY = 0.5, 0.8, 1.6

PEER_SCRIPT = r"""
import json, sys, time
import numpy as np
import hawkesbook as hb
mu, alpha, decay, paths, days, times_file = float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
theta = np.array([mu, alpha, decay])       # hawkesbook's kernel is alpha exp(-beta t), as ours
hb.exp_simulate_by_thinning(theta, 10.0)   # compile outside the timing
t0, c0 = time.perf_counter(), time.process_time()
for p in range(paths):
    np.histogram(hb.exp_simulate_by_thinning(theta, float(days)), bins=days, range=(0, days))
sim, sim_cpu = time.perf_counter() - t0, time.process_time() - c0
times = np.load(times_file)
horizon = float(np.ceil(times[-1]))
start = np.array([0.5 * times.size / horizon, 0.5 * times.size / horizon, times.size / horizon])
hb.exp_mle_with_grad(times[:50], float(np.ceil(times[49])), start)
fits, cpus = [], []
for _ in range(5):
    t0, c0 = time.perf_counter(), time.process_time()
    est = hb.exp_mle_with_grad(times, horizon, start)
    fits.append(time.perf_counter() - t0)
    cpus.append(time.process_time() - c0)
print(json.dumps({"sim": sim, "sim_cpu": sim_cpu, "fit": float(np.median(fits)), "fit_cpu": float(np.median(cpus)),
                  "est": [float(x) for x in est]}))
"""


def bench_hawkes(peer: bool) -> None:
    from tawazun.dynamics import hawkes as hk

    rng = np.random.default_rng(0)
    hk.simulate_counts(np.full((2, 5), MU), ALPHA, DECAY, rng)        # compile outside the timing
    mu = np.full((10_000, 365), MU)
    ts, cs = [], []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        counts = hk.simulate_counts(mu, ALPHA, DECAY, rng)
        ts.append(time.perf_counter() - t0)
        cs.append(time.process_time() - c0)
    sim = min(ts)
    # CPU time too: on a shared machine the wall clock mostly measures the neighbours
    print(f"hawkes simulate 10,000 paths x 365 daily steps: {sim:.3f} s wall, {min(cs):.3f} s CPU (best of 3; "
          f"{counts.sum() / 1e6:.2f} M events; mean {counts.mean():.3f}/day, theory {hk.stationary_rate(MU, ALPHA, DECAY):.3f}) "
          f"target <= 0.5 s")

    times = hk.simulate_times(MU, ALPHA, DECAY, 1000.0, np.random.default_rng(1))
    hk.fit_hawkes(times[:50], float(np.ceil(times[49])))               # compile
    horizon = float(np.ceil(times[-1]))
    fs, fc = [], []
    for _ in range(5):
        t0, c0 = time.perf_counter(), time.process_time()
        fit = hk.fit_hawkes(times, horizon)
        fs.append(time.perf_counter() - t0)
        fc.append(time.process_time() - c0)
    t_fit, c_fit = float(np.median(fs)), float(np.median(fc))
    print(f"hawkes MLE on {times.size} events: {t_fit * 1e3:.1f} ms wall, {np.median(fc) * 1e3:.1f} ms CPU "
          f"(median of 5; with SEs) target <= 200 ms; "
          f"mu {fit.mu:.3f} alpha {fit.alpha:.3f} decay {fit.decay:.3f} (truth {MU}, {ALPHA}, {DECAY})")

    if not peer:
        return
    if not PEER.exists():
        print(f"peer: skipped ({PEER} absent; see this file's docstring)")
        return
    peer_paths = 1000
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "times.npy"
        np.save(f, times)
        res = subprocess.run([str(PEER), "-c", PEER_SCRIPT, str(MU), str(ALPHA), str(DECAY), str(peer_paths), "365", str(f)],
                             capture_output=True, text=True, timeout=1800)
    if res.returncode != 0:
        print("peer: failed:", res.stderr.strip().splitlines()[-1:])
        return
    out = json.loads(res.stdout.strip().splitlines()[-1])
    t0, c0 = time.perf_counter(), time.process_time()
    hk.simulate_counts(np.full((peer_paths, 365), MU), ALPHA, DECAY, rng)
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() - c0
    # CPU-time ratios: the wall clock of a shared machine is mostly the neighbours' load
    print(f"peer hawkesbook 0.1.0: simulate {peer_paths} paths x 365 days: peer {out['sim']:.3f} s wall / "
          f"{out['sim_cpu']:.3f} s CPU, ours {ours:.3f} s wall / {ours_cpu:.3f} s CPU (all threads) "
          f"-> peer/ours CPU x{out['sim_cpu'] / ours_cpu:.1f}")
    print(f"peer hawkesbook 0.1.0: MLE on the same {times.size} events: peer {out['fit'] * 1e3:.1f} ms wall / "
          f"{out['fit_cpu'] * 1e3:.1f} ms CPU (no SEs), ours {t_fit * 1e3:.1f} ms wall / {c_fit * 1e3:.1f} ms CPU "
          f"(with SEs) -> peer/ours CPU x{out['fit_cpu'] / c_fit:.2f}; its estimates "
          f"{', '.join(f'{x:.3f}' for x in out['est'])}")


def bench_protest(mesa_runs: int, mesa_ticks: int, kernel_runs: int) -> None:
    from tawazun.dynamics import protest as pr

    params = pr.ProtestParams(width=120, height=120, citizen_density=0.66, cop_density=0.04, vision=7, j_max=30)
    agents = params.n_citizens + params.n_cops
    ticks, runs = 200, 100
    pr.run(pr.ProtestParams(width=20, height=20, vision=3), 2, 2, 0.8, np.random.default_rng(0))  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    pr.run(params, kernel_runs, ticks, 0.82, np.random.default_rng(1))
    k, kc = time.perf_counter() - t0, time.process_time() - c0
    k_full, kc_full = k * runs / kernel_runs, kc * runs / kernel_runs
    print(f"protest kernel: {agents} agents x {ticks} ticks x {kernel_runs} runs: {k:.2f} s wall, {kc:.2f} s CPU "
          f"-> {k_full:.1f} s wall / {kc_full:.1f} s CPU scaled to {runs} runs")
    try:
        from tawazun.dynamics.protest_mesa import run_reference
    except ImportError:
        print("protest Mesa reference: skipped (mesa not installed)")
        return
    t0, c0 = time.perf_counter(), time.process_time()
    for s in range(mesa_runs):
        run_reference(params, mesa_ticks, 0.82, seed=s)
    m, mc = time.perf_counter() - t0, time.process_time() - c0
    scale = (runs / mesa_runs) * (ticks / mesa_ticks)
    m_full, mc_full = m * scale, mc * scale
    print(f"protest Mesa reference: {mesa_runs} run(s) x {mesa_ticks} ticks: {m:.2f} s wall, {mc:.2f} s CPU "
          f"-> {m_full:.0f} s wall / {mc_full:.0f} s CPU scaled to {runs} runs x {ticks} ticks")
    print(f"protest kernel vs Mesa: wall x{m_full / k_full:.0f} (kernel on {_numba_threads()} threads), "
          f"CPU x{mc_full / kc_full:.0f} (target >= 100x)")


SYSTEM_PATHS, SYSTEM_HORIZON, SYSTEM_TARGET_S = 10_000, 24, 2.0


def bench_system(paths: int, workers: int) -> None:
    from tawazun.arena import load_arena
    from tawazun.dynamics import balance, hawkes, protest
    from tawazun.forecast import ForecastConfig, execute

    arena = load_arena(None, forecast=True)
    base = dict(engines=("compromise",), horizon=SYSTEM_HORIZON, sensitivity=False, sobol_n=0, workers=workers)
    execute(arena, ForecastConfig(draws=50, **{**base, "horizon": 2, "workers": 1}))   # compile, import
    # time the kernels inside the dynamics by wrapping them (the wrappers add microseconds per call)
    spent = {"protest": [0.0, 0.0], "protest emulator": [0.0, 0.0], "hawkes": [0.0, 0.0]}

    def timed(name, fn):
        def wrapper(*a, **k):
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                return fn(*a, **k)
            finally:
                spent[name][0] += time.perf_counter() - t0
                spent[name][1] += time.process_time() - c0
        return wrapper

    orig = protest.advance, hawkes.simulate_counts, balance.emulator.sample
    balance.protest.advance = timed("protest", orig[0])
    balance.hawkes.simulate_counts = timed("hawkes", orig[1])
    balance.emulator.sample = timed("protest emulator", orig[2])
    marks: list[tuple[str, float, float]] = []
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        run = execute(arena, ForecastConfig(draws=paths, **base),
                      phase=lambda name: marks.append((name, time.perf_counter(), time.process_time())))
        total, total_cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        balance.protest.advance, balance.hawkes.simulate_counts, balance.emulator.sample = orig
    marks.append(("end", t0 + total, c0 + total_cpu))
    phases = {name: (marks[i + 1][1] - t, marks[i + 1][2] - c) for i, (name, t, c) in enumerate(marks[:-1])}
    scale = SYSTEM_PATHS / paths
    sims = 1 + len(run.dynamics.futures or [])
    what = (f"{paths} draws/paths measured, scaled x{scale:g} to {SYSTEM_PATHS}" if scale != 1
            else f"{paths} draws/paths")
    print(f"system (shipped arena, compromise draws + dynamics, {SYSTEM_HORIZON} months, {sims} simulations: "
          f"the run and {sims - 1} futures; workers {workers}; {what}; CPU is this process only):")
    for name, (w, c) in phases.items():
        fixed = name in ("point forecasts", "scenarios")  # not linear in the paths: not scaled
        k = 1.0 if fixed else scale
        print(f"  {name:<18} {w * k:9.2f} s wall {c * k:9.2f} s CPU{'' if fixed else ' (scaled)' if scale != 1 else ''}")
    for name, (w, c) in spent.items():
        print(f"    in {name} kernel {w * scale:9.2f} s wall {c * scale:9.2f} s CPU "
              f"({w / max(phases.get('dynamics', (1e-9,))[0], 1e-9):.0%} of the dynamics' wall time)")
    fixed_w = sum(phases.get(n, (0.0, 0.0))[0] for n in ("point forecasts", "scenarios"))
    est = fixed_w + (total - fixed_w) * scale
    draws_w = phases.get("Monte Carlo draws", (0.0, 0.0))[0] * scale
    dyn_w = phases.get("dynamics", (0.0, 0.0))[0] * scale
    print(f"  total {est:.2f} s wall (measured {total:.2f} s wall, {total_cpu:.2f} s CPU) -> "
          f"x{est / SYSTEM_TARGET_S:.2f} the target of <= {SYSTEM_TARGET_S:g} s; "
          f"bargaining draws {draws_w:.2f} s : dynamics {dyn_w:.2f} s (ratio 1 : {dyn_w / max(draws_w, 1e-9):.0f})")
    with open("/proc/loadavg") as f:
        print(f"  load average at the end: {f.read().strip()}")


def _numba_threads() -> int:
    import numba

    return numba.get_num_threads()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mesa-runs", type=int, default=1)
    ap.add_argument("--mesa-ticks", type=int, default=10)
    ap.add_argument("--kernel-runs", type=int, default=4)
    ap.add_argument("--skip-peer", action="store_true")
    ap.add_argument("--only", choices=["hawkes", "protest", "system"], default=None)
    ap.add_argument("--system-paths", type=int, default=SYSTEM_PATHS)
    ap.add_argument("--system-workers", type=int, default=1)
    a = ap.parse_args()
    with open("/proc/loadavg") as f:
        print(f"load average at the start: {f.read().strip()} ({os.cpu_count()} CPUs)")
    if a.only == "system":
        bench_system(a.system_paths, a.system_workers)
    if a.only in (None, "hawkes"):
        bench_hawkes(not a.skip_peer)
    if a.only in (None, "protest"):
        bench_protest(a.mesa_runs, a.mesa_ticks, a.kernel_runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
