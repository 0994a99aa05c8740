"""Self-contained HTML page for a backtest: Plotly's JavaScript is inlined (no CDN)."""

from __future__ import annotations

import html
import json

import numpy as np
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from tawazun.evaluation.protocol import LEVELS, BacktestResult

_COLUMNS = (("mae", "MAE"), ("rmse", "RMSE"), ("within10", "within ±10"), ("crps", "CRPS"),
            ("coverage50", "cover 50%"), ("coverage80", "cover 80%"))


def _fig_div(fig: go.Figure, div_id: str) -> str:
    fig.update_layout(template="plotly_white", margin=dict(l=60, r=20, t=50, b=50), height=430)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id,
                       config={"displaylogo": False, "responsive": True})


def error_figure(res: BacktestResult) -> go.Figure:
    fig = go.Figure()
    for name, s in res.engines.items():
        fig.add_trace(go.Box(y=s.pred - res.y, name=name, boxmean=True, boxpoints="outliers"))
    fig.update_layout(title="Out-of-fold errors (forecast − outcome, 0–100 scale)",
                      yaxis_title="error", showlegend=False)
    return fig


def abs_error_figure(res: BacktestResult) -> go.Figure:
    fig = go.Figure()
    for name, s in res.engines.items():
        fig.add_trace(go.Violin(y=np.abs(s.pred - res.y), name=name, box_visible=True,
                                meanline_visible=True, points=False, spanmode="hard"))
    fig.update_layout(title="Absolute errors per engine", yaxis_title="|error|", showlegend=False)
    return fig


def coverage_figure(res: BacktestResult) -> go.Figure:
    fig = go.Figure()
    fig.add_trace(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="ideal",
                             line=dict(dash="dash", color="grey")))
    for name, s in res.engines.items():
        fig.add_trace(go.Scatter(x=list(LEVELS), y=[float(np.mean(s.covered[lv])) for lv in LEVELS],
                                 mode="lines+markers", name=name))
    fig.update_layout(title="Calibration: nominal vs empirical coverage of central intervals",
                      xaxis_title="nominal level", yaxis_title="share of outcomes inside",
                      xaxis_range=[0, 1], yaxis_range=[0, 1])
    return fig


def pit_figure(res: BacktestResult, bins: int = 10) -> go.Figure:
    fig = go.Figure()
    edges = np.linspace(0, 1, bins + 1)
    centers = (edges[:-1] + edges[1:]) / 2
    for name, s in res.engines.items():
        h, _ = np.histogram(s.pit, bins=edges)
        fig.add_trace(go.Scatter(x=centers, y=h / max(1, s.pit.size) * bins, mode="lines+markers",
                                 line_shape="hvh", name=name))
    fig.add_hline(y=1.0, line_dash="dash", line_color="grey")
    fig.update_layout(title="Randomised PIT histogram (flat at 1 = calibrated)",
                      xaxis_title="PIT", yaxis_title="density")
    return fig


def difference_figure(res: BacktestResult) -> go.Figure:
    fig = go.Figure()
    names = list(res.differences)
    for metric, label in (("abs_error", "|error|"), ("crps", "CRPS")):
        d = [res.differences[n][metric] for n in names]
        fig.add_trace(go.Scatter(
            x=[v["mean"] for v in d], y=names, mode="markers", name=label,
            error_x=dict(type="data", symmetric=False,
                         array=[v["hi"] - v["mean"] for v in d],
                         arrayminus=[v["mean"] - v["lo"] for v in d])))
    fig.add_vline(x=0, line_dash="dash", line_color="grey")
    fig.update_layout(title="Paired difference to the compromise model (95% bootstrap over "
                      "proposals; < 0 = better)", xaxis_title="mean difference")
    return fig


def render_html(res: BacktestResult, command: str | None = None) -> str:
    summary = res.to_json()
    rows = []
    for name, e in summary["engines"].items():
        diff = summary["differences"].get(name)
        dtxt = "—" if diff is None else (
            f"{diff['abs_error']['mean']:+.2f} [{diff['abs_error']['lo']:+.2f}, "
            f"{diff['abs_error']['hi']:+.2f}]")
        cells = "".join(f"<td>{e[key]:.3f}</td>" if key in ("within10", "coverage50", "coverage80")
                        else f"<td>{e[key]:.2f}</td>" for key, _ in _COLUMNS)
        rows.append(f"<tr><th>{html.escape(name)}</th><td>{e['kind']}</td>{cells}"
                    f"<td>{dtxt}</td></tr>")
    head = "".join(f"<th>{label}</th>" for _, label in _COLUMNS)
    skipped = summary["skipped"]
    figs = [
        _fig_div(error_figure(res), "errors"),
        _fig_div(abs_error_figure(res), "abs-errors"),
        _fig_div(coverage_figure(res), "coverage"),
        _fig_div(pit_figure(res), "pit"),
        _fig_div(difference_figure(res), "differences"),
    ]
    meta = {
        "data": summary["data"], "n_issues": summary["n_issues"],
        "capability": summary["capability"]["name"], "folds": summary["folds"],
        "seed": summary["seed"], "draws": summary["draws"],
        "skipped": {k: v for k, v in skipped.items() if k != "issues_skipped_list"},
    }
    cmd = f"<p>Command: <code>{html.escape(command)}</code></p>" if command else ""
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>tawazun backtest — DEU</title>
<script type="text/javascript">{get_plotlyjs()}</script>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ border: 1px solid #ccc; padding: 4px 8px; text-align: right; }}
th:first-child {{ text-align: left; }}
pre {{ background: #f6f6f6; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }}
</style></head><body>
<h1>Backtest against recorded EU decision outcomes</h1>
<p>{summary['n_issues']} issues, out-of-fold scores from {summary['folds']['k']}-fold
cross-validation grouped by proposal ({html.escape(summary['folds']['source'])} split, seed
{summary['seed']}). Capability scheme <b>{html.escape(summary['capability']['name'])}</b>.
Predictive distributions: {html.escape(summary['distribution'])}. Differences are
engine − compromise, mean over issues with a 95% interval from a bootstrap
over whole proposals.</p>
{cmd}
<table><thead><tr><th>engine</th><th>kind</th>{head}<th>Δ|error| vs compromise [95%]</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table>
{''.join(figs)}
<h2>Run</h2>
<pre>{html.escape(json.dumps(meta, indent=1))}</pre>
</body></html>
"""
