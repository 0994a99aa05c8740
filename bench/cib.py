"""CIB exact enumeration benchmark: seconds and search nodes on seeded random matrices.

    python bench/cib.py                 # all cases, with the prophesy-cib peer where feasible
    python bench/cib.py --no-peer       # ours only
    python bench/cib.py --cases 15x3-5,20x3 --repeat 3
    python bench/cib.py --no-peer --method prop --cases 10x3,15x3,15x3-5,20x3,22x3,24x3,40x3
    python bench/cib.py --no-peer --cases 40x3-s15,40x3-s25,40x3-s35,60x3-s15 --seed 2
    python bench/cib.py --estimate 1000 --cases 40x3    # tree-size estimates only

Matrices: integer judgments uniform in -3..+3 (same-descriptor blocks zero), seeded; the
"-sNN" cases keep each descriptor pair's block with probability NN % (sparse, as real
matrices are) and are not targets of the brief.
Targets (brief): 15 descriptors with 3-5 variants <= 0.1 s; 20 x 3 <= 1 s; 40 x 3 <= 60 s.
The default method is the library's "auto" ("static" on these dense cases, "prop" on the
sparse ones); every case stops after --max-seconds (default 120) and is then INCOMPLETE.
The Numba JIT compile (or on-disk cache load) is timed separately by warming up first.

Peer: prophesy-cib (PyPI), installed by this script into a throwaway venv under /tmp
(never a project dependency). It has no pruned search: it finds consistent scenarios by
scoring every scenario, which is what we time, with a 10-minute cap; a case whose
estimated time (from a timed sample) exceeds the cap is reported as skipped.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from tawazun.scenarios import cib  # noqa: E402

PEER_VENV = Path(tempfile.gettempdir()) / "tawazun-bench-prophesy-venv"
PEER_CAP_S = 600.0


def cases() -> dict[str, list[int]]:
    rng = np.random.default_rng(20210731)
    return {
        "10x3": [3] * 10,
        "12x3": [3] * 12,
        "15x3": [3] * 15,
        "20x3": [3] * 20,
        "15x3-5": [int(x) for x in rng.integers(3, 6, size=15)],
        "22x3": [3] * 22,
        "24x3": [3] * 24,
        "40x3": [3] * 40,
        "40x3-s15": [3] * 40,
        "40x3-s25": [3] * 40,
        "40x3-s35": [3] * 40,
        "60x3-s15": [3] * 60,
    }


def counts_of(name: str) -> list[int]:
    """A listed case, or any ``DxV`` / ``DxV-sNN`` name (D descriptors of V variants)."""
    if name in cases():
        return cases()[name]
    head = name.rsplit("-s", 1)[0]
    d, _, v = head.partition("x")
    if not (d.isdigit() and v.isdigit()):
        raise SystemExit(f"unknown case {name!r}: use a listed case or DxV[-sNN]")
    return [int(v)] * int(d)


def density_of(name: str) -> float:
    """Cases named ``...-sNN`` keep each descriptor pair's block with probability NN %."""
    tail = name.rsplit("-s", 1)
    return int(tail[1]) / 100 if len(tail) == 2 and tail[1].isdigit() else 1.0


