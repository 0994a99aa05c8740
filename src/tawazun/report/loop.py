"""Self-contained HTML pages of the analyst's loop: the levers tornado and the scoring page
(reliability diagram and table). Inline SVG, no script: the pages open anywhere."""

from __future__ import annotations

import html
from typing import Any

_CSS = ("body{font-family:system-ui,sans-serif;margin:2em;max-width:960px}"
        "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
        "td:first-child,th:first-child{text-align:left}")


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_CSS}</style><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")


def tornado_svg(doc: dict[str, Any], width: int = 760) -> str:
    """One bar per lever: its effect at the modes (dark) and the 10–90 % interval of the paired
    difference over the draws (whisker), ranked as the levers are."""
    levers = doc["levers"]
    if not levers:
        return "<p>no levers</p>"
    row, left, right = 22, 260, 20
    span = max(1e-9, max(max(abs(x["effect"]), abs(x.get("q10") or 0), abs(x.get("q90") or 0)) for x in levers))
    mid = left + (width - left - right) / 2
    scale = (width - left - right) / 2 / span
    h = row * len(levers) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{h}" role="img" '
             f'aria-label="levers">', f'<line x1="{mid}" y1="0" x2="{mid}" y2="{h - 20}" stroke="#888"/>']
    for k, lv in enumerate(levers):
        y = k * row + 4
        name = f"{lv['rank']}. {'persuade ' + lv['actor'] if lv['kind'] == 'persuade' else 'own ' + lv['field']}"
        x0, x1 = sorted((mid, mid + lv["effect"] * scale))
        colour = "#2b6cb0" if lv["kind"] == "own" else "#c05621"
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="12">{html.escape(name)}</text>')
        parts.append(f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 0.5):.1f}" height="14" fill="{colour}"/>')
        if lv.get("q10") is not None:
            a, b = mid + lv["q10"] * scale, mid + lv["q90"] * scale
            parts.append(f'<line x1="{a:.1f}" y1="{y + 7}" x2="{b:.1f}" y2="{y + 7}" stroke="#000"/>')
    parts.append(f'<text x="{mid}" y="{h - 4}" text-anchor="middle" font-size="11">effect on the forecast '
                 f'(baseline {doc["baseline"]:.2f}, goal {doc["goal"]:g})</text></svg>')
    return "".join(parts)


def levers_page(doc: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td>{lv['rank']}</td><td>{html.escape(lv['kind'])}</td><td>{html.escape(lv['actor'])}</td>"
        f"<td>{html.escape(lv['field'])}</td><td>{lv['from']:g} → {lv['to']:g}</td><td>{lv['forecast']:.2f}</td>"
        f"<td>{lv['effect']:+.2f}</td><td>{_iv(lv)}</td><td>{html.escape(lv['method'])}</td>"
        f"<td><code>--set {html.escape(lv['apply'])}</code></td></tr>" for lv in doc["levers"])
    body = (f"<p>Actor <b>{html.escape(doc['actor'])}</b>, issue <b>{html.escape(doc['issue'])}</b>, engine "
            f"<b>{html.escape(doc['engine'])}</b>; forecast at the modes {doc['baseline']:.2f}, goal {doc['goal']:g}. "
            f"Interval: 10–90 % of the paired difference over {doc['draws']} draws (common random numbers).</p>"
            f"{tornado_svg(doc)}<table><tr><th>#</th><th>kind</th><th>actor</th><th>input</th><th>move</th>"
            f"<th>forecast</th><th>effect</th><th>80 % interval</th><th>method</th><th>what-if</th></tr>{rows}</table>")
    return _page(f"Levers: {doc['actor']} on {doc['issue']}", body)


def _iv(x: dict[str, Any]) -> str:
    return "" if x.get("q10") is None else f"{x['q10']:+.2f} … {x['q90']:+.2f}"


