"""Compromise and weighted median: reference values and invariants (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from tawazun.engines import REGISTRY, Problem, get_engine
from tawazun.engines.median import weighted_median

# EC car-emission case (Bueno de Mesquita 1994, Table 1): positions, capability, salience.
EMISSION = dict(
    position=[4, 7, 4, 4, 10, 10, 10, 7, 4, 7],
    capability=[0.08, 0.08, 0.03, 0.16, 0.16, 0.16, 0.16, 0.05, 0.05, 0.08],
    salience=[0.8, 0.4, 0.2, 0.8, 0.6, 0.6, 0.9, 0.1, 1.0, 0.7],
)


def emission_problem() -> Problem:
    return Problem.from_points([f"a{i}" for i in range(10)], EMISSION["position"], EMISSION["salience"],
                               EMISSION["capability"], 4, 10)


def test_emission_reference_points():
    p = emission_problem()
    # Scholz et al. (2011) Table 2 give 7.0 as the round-0 weighted median; the weighted mean
    # is 500.3/67.7 by hand: (4*24.8 + 7*9.3 + 10*33.6) / 67.7.
    assert get_engine("median").run(p).forecast[0, 0] == 7.0
    assert get_engine("compromise").run(p).forecast[0, 0] == pytest.approx((4 * 24.8 + 7 * 9.3 + 10 * 33.6) / 67.7)


def test_registry_contract():
    for name in ("compromise", "median"):
        spec = REGISTRY[name]
        assert spec.name == name and not spec.dynamic and not spec.joint
    with pytest.raises(KeyError, match="unknown engine"):
        get_engine("astrology")


def test_weighted_median_ties_take_lower_half():
    assert weighted_median(np.array([1.0, 2.0]), np.array([1.0, 1.0])) == 1.0
    assert weighted_median(np.array([1.0, 2.0, 3.0]), np.array([1.0, 1.0, 3.0])) == 3.0
    assert np.isnan(weighted_median(np.array([1.0, 2.0]), np.array([0.0, 0.0])))


cases = st.integers(min_value=2, max_value=12).flatmap(
    lambda n: st.tuples(
        arrays(np.float64, n, elements=st.floats(0, 100)),
        arrays(np.float64, n, elements=st.floats(0.05, 1)),
        arrays(np.float64, n, elements=st.floats(0.05, 1)),
    )
)


@pytest.mark.parametrize("name", ["compromise", "median"])
@settings(max_examples=60, deadline=None)
@given(case=cases, perm_seed=st.integers(0, 2**32 - 1), shift=st.floats(-50, 50), scale=st.floats(0.1, 10))
def test_invariants(name, case, perm_seed, shift, scale):
    pos, sal, cap = case
    n = len(pos)
    engine = get_engine(name)
    base = engine.run(Problem.from_points([str(i) for i in range(n)], pos, sal, cap, 0, 100)).forecast[0, 0]
    # inside the actors' range
    assert pos.min() - 1e-9 <= base <= pos.max() + 1e-9
    # permutation of actors changes nothing
    perm = np.random.default_rng(perm_seed).permutation(n)
    permuted = engine.run(Problem.from_points([str(i) for i in perm], pos[perm], sal[perm], cap[perm], 0, 100))
    assert permuted.forecast[0, 0] == pytest.approx(base, abs=1e-9)
    # affine change of scale moves the forecast the same way
    moved = engine.run(Problem.from_points([str(i) for i in range(n)], pos * scale + shift, sal, cap,
                                           shift, 100 * scale + shift))
    assert moved.forecast[0, 0] == pytest.approx(base * scale + shift, abs=1e-6 * max(1.0, abs(base * scale + shift)))


@pytest.mark.parametrize("name", ["compromise", "median"])
def test_batch_equals_one_by_one(name):
    rng = np.random.default_rng(7)
    b, n, d = 6, 9, 2
    pos = rng.uniform(0, 100, (b, n, d))
    sal = rng.uniform(0, 1, (b, n, d))
    cap = rng.uniform(0, 1, (b, n))
    engine = get_engine(name)
    batch = engine.run(Problem(tuple("abcdefghi"), ("x", "y"), pos, sal, cap, [0, 0], [100, 100])).forecast
    for k in range(b):
        one = engine.run(Problem(tuple("abcdefghi"), ("x", "y"), pos[k:k + 1], sal[k:k + 1], cap[k:k + 1],
                                 [0, 0], [100, 100])).forecast
        np.testing.assert_allclose(batch[k], one[0])


def test_options_coercion_and_errors():
    spec = get_engine("compromise")
    with pytest.raises(KeyError, match="no option 'rounds'"):
        spec.make_options({"rounds": "3"})
