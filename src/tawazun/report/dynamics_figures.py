"""Charts of a run's dynamics, built from its JSON ``dynamics`` block (forecast.dynamics_json),
so the report and the web run page draw the same figures from the same numbers."""

from __future__ import annotations

import html
from typing import Any

import plotly.graph_objects as go

from tawazun.report import palette


def fan_chart(block: dict[str, Any], name: str) -> go.Figure:
    """One series: its mean by step and the 10–90 % band of the paths."""
    s = block["series"][name]
    steps = block["steps"]
    c = palette.series_colour(name)
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=steps, y=s["quantiles"]["0.9"], mode="lines", line=dict(width=0, color=c),
                             showlegend=False, hoverinfo="skip"))
    fig.add_trace(go.Scatter(x=steps, y=s["quantiles"]["0.1"], mode="lines", line=dict(width=0, color=c),
                             fill="tonexty", fillcolor=palette.tint(c, 0.7), name="10–90 % of paths"))
    fig.add_trace(go.Scatter(x=steps, y=s["mean"], mode="lines+markers", line=dict(color=c, width=2), name="mean"))
    fig.update_layout(title=f"{name} ({s.get('kind', '')}): mean and 10–90 % of {block['paths']} paths",
                      template="plotly_white", height=300, margin=dict(l=50, r=20, t=50, b=40),
                      legend=dict(orientation="h", y=-0.2))
    return fig


def regime_chart(block: dict[str, Any]) -> go.Figure:
    """Probability of each regime by step (share of paths in it)."""
    fig = go.Figure()
    for name, r in block["regimes"].items():
        fig.add_trace(go.Scatter(x=block["steps"], y=r["probability_by_step"], mode="lines+markers", name=name,
                                 line=dict(color=palette.series_colour(name), width=2)))
    fig.update_layout(title="Regimes: probability by step", yaxis=dict(range=[0, 1], title="P"),
                      template="plotly_white", height=300, margin=dict(l=50, r=20, t=50, b=40))
    return fig


def figures(block: dict[str, Any]) -> list[tuple[str, go.Figure]]:
    """(div id, figure): ``dyn-fan-<series>`` per series, then ``dyn-regimes``."""
    out = [(f"dyn-fan-{name}", fan_chart(block, name)) for name in block["series"]]
    if block["regimes"]:
        out.append(("dyn-regimes", regime_chart(block)))
    return out


def futures_table(block: dict[str, Any]) -> str:
    """P(regime) at the horizon per consistent future, as an HTML table ('' without futures)."""
    futures = block.get("futures")
    if not futures:
        return ""
    e = html.escape
    regimes = list(futures[0]["regimes_at_horizon"])
    out = ["<table id='dyn-futures'><tr><th>#</th><th>future (variants)</th>"]
    out.extend(f"<th>P({e(r)}) by {e(block['steps'][-1])}</th>" for r in regimes)
    out.append("</tr>")
    for f in futures:
        variants = ", ".join(f"{d}={v}" for d, v in f["variants"].items())
        out.append(f"<tr><td>{f['index']}</td><td class='small'>{e(variants)}</td>"
                   + "".join(f"<td class='num'>{f['regimes_at_horizon'][r]:.2f}</td>" for r in regimes) + "</tr>")
    out.append("</table>")
    return "".join(out)
