"""The protest emulator: a table of the civil-violence world's step output, drawn from instead of
running the worlds. Checked against fresh kernel worlds (other seeds than the table's)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tawazun.arena.load import load_arena
from tawazun.dynamics import emulator as em
from tawazun.dynamics import protest as pr
from tawazun.dynamics.balance import protest_params
from tawazun.dynamics.model import parse
from tawazun.dynamics.simulate import section_of, simulate

SMALL = pr.ProtestParams(width=10, height=10, vision=2, cop_density=0.06, j_max=10)


def _kernel_step_shares(params, legit_prev, legit, ticks, worlds, burn_in, seed):
    """Fresh kernel worlds: ``burn_in`` ticks at ``legit_prev``, then one step at ``legit``."""
    rng = np.random.default_rng(seed)
    w = pr.init_world(params, worlds, rng)
    pr.advance(w, legit_prev, burn_in, rng)
    a, _ = pr.advance(w, legit, ticks, rng)
    return a.mean(axis=1) / params.n_citizens


def _cell_draws(table, i, j, n, seed):
    u = np.random.default_rng(seed).random(n)
    return np.interp(u, table.levels, table.q[i, j])


def test_zero_line_is_exact_and_analytic():
    assert em.zero_above(pr.ProtestParams()) == pytest.approx(0.9)
    assert em.zero_above(pr.ProtestParams(hardship_high=0.5)) == pytest.approx(0.8)
    # at the zero line no citizen can be active, whatever happened before: the kernel agrees
    shares = _kernel_step_shares(SMALL, 0.5, 0.9, 3, 30, 10, 1)
    assert np.all(shares == 0.0)
    t = em.build_table(SMALL, 3, worlds=20, burn_in=5, rows=[85])
    i = int(round(0.9 / em.STEP))
    assert np.all(t.q[i:] == 0.0)
    # a row feeds the cells L = row + dL below the line and nothing else
    fed = [85 + int(round(d / em.STEP)) for d in em.DELTAS]
    for i in range(t.q.shape[0]):
        for j in range(t.q.shape[1]):
            if t.legit[i] < 0.9 and i != fed[j]:
                assert np.isnan(t.q[i, j, 0])


def test_cells_are_seeded_per_row():
    a = em.build_table(SMALL, 2, worlds=30, burn_in=5, rows=[70])
    b = em.build_table(SMALL, 2, worlds=30, burn_in=5, rows=[70, 40])
    c = em.build_table(SMALL, 2, worlds=30, burn_in=5, rows=[70], seed=1)
    ok = ~np.isnan(a.q)
    np.testing.assert_array_equal(a.q[ok], b.q[ok])          # row 40 did not disturb row 70's cells
    assert not np.array_equal(a.q[ok], c.q[ok])               # the seed matters
    assert a.key == b.key != c.key


@pytest.mark.parametrize("prev, now", [(0.75, 0.75), (0.80, 0.78), (0.70, 0.80)])
def test_cells_agree_with_fresh_kernel_worlds(prev, now):
    # a small world, its table cells at three (previous, current) legitimacies against fresh worlds
    row = int(round(prev / em.STEP))
    t = em.build_table(SMALL, 3, worlds=300, burn_in=30, rows=[row])
    i, j = int(round(now / em.STEP)), int(np.argmin(np.abs(em.DELTAS - (now - prev))))
    fresh = _kernel_step_shares(SMALL, prev, now, 3, 300, 30, seed=1234)
    emu = _cell_draws(t, i, j, 300, seed=5)
    # level 0.001, not 0.01: the emulated draws carry the table's own sampling error (300 worlds)
    # on top of the fresh sample's, and the shares are discrete (k / 210). Power, checked on these
    # cells: a threshold of 0.12, j_max 5 or cop density 0.08 in the fresh worlds gives p < 1e-5.
    assert stats.ks_2samp(fresh, emu).pvalue > 0.001
    assert abs(fresh.mean() - emu.mean()) < 4 * fresh.std() / np.sqrt(300) + 1e-9


def test_a_fall_of_legitimacy_is_an_outburst_the_table_keeps():
    # Epstein's sudden-fall effect: the step after a fall is well above the steady share
    t = em.build_table(SMALL, 3, worlds=200, burn_in=30, rows=[75, 85])
    i = int(round(0.75 / em.STEP))
    j0, jf = int(np.argmin(np.abs(em.DELTAS))), int(np.argmin(np.abs(em.DELTAS + 0.1)))
    assert t.q[i, jf].mean() > 1.5 * t.q[i, j0].mean() > 0


def test_shipped_table_matches_the_shipped_world_and_fresh_worlds():
    sec = section_of(load_arena())
    proc = next(p for p in sec.processes if p.kind == "protest")
    assert proc.method == "emulator"
    params = protest_params(proc)
    assert em.available(params, proc.ticks)
    t = em.table_for(params, proc.ticks)
    assert t.key == em.table_key(params, proc.ticks) and t.info["worlds"] == em.WORLDS
    assert not np.isnan(t.q).any() and np.all(t.q >= 0) and np.all(t.q <= 1)
    assert np.all(t.q[t.legit >= 0.9 - 1e-12] == 0.0)
    # one month after a 0.01 fall from 0.80, against 300 fresh worlds (the table used 400 others)
    fresh = _kernel_step_shares(params, 0.80, 0.79, proc.ticks, 300, em.BURN_IN, seed=99)
    emu, clamped = em.sample(t, np.full(300, 0.80), np.full(300, 0.79), np.random.default_rng(3).random(300))
    assert not clamped.any()
    assert stats.ks_2samp(fresh, emu).pvalue > 0.01
    # month-to-month memory: little where the arena's legitimacy lives, more where it is low
    band = (t.legit >= 0.7) & (t.legit < 0.9)
    assert np.nanmax(np.abs(t.lag1[band])) < 0.2 and np.nanmean(t.lag1[t.legit < 0.3]) > 0.25


def test_the_copula_carries_the_tables_lag1_dependence():
    t = em.table_for(protest_params(next(p for p in section_of(load_arena()).processes if p.kind == "protest")), 5)
    rng = np.random.default_rng(8)
    for level in (0.2, 0.8):
        legit = np.full(4000, level)
        z, shares = None, []
        for _ in range(2):
            u, z = em.step_uniforms(t, legit, z, rng.standard_normal(4000))
            shares.append(em.sample(t, legit, legit, u)[0])
        want = float(np.interp(level, t.legit, t.lag1))
        assert abs(stats.spearmanr(shares[0], shares[1])[0] - want) < 0.06, level


def test_sampling_interpolates_between_cells_and_clamps_big_changes():
    t = em.build_table(SMALL, 2, worlds=20, burn_in=5)
    n = 2000
    u = np.random.default_rng(0).random(n)
    lo, _ = em.sample(t, np.full(n, 0.70), np.full(n, 0.70), u)
    hi, _ = em.sample(t, np.full(n, 0.71), np.full(n, 0.71), u)
    mid, _ = em.sample(t, np.full(n, 0.705), np.full(n, 0.705), u)
    np.testing.assert_allclose(mid, 0.5 * (lo + hi), atol=1e-12)     # half way between the rows
    # a larger uniform never gives a smaller share, between grid points in L, dL and level alike
    ordered = np.sort(u)
    for prev, now in ((0.705, 0.705), (0.712, 0.697), (0.64, 0.66)):
        s_u, _ = em.sample(t, np.full(n, prev), np.full(n, now), ordered)
        assert np.all(np.diff(s_u) >= -1e-12), (prev, now)
    assert em.sample(t, np.array([0.7]), np.array([0.7]), np.array([1.0]))[0][0] == pytest.approx(
        t.q[70, int(np.argmin(np.abs(t.deltas))), -1])                 # u = 1 reads the top level
    edge, c1 = em.sample(t, np.full(n, 0.8), np.full(n, 0.6), u)
    beyond, c2 = em.sample(t, np.full(n, 1.0), np.full(n, 0.6), u)
    assert not c1.any() and c2.all()
    np.testing.assert_array_equal(edge, beyond)        # a fall of 0.4 reads the -0.2 row
    zero, _ = em.sample(t, np.full(n, 0.5), np.full(n, 0.95), u)
    assert np.all(zero == 0.0)


def test_table_for_builds_once_then_reads_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TAWAZUN_CACHE", str(tmp_path))
    monkeypatch.setattr(em, "WORLDS", 10)
    monkeypatch.setattr(em, "BURN_IN", 3)
    monkeypatch.setattr(em, "_memo", {})
    tiny = pr.ProtestParams(width=5, height=5, vision=1)
    t1 = em.table_for(tiny, 1)
    files = list((tmp_path / "tawazun" / "protest-tables").glob("*.npz"))
    assert [f.stem for f in files] == [t1.key]
    real_build = em.build_table
    monkeypatch.setattr(em, "_memo", {})
    monkeypatch.setattr(em, "build_table", lambda *a, **k: pytest.fail("rebuilt a cached table"))
    t2 = em.table_for(tiny, 1)
    np.testing.assert_array_equal(t1.q, t2.q)
    # a damaged cache file is rebuilt (the same numbers: the build seed is fixed), not an error
    files[0].write_bytes(b"not a table")
    monkeypatch.setattr(em, "_memo", {})
    monkeypatch.setattr(em, "build_table", real_build)
    t3 = em.table_for(tiny, 1)
    np.testing.assert_array_equal(t1.q, t3.q)
    assert em.from_bytes(files[0].read_bytes()).key == t1.key


def _section_text(noise: float, method: str = "emulator") -> str:
    return f"""
