"""The armed balance: collapse when the balance is not managed, rare when it is; simulate() API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from tawazun.arena import load_arena
from tawazun.dynamics.balance import compile_section, run_system
from tawazun.dynamics.model import parse
from tawazun.dynamics.simulate import simulate, simulate_section, step_dates, to_json

FIXTURE = Path(__file__).parent / "fixtures" / "dynamics" / "balance.yaml"
EV = [{"source": "m"}]


def _section(**over):
    # attacks wear the balance down; management props it up (¶11: managed -> fragile security)
    sec = {
        "step": "month", "horizon": 24,
        "covariates": [{"id": "management", "value": 0.5, "evidence": EV}],
        "states": [{"id": "balance", "initial": 0.5, "persistence": 0.9, "noise": 0.03, "evidence": EV}],
        "processes": [{"id": "attacks", "kind": "hawkes", "baseline": 2.0, "excitation": 0.4,
                       "decay": 1.0, "evidence": EV}],
        "couplings": [
            {"from": "attacks", "to": "balance", "weight": -0.02, "reference": 2, "evidence": EV},
            {"from": "management", "to": "balance", "weight": 0.1, "reference": 0.5, "evidence": EV},
            {"from": "balance", "to": "attacks", "weight": -2.0, "reference": 0.5, "evidence": EV},
        ],
        "regimes": [
            {"id": "collapse", "state": "balance", "below": 0.25, "for": 3, "absorbing": True, "evidence": EV},
            {"id": "fragile-security", "otherwise": True, "evidence": EV},
        ],
    }
    sec.update(over)
    return parse(sec)


def _collapse_by_end(management: float, paths=400, seed=0) -> float:
    raw = simulate_section(_section(), paths, 24, seed, covariates={"management": np.full(paths, management)})
    return float(raw["regimes"][:, -1, 0].mean())


def test_unmanaged_balance_collapses_managed_does_not():
    assert _collapse_by_end(0.0) > 0.8
    assert _collapse_by_end(1.0) < 0.1
    # monotone in between
    probs = [_collapse_by_end(m, paths=300, seed=1) for m in (0.0, 0.4, 0.7, 1.0)]
    assert probs == sorted(probs, reverse=True)


def test_regimes_partition_paths_and_collapse_is_absorbing():
    raw = simulate_section(_section(), 300, 24, 5, covariates={"management": np.full(300, 0.3)})
    reg = raw["regimes"]
    assert np.all(reg[:, :, 0] ^ reg[:, :, 1])                      # exactly one of the two each step
    entered = np.argmax(reg[:, :, 0], axis=1)
    for p in np.flatnonzero(reg[:, -1, 0]):
        assert reg[p, entered[p]:, 0].all()                         # never leaves collapse
    # collapse needs 3 consecutive steps below the threshold
    bal = raw["states"][:, :, 0]
    for p in np.flatnonzero(reg[:, -1, 0])[:50]:
        t = entered[p]
        assert t >= 2 and np.all(bal[p, t - 2:t + 1] < 0.25)


def test_non_absorbing_regime_tracks_the_condition():
    sec = _section(regimes=[{"id": "low", "state": "balance", "below": 0.45, "for": 1, "evidence": EV}])
    comp = compile_section(sec, 200, np.random.default_rng(0))
    out = run_system(comp, 12, np.random.default_rng(1))
    assert np.array_equal(out["regimes"][:, :, 0], out["states"][:, :, 0] < 0.45)


def test_states_stay_in_bounds_and_rates_are_counts():
    raw = simulate_section(_section(), 200, 24, 2, covariates={"management": np.zeros(200)})
    assert raw["states"].min() >= 0.0 and raw["states"].max() <= 1.0
    att = raw["processes"][:, :, 0]
    assert np.all(att >= 0) and np.all(att == np.round(att))


def test_simulate_on_fixture_is_seeded_and_shaped():
    arena = load_arena(FIXTURE)
    a = to_json(simulate(arena, paths=40, seed=7))
    b = to_json(simulate(arena, paths=40, seed=7))
    c = to_json(simulate(arena, paths=40, seed=8))
    assert a == b and a != c
    assert a["steps"][0] == "2021-08-31" and len(a["steps"]) == 12
    for s in a["series"].values():
        q = np.array([s["quantiles"][k] for k in ("0.1", "0.5", "0.9")])
        assert np.all(np.diff(q, axis=0) >= 0)
    tot = np.array(a["regimes"]["collapse"]["probability_by_step"]) + a["regimes"]["fragile-security"]["probability_by_step"]
    assert np.allclose(tot, 1.0)


def test_covariates_from_forecasts_replace_ranges():
    arena = load_arena(FIXTURE)
    # per-path forecasts of the issue `presence`: more presence, more attacks (coupling +0.02 per point)
    lo = simulate(arena, paths=200, seed=1, covariates={"presence": np.full(200, 0.0)})
    hi = simulate(arena, paths=200, seed=1, covariates={"presence": np.full(200, 100.0)})
    assert hi.series["attacks"]["mean"].mean() > 2 * lo.series["attacks"]["mean"].mean()
    with pytest.raises(ValueError, match="unknown"):
        simulate(arena, paths=10, covariates={"elections": np.zeros(10)})


def test_step_dates():
    assert step_dates(dt.date(2021, 7, 31), "month", 3) == [dt.date(2021, 8, 31), dt.date(2021, 9, 30), dt.date(2021, 10, 31)]
    assert step_dates(dt.date(2021, 12, 31), "month", 2)[1] == dt.date(2022, 2, 28)
    assert step_dates(dt.date(2021, 7, 31), "week", 2) == [dt.date(2021, 8, 7), dt.date(2021, 8, 14)]


def test_runaway_rate_is_an_input_error():
    from tawazun.errors import InputError

    sec = _section(couplings=[{"from": "management", "to": "attacks", "weight": 100.0, "evidence": EV}])
    with pytest.raises(InputError, match=r"dynamics.processes\[0\]: the rate of 'attacks' reaches"):
        simulate_section(sec, 10, 3, 0, covariates={"management": np.ones(10)})
