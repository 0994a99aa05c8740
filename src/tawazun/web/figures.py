"""Figures and tables of the run and compare pages, built from stored result documents."""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import plotly.io as pio
from plotly.subplots import make_subplots

from tawazun.arena.model import Arena, mode_of
from tawazun.forecast import result_label
from tawazun.report import palette

SYMBOLS = ("diamond", "circle", "square", "triangle-up", "x", "star")


def forecast_rows(doc: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """(issue id, engine label) -> {value, q10, q90, nearest} from a `to_json` document.

    A space bargained jointly gives one row per issue, labelled as every interface labels
    it (:func:`tawazun.forecast.result_label`: "<engine> (joint: <space>)").
    """
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for entry in doc.get("results", []):
        issues = entry.get("issues") or [entry["issue"]]
        joint = len(issues) > 1
        label = result_label(entry["engine"], entry["issue"], joint)
        dist = entry.get("distribution")
        for k, issue_id in enumerate(issues):
            d = (dist.get(issue_id) if joint else dist) if dist else None
            q = (d or {}).get("quantiles") or {}
            nearest = entry.get("nearest") or []
            # the headline (median of the draws) when the document has one; older stored runs
            # carry only the run at the modes
            heads = entry.get("headline") or []
            head = heads[k] if k < len(heads) else {}
            out[(issue_id, label)] = {
                "value": head.get("value", entry["forecast"][k]),
                "at_modes": entry["forecast"][k],
                "q10": q.get("10"),
                "q90": q.get("90"),
                "nearest": head["nearest"] if head else (nearest[k] if k < len(nearest) else None),
                "unstable": bool(head.get("unstable")),
                "note": head.get("note"),
            }
    return out


def engine_labels(doc: dict[str, Any]) -> list[str]:
    labels: list[str] = []
    for (_issue, label) in forecast_rows(doc):
        if label not in labels:
            labels.append(label)
    return labels


def overview_figure(arena: Arena, series: list[tuple[str, dict[tuple[str, str], dict[str, Any]], str]],
                    title: str = "") -> go.Figure:
    """One small panel per issue on its own labelled scale; a marker per series with its
    10–90% interval when the run has draws. ``series``: (legend label, rows, engine label).
    A series has its engine's colour (:mod:`tawazun.report.palette`, as in the report);
    the marker symbol tells series of the same engine apart (compare page)."""
    issues = arena.issues
    height = 40 + (120 + 26 * len(series)) * len(issues)  # panels grow with the number of series
    fig = make_subplots(rows=len(issues), cols=1, subplot_titles=[i.title for i in issues],
                        vertical_spacing=min(0.9 / max(len(issues) - 1, 1), 90 / height))
    shown: set[str] = set()
    for r, issue in enumerate(issues, start=1):
        for s, (name, rows, engine) in enumerate(series):
            row = rows.get((issue.id, engine))
            if row is None:
                continue
            color = palette.colour(engine)
            has_interval = row["q10"] is not None and row["q90"] is not None
            if has_interval:
                # the 10–90% interval as a segment (the point forecast may lie outside it)
                fig.add_trace(go.Scatter(
                    x=[row["q10"], row["q90"]], y=[name, name], mode="lines+markers", legendgroup=name,
                    name=f"{name} 10–90%",
                    showlegend=False, hoverinfo="skip", line=dict(color=color, width=2),
                    marker=dict(symbol="line-ns-open", size=10, color=color),
                ), row=r, col=1)
            fig.add_trace(go.Scatter(
                x=[row["value"]], y=[name], mode="markers", name=name, legendgroup=name,
                showlegend=name not in shown,
                marker=dict(size=13, color=color, symbol=SYMBOLS[s % len(SYMBOLS)]),
                hovertext=[f"{name}<br>{issue.title}: {row['value']:.1f}"
                           + (f" ({row['nearest']})" if row["nearest"] else "")
                           + (f"<br>80% interval {row['q10']:.1f}–{row['q90']:.1f}" if has_interval else "")],
                hoverinfo="text",
            ), row=r, col=1)
            shown.add(name)
        anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
        span = issue.scale.max - issue.scale.min
        fig.update_xaxes(range=[issue.scale.min - 0.03 * span, issue.scale.max + 0.03 * span],
                         tickvals=[a.value for a in anchors] or None,
                         ticktext=[f"{a.value:g}<br>{a.label}" for a in anchors] or None,
                         tickfont=dict(size=10), row=r, col=1)
        sq = issue.status_quo
        if sq is not None:
            sqv = mode_of(sq)
            fig.add_vline(x=sqv, line=dict(color=palette.STATUS_QUO, dash="dash", width=1), name="status quo",
                          row=r, col=1)
    top = 34 + 26 * (1 + len(series) // 6)  # room for the legend row(s) above the first panel
    fig.update_layout(title=dict(text=title, y=1.0, yanchor="top", pad=dict(t=8)) if title else None,
                      height=height + top, template="plotly_white",
                      margin=dict(l=150, r=40, t=top + (30 if title else 0), b=40),
                      legend=dict(orientation="h", x=0, xanchor="left", y=1.0 + 30 / height, yanchor="bottom"))
    return fig


def figure_html(fig: go.Figure, div_id: str) -> str:
    return pio.to_html(fig, full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def compare_table(arena: Arena, a: tuple[str, dict, str], b: tuple[str, dict, str]) -> list[dict[str, Any]]:
    """Rows: issue, A, B, B - A (None where either side has no forecast)."""
    out = []
    for issue in arena.issues:
        ra = a[1].get((issue.id, a[2]))
        rb = b[1].get((issue.id, b[2]))
        diff = None if ra is None or rb is None else rb["value"] - ra["value"]
        out.append({"issue": issue, "a": ra, "b": rb, "diff": diff})
    return out


def dynamics_html(doc: dict[str, Any]) -> str:
    """The run page's dynamics charts (the report's, :mod:`tawazun.report.dynamics_figures`)
    from a result document; '' when it has no dynamics block."""
    from tawazun.report import dynamics_figures

    block = (doc or {}).get("dynamics")
    if not block:
        return ""
    parts = [figure_html(fig, div_id) for div_id, fig in dynamics_figures.figures(block)]
    return "".join(parts) + dynamics_figures.futures_table(block)
