"""Headline forecasts and the instability flag (tawazun.uncertainty.headline, docs/uncertainty.md)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tawazun.arena import parse_arena_text
from tawazun.cli.main import app
from tawazun.forecast import ForecastConfig, execute, issue_rows, to_json
from tawazun.uncertainty.headline import RULE_DRAWS, RULE_MODES, assess
from tawazun.uncertainty.summary import summarize

ANCHORS = [(0.0, "none"), (50.0, "half"), (100.0, "all")]


def _summary(values):
    return summarize(np.asarray(values, dtype=float), 0.0, 100.0, ANCHORS)


def test_without_draws_the_headline_is_the_run_at_the_modes():
    h = assess(42.0, None)
    assert h["value"] == 42.0 and h["rule"] == RULE_MODES and h["unstable"] is None and not h["flags"]


def test_a_tight_unimodal_cloud_is_stable_and_headlines_its_median():
    rng = np.random.default_rng(1)
    values = rng.normal(30, 3, 2000)
    h = assess(30.5, _summary(values))
    assert h["rule"] == RULE_DRAWS and h["unstable"] is False and h["note"] is None
    assert h["value"] == pytest.approx(np.percentile(values, 50))
    assert h["at_modes"] == 30.5


def test_modes_outside_the_interval_is_flagged():
    values = np.random.default_rng(2).normal(30, 2, 1000)
    h = assess(45.0, _summary(values))
    assert h["unstable"] and [f["code"] for f in h["flags"]] == ["modes-outside"]
    assert "45.0" in h["note"] and "outside the 80% interval" in h["note"]


def test_two_clusters_are_flagged_as_multimodal():
    rng = np.random.default_rng(3)
    values = np.concatenate([rng.normal(10, 2, 600), rng.normal(80, 2, 400)])
    h = assess(80.0, _summary(values))
    codes = [f["code"] for f in h["flags"]]
    assert "multimodal" in codes and "2 separate clusters" in h["flags"][codes.index("multimodal")]["message"]


def test_a_split_between_labelled_outcomes_is_flagged():
    # unimodal, but straddling the boundary between "none" (< 25) and "half" (>= 25)
    values = np.random.default_rng(4).normal(25, 4, 2000)
    h = assess(25.0, _summary(values))
    assert [f["code"] for f in h["flags"]] == ["split"]
    assert "P(" in h["note"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=5, max_size=300), st.floats(0, 100))
def test_the_headline_never_contradicts_its_interval(values, point):
    s = _summary(values)
    h = assess(point, s)
    assert s["quantiles"]["10"] - 1e-9 <= h["value"] <= s["quantiles"]["90"] + 1e-9
    assert h["unstable"] == bool(h["flags"])
    # the run at the modes outside the interval is always flagged
    if point < s["quantiles"]["10"] or point > s["quantiles"]["90"]:
        assert "modes-outside" in [f["code"] for f in h["flags"]]


def _arena(positions, width, saliences):
    actors, stances = [], []
    for k, ((p, c), s) in enumerate(zip(positions, saliences)):
        actors.append({"id": f"a{k}", "names": {"en": f"A{k}"}, "kind": "party", "capability": c})
        stances.append({"actor": f"a{k}", "issue": "x",
                        "position": {"low": max(0, p - width), "mode": p, "high": min(100, p + width)},
                        "salience": {"low": max(0, s - 20), "mode": s, "high": min(100, s + 20)},
                        "evidence": [{"source": "memo", "locator": "¶1"}]})
    doc = {"format": "tawazun-arena/1",
           "arena": {"id": "t", "title": "T", "as_of": "2021-07-31", "salience_scale": "percent"},
           "sources": [{"id": "memo", "title": "m", "language": "en", "locator": "paragraph"}],
           "actors": actors,
           "issues": [{"id": "x", "title": "X", "status_quo": 50, "scale": {
               "min": 0, "max": 100, "anchors": [{"value": v, "label": lab} for v, lab in ANCHORS]}}],
           "stances": stances}
    return yaml.safe_dump(doc)


# Two strong, opposed blocs with a weak centre: BDM's rounds tip one way or the other.
UNSTABLE = _arena([(0, 3), (5, 1), (95, 3), (100, 1), (50, 1)], 5, [90, 40, 90, 40, 60])
# Close positions, narrow ranges: BDM converges near the middle in every draw.
STABLE = _arena([(40, 3), (45, 2), (50, 2), (55, 1)], 3, [80, 70, 60, 50])


@pytest.mark.parametrize("text, unstable", [(UNSTABLE, True), (STABLE, False)])
def test_bdm_stable_and_unstable_cases(text, unstable):
    run = execute(parse_arena_text(text, "t.yaml"), ForecastConfig(engines=("bdm",), draws=300, sobol_n=0))
    (row,) = issue_rows(run, "x")
    assert row.headline["unstable"] is unstable
    doc = to_json(run)
    head = doc["results"][0]["headline"][0]
    assert head["unstable"] is unstable and head["rule"] == RULE_DRAWS
    assert head["value"] == row.distribution["quantiles"]["50"]
    if unstable:
        assert head["flags"] and head["note"] == head["flags"][0]["message"]


def test_the_cli_prints_one_line_per_unstable_result(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(UNSTABLE, encoding="utf-8")
    res = CliRunner().invoke(app, ["forecast", str(path), "-e", "compromise,bdm", "--draws", "300",
                                   "--sobol-n", "0", "--json", "-", "--out", str(tmp_path / "r")])
    assert res.exit_code == 0, res.output
    flagged = [line for line in res.stderr.splitlines() if line.startswith("⚠ ") and "is unstable here:" in line]
    doc = json.loads(res.stdout)
    unstable = [r["engine"] for r in doc["results"] if r["headline"][0]["unstable"]]
    assert "bdm" in unstable
    assert len(flagged) == len(unstable)
    html = (tmp_path / "r" / "report.html").read_text(encoding="utf-8")
    assert "Unstable results" in html and "⚠" in html
