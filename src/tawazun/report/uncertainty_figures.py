"""Plotly figures for forecast distributions and sensitivity (embedded in the report).

Each builder takes the JSON-able outputs of :mod:`tawazun.uncertainty` (so a report can
be rebuilt from saved JSON) and returns a ``plotly.graph_objects.Figure``.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import plotly.graph_objects as go

from tawazun.report import palette
from tawazun.report.labels import FIG_WIDTH, FONT, input_display, lanes, text_box, text_width

BAND_SIZE = 11  # px, band labels above the distribution chart
BAND_SHADES = ("rgba(120,120,120,0.10)", "rgba(120,120,120,0.22)")


def distribution_figure(summaries: Mapping[str, Mapping[str, Any]], title: str = "",
                        axis_title: str = "position on the issue scale") -> go.Figure:
    """Forecast density per engine (step outlines of the histograms), bands shaded and labelled.

    ``summaries`` maps engine name or result label to the dict of
    :func:`tawazun.uncertainty.summarize`; all must share the histogram edges (the same scale
    and bin count). Each engine has its palette colour; band labels sit above the plot, in
    as many rows as they need not to overlap.
    """
    fig = go.Figure()
    left, right = 64, 24
    shapes: list[dict[str, Any]] = []  # the medians
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
        color = palette.colour(engine)
        band_text = "; ".join(f"{b['label']}: {b['probability']:.0%}" for b in summ.get("bands", []))
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines", name=engine, legendgroup=palette.engine_of(engine),
            line={"color": color, "width": 2},
            fill="tozeroy", opacity=0.6,
            hovertemplate=f"{engine}<br>x=%{{x:.3g}}<br>density=%{{y:.3g}}<br>{band_text}<extra></extra>",
        ))
        q = summ.get("quantiles", {})
        if q.get("50") is not None:
            shapes.append(dict(type="line", xref="x", yref="paper", x0=q["50"], x1=q["50"], y0=0, y1=1,
                               line={"color": color, "dash": "dash", "width": 1}, name=f"{engine} median"))
        bands = summ.get("bands", []) or bands
        x_range = (edges[0], edges[-1])
    # Shapes set once (add_vline/add_vrect re-validate every shape on each call).
    fig.update_layout(shapes=[
        dict(type="rect", xref="x", yref="paper", x0=band["low"], x1=band["high"], y0=0, y1=1,
             fillcolor=BAND_SHADES[i % 2], line_width=0, layer="below")
        for i, band in enumerate(bands)] + shapes)
    # Band labels: centred on their band, kept inside the plot's width, in rows that do not overlap.
    pw = FIG_WIDTH - left - right
    boxes: list[tuple[float, float]] = []
    if bands:
        x0, x1 = x_range
        for band in bands:
            w = text_box([str(band["label"])], BAND_SIZE)[0]
            c = ((band["low"] + band["high"]) / 2 - x0) / (x1 - x0) * pw
            c = min(max(c, w / 2), pw - w / 2)
            boxes.append((c - w / 2, c + w / 2))
    rows = lanes(boxes)
    row_h = 1.3 * BAND_SIZE + 6
    fig.update_layout(annotations=[
        dict(x=(b0 + b1) / 2 / pw, xref="paper", xanchor="center", y=1, yref="paper", yanchor="bottom",
             yshift=4 + row * row_h, text=str(band["label"]), showarrow=False,
             font=dict(size=BAND_SIZE, color="#444"), borderpad=1)
        for band, (b0, b1), row in zip(bands, boxes, rows)])
    n_rows = max(rows, default=-1) + 1
    top = 50 + int(n_rows * row_h) + 8
    fig.update_layout(title=dict(text=title or "Forecast distribution", x=0.012, xref="container",
                                 xanchor="left", y=1, yref="container", yanchor="top", pad=dict(t=14)),
                      xaxis_title=axis_title, yaxis_title="density", template="plotly_white",
                      hovermode="closest", width=FIG_WIDTH, height=400 + top, font=dict(family=FONT),
                      margin=dict(l=left, r=right, t=top, b=110),
                      legend=dict(orientation="h", x=0, y=-0.2, yanchor="top", title_text="engine"))
    fig.update_xaxes(automargin=False)
    fig.update_yaxes(automargin=False)
    if bands:
        fig.update_xaxes(range=list(x_range))
    return fig


def _bar_colours(engine: str | None) -> tuple[str, str]:
    """(input at low / first order, input at high / total): a tint and the engine's own colour."""
    c = palette.colour(engine) if engine else "#555555"
    return palette.tint(c, 0.55), c


