"""Nash bargaining engine: known solutions, Pareto improvement over d, invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.engines import get_engine
from tawazun.engines.base import Problem
from tawazun.engines.nash import NashOptions, nash


def test_registered_as_static_any_dims():
    spec = get_engine("nash")
    assert spec.dynamic is False and spec.max_dims is None


def test_symmetric_two_actors_land_at_midpoint():
    # Two equal actors mirror each other about x = 50; d sits on the mirror line.
    p = Problem.from_points(["A", "B"], [[30, 100], [70, 100]], [[0.5, 0.5], [0.5, 0.5]],
                            [1, 1], status_quo=[50, 0], dims=("a", "b"))
    res = nash(p)
    np.testing.assert_allclose(res.forecast[0], [50, 100], atol=1e-5)
    g = res.diagnostics["gain"][0]
    assert g[0] == pytest.approx(g[1]) and g[0] > 0


@pytest.mark.parametrize("utility", ["euclidean", "cityblock", "quadratic"])
def test_two_actors_either_side_of_d_have_no_deal(utility):
    # In one dimension with d = 50 between the ideals 40 and 60, every move helps one actor
    # and hurts the other: no agreement, and the forecast is d (also the midpoint here).
    p = Problem.from_points(["A", "B"], [40, 60], [1, 1], [1, 1], status_quo=[50])
    res = nash(p, NashOptions(utility=utility))
    assert not res.diagnostics["agreement"][0]
    assert res.forecast[0, 0] == 50


@pytest.mark.parametrize("utility", ["euclidean", "cityblock", "quadratic"])
def test_symmetric_two_actors_two_dimensions_every_utility(utility):
    p = Problem.from_points(["A", "B"], [[20, 90], [80, 90]], [[0.4, 0.6], [0.4, 0.6]],
                            [2, 2], status_quo=[50, 10], dims=("a", "b"))
    res = nash(p, NashOptions(utility=utility))
    assert res.forecast[0, 0] == pytest.approx(50.0, abs=1e-5)


def test_one_dimension_analytic_solution():
    # d = 0; ideals 20, 60, 90 with capabilities 1, 2, 1 (linear utility). On [20, 60]
    # the gains are 40 - x, x, x, so N(x) = ln(40 - x) + 3 ln x, maximal at x = 30.
    p = Problem.from_points(["A", "B", "C"], [20, 60, 90], [1, 1, 1], [1, 2, 1], status_quo=[0])
    res = nash(p)
    assert res.forecast[0, 0] == pytest.approx(30.0, abs=1e-6)
    assert res.diagnostics["agreement"][0]
    # Salience enters u, so in one dimension it rescales each gain and leaves x unchanged.
    p2 = Problem.from_points(["A", "B", "C"], [20, 60, 90], [0.3, 0.9, 0.5], [1, 2, 1],
                             status_quo=[0])
    assert nash(p2).forecast[0, 0] == pytest.approx(30.0, abs=1e-6)
    # With w = capability x salience it does move: N = .3 ln(40-x) + (1.8+.5) ln x -> x = 35.38
    res3 = nash(p2, NashOptions(weight="capability_salience"))
    assert res3.forecast[0, 0] == pytest.approx(40 * 2.3 / 2.6, abs=1e-5)


def test_fallback_disagreement_without_status_quo():
    p = Problem.from_points(["A", "B", "C"], [20, 60, 90], [1, 1, 1], [1, 2, 1])
    res = nash(p)
    # capability x salience mean is 57.5: the lower end is the farther one.
    assert res.diagnostics["disagreement"][0, 0] == 0.0
    assert res.forecast[0, 0] == pytest.approx(30.0, abs=1e-6)
    res_c = nash(p, NashOptions(disagreement="compromise"))
    assert res_c.diagnostics["disagreement"][0, 0] == pytest.approx(57.5)


def test_actor_that_cannot_gain_sits_out():
    # C's ideal is d itself: any move hurts it, so it does not take part.
    p = Problem.from_points(["A", "B", "C"], [20, 40, 0], [1, 1, 1], [1, 1, 5], status_quo=[0])
    res = nash(p)
    assert list(res.diagnostics["participating"][0]) == [True, True, False]
    assert res.diagnostics["agreement"][0]
    # N = ln(x) + ln(x) on [0, 20], then ln(40 - x) + ln(x) on [20, 40]: maximal at 20.
    assert res.forecast[0, 0] == pytest.approx(20.0, abs=1e-6)


def _random(seed: int, b: int, n: int, d: int, sq: bool = True) -> Problem:
    rng = np.random.default_rng(seed)
    return Problem(tuple(f"a{i}" for i in range(n)), tuple(f"x{k}" for k in range(d)),
                   rng.uniform(0, 100, (b, n, d)), rng.uniform(0.05, 1, (b, n, d)),
                   rng.uniform(0.1, 1, (b, n)), np.zeros(d), np.full(d, 100.0),
                   rng.uniform(0, 100, (b, d)) if sq else None)


def test_solution_is_pareto_improving_and_not_dominated():
    p = _random(1, 12, 6, 2, sq=False)
    res = nash(p)
    agree = res.diagnostics["agreement"]
    inc = res.diagnostics["participating"]
    assert agree.all()  # the worst corner leaves room for everyone
    assert (res.diagnostics["gain"][inc] > 0).all()
    # No grid point makes every participant better off than the solution.
    g = np.linspace(0, 100, 41)
    pts = np.stack(np.meshgrid(g, g, indexing="ij"), -1).reshape(-1, 2)
    for k in range(p.batch):
        s = p.salience[k]
        def u(x):
            return -np.sqrt((((x[:, None, :] - p.position[k][None]) / 100.0 * s[None]) ** 2).sum(-1))
        ux = u(res.forecast[k][None])[0]
        up = u(pts)
        dominated = ((up >= ux - 1e-12) & inc[k][None]).all(-1) & ((up > ux + 1e-9) & inc[k][None]).any(-1)
        assert not dominated.any()


def test_batch_matches_single_draws():
    p = _random(2, 5, 5, 1)
    res = nash(p)
    for k in range(p.batch):
        single = nash(p.take(slice(k, k + 1)))
        np.testing.assert_allclose(single.forecast[0], res.forecast[k], atol=1e-9)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(2, 6), d=st.integers(1, 2))
def test_invariants(seed, n, d):
    p = _random(seed, 1, n, d)
    res = nash(p)
    x = res.forecast[0]
    assert ((x >= 0) & (x <= 100)).all()
    inc = res.diagnostics["participating"][0]
    if res.diagnostics["agreement"][0]:
        assert (res.diagnostics["gain"][0][inc] > 0).all()
    else:
        np.testing.assert_allclose(x, p.status_quo[0])
    # Relabelling actors changes nothing.
    perm = np.random.default_rng(seed).permutation(n)
    q = Problem(tuple(p.actors[i] for i in perm), p.dims, p.position[:, perm], p.salience[:, perm],
                p.capability[:, perm], p.lower, p.upper, p.status_quo)
    np.testing.assert_allclose(nash(q).forecast[0], x, atol=1e-6)
    # Scaling every capability by the same factor changes nothing.
    r = Problem(p.actors, p.dims, p.position, p.salience, p.capability * 7.5, p.lower, p.upper,
                p.status_quo)
    np.testing.assert_allclose(nash(r).forecast[0], x, atol=1e-6)
    # Moving the scale moves the solution with it.
    s = Problem(p.actors, p.dims, p.position * 2 - 50, p.salience, p.capability, p.lower * 2 - 50,
                p.upper * 2 - 50, p.status_quo * 2 - 50)
    np.testing.assert_allclose(nash(s).forecast[0], x * 2 - 50, atol=1e-5)
    # In one dimension the solution lies between d and the farthest ideal.
    if d == 1:
        pts = np.append(p.position[0, :, 0], p.status_quo[0, 0])
        assert pts.min() - 1e-9 <= x[0] <= pts.max() + 1e-9


def test_bad_option_is_rejected():
    with pytest.raises(ValueError, match="utility"):
        nash(_random(0, 1, 3, 1), NashOptions(utility="cosine"))


# --- The compiled optimiser against the reference (nash_reference) -----------------------
# Both decide agreement on the same candidate points; the compiled one then maximises N
# exactly (root finding / Newton) where the reference climbs with a shrinking local grid.
# In one dimension that climb provably reaches the top, so the forecasts must agree within
# 1e-6 of the span. In two dimensions a grid climb can stop short (at an ideal, where N has
# a cone's tip, or on a narrow ridge): there alone the forecasts may differ, and then the
# compiled forecast must have the larger Nash product (or an equal one, where the top is not
# a single point) and be a local maximum on a fine grid.

from hypothesis import HealthCheck  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402

from tawazun.engines.nash import nash_reference, solve_compiled  # noqa: E402

_UNIT = st.floats(0.05, 1.0)
_POS = st.floats(0.0, 100.0)


@st.composite
def _problems(draw, d):
    b = draw(st.integers(1, 3))
    n = draw(st.integers(1, 7))
    pos = draw(hnp.arrays(np.float64, (b, n, d), elements=_POS))
    sal = draw(hnp.arrays(np.float64, (b, n, d), elements=_UNIT))
    cap = draw(hnp.arrays(np.float64, (b, n), elements=_UNIT))
    sq = draw(st.none() | hnp.arrays(np.float64, (b, d), elements=_POS))
    opts = NashOptions(utility=draw(st.sampled_from(["euclidean", "cityblock", "quadratic"])),
                       weight=draw(st.sampled_from(["capability", "capability_salience"])),
                       disagreement=draw(st.sampled_from(["worst", "compromise", "lower", "upper"])))
    p = Problem(tuple(f"a{i}" for i in range(n)), tuple(f"x{k}" for k in range(d)), pos, sal, cap,
                np.zeros(d), np.full(d, 100.0), sq)
    return p, opts


def _nash_value(p, o, k, pts):
    """N at points (m, d) of draw k, on the problem's scale (-inf where someone loses)."""
    from tawazun.engines.nash import _normalised, _objective, _participants

    ideal, sal, w, dpt, span = _normalised(p.take(slice(k, k + 1)), o)
    u_d, inc = _participants(ideal, sal, w, dpt, o)
    y = (np.asarray(pts, dtype=float) - p.lower) / span
    return _objective(y[None], ideal, sal, w, u_d, inc, o.utility, o.min_gain)[0]