step: month
horizon: 6
states:
  - {{id: legit, initial: 0.8, persistence: 0.5, noise: {noise}, evidence: [{{source: memo}}]}}
  - {{id: bal, initial: 0.5, persistence: 0.9, evidence: [{{source: memo}}]}}
processes:
  - {{id: protests, kind: protest, legitimacy: legit, method: {method}, evidence: [{{source: memo}}]}}
couplings:
  - {{from: protests, to: bal, weight: -0.1, evidence: [{{source: memo}}]}}
regimes:
  - {{id: calm, otherwise: true, evidence: [{{source: memo}}]}}
"""


def test_simulate_with_the_emulator_is_seeded_and_says_when_it_clamps():
    import yaml

    from tawazun.dynamics.simulate import to_json

    arena = load_arena().model_copy(update={"dynamics": parse(yaml.safe_load(_section_text(0.01)))})
    a, b = simulate(arena, paths=300, seed=4), simulate(arena, paths=300, seed=4)
    assert to_json(a) == to_json(b) and "notes" not in to_json(a)
    assert 0 < a.series["protests"]["mean"].mean() < 0.2
    arena = arena.model_copy(update={"dynamics": parse(yaml.safe_load(_section_text(0.4)))})
    c = simulate(arena, paths=300, seed=4)
    assert c.notes and "more than 0.2 in one step" in to_json(c)["notes"][0]


def test_shipped_arena_emulated_agrees_with_its_agent_worlds():
    # the decision's check at test scale: the same section with agent worlds and with the table
    arena = load_arena()
    sec = section_of(arena)
    runs = {}
    for method in ("agents", "emulator"):
        # burn-in 100: the table's worlds are settled, so these are too
        procs = [p.model_copy(update={"method": method, "burn_in": 100}) if p.kind == "protest" else p
                 for p in sec.processes]
        variant = arena.model_copy(update={"dynamics": sec.model_copy(update={"processes": procs})})
        runs[method] = simulate(variant, paths=400, horizon=6, seed=21)
    a, e = runs["agents"].raw["protests"], runs["emulator"].raw["protests"]
    for m in (0, 2, 5):
        assert stats.ks_2samp(a[:, m], e[:, m]).pvalue > 0.01, m
    assert abs(a.mean() - e.mean()) < 0.1 * a.mean()


def test_method_is_a_protest_field():
    text = """
