"""The analyst's loop on the dynamics section: what-if paired paths, questions on series and
regimes (tawazun.loop.whatif.compare_dynamics, tawazun.loop.questions.dynamics_forecast)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tawazun.arena.load import parse_arena_text
from tawazun.cli.main import app
from tawazun.errors import InputError
from tawazun.forecast import ForecastConfig, execute
from tawazun.loop.whatif import apply_changes, parse_set, whatif

from conftest import TINY_ARENA

runner = CliRunner()
EV = '[{source: memo, locator: "¶9"}]'

# Two issues: x (0-10) feeds covariate cx -> state sx (-> regime low-x); y (0-100) feeds
# covariate cy -> process ev (hawkes) -> state sy. Descriptor d maps cx; descriptor e maps
# nothing. Nothing in the sy/ev chain depends on x, cx or d: a pin of d, or a change of a
# stance on x, must leave sy and ev exactly unchanged on every path.
DYN = (TINY_ARENA + f"""\
  - {{actor: a, issue: y, position: 10, salience: 40, evidence: {EV}}}
  - {{actor: b, issue: y, position: {{low: 60, mode: 70, high: 90}}, salience: 60, evidence: {EV}}}
scenarios:
  descriptors:
    - id: d
      names: {{en: D}}
      variants: [{{id: lo, label: Low}}, {{id: hi, label: High}}]
    - id: e
      names: {{en: E}}
      variants: [{{id: p, label: P}}, {{id: q, label: Q}}]
  judgments:
    - {{source: d.lo, target: e.p, value: 1, rationale: r, evidence: {EV}}}
    - {{source: d.hi, target: e.q, value: 1, rationale: r, evidence: {EV}}}
dynamics:
  step: month
  horizon: 6
  covariates:
    - {{id: cx, issue: x, value: 5, scenario: {{descriptor: d, values: {{lo: 0, hi: 10}}}}, evidence: {EV}}}
    - {{id: cy, issue: y, value: 50, evidence: {EV}}}
  states:
    - {{id: sx, initial: 0.5, persistence: 0.5, noise: 0.05, evidence: {EV}}}
    - {{id: sy, initial: 0.5, persistence: 0.5, noise: 0.05, evidence: {EV}}}
  processes:
    - {{id: ev, kind: hawkes, baseline: 1, branching: 0.5, decay: 1, evidence: {EV}}}
  couplings:
    - {{from: cx, to: sx, weight: 0.04, reference: 5, evidence: {EV}}}
    - {{from: cy, to: ev, weight: 0.01, reference: 50, evidence: {EV}}}
    - {{from: ev, to: sy, weight: -0.01, reference: 1, evidence: {EV}}}
  regimes:
    - {{id: low-x, state: sx, below: 0.4, for: 2, evidence: {EV}}}
    - {{id: normal, otherwise: true, evidence: {EV}}}
""").replace("""    status_quo: 5
""", """    status_quo: 5
  - id: y
    title: Issue Y
    scale: {min: 0, max: 100, anchors: [{value: 0, label: low}, {value: 50, label: mid}, {value: 100, label: high}]}
    status_quo: 50
