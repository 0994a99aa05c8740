"""Cross-impact balance analysis of one scenarios section: the `tawazun scenarios` document.

Shared by the CLI, the report's "futures" section and the web app.
"""

from __future__ import annotations

from typing import Any, Optional

import numpy as np


def analyse(
    section: Any,
    tolerance: int = 0,
    succession: Optional[str] = None,
    tie: str = "keep",
    starts: Optional[int] = None,
    draws: int = 0,
    seed: int = 0,
    method: str = "auto",
    experts: list[Any] | None = None,
    max_seconds: float | None = None,
    progress: Any = None,
) -> dict[str, Any]:
    """The JSON payload of `tawazun scenarios` (see docs/models/cib.md).

    ``experts``: further sections with the same descriptors and variants (other experts'
    judgments). With experts or draws, every matrix (each expert's modes, or ``draws``
    samples of each expert's ranges) is enumerated and frequencies are shares of matrices.
    ``max_seconds`` caps the main search (then ``complete`` is false and the list may miss
    scenarios); ``progress(nodes)`` is called while it runs.
    """
    from tawazun.scenarios import cib
    from tawazun.scenarios.model import to_arrays

    arr = to_arrays(section)
    counts = arr.counts
    res = cib.enumerate_scenarios(arr.matrix, counts, tolerance, method=method,
                                  max_seconds=max_seconds, progress=progress)
    evaluated = res.evaluated
    scen = res.scenarios
    freq = None
    if draws or experts:
        batches = []
        for i, other in enumerate([arr] + [to_arrays(e) for e in experts or []]):
            if draws:
                batches.append(cib.sample_triangular(other.low, other.matrix, other.high, draws, seed if i == 0 else [seed, i]))
            else:
                batches.append(other.matrix[None])
        mats = np.concatenate(batches)
        ens = cib.ensemble(mats, counts, tolerance)
        evaluated += ens.evaluated
        table = {tuple(int(x) for x in s): f for s, f in zip(ens.scenarios, ens.frequency)}
        for s in scen:
            table.setdefault(tuple(int(x) for x in s), 0.0)
        keys = sorted(table, key=lambda k: (-table[k], k))
        scen = np.array(keys, dtype=np.int64).reshape(-1, counts.size)
        freq = [table[k] for k in keys]
    scores = cib.evaluate(arr.matrix, counts, scen) if len(scen) else None
    rows = []
    for i, s in enumerate(scen):
        row: dict[str, Any] = {
            "variants": arr.label(s),
            "inconsistency": _num(scores.inconsistency[i]),
            "tis": _num(scores.tis[i]),
            "consistency": _num(scores.consistency[i]),
        }
        if freq is not None:
            row["frequency"] = float(freq[i])
        rows.append(row)
    if freq is None:
        rows.sort(key=lambda r: (r["inconsistency"], -r["tis"]))
    payload: dict[str, Any] = {
        "descriptors": [{"id": d, "variants": list(v)} for d, v in zip(arr.descriptor_ids, arr.variant_ids)],
        "scenarios": rows,
        "evaluated": int(evaluated),
        "method": res.method,
        "complete": bool(res.complete),
    }
    if succession:
        total = cib.n_scenarios(counts)
        if starts is None and total > 200_000:
            starts = 10_000
        suc = cib.succession(arr.matrix, counts, mode=succession, tie=tie, starts=starts, seed=seed)
        payload["succession"] = {
            "mode": suc.mode,
            "tie": suc.tie,
            "starts": suc.starts,
            "sampled": starts is not None,
            "attractors": [
                {
                    "kind": "fixed point" if a.is_fixed_point else "cycle",
                    "states": [arr.label(st) for st in a.states],
                    "basin": a.basin,
                }
                for a in suc.attractors
            ],
            "unfinished": suc.unfinished,
        }
    return payload


def _num(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else round(x, 9)
