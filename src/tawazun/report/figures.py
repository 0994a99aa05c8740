"""Plotly figures of a forecast run (one function per figure, no I/O).

Colours come from :mod:`tawazun.report.palette` (one per engine in every chart); actors are
named, never shown by id, in English or Arabic (``lang``); label positions are computed by
:mod:`tawazun.report.labels` so that labels neither overlap nor leave the figure.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import plotly.graph_objects as go

from tawazun.arena.model import Arena, Issue
from tawazun.report import palette
from tawazun.report.labels import (FIG_WIDTH, FONT, LABEL_SIZE, actor_name, check_lang, place_labels,
                                   plotly_text, spread, text_box, text_width, wrap)

TICK_SIZE = 12
TOP_MOVERS = 5  # actors drawn in colour, with their names, in a trajectory chart


def engine_colour(name: str) -> str:
    """Kept for callers of the old module: the palette's colour of an engine or result label."""
    return palette.colour(name)


def _layout(fig: go.Figure, title: str, height: int, margin: dict[str, int]) -> go.Figure:
    fig.update_layout(
        title=dict(text=title, x=0.012, xref="container", xanchor="left", y=1, yref="container",
                   yanchor="top", pad=dict(t=14)),
        width=FIG_WIDTH, height=height, margin=margin, template="plotly_white", font=dict(family=FONT),
        legend=dict(orientation="h", y=-0.2),
    )
    return fig


def _anchor_axis(issue: Issue, plot_width: float) -> tuple[dict, float, float]:
    """x-axis settings for the issue's labelled scale, and how far (px) the first and last
    tick labels reach beyond the plot area (the margins must hold them)."""
    anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
    lo, hi = issue.scale.min, issue.scale.max
    pad = 0.03 * (hi - lo)
    rng = [lo - pad, hi + pad]
    texts = [[f"{a.value:g}", *wrap(a.label, 18)] for a in anchors]
    over_l = over_r = 0.0
    if anchors:
        scale = plot_width / (rng[1] - rng[0])
        wl = max(text_width(t, TICK_SIZE) for t in texts[0])
        wr = max(text_width(t, TICK_SIZE) for t in texts[-1])
        over_l = wl / 2 - (anchors[0].value - rng[0]) * scale
        over_r = wr / 2 - (rng[1] - anchors[-1].value) * scale
    axis = dict(range=rng, tickvals=[a.value for a in anchors] or None,
                ticktext=[plotly_text(t) for t in texts] or None, tickfont=dict(size=TICK_SIZE),
                title=None, automargin=False)
    return axis, max(over_l, 0.0), max(over_r, 0.0)


def _anchor_lines(issue: Issue) -> int:
    return 1 + max((len(wrap(a.label, 18)) for a in issue.scale.anchors), default=0)


def actor_map(arena: Arena, issue: Issue, actors: list[str], position: np.ndarray,
              capability: np.ndarray, salience: np.ndarray, lang: str = "en",
              forecasts: Mapping[str, float] | None = None) -> go.Figure:
    """Position against capability x salience: who stands where and how hard they push.

    Each actor is labelled by name (``lang``), the label placed where it overlaps no other
    label or point and stays inside the plot, joined to its point by a leader line.
    ``forecasts`` (result label -> value) adds each engine's forecast as a tick on the axis.
    """
    check_lang(lang)
    weight = np.asarray(capability * salience, dtype=float)
    position = np.asarray(position, dtype=float)
    full = [actor_name(arena, a, lang) for a in actors]
    lines = [wrap(n, 22) for n in full]
    height = 520
    base_l, base_r = 70, 24
    top, bottom = 56, 22 + 16 * _anchor_lines(issue)
    axis, over_l, over_r = _anchor_axis(issue, FIG_WIDTH - base_l - base_r)
    left, right = int(base_l + max(0.0, over_l - base_l + 30)), int(base_r + over_r + 4)
    pw, ph = FIG_WIDTH - left - right, height - top - bottom
    x0, x1 = axis["range"]
    wmax = max(float(weight.max()) if weight.size else 0.0, 1e-9)
    # Room above the heaviest actor for its label; a little below zero for the lightest markers.
    y0, y1 = -0.06 * wmax, 1.3 * wmax
    px = left + (position - x0) / (x1 - x0) * pw
    py = top + (y1 - weight) / (y1 - y0) * ph
    sizes_px = 10 + 30 * weight / wmax
    boxes = [text_box(ln, LABEL_SIZE) for ln in lines]
    order = sorted(range(len(actors)), key=lambda i: (-weight[i], i))
    offsets = place_labels(np.column_stack([px, py]), sizes_px / 2, boxes,
                           (left + 2, top + 2, left + pw - 2, top + ph - 2), order)

    fig = go.Figure(go.Scatter(
        x=position, y=weight, mode="markers", name="actors", showlegend=False, cliponaxis=False,
        hovertext=[f"{plotly_text([n])}<br>position {p:.1f}<br>capability {c:.2f} × salience {s:.2f}"
                   for n, p, c, s in zip(full, position, capability, salience)],
        hoverinfo="text", marker=dict(size=sizes_px, color="#555", opacity=0.65, line=dict(color="white", width=1)),
    ))
    # One layout update for all labels: add_annotation re-validates every annotation each call.
    notes = [dict(
        x=float(position[i]), y=float(weight[i]), ax=dx, ay=dy, axref="pixel", ayref="pixel",
        text=plotly_text(lines[i]), showarrow=True, arrowhead=0, arrowwidth=0.8,
        arrowcolor=palette.LEADER, standoff=float(sizes_px[i] / 2), borderpad=1,
        font=dict(size=LABEL_SIZE, color="#222"), bgcolor="rgba(255,255,255,0.8)",
        name=f"actor:{actors[i]}", captureevents=False,
    ) for i, (dx, dy) in enumerate(offsets)]
    for label, value in (forecasts or {}).items():
        c = palette.colour(label)
        fig.add_trace(go.Scatter(
            x=[value], y=[y0], mode="markers", name=label, legendgroup=palette.engine_of(label),
            marker=dict(symbol="triangle-up", size=11, color=c, line=dict(color="white", width=1)),
            cliponaxis=False, hovertext=[f"{label}: {value:.1f}"], hoverinfo="text", showlegend=False,
        ))
    if forecasts:
        notes.append(dict(x=1, xref="paper", xanchor="right", y=1, yref="paper", yanchor="bottom", yshift=6,
                          text="marker area: capability × salience; ▲ on the axis: each engine's forecast",
                          showarrow=False, font=dict(size=12, color="#555")))
    fig.update_layout(annotations=notes)
    fig.update_xaxes(**axis)
    fig.update_yaxes(title="capability × salience", range=[y0, y1], automargin=False, zeroline=False)
    _layout(fig, f"Actor map — {issue.title}", height, dict(l=left, r=right, t=top, b=bottom))
    fig.update_layout(showlegend=False)
    return fig