def reliability_svg(bins: list[dict[str, Any]], engine: str, size: int = 260) -> str:
    pad = 30
    s = size - 2 * pad
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}" role="img" '
             f'aria-label="reliability {html.escape(engine)}">',
             f'<rect x="{pad}" y="{pad}" width="{s}" height="{s}" fill="none" stroke="#888"/>',
             f'<line x1="{pad}" y1="{pad + s}" x2="{pad + s}" y2="{pad}" stroke="#bbb" stroke-dasharray="4"/>',
             f'<text x="{size / 2}" y="{pad - 10}" text-anchor="middle" font-size="12">{html.escape(engine)}</text>',
             f'<text x="{size / 2}" y="{size - 6}" text-anchor="middle" font-size="10">forecast probability</text>']
    pts = []
    for b in bins:
        x, y = pad + b["forecast"] * s, pad + (1 - b["observed"]) * s
        pts.append(f"{x:.1f},{y:.1f}")
        parts.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{3 + min(b["count"], 20) / 4:.1f}" fill="#2b6cb0">'
                     f'<title>{b["count"]} forecast(s), mean {b["forecast"]:.2f}, observed {b["observed"]:.2f}</title></circle>')
    if len(pts) > 1:
        parts.append(f'<polyline points="{" ".join(pts)}" fill="none" stroke="#2b6cb0"/>')
    parts.append("</svg>")
    return "".join(parts)


def scores_page(doc: dict[str, Any]) -> str:
    def num(v: Any) -> str:
        return "" if v is None else f"{v:.4f}"

    def name(r: dict[str, Any]) -> str:
        # reference forecasts (docs/loop.md): set apart, in italics
        return f"<i>{html.escape(r['engine'])} (baseline)</i>" if r.get("baseline") else html.escape(r["engine"])

    # each question's engine rows, then its baseline rows, in the ledger's order
    order = {k: i for i, k in enumerate(dict.fromkeys((r["entry"], r["question"]) for r in doc["scores"]))}
    base_summary = [dict(r, baseline=True) for r in doc.get("baseline_summary", [])]
    summ = "".join(f"<tr><td>{name(r)}</td><td>{r['questions']}</td><td>{num(r['brier'])}</td>"
                   f"<td>{num(r['log'])}</td><td>{num(r['crps'])}</td></tr>" for r in doc["summary"] + base_summary)
    rows = "".join(f"<tr><td>{html.escape(r['entry'])}</td><td>{html.escape(r['question'])}</td>"
                   f"<td>{name(r)}</td><td>{html.escape(str(r['outcome']))}</td>"
                   f"<td>{num(r.get('brier'))}</td><td>{num(r.get('log'))}</td><td>{num(r.get('crps'))}</td>"
                   f"<td>{html.escape(r['source'])}</td></tr>"
                   for r in sorted(doc["scores"] + doc.get("baseline_scores", []),
                                   key=lambda r: (order.get((r["entry"], r["question"]), len(order)),
                                                  bool(r.get("baseline")))))
    diagrams = "".join(reliability_svg(b, e) for e, b in doc["reliability"].items())
    notes = "".join(f"<p>{html.escape(n)}</p>" for n in doc.get("baseline_notes", []))
    body = (f"<h2>Per engine</h2><table><tr><th>engine</th><th>questions</th><th>Brier</th><th>log</th>"
            f"<th>CRPS</th></tr>{summ}</table>"
            "<p>Baselines, from the sealed arena only: <i>no change</i> forecasts the issue's status quo "
            "(numeric: the point; binary and bands: probability 1 or 0); <i>uniform</i> gives every variant "
            f"of a descriptor the same probability.</p>{notes}<h2>Reliability</h2><div>{diagrams or '<p>no probability forecasts</p>'}"
            f"</div><h2>Every score</h2><table><tr><th>entry</th><th>question</th><th>engine</th><th>outcome</th>"
            f"<th>Brier</th><th>log</th><th>CRPS</th><th>source</th></tr>{rows}</table>")
    return _page("Resolved forecasts", body)
