"""KTAB's Spatial Model of Politics: reproduction of KTAB's own runs, a hand-derived case,
reproducibility of the stochastic mode, batching and the engine contract."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.engines import get_engine
from tawazun.engines.base import Problem
from tawazun.engines.smp import SmpOptions, coalition_matrix, pce, simulate, vote

KTAB_DIR = Path(__file__).resolve().parent / "reference" / "ktab-smp"  # see tests/reference/README.md


def _read_case(stem: str):
    """Parse a KTAB CSV and its positions file (tests/reference/, see its README)."""
    src = KTAB_DIR / f"{stem}.csv"
    ref = KTAB_DIR / f"{stem}.positions.csv"
    if not (src.exists() and ref.exists()):
        raise FileNotFoundError(f"KTAB reference data not available at {KTAB_DIR}")
    rows = list(csv.reader(src.open(encoding="utf-8")))
    n_dims = int(rows[0][3])
    data = [r for r in rows[2:] if r and r[0].strip()]
    names = [r[0].strip() for r in data]
    cap = np.array([float(r[2]) for r in data])
    pos = np.array([[float(r[3 + 2 * k]) for k in range(n_dims)] for r in data])
    sal = np.array([[float(r[4 + 2 * k]) for k in range(n_dims)] for r in data])
    table = {}
    with ref.open(encoding="utf-8") as fh:
        for r in csv.DictReader(fh):
            table[(int(r["turn"]), r["actor"], int(r["dim"]))] = float(r["position"])
    last = max(k[0] for k in table)
    expected = np.array([[[table[(t, a, k)] for k in range(n_dims)] for a in names]
                         for t in range(last + 1)])
    return names, cap, pos, sal, expected


@pytest.mark.parametrize("backend", ["numba", "numpy"])
@pytest.mark.parametrize("stem", ["SOE-Policy", "dummyData_3Dim"])
def test_reproduces_ktab_positions_every_turn(stem, backend):
    names, cap, pos, sal, expected = _read_case(stem)
    d = pos.shape[1]
    problem = Problem.from_points(names, pos, sal / 100.0, cap, 0.0, 100.0,
                                  dims=tuple(f"d{k}" for k in range(d)))
    res = get_engine("smp").run(problem, SmpOptions(backend=backend))
    traj = res.trajectory[0]
    # Same number of turns, same stopping turn.
    assert int(res.diagnostics["turns"][0]) == expected.shape[0] - 1
    assert traj.shape == expected.shape
    # Every actor's position at every turn within 0.01 on the file's 0-100 scale.
    np.testing.assert_allclose(traj, expected, atol=0.01, rtol=0)


def test_soe_policy_main_cluster_near_38_7():
    names, cap, pos, sal, _ = _read_case("SOE-Policy")
    res = get_engine("smp").run(Problem.from_points(names, pos, sal / 100.0, cap))
    prob = res.diagnostics["position_probability"][0, -1]
    assert prob.sum() == pytest.approx(1.0)
    assert 36.0 <= res.forecast[0, 0] <= 40.0


def test_hand_derived_three_actors_first_turn():
    # Three actors on one 0-100 dimension: A at 0 (cap 1, sal 1), B at 50 (cap 2, sal 1),
    # C at 100 (cap 1, sal 0.5). On [0, 1] and one dimension the distance is |x_a - x_m|.
    #
    # Risk attitudes. Risk-neutral utilities U0 = 1 - D:
    #   A: (1, .5, 0)   B: (.5, 1, .5)   C: (0, .5, 1)
    # Coalitions, voter weight = capability: C(A,B) = .5, C(B,A) = 1.5 -> P[A>B] = .25;
    #   C(A,C) = C(C,A) = 1 -> .5;  C(B,C) = 1.5, C(C,B) = .5 -> P[B>C] = .75.
    # Conditional PCE: p ~ (.5*.25*.5, .75*.5*.75, .5*.5*.25) = (2, 9, 2)/13.
    # Mid range: R = (3p - (pmax + 2 pmin)) / (2 (pmax - pmin)) = 13 (3p - 1) / 14
    #   -> R = (-.5, 1, -.5).  OneThird estimates r_hi = (2 R_h + R_i) / 3.
    #
    # Challenges (h = i's view; utility u = (1 - d)(1 + d r); weights w = sum(s) * cap):
    #  B -> C: U_B(B,C) = .75, U_B(C,B) = .625; v_B = 2(1-.75) = .5, v_C = .5(.625-1) = -.1875.
    #   Third party A: u_AB = .625, u_AC = 0, little contest P = 1.125/1.3125 = 6/7;
    #   SemiCommit: E[ik>j] = 6/7 * 2.25, E[i>jk] = 6/7 * 1.875 + 1/7 -> vote +.1786.
    #   P[B>C] = .6786 / .8661 = .7835; gain = (1-.5)*2 + .5*(2P + (1-P)*1.5) - 1.75 = .196.
    #  B -> A: P = .5527 (C now opposes), gain = (2P - 1)(1 - .75) = .026 < .196: B targets C.
    #  A -> C: v_A = 1, v_C = -.5; third party B indifferent (u = .5 both), P_little = 2/3,
    #   vote 2 * (11/6 - 5/3) = 1/3 -> P[A>C] = (4/3) / (11/6) = 8/11; gain = .727 > 0.
    #  A -> B: P = .377 < 1/2 -> loss.   C -> A: P = .27; C -> B: P = .19: C has no target.
    # Bargains (S2P2, weights s^2 P^2, rounded to 4 decimals):
    #  A -> C: w_A = (8/11)^2 = .5289, w_C = .25 (3/11)^2 = .0186
    #   -> both at (.0186 * 1) / .5475 = .0340 (3.40).
    #  B -> C: w_B = .7835^2 = .6139, w_C = .25 * .2165^2 = .0117
    #   -> both at (.6139 * .5 + .0117) / .6256 = .5094 (50.94).
    # Choices (average utility of the resulting state, capability-weighted PCE):
    #  A's queue [SQ, A->C]: state values A 2.274 vs 1.375, B 2.566 vs 2.5, C .410 vs 1.375
    #   -> P[bargain > SQ] = (.899 + 2*.066) / (1.031 + .965) = .516 > 1/2: A moves to 3.40.
    #  B's queue [SQ, B->C]: A +.356, B +.250 (x2), C -.606 -> P = .585: B moves to 50.94.
    #  C's queue [SQ, A->C, B->C]: pairwise P = .516 (AC>SQ), .585 (BC>SQ), .573 (BC>AC)
    #   -> p ~ (.100, .110, .168): C takes B's bargain and moves to 50.94.
    problem = Problem.from_points(["A", "B", "C"], [0, 50, 100], [1.0, 1.0, 0.5], [1, 2, 1])
    res = get_engine("smp").run(problem)
    traj = res.trajectory[0, :, :, 0]
    np.testing.assert_allclose(res.diagnostics["risk"][0, 0], [-0.5, 1.0, -0.5], atol=1e-6)
    np.testing.assert_array_equal(res.diagnostics["targets"][0, 0], [2, 2, -1])
    np.testing.assert_allclose(traj[1], [3.40, 50.94, 50.94], atol=1e-9)


def test_problem_scale_is_normalised_and_mapped_back():
    base = Problem.from_points(["A", "B", "C"], [0, 50, 100], [1.0, 1.0, 0.5], [1, 2, 1])
    shifted = Problem.from_points(["A", "B", "C"], [-10, 0, 10], [1.0, 1.0, 0.5], [1, 2, 1],
                                  lower=-10, upper=10)
    r1 = get_engine("smp").run(base)
    r2 = get_engine("smp").run(shifted)
    np.testing.assert_allclose((r1.trajectory - 50.0) / 5.0, r2.trajectory, atol=1e-9)
    np.testing.assert_allclose((r1.forecast - 50.0) / 5.0, r2.forecast, atol=1e-9)


def _random_problem(b: int, n: int, d: int, seed: int, identical: bool = False) -> Problem:
    rng = np.random.default_rng(seed)
    shape = (1 if identical else b, n, d)
    x = rng.uniform(0, 100, shape)
    s = rng.uniform(0.1, 1.0, shape)
    s = s / s.sum(-1, keepdims=True) * rng.uniform(0.6, 0.95, shape[:2] + (1,))
    c = rng.uniform(10, 200, shape[:2])
    if identical:
        x, s, c = (np.repeat(a, b, axis=0) for a in (x, s, c))
    return Problem(tuple(f"a{i}" for i in range(n)), tuple(f"x{k}" for k in range(d)),
                   x, s, c, np.zeros(d), np.full(d, 100.0))


def test_batch_of_identical_draws_equals_single_run():
    batch = _random_problem(4, 9, 2, seed=3, identical=True)
    single = batch.take(slice(0, 1))
    rb = get_engine("smp").run(batch)
    r1 = get_engine("smp").run(single)
    for k in range(4):
        np.testing.assert_array_equal(rb.trajectory[k], r1.trajectory[0])
        np.testing.assert_array_equal(rb.forecast[k], r1.forecast[0])
    assert (rb.diagnostics["turns"] == r1.diagnostics["turns"][0]).all()


def test_batch_draws_with_different_stopping_turns_are_padded():
    batch = _random_problem(5, 8, 1, seed=11)
    res = get_engine("smp").run(batch)
    turns = res.diagnostics["turns"]
    assert res.trajectory.shape[1] == turns.max() + 1
    for k in range(batch.batch):
        tail = res.trajectory[k, turns[k]:]
        assert (tail == tail[:1]).all()
        single = get_engine("smp").run(batch.take(slice(k, k + 1)))
        assert single.diagnostics["turns"][0] == turns[k]
        np.testing.assert_array_equal(single.trajectory[0], res.trajectory[k, : turns[k] + 1])


def test_stochastic_same_seed_same_trajectory():
    problem = _random_problem(3, 8, 1, seed=5)
    opts = get_engine("smp").make_options({"transition": "Stochastic", "max_turns": "12"})
    a = get_engine("smp").run(problem, opts, np.random.default_rng(42))
    b = get_engine("smp").run(problem, opts, np.random.default_rng(42))
    np.testing.assert_array_equal(a.trajectory, b.trajectory)
    np.testing.assert_array_equal(a.diagnostics["turns"], b.diagnostics["turns"])
    assert a.trajectory.shape[1] <= 13


def test_position_probability_layout_and_invariants():
    problem = _random_problem(2, 10, 2, seed=8)
    res = get_engine("smp").run(problem)
    pp = res.diagnostics["position_probability"]
    assert pp.shape == res.trajectory.shape[:3]
    np.testing.assert_allclose(pp.sum(axis=-1), 1.0, atol=1e-12)
    assert (pp >= 0).all()
    # The forecast is the final position holding the largest probability.
    for k in range(2):
        t = res.trajectory.shape[1] - 1
        win = np.argmax(pp[k, t])
        np.testing.assert_allclose(res.forecast[k], res.trajectory[k, t, win])
    # Positions stay on the scale.
    assert (res.trajectory >= 0).all() and (res.trajectory <= 100).all()


@pytest.mark.parametrize("overrides", [
    {"voting_rule": "Binary"}, {"voting_rule": "ASymProsp"}, {"voting_rule": "PropCbc"},
    {"victory_prob": "Square"}, {"victory_prob": "Binary"},
    {"pce": "MarkovUniform"}, {"pce": "MarkovIncentive"},
    {"risk_range": "Max"}, {"risk_adjust": "Full"}, {"third_party": "NoCommit"},
    {"interpolation": "S2PMax"}, {"interpolation": "S1P1"},
])
def test_every_option_runs_and_stays_on_scale(overrides):
    problem = _random_problem(2, 7, 2, seed=21)
    opts = get_engine("smp").make_options({**overrides, "max_turns": 8})
    res = get_engine("smp").run(problem, opts)
    assert np.isfinite(res.trajectory).all()
    assert (res.trajectory >= -1e-9).all() and (res.trajectory <= 100 + 1e-9).all()
    np.testing.assert_allclose(res.diagnostics["position_probability"].sum(-1), 1.0, atol=1e-9)


@pytest.mark.parametrize("overrides", [
    {}, {"voting_rule": "ASymProsp"}, {"pce": "MarkovIncentive"},
    {"pce": "MarkovUniform", "victory_prob": "Binary"}, {"interpolation": "S2PMax"},
    {"transition": "Stochastic"},
])
def test_compiled_backend_matches_numpy_reference(overrides):
    problem = _random_problem(2, 9, 2, seed=4)
    x0 = problem.position / 100.0
    runs = [simulate(x0, problem.salience, problem.capability,
                     SmpOptions(max_turns=12, backend=backend, **overrides),
                     np.random.default_rng(7)) for backend in ("numba", "numpy")]
    a, b = runs
    np.testing.assert_array_equal(a["turns"], b["turns"])
    np.testing.assert_allclose(a["trajectory"], b["trajectory"], atol=1e-9)
    np.testing.assert_allclose(a["risk"], b["risk"], atol=1e-9)
    np.testing.assert_allclose(a["position_probability"], b["position_probability"], atol=1e-6)
    np.testing.assert_array_equal(a["targets"], b["targets"])


def test_bad_option_is_rejected():
    problem = _random_problem(1, 4, 1, seed=1)
    with pytest.raises(ValueError, match="voting_rule"):
        get_engine("smp").run(problem, SmpOptions(voting_rule="Majority"))


def test_building_blocks():
    # PCE probabilities sum to one; identical options split evenly.
    u = np.array([[[1.0, 1.0, 0.2], [0.5, 0.5, 0.9]]])
    c = coalition_matrix(np.array([[1.0, 2.0]]), u, "Proportional")
    p = pce("Conditional", "Linear", c)
    assert p.sum() == pytest.approx(1.0)
    assert p[0, 0] == pytest.approx(p[0, 1])
    # Votes are odd in the utility difference for the symmetric rules.
    du = np.linspace(-1, 1, 11)
    for rule in ("Proportional", "Binary", "PropBin", "PropCbc", "Cubic"):
        np.testing.assert_allclose(vote(rule, 2.0, du), -vote(rule, 2.0, -du))


def test_zero_turns_is_the_input_state():
    problem = Problem.from_points(["A", "B", "C"], [0, 50, 100], [1.0, 1.0, 0.5], [1, 2, 1])
    res = get_engine("smp").run(problem, SmpOptions(max_turns=0))
    assert res.trajectory.shape == (1, 1, 3, 1) and res.diagnostics["turns"][0] == 0
    # As in the hand derivation above, B's central position wins the election among the
    # three distinct positions; with no turn played it is the forecast.
    assert res.forecast[0, 0] == 50.0


def test_simulate_stops_at_max_turns():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, (1, 6, 1))
    s = np.full((1, 6, 1), 0.7)
    c = rng.uniform(1, 5, (1, 6))
    out = simulate(x, s, c, SmpOptions(max_turns=1))
    assert out["turns"][0] == 1 and out["trajectory"].shape == (1, 2, 6, 1)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 100_000), n=st.integers(2, 8), d=st.integers(1, 3),
       stochastic=st.booleans())
def test_invariants_on_random_cases(seed, n, d, stochastic):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 100, (2, n, d))
    s = rng.uniform(0.0, 1.0, (2, n, d)) / d
    c = rng.uniform(0.0, 50.0, (2, n))
    problem = Problem(tuple(f"a{i}" for i in range(n)), tuple(f"x{k}" for k in range(d)),
                      x, s, c, np.zeros(d), np.full(d, 100.0))
    opts = SmpOptions(max_turns=15, transition="Stochastic" if stochastic else "Deterministic")
    res = get_engine("smp").run(problem, opts, np.random.default_rng(seed))
    traj, turns = res.trajectory, res.diagnostics["turns"]
    assert traj.shape[1] == turns.max() + 1 and (turns >= 1).all() and (turns <= 15).all()
    # Bargains interpolate between two positions: every coordinate stays inside the range
    # the actors started with (up to KTAB's 4-decimal rounding, 0.01 on this scale).
    lo, hi = x.min(axis=1), x.max(axis=1)  # (B, d)
    assert (traj >= lo[:, None, None, :] - 0.01).all() and (traj <= hi[:, None, None, :] + 0.01).all()
    pp = res.diagnostics["position_probability"]
    np.testing.assert_allclose(pp.sum(-1), 1.0, atol=1e-9)
    # The risk attitudes of the Mid range lie in [-1/2, 1].
    r = res.diagnostics["risk"]
    assert (r >= -0.5 - 1e-9).all() and (r <= 1.0 + 1e-9).all()


def test_threads_change_nothing(monkeypatch):
    """Draws are split across threads; every draw is computed by the same compiled code."""
    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem
    from tawazun.engines import get_engine
    from tawazun.uncertainty.sampling import sample

    problem = sample(ranged_problem(load_arena(), "iraq-deal"), 40, 3)
    spec = get_engine("smp")
    out = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("TAWAZUN_SMP_THREADS", threads)
        out[threads] = spec.run(problem, spec.options())
    for threads in ("2", "3"):
        np.testing.assert_array_equal(out[threads].forecast, out["1"].forecast)
        np.testing.assert_array_equal(out[threads].trajectory, out["1"].trajectory)
        np.testing.assert_array_equal(out[threads].diagnostics["turns"], out["1"].diagnostics["turns"])
