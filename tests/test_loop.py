"""The analyst's loop (tawazun.loop): what-if, levers, questions, the ledger and scoring."""

from __future__ import annotations

import itertools
import json
import math
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from tawazun.arena.load import load_arena, parse_arena_text
from tawazun.cli.main import app
from tawazun.errors import InputError
from tawazun.forecast import ForecastConfig, execute
from tawazun.loop import scoring
from tawazun.loop.levers import levers
from tawazun.loop.questions import question_forecasts
from tawazun.loop.whatif import apply_changes, compare, parse_set, pinned_completions, whatif

from conftest import TINY_ARENA

runner = CliRunner()

# Tiny arena, a second issue y that no change below touches.
TWO = (TINY_ARENA + """\
  - {actor: a, issue: y, position: 10, salience: 40, evidence: [{source: memo, locator: "¶4"}]}
  - {actor: b, issue: y, position: {low: 60, mode: 70, high: 90}, salience: 60, evidence: [{source: memo, locator: "¶5"}]}
""").replace("""    status_quo: 5
""", """    status_quo: 5
  - id: y
    title: Issue Y
    scale: {min: 0, max: 100, anchors: [{value: 0, label: low}, {value: 50, label: mid}, {value: 100, label: high}]}
""")

ENGINES = ("compromise", "median", "bdm", "smp", "nash")


def cfg(**kw):
    base = dict(engines=("compromise", "median"), draws=300, seed=3)
    base.update(kw)
    return ForecastConfig(**base)


# ------------------------------------------------------------------ what-if
def test_stance_change_hand_deltas_and_untouched_issue():
    """a on x: salience 50 -> 100 and capability 3 -> 5, so a's weight goes 1.5 -> 5.
    Compromise at the modes: (5*2 + 2*8 + 1.6*9) / 8.6 = 40.4/8.6 against 33.4/5.1.
    Median: cumulative weight 5 of 8.6 at position 2 passes half, so 8 -> 2."""
    base = parse_arena_text(TWO, "two.yaml")
    var, changes = apply_changes(TWO, "two.yaml", [parse_set("a.x.salience=100"), parse_set("a.x.capability=5")])
    doc = whatif(base, var, changes, cfg())
    d = {(r["issue"], r["engine"]): r for r in doc["delta"]}
    assert d["x", "compromise"]["at_modes"] == pytest.approx(40.4 / 8.6 - 33.4 / 5.1, abs=1e-12)
    assert d["x", "median"]["at_modes"] == pytest.approx(2 - 8)
    for eng in ("compromise", "median"):  # nothing of y changed: exactly zero, every draw
        r = d["y", eng]
        assert (r["mean"], r["q10"], r["q90"], r["at_modes"], r["moved"]) == (0.0, 0.0, 0.0, 0.0, False)
    assert [c["field"] for c in doc["changes"]] == ["salience", "capability"]
    assert doc["changes"][1]["from"] == [3.0, 3.0, 3.0]  # the actor's default, overridden on the stance


