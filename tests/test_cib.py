"""CIB engine: reference cases, a hand-checked case, and properties against brute force."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tawazun.scenarios import cib
from tawazun.scenarios import io as cio
from tawazun.scenarios.model import ScenariosSection, to_arrays

HERE = Path(__file__).resolve().parent
FIX = HERE / "fixtures" / "cib"
REF = HERE / "reference" / "cib"  # see tests/reference/README.md


def _ref(name: str) -> Path:
    path = REF / name
    if not path.exists():
        raise FileNotFoundError(f"shared reference {name} not available")
    return path


def _arrays(data: dict):
    return to_arrays(ScenariosSection.model_validate(data))


def _tuples(a: np.ndarray) -> list[tuple[int, ...]]:
    return [tuple(int(x) for x in row) for row in a]


# ---------------------------------------------------------------- Somewhereland (shared)


def test_somewhereland_consistent_scenarios_and_tis():
    arr = _arrays(cio.read_cibcsv(_ref("somewhereland_matrix.csv")))
    expected = json.loads(_ref("somewhereland_expected.json").read_text())
    res = cib.enumerate_scenarios(arr.matrix, arr.counts)
    got = {tuple(x + 1 for x in s): t for s, t in zip(_tuples(res.scenarios), res.scores.tis)}
    want = {tuple(c["indices_1based"]): c["total_impact_score"] for c in expected["consistent"]}
    assert got == want
    assert len(got) == 10
    assert (res.scores.inconsistency == 0).all()


@pytest.mark.parametrize("method", ["static", "fcff", "prop"])
def test_somewhereland_weak_consistency_counts(method):
    arr = _arrays(cio.read_cibcsv(_ref("somewhereland_matrix.csv")))
    expected = json.loads(_ref("somewhereland_expected.json").read_text())["count_ic_le"]
    for k in range(4):
        res = cib.enumerate_scenarios(arr.matrix, arr.counts, tolerance=k, method=method)
        assert len(res.scenarios) == expected[str(k)]
        assert (res.scores.inconsistency <= k).all()
    assert [expected[str(k)] for k in (1, 2, 3)] == [15, 32, 59]


@pytest.mark.parametrize("mode", ["global", "local"])
def test_somewhereland_basins(mode):
    arr = _arrays(cio.read_cibcsv(_ref("somewhereland_matrix.csv")))
    expected = json.loads(_ref("somewhereland_expected.json").read_text())
    suc = cib.succession(arr.matrix, arr.counts, mode=mode, tie="keep")
    assert suc.starts == 486 and suc.unfinished == 0
    got = {tuple(int(x) + 1 for x in a.states[0]): a.basin for a in suc.fixed_points}
    want = {tuple(c["indices_1based"]): c[f"{mode}_succession_basin"] for c in expected["consistent"]}
    assert got == want
    if mode == "global":
        assert suc.cycles == [] and expected["global_cycles"] == []
    assert sum(a.basin for a in suc.attractors) == 486


# ---------------------------------------------------------------- CIB_global.scw (shared)


def _read_sl(path: Path) -> dict[tuple[int, ...], tuple[int, int, int]]:
    rows = {}
    for line in path.read_text().splitlines():
        if line.startswith('"'):
            idx, basin, cv, _zero, tis, _ = line.split(",")
            rows[tuple(int(x) for x in idx.strip('"').split())] = (int(basin), int(cv), int(tis))
    return rows


def test_cib_global_matches_scenariowizard_solution_list():
    arr = _arrays(cio.read_scw(_ref("CIB_global.scw")))
    sl = _read_sl(_ref("CIB_global.sl"))
    res = cib.enumerate_scenarios(arr.matrix, arr.counts)
    got = {
        tuple(x + 1 for x in s): (int(cv), int(t))
        for s, cv, t in zip(_tuples(res.scenarios), res.scores.consistency, res.scores.tis)
    }
    assert got == {k: (cv, tis) for k, (_b, cv, tis) in sl.items()}
    assert len(got) == 4
    suc = cib.succession(arr.matrix, arr.counts, mode="global", tie="keep")
    basins = {tuple(int(x) + 1 for x in a.states[0]): a.basin for a in suc.fixed_points}
    assert basins == {k: b for k, (b, _cv, _t) in sl.items()}
    expected = json.loads(_ref("CIB_global_expected.json").read_text())
    in_cycles = sum(a.basin for a in suc.cycles)
    assert in_cycles == expected["scenarios_in_2cycles_under_global_succession"] == 17
    assert all(a.states.shape[0] == 2 for a in suc.cycles)
    weak = cib.enumerate_scenarios(arr.matrix, arr.counts, tolerance=1)
    assert sorted(tuple(x + 1 for x in s) for s in _tuples(weak.scenarios)) == sorted(
        tuple(x) for x in expected["ic_le_1"]
    )


# ---------------------------------------------------------------- hand-checked case
#
# tests/fixtures/cib/hand3.csv: descriptors A, B, C with two variants each.
#   C drives A:  C1 -> A1 +1, A2 -1;   C2 -> A1 -1, A2 +1
#   A drives B:  A1 -> B1 +2, B2 -2;   A2 -> B1 -1, B2 +1
#   B drives C:  B1 -> C1 +1, C2 -1;   B2 -> C1 -2, C2 +2
# Gaps (best balance - chosen balance) per descriptor, scenario (a, b, c), 1-based:
#   A: 0 when a == c, else 2.
#   B: a=1: 0 for b=1, 4 for b=2;  a=2: 0 for b=2, 2 for b=1.
#   C: b=1: 0 for c=1, 2 for c=2;  b=2: 0 for c=2, 4 for c=1.
#   (1,1,1): 0,0,0 -> IC 0     (1,1,2): 2,0,2 -> IC 2     (1,2,1): 0,4,4 -> IC 4
#   (1,2,2): 2,4,0 -> IC 4     (2,1,1): 2,2,0 -> IC 2     (2,1,2): 0,2,2 -> IC 2
#   (2,2,1): 2,0,4 -> IC 4     (2,2,2): 0,0,0 -> IC 0
# Consistent: (1,1,1) with balances A1 +1, B1 +2, C1 +1 -> TIS 4, margins 2, 4, 2 -> CV 2;
#             (2,2,2) with balances A2 +1, B2 +1, C2 +2 -> TIS 4, margins 2, 2, 4 -> CV 2.
# Global succession (all jump): (1,2,1) -> (1,1,2) -> (2,1,1) -> (1,2,1): a 3-cycle, and
#   (2,1,2) -> (2,2,1) -> (1,2,2) -> (2,1,2): another; each fixed point is its own basin.
# Local succession: (1,2,1) has gaps 0,4,4: B and C tie, the lower index B moves to B1 ->
#   (1,1,1). (1,1,2): gaps 2,0,2, A moves -> (2,1,2): gaps 0,2,2, B moves -> (2,2,2).


def _hand():
    return _arrays(cio.read_cibcsv(FIX / "hand3.csv"))


def test_hand_case_scores():
    arr = _hand()
    every = cib.all_scenarios(arr.counts)
    sc = cib.evaluate(arr.matrix, arr.counts, every)
    ic = {tuple(x + 1 for x in s): int(v) for s, v in zip(_tuples(every), sc.inconsistency)}
    assert ic == {
        (1, 1, 1): 0, (1, 1, 2): 2, (1, 2, 1): 4, (1, 2, 2): 4,
        (2, 1, 1): 2, (2, 1, 2): 2, (2, 2, 1): 4, (2, 2, 2): 0,
    }  # fmt: skip
    np.testing.assert_array_equal(np.maximum(0, -sc.consistency), sc.inconsistency)
    res = cib.enumerate_scenarios(arr.matrix, arr.counts)
    assert _tuples(res.scenarios) == [(0, 0, 0), (1, 1, 1)]
    assert res.scores.tis.tolist() == [4, 4]
    assert res.scores.consistency.tolist() == [2, 2]
    assert len(cib.enumerate_scenarios(arr.matrix, arr.counts, tolerance=2).scenarios) == 5
    assert len(cib.enumerate_scenarios(arr.matrix, arr.counts, tolerance=3).scenarios) == 5
    assert len(cib.enumerate_scenarios(arr.matrix, arr.counts, tolerance=4).scenarios) == 8


def test_hand_case_succession():
    arr = _hand()
    g = cib.succession(arr.matrix, arr.counts, mode="global")
    assert [(_tuples(a.states), a.basin) for a in g.fixed_points] == [([(0, 0, 0)], 1), ([(1, 1, 1)], 1)]
    cycles = sorted(sorted(_tuples(a.states)) for a in g.cycles)
    assert cycles == [[(0, 0, 1), (0, 1, 0), (1, 0, 0)], [(0, 1, 1), (1, 0, 1), (1, 1, 0)]]
    assert [a.basin for a in g.cycles] == [3, 3]
    loc = cib.succession(arr.matrix, arr.counts, mode="local", starts=np.array([[0, 1, 0], [0, 0, 1]]))
    ends = {tuple(a.states[0]): a.basin for a in loc.attractors}
    assert ends == {(0, 0, 0): 1, (1, 1, 1): 1}


def test_tie_rules_differ_on_a_tie():
    # two descriptors, no impacts at all: every scenario ties everywhere
    c = np.zeros((4, 4))
    keep = cib.succession(c, [2, 2], mode="global", tie="keep")
    assert len(keep.fixed_points) == 4 and all(a.basin == 1 for a in keep.attractors)
    low = cib.succession(c, [2, 2], mode="global", tie="lowest")
    assert [(_tuples(a.states), a.basin) for a in low.attractors] == [([(0, 0)], 4)]
    loc = cib.succession(c, [2, 2], mode="local", tie="lowest")
    assert [(_tuples(a.states), a.basin) for a in loc.attractors] == [([(0, 0)], 4)]


def test_sampled_starts_are_seeded():
    arr = _hand()
    a = cib.succession(arr.matrix, arr.counts, starts=50, seed=3)
    b = cib.succession(arr.matrix, arr.counts, starts=50, seed=3)
    assert a.starts == 50
    assert [(x.states.tolist(), x.basin) for x in a.attractors] == [(x.states.tolist(), x.basin) for x in b.attractors]


# ---------------------------------------------------------------- ensembles


def test_ensemble_constant_ranges_give_frequency_one():
    arr = _hand()
    mats = cib.sample_triangular(arr.low, arr.matrix, arr.high, 5, seed=1)
    assert (mats == arr.matrix).all()
    ens = cib.ensemble(mats, arr.counts)
    assert _tuples(ens.scenarios) == [(0, 0, 0), (1, 1, 1)]
    assert ens.frequency.tolist() == [1.0, 1.0]


def test_ensemble_ranges_are_seeded_and_bounded():
    data = cio.read_yaml(FIX / "hand3_ranges.yaml")[0]
    arr = to_arrays(data)
    assert arr.has_ranges
    m1 = cib.sample_triangular(arr.low, arr.matrix, arr.high, 400, seed=7)
    m2 = cib.sample_triangular(arr.low, arr.matrix, arr.high, 400, seed=7)
    assert (m1 == m2).all()
    assert (m1 >= arr.low).all() and (m1 <= arr.high).all()
    raw = cib.sample_triangular(arr.low, arr.matrix, arr.high, 20000, seed=7, rounding=False)
    # triangular(-1, 2, 3) has mean 4/3
    assert abs(raw[:, 0, 2].mean() - 4 / 3) < 0.05
    ens = cib.ensemble(m1, arr.counts)
    freq = dict(zip(_tuples(ens.scenarios), ens.frequency))
    # (2,2,2) does not involve A1 -> B1: consistent in every draw
    assert freq[(1, 1, 1)] == 1.0
    # (1,1,1) needs balance(B1) = x >= balance(B2) = -2 with x the draw of A1 -> B1 in
    # [-1, 3]: consistent in every draw as well
    assert freq[(0, 0, 0)] == 1.0


def test_ensemble_of_expert_matrices():
    arr = _hand()
    flipped = arr.matrix.copy()
    flipped[4:6, 0:2] *= -1  # a second expert who reads C's effect on A the other way round
    ens = cib.ensemble(np.stack([arr.matrix, flipped]), arr.counts)
    freq = dict(zip(_tuples(ens.scenarios), ens.frequency))
    assert freq[(0, 0, 0)] == 0.5 and freq[(1, 1, 1)] == 0.5
    assert sum(freq.values()) == 1.0  # the second expert's matrix has no consistent scenario


# ---------------------------------------------------------------- properties


@st.composite
def cib_case(draw, max_desc=5, max_var=4):
    d = draw(st.integers(2, max_desc))
    counts = draw(st.lists(st.integers(2, max_var), min_size=d, max_size=d))
    v = sum(counts)
    flat = draw(st.lists(st.integers(-3, 3), min_size=v * v, max_size=v * v))
    return np.array(flat, dtype=float).reshape(v, v), counts


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cib_case(), k=st.integers(0, 3))
def test_pruned_enumeration_equals_brute_force(case, k):
    matrix, counts = case
    want = _tuples(cib.brute_force(matrix, counts, k))
    for method in ("static", "fcff", "prop", "auto"):
        got = cib.enumerate_scenarios(matrix, counts, tolerance=k, method=method)
        assert _tuples(got.scenarios) == want
        # Never more nodes than the largest full tree any branching order could build:
        # the search may take descriptors in any order, so the bound multiplies the
        # biggest counts first (the given order's tree can be smaller).
        assert got.evaluated <= sum(np.cumprod(sorted(counts, reverse=True)))


@st.composite
def cib_case_with_singletons(draw):
    """Like cib_case but descriptors may have a single variant, and judgments may be halves."""
    d = draw(st.integers(1, 6))
    counts = draw(st.lists(st.integers(1, 4), min_size=d, max_size=d))
    v = sum(counts)
    flat = draw(st.lists(st.integers(-6, 6), min_size=v * v, max_size=v * v))
    return np.array(flat, dtype=float).reshape(v, v) / 2, counts


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=cib_case_with_singletons(), k=st.sampled_from([0, 0.5, 1, 2, 3]), threads=st.sampled_from([1, 2]))
def test_propagation_search_equals_brute_force(case, k, threads):
    matrix, counts = case
    want = _tuples(cib.brute_force(matrix, counts, k))
    got = cib.enumerate_scenarios(matrix, counts, tolerance=k, method="prop", threads=threads)
    assert _tuples(got.scenarios) == want
    assert got.complete
    static = cib.enumerate_scenarios(matrix, counts, tolerance=k, method="static", threads=1)
    assert _tuples(static.scenarios) == want
    if want:
        assert np.allclose(got.scores.tis, static.scores.tis)


def test_propagation_search_on_larger_random_matrices():
    rng = np.random.default_rng(2026)
    for counts in ([3] * 11, [2, 5, 3, 4, 3, 2, 4, 3]):
        v = sum(counts)
        m = rng.integers(-3, 4, size=(v, v)).astype(float)
        for k in (0, 1, 3):
            ref = _tuples(cib.enumerate_scenarios(m, counts, tolerance=k, method="static").scenarios)
            one = cib.enumerate_scenarios(m, counts, tolerance=k, method="prop", threads=1)
            two = cib.enumerate_scenarios(m, counts, tolerance=k, method="prop", threads=2)
            assert _tuples(one.scenarios) == _tuples(two.scenarios) == ref
            assert one.evaluated == two.evaluated
        if len(counts) <= 8:
            assert ref == _tuples(cib.brute_force(m, counts, 3))


def test_propagation_search_node_budget_and_limits():
    rng = np.random.default_rng(11)
    counts = [3] * 12
    m = rng.integers(-3, 4, size=(36, 36)).astype(float)
    full = cib.enumerate_scenarios(m, counts, method="prop")
    assert full.complete and full.evaluated > 20
    cut = cib.enumerate_scenarios(m, counts, method="prop", max_nodes=5, threads=1)
    assert not cut.complete and cut.evaluated <= 6
    assert set(_tuples(cut.scenarios)) <= set(_tuples(full.scenarios))
    with pytest.raises(ValueError, match="too many variants"):
        cib.enumerate_scenarios(np.zeros((60, 60)), [30, 30], method="prop")


@settings(max_examples=40, deadline=None)
@given(case=cib_case(), shift=st.integers(-5, 5), data=st.data())
def test_constant_added_to_a_target_descriptor_changes_nothing(case, shift, data):
    matrix, counts = case
    off = cib.offsets_of(counts)
    y = data.draw(st.integers(0, len(counts) - 1))
    shifted = matrix.copy()
    shifted[:, off[y] : off[y + 1]] += shift
    a = cib.enumerate_scenarios(matrix, counts)
    b = cib.enumerate_scenarios(shifted, counts)
    assert _tuples(a.scenarios) == _tuples(b.scenarios)
    assert (a.scores.consistency == b.scores.consistency).all()


@settings(max_examples=30, deadline=None)
@given(case=cib_case(max_desc=4, max_var=3))
def test_fixed_points_of_succession_are_the_consistent_scenarios(case):
    matrix, counts = case
    consistent = set(_tuples(cib.brute_force(matrix, counts)))
    for mode in ("global", "local"):
        suc = cib.succession(matrix, counts, mode=mode, tie="keep")
        fixed = {tuple(int(x) for x in a.states[0]) for a in suc.fixed_points}
        assert fixed <= consistent  # a fixed point has no descriptor that wants to move
        assert sum(a.basin for a in suc.attractors) + suc.unfinished == cib.n_scenarios(counts)
        assert fixed == consistent


def test_same_descriptor_entries_are_ignored():
    arr = _hand()
    noisy = arr.matrix.copy()
    noisy[0, 1] = 3
    noisy[5, 4] = -3
    a = cib.enumerate_scenarios(arr.matrix, arr.counts)
    b = cib.enumerate_scenarios(noisy, arr.counts)
    assert _tuples(a.scenarios) == _tuples(b.scenarios)


def test_bad_arguments():
    with pytest.raises(ValueError):
        cib.enumerate_scenarios(np.zeros((3, 3)), [2, 2])
    with pytest.raises(ValueError):
        cib.enumerate_scenarios(np.zeros((4, 4)), [2, 2], tolerance=-1)
    with pytest.raises(ValueError):
        cib.succession(np.zeros((4, 4)), [2, 2], mode="sideways")  # type: ignore[arg-type]


def test_threads_do_not_change_results():
    rng = np.random.default_rng(5)
    counts = [3, 2, 4, 3, 3, 2, 3]  # also a 2-variant second descriptor
    v = sum(counts)
    m = rng.integers(-3, 4, size=(v, v)).astype(float)
    one = cib.enumerate_scenarios(m, counts, tolerance=1, threads=1)
    many = cib.enumerate_scenarios(m, counts, tolerance=1, threads=3)
    assert _tuples(one.scenarios) == _tuples(many.scenarios)
    assert one.evaluated == many.evaluated
    assert _tuples(one.scenarios) == _tuples(cib.brute_force(m, counts, 1))


@settings(max_examples=25, deadline=None)
@given(case=cib_case(max_desc=5, max_var=3), k=st.integers(0, 2))
def test_threaded_search_equals_serial(case, k):
    matrix, counts = case
    one = cib.enumerate_scenarios(matrix, counts, tolerance=k, threads=1)
    many = cib.enumerate_scenarios(matrix, counts, tolerance=k, threads=2)
    assert _tuples(one.scenarios) == _tuples(many.scenarios)
    assert one.evaluated == many.evaluated


def test_node_budget_stops_the_search():
    rng = np.random.default_rng(11)
    counts = [3] * 9
    m = rng.integers(-3, 4, size=(27, 27)).astype(float)
    full = cib.enumerate_scenarios(m, counts, threads=1)
    assert full.complete
    for threads in (1, 2):
        cut = cib.enumerate_scenarios(m, counts, max_nodes=50, threads=threads)
        assert not cut.complete and cut.evaluated <= 50 + 9 * 2


# ---------------------------------------------------------------- method choice, stopping, estimates


def _sparse(counts: list[int], density: float, seed: int) -> np.ndarray:
    """Random judgments in blocks (X, Y) kept with probability ``density``, others empty."""
    rng = np.random.default_rng(seed)
    off = cib.offsets_of(counts)
    c = np.zeros((off[-1], off[-1]))
    for x in range(len(counts)):
        for y in range(len(counts)):
            if x != y and rng.random() < density:
                c[off[x] : off[x + 1], off[y] : off[y + 1]] = rng.integers(-3, 4, size=(counts[x], counts[y]))
    return c


def test_auto_method_follows_influence_density():
    counts = [3] * 12
    dense = np.random.default_rng(3).integers(-3, 4, size=(36, 36)).astype(float)
    sparse = _sparse(counts, 0.3, 3)
    assert cib.influence_density(dense, counts) > cib.AUTO_DENSE
    assert 0.15 < cib.influence_density(sparse, counts) < 0.45
    assert cib.choose_method(dense, counts) == "static"
    assert cib.choose_method(sparse, counts) == "prop"
    assert cib.enumerate_scenarios(sparse, counts).method == "prop"
    assert cib.enumerate_scenarios(dense, counts).method == "static"
    # too many variants for prop's subset tables: static whatever the density
    assert cib.choose_method(np.zeros((60, 60)), [30, 30]) == "static"


@settings(max_examples=30, deadline=None)
@given(case=cib_case(), data=st.data())
def test_influence_density_ignores_row_constants(case, data):
    """A block whose rows are each constant cannot change its target's choice."""
    matrix, counts = case
    off = cib.offsets_of(counts)
    x, y = data.draw(st.permutations(range(len(counts))))[:2]
    m = matrix.copy()
    m[off[x] : off[x + 1], off[y] : off[y + 1]] = data.draw(st.integers(-3, 3))
    before = cib.influence_density(m, counts)
    m[off[x] : off[x + 1], off[y] : off[y + 1]] += np.arange(counts[x])[:, None]  # still constant per row
    assert cib.influence_density(m, counts) == before
    assert cib.influence_density(np.zeros_like(m), counts) == 0.0


def test_max_seconds_stops_with_progress_and_sound_partial_results():
    counts = [3] * 30  # 2e14 scenarios: far beyond a fraction of a second
    m = np.random.default_rng(8).integers(-3, 4, size=(90, 90)).astype(float)
    seen: list[int] = []
    res = cib.enumerate_scenarios(m, counts, max_seconds=0.3, progress=seen.append, threads=2)
    assert not res.complete and res.evaluated > 0
    assert seen and seen == sorted(seen)
    for s in res.scenarios:  # whatever was found before the stop is genuinely consistent
        assert cib.is_consistent(m, counts, s)


@pytest.mark.parametrize("method", ["prop", "static"])
def test_knuth_estimate_is_near_the_true_tree_size(method):
    counts = [3] * 12
    m = np.random.default_rng(2).integers(-3, 4, size=(36, 36)).astype(float)
    actual = cib.enumerate_scenarios(m, counts, method=method, threads=1).evaluated
    mean, se = cib.estimate_nodes(m, counts, method, probes=3000, seed=1)
    assert abs(mean - actual) < max(4 * se, 0.15 * actual)
    assert se < 0.2 * mean
