"""Sampling, ensembles and summaries of tawazun.uncertainty."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.engines.base import REGISTRY, EngineResult, EngineSpec, RangedProblem, get_engine
from tawazun.errors import InputError
from tawazun.cli.progress import progress_bar
from tawazun.uncertainty import forecast_distribution, run_ensemble, sample
from tawazun.uncertainty.sampling import (
    BLOCK, flat_ranges, input_names, inverse_cdf, moments, sample_flat, unflatten,
)
from tawazun.uncertainty.summary import band_edges, band_probabilities, summarize

# The EC car-emissions case (Bueno de Mesquita 1994, Table 1): capability, position, salience.
EMISSIONS = [
    ("Netherlands", 0.08, 4, 80), ("Belgium", 0.08, 7, 40), ("Luxembourg", 0.03, 4, 20),
    ("Germany", 0.16, 4, 80), ("France", 0.16, 10, 60), ("Italy", 0.16, 10, 60),
    ("UK", 0.16, 10, 90), ("Ireland", 0.05, 7, 10), ("Denmark", 0.05, 4, 100),
    ("Greece", 0.08, 7, 70),
]


def emissions_ranged(spread: float = 1.0, with_sq: bool = True) -> RangedProblem:
    """Emissions case with ranges around the published numbers (spread 0: points)."""
    names = tuple(a for a, *_ in EMISSIONS)
    cap = np.array([c for _, c, _, _ in EMISSIONS])
    pos = np.array([p for _, _, p, _ in EMISSIONS], dtype=float)
    sal = np.array([s for *_, s in EMISSIONS]) / 100.0
    pos3 = np.stack([np.clip(pos - spread, 4, 10), pos, np.clip(pos + 0.5 * spread, 4, 10)])[..., None]
    sal3 = np.stack([np.clip(sal - 0.1 * spread, 0, 1), sal, np.clip(sal + 0.1 * spread, 0, 1)])[..., None]
    cap3 = np.stack([cap * (1 - 0.25 * spread), cap, cap * (1 + 0.25 * spread)])
    sq = np.array([[4.0 - 0.0], [4.0], [4.0 + spread]]) if with_sq else None
    return RangedProblem(names, ("delay",), pos3, sal3, cap3, np.array([4.0]), np.array([10.0]), sq)


# ---------------------------------------------------------------------------- sampling


def test_layout_round_trip():
    rp = emissions_ranged()
    flat = flat_ranges(rp)
    assert flat.shape == (3, 10 + 10 + 10 + 1)
    assert len(input_names(rp)) == flat.shape[1]
    prob = unflatten(rp, flat[1][None])
    ref = rp.point()
    for f in ("position", "salience", "capability", "status_quo"):
        np.testing.assert_array_equal(getattr(prob, f), getattr(ref, f))


@pytest.mark.parametrize("dist", ["triangular", "pert", "uniform"])
def test_draws_stay_in_range_and_points_are_exact(dist):
    rp = emissions_ranged()
    pos = rp.position.copy()
    pos[:, :3] = pos[1, :3]  # three actors with a point position
    rp = dataclasses.replace(rp, position=pos)
    x = sample_flat(rp, 3000, seed=5, dist=dist)
    lo, mode, hi = flat_ranges(rp)
    assert np.all(x >= lo) and np.all(x <= hi)
    fixed = hi == lo
    assert fixed.sum() == 3
    assert np.array_equal(x[:, fixed], np.broadcast_to(mode[fixed], (3000, int(fixed.sum()))))


TRIPLETS = [(0.0, 0.0, 1.0), (0.0, 0.3, 1.0), (10.0, 65.0, 80.0), (2.0, 5.0, 5.0), (-3.0, 1.0, 9.0)]


def _column_problem(triplets):
    tri = np.array(triplets, dtype=float).T  # (3, K)
    k = tri.shape[1]
    return RangedProblem(tuple(f"a{i}" for i in range(k)), ("x",), tri[:, :, None],
                         np.full((3, k, 1), 0.5), np.ones((3, k)), np.array([-10.0]), np.array([100.0]))


@pytest.mark.parametrize("dist", ["triangular", "pert", "uniform"])
def test_sample_moments_match_theory(dist):
    rp = _column_problem(TRIPLETS)
    n = 200_000
    pos = sample(rp, n, seed=11, dist=dist).position[:, :, 0]
    for j, (a, c, b) in enumerate(TRIPLETS):
        mean, var = moments(a, c, b, dist)
        m = pos[:, j].mean()
        v = pos[:, j].var()
        assert abs(m - mean) <= 5 * np.sqrt(var / n) + 1e-12
        # Sample variance: relative tolerance ~ 5 standard errors (kurtosis <= 2.4 here).
        assert abs(v - var) <= 0.02 * var + 1e-12


def test_moment_formulas_by_hand():
    # Triangular (0, 0, 1): mean 1/3, variance 1/18. PERT (0, 0.5, 1): Beta(3, 3), var 1/28.
    assert moments(0, 0, 1, "triangular") == pytest.approx((1 / 3, 1 / 18))
    assert moments(0, 0.5, 1, "pert") == pytest.approx((0.5, 1 / 28))
    assert moments(10, 40, 100, "pert")[0] == pytest.approx((10 + 4 * 40 + 100) / 6)
    assert moments(3, 3, 3, "pert") == (3.0, 0.0)


@pytest.mark.parametrize("dist", ["triangular", "pert", "uniform"])
def test_inverse_cdf_moments(dist):
    tri = np.array(TRIPLETS, dtype=float).T
    u = (np.arange(20_000) + 0.5) / 20_000  # midpoint rule over [0, 1]
    x = inverse_cdf(u[:, None], tri, dist)
    for j, trip in enumerate(TRIPLETS):
        mean, var = moments(*trip, dist)
        assert x[:, j].mean() == pytest.approx(mean, abs=1e-3 * (1 + abs(mean)))
        assert x[:, j].var() == pytest.approx(var, rel=2e-3, abs=1e-9)
    assert np.all(np.diff(x, axis=0) >= 0)  # monotone in u


def test_blocks_are_seeded_by_block_index():
    rp = emissions_ranged()
    a = sample_flat(rp, BLOCK + 10, seed=3)
    b = sample_flat(rp, 10, seed=3, start=BLOCK)
    assert np.array_equal(a[BLOCK:], b)
    c = sample_flat(rp, 10, seed=4, start=BLOCK)
    assert not np.array_equal(b, c)


@settings(max_examples=25, deadline=None)
@given(start=st.integers(0, 3 * BLOCK), draws=st.integers(0, 2 * BLOCK),
       dist=st.sampled_from(["triangular", "pert"]))
def test_any_window_equals_the_slice_of_one_long_run(start, draws, dist):
    rp = emissions_ranged()
    whole = sample_flat(rp, 5 * BLOCK, seed=21, dist=dist)
    part = sample_flat(rp, draws, seed=21, dist=dist, start=start)
    assert np.array_equal(part, whole[start : start + draws])


def test_bad_ranges_and_dist_are_input_errors():
    rp = emissions_ranged()
    bad = dataclasses.replace(rp, position=rp.position[[2, 1, 0]])
    with pytest.raises(InputError, match="low <= mode <= high"):
        sample(bad, 5, 0)
    with pytest.raises(InputError, match="distribution"):
        sample(rp, 5, 0, dist="normal")
    with pytest.raises(InputError, match="seed"):
        sample(rp, 5, -1)


# ---------------------------------------------------------------------------- ensemble


def _engines_for(d: int) -> list[str]:
    get_engine("compromise")  # import the built-ins
    return sorted(n for n, s in REGISTRY.items() if s.max_dims is None or s.max_dims >= d)


@pytest.mark.parametrize("name", _engines_for(1))
def test_collapsed_ranges_give_the_deterministic_forecast(name):
    rp = emissions_ranged(spread=0.0)
    spec = get_engine(name)
    point = spec.run(rp.point(), spec.options(), np.random.default_rng(0)).forecast
    draws = 16
    ens, summ = forecast_distribution(rp, name, draws=draws, seed=9, anchors=[(4, "now"), (10, "late")])
    assert ens.forecast.shape == (draws, 1)
    if name in ("compromise", "median"):
        assert np.array_equal(ens.forecast, np.repeat(point, draws, axis=0))
    else:
        np.testing.assert_allclose(ens.forecast, np.repeat(point, draws, axis=0), rtol=1e-9, atol=1e-9)
    assert summ["sd"] == pytest.approx(0.0, abs=1e-9)
    assert summ["quantiles"]["5"] == pytest.approx(summ["quantiles"]["95"])
    assert sorted(b["probability"] for b in summ["bands"]) == [0.0, 1.0]


@pytest.mark.parametrize("engine", ["compromise", "median"])
def test_chunked_equals_unchunked_bit_for_bit(engine):
    rp = emissions_ranged()
    ref = run_ensemble(rp, engine, draws=3000, seed=42, chunk_size=3000).forecast
    for size in (1000, 1024, 7, 2999, 4096):
        got = run_ensemble(rp, engine, draws=3000, seed=42, chunk_size=size).forecast
        assert np.array_equal(got, ref), size
    tiny = run_ensemble(rp, engine, draws=50, seed=42, chunk_size=1).forecast
    assert np.array_equal(tiny, ref[:50])


def test_ensemble_forecasts_are_the_engine_on_the_sampled_batch():
    rp = emissions_ranged()
    ens = run_ensemble(rp, "compromise", draws=500, seed=1, dist="pert")
    prob = sample(rp, 500, 1, dist="pert")
    direct = get_engine("compromise").run(prob).forecast
    assert np.array_equal(ens.forecast, direct)
    assert ens.forecast.min() >= 4 and ens.forecast.max() <= 10


def test_progress_callback_counts_draws():
    calls = []
    run_ensemble(emissions_ranged(), "median", draws=2500, seed=0, chunk_size=1000,
                 progress=lambda done, total: calls.append((done, total)))
    assert calls == [(1000, 2500), (2000, 2500), (2500, 2500)]


def test_progress_bar_is_silent_when_not_a_terminal():
    import io

    from rich.console import Console

    buf = io.StringIO()
    con = Console(file=buf, force_terminal=False)
    with progress_bar(console=con, delay=0.0) as cb:
        run_ensemble(emissions_ranged(), "median", draws=300, chunk_size=100, progress=cb)
    assert buf.getvalue() == ""


@dataclasses.dataclass(frozen=True)
class _NoOptions:
    pass


def _interrupting(problem, options=None, rng=None):
    raise KeyboardInterrupt


def _one_dim_only(problem, options=None, rng=None):
    return EngineResult("one", problem.position.mean(axis=1))


def test_keyboard_interrupt_propagates():
    spec = EngineSpec("interrupt", _interrupting, _NoOptions, False, None, "raises")
    with pytest.raises(KeyboardInterrupt):
        run_ensemble(emissions_ranged(), spec, draws=10)


def test_engine_dimension_limit_and_bad_arguments():
    rp = emissions_ranged()
    two = dataclasses.replace(
        rp, dims=("a", "b"), position=np.repeat(rp.position, 2, axis=2),
        salience=np.repeat(rp.salience, 2, axis=2), lower=np.array([4.0, 4.0]),
        upper=np.array([10.0, 10.0]), status_quo=None)
    spec = EngineSpec("one", _one_dim_only, _NoOptions, False, 1, "one dim")
    with pytest.raises(InputError, match="at most 1 dimension"):
        run_ensemble(two, spec, draws=4)
    with pytest.raises(InputError, match="draws"):
        run_ensemble(rp, "median", draws=0)
    with pytest.raises(InputError, match="unknown engine"):
        run_ensemble(rp, "no-such-engine", draws=4)
    with pytest.raises(InputError, match="no option"):
        run_ensemble(rp, "median", options={"bogus": "1"}, draws=4)
    ens, summ = forecast_distribution(two, "compromise", draws=64, anchors={"a": [(4, "x")]})
    assert set(summ) == {"a", "b"} and summ["a"]["bands"][0]["probability"] == 1.0
    assert summ["b"]["bands"] == []


# ----------------------------------------------------------------------------- summary


def test_bands_by_hand():
    anchors = [(100, "c"), (0, "a"), (40, "b")]  # unsorted on purpose
    assert band_edges(0, 100, anchors) == [("a", 0.0, 20.0), ("b", 20.0, 70.0), ("c", 70.0, 100.0)]
    values = np.array([0, 19.9, 20, 50, 69.99, 70, 100, 100])
    probs = [b["probability"] for b in band_probabilities(values, 0, 100, anchors)]
    assert probs == [2 / 8, 3 / 8, 3 / 8]


def test_summary_keys_and_numbers():
    rng = np.random.default_rng(0)
    v = rng.uniform(0, 100, 1001)
    v[3] = np.nan
    s = summarize(v, 0, 100, [(0, "low"), (100, "high")], bins=10)
    assert s["draws"] == 1001 and s["invalid"] == 1
    ok = v[~np.isnan(v)]
    assert s["mean"] == pytest.approx(ok.mean())
    assert s["sd"] == pytest.approx(ok.std(ddof=1))
    assert list(s["quantiles"]) == ["5", "10", "25", "50", "75", "90", "95"]
    assert s["quantiles"]["50"] == pytest.approx(np.median(ok))
    assert len(s["histogram"]["edges"]) == 11 and sum(s["histogram"]["counts"]) == 1000
    assert s["bands"][0]["probability"] == pytest.approx(np.mean(ok < 50))
    import json

    json.dumps(s, allow_nan=False)


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-10, 110, allow_nan=False), min_size=1, max_size=60),
       anchors=st.lists(st.floats(0, 100, allow_nan=False), min_size=1, max_size=6))
def test_band_probabilities_sum_to_one(values, anchors):
    bands = band_probabilities(np.array(values), 0, 100, [(a, f"L{i}") for i, a in enumerate(anchors)])
    assert sum(b["probability"] for b in bands) == pytest.approx(1.0)
    assert bands[0]["low"] == 0 and bands[-1]["high"] == 100
    assert all(b1["high"] == b2["low"] for b1, b2 in zip(bands, bands[1:]))
