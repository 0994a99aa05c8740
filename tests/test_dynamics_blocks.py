"""Block-seeded dynamics paths (tawazun.dynamics.simulate.BLOCK): a path's numbers depend on
its block only, so a longer run extends a shorter one, and workers give the same numbers."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tawazun.arena import load_arena
from tawazun.cli.main import app
from tawazun.dynamics import balance
from tawazun.dynamics.simulate import BLOCK, blocks, section_of, simulate, simulate_block, simulate_section
from tawazun.random import generator

FIXTURE = Path(__file__).parent / "fixtures" / "dynamics" / "balance.yaml"
runner = CliRunner()


@pytest.fixture(scope="module")
def section():
    return section_of(load_arena(FIXTURE))


def _equal(a: dict, b: dict, rows: slice = slice(None)) -> None:
    assert set(a) == set(b) == {"states", "processes", "regimes", "clamped"}
    for key in a:
        np.testing.assert_array_equal(a[key][rows], b[key], err_msg=key)


def test_blocks_plan():
    assert BLOCK == 1000
    assert blocks(1) == [(0, 1)]
    assert blocks(1000) == [(0, 1000)]
    assert blocks(2500) == [(0, 1000), (1000, 1000), (2000, 500)]


def test_block_zero_is_the_unblocked_stream(section):
    # what simulate_section did before blocks: one generator on ("dynamics",) for every path
    rng = generator(5, "dynamics")
    legacy = balance.run_system(balance.compile_section(section, 700, rng), 4, rng)
    _equal(simulate_section(section, 700, 4, 5), legacy)


@pytest.mark.parametrize("seed,paths", [(0, 2500), (7, 1001), (123, 3000)])
def test_first_block_of_a_longer_run_is_the_shorter_run(section, seed, paths):
    # per-path covariates (distinct per path) check that each block gets its own slice
    cov = {"presence": np.linspace(60.0, 90.0, paths)}
    long = simulate_section(section, paths, 3, seed, cov)
    short = simulate_section(section, BLOCK, 3, seed, {k: v[:BLOCK] for k, v in cov.items()})
    _equal(long, short, slice(0, BLOCK))
    assert long["states"].shape[0] == paths
    # and the last block is its own stream, keyed by its index
    s, c = blocks(paths)[-1]
    last = simulate_block(section, s, c, 3, seed, {k: v[s:] for k, v in cov.items()})
    _equal(long, last, slice(s, None))


def test_covariates_are_sliced_per_block(section):
    ids = [c.id for c in section.covariates]
    assert ids, "the fixture needs a covariate"
    values = np.r_[np.zeros(BLOCK), np.ones(500)]
    comp_rows = []
    orig = balance.compile_section

    def spy(sec, paths, rng, covariates=None):
        comp = orig(sec, paths, rng, covariates)
        comp_rows.append(comp.cov[:, 0].copy())
        return comp

    import tawazun.dynamics.simulate as sim

    sim.compile_section = spy
    try:
        simulate_section(section, 1500, 2, 0, {ids[0]: values})
    finally:
        sim.compile_section = orig
    assert [len(r) for r in comp_rows] == [1000, 500]
    assert np.all(comp_rows[0] == 0.0) and np.all(comp_rows[1] == 1.0)


def test_progress_counts_paths_by_block(section):
    seen = []
    res = simulate(load_arena(FIXTURE), paths=2100, horizon=2, progress=lambda d, t: seen.append((d, t)))
    assert seen == [(1000, 2100), (2000, 2100), (2100, 2100)]
    assert res.raw["balance"].shape == (2100, 2) and res.paths == 2100


def test_bad_workers_is_an_input_error(section):
    from tawazun.errors import InputError

    with pytest.raises(InputError, match="^workers: must be at least 1, got 0$"):
        simulate_section(section, 10, 2, 0, workers=0)


def _run(*args: str):
    return runner.invoke(app, list(args), catch_exceptions=False)


@pytest.mark.parametrize("args,needle", [
    (["--workers", "0"], "--workers: must be at least 1, got 0"),
    (["--workers", "-2"], "--workers: must be at least 1, got -2"),
    (["--paths", "0"], "--paths: must be at least 1, got 0"),
    (["--horizon", "0"], "--horizon: must be at least 1, got 0"),
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "--workers and --scheduler: give one or the other"),
    (["--scheduler", "not-an-address"], "--scheduler: 'not-an-address' is not a scheduler address"),
])
def test_simulate_bad_values_one_line_exit_2(tmp_path, args, needle):
    out = tmp_path / "never.json"
    res = _run("simulate", str(FIXTURE), "--paths", "20", "--horizon", "2", *args, "--json", str(out))
    assert res.exit_code == 2, res.output
    assert res.stderr.strip() == res.stderr.strip().splitlines()[0] and needle in res.stderr
    assert "Traceback" not in res.output and not out.exists()


@pytest.mark.timeout(30)
def test_simulate_unreachable_scheduler_one_line(tmp_path):
    out = tmp_path / "never.json"
    res = _run("simulate", str(FIXTURE), "--paths", "20", "--horizon", "2", "--scheduler", "tcp://127.0.0.1:1",
               "--json", str(out))
    assert res.exit_code == 2 and "cannot reach tcp://127.0.0.1:1" in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and not out.exists()


def test_forecast_rejects_workers_and_scheduler_together(tiny_arena_path, tmp_path):
    res = _run("forecast", str(tiny_arena_path), "--workers", "2", "--scheduler", "tcp://127.0.0.1:8786",
               "--out", str(tmp_path / "never"))
    assert res.exit_code == 2 and "--workers and --scheduler: give one or the other" in res.stderr
    assert not (tmp_path / "never").exists()


# Starting two worker processes takes 5-10 s on an idle 2-core machine (as in
# tests/test_uncertainty_dask.py); one cluster serves the simulate and forecast checks.
@pytest.mark.timeout(120)
def test_two_workers_equal_one_process():
    import dataclasses

    from tawazun.forecast import ForecastConfig, add_distributions, add_dynamics, dynamics_json, run_forecast
    from tawazun.uncertainty.distributed import ensemble_cluster

    arena = load_arena(None)
    ref = simulate(arena, paths=2500, horizon=6, seed=4)
    config = ForecastConfig(engines=("compromise",), draws=40, sensitivity=False, scenarios=False,
                            dynamics_paths=1200, horizon=2, seed=4, dynamics_futures=False)
    run = run_forecast(arena, config)
    add_distributions(run)
    add_dynamics(run)
    local = dynamics_json(run.dynamics)
    seen = []
    with ensemble_cluster(workers=2) as client:
        assert len(client.scheduler_info()["workers"]) == 2
        got = simulate(arena, paths=2500, horizon=6, seed=4, scheduler=client,
                       progress=lambda d, t: seen.append(d))
        run.config = dataclasses.replace(config, scheduler=client)  # add_dynamics uses the open client
        add_dynamics(run)
    assert sorted(seen) == seen and seen[-1] == 2500 and len(seen) == 3
    for name in ref.raw:
        np.testing.assert_array_equal(got.raw[name], ref.raw[name], err_msg=name)
    assert dynamics_json(run.dynamics) == local


@pytest.mark.timeout(120)
def test_cli_two_workers_same_json(tmp_path):
    docs = []
    for w in ("1", "2"):
        target = tmp_path / f"w{w}.json"
        res = _run("simulate", str(FIXTURE), "--paths", "1500", "--horizon", "3", "--seed", "9",
                   "--workers", w, "--json", str(target))
        assert res.exit_code == 0, res.output
        docs.append(target.read_bytes())
    assert docs[0] == docs[1]
    assert json.loads(docs[0])["paths"] == 1500
