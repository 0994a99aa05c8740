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
