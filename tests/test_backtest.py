"""DEU loader, capability schemes, metrics, folds and the out-of-fold protocol."""

from __future__ import annotations

import datetime as dt
import json
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.errors import InputError
from tawazun.evaluation import capability as C
from tawazun.evaluation import metrics as M
from tawazun.evaluation.deu import ACTORS, DeuIssue, load_deu, parse_intro
from tawazun.evaluation.models import FITTED, fit_fold, lad_simplex, residual_ensemble
from tawazun.evaluation.protocol import (
    FOLDS_FILE, build_features, folds_for, make_folds, run_backtest,
)

MINI = Path(__file__).parent / "fixtures" / "deu" / "mini.tsv"
HEADER = (["prnrnmc", "isnrnmc", "prnr", "prname", "isnr", "type", "council", "proc", "counvte",
           "proccde", "issues", "intro", "finact"] + [f"p{a}" for a in ACTORS]
          + [f"s{a}" for a in ACTORS] + ["rp", "out"])


def write_tsv(path: Path, rows: list[dict]) -> Path:
    lines = ["\t".join(HEADER)]
    for r in rows:
        lines.append("\t".join(str(r.get(h, "")) for h in HEADER))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def base_row(**kw) -> dict:
    row = {"prnrnmc": "1", "isnrnmc": "1", "prnr": "d99001", "isnr": "d99001i1", "proc": "COD",
           "counvte": "QMV", "intro": "12-03-99", "pcom": 100, "scom": 50, "pep": 0, "sep": 50,
           "pde": 40, "sde": 80, "pfr": 0, "sfr": 20, "rp": 0, "out": 60}
    row.update(kw)
    return row


# ---------------------------------------------------------------- loader


def test_mini_fixture_loads_with_skip_report():
    d = load_deu(MINI)
    s = d.summary()
    assert s["rows"] == 15 and s["issues_kept"] == 13 and s["proposals_kept"] == 7
    assert s["issues_skipped_by_reason"] == {"no outcome": 1, "no actor with a position": 1}
    assert {(x["row"], x["issue"]) for x in s["issues_skipped_list"]} == {
        (3, "d98001i2"), (16, "n00007i2")}
    assert s["saliences_imputed"] == 1
    for it in d.issues:
        assert len(it.actors) == it.position.size == it.salience.size
        assert np.all((it.salience >= 0) & (it.salience <= 1))
        assert 0 <= it.outcome <= 100


def test_blank_position_drops_actor_and_blank_salience_is_imputed(tmp_path):
    p = write_tsv(tmp_path / "a.tsv", [base_row(pfr="", sfr=0, sde="")])
    (it,) = load_deu(p).issues
    assert it.actors == ("com", "ep", "de")  # France took no position
    # D1: Germany's blank salience = mean of the recorded ones (50, 50) -> 0.5
    np.testing.assert_allclose(it.salience, [0.5, 0.5, 0.5])
    assert it.salience_imputed.tolist() == [False, False, True]
    assert load_deu(p).skipped_actors == {"salience but no position": 1, "no position": 26}


def test_status_quo_optional_and_metadata_kept(tmp_path):
    p = write_tsv(tmp_path / "a.tsv", [base_row(rp="", counvte="Unan", proc="CNS")])
    (it,) = load_deu(p).issues
    assert it.status_quo is None and it.unanimity and it.procedure == "CNS"
    assert it.intro == dt.date(1999, 3, 12) and it.proposal == "1" and it.issue == "d99001i1"
    prob = it.problem(np.ones(len(it.actors)))
    assert prob.position.shape == (1, 4, 1) and prob.status_quo is None


def test_missing_outcome_is_skipped_not_an_error(tmp_path):
    p = write_tsv(tmp_path / "a.tsv", [base_row(out=""), base_row(isnr="d99001i2", out=20)])
    d = load_deu(p)
    assert [i.issue for i in d.issues] == ["d99001i2"]
    assert d.skipped_issues == [{"row": 2, "proposal": "1", "issue": "d99001i1",
                                 "reason": "no outcome"}]


def test_malformed_cells_give_row_and_column(tmp_path):
    p = write_tsv(tmp_path / "bad.tsv", [
        base_row(),
        base_row(isnr="x2", pde="5o"),
        base_row(isnr="x3", sfr="150", intro="31-02-99"),
        base_row(isnr="x4", out="abc"),
    ])
    with pytest.raises(InputError) as exc:
        load_deu(p)
    lines = exc.value.lines
    assert f"{p}:row 3: column pde: not a number: '5o'" in lines
    assert f"{p}:row 4: column sfr: 150 outside [0, 100]" in lines
    assert any(l.startswith(f"{p}:row 4: column intro: impossible date") for l in lines)
    assert f"{p}:row 5: column out: not a number: 'abc'" in lines
    assert len(lines) == 4