def random_matrix(counts: list[int], seed: int, density: float = 1.0) -> np.ndarray:
    """Judgments uniform in -3..+3; with ``density`` < 1 each (source, target) descriptor
    block is kept with that probability and left empty otherwise, as in real matrices where
    a descriptor is influenced by a handful of others (dense is the issue's hard case)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    v = sum(counts)
    c = rng.integers(-3, 4, size=(v, v)).astype(float)
    if density < 1.0:
        keep = rng.random((len(counts), len(counts))) < density
        c *= np.repeat(np.repeat(keep, counts, axis=0), counts, axis=1)
    return cib.clean_matrix(c, counts)


PEER_SCRIPT = r"""
import json, sys, time, itertools, warnings
import numpy as np
from prophesy_cib.model import Model, Descriptor, Variant, CrossImpact
from prophesy_cib.scenario_gen import enumerate_all_scenarios
from prophesy_cib.succession import compute_scenario_consistency
warnings.simplefilter("ignore")
c = np.load(sys.argv[1]); counts = json.loads(sys.argv[2]); sample = int(sys.argv[3])
off = np.concatenate([[0], np.cumsum(counts)])
descs = [Descriptor(i + 1, f"D{i+1}", "nominal", tuple(Variant(j + 1, f"v{j+1}") for j in range(n))) for i, n in enumerate(counts)]
imps = []
for x in range(len(counts)):
    for a in range(counts[x]):
        for y in range(len(counts)):
            if x == y: continue
            for b in range(counts[y]):
                val = float(c[off[x] + a, off[y] + b])
                if val: imps.append(CrossImpact(x + 1, a + 1, y + 1, b + 1, val))
model = Model(descs, imps)
t0 = time.perf_counter()
scen = enumerate_all_scenarios(model, threshold=None) if sample == 0 else None
if sample:
    # timed sample of `sample` scenarios to estimate the full run
    from prophesy_cib.model import Scenario
    rng = np.random.default_rng(0)
    picks = [Scenario.from_model({i + 1: int(rng.integers(1, n + 1)) for i, n in enumerate(counts)}, model) for _ in range(sample)]
    t0 = time.perf_counter()
    for s in picks: compute_scenario_consistency(s, model)
    per = (time.perf_counter() - t0) / sample
    print(json.dumps({"per_scenario_s": per}))
    sys.exit(0)
