"""The BDM convergence stop (options ``converge``, ``converge_tol``).

A round of the model depends on the positions only, so once a draw's positions repeat
(a fixed point, or a cycle of up to ``CYCLE_MAX`` rounds) every later round is known:
with ``converge_tol = 0`` stopping there must give, bit for bit, what the full run
gives. Small random games reach fixed points and cycles often (most 2- and 3-actor
games within 5 rounds), so the hypothesis test below exercises the stop for real; the
deterministic tests check that it does fire and that stopped draws leave the compiled
batch.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tawazun.engines import get_engine
from tawazun.engines.base import OptionError, Problem
from tawazun.engines.bdm import PRESETS, SCHOLZ, TEXT, BdmOptions, bdm, kernels, reference
from tawazun.engines.bdm.options import CYCLE_MAX

from test_bdm import emissions_problem


def games(seed: int, n: int, batch: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    u0 = rng.uniform(0, 1, (batch, n))
    w = rng.uniform(0.05, 1, (batch, n))
    s = rng.uniform(0.05, 1, (batch, n))
    return u0, w, s


def assert_same(a, b) -> None:
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)


def stop_rounds(traj: np.ndarray, tol: float = 0.0) -> np.ndarray:
    """First round after which each draw is stationary (the rule, written out plainly)."""
    B, T1, _ = traj.shape
    out = np.full(B, T1 - 1)
    for b in range(B):
        for t in range(1, T1 - 1):
            if np.abs(traj[b, t] - traj[b, t - 1]).max() <= tol or any(
                    (traj[b, t] == traj[b, t - p]).all() for p in range(2, min(CYCLE_MAX, t) + 1)):
                out[b] = t
                break
    return out


# ---------------------------------------------------------------------------------------
# Exact stop: identical outputs
# ---------------------------------------------------------------------------------------
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 6), batch=st.integers(1, 40),
       preset=st.sampled_from(["scholz", "text", "risk_neutral"]), q=st.sampled_from([1.0, 0.6]))
def test_exact_stop_changes_no_number(seed, n, batch, preset, q):
    u0, w, s = games(seed, n, batch)
    off = dataclasses.replace(PRESETS[preset], rounds=14, q=q)
    on = dataclasses.replace(off, converge=True)
    full = kernels.simulate(u0, w, s, off, threads=1)
    assert_same(full, kernels.simulate(u0, w, s, on, threads=1))
    # ... and through the engine: every diagnostic too
    p = Problem(actors=tuple(f"a{k}" for k in range(n)), dims=("x",), position=u0[:, :, None] * 8 - 3,
                salience=s[:, :, None], capability=w, lower=np.array([-3.0]), upper=np.array([5.0]))
    a, b = bdm(p, off), bdm(p, on)
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    np.testing.assert_array_equal(a.forecast, b.forecast)
    assert a.diagnostics.keys() == b.diagnostics.keys()
    for key, value in a.diagnostics.items():
        np.testing.assert_array_equal(value, b.diagnostics[key], err_msg=key)


@pytest.mark.parametrize("preset", ["scholz", "text", "risk_neutral"])
def test_stop_fires_on_fixed_points_and_cycles_and_drops_the_draws(preset, monkeypatch):
    # 300 games of 3 actors: most become fixed or periodic within a few rounds
    u0, w, s = games(5, 3, 300)
    off = dataclasses.replace(PRESETS[preset], rounds=14)
    full = kernels.simulate(u0, w, s, off, threads=1)
    first = stop_rounds(full[0])
    assert (first < 5).mean() > 0.4  # the stop has work to do
    fixed = np.array([(full[0][b, first[b]] == full[0][b, first[b] - 1]).all() for b in range(300)])
    assert fixed[first < 14].any()
    if preset != "text":  # the text reading's small games end on fixed points only
        assert (~fixed[first < 14]).any()  # cycles too
    # the kernels see fewer draws once some have stopped: count the draw-rounds computed
    seen = []
    real = kernels._nb_stage_risk
    monkeypatch.setattr(kernels, "_nb_stage_risk", lambda u, *a: (seen.append(len(u)), real(u, *a))[1])
    on = dataclasses.replace(off, converge=True)
    assert_same(full, kernels.simulate(u0, w, s, on, threads=1))
    # draw b runs rounds 1..first[b] and then stops (or all 14)
    assert sum(seen) == int(first.sum())
    assert sum(seen) < 0.75 * 300 * 14


def test_fixed_point_constructed():
    # Everybody at one point: nobody has anything to bargain about, round 1 moves nobody,
    # so the draw stops after round 1; a second draw moves in round 1 (the two-actor
    # compromise of tests/test_bdm.py: B goes from 1 to 2/7), and all of its rounds agree.
    u0 = np.array([[0.3, 0.3, 0.3], [0.0, 1.0, 1.0]])
    w = np.array([[1.0, 0.5, 0.2], [1.0, 0.2, 0.0]])
    s = np.array([[0.5, 0.9, 1.0], [1.0, 0.2, 0.0]])
    off = dataclasses.replace(SCHOLZ, rounds=6)
    full = kernels.simulate(u0, w, s, off, threads=1)
    on = kernels.simulate(u0, w, s, dataclasses.replace(off, converge=True), threads=1)
    assert_same(full, on)
    assert (on[0][0] == 0.3).all() and (on[2][0] == 1.0).all()
    assert stop_rounds(full[0])[0] == 1
    assert full[0][1, 1, 1] != 1.0  # the other draw does move


def test_scholz_emission_path_unchanged():
    # The published replication: the default preset leaves the stop off, and turning the
    # exact stop on changes nothing either.
    p = emissions_problem()
    assert SCHOLZ.converge is False
    base = bdm(p, dataclasses.replace(SCHOLZ, rounds=30))
    on = bdm(p, dataclasses.replace(SCHOLZ, rounds=30, converge=True))
    np.testing.assert_array_equal(base.trajectory, on.trajectory)
    for key, value in base.diagnostics.items():
        np.testing.assert_array_equal(value, on.diagnostics[key], err_msg=key)
    assert base.diagnostics["median"][0, 2] == pytest.approx(9.611, abs=0.01)


def test_reference_applies_the_same_stop():
    u0, w, s = games(11, 4, 30)
    for opts in (TEXT, SCHOLZ, dataclasses.replace(SCHOLZ, q=0.5)):
        for tol in (0.0, 0.05):
            o = dataclasses.replace(opts, rounds=10, converge=True, converge_tol=tol)
            a = reference.simulate(u0, w, s, o)
            b = kernels.simulate(u0, w, s, o, threads=1)
            np.testing.assert_allclose(a[0], b[0], atol=1e-9)
            np.testing.assert_array_equal(a[1], b[1])
            np.testing.assert_allclose(a[2], b[2], atol=1e-9)


def test_alternatives_path_stops_too():
    u0, w, s = games(2, 3, 20)
    o = dataclasses.replace(PRESETS["original"], rounds=8)
    full = reference.simulate(u0, w, s, o)
    assert_same(full, reference.simulate(u0, w, s, dataclasses.replace(o, converge=True)))


# ---------------------------------------------------------------------------------------
# A tolerance: the stopped draws repeat their last round
# ---------------------------------------------------------------------------------------
def test_tolerance_freezes_after_a_small_round():
    u0, w, s = games(9, 6, 200)
    off = dataclasses.replace(SCHOLZ, rounds=12)
    tol = 0.02
    full = kernels.simulate(u0, w, s, off, threads=1)
    traj, counts, risk = kernels.simulate(u0, w, s, dataclasses.replace(off, converge=True,
                                                                          converge_tol=tol), threads=1)
    first = stop_rounds(full[0], tol)
    assert ((first < 12) & ~np.array([(full[0][b, first[b]] == full[0][b, first[b] - 1]).all()
                                      for b in range(200)])).any()  # some stop on a small, nonzero move
    for b in range(200):
        t = first[b]
        # up to the stop: the full run; after it, every round repeats with the draw's period
        np.testing.assert_array_equal(traj[b, :t + 1], full[0][b, :t + 1])
        np.testing.assert_array_equal(counts[b, :t], full[1][b, :t])
        if np.abs(full[0][b, t] - full[0][b, t - 1]).max() <= tol and t < 12:
            assert (traj[b, t:] == traj[b, t]).all()
            assert (counts[b, t:] == counts[b, t - 1]).all() and (risk[b, t:] == risk[b, t - 1]).all()


# ---------------------------------------------------------------------------------------
# Options
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs", [
    {"converge_tol": -0.1}, {"converge_tol": float("nan")}, {"converge_tol": 1.0},
    {"converge_tol": "0.1"}, {"converge": "yes"}, {"converge": 1},
])
def test_bad_values_one_line(kwargs):
    (name,) = kwargs
    with pytest.raises(OptionError, match=rf"^bdm\.{name}: expected .*, got ") as err:
        BdmOptions(**kwargs)
    assert "\n" not in str(err.value)


def test_options_from_the_command_line():
    spec = get_engine("bdm")
    opts = spec.make_options({"converge": "on", "converge_tol": "0.001"})
    assert opts.converge is True and opts.converge_tol == 0.001
    with pytest.raises(OptionError, match=r"^bdm\.converge_tol: expected a number in \[0, 1\)"):
        spec.make_options({"converge_tol": "2"})
    with pytest.raises(OptionError, match=r"^bdm\.converge_tol: expected a number"):
        spec.make_options({"converge_tol": "tiny"})
    for preset in PRESETS.values():
        assert preset.converge is False and preset.converge_tol == 0.0