def test_compromise_delta_per_draw_matches_hand_formula():
    """Moving a's position by +2 shifts the compromise by 2 * w_a / W in each draw."""
    from tawazun.uncertainty.sampling import sample

    base = parse_arena_text(TINY_ARENA, "t.yaml")
    var, _ = apply_changes(TINY_ARENA, "t.yaml", [parse_set("a.x.position=4")])
    b, v = execute(base, cfg()), execute(var, cfg())
    diff = v.results[0].samples[:, 0] - b.results[0].samples[:, 0]
    from tawazun.forecast import sampling_seed

    p = sample(b.results[0].problem, 300, sampling_seed(3, "x"))
    w = p.capability * p.salience[:, :, 0]
    np.testing.assert_allclose(diff, 2 * w[:, 0] / w.sum(axis=1), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dist", ["triangular", "pert"])
def test_noop_change_gives_exactly_zero_in_every_draw(dist):
    base = parse_arena_text(TWO, "two.yaml")
    var, ch = apply_changes(TWO, "two.yaml", [parse_set("b.x.position=6:8:9")])  # what the file says
    c = cfg(engines=ENGINES, draws=200, dist=dist)
    b, v = execute(base, c), execute(var, c)
    for ub, uv in zip(b.results, v.results):
        assert np.array_equal(ub.samples, uv.samples, equal_nan=True)
    doc = compare(b, v)
    assert all(r["mean"] == r["q10"] == r["q90"] == 0.0 and not r["moved"] for r in doc["delta"] if r["mean"] is not None)


def test_crn_unchanged_columns_identical_triangular_but_not_pert():
    """Triangular draws map one uniform per column through the inverse CDF: a changed range
    leaves every other column's draws bit-identical. PERT draws Beta variates by rejection,
    so a changed shape can shift the others (documented in docs/loop.md)."""
    from tawazun.arena.compile import ranged_problem
    from tawazun.uncertainty.sampling import input_names, sample_flat

    base = parse_arena_text(TWO, "two.yaml")
    var, _ = apply_changes(TWO, "two.yaml", [parse_set("b.x.position=1:2:9.5")])
    rb, rv = ranged_problem(base, "x", joint=False), ranged_problem(var, "x", joint=False)
    col = input_names(rb).index(("b", "position", "x"))
    xb, xv = sample_flat(rb, 3000, 11), sample_flat(rv, 3000, 11)
    others = [k for k in range(xb.shape[1]) if k != col]
    assert np.array_equal(xb[:, others], xv[:, others])
    assert not np.array_equal(xb[:, col], xv[:, col])
    pb, pv = sample_flat(rb, 3000, 11, dist="pert"), sample_flat(rv, 3000, 11, dist="pert")
    assert not np.array_equal(pb[:, others], pv[:, others])


def test_whatif_error_is_the_loaders_line_and_file_untouched(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TINY_ARENA, encoding="utf-8")
    before = path.read_bytes()
    res = runner.invoke(app, ["whatif", str(path), "--set", "b.x.salience=120"])
    assert res.exit_code == 2
    line = TINY_ARENA.splitlines().index(next(x for x in TINY_ARENA.splitlines() if "actor: b, issue: x" in x)) + 1
    assert res.stderr.strip() == f"{path}:{line}: stances[1].salience: salience 120 outside [0, 100] (salience_scale: percent)"
    for bad, msg in (["a.x.colour=3", "--set: a.x.colour: field must be one of"],
                     ["a.q.position=3", "--set: a.x" if False else "--set: a.q.position: no actor and issue"],
                     ["c.x.position=3:2:1", "stances[2].position: range must satisfy"],
                     ["a.x.position=abc", "--set: a.x.position: expected numbers"]):
        res = runner.invoke(app, ["whatif", str(path), "--set", bad])
        assert res.exit_code == 2 and msg in res.stderr and len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert path.read_bytes() == before


def test_whatif_cli_json(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(TWO, encoding="utf-8")
    res = runner.invoke(app, ["whatif", str(path), "--set", "a.x.position=4", "-e", "compromise,median",
                              "--draws", "100", "--json", "-"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert set(doc) >= {"baseline", "variant", "changes", "delta"}
    assert set(doc["delta"][0]) >= {"issue", "engine", "mean", "q10", "q90"}
    assert doc["baseline"]["x"]["compromise"]["value"] != doc["variant"]["x"]["compromise"]["value"]


# ------------------------------------------------------------------ CIB pins
def _section(counts, matrix):
    from tawazun.scenarios.io import section_from_dict

    descs, judg, off = [], [], np.concatenate([[0], np.cumsum(counts)])
    for i, c in enumerate(counts):
        descs.append({"id": f"d{i}", "names": {"en": f"D{i}"}, "variants": [{"id": f"v{j}", "label": f"V{j}"} for j in range(c)]})
    for i, j in itertools.product(range(len(counts)), repeat=2):
        if i == j:
            continue
        for a, b in itertools.product(range(counts[i]), range(counts[j])):
            v = int(matrix[off[i] + a, off[j] + b])
            if v:
                judg.append({"source": f"d{i}.v{a}", "target": f"d{j}.v{b}", "value": v, "rationale": "test",
                             "evidence": [{"source": "s", "locator": "1"}]})
    return section_from_dict({"descriptors": descs, "judgments": judg})


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 2**31), st.integers(0, 2))
def test_fix_lists_exactly_the_brute_force_completions(seed, tol):
    from tawazun.scenarios import cib

    rng = np.random.default_rng(seed)
    counts = np.array(rng.integers(2, 4, size=4))
    v = int(counts.sum())
    matrix = cib.clean_matrix(rng.integers(-3, 4, (v, v)).astype(float), counts)
    section = _section(counts, matrix)
    d = int(rng.integers(0, 4))
    var = int(rng.integers(0, counts[d]))
    doc = pinned_completions(section, [(f"d{d}", f"v{var}")], tol)
    got = sorted(tuple(int(r["variants"][f"d{i}"][1:]) for i in range(4)) for r in doc["completions"])
    allsc = cib.all_scenarios(counts)
    allsc = allsc[allsc[:, d] == var]
    gaps = cib.evaluate(matrix, counts, allsc).gaps  # (M, D): each descriptor's inconsistency
    others = [i for i in range(4) if i != d]
    want = sorted(tuple(int(x) for x in s) for s, g in zip(allsc, gaps) if g[others].max() <= tol + 1e-9)
    assert got == want


def test_scenarios_fix_cli_on_shipped_arena():
    arena = load_arena()
    d = arena.scenarios.descriptors[0]
    desc = {"id": d.id, "variants": [{"id": v.id} for v in d.variants]}
    pin = f"{desc['id']}={desc['variants'][-1]['id']}"
    res = runner.invoke(app, ["scenarios", "--fix", pin, "--json", "-"])
    assert res.exit_code == 0, res.stderr
    doc = json.loads(res.stdout)
    assert doc["fixed"] == {desc["id"]: desc["variants"][-1]["id"]}
    assert all(r["variants"][desc["id"]] == desc["variants"][-1]["id"] for r in doc["completions"])
    bad = runner.invoke(app, ["scenarios", "--fix", f"{desc['id']}=nope"])
    assert bad.exit_code == 2 and bad.stderr.startswith("--fix: unknown variant 'nope'")


# ------------------------------------------------------------------ levers
HAND = TINY_ARENA.replace("position: 2, salience: 50,", "position: {low: 1, mode: 2, high: 5}, salience: {low: 30, mode: 50, high: 90},")


def test_levers_hand_ranking_compromise():
    """Weights c*s: a 3*0.5 = 1.5, b 2*1 = 2, c 2*0.8 = 1.6 (W = 5.1), forecast 33.4/5.1 = 6.549.
    Goal: a's position 2. Own salience to 90 % (F monotone toward 2): (5.4 + 16 + 14.4)/6.3 = 5.683;
    persuade b by 2 (8 -> 6): 6.549 - 2*2/5.1 = 5.765; persuade c (9 -> 7): 6.549 - 1.6*2/5.1 = 5.922;
    own position to its low 1: 6.549 - 1.5/5.1 = 6.255."""
    arena = parse_arena_text(HAND, "hand.yaml")
    doc = levers(arena, "a", "x", "compromise", step=2, draws=100)
    ranked = [(lv["kind"], lv["actor"], lv["field"]) for lv in doc["levers"]]
    assert ranked == [("own", "a", "salience"), ("persuade", "b", "position"), ("persuade", "c", "position"),
                      ("own", "a", "position")]
    f = [lv["forecast"] for lv in doc["levers"]]
    assert f == pytest.approx([35.8 / 6.3, 33.4 / 5.1 - 4 / 5.1, 33.4 / 5.1 - 3.2 / 5.1, 33.4 / 5.1 - 1.5 / 5.1], abs=1e-12)
    assert doc["levers"][0]["to"] == 90 and doc["levers"][3]["to"] == 1


@pytest.mark.parametrize("engine", ["compromise", "median"])
@pytest.mark.parametrize("goal", [0.0, 3.3, 6.0, 7.5, 9.9])
def test_levers_exact_own_moves_beat_a_dense_grid(engine, goal):
    arena = parse_arena_text(HAND, "hand.yaml")
    doc = levers(arena, "a", "x", engine, goal=goal, budget=4, draws=20)
    for lv in (x for x in doc["levers"] if x["kind"] == "own"):
        lo, hi = lv["room"]
        grid = np.linspace(lo, hi, 4001)
        best = np.abs(_forecast_with(arena, engine, lv["field"], grid) - goal).min()
        assert lv["distance"] <= best + 1e-9, lv


def _forecast_with(arena, engine, field, values):
    """The engine's forecast on x at the modes with a's position or salience set to each value."""
    from tawazun.arena.compile import ranged_problem
    from tawazun.engines.base import get_engine

    p = ranged_problem(arena, "x", joint=False).point()
    b = len(values)
    pos, sal = np.repeat(p.position, b, 0), np.repeat(p.salience, b, 0)
    (pos if field == "position" else sal)[:, 0, 0] = values if field == "position" else values / 100
    batch = type(p)(p.actors, p.dims, pos, sal, np.repeat(p.capability, b, 0), p.lower, p.upper,
                    None if p.status_quo is None else np.repeat(p.status_quo, b, 0))
    spec = get_engine(engine)
    return spec.run(batch, spec.make_options(None), None).forecast[:, 0]


def test_top_lever_applied_with_whatif_reproduces_its_effect():
    arena = parse_arena_text(HAND, "hand.yaml")
    doc = levers(arena, "a", "x", "bdm", step=2, draws=150, seed=5)
    top = doc["levers"][0]
    var, ch = apply_changes(HAND, "hand.yaml", [parse_set(top["apply"])])
    w = whatif(arena, var, ch, ForecastConfig(engines=("bdm",), draws=150, seed=5))
    row = next(r for r in w["delta"] if r["issue"] == "x")
    assert row["at_modes"] == pytest.approx(top["effect"], abs=1e-9)
    assert (row["mean"], row["q10"], row["q90"]) == pytest.approx((top["mean"], top["q10"], top["q90"]), abs=1e-9)


def test_lever_intervals_for_the_top_only_change_nothing_else():
    arena = parse_arena_text(HAND, "hand.yaml")
    full = levers(arena, "a", "x", "bdm", step=2, draws=80, seed=5, intervals=99)
    top2 = levers(arena, "a", "x", "bdm", step=2, draws=80, seed=5, intervals=2)
    assert full["intervals"] == len(full["levers"]) and top2["intervals"] == 2
    for a, b in zip(full["levers"], top2["levers"]):
        same = {k: v for k, v in a.items() if k not in ("mean", "q10", "q90")}
        assert same == {k: v for k, v in b.items() if k not in ("mean", "q10", "q90")}
        if b["rank"] <= 2:
            assert (a["mean"], a["q10"], a["q90"]) == (b["mean"], b["q10"], b["q90"])
        else:
            assert (b["mean"], b["q10"], b["q90"]) == (None, None, None) and a["q10"] is not None
    # defaults: every lever of a closed-form engine, the top 5 of an iterative one
    assert levers(arena, "a", "x", "median", draws=40)["intervals"] == 4  # 2 own moves, 2 persuasions
    assert levers(arena, "a", "x", "bdm", draws=40)["intervals"] == 4  # fewer levers than 5
    with pytest.raises(InputError, match="intervals: must be 0 or more"):
        levers(arena, "a", "x", "bdm", intervals=-1)


@pytest.mark.parametrize("engine", ["compromise", "bdm"])
def test_levers_on_the_shipped_arena_finish_in_seconds(engine):
    arena = load_arena()
    actor = "iraq-gov" if "iraq-gov" in {a.id for a in arena.actors} else arena.stances[0].actor
    issue = next(s.issue for s in arena.stances if s.actor == actor)
    t = time.perf_counter()
    doc = levers(arena, actor, issue, engine, draws=200)
    took = time.perf_counter() - t
    assert took < 30, took  # seconds on two shared cores; typically well under that
    top = doc["levers"][0]
    from tawazun.arena.load import resolve

    text = resolve(None).read_text(encoding="utf-8")
    var, ch = apply_changes(text, "iraq-2021.yaml", [parse_set(top["apply"])])
    w = whatif(arena, var, ch, ForecastConfig(engines=(engine,), draws=200, seed=0))
    row = next(r for r in w["delta"] if r["issue"] == issue and r["engine"].split(" ")[0] == engine
               and ("joint" in r["engine"]) == (doc["unit"] != issue))
    assert row["at_modes"] == pytest.approx(top["effect"], abs=1e-9)
    assert row["mean"] == pytest.approx(top["mean"], abs=1e-9)


def test_levers_errors_are_one_line():
    arena = parse_arena_text(HAND, "hand.yaml")
    for kw, msg in ((dict(actor="zz"), "actor: unknown actor"), (dict(issue="zz"), "issue: unknown issue"),
                    (dict(goal=50.0), "goal: 50 outside the scale"), (dict(step=-1.0), "step: must be positive")):
        args = dict(actor="a", issue="x") | kw
        with pytest.raises(InputError) as exc:
            levers(arena, args.pop("actor"), args.pop("issue"), "compromise", **args)
        assert exc.value.lines[0].startswith(msg)


# ------------------------------------------------------------------ questions
QUESTIONS = """\
questions:
  - id: high
    text: {en: "Will X end above 6?", ar: "هل؟"}
    kind: binary
    resolves_on: 2021-12-31
    rule: {issue: x, above: 6}
    resolution: {source: memo, how: "read the memo"}
  - id: band
    text: {en: "Which band?"}
    kind: categorical
    resolves_on: 2021-12-31
    rule: {issue: x}
    resolution: {source: memo}
  - id: value
    text: {en: "Value of X?"}
    kind: numeric
    resolves_on: 2021-12-31
    rule: {issue: x}
    resolution: {source: memo}
"""


def test_question_probabilities_are_shares_of_the_draws():
    arena = parse_arena_text(TINY_ARENA + QUESTIONS, "q.yaml")
    run = execute(arena, cfg(sensitivity=False, scenarios=False))
    qs = {q["id"]: q for q in question_forecasts(run)}
    for ur in run.results:
        v = ur.samples[:, 0]
        hi = next(f for f in qs["high"]["forecasts"] if f["engine"] == ur.label)
        assert hi["probability"] == float((v > 6).mean())
        band = next(f for f in qs["band"]["forecasts"] if f["engine"] == ur.label)
        assert band["probabilities"] == {"none": float((v < 5).mean()), "all": float((v >= 5).mean())}
        num = next(f for f in qs["value"]["forecasts"] if f["engine"] == ur.label)
        assert num["quantiles"]["50"] == pytest.approx(float(np.median(v)))
        assert len(num["sample"]) == 300


@pytest.mark.parametrize("rule, message", [
    ("{issue: nope, above: 1}", "questions[0].rule.issue: unknown issue 'nope'"),
    ("{issue: x, band: middle}", "questions[0].rule.band: no anchor labelled 'middle'"),
    ("{issue: x, above: 50}", "questions[0].rule.above: threshold 50 outside the scale"),
    ("{descriptor: boycott, above: 3}", "questions[0].rule: above and below apply to an issue or series rule"),
    ("{series: attacks-per-week, band: high}", "questions[0].rule: band applies to an issue rule"),
    ("{series: attacks-per-week, above: 3}", "questions[0].rule.series: unknown series 'attacks-per-week': the arena has no dynamics"),
    ("{series: attacks-per-week}", "questions[0]: a binary series question needs above or below"),
    ("{descriptor: us-role, variant: combat}", "questions[0].rule.descriptor: the arena has no scenarios section"),
    ("{issue: x}", "questions[0]: a binary question's rule needs above, below, band or variant"),
])
def test_question_validation_messages(rule, message):
    text = TINY_ARENA + f"""questions:
  - id: q
    text: {{en: "?"}}
    kind: binary
    resolves_on: 2021-12-31
    rule: {rule}
"""
    with pytest.raises(InputError) as exc:
        parse_arena_text(text, "q.yaml")
    n = len(text.splitlines())  # the rule is the last line, "- id: q" four lines above
    line = n if message.startswith("questions[0].rule") else n - 4
    assert exc.value.lines == [f"q.yaml:{line}: " + exc.value.lines[0].split(": ", 1)[1]]
    assert exc.value.lines[0].startswith(f"q.yaml:{line}: {message}")


def test_forecast_cli_prints_questions(tmp_path):
    path = tmp_path / "q.yaml"
    path.write_text(TINY_ARENA + QUESTIONS, encoding="utf-8")
    res = runner.invoke(app, ["forecast", str(path), "-e", "compromise", "--draws", "100", "--sobol-n", "0",
                              "--no-report", "-o", str(tmp_path / "run")])
    assert res.exit_code == 0, res.output
    assert "Questions" in res.output and "p = " in res.output
    doc = json.loads((tmp_path / "run" / "result.json").read_text())
    assert [q["id"] for q in doc["questions"]] == ["high", "band", "value"]


# ------------------------------------------------------------------ ledger
@pytest.fixture
def sealed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "q.yaml"
    path.write_text(TINY_ARENA + QUESTIONS, encoding="utf-8")
    res = runner.invoke(app, ["forecast", "q.yaml", "-e", ",".join(ENGINES), "--draws", "120", "--sobol-n", "16",
                              "--no-report", "-o", "run"])
    assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["seal", "run"])
    assert res.exit_code == 0 and res.stdout.startswith("sealed: "), res.output
    return tmp_path


def test_seal_is_idempotent_and_audit_passes(sealed):
    res = runner.invoke(app, ["seal", "run"])
    assert res.exit_code == 0 and res.stdout.startswith("already sealed: ")
    lines = (sealed / "ledger.jsonl").read_text().splitlines()
    assert len(lines) == 1
    entry = json.loads(lines[0])
    assert entry["result_sha256"] == __import__("hashlib").sha256((sealed / "run" / "result.json").read_bytes()).hexdigest()
    assert entry["seed"] == 0 and entry["config"]["draws"] == 120 and len(entry["questions"]) == 3
    res = runner.invoke(app, ["audit", entry["id"][:8]])
    assert res.exit_code == 0, res.output
    assert [ln.split()[0:2] for ln in res.stdout.splitlines()] == [
        ["PASS", "ledger:"], ["PASS", "result:"], ["PASS", "arena:"], ["PASS", "package:"], ["PASS", "re-run:"]]


@pytest.mark.parametrize("tamper, failing", [("result", {"result:"}), ("arena", {"arena:", "re-run:"}),
                                              ("ledger", {"ledger:"})])
def test_tampering_fails_the_audit_naming_the_check(sealed, tamper, failing):
    if tamper == "result":
        p = sealed / "run" / "result.json"
        p.write_text(p.read_text().replace('"seed": 0', '"seed": 1'))
    elif tamper == "arena":
        p = sealed / "q.yaml"
        p.write_text(p.read_text().replace("position: 2,", "position: 3,"))
    else:
        p = sealed / "ledger.jsonl"
        e = json.loads(p.read_text())
        e["seed"] = 7
        p.write_text(json.dumps(e) + "\n")
    res = runner.invoke(app, ["audit", "1"])
    assert res.exit_code == 1
    failed = {ln.split()[1] for ln in res.stdout.splitlines() if ln.startswith("FAIL")}
    assert failing <= failed and (tamper != "result" or failed == {"result:"}), res.stdout


def test_seal_refuses_questions_without_a_rule(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = TINY_ARENA + QUESTIONS.replace("    rule: {issue: x, above: 6}\n", "")
    (tmp_path / "q.yaml").write_text(text, encoding="utf-8")
    assert runner.invoke(app, ["forecast", "q.yaml", "-e", "compromise", "--draws", "50", "--no-report",
                               "-o", "run"]).exit_code == 0
    res = runner.invoke(app, ["seal", "run"])
    assert res.exit_code == 2 and "questions: high: no resolution rule" in res.stderr
    assert not (tmp_path / "ledger.jsonl").exists()


# ------------------------------------------------------------------ scoring
def test_scores_against_hand_values():
    assert scoring.brier_binary(0.7, 1) == pytest.approx(0.09)
    assert scoring.brier_binary(0.7, 0) == pytest.approx(0.49)
    assert scoring.log_binary(0.7, 1) == pytest.approx(-math.log(0.7))
    assert scoring.log_binary(1.0, 0, eps=0.005) == pytest.approx(-math.log(0.005))
    probs = {"a": 0.2, "b": 0.5, "c": 0.3}
    assert scoring.brier_categorical(probs, "b") == pytest.approx(0.04 + 0.25 + 0.09)
    assert scoring.log_categorical(probs, "c") == pytest.approx(-math.log(0.3))
    # sample {1, 2, 5}, y = 3: mean|x - y| = 5/3; pairs sum |xi - xj| over i, j = 2*(1+4+3) = 16 -> 16/18
    assert scoring.crps_sample([1, 2, 5], 3) == pytest.approx(5 / 3 - 16 / 18)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-100, 100), min_size=1, max_size=60), st.floats(-150, 150))