def test_missing_column_and_missing_file(tmp_path):
    p = tmp_path / "h.tsv"
    p.write_text("prnrnmc\tisnr\tproc\tpcom\n1\ta\tCOD\t50\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        load_deu(p)
    assert f"{p}:row 1: column counvte: missing from the header" in exc.value.lines
    assert f"{p}:row 1: column out: missing from the header" in exc.value.lines
    with pytest.raises(InputError, match="no such file"):
        load_deu(tmp_path / "nope.tsv")


@pytest.mark.parametrize("text, expected", [
    ("07-02-96", dt.date(1996, 2, 7)),
    ("26-01-00", dt.date(2000, 1, 26)),
    ("14-09-2016", dt.date(2016, 9, 14)),
    ("2014-07-04", dt.date(2004, 7, 14)),  # D3: corrupted dd-mm-yy
    ("1930-06-05", dt.date(2005, 6, 30)),
    ("2017-04-18", dt.date(2018, 4, 17)),
])
def test_intro_dates(text, expected):
    assert parse_intro(text) == expected


@pytest.mark.parametrize("bad", ["", "yesterday", "31-13-99", "2014/07"])
def test_intro_date_errors(bad):
    with pytest.raises(ValueError):
        parse_intro(bad)


# ---------------------------------------------------------------- capability


def issue(actors, intro, proc="COD") -> DeuIssue:
    n = len(actors)
    return DeuIssue(row=2, proposal="1", issue="i", dossier="", name="", procedure=proc,
                    voting="QMV", council="", act_type="", intro=intro, actors=tuple(actors),
                    position=np.zeros(n), salience=np.ones(n), salience_imputed=np.zeros(n, bool),
                    status_quo=None, outcome=0.0)


def test_regime_totals_match_the_treaties():
    assert sum(C.PRE_NICE.values()) == 87 and len(C.PRE_NICE) == 15
    assert sum(C.ACCESSION_2004.values()) == 124 and len(C.ACCESSION_2004) == 25
    nice = C.NICE
    assert sum(nice.values()) == 352
    assert sum(v for k, v in nice.items() if k != "cr") == 345
    assert sum(v for k, v in nice.items() if k not in ("cr", "bu", "ro")) == 321
    assert sum(C.LISBON_POP_2016.values()) == pytest.approx(100.0, abs=0.1)
    assert set(C.LISBON_POP_2016) == set(ACTORS) - {"com", "ep"}


@pytest.mark.parametrize("day, name", [
    (dt.date(1996, 2, 7), "pre-Nice"), (dt.date(2004, 4, 30), "pre-Nice"),
    (dt.date(2004, 7, 14), "accession-2004"), (dt.date(2004, 11, 1), "Nice"),
    (dt.date(2014, 10, 31), "Nice"), (dt.date(2016, 9, 14), "Lisbon"),
])
def test_regime_by_date(day, name):
    assert C.regime_on(day).name == name


def test_council_capabilities_and_institutions():
    caps, reg = C.council_capabilities(issue(["com", "ep", "de", "lu"], dt.date(1999, 1, 1)))
    assert reg.name == "pre-Nice" and caps.tolist() == [10, 10, 10, 2]
    caps, _ = C.council_capabilities(issue(["com", "ep", "de", "lu"], dt.date(1999, 1, 1), "CNS"))
    assert caps.tolist() == [10, 2, 10, 2]  # EP consulted: smallest state's weight
    caps, reg = C.council_capabilities(issue(["com", "ep", "de", "mt"], dt.date(2016, 1, 1), "CNS"))
    assert reg.name == "Lisbon" and caps.tolist() == [15.93, 0.08, 15.93, 0.08]


def test_effective_date_moves_to_accession_of_positioned_states():
    # a 2003 proposal with a Polish position is weighted by the 1 May 2004 table
    caps, reg = C.council_capabilities(issue(["de", "pl"], dt.date(2003, 6, 1)))
    assert reg.name == "accession-2004" and caps.tolist() == [10, 8]
    caps, reg = C.council_capabilities(issue(["de", "bu"], dt.date(2005, 6, 1)))
    assert reg.name == "Nice" and caps.tolist() == [29, 10]
    assert C.effective_date(issue(["cr"], dt.date(2012, 7, 11))) == dt.date(2013, 7, 1)
    # without new members the introduction date decides
    assert C.effective_date(issue(["de"], dt.date(2003, 6, 1))) == dt.date(2003, 6, 1)


def test_equal_scheme_and_errors():
    it = issue(["com", "de"], None)
    assert C.capabilities(it, "equal").tolist() == [1.0, 1.0]
    with pytest.raises(InputError, match="column intro: blank"):
        C.capabilities(it, "council")
    with pytest.raises(InputError, match="unknown scheme"):
        C.capabilities(it, "votes")


# ---------------------------------------------------------------- metrics


def test_point_metrics_hand_computed():
    pred, y = [10, 50, 90], [0, 50, 100]
    assert M.mae(pred, y) == pytest.approx(20 / 3)
    assert M.rmse(pred, y) == pytest.approx(math.sqrt(200 / 3))
    assert M.within(pred, y, 10) == 1.0  # inclusive
    assert M.within(pred, y, 5) == pytest.approx(1 / 3)


def test_crps_hand_computed():
    # ensemble {0, 10}: E|X-X'| = 5; y = 5 -> 5 - 2.5; y = 20 -> 15 - 2.5
    np.testing.assert_allclose(M.crps_ensemble([[0, 10], [0, 10]], [5, 20]), [2.5, 12.5])
    np.testing.assert_allclose(M.crps_ensemble([7.0], [3.0]), [4.0])  # point mass = |error|
    # closed form at the centre of a standard normal: 2 phi(0) - 1/sqrt(pi)
    assert M.crps_normal(0, 1, 0) == pytest.approx(2 / math.sqrt(2 * math.pi) - 1 / math.sqrt(math.pi))
    assert M.crps_normal(3, 2, 3) == pytest.approx(2 * M.crps_normal(0, 1, 0))


def test_crps_samples_approach_closed_form():
    rng = np.random.default_rng(0)
    x = rng.normal(10, 4, size=40000)
    for y in (10.0, 13.0, 2.0):
        assert M.crps_ensemble(x, [y])[0] == pytest.approx(float(M.crps_normal(10, 4, y)), abs=0.03)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 100), min_size=1, max_size=25), st.floats(0, 100))
