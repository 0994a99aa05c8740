"""Speed of `tawazun.evidence.extract` on a 10,000-word input, start-up included.

Builds the input by repeating the test fixtures (Arabic and English) up to 10,000 words,
then times fresh `python -c` subprocesses that import the pipeline and run it once,
interleaved with bare `python -c pass` processes (the interpreter's own start-up).

Printed, medians over --repeat runs (min in brackets):
  import, run        timed inside the child (perf_counter)
  process            wall time of the whole child, interpreter start-up included
  process - bare     the same minus the bare interpreter's wall time
  cpu                user+sys of the child (less sensitive to a busy machine than wall)
THE TARGET (10,000 words <= 0.3 s with start-up) IS THE `process` WALL FIGURE, bare
interpreter start-up included, on an idle machine; on a shared machine read `cpu` too.

The timed runs are "warm": Python's bytecode (.pyc) and the package's disk caches
(tawazun cache folder: gazetteer, lexicons, compiled regexes) exist, as after the first
run of an installed package.  One untimed warm-up run makes them; its figures are printed
as "first run".  If the environment forbids bytecode (PYTHONDONTWRITEBYTECODE), the
children write it under a temporary PYTHONPYCACHEPREFIX instead, so that the timed runs do
not recompile the package's sources every time.  --cold also times runs with empty
caches (a fresh cache folder and bytecode folder per run): the worst case.

Usage: python bench/extract.py [--words N] [--repeat R] [--cold] [--against OLD_SRC]
--against times another copy of src/ in turn with this one (before/after on a busy box):
  git archive COMMIT src | tar -x -C /tmp/old && python bench/extract.py --against /tmp/old/src
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "evidence"
BUDGET_S = 0.3

CHILD = r"""
import sys, time, json
t0 = time.perf_counter()
from tawazun.evidence.pipeline import extract
t1 = time.perf_counter()
text = open(sys.argv[1], encoding="utf-8").read()
x = extract(text, as_of="2021-07-27")
t2 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "run_s": t2 - t1,
                  "counts": {k: len(v) for k, v in x.items()}}))
"""


def build_input(words: int) -> str:
    parts = [p.read_text(encoding="utf-8").strip() for p in sorted(FIXTURES.rglob("*.txt"))]
    out: list[str] = []
    n = 0
    while n < words:
        for p in parts:
            out.append(p)
            n += len(p.split())
            if n >= words:
                break
    return "\n".join(out) + "\n"


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """(wall s, user+sys s, stdout) of one child process."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    res = subprocess.run(argv, capture_output=True, text=True, check=True, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime), res.stdout


def _report(label: str, walls: list[float], cpus: list[float], imports: list[float], runs: list[float],
            bares: list[float]) -> None:
    med = statistics.median
    net = [w - b for w, b in zip(walls, bares)]
    print(f"[{label}]")
    print(f"import          median {med(imports):.3f} s   (min {min(imports):.3f})")
    print(f"run             median {med(runs):.3f} s   (min {min(runs):.3f})")
    print(f"process         median {med(walls):.3f} s   (min {min(walls):.3f}) wall, python start-up included"
          "   <- the target")
    print(f"process - bare  median {med(net):.3f} s   (min {min(net):.3f}) wall, python start-up excluded")
    print(f"cpu             median {med(cpus):.3f} s   (min {min(cpus):.3f}) user+sys of the process")
    print(f"budget  {BUDGET_S:.3f} s   ratio process-wall/budget = {med(walls) / BUDGET_S:.2f}, "
          f"cpu/budget = {med(cpus) / BUDGET_S:.2f}")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--cold", action="store_true", help="also time runs with empty caches")
    ap.add_argument("--against", metavar="SRC",
                    help="another copy of the package's src/ folder (e.g. the code before a change, "
                         "from `git archive`), timed in turn with this one")
    args = ap.parse_args()
    text = build_input(args.words)
    tmp = tempfile.mkdtemp(prefix="tawazun-bench-")
    path = os.path.join(tmp, "input.txt")
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
    env = dict(os.environ)
    if env.pop("PYTHONDONTWRITEBYTECODE", None):
        env["PYTHONPYCACHEPREFIX"] = os.path.join(tmp, "pyc")
    # "this" is always the checkout the script sits in (not whatever copy is installed)
    variants = {"this": dict(env, PYTHONPATH=os.pathsep.join(
        [str(ROOT / "src")] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])))}
    if args.against:
        variants["against"] = dict(env, PYTHONPATH=os.path.abspath(args.against))
    full = [sys.executable, "-c", CHILD, path]
    bare = [sys.executable, "-c", "pass"]

    firsts = {k: timed(full, e) for k, e in variants.items()}  # warm-up: bytecode and caches
    rows = {k: ([], [], [], []) for k in variants}
    bares, bare_cpus = [], []
    counts = {}
    for _ in range(args.repeat):
        w, c, _out = timed(bare, variants["this"])
        bares.append(w)
        bare_cpus.append(c)
        for k, e in variants.items():  # interleaved: the same load for each variant
            w, c, out = timed(full, e)
            d = json.loads(out)
            for lst, v in zip(rows[k], (w, c, d["import_s"], d["run_s"])):
                lst.append(v)
            counts[k] = d["counts"]
    colds = {}
    if args.cold:
        for k, e in variants.items():
            cw, cc = [], []
            for i in range(args.repeat):
                cenv = dict(e, TAWAZUN_CACHE=os.path.join(tmp, f"cache-{k}-{i}"),
                            PYTHONPYCACHEPREFIX=os.path.join(tmp, f"pyc-{k}-{i}"))
                w, c, _out = timed(full, cenv)
                cw.append(w)
                cc.append(c)
            colds[k] = (cw, cc)

    med = statistics.median
    print(f"input: {len(text.split())} words, {len(text)} characters, {text.count(chr(10))} paragraphs")
    for k in variants:
        print(f"found [{k}]: {counts[k]}")
    print(f"bare python     median {med(bares):.3f} s   (min {min(bares):.3f}) wall, `python -c pass`"
          f"; cpu median {med(bare_cpus):.3f} s")
    for k in variants:
        walls, cpus, imports, runs = rows[k]
        _report(k, walls, cpus, imports, runs, bares)
        print(f"first run (untimed warm-up): wall {firsts[k][0]:.3f} s, cpu {firsts[k][1]:.3f} s")
        if k in colds:
            cw, cc = colds[k]
            print(f"cold caches     median {med(cw):.3f} s   (min {min(cw):.3f}) wall, "
                  f"cpu median {med(cc):.3f} s (no bytecode, no disk caches)")
    if args.against:
        print(f"ratio this/against: cpu {med(rows['this'][1]) / med(rows['against'][1]):.2f}, "
              f"wall {med(rows['this'][0]) / med(rows['against'][0]):.2f}")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (wall times stretch when the machine is busy)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
