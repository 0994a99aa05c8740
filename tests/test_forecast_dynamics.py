"""The dynamics coupled to the bargaining draws (forecast.add_dynamics), --scenario, renderers."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
from typer.testing import CliRunner

from tawazun.arena import load_arena
from tawazun.cli.main import app
from tawazun.forecast import ForecastConfig, add_distributions, add_dynamics, execute, to_json
from tawazun.dynamics.simulate import scenario_covariates, section_of, simulate
from tawazun.forecast import consistent_futures, future_variants

FAST = dict(engines=("compromise",), draws=24, sensitivity=False, scenarios=False, seed=3)


@pytest.fixture(scope="module")
def arena():
    return load_arena(None)


@pytest.fixture(scope="module")
def run(arena):
    return execute(arena, ForecastConfig(**FAST))


def test_a_paths_covariate_is_that_draws_forecast(run, arena):
    from tawazun.dynamics import balance
    from tawazun.random import generator

    dyn = run.dynamics
    assert dyn.engine == "compromise" and dyn.coupled["armed-factions"] == "armed-factions"
    ur = next(u for u in run.results if u.unit == "armed-factions")
    # recompile the section as add_dynamics did: the covariate column is the draws' forecasts
    covs = {c: next(u for u in run.results if u.unit == i).samples[:, 0] for c, i in dyn.coupled.items()}
    comp = balance.compile_section(section_of(arena), 24, generator(3, "dynamics"), covs)
    j = comp.cov_ids.index("armed-factions")
    np.testing.assert_array_equal(comp.cov[:, j], ur.samples[:, 0])
    # and the run's result is exactly simulate() with those covariates
    direct = simulate(arena, paths=24, seed=3, covariates=covs)
    np.testing.assert_array_equal(direct.regimes["collapse"], dyn.result.regimes["collapse"])
    np.testing.assert_array_equal(direct.series["balance"]["mean"], dyn.result.series["balance"]["mean"])


def test_dynamics_change_with_the_bargaining_inputs_only(run, arena):
    same = execute(arena, ForecastConfig(**FAST))
    assert to_json(same)["dynamics"] == to_json(run)["dynamics"]
    # other bargaining draws (another dist) -> other covariates -> other dynamics, same stream
    other = execute(arena, ForecastConfig(**{**FAST, "dist": "pert"}))
    assert to_json(other)["dynamics"]["series"]["balance"] != to_json(run)["dynamics"]["series"]["balance"]


def test_chunking_does_not_change_the_dynamics(run, arena, monkeypatch):
    from tawazun.uncertainty import ensemble

    again = execute(arena, ForecastConfig(**{**FAST, "draws": 24}))
    monkeypatch.setattr(ensemble, "default_chunk_size", lambda problem: 5)  # 5 chunks instead of 1
    again.dynamics = None
    add_distributions(again)
    add_dynamics(again)
    assert to_json(again)["dynamics"] == to_json(run)["dynamics"]


def test_json_block_has_the_simulate_shape(run):
    block = to_json(run)["dynamics"]
    assert len(block["steps"]) == 12 and block["steps"][0] == "2021-08-31"
    for s in block["series"].values():
        assert len(s["mean"]) == 12 and set(s["quantiles"]) == {"0.1", "0.5", "0.9"}
    assert set(block["regimes"]) == {"collapse", "fragile-security"}
    p = np.array(block["regimes"]["collapse"]["probability_by_step"])
    assert np.all(np.diff(p) >= 0)  # absorbing
    np.testing.assert_allclose(p + block["regimes"]["fragile-security"]["probability_by_step"], 1.0)
    json.dumps(block, allow_nan=False)


def test_managed_balance_gives_lower_collapse_than_eroding(arena):
    section = section_of(arena)
    futures = consistent_futures(arena)
    p = {}
    for ident in ("1", "3"):
        _, variants = future_variants(arena.scenarios, ident, futures)
        cv = scenario_covariates(section, variants, 200)
        p[variants["armed-balance"]] = simulate(arena, paths=200, seed=0, covariates=cv).regimes["collapse"][-1]
    assert p["managed"] < p["eroding"]


def test_scenario_ids(arena):
    futures = consistent_futures(arena)
    k, v = future_variants(arena.scenarios, "3", futures)
    assert k == 3
    assert future_variants(arena.scenarios, ",".join(v.values()), futures) == (3, v)
    assert future_variants(arena.scenarios, ",".join(f"{d}={x}" for d, x in v.items()), futures)[0] == 3
    from tawazun.errors import InputError
    with pytest.raises(InputError, match="no consistent scenario #99"):
        future_variants(arena.scenarios, "99", futures)


def test_simulate_cli_scenario_and_errors():
    r = CliRunner().invoke(app, ["simulate", "--paths", "20", "--horizon", "2", "--scenario", "3", "--json", "-"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout[r.stdout.index("{"):])
    assert doc["scenario"]["index"] == 3 and doc["scenario"]["variants"]["armed-balance"] == "managed"
    bad = CliRunner().invoke(app, ["simulate", "--paths", "5", "--scenario", "nope"])
    assert bad.exit_code == 2 and "--scenario:" in bad.output


def test_unknown_descriptor_or_variant_is_one_line(tmp_path):
    from tawazun.arena.load import parse_arena_text
    from tawazun.errors import InputError
    from tawazun.arena import resolve

    text = resolve(None).read_text(encoding="utf-8")
    bad = text.replace("scenario: {descriptor: armed-balance, values: {managed: 35, eroding: 15}}",
                       "scenario: {descriptor: armed-balance, values: {managed: 35, erodng: 15}}")
    with pytest.raises(InputError) as exc:
        parse_arena_text(bad, "x.yaml")
    assert any("unknown variant 'erodng'" in line and line.startswith("x.yaml:") for line in exc.value.lines)
    bad = text.replace("descriptor: armed-balance", "descriptor: armed-balanc")
    with pytest.raises(InputError, match="unknown descriptor 'armed-balanc'"):
        parse_arena_text(bad, "x.yaml")


def test_renderers_show_the_charts(run):
    from tawazun.report.html import render
    from tawazun.web.figures import dynamics_html

    page = render(run, plotly="url")
    for div in ("dyn-fan-attacks", "dyn-fan-balance", "dyn-regimes"):
        assert f'id="{div}"' in page
        assert f'id="{div}"' in dynamics_html(to_json(run))


def test_futures_table(arena):
    run = execute(arena, ForecastConfig(**{**FAST, "draws": 8, "dynamics_futures": True, "horizon": 3}))
    futures = to_json(run)["dynamics"]["futures"]
    assert [f["index"] for f in futures] == list(range(1, len(futures) + 1))
    from tawazun.report.html import render
    assert "id='dyn-futures'" in render(run, plotly="url")


def test_hawkes_branching_is_checked_and_gives_excitation():
    from tawazun.dynamics import balance
    from tawazun.dynamics.model import check, parse

    def section(**proc):
        return parse({"processes": [{"id": "a", "kind": "hawkes", "baseline": 1.0, "decay": 2.0,
                                     "evidence": [{"source": "s"}], **proc}]})

    assert check(section(branching={"low": 0.2, "mode": 0.5, "high": 0.9}), {"s"}) == []
    msgs = [m for _, m in check(section(branching={"low": 0.2, "mode": 0.5, "high": 1.0}), {"s"})]
    assert any("branching ratio can reach 1" in m for m in msgs)
    msgs = [m for _, m in check(section(branching=0.5, excitation=0.5), {"s"})]
    assert msgs == ["a hawkes process needs exactly one of excitation / branching"]
    comp = balance.compile_section(section(branching=0.5), 4, np.random.default_rng(0))
    np.testing.assert_allclose(comp.proc[0]["alpha"], 0.5 * comp.proc[0]["decay"])


def test_scenario_without_dynamics_is_an_error(arena):
    from tawazun.errors import InputError

    with pytest.raises(InputError, match="^scenario:"):
        execute(arena, ForecastConfig(**{**FAST, "draws": 0, "dynamics": False, "scenario": "1"}))


def test_web_run_page_shows_the_dynamics_charts(tmp_path, monkeypatch, run):
    # the run page renders the stored result's dynamics block with the report's figures
    from fastapi.testclient import TestClient

    from tawazun.web.app import create_app

    monkeypatch.chdir(tmp_path)
    app = create_app(tmp_path / "ws")
    store = app.state.store
    run_id = store.create("iraq-2021", ["compromise"], 24, 3, "0" * 64, "")
    store.update(run_id, status="done", result=to_json(run), manifest={})
    with TestClient(app) as client:
        page = client.get(f"/runs/{run_id}").text
    for div in ("dyn-fan-attacks", "dyn-regimes"):
        assert f'id="{div}"' in page