def test_crps_sorted_equals_double_sum(xs, y):
    a = M.crps_ensemble([xs], [y])[0]
    b = M.crps_ensemble_naive([xs], [y])[0]
    assert a == pytest.approx(b, abs=1e-7)
    assert a >= -1e-9
    assert a <= np.mean(np.abs(np.asarray(xs) - y)) + 1e-9


def test_coverage_hand_computed():
    atoms = np.arange(101.0)  # F(k) = (k + 1) / 101: 80% interval = [10, 90]
    lo, hi = M.central_interval(atoms, 0.8)
    assert (float(lo), float(hi)) == (10.0, 90.0)
    assert M.coverage(atoms, [5, 10, 50, 90, 95], 0.8) == pytest.approx(0.6)
    assert M.coverage(atoms, [24, 25, 75, 76], 0.5) == pytest.approx(0.5)


def test_pit_is_uniform_for_a_calibrated_forecast():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 5, size=4000) * 25.0  # outcomes with atoms
    ens = np.broadcast_to(np.arange(5) * 25.0, (y.size, 5))  # the true discrete law
    u = M.pit(ens, y, np.random.default_rng(2))
    h, _ = np.histogram(u, bins=5, range=(0, 1))
    assert np.all(np.abs(h / y.size - 0.2) < 0.03)


def test_bootstrap_reproducible_and_grouped():
    rng = np.random.default_rng(3)
    v = rng.normal(size=60)
    g = np.repeat(np.arange(20), 3)
    a = M.bootstrap_mean(v, g, n_boot=500, seed=9)
    assert a == M.bootstrap_mean(v, g, n_boot=500, seed=9)
    assert a != M.bootstrap_mean(v, g, n_boot=500, seed=10)
    assert a["lo"] < a["mean"] < a["hi"] and a["n_groups"] == 20
    c = M.bootstrap_mean(np.full(9, 2.5), [0, 0, 1, 1, 1, 2, 3, 3, 3], n_boot=200, seed=0)
    assert c["mean"] == c["lo"] == c["hi"] == 2.5
    # issues of one proposal move together: a constant-within-group signal keeps its
    # between-group spread, so the interval is wider than when each issue is its own group
    w = np.repeat(rng.normal(size=10), 6)
    wide = M.bootstrap_mean(w, np.repeat(np.arange(10), 6), n_boot=1000, seed=1)
    narrow = M.bootstrap_mean(w, np.arange(60), n_boot=1000, seed=1)
    assert wide["hi"] - wide["lo"] > 1.5 * (narrow["hi"] - narrow["lo"])