def forecast_strip(issue: Issue, forecasts: Mapping[str, float], status_quo: float | None,
                   outcome: float | None = None) -> go.Figure:
    """Each result's forecast (result label -> value) on the labelled scale, with the status
    quo and, when recorded, the outcome. Value labels sit on whichever side of the marker
    keeps them inside the plot."""
    names = list(forecasts)
    height = 150 + 40 * len(names) + 16 * _anchor_lines(issue)
    left = int(24 + max((text_width(n, TICK_SIZE) for n in names), default=40))
    right = 24
    axis, _over_l, over_r = _anchor_axis(issue, FIG_WIDTH - left - right)
    right = int(right + over_r + 4)
    pw = FIG_WIDTH - left - right
    x0, x1 = axis["range"]
    fig = go.Figure()
    for k, (name, value) in enumerate(forecasts.items()):
        text = f"{value:.1f}"
        x_px = (value - x0) / (x1 - x0) * pw
        side = "middle right" if x_px + 14 + text_width(text, TICK_SIZE) < pw else "middle left"
        fig.add_trace(go.Scatter(
            x=[value], y=[k], mode="markers+text", text=[text], textposition=side, cliponaxis=False,
            textfont=dict(size=TICK_SIZE, color=palette.colour(name)),
            marker=dict(size=16, color=palette.colour(name), symbol="diamond"), name=name,
            legendgroup=palette.engine_of(name), hovertext=[f"{name}: {value:.1f}"], hoverinfo="text",
        ))
    # (the anchors' gridlines are the x axis's own: its ticks are the anchors)
    if status_quo is not None:
        fig.add_vline(x=status_quo, line=dict(color=palette.STATUS_QUO, dash="dash"), name="status quo",
                      annotation_text="status quo", annotation_position="top",
                      annotation_font=dict(color=palette.STATUS_QUO))
    if outcome is not None:
        fig.add_vline(x=outcome, line=dict(color=palette.OUTCOME, width=3), name="outcome",
                      annotation_text="recorded outcome", annotation_position="bottom",
                      annotation_font=dict(color=palette.OUTCOME))
    fig.update_xaxes(**axis)
    # first result at the top
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names, range=[len(names) - 0.2, -0.8],
                     automargin=False, tickfont=dict(size=TICK_SIZE))
    _layout(fig, f"Forecasts — {issue.title}", height,
            dict(l=left, r=right, t=70, b=22 + 16 * _anchor_lines(issue)))
    fig.update_layout(showlegend=False)
    return fig


def top_movers(trajectory: np.ndarray, dim: int = 0, k: int = TOP_MOVERS) -> list[int]:
    """Indices of the ``k`` actors whose position gets farthest from where it started (over
    all rounds), most first; ties in actor order; actors that never move are left out."""
    path = trajectory[:, :, dim]
    reach = np.abs(path - path[0]).max(axis=0)
    order = sorted(range(path.shape[1]), key=lambda i: (-reach[i], i))
    return [i for i in order[:k] if reach[i] > 0]


