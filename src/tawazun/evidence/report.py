"""A self-contained HTML page of a text with its evidence highlighted by kind.

No scripts, no external assets: one file with inline CSS.  Arabic text is laid out
right-to-left (``dir="rtl"``).  Each paragraph (line) is a ``<p>``; each piece of
evidence is a ``<span class="ev k-KIND">`` with a ``title`` giving what was read.
Overlaps are handled by cutting the text at every span boundary and giving each
piece the classes of all spans that cover it.
"""

from __future__ import annotations

import html
from typing import Any, Mapping

from tawazun.evidence.normalize import detect_lang

KINDS = {
    "actor": ("Actor", "#cfe8ff"),
    "quote": ("Quote", "#fff1b8"),
    "number": ("Number", "#d9f7be"),
    "date": ("Date", "#ffd8bf"),
    "stance": ("Stance cue", "#f4d4ff"),
}
_CSS = """
body{font-family:system-ui,'Noto Naskh Arabic','Segoe UI',Tahoma,sans-serif;max-width:60rem;margin:2rem auto;
line-height:1.9;padding:0 1rem;color:#222}
p{margin:0 0 1rem} .pn{color:#999;font-size:.8em;margin-inline-end:.5em}
.ev{border-radius:3px}
.k-actor{background:#cfe8ff}.k-number{background:#d9f7be}.k-date{background:#ffd8bf}
.k-quote{background:#fff1b8}.k-stance{box-shadow:inset 0 -3px 0 #b37feb}
.k-actor.k-quote,.k-number.k-quote,.k-date.k-quote{outline:1px dotted #d4b106}
.legend{display:flex;gap:1rem;flex-wrap:wrap;font-size:.9em;margin-bottom:1.5rem;direction:ltr}
.legend span{padding:.1rem .5rem;border-radius:3px}
table{border-collapse:collapse;font-size:.85em;margin-top:2rem}td,th{border:1px solid #ddd;padding:.2rem .5rem}
"""


def _spans(extraction: Mapping[str, Any]) -> list[tuple[int, int, str, str]]:
    out: list[tuple[int, int, str, str]] = []
    for a in extraction.get("actors", []):
        for m in a.get("mentions", []):
            out.append((m["start"], m["end"], "actor", a["id"]))
    for q in extraction.get("quotes", []):
        out.append((q["start"], q["end"], "quote", f"quote: {q.get('speaker') or '?'}"
                    + (f" via {q['outlet']}" if q.get("outlet") else "")))
    for n in extraction.get("numbers", []):
        out.append((n["start"], n["end"], "number", f"{n['value']} {n.get('unit') or ''}".strip()))
    for d in extraction.get("dates", []):
        out.append((d["start"], d["end"], "date", d["value"]))
    return out


def render_html(text: str, extraction: Mapping[str, Any], title: str = "Evidence", lang: str = "auto") -> str:
    if lang == "auto":
        lang = detect_lang(text)
    spans = _spans(extraction)
    # stance cues: highlight the cue inside its sentence span
    for s in extraction.get("stances", []):
        sfc = s.get("surface") or ""
        pos = text.find(sfc, s["start"], s["end"]) if sfc else -1
        if pos >= 0:
            spans.append((pos, pos + len(sfc), "stance", f"{s['actor']} {s['direction']} {s['issue']}"))
    cuts = {0, len(text)}
    for s, e, _, _ in spans:
        cuts.add(max(0, min(s, len(text))))
        cuts.add(max(0, min(e, len(text))))
    # paragraph boundaries are cuts too
    pos = text.find("\n")
    while pos >= 0:
        cuts.add(pos)
        cuts.add(pos + 1)
        pos = text.find("\n", pos + 1)
    points = sorted(cuts)
    paras: list[list[str]] = [[]]
    for a, b in zip(points, points[1:]):
        piece = text[a:b]
        if piece == "\n":
            paras.append([])
            continue
        cover = [(k, lab) for s, e, k, lab in spans if s <= a and b <= e]
        if not cover:
            paras[-1].append(html.escape(piece))
            continue
        classes = " ".join(sorted({f"k-{k}" for k, _ in cover}))
        tip = "; ".join(dict.fromkeys(f"{KINDS[k][0]}: {lab}" for k, lab in cover))
        paras[-1].append(f'<span class="ev {classes}" title="{html.escape(tip, quote=True)}">'
                         f"{html.escape(piece)}</span>")
    body = "\n".join(
        f'<p><span class="pn">¶{i}</span>{"".join(p)}</p>' for i, p in enumerate(paras, 1) if "".join(p).strip()
    )
    legend = "".join(
        f'<span class="k-{k}">{label}</span>' for k, (label, _) in KINDS.items()
    )
    counts = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{len(extraction.get(k, []))}</td></tr>"
        for k in ("actors", "quotes", "numbers", "dates", "stances")
    )
    direction = "rtl" if lang == "ar" else "ltr"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_CSS}</style></head><body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        f'<div class="legend">{legend}</div>\n'
        f'<main dir="{direction}" lang="{lang}">\n{body}\n</main>\n'
        f'<table dir="ltr"><tr><th>kind</th><th>found</th></tr>{counts}</table>\n'
        "</body></html>\n"
    )