found = [s.to_index_string() for s in scen if compute_scenario_consistency(s, model) >= -1e-9]
print(json.dumps({"seconds": time.perf_counter() - t0, "found": found}))
"""


def ensure_peer() -> Path | None:
    py = PEER_VENV / "bin" / "python"
    if py.exists():
        ok = subprocess.run([str(py), "-c", "import prophesy_cib"], capture_output=True)
        if ok.returncode == 0:
            return py
    print(f"installing prophesy-cib into {PEER_VENV} ...", flush=True)
    r = subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"peer: venv failed: {r.stderr.strip()[-300:]}")
        return None
    r = subprocess.run([str(py), "-m", "pip", "install", "-q", "prophesy-cib"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"peer: pip install failed: {r.stderr.strip()[-300:]}")
        return None
    return py


def run_peer(py: Path, c: np.ndarray, counts: list[int]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.npy")
        np.save(path, c)
        est = subprocess.run([str(py), "-c", PEER_SCRIPT, path, json.dumps(counts), "300"], capture_output=True, text=True, timeout=PEER_CAP_S)
        if est.returncode != 0:
            return {"error": est.stderr.strip()[-300:]}
        per = json.loads(est.stdout)["per_scenario_s"]
        total = cib.n_scenarios(counts)
        estimate = per * total
        if estimate > PEER_CAP_S:
            return {"skipped": f"estimated {estimate:,.0f} s for {total:,} scenarios (> {PEER_CAP_S:.0f} s cap)"}
        try:
            r = subprocess.run([str(py), "-c", PEER_SCRIPT, path, json.dumps(counts), "0"], capture_output=True, text=True, timeout=PEER_CAP_S)
        except subprocess.TimeoutExpired:
            return {"skipped": f"did not finish within {PEER_CAP_S:.0f} s"}
        if r.returncode != 0:
            return {"error": r.stderr.strip()[-300:]}
        return json.loads(r.stdout)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--no-peer", action="store_true", help="skip prophesy-cib")
    ap.add_argument("--cases", default=",".join(cases()), help="comma-separated case names")
    ap.add_argument("--repeat", type=int, default=1, help="runs per case (best time printed)")
    ap.add_argument("--method", default="auto", choices=["auto", "static", "fcff", "prop"])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--max-seconds", type=float, default=120.0, help="stop a case's search after this long (reported as INCOMPLETE)")
    ap.add_argument("--estimate", type=int, default=0, metavar="PROBES", help="only print Knuth estimates of the 'prop' and 'static' tree sizes per case (no search)")
    args = ap.parse_args()
    if args.estimate:
        cib.warm_up()
        for name in args.cases.split(","):
            counts = counts_of(name)
            t = time.perf_counter()
            c = random_matrix(counts, args.seed, density_of(name))
            mean, se = cib.estimate_nodes(c, counts, "prop", args.estimate, args.seed)
            print(f"{name:8} estimated prop nodes {mean:.3g} +- {se:.2g} ({args.estimate} probes, {time.perf_counter() - t:.1f} s)", flush=True)
            t = time.perf_counter()
            mean, se = cib.estimate_nodes(c, counts, "static", args.estimate, args.seed)
            print(f"{name:8} estimated static nodes {mean:.3g} +- {se:.2g} ({args.estimate} probes, {time.perf_counter() - t:.1f} s)", flush=True)
        return

    # true JIT compile time: a fresh process with an empty Numba cache directory
    with tempfile.TemporaryDirectory() as cache:
        env = dict(os.environ, NUMBA_CACHE_DIR=cache, PYTHONPATH=str(ROOT / "src"))
        r = subprocess.run(
            [sys.executable, "-c", "from tawazun.scenarios import cib; print(cib.warm_up())"],
            capture_output=True, text=True, env=env,
        )
        fresh = float(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else float("nan")
    compile_s = cib.warm_up()
    print(f"numba JIT compile (empty cache): {fresh:.2f} s; warm-up here (cache load): {compile_s:.2f} s")
    peer = None if args.no_peer else ensure_peer()
    targets = {"15x3-5": 0.1, "20x3": 1.0, "40x3": 60.0}
    print(f"load average: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (wall seconds suffer under load; cpu = process CPU time)")
    print(f"{'case':8} {'density':>7} {'method':>6} {'scenarios':>10} {'seconds':>9} {'cpu s':>8} {'nodes':>14} {'found':>5}  target  peer")
    for name in args.cases.split(","):
        counts = counts_of(name)
        density = density_of(name)
        c = random_matrix(counts, args.seed, density)
        best = cpu = None
        for _ in range(max(1, args.repeat)):
            t, t_cpu = time.perf_counter(), time.process_time()
            res = cib.enumerate_scenarios(c, counts, method=args.method, max_seconds=args.max_seconds)
            dt, dcpu = time.perf_counter() - t, time.process_time() - t_cpu
            best = dt if best is None else min(best, dt)
            cpu = dcpu if cpu is None else min(cpu, dcpu)
            if not res.complete:
                break
        target = targets.get(name)
        tgt = "" if target is None else ("met" if best <= target and res.complete else f"MISSED (<= {target:g} s)")
        status = "" if res.complete else f" INCOMPLETE (stopped after {args.max_seconds:g} s)"
        line = (f"{name:8} {cib.influence_density(c, counts):7.2f} {res.method:>6} {cib.n_scenarios(counts):10.3g} "
                f"{best:9.4f} {cpu:8.4f} {res.evaluated:14,d} {len(res.scenarios):5d}  {tgt}{status}")
        if peer is not None and res.complete:
            p = run_peer(peer, c, counts)
            if "seconds" in p:
                ours = {",".join(str(x + 1) for x in s) for s in res.scenarios}
                theirs = set(p["found"])
                agree = "same consistent set" if theirs == ours else f"DIFFERENT: {sorted(theirs)}"
                line += f"  prophesy {p['seconds']:.2f} s, ratio {p['seconds'] / best:,.0f}x ({agree})"
            else:
                line += f"  prophesy: {p.get('skipped') or p.get('error')}"
        print(line, flush=True)


if __name__ == "__main__":
    main()