def _check_against_reference(p, o, strict):
    new, ref = nash(p, o), nash_reference(p, o)
    np.testing.assert_array_equal(new.diagnostics["agreement"], ref.diagnostics["agreement"])
    np.testing.assert_array_equal(new.diagnostics["participating"], ref.diagnostics["participating"])
    span = p.upper - p.lower
    off = np.abs(new.forecast - ref.forecast).max(axis=1) > 1e-6 * span.min()
    if strict:
        assert not off.any(), (new.forecast, ref.forecast)
    for k in np.flatnonzero(off):
        inc = ref.diagnostics["participating"][k]
        if ref.diagnostics["gain"][k][inc].min() < 1e-9:
            # The "deal" exists only by rounding: some participant gains nothing to 9
            # digits (e.g. city-block utilities with equal saliences, where a boundary of
            # the feasible set is a straight segment through the candidates). Both
            # answers are then rounding noise.
            continue
        n_new, n_ref = new.diagnostics["nash_product"][k], ref.diagnostics["nash_product"][k]
        # larger, or equal where the top is not a single point (e.g. city-block utilities
        # with equal saliences: N is flat along a segment)
        assert n_new >= n_ref - 1e-12 * max(1.0, abs(n_ref)), (k, new.forecast[k], ref.forecast[k])
        # and nothing close by does better
        g = np.linspace(-1e-3, 1e-3, 9)[:, None] * span
        pts = np.clip(new.forecast[k] + np.stack(np.meshgrid(g[:, 0], g[:, 1], indexing="ij"),
                                                 -1).reshape(-1, 2), p.lower, p.upper)
        assert _nash_value(p, o, k, pts).max() <= n_new + 1e-12
    return off


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_problems(1))
def test_compiled_matches_reference_one_dimension(case):
    p, o = case
    _check_against_reference(p, o, strict=True)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_problems(2))