""")


@pytest.fixture(scope="module")
def arena():
    return parse_arena_text(DYN, "dyn.yaml")


def cfg(**kw):
    return ForecastConfig(**{"engines": ("compromise", "median"), "draws": 200, "seed": 7, **kw})


def _rows(doc, series):
    return [r for r in doc["dynamics"]["series"] if r["series"] == series]


# ------------------------------------------------------------------ what-if on the dynamics
def test_noop_change_gives_zero_dynamics_delta_on_every_path(arena):
    var, ch = apply_changes(DYN, "dyn.yaml", [parse_set("a.x.position=2")])  # the value in the file
    doc = whatif(arena, var, ch, cfg())
    dyn = doc["dynamics"]
    assert dyn["paths"] == 200 and dyn["engine"] == "compromise" and len(dyn["steps"]) == 6
    assert {r["series"] for r in dyn["series"]} == {"sx", "sy", "ev"}
    for r in dyn["series"]:
        assert (r["mean"], r["q10"], r["q90"], r["moved"]) == (0.0, 0.0, 0.0, False)
    assert [r["delta"] for r in dyn["regimes"]] == [0.0, 0.0]
    json.dumps(doc, allow_nan=False)


def test_pin_moves_downstream_series_only(arena):
    var, _ = apply_changes(DYN, "dyn.yaml", [])
    doc = whatif(arena, var, [], cfg(), [("d", "lo")])
    dyn = doc["dynamics"]
    assert dyn["pinned"] == {"cx": 0.0}
    # cx = 0 instead of the compromise forecast of x: sx falls
    # by 0.04 * (forecast - 0) per step (times the persistence sum), on every path
    for r in _rows(doc, "sx"):
        assert r["moved"] and r["q90"] < 0
    for name in ("sy", "ev"):
        for r in _rows(doc, name):
            assert (r["mean"], r["q10"], r["q90"], r["moved"]) == (0.0, 0.0, 0.0, False)
    reg = {r["regime"]: r for r in dyn["regimes"]}
    assert reg["low-x"]["delta"] > 0 and reg["normal"]["delta"] == pytest.approx(-reg["low-x"]["delta"])
    # the bargaining deltas are untouched by a pin (it acts on the dynamics only)
    assert all(d["mean"] == 0 for d in doc["delta"])


def test_pin_of_an_unmapped_descriptor_changes_nothing(arena):
    var, _ = apply_changes(DYN, "dyn.yaml", [])
    doc = whatif(arena, var, [], cfg(), [("e", "q")])
    assert doc["dynamics"]["pinned"] == {}
    assert all(r["moved"] is False for r in doc["dynamics"]["series"])


def test_set_reaches_the_dynamics_through_the_coupled_forecast(arena):
    # a's position on x from 2 to 8: the compromise forecast of x rises in every draw
    var, ch = apply_changes(DYN, "dyn.yaml", [parse_set("a.x.position=8")])
    doc = whatif(arena, var, ch, cfg())
    dx = next(d for d in doc["delta"] if d["issue"] == "x" and d["engine"] == "compromise")
    assert dx["q10"] > 0
    first = _rows(doc, "sx")[0]
    # step 1 of sx: 0.04 * (cx_variant - cx_baseline), the noise and the initial value cancel
    # path by path (same dynamics stream); the paired mean is 0.04 times the mean draw delta
    assert first["mean"] == pytest.approx(0.04 * dx["mean"], rel=1e-9)
    for r in _rows(doc, "sy") + _rows(doc, "ev"):
        assert r["moved"] is False


def test_no_dynamics_flag_and_arena_without_a_section():
    from conftest import TINY_ARENA as plain

    a = parse_arena_text(plain, "t.yaml")
    var, ch = apply_changes(plain, "t.yaml", [parse_set("a.x.position=3")])
    assert "dynamics" not in whatif(a, var, ch, cfg())
    b = parse_arena_text(DYN, "dyn.yaml")
    var, ch = apply_changes(DYN, "dyn.yaml", [parse_set("a.x.position=3")])
    assert "dynamics" not in whatif(b, var, ch, cfg(), dynamics=False)


def test_whatif_cli_dynamics_table_json_and_unknown_descriptor(tmp_path):
    path = tmp_path / "dyn.yaml"
    path.write_text(DYN, encoding="utf-8")
    out = tmp_path / "w.json"
    res = runner.invoke(app, ["whatif", str(path), "--fix", "d=hi", "--engine", "compromise", "--draws", "50",
                              "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "Dynamics at 2022-01-31" in res.output and "Regimes at" in res.output
    doc = json.loads(out.read_text())
    assert set(doc["dynamics"]) >= {"series", "regimes"}
    assert set(doc["dynamics"]["series"][0]) >= {"series", "step", "mean", "q10", "q90"}
    assert set(doc["dynamics"]["regimes"][0]) >= {"regime", "baseline", "variant", "delta"}
    bad = runner.invoke(app, ["whatif", str(path), "--fix", "zz=hi", "--draws", "20"])
    assert bad.exit_code == 2
    lines = [ln for ln in bad.output.strip().splitlines() if ln.strip()]
    assert len(lines) == 1 and "unknown descriptor 'zz'" in lines[0], bad.output


# ------------------------------------------------------------------ questions on the dynamics
# z is deterministic: equilibrium 0, persistence 0.5, no noise, from 0.5: 0.25, 0.125, 0.0625,
# ... at the steps 2021-08-31, 09-30, 10-31, ...; regime z-low (z < 0.2 for 2 steps) first
# holds at 10-31 (z = 0.125 on 09-30 is the first step below, 0.0625 on 10-31 the second).
Q = "{en: \"?\"}"
DYNQ = DYN.replace("  processes:\n", f"""\
    - {{id: z, initial: 0.5, equilibrium: 0, persistence: 0.5, noise: 0, evidence: {EV}}}
  processes:
