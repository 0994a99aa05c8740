"""Plotly figures of a forecast run (one function per figure, no I/O)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from tawazun.arena.model import Arena, Issue

ENGINE_COLOURS = {
    "compromise": "#1f77b4", "median": "#ff7f0e", "bdm": "#2ca02c",
    "smp": "#d62728", "nash": "#9467bd",
}


def engine_colour(name: str) -> str:
    return ENGINE_COLOURS.get(name, "#7f7f7f")


def _layout(fig: go.Figure, title: str, height: int = 360) -> go.Figure:
    fig.update_layout(
        title=title, height=height, margin=dict(l=60, r=20, t=50, b=50),
        template="plotly_white", legend=dict(orientation="h", y=-0.2),
    )
    return fig


def actor_map(arena: Arena, issue: Issue, actors: list[str], position: np.ndarray,
              capability: np.ndarray, salience: np.ndarray) -> go.Figure:
    """Position against capability x salience: who stands where and how hard they push."""
    weight = capability * salience
    names = [arena.actor(a).names.en for a in actors]
    fig = go.Figure(go.Scatter(
        x=position, y=weight, mode="markers+text", text=actors, textposition="top center",
        hovertext=[f"{n}<br>position {p:.1f}<br>capability {c:.2f} x salience {s:.2f}"
                   for n, p, c, s in zip(names, position, capability, salience)],
        hoverinfo="text", marker=dict(size=10 + 30 * weight / max(weight.max(), 1e-9), color="#444", opacity=0.7),
        showlegend=False,
    ))
    _anchor_ticks(fig, issue)
    fig.update_yaxes(title="capability × salience", rangemode="tozero")
    return _layout(fig, f"Actor map — {issue.title}")


def _anchor_ticks(fig: go.Figure, issue: Issue) -> None:
    anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
    fig.update_xaxes(
        range=[issue.scale.min - 0.03 * (issue.scale.max - issue.scale.min),
               issue.scale.max + 0.03 * (issue.scale.max - issue.scale.min)],
        tickvals=[a.value for a in anchors] or None,
        ticktext=[f"{a.value:g}<br>{a.label}" for a in anchors] or None,
        title=None,
    )


def forecast_strip(issue: Issue, forecasts: dict[str, float], status_quo: float | None,
                   outcome: float | None = None) -> go.Figure:
    """Each engine's forecast on the labelled scale, with the status quo."""
    fig = go.Figure()
    names = list(forecasts)
    for k, (name, value) in enumerate(forecasts.items()):
        fig.add_trace(go.Scatter(
            x=[value], y=[k], mode="markers+text", text=[f"{name}: {value:.1f}"], textposition="middle right",
            marker=dict(size=16, color=engine_colour(name), symbol="diamond"), name=name,
        ))
    if status_quo is not None:
        fig.add_vline(x=status_quo, line=dict(color="#888", dash="dash"),
                      annotation_text="status quo", annotation_position="top")
    if outcome is not None:
        fig.add_vline(x=outcome, line=dict(color="#000", width=3), annotation_text="recorded outcome")
    for a in issue.scale.anchors:
        fig.add_vline(x=a.value, line=dict(color="#ddd", width=1))
    _anchor_ticks(fig, issue)
    fig.update_yaxes(tickvals=list(range(len(names))), ticktext=names, range=[-0.7, len(names) - 0.3])
    return _layout(fig, f"Forecasts — {issue.title}", height=160 + 40 * len(names))


def trajectory_figure(issue: Issue, engine: str, actors: list[str], trajectory: np.ndarray,
                      dim: int = 0, median: np.ndarray | None = None) -> go.Figure:
    """Positions turn by turn (trajectory: (T+1, n, d)), with the engine's forecast line."""
    turns = np.arange(trajectory.shape[0])
    fig = go.Figure()
    for k, actor in enumerate(actors):
        fig.add_trace(go.Scatter(x=turns, y=trajectory[:, k, dim], mode="lines+markers", name=actor,
                                 line=dict(width=1.5), marker=dict(size=4)))
    if median is not None:
        fig.add_trace(go.Scatter(x=turns, y=median, mode="lines", name="weighted median",
                                 line=dict(color="black", width=4, dash="dot")))
    fig.update_xaxes(title="round", dtick=1)
    anchors = sorted(issue.scale.anchors, key=lambda a: a.value)
    fig.update_yaxes(range=[issue.scale.min, issue.scale.max],
                     tickvals=[a.value for a in anchors] or None,
                     ticktext=[f"{a.label} ({a.value:g})" for a in anchors] or None)
    return _layout(fig, f"{engine.upper()} positions round by round — {issue.title}", height=420)