step: month
states: [{id: s, initial: 0.5, evidence: [{source: memo}]}]
processes:
  - {id: p, kind: poisson, baseline: 1, method: emulator, evidence: [{source: memo}]}
regimes: [{id: r, otherwise: true, evidence: [{source: memo}]}]
"""
    import yaml

    from tawazun.dynamics.model import check_section

    problems = check_section(yaml.safe_load(text), ["memo"])
    assert problems == [(("processes", 0, "method"), "only a protest process has a method")]
    bad = yaml.safe_load(text.replace("kind: poisson, baseline: 1, method: emulator", "kind: poisson, baseline: 1, method: mean-field"))
    assert [p for p, _ in check_section(bad, ["memo"])] == [("processes", 0, "method")]


def test_shipped_table_is_what_the_builder_makes():
    # provenance: one row of the shipped world rebuilt with the table's settings gives the very
    # cells the shipped file holds (cells are seeded per row, so one row can be checked alone)
    proc = next(p for p in section_of(load_arena()).processes if p.kind == "protest")
    params = protest_params(proc)
    shipped = em.table_for(params, proc.ticks)
    row = 80
    part = em.build_table(params, proc.ticks, rows=[row])
    fed = ~np.isnan(part.q[:, :, 0])
    assert fed.sum() >= 8
    np.testing.assert_array_equal(part.q[fed], shipped.q[fed])
    assert part.lag1[row] == shipped.lag1[row]


@pytest.fixture
def noisy_arena(tmp_path):
    """The shipped arena with legitimacy shocks of sd 0.3 a month: many steps beyond the table."""
    from tawazun.arena.load import shipped_path

    text = shipped_path().read_text(encoding="utf-8")
    noisy = text.replace("      persistence: 0.9\n      noise: 0.01", "      persistence: 0.9\n      noise: 0.3", 1)
    assert noisy != text
    path = tmp_path / "noisy.yaml"
    path.write_text(noisy, encoding="utf-8")
    return path


def test_the_cli_says_when_the_emulator_clamps(tmp_path, noisy_arena):
    from typer.testing import CliRunner

    from tawazun.cli.main import app

    path = noisy_arena
    res = CliRunner().invoke(app, ["simulate", str(path), "--paths", "50", "--horizon", "3", "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    flat = " ".join(res.output.split())      # the terminal wraps long lines
    assert "note:" in flat and "beyond the protest emulator's table" in flat
    import json

    assert "beyond the protest emulator's table" in json.loads((tmp_path / "r.json").read_text())["notes"][0]


def test_a_missing_table_is_built_once_with_progress(tmp_path, monkeypatch, capsys):
    import yaml

    monkeypatch.setenv("TAWAZUN_CACHE", str(tmp_path))
    monkeypatch.setattr(em, "WORLDS", 8)
    monkeypatch.setattr(em, "BURN_IN", 2)
    monkeypatch.setattr(em, "_memo", {})
    text = _section_text(0.01).replace("method: emulator,", "method: emulator, world: {width: 5, height: 5, vision: 1},")
    arena = load_arena().model_copy(update={"dynamics": parse(yaml.safe_load(text))})
    first = simulate(arena, paths=20, horizon=2, seed=1)
    err = capsys.readouterr().err
    assert "building the protest emulator's table for process 'protests' (19 agents" in err
    assert "table row 101/101" in err
    monkeypatch.setattr(em, "_memo", {})
    again = simulate(arena, paths=20, horizon=2, seed=1)          # from the cache: silent, same numbers
    assert capsys.readouterr().err == ""
    np.testing.assert_array_equal(first.raw["protests"], again.raw["protests"])


def test_forecast_reports_clamped_steps_for_the_run_and_each_future(tmp_path, noisy_arena):
    from typer.testing import CliRunner

    from tawazun.cli.main import app

    res = CliRunner().invoke(app, ["forecast", str(noisy_arena), "--engine", "compromise", "--draws", "30", "--no-report",
                                   "--sobol-n", "0", "--out", str(tmp_path / "run"), "--json", str(tmp_path / "r.json")])
    assert res.exit_code == 0, res.output
    import json

    dyn = json.loads((tmp_path / "r.json").read_text())["dynamics"]
    assert "beyond the protest emulator's table" in dyn["notes"][0]
    assert dyn["futures"] and all("beyond the protest emulator's table" in f["notes"][0] for f in dyn["futures"])
    assert "    note: " in res.output
