"""Score extraction against hand-annotated gold files: precision, recall, F1 per kind.

A fixture is ``NAME.txt`` (one paragraph a line) with ``NAME.gold.json``::

    {"as_of": "2021-07-20",
     "actors":  [{"id", "surface"}, ...]          # every mention, in text order
     "quotes":  [{"speaker", "outlet", "text_start"}, ...]
     "numbers": [{"value", "unit"}, ...]
     "dates":   [{"value"}, ...]
     "stances": [{"actor", "issue", "direction"}, ...]}

Matching rules (micro-averaged over all fixtures):

* actors — a predicted mention is right when it overlaps a gold mention of the same id
  (gold surfaces are found in the text in order); a gold mention is found when some
  predicted mention of its id overlaps it.  Overlap, not exact span: whether a title
  ("President") belongs to the name is a style choice, not an error.
* quotes — a gold quote is found when a predicted quote's text starts with its
  ``text_start`` (after folding) AND has the same speaker;
  precision = right quotes / predicted quotes.
* numbers — multiset of (value, unit); dates — multiset of ISO values;
* stances — set of (actor, issue, direction) per document (the same claim made twice
  in a text counts once).

Run ``python -m tawazun.evidence.score [DIR]`` to print the table.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tawazun.evidence.normalize import fold
from tawazun.evidence.pipeline import extract

KINDS = ("actors", "quotes", "numbers", "dates", "stances")
DEFAULT_DIR = Path(__file__).resolve().parents[3] / "tests" / "fixtures" / "evidence"


def _locate(text: str, gold_mentions: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    out, cursor = [], 0
    for g in gold_mentions:
        pos = text.find(g["surface"], cursor)
        if pos < 0:
            pos = text.find(g["surface"])
        if pos < 0:
            raise ValueError(f"gold surface not in text: {g['surface']!r}")
        out.append((g["id"], pos, pos + len(g["surface"])))
        cursor = pos + 1
    return out


def score_doc(text: str, pred: dict[str, Any], gold: dict[str, Any]) -> dict[str, list[int]]:
    """Per kind: [right predictions, predictions, found gold, gold]."""
    res: dict[str, list[int]] = {}
    # actors
    gspans = _locate(text, gold.get("actors", []))
    pspans = [(a["id"], m["start"], m["end"]) for a in pred["actors"] for m in a["mentions"]]

    def ov(a: tuple[str, int, int], b: tuple[str, int, int]) -> bool:
        return a[0] == b[0] and a[1] < b[2] and b[1] < a[2]

    res["actors"] = [sum(any(ov(p, g) for g in gspans) for p in pspans), len(pspans),
                     sum(any(ov(p, g) for p in pspans) for g in gspans), len(gspans)]
    # quotes
    right = 0
    used: set[int] = set()
    for g in gold.get("quotes", []):
        head = fold(g["text_start"])
        for i, q in enumerate(pred["quotes"]):
            if i not in used and fold(q["text"]).startswith(head) and q["speaker"] == g["speaker"]:
                used.add(i)
                right += 1
                break
    res["quotes"] = [right, len(pred["quotes"]), right, len(gold.get("quotes", []))]
    # numbers, dates: multisets
    for kind, key in (("numbers", lambda d: (round(float(d["value"]), 6), d["unit"])),
                      ("dates", lambda d: d["value"])):
        p = Counter(key(d) for d in pred[kind])
        g = Counter(key(d) for d in gold.get(kind, []))
        inter = sum((p & g).values())
        res[kind] = [inter, sum(p.values()), inter, sum(g.values())]
    # stances: sets
    ps = {(s["actor"], s["issue"], s["direction"]) for s in pred["stances"]}
    gs = {(s["actor"], s["issue"], s["direction"]) for s in gold.get("stances", [])}
    res["stances"] = [len(ps & gs), len(ps), len(ps & gs), len(gs)]
    return res


def prf(counts: list[int]) -> tuple[float, float, float]:
    tp_p, n_p, tp_g, n_g = counts
    p = tp_p / n_p if n_p else 1.0
    r = tp_g / n_g if n_g else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def score_dir(folder: Path | str = DEFAULT_DIR) -> dict[str, Any]:
    folder = Path(folder)
    total = {k: [0, 0, 0, 0] for k in KINDS}
    per_doc: dict[str, dict[str, list[int]]] = {}
    for gold_path in sorted(folder.glob("*.gold.json")):
        name = gold_path.name[: -len(".gold.json")]
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        pred = extract(text, as_of=gold.get("as_of"))
        res = score_doc(text, pred, gold)
        per_doc[name] = res
        for k in KINDS:
            total[k] = [a + b for a, b in zip(total[k], res[k])]
    return {"total": total, "per_doc": per_doc, "prf": {k: prf(v) for k, v in total.items()}}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else DEFAULT_DIR
    res = score_dir(folder)
    print(f"{'kind':<9} {'P':>6} {'R':>6} {'F1':>6}   (pred ok/pred, gold found/gold)")
    for k in KINDS:
        p, r, f = res["prf"][k]
        c = res["total"][k]
        print(f"{k:<9} {p:6.3f} {r:6.3f} {f:6.3f}   ({c[0]}/{c[1]}, {c[2]}/{c[3]})")
    if "-v" in argv:
        for name, doc in res["per_doc"].items():
            print(name, {k: v for k, v in doc.items() if v[0] != v[1] or v[2] != v[3]})
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