def test_compiled_matches_reference_two_dimensions(case):
    p, o = case
    _check_against_reference(p, o, strict=False)


@pytest.mark.parametrize("utility", ["euclidean", "cityblock", "quadratic"])
@pytest.mark.parametrize("d", [1, 2])
def test_compiled_matches_reference_on_random_batches(utility, d):
    # 200 generic draws per case: in one dimension all agree; in two, a stopped-short
    # reference is rare, and each such draw is checked as above.
    p = _random(100 + d, 200, 6, d, sq=d == 1)
    off = _check_against_reference(p, NashOptions(utility=utility), strict=d == 1)
    assert off.mean() <= 0.02


def test_reference_stops_short_at_an_ideal():
    # The reference's 5 x 5 local grid finds no uphill point from A's ideal (the tip of A's
    # cone) and stops there; N rises away from it, along a direction between the grid's.
    p = Problem.from_points(["A", "B"], [[66.76, 41.28], [84.83, 52.45]], [[0.55, 0.72], [0.37, 0.33]],
                            [0.82, 0.83], status_quo=[6.07, 51.04], dims=("a", "b"))
    ref, new = nash_reference(p), nash(p)
    np.testing.assert_allclose(ref.forecast[0], [66.76, 41.28])
    assert new.diagnostics["nash_product"][0] > ref.diagnostics["nash_product"][0] + 1e-5
    np.testing.assert_allclose(new.forecast[0], [67.0276, 41.3574], atol=1e-3)
    _check_against_reference(p, NashOptions(), strict=False)


