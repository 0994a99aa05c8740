"""The self-contained HTML report: one file, Plotly's JS inlined, no network needed."""

from __future__ import annotations

import html
from typing import Any, Callable

import plotly.graph_objects as go
import plotly.io as pio
import plotly.offline as plotly_offline

from tawazun import __version__
from tawazun.arena.model import mode_of
from tawazun.forecast import ForecastRun, issue_rows, nearest_anchor
from tawazun.report import figures
from tawazun.report.labels import actor_name, check_lang

# Extra report sections (scenarios, sensitivity, ...) register a callable(run) -> html.
SECTIONS: list[Callable[[ForecastRun], str]] = []

CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI','Noto Naskh Arabic',sans-serif;margin:0 auto;max-width:1100px;padding:1rem 2rem;color:#222}
h1{margin-bottom:.2rem} .meta{color:#666;font-size:.9rem}
table{border-collapse:collapse;margin:.6rem 0;font-size:.92rem} th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left}
th{background:#f4f4f4} td.num{text-align:right;font-variant-numeric:tabular-nums}
.ar{direction:rtl;unicode-bidi:isolate;font-family:'Noto Naskh Arabic','Amiri',serif}
section{border-top:2px solid #eee;margin-top:1.5rem;padding-top:.5rem}
.small{font-size:.85rem;color:#555}
.warn{border-left:4px solid #e15759;padding:.3rem .6rem;background:#fdf0f0}
.unstable{color:#b8860b;cursor:help}
"""


def _fig(fig: go.Figure, div_id: str) -> str:
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


PLOTLY_URL = "/static/plotly.min.js"  # where the web app serves its local copy of Plotly


def render(run: ForecastRun, manifest: dict[str, Any] | None = None, *, plotly: str = "inline",
           plotly_url: str = PLOTLY_URL, lang: str = "en") -> str:
    """The whole report as one HTML string. ``plotly="inline"`` embeds Plotly's JavaScript
    (one self-contained file, ~4.6 MB); ``"url"`` links ``plotly_url`` instead (the web app
    serves it, and keeps each stored report small). ``lang`` ("en" or "ar") names the actors
    in the charts."""
    if plotly not in ("inline", "url"):
        raise ValueError(f"plotly: expected 'inline' or 'url', got {plotly!r}")
    check_lang(lang)
    arena = run.arena
    e = html.escape
    parts: list[str] = []
    parts.append(f"<h1>{e(arena.meta.title)}</h1>")
    parts.append(f"<p class='meta'>arena <code>{e(arena.meta.id)}</code> · as of {arena.meta.as_of} · "
                 f"seed {run.seed} · tawazun {__version__} · engines {', '.join(map(e, run.engines))}</p>")
    if arena.meta.description:
        parts.append(f"<p>{e(arena.meta.description)}</p>")

    # Summary table: each engine's headline per issue (docs/uncertainty.md), flagged when unstable.
    rule = "median of the draws" if run.draws else "the run with every range at its mode"
    parts.append(f"<section><h2>Forecasts</h2><p class='small'>Each cell: the {rule}, the nearest "
                 "labelled point" + (", and the run at the modes" if run.draws else "") +
                 ". ⚠ marks a result that is unstable on this issue; the reason is listed below the table.</p>"
                 "<table><tr><th>issue</th><th>status quo</th>")
    parts.extend(f"<th>{e(n)}</th>" for n in run.engines)
    parts.append("</tr>")
    rows_of = {i.id: {row.unit_result.engine: row for row in issue_rows(run, i.id)} for i in arena.issues}
    warnings: list[str] = []
    for issue in arena.issues:
        sqv = None if issue.status_quo is None else mode_of(issue.status_quo)
        row = [f"<td>{e(issue.title)}</td>",
               f"<td class='num'>{'' if sqv is None else f'{sqv:g}'}</td>"]
        for n in run.engines:
            r = rows_of.get(issue.id, {}).get(n)
            if r is None:
                row.append("<td class='num'>–</td>")
                continue
            h = r.headline
            flag = f" <span class='unstable' title='{e(h['note'])}'>⚠</span>" if h["unstable"] else ""
            modes = f"<br><span class='small'>at modes {r.value:.1f}</span>" if run.draws else ""
            row.append(f"<td class='num'>{h['value']:.1f}{flag} <span class='small'>"
                       f"({e(nearest_anchor(issue, h['value']) or '')})</span>{modes}</td>")
            if h["unstable"]:
                warnings.append(f"<li><b>{e(r.label)}</b> on <i>{e(issue.title)}</i>: {e(h['note'])}</li>")
        parts.append("<tr>" + "".join(row) + "</tr>")
    parts.append("</table>")
    if warnings:
        parts.append("<div class='warn'><b>Unstable results</b> — read the distribution, not one number:<ul>"
                     + "".join(warnings) + "</ul></div>")
    parts.append("</section>")

    for i_idx, issue in enumerate(arena.issues):
        parts.append(f"<section id='issue-{e(issue.id)}'><h2>{e(issue.title)}</h2>")
        if issue.description:
            parts.append(f"<p>{e(issue.description)}</p>")
        if issue.scale.anchors:
            parts.append("<table><tr><th>value</th><th>label</th><th>meaning</th></tr>")
            for a in sorted(issue.scale.anchors, key=lambda a: a.value):
                parts.append(f"<tr><td class='num'>{a.value:g}</td><td>{e(a.label)}</td><td>{e(a.meaning)}</td></tr>")
            parts.append("</table>")
        # Actor map from the first single-issue problem on this issue.
        single = next((ur for ur in run.results if ur.unit == issue.id), None)
        if single is not None:
            p = single.point()
            # the headline of each result (docs/uncertainty.md), as in the summary table
            labelled = {row.label: row.headline["value"] for row in issue_rows(run, issue.id)}
            parts.append(_fig(figures.actor_map(arena, issue, single.actors, p.position[0, :, 0],
                                                p.capability[0], p.salience[0, :, 0], lang=lang,
                                                forecasts=labelled), f"map-{i_idx}"))
            sq = None if p.status_quo is None else float(p.status_quo[0, 0])
            outcome = issue.outcome.value if issue.outcome else None
            parts.append(_fig(figures.forecast_strip(issue, labelled, sq, outcome), f"strip-{i_idx}"))
        parts.append(_distribution_block(run, issue, i_idx, lang))
        for ur in run.results:
            if issue.id not in ur.issues:
                continue
            if ur.result.trajectory is not None:
                k = ur.issues.index(issue.id)
                med = ur.result.diagnostics.get("median")
                med_line = med[0] if (med is not None and len(ur.issues) == 1 and getattr(med, "ndim", 0) == 2) else None
                parts.append(_fig(figures.trajectory_figure(issue, ur.engine, ur.actors, ur.result.trajectory[0],
                                                            dim=k, median=med_line, arena=arena, lang=lang,
                                                            label=ur.label), f"traj-{ur.engine}-{i_idx}"))
        parts.append(_stance_table(run, issue))
        parts.append("</section>")

    for section in SECTIONS:
        block = section(run)
        if block:
            parts.append(block)

    parts.append(_actors_table(run))
    if manifest:
        parts.append("<section><h2>Manifest</h2><pre class='small'>" + e(_pretty(manifest)) + "</pre></section>")
    body = "\n".join(parts)
    if plotly == "inline":
        script = f"<script type='text/javascript'>{plotly_offline.get_plotlyjs()}</script>"
    else:
        script = f"<script src='{e(plotly_url)}'></script>"
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{e(arena.meta.title)} — tawazun report</title><style>{CSS}</style>"
        f"{script}</head><body>{body}</body></html>"
    )


def with_inline_plotly(report_html: str, plotly_url: str = PLOTLY_URL) -> str:
    """A report rendered with ``plotly="url"`` made self-contained (for download): the one
    script tag :func:`render` wrote is replaced by Plotly's code."""
    tag = f"<script src='{html.escape(plotly_url)}'></script>"
    return report_html.replace(tag, f"<script type='text/javascript'>{plotly_offline.get_plotlyjs()}</script>", 1)


def issue_distributions(run: ForecastRun, issue_id: str) -> dict[str, dict[str, Any]]:
    """result label -> distribution on this issue."""
    return {row.label: row.distribution for row in issue_rows(run, issue_id) if row.distribution is not None}


def _distribution_block(run: ForecastRun, issue: Any, i_idx: int, lang: str = "en") -> str:
    from tawazun.report.uncertainty_figures import distribution_figure, sobol_figure, tornado_figure

    e = html.escape
    dists = issue_distributions(run, issue.id)
    parts: list[str] = []
    if dists:
        parts.append(f"<h3>Forecast distributions ({run.draws} draws, {e(run.dist or '')} on each range)</h3>")
        parts.append(_fig(distribution_figure(dists, title=f"Where {issue.title} may land"), f"dist-{i_idx}"))
        bands = [b["label"] for b in next(iter(dists.values())).get("bands", [])]
        head = "".join(f"<th>{q}%</th>" for q in ("5", "25", "50", "75", "95"))
        band_head = "".join(f"<th>P({e(b)})</th>" for b in bands)
        parts.append(f"<table><tr><th>engine</th><th>mean</th>{head}{band_head}</tr>")
        def num(v: Any) -> str:
            return "–" if v is None else f"{v:.1f}"

        for name, d in dists.items():
            qs = "".join(f"<td class='num'>{num(d['quantiles'].get(q))}</td>" for q in ("5", "25", "50", "75", "95"))
            bp = "".join(f"<td class='num'>{b['probability']:.0%}</td>" for b in d.get("bands", []))
            invalid = f" <span class='small'>({d['invalid']} invalid draws)</span>" if d.get("invalid") else ""
            parts.append(f"<tr><td>{e(name)}{invalid}</td><td class='num'>{num(d.get('mean'))}</td>{qs}{bp}</tr>")
        parts.append("</table>")
    sens = run.sensitivity.get(issue.id)
    names = {a.id: actor_name(run.arena, a.id, lang) for a in run.arena.actors}
    if sens and sens["records"]:
        parts.append(_fig(tornado_figure(sens["records"], title=(
            f"What moves the {sens['engine']} forecast most (each input from its low to its high)"),
            engine=sens["engine"], names=names), f"tornado-{i_idx}"))
    if sens and sens.get("sobol"):
        sob = sens["sobol"]
        parts.append(_fig(sobol_figure(sob, title=(
            f"Sobol indices of the {sens['engine']} forecast (N = {sob.get('n')}, "
            f"{int(100 * sob.get('conf_level', 0.95))}% intervals)"), engine=sens["engine"], names=names),
            f"sobol-{i_idx}"))
    return "\n".join(parts)


def _stance_table(run: ForecastRun, issue: Any) -> str:
    e = html.escape
    rows = ["<details><summary>Stances and evidence</summary><table><tr><th>actor</th><th>position</th>"
            "<th title='the public position, where it differs from the one acted on'>declared</th>"
            "<th>salience</th><th>capability</th><th>evidence</th></tr>"]
    arena = run.arena

    def rng(x: Any) -> str:
        if x is None:
            return ""
        if isinstance(x, (int, float)):
            return f"{x:g}"
        return f"{x.mode:g} <span class='small'>[{x.low:g}–{x.high:g}]</span>"

    for st in arena.stances:
        if st.issue != issue.id:
            continue
        cap = st.capability if st.capability is not None else arena.actor(st.actor).capability
        ev = "<br>".join(f"<b>{e(v.source)} {e(v.locator)}</b> {e(v.note)}" for v in st.evidence)
        actor = arena.actor(st.actor)
        who = e(actor.names.en) + (" <span class='small'>(context: not in the forecasts)</span>"
                                   if actor.role == "context" else "")
        rows.append(f"<tr><td>{who}</td><td class='num'>{rng(st.position)}</td>"
                    f"<td class='num'>{rng(st.declared)}</td><td class='num'>{rng(st.salience)}</td><td class='num'>{rng(cap)}</td><td class='small'>{ev}</td></tr>")
    rows.append("</table></details>")
    return "".join(rows)


def _actors_table(run: ForecastRun) -> str:
    e = html.escape
    head = "<table><tr><th>id</th><th>name</th><th>الاسم</th><th>kind</th><th>note</th></tr>"

    def row(a: Any) -> str:
        return (f"<tr><td><code>{e(a.id)}</code></td><td>{e(a.names.en)}</td>"
                f"<td class='ar' dir='rtl'>{e(a.names.ar or '')}</td><td>{e(a.kind)}</td><td class='small'>{e(a.note)}</td></tr>")

    rows = ["<section><h2>Actors</h2>", head, *map(row, run.arena.bargainers), "</table>"]
    context = run.arena.context_actors
    if context:
        rows += ["<h3>Context actors</h3><p class='small'>Listed with their stances and evidence, but they "
                 "take no part in bargaining: no engine, Monte Carlo draw or sensitivity run includes them "
                 "(the note says why).</p>", head, *map(row, context), "</table>"]
    rows.append("</section>")
    return "".join(rows)


def _pretty(obj: Any) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False, indent=2)


VARIANT_COLOURS = ("#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#b07aa1", "#76b7b2")


def futures_section(run: ForecastRun) -> str:
    """The arena's consistent CIB scenarios (computed by the pipeline) as a tableau:
    descriptors as columns, variants as coloured cells (colour = the variant's index)."""
    if run.scenarios is None:
        return ""
    section, payload = run.scenarios.section, run.scenarios.payload
    cap = run.scenarios.max_seconds
    e = html.escape
    descs = payload["descriptors"]
    labels = {d.id: {v.id: v.label for v in d.variants} for d in section.descriptors}
    names = {d.id: d.names.en for d in section.descriptors}
    parts = ["<section id='futures'><h2>Futures: consistent scenarios (cross-impact balance)</h2>",
             f"<p class='small'>{len(payload['scenarios'])} consistent scenario(s) of "
             f"{_n_scenarios(descs):,}; search nodes evaluated: {payload['evaluated']:,}. "
             "A scenario is consistent when every descriptor's variant is the one the other "
             "descriptors' variants promote most (see docs/models/cib.md).</p>"]
    if not payload["complete"]:
        parts.append(f"<p class='warn'>The exact search was stopped after {cap:g} s: "
                     "this list may be missing consistent scenarios. <code>tawazun scenarios</code> "
                     "runs the search to the end.</p>")
    parts.append("<div style='overflow-x:auto'><table><tr><th>#</th>")
    parts.extend(f"<th>{e(names[d['id']])}</th>" for d in descs)
    parts.append("<th>TIS</th><th>consistency</th></tr>")
    for k, sc in enumerate(payload["scenarios"], 1):
        cells = []
        for d in descs:
            vid = sc["variants"][d["id"]]
            colour = VARIANT_COLOURS[d["variants"].index(vid) % len(VARIANT_COLOURS)]
            cells.append(f"<td style='background:{colour};color:white'>{e(labels[d['id']].get(vid, vid))}</td>")
        parts.append(f"<tr><td>{k}</td>{''.join(cells)}<td class='num'>{sc['tis']}</td>"
                     f"<td class='num'>{sc['consistency']}</td></tr>")
    parts.append("</table></div>")
    suc = payload.get("succession")
    if suc:
        fixed = [a for a in suc["attractors"] if a["kind"] == "fixed point"]
        cycles = [a for a in suc["attractors"] if a["kind"] != "fixed point"]
        basins = ", ".join(f"#{_index_of(payload, a['states'][0])}: {a['basin']}" for a in fixed)
        parts.append(f"<p class='small'>Global succession from all {suc['starts']:,} starts: basins {basins}"
                     + (f"; {len(cycles)} cycle(s)" if cycles else "") + ".</p>")
    parts.append("</section>")
    return "".join(parts)


def _n_scenarios(descs: list[dict[str, Any]]) -> int:
    total = 1
    for d in descs:
        total *= len(d["variants"])
    return total


def _index_of(payload: dict[str, Any], state: dict[str, str]) -> str:
    for k, sc in enumerate(payload["scenarios"], 1):
        if sc["variants"] == state:
            return str(k)
    return "?"


SECTIONS.append(futures_section)


def dynamics_section(run: ForecastRun) -> str:
    """The arena's dynamics over the run's draws: a fan chart per series, the regimes by step
    and, when the run simulated them, P(regime) at the horizon per consistent future."""
    if run.dynamics is None:
        return ""
    from tawazun.forecast import dynamics_json
    from tawazun.report import dynamics_figures

    e = html.escape
    block = dynamics_json(run.dynamics)
    coupled = ", ".join(f"{c} ← {i}" for c, i in block["coupled"].items())
    parts = ["<section id='dynamics'><h2>Dynamics: the security system over time</h2>",
             f"<p class='small'>{block['paths']} paths, {block['horizon']} steps. "
             + (f"Each path takes one Monte Carlo draw's forecasts by <b>{e(block['engine'])}</b> as its "
                f"covariates ({e(coupled)}), so the bands carry the bargaining uncertainty too. "
                if block["coupled"] else "")
             + "</p>"]
    if block.get("scenario"):
        sc = block["scenario"]
        parts.append(f"<p>Conditioned on consistent scenario #{sc['index']}: "
                     f"{e(', '.join(f'{d}={v}' for d, v in sc['variants'].items()))}.</p>")
    for div_id, fig in dynamics_figures.figures(block):
        parts.append(_fig(fig, div_id))
    table = dynamics_figures.futures_table(block)
    if table:
        parts.append("<h3>Futures compared</h3><p class='small'>The same paths under each consistent "
                     "scenario of the cross-impact matrix (its variants set the covariates that map them).</p>"
                     + table)
    for note in block.get("notes") or []:
        parts.append(f"<p class='small'>⚠ {e(note)}</p>")
    parts.append("</section>")
    return "".join(parts)


SECTIONS.append(dynamics_section)