def test_crps_matches_properscoring(sample, y):
    ps = pytest.importorskip("properscoring")
    assert scoring.crps_sample(sample, y) == pytest.approx(float(ps.crps_ensemble(y, np.array(sample))), abs=1e-9, rel=1e-9)


def test_resolve_scores_every_engine_and_writes_the_page(sealed):
    (sealed / "out.yaml").write_text("""format: tawazun-outcomes/1
outcomes:
  - {question: high, value: yes, date: 2021-12-31, source: "memo ¶9"}
  - {question: band, value: all, source: "memo ¶9"}
  - {question: value, value: 7.5, source: "memo ¶9"}
""", encoding="utf-8")
    res = runner.invoke(app, ["resolve", "ledger.jsonl", "--outcomes", "out.yaml", "--html", "scores.html", "--json", "s.json"])
    assert res.exit_code == 0, res.output
    doc = json.loads((sealed / "s.json").read_text())
    entry = json.loads((sealed / "ledger.jsonl").read_text())
    q = {x["id"]: x for x in entry["questions"]}
    for row in doc["scores"]:
        f = next(f for f in q[row["question"]]["forecasts"] if f["engine"] == row["engine"])
        if row["question"] == "high":
            assert row["brier"] == pytest.approx((f["probability"] - 1) ** 2)
        elif row["question"] == "band":
            assert row["brier"] == pytest.approx(f["probabilities"]["none"] ** 2 + (1 - f["probabilities"]["all"]) ** 2)
        else:
            assert row["crps"] == pytest.approx(scoring.crps_sample(f["sample"], 7.5))
        assert row["source"] == "memo ¶9"
    assert {s["engine"] for s in doc["summary"]} == {"compromise", "median", "bdm", "smp", "nash"}
    page = (sealed / "scores.html").read_text()
    assert "<svg" in page and "reliability" in page.lower()
    # "no change": x's status quo 5 as the forecast. high (x > 6): p = 0, it happened: Brier 1,
    # log -ln(eps) with eps = 1/(2 * 120 draws); band: 5 is on the none|all boundary, so "all"
    # (the band above), which happened: Brier 0, log -ln(1 - eps); value: |5 - 7.5| = 2.5
    base = {r["question"]: r for r in doc["baseline_scores"]}
    assert all(r["engine"] == "no change" and r["baseline"] is True for r in base.values())
    assert base["high"]["forecast"] == 0.0 and base["high"]["brier"] == 1.0
    assert base["high"]["log"] == pytest.approx(math.log(240))
    assert base["band"]["forecast"] == {"none": 0.0, "all": 1.0} and base["band"]["brier"] == 0.0
    assert base["band"]["log"] == pytest.approx(-math.log(1 - 1 / 240))
    assert base["value"]["forecast"] == 5.0 and base["value"]["crps"] == 2.5
    (summ,) = doc["baseline_summary"]
    assert summ["engine"] == "no change" and summ["questions"] == 3
    assert summ["brier"] == pytest.approx(0.5) and summ["crps"] == 2.5
    assert "no change (baseline)" in page and "no change (baseline)" in res.stdout
    assert doc["baseline_notes"] == []