def tornado_figure(records: Sequence[Mapping[str, Any]], top: int = 15, title: str = "",
                   engine: str | None = None, names: Mapping[str, str] | None = None) -> go.Figure:
    """One-at-a-time swings (records of :func:`tawazun.uncertainty.sensitivity.tornado`) of
    ``engine``'s forecast, in that engine's colour. ``names`` (actor id -> name) labels the
    inputs by actor name instead of id."""
    recs = list(records)[: int(top)]
    recs.reverse()  # largest at the top of the chart
    labels = [input_display(r["label"], names) for r in recs]
    low_c, high_c = _bar_colours(engine)
    base = recs[0]["base"] if recs else 0.0
    fig = go.Figure()
    fig.add_trace(go.Bar(
        y=labels, x=[r["forecast_low"] - r["base"] for r in recs], base=[r["base"] for r in recs],
        orientation="h", name="input at low", marker_color=low_c,
        customdata=[[r["low"], r["forecast_low"]] for r in recs],
        hovertemplate="%{y}<br>input=%{customdata[0]:.3g}<br>forecast=%{customdata[1]:.3g}<extra></extra>",
    ))
    fig.add_trace(go.Bar(
        y=labels, x=[r["forecast_high"] - r["base"] for r in recs], base=[r["base"] for r in recs],
        orientation="h", name="input at high", marker_color=high_c,
        customdata=[[r["high"], r["forecast_high"]] for r in recs],
        hovertemplate="%{y}<br>input=%{customdata[0]:.3g}<br>forecast=%{customdata[1]:.3g}<extra></extra>",
    ))
    fig.add_vline(x=base, line={"color": "black", "width": 1})
    fig.update_layout(title=title or "Tornado: forecast with one input at its low / high",
                      barmode="overlay", xaxis_title="forecast", template="plotly_white",
                      height=max(300, 28 * len(recs) + 120), width=FIG_WIDTH, font=dict(family=FONT),
                      margin=dict(l=int(30 + max((text_width(t, 12) for t in labels), default=40)), r=24),
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom"))
    return fig


def sobol_figure(result: Any, top: int = 20, title: str = "", engine: str | None = None,
                 names: Mapping[str, str] | None = None) -> go.Figure:
    """S1 and ST bars with confidence-interval error bars, in ``engine``'s colour.

    ``result`` is a :class:`SobolResult`, its ``to_dict()`` or its ``records()`` list;
    ``names`` (actor id -> name) labels the inputs by actor name.
    """
    if hasattr(result, "records"):
        recs = result.records()
    elif isinstance(result, Mapping):
        recs = list(result["indices"])
    else:
        recs = list(result)
    recs = list(reversed(recs[: int(top)]))  # horizontal bars, the first record at the top
    labels = [input_display(r["input"], names) for r in recs]
    s1_c, st_c = _bar_colours(engine)
    fig = go.Figure()
    # Horizontal: input names read along the axis instead of slanting under the bars.
    fig.add_trace(go.Bar(y=labels, x=[r["S1"] for r in recs], name="first order S1", orientation="h",
                         marker_color=s1_c,
                         error_x={"type": "data", "array": [r["S1_conf"] for r in recs], "visible": True}))
    fig.add_trace(go.Bar(y=labels, x=[r["ST"] for r in recs], name="total ST", orientation="h",
                         marker_color=st_c,
                         error_x={"type": "data", "array": [r["ST_conf"] for r in recs], "visible": True}))
    fig.update_layout(title=title or "Sobol indices (share of forecast variance)", barmode="group",
                      xaxis_title="index", template="plotly_white",
                      width=FIG_WIDTH, height=max(300, 34 * len(recs) + 130), font=dict(family=FONT),
                      margin=dict(l=int(30 + max((text_width(t, 12) for t in labels), default=40)), r=24),
                      legend=dict(orientation="h", x=0, y=1.0, yanchor="bottom", traceorder="normal"))
    return fig