def trajectory_figure(issue: Issue, engine: str, actors: list[str], trajectory: np.ndarray,
                      dim: int = 0, median: np.ndarray | None = None, *, arena: Arena | None = None,
                      lang: str = "en", label: str | None = None) -> go.Figure:
    """Positions round by round (trajectory: (T+1, n, d)): the actors who move most in colour
    with their names at the line ends, the others thin grey, and the engine's forecast
    (``median``, one value per round) in the engine's colour."""
    check_lang(lang)
    label = label or engine
    turns = np.arange(trajectory.shape[0])
    path = np.asarray(trajectory[:, :, dim], dtype=float)
    names = [actor_name(arena, a, lang) if arena is not None else a for a in actors]
    movers = top_movers(trajectory, dim)
    height = 460
    top, bottom = 70, 56
    lo, hi = issue.scale.min, issue.scale.max
    pad = 0.04 * (hi - lo)
    y0, y1 = lo - pad, hi + pad
    ph = height - top - bottom

    def to_px(v: float) -> float:
        return top + (y1 - v) / (y1 - y0) * ph

    fig = go.Figure()
    grey = [i for i in range(len(actors)) if i not in movers]
    for n, i in enumerate(grey):
        fig.add_trace(go.Scatter(
            x=turns, y=path[:, i], mode="lines", name="other actors", legendgroup="other actors",
            showlegend=False, line=dict(color=palette.ACTOR_MUTED, width=1),
            hovertext=[plotly_text([names[i]])] * len(turns), hoverinfo="text+y",
        ))
    ends: list[tuple[str, float, str, int]] = []  # text, end value, colour, font weight
    for r, i in enumerate(movers):
        c = palette.actor_colour(r)
        fig.add_trace(go.Scatter(
            x=turns, y=path[:, i], mode="lines+markers", name=names[i], legendgroup=f"actor:{actors[i]}",
            line=dict(color=c, width=2.2), marker=dict(size=4, color=c), showlegend=False,
            hovertext=[plotly_text([names[i]])] * len(turns), hoverinfo="text+y",
        ))
        ends.append((plotly_text(wrap(names[i], 24)), float(path[-1, i]), c,
                     len(wrap(names[i], 24))))
    if median is not None:
        c = palette.colour(label)
        fig.add_trace(go.Scatter(
            x=turns, y=median, mode="lines", name=f"{label} forecast", legendgroup=palette.engine_of(label),
            line=dict(color=c, width=3.5, dash="dot"), showlegend=False,
        ))
        ends.append((f"{label} forecast", float(median[-1]), c, 1))
    # Names at the line ends, spread apart vertically and joined to their line by a leader.
    plain = [wrap(names[i], 24) for i in movers] + ([[f"{label} forecast"]] if median is not None else [])
    sizes = [text_box(ln, LABEL_SIZE) for ln in plain]
    want = [to_px(v) for _t, v, _c, _n in ends]
    got = spread(want, [h for _w, h in sizes], top, top + ph, gap=2)
    lead = 18
    right = int(lead + max((w for w, _h in sizes), default=0) + 16)
    notes = [dict(
        x=float(turns[-1]), y=value, ax=lead, ay=yg - yw, axref="pixel", ayref="pixel", xanchor="left",
        text=text, showarrow=True, arrowhead=0, arrowwidth=0.8, arrowcolor=c, standoff=3,
        font=dict(size=LABEL_SIZE, color=c), align="left", borderpad=1, captureevents=False,
    ) for (text, value, c, _n), (_w, _h), yw, yg in zip(ends, sizes, want, got)]
    anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
    ticks = [f"{a.label} ({a.value:g})" for a in anchors]
    left = int(20 + max((text_width(t, TICK_SIZE) for t in ticks), default=30))
    fig.update_xaxes(title="round", dtick=1 if len(turns) <= 25 else None, automargin=False,
                     range=[-0.3, float(turns[-1]) + 0.3])
    fig.update_yaxes(range=[y0, y1], tickvals=[a.value for a in anchors] or None,
                     ticktext=[plotly_text([t]) for t in ticks] or None, automargin=False,
                     tickfont=dict(size=TICK_SIZE))
    shown = len(movers)
    title = f"{engine.upper()}{label[len(engine):]} positions round by round — {issue.title}"
    note = (f"in colour: the {shown} actor{'s' if shown != 1 else ''} who move most; grey: the others"
            + ("; dotted: the forecast" if median is not None else ""))
    notes.append(dict(x=0, xref="paper", xanchor="left", y=1, yref="paper", yanchor="bottom", yshift=6,
                      text=note, showarrow=False, font=dict(size=12, color="#555")))
    fig.update_layout(annotations=notes)
    _layout(fig, title, height, dict(l=left, r=right, t=top, b=bottom))
    fig.update_layout(showlegend=False)
    return fig
