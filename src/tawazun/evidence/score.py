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
* actors outside the gazetteer — a gold mention whose id starts with ``new:`` (an
  actor the gazetteer does not know) matches a predicted mention of ANY id outside the
  inventory (found by the name patterns, or added to the gazetteer after the gold was
  written) that overlaps it, and whose ``kind``, when the prediction gives one, equals
  the gold ``kind`` (``person``, or ``org`` for every other kind).  The inventory is
  ``inventory.txt`` next to the fixtures (the gazetteer's ids when the gold sets were
  written), else the gazetteer's ids.  Each such predicted id is then mapped,
  per document, to the ``new:`` id it overlaps most often, and that mapping is used for
  quote speakers, ``role_org`` and stance actors below.
* quotes — a gold quote is found when a predicted quote's text starts with its
  ``text_start`` (after folding) AND has the same speaker AND, where the gold
  ``speaker`` is null (an anonymous source), the predicted ``speaker`` is empty and a
  predicted ``speaker_role`` exists; precision = right quotes / predicted quotes.
  Two softer figures are reported on their own lines (they do not enter ``quotes``):
  ``quote-role`` — among gold quotes with a ``speaker_role``, the predicted quote (same
  text start) has a role that agrees in words: at least half of the gold role's content
  words (lower case, without the/of/in/a/an/to/from/for) are in the predicted role;
  ``role-org`` — among gold quotes with a ``role_org``, the predicted ``role_org`` is
  the same id (after the mapping above); precision over predicted non-empty role_orgs.
* numbers — multiset of (value, unit); dates — multiset of ISO values;
* stances — set of (actor, issue, direction) per document (the same claim made twice
  in a text counts once).

Run ``python -m tawazun.evidence.score [DIR]`` to print the table.
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from tawazun.evidence.normalize import fold
from tawazun.evidence.pipeline import extract

KINDS = ("actors", "quotes", "numbers", "dates", "stances")
EXTRA = ("quote-role", "role-org")
_ROLE_STOP = {"the", "of", "in", "a", "an", "to", "from", "for", "on", "at"}
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


def _known_ids(folder: Path | None = None) -> set[str]:
    """The ids gold files may use directly: ``inventory.txt`` (one id a line, ``#``
    comments) in the fixture folder or its parent, frozen when the gold was written so
    that actors added to the gazetteer later still count as "outside" it; else the
    gazetteer's ids."""
    for d in ([folder, folder.parent] if folder is not None else []):
        inv = d / "inventory.txt"
        if inv.is_file():
            return {ln.split("#")[0].strip() for ln in inv.read_text(encoding="utf-8").splitlines()} - {""}
    from tawazun.evidence.gazetteer import Gazetteer

    return set(Gazetteer.default().info)


def _coarse(kind: str) -> str:
    """Gold kinds are ``person`` or ``org``; every gazetteer kind but person is an org."""
    return "person" if kind == "person" else "org"


def _role_words(role: str | None) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", (role or "").lower()) if w not in _ROLE_STOP}