def test_resolve_without_the_sealed_arena_scores_engines_and_notes_no_baselines(sealed):
    (sealed / "out.yaml").write_text('outcomes:\n  - {question: value, value: 7.5, source: "memo"}\n', encoding="utf-8")
    p = sealed / "q.yaml"
    p.write_text(p.read_text().replace("status_quo: 5", "status_quo: 9"))  # not the sealed arena any more
    res = runner.invoke(app, ["resolve", "ledger.jsonl", "--outcomes", "out.yaml", "--json", "s.json"])
    assert res.exit_code == 0, res.output
    doc = json.loads((sealed / "s.json").read_text())
    assert len(doc["scores"]) == 5 and doc["baseline_scores"] == []
    assert "no baselines" in doc["baseline_notes"][0] and "differs from the sealed arena" in res.stdout


@pytest.mark.parametrize("body, message", [
    ("outcomes:\n  - {question: high, value: yes}\n", "out.yaml:2: outcomes[0].source: required field is missing"),
    ("outcomes:\n  - {question: nope, value: yes, source: s}\n", "out.yaml:2: outcomes[0].question: no sealed question 'nope'"),
    ("outcomes:\n  - {question: band, value: some, source: s}\n", "out.yaml:2: outcomes[0].value: 'some' is not a category"),
    ("outcomes: [\n", "out.yaml:2: (yaml): bad YAML"),
    ("- 1\n", "out.yaml:1: (document): an outcomes file is a mapping"),
])
def test_malformed_outcomes_are_one_line_exit_2(sealed, body, message):
    (sealed / "out.yaml").write_text(body, encoding="utf-8")
    res = runner.invoke(app, ["resolve", "ledger.jsonl", "--outcomes", "out.yaml"])
    assert res.exit_code == 2
    assert len(res.stderr.strip().splitlines()) == 1 and res.stderr.startswith(message), res.stderr


# ------------------------------------------------------------------ web API
def test_web_whatif_api(tmp_path):
    from fastapi.testclient import TestClient

    from tawazun.web.app import create_app

    ws = tmp_path / "ws"
    client = TestClient(create_app(ws))
    (ws / "arenas" / "tiny.yaml").write_text(TINY_ARENA + QUESTIONS, encoding="utf-8")
    r = client.post("/api/arenas/tiny/whatif", json={"set": ["a.x.position=4"], "engines": "compromise", "draws": 50})
    assert r.status_code == 200, r.text
    assert r.json()["delta"][0]["at_modes"] == pytest.approx(1.5 * 2 / 5.1)
    r = client.post("/api/arenas/tiny/whatif", json={"set": ["a.x.position=40"], "engines": "compromise"})
    assert r.status_code == 422 and r.json()["errors"][0].startswith("arenas/tiny.yaml:")
    r = client.get("/api/arenas/tiny/levers", params={"actor": "a", "issue": "x", "step": 2})
    assert r.status_code == 200 and r.json()["levers"][0]["actor"] == "b"
    r = client.get("/api/arenas/tiny/questions", params={"engines": "compromise", "draws": 50})
    assert [q["id"] for q in r.json()] == ["high", "band", "value"]