# ---------------------------------------------------------------- folds and protocol


@settings(max_examples=40, deadline=None)
@given(st.sets(st.integers(1, 400), min_size=6, max_size=80), st.integers(2, 6), st.integers(0, 10**6))
def test_folds_partition_proposals(ids, k, seed):
    ids = [str(i) for i in ids]
    a = make_folds(ids, k, seed)
    assert set(a) == set(ids) and set(a.values()) == set(range(k))
    sizes = np.bincount(list(a.values()), minlength=k)
    assert sizes.max() - sizes.min() <= 1
    assert make_folds(list(reversed(ids)), k, seed) == a  # order of input irrelevant


def test_committed_folds_are_the_seeded_split():
    doc = json.loads(FOLDS_FILE.read_text(encoding="utf-8"))
    ids = [p for fold in doc["folds"] for p in fold]
    assert len(ids) == len(set(ids)) == 99  # no proposal in two folds
    regenerated = make_folds(ids, doc["k"], doc["seed"])
    assert {p: f for f, fold in enumerate(doc["folds"]) for p in fold} == regenerated
    subset = [p for fold in doc["folds"] for p in fold[:10]]  # e.g. after skipping issues
    assigned, source = folds_for(subset, doc["k"], doc["seed"])
    assert source.startswith("committed") and all(assigned[p] == regenerated[p] for p in subset)
    assert folds_for(["a", "b", "c"], 3, 1)[1] == "generated"
    only_fold0 = doc["folds"][0]  # restricting to one fold would leave the others empty
    assigned, source = folds_for(only_fold0, doc["k"], doc["seed"])
    assert source == "generated" and set(assigned.values()) == set(range(doc["k"]))


def test_backtest_groups_issues_of_a_proposal_in_one_fold():
    d = load_deu(MINI)
    r = run_backtest(d, ["compromise", "median", "sq-blend"], scheme="equal", k=3, seed=5,
                     draws=50, n_boot=100)
    for g in np.unique(r.groups):
        assert np.unique(r.folds[r.groups == g]).size == 1
    j = r.to_json()
    assert j["n_issues"] == 13 and set(j["engines"]) == {"compromise", "median", "sq-blend"}
    comp = r.engines["compromise"]
    # compromise point on the equal scheme is the salience-weighted mean
    it = d.issues[0]
    assert comp.pred[0] == pytest.approx(np.average(it.position, weights=it.salience))
    assert j == run_backtest(d, ["compromise", "median", "sq-blend"], scheme="equal", k=3,
                             seed=5, draws=50, n_boot=100).to_json()


@pytest.mark.parametrize("name", sorted(FITTED))
def test_fitted_models_never_see_the_test_fold(name):
    d = load_deu(MINI)
    f, _ = build_features(d, "council", 0)
    folds = np.array([int(i) % 3 for i in range(f.y.size)])
    before = fit_fold(FITTED[name], f, folds, 0)
    f.y[folds == 0] = 100.0 - f.y[folds == 0]  # change only the test outcomes
    after = fit_fold(FITTED[name], f, folds, 0)
    np.testing.assert_allclose(before.pred, after.pred)
    np.testing.assert_allclose(before.residuals, after.residuals)
    assert np.all((before.pred >= 0) & (before.pred <= 100))


def test_lad_simplex_recovers_a_convex_mix():
    rng = np.random.default_rng(4)
    X = rng.uniform(0, 100, size=(80, 3))
    y = X @ np.array([0.2, 0.0, 0.8])
    np.testing.assert_allclose(lad_simplex(X, y), [0.2, 0.0, 0.8], atol=1e-6)


def test_residual_ensemble_is_clipped_and_scaled():
    ens = residual_ensemble(np.array([95.0, 5.0]), np.array([-10.0, 0.0, 10.0]))
    np.testing.assert_allclose(ens, [[85, 95, 100], [0, 5, 15]])
    ens = residual_ensemble(np.array([50.0]), np.array([-1.0, 1.0]), scale=np.array([20.0]))
    np.testing.assert_allclose(ens, [[30, 70]])