""").replace("    - {id: normal, otherwise: true", f"""\
    - {{id: z-low, state: z, below: 0.2, for: 2, evidence: {EV}}}
    - {{id: normal, otherwise: true""") + f"""\
questions:
  - {{id: zlow-sep, text: {Q}, kind: binary, resolves_on: 2021-10-15, rule: {{regime: z-low}}, resolution: {{source: memo}}}}
  - {{id: zlow-oct, text: {Q}, kind: binary, resolves_on: 2021-10-31, rule: {{regime: z-low}}, resolution: {{source: memo}}}}
  - {{id: z-above-step, text: {Q}, kind: binary, resolves_on: 2021-10-31, rule: {{series: z, above: 0.2}}, resolution: {{source: memo}}}}
  - {{id: z-above-ever, text: {Q}, kind: binary, resolves_on: 2021-10-31, rule: {{series: z, above: 0.2, by: ever}}, resolution: {{source: memo}}}}
  - {{id: z-level, text: {Q}, kind: numeric, resolves_on: 2021-11-02, rule: {{series: z}}, resolution: {{source: memo}}}}
  - {{id: sx-low-ever, text: {Q}, kind: binary, resolves_on: 2021-12-31, rule: {{regime: low-x, by: ever}}, resolution: {{source: memo}}}}
  - {{id: sy-below, text: {Q}, kind: binary, resolves_on: 2021-12-31, rule: {{series: sy, below: 0.5}}, resolution: {{source: memo}}}}
  - {{id: too-late, text: {Q}, kind: binary, resolves_on: 2022-02-01, rule: {{regime: z-low}}, resolution: {{source: memo}}}}
  - {{id: too-early, text: {Q}, kind: binary, resolves_on: 2021-08-30, rule: {{regime: z-low}}, resolution: {{source: memo}}}}
"""


@pytest.fixture(scope="module")
def qrun():
    return execute(parse_arena_text(DYNQ, "dynq.yaml"),
                   ForecastConfig(engines=("median", "compromise"), draws=120, seed=2, sensitivity=False,
                                  scenarios=False))


def test_dynamics_questions_hand_values(qrun):
    qs = {q["id"]: q for q in qrun.questions}

    def only(qid):
        (f,) = qs[qid]["forecasts"]
        assert f["engine"] == "compromise" and f["draws"] == 120  # the coupled engine, one path per draw
        return f

    # 2021-10-15 reads the step of 09-30: z = 0.125, below 0.2 for one step only
    assert only("zlow-sep")["probability"] == 0.0 and only("zlow-sep")["step"] == "2021-09-30"
    assert only("zlow-oct")["probability"] == 1.0
    # z = 0.0625 on 10-31 (not above 0.2), but 0.25 on 08-31: ever above by then
    assert only("z-above-step")["probability"] == 0.0 and only("z-above-step")["by"] == "step"
    assert only("z-above-ever")["probability"] == 1.0
    f = only("z-level")  # 11-02 reads 10-31
    assert f["step"] == "2021-10-31" and set(f["quantiles"].values()) == {0.0625} and f["mean"] == 0.0625
    assert f["sample"] == [0.0625] * 120
    assert "from the run's dynamics paths" in qs["zlow-oct"]["note"]
    for qid, word in (("too-late", "past the dynamics horizon (last step 2022-01-31)"),
                      ("too-early", "before the first dynamics step")):
        assert qs[qid]["forecasts"] == [] and word in qs[qid]["note"]


def test_dynamics_questions_are_shares_of_the_paths(qrun):
    qs = {q["id"]: q for q in qrun.questions}
    raw = qrun.dynamics.result.raw
    ever = raw["low-x"][:, :5].any(axis=1).mean()  # 2021-12-31 is step 5 of 6
    assert qs["sx-low-ever"]["forecasts"][0]["probability"] == ever
    assert qs["sy-below"]["forecasts"][0]["probability"] == (raw["sy"][:, 4] < 0.5).mean()
    assert 0 < (raw["sy"][:, 4] < 0.5).mean() < 1  # a case that is not trivially 0 or 1


def test_dynamics_questions_without_dynamics_get_a_note():
    run = execute(parse_arena_text(DYNQ, "dynq.yaml"),
                  ForecastConfig(engines=("compromise",), draws=20, sensitivity=False, scenarios=False,
                                 dynamics=False))
    q = next(q for q in run.questions if q["id"] == "zlow-oct")
    assert q["forecasts"] == [] and "no dynamics" in q["note"]


@pytest.mark.parametrize("rule, kind, message", [
    ("{regime: z-low}", "numeric", "a regime question is binary"),
    ("{series: z}", "binary", "a binary series question needs above or below"),
    ("{series: z}", "categorical", "a series question is binary (above/below) or numeric"),
    ("{issue: x, above: 3, by: ever}", "binary", "by applies to a series or regime rule"),
    ("{series: z, by: ever}", "numeric", "by: ever applies to binary questions"),
])
def test_dynamics_question_rule_errors(rule, kind, message):
    text = DYNQ + f"  - {{id: bad, text: {Q}, kind: {kind}, resolves_on: 2021-10-01, rule: {rule}}}\n"
    with pytest.raises(InputError) as exc:
        parse_arena_text(text, "dynq.yaml")
    assert message in exc.value.lines[0] and exc.value.lines[0].startswith("dynq.yaml:")


# ------------------------------------------------------------------ reference forecasts
def test_uniform_baseline_of_descriptor_questions_and_none_for_dynamics():
    from tawazun.loop.scoring import Outcome, score_baseline

    text = DYNQ + f"""\
  - {{id: d-lo, text: {Q}, kind: binary, resolves_on: 2021-10-01, rule: {{descriptor: d, variant: lo}}, resolution: {{source: memo}}}}
  - {{id: d-which, text: {Q}, kind: categorical, resolves_on: 2021-10-01, rule: {{descriptor: d}}, resolution: {{source: memo}}}}
"""
    arena = parse_arena_text(text, "dynq.yaml")

    def score(qid, kind, value):
        return score_baseline({"id": qid, "kind": kind}, Outcome(question=qid, value=value, source="s"), arena, 100)

    # two variants: p = 1/2 -> Brier 0.25, log ln 2; categorical: (1/2)^2 * 2 = 0.5, log ln 2
    b = score("d-lo", "binary", "no")
    assert (b["engine"], b["forecast"], b["brier"]) == ("uniform", 0.5, 0.25)
    assert b["log"] == pytest.approx(np.log(2))
    c = score("d-which", "categorical", "hi")
    assert (c["forecast"], c["brier"]) == ({"lo": 0.5, "hi": 0.5}, 0.5) and c["log"] == pytest.approx(np.log(2))
    # a regime question has no baseline
    assert score("zlow-oct", "binary", "yes") is None


def test_web_whatif_returns_the_paired_dynamics(tmp_path):
    from fastapi.testclient import TestClient

    from tawazun.web.app import create_app

    ws = tmp_path / "ws"
    client = TestClient(create_app(ws))
    (ws / "arenas" / "dyn.yaml").write_text(DYN, encoding="utf-8")
    r = client.post("/api/arenas/dyn/whatif", json={"fix": ["d=lo"], "engines": "compromise", "draws": 40})
    assert r.status_code == 200 and "dynamics" not in r.json()  # off unless asked
    r = client.post("/api/arenas/dyn/whatif", json={"fix": ["d=lo"], "engines": "compromise", "draws": 40,
                                                   "dynamics": True})
    assert r.status_code == 200, r.text
    reg = {g["regime"]: g for g in r.json()["dynamics"]["regimes"]}
    assert reg["low-x"]["delta"] > 0 and r.json()["dynamics"]["paths"] == 40
    page = client.get("/arenas/dyn").text
    assert 'name="dynamics" type="checkbox"' in page


def test_forecast_cli_prints_dynamics_questions(tmp_path):
    path = tmp_path / "dynq.yaml"
    path.write_text(DYNQ, encoding="utf-8")
    res = runner.invoke(app, ["forecast", str(path), "-e", "compromise", "--draws", "30", "--sobol-n", "0",
                              "--no-report", "-o", str(tmp_path / "run")], env={"COLUMNS": "240"})
    assert res.exit_code == 0, res.output
    assert "p = 1.00 · dynamics at 2021-10-31" in res.output
    assert "p = 1.00 · dynamics by 2021-10-31" in res.output
    assert "past the dynamics horizon" in res.output  # too-late: its note instead of a forecast
    doc = json.loads((tmp_path / "run" / "result.json").read_text())
    q = next(x for x in doc["questions"] if x["id"] == "z-level")
    assert q["forecasts"][0]["engine"] == "compromise" and q["forecasts"][0]["quantiles"]["50"] == 0.0625