def score_doc(text: str, pred: dict[str, Any], gold: dict[str, Any],
              known: set[str] | None = None) -> dict[str, list[int]]:
    """Per kind: [right predictions, predictions, found gold, gold]."""
    known = _known_ids() if known is None else known
    res: dict[str, list[int]] = {}
    # actors
    gold_actors = gold.get("actors", [])
    gspans = _locate(text, gold_actors)
    gkinds = [g.get("kind") for g in gold_actors]
    pspans = [(a["id"], m["start"], m["end"], a.get("kind")) for a in pred["actors"] for m in a["mentions"]]

    def hit(p: tuple, gi: int) -> bool:
        g = gspans[gi]
        if not (p[1] < g[2] and g[1] < p[2]):
            return False
        if p[0] == g[0]:
            return True
        # an actor the gazetteer lacks, found by the name patterns
        return (g[0].startswith("new:") and p[0] not in known
                and (p[3] is None or gkinds[gi] is None or _coarse(p[3]) == _coarse(gkinds[gi])))

    res["actors"] = [sum(any(hit(p, gi) for gi in range(len(gspans))) for p in pspans), len(pspans),
                     sum(any(hit(p, gi) for p in pspans) for gi in range(len(gspans))), len(gspans)]
    # predicted ids outside the gazetteer -> the new: id they overlap most
    votes: dict[str, Counter] = {}
    for p in pspans:
        if p[0] in known:
            continue
        for gi in range(len(gspans)):
            if gspans[gi][0].startswith("new:") and hit(p, gi):
                votes.setdefault(p[0], Counter())[gspans[gi][0]] += 1
    idmap = {pid: c.most_common(1)[0][0] for pid, c in votes.items()}

    def m(aid: str | None) -> str | None:
        return idmap.get(aid, aid) if aid else aid

    # quotes
    right = role_ok = role_n = org_ok = org_n = org_pred = 0
    used: set[int] = set()
    for q in pred["quotes"]:
        org_pred += bool(q.get("role_org"))
    for g in gold.get("quotes", []):
        head = fold(g["text_start"])
        cands = [i for i, q in enumerate(pred["quotes"]) if fold(q["text"]).startswith(head)]
        for i in cands:
            q = pred["quotes"][i]
            if i in used or m(q["speaker"]) != g["speaker"]:
                continue
            if g["speaker"] is None and not q.get("speaker_role"):
                continue
            used.add(i)
            right += 1
            break
        q0 = pred["quotes"][cands[0]] if cands else {}
        if g.get("speaker_role"):
            role_n += 1
            gw = _role_words(g["speaker_role"])
            role_ok += bool(gw) and 2 * len(gw & _role_words(q0.get("speaker_role"))) >= len(gw)
        if g.get("role_org"):
            org_n += 1
            org_ok += bool(q0) and m(q0.get("role_org")) == g["role_org"]
    res["quotes"] = [right, len(pred["quotes"]), right, len(gold.get("quotes", []))]
    res["quote-role"] = [role_ok, role_n, role_ok, role_n]
    res["role-org"] = [org_ok, org_pred if org_n else 0, org_ok, org_n]
    # numbers, dates: multisets
    for kind, key in (("numbers", lambda d: (round(float(d["value"]), 6), d["unit"])),
                      ("dates", lambda d: d["value"])):
        p = Counter(key(d) for d in pred[kind])
        g = Counter(key(d) for d in gold.get(kind, []))
        inter = sum((p & g).values())
        res[kind] = [inter, sum(p.values()), inter, sum(g.values())]
    # stances: sets
    ps = {(m(s["actor"]), s["issue"], s["direction"]) for s in pred["stances"]}
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
    total = {k: [0, 0, 0, 0] for k in KINDS + EXTRA}
    known = _known_ids(folder)
    per_doc: dict[str, dict[str, list[int]]] = {}
    for gold_path in sorted(folder.glob("*.gold.json")):
        name = gold_path.name[: -len(".gold.json")]
        text = (folder / f"{name}.txt").read_text(encoding="utf-8")
        gold = json.loads(gold_path.read_text(encoding="utf-8"))
        pred = extract(text, as_of=gold.get("as_of"))
        res = score_doc(text, pred, gold, known)
        per_doc[name] = res
        for k in KINDS + EXTRA:
            total[k] = [a + b for a, b in zip(total[k], res[k])]
    return {"total": total, "per_doc": per_doc, "prf": {k: prf(v) for k, v in total.items()}}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else DEFAULT_DIR
    res = score_dir(folder)
    print(f"{'kind':<9} {'P':>6} {'R':>6} {'F1':>6}   (pred ok/pred, gold found/gold)")
    for k in KINDS + EXTRA:
        if k in EXTRA and not res["total"][k][3]:
            continue
        p, r, f = res["prf"][k]
        c = res["total"][k]
        print(f"{k:<9} {p:6.3f} {r:6.3f} {f:6.3f}   ({c[0]}/{c[1]}, {c[2]}/{c[3]})")
    if "-v" in argv:
        for name, doc in res["per_doc"].items():
            print(name, {k: v for k, v in doc.items() if v[0] != v[1] or v[2] != v[3]})
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
