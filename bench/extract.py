"""Speed of `tawazun.evidence.extract` on a 10,000-word input, start-up included.

Builds the input by repeating the test fixtures (Arabic and English) up to 10,000 words,
then times a fresh `python -c` subprocess that imports the pipeline and runs it once.
Prints import time, run time, total wall time of the subprocess, and the ratio to the
0.3 s budget.  Usage: python bench/extract.py [--words N] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import resource
import os
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


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--words", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    text = build_input(args.words)
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as fh:
        fh.write(text)
        path = fh.name
    walls, imports, runs, cpus = [], [], [], []
    counts = {}
    for _ in range(args.repeat):
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        res = subprocess.run([sys.executable, "-c", CHILD, path], capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - t0)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append((r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime))
        d = json.loads(res.stdout)
        imports.append(d["import_s"])
        runs.append(d["run_s"])
        counts = d["counts"]
    Path(path).unlink()
    med = statistics.median
    print(f"input: {len(text.split())} words, {len(text)} characters, {text.count(chr(10))} paragraphs")
    print(f"found: {counts}")
    print(f"import  median {med(imports):.3f} s   (min {min(imports):.3f})")
    print(f"run     median {med(runs):.3f} s   (min {min(runs):.3f})")
    print(f"process median {med(walls):.3f} s   (min {min(walls):.3f}) wall, python start-up included")
    print(f"cpu     median {med(cpus):.3f} s   (min {min(cpus):.3f}) user+sys of the process")
    print(f"budget  {BUDGET_S:.3f} s   ratio process-wall/budget = {med(walls) / BUDGET_S:.2f}, "
          f"cpu/budget = {med(cpus) / BUDGET_S:.2f}")
    print(f"load average now: {' '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs (wall times stretch when the machine is busy)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