def test_shipped_arena_and_emission_case_match_reference():
    import sys
    from pathlib import Path

    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem
    from tawazun.uncertainty import sample

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    try:
        from ensemble import emissions
    finally:
        sys.path.pop(0)
    for rp in (emissions(), ranged_problem(load_arena(), "iraq-deal", joint=True)):
        _check_against_reference(sample(rp, 150, 7), NashOptions(), strict=True)


def test_three_dimensions_use_the_reference():
    p = _random(5, 3, 4, 3)
    new, ref = nash(p), nash_reference(p)
    np.testing.assert_array_equal(new.forecast, ref.forecast)
    with pytest.raises(ValueError, match="1 or 2 dimensions"):
        solve_compiled(np.zeros((1, 2, 3)), np.ones((1, 2, 3)), np.ones((1, 2)), np.zeros((1, 3)),
                       NashOptions())


def test_threads_change_nothing(monkeypatch):
    """Draws are split into blocks across threads; every draw runs the same compiled code."""
    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem
    from tawazun.uncertainty import sample

    problem = sample(ranged_problem(load_arena(), "iraq-deal", joint=True), 3100, 3)
    out = {}
    for threads in ("1", "2", "3"):
        monkeypatch.setenv("TAWAZUN_NASH_THREADS", threads)
        out[threads] = nash(problem)
    for threads in ("2", "3"):
        np.testing.assert_array_equal(out[threads].forecast, out["1"].forecast)
        for key, value in out["1"].diagnostics.items():
            np.testing.assert_array_equal(out[threads].diagnostics[key], value)
    # the explicit argument, and one draw at a time, agree bit for bit as well
    from tawazun.engines.nash import _normalised

    o = NashOptions()
    ideal, sal, w, dpt, _ = _normalised(problem, o)
    x1 = solve_compiled(ideal, sal, w, dpt, o, threads=1)[0]
    x4 = solve_compiled(ideal, sal, w, dpt, o, threads=4)[0]
    np.testing.assert_array_equal(x1, x4)
    for k in (0, 1517, 3099):
        one = solve_compiled(ideal[k:k + 1], sal[k:k + 1], w[k:k + 1], dpt[k:k + 1], o, threads=1)[0]
        np.testing.assert_array_equal(one[0], x1[k])
