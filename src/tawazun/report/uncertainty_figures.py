"""Plotly figures for forecast distributions and sensitivity (embedded in the report).

Each builder takes the JSON-able outputs of :mod:`tawazun.uncertainty` (so a report can
be rebuilt from saved JSON) and returns a ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf", "#7f7f7f")
BAND_SHADES = ("rgba(120,120,120,0.10)", "rgba(120,120,120,0.22)")


def distribution_figure(summaries: Mapping[str, Mapping[str, Any]], title: str = "",
                        axis_title: str = "position on the issue scale") -> go.Figure:
    """Forecast density per engine (step outlines of the histograms), bands shaded and labelled.

    ``summaries`` maps engine name to the dict of :func:`tawazun.uncertainty.summarize`;
    all must share the histogram edges (the same scale and bin count).
    """
    fig = go.Figure()
    bands: Sequence[Mapping[str, Any]] = ()
    for k, (engine, summ) in enumerate(summaries.items()):
        hist = summ["histogram"]
        edges, counts = list(hist["edges"]), list(hist["counts"])
        total = sum(counts) or 1
        width = (edges[-1] - edges[0]) / max(1, len(counts))
        density = [c / total / width for c in counts]
        # Step outline: each bin as a flat segment.
        xs, ys = [edges[0]], [0.0]
        for i, dens in enumerate(density):
            xs += [edges[i], edges[i + 1]]
            ys += [dens, dens]
        xs.append(edges[-1])
        ys.append(0.0)
        color = PALETTE[k % len(PALETTE)]
        band_text = "; ".join(f"{b['label']}: {b['probability']:.0%}" for b in summ.get("bands", []))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=engine, line={"color": color, "width": 2},
            fill="tozeroy", opacity=0.6,
            hovertemplate=f"{engine}<br>x=%{{x:.3g}}<br>density=%{{y:.3g}}<br>{band_text}<extra></extra>",
        ))
        q = summ.get("quantiles", {})
        if q.get("50") is not None:
            fig.add_vline(x=q["50"], line={"color": color, "dash": "dash", "width": 1})
        bands = summ.get("bands", []) or bands
    for i, band in enumerate(bands):
        fig.add_vrect(x0=band["low"], x1=band["high"], fillcolor=BAND_SHADES[i % 2], line_width=0,
                      layer="below", annotation_text=str(band["label"]),
                      annotation_position="top left", annotation_font_size=10)
    fig.update_layout(title=title or "Forecast distribution", xaxis_title=axis_title,
                      yaxis_title="density", template="plotly_white", hovermode="closest",
                      legend_title_text="engine")
    return fig


def tornado_figure(records: Sequence[Mapping[str, Any]], top: int = 15, title: str = "") -> go.Figure:
    """One-at-a-time swings (records of :func:`tawazun.uncertainty.sensitivity.tornado`)."""
    recs = list(records)[: int(top)]
    recs.reverse()  # largest at the top of the chart
    labels = [r["label"] for r in recs]
    base = recs[0]["base"] if recs else 0.0
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=[r["forecast_low"] - r["base"] for r in recs], base=[r["base"] for r in recs],
        orientation="h", name="input at low", marker_color=PALETTE[0],
        customdata=[[r["low"], r["forecast_low"]] for r in recs],
        hovertemplate="%{y}<br>input=%{customdata[0]:.3g}<br>forecast=%{customdata[1]:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Bar(
        y=labels, x=[r["forecast_high"] - r["base"] for r in recs], base=[r["base"] for r in recs],
        orientation="h", name="input at high", marker_color=PALETTE[1],
        customdata=[[r["high"], r["forecast_high"]] for r in recs],
        hovertemplate="%{y}<br>input=%{customdata[0]:.3g}<br>forecast=%{customdata[1]:.3g}<extra></extra>",
    ))
    fig.add_vline(x=base, line={"color": "black", "width": 1})
    fig.update_layout(title=title or "Tornado: forecast with one input at its low / high",
                      barmode="overlay", xaxis_title="forecast", template="plotly_white",
                      height=max(300, 28 * len(recs) + 120))
    return fig


def sobol_figure(result: Any, top: int = 20, title: str = "") -> go.Figure:
    """S1 and ST bars with confidence-interval error bars.

    ``result`` is a :class:`SobolResult`, its ``to_dict()`` or its ``records()`` list.
    """
    if hasattr(result, "records"):
        recs = result.records()
    elif isinstance(result, Mapping):
        recs = list(result["indices"])
    else:
        recs = list(result)
    recs = recs[: int(top)]
    names = [r["input"] for r in recs]
    fig = go.Figure()
    fig.add_trace(go.Bar(x=names, y=[r["S1"] for r in recs], name="first order S1",
                         marker_color=PALETTE[0],
                         error_y={"type": "data", "array": [r["S1_conf"] for r in recs], "visible": True}))
    fig.add_trace(go.Bar(x=names, y=[r["ST"] for r in recs], name="total ST",
                         marker_color=PALETTE[1],
                         error_y={"type": "data", "array": [r["ST_conf"] for r in recs], "visible": True}))
    fig.update_layout(title=title or "Sobol indices (share of forecast variance)", barmode="group",
                      yaxis_title="index", template="plotly_white", xaxis_tickangle=-35)
    return fig
