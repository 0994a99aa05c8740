"""Extraction quality on hand-annotated fixtures, and on the shared seed article."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
import yaml

from tawazun.evidence.pipeline import draft_arena, extract
from tawazun.evidence.score import score_dir

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "evidence"
SEED_DIR = Path(__file__).resolve().parents[1] / ".." / "shared" / "seed"

TARGETS = {"actors": 0.9, "numbers": 0.9, "dates": 0.9, "quotes": 0.85, "stances": 0.75}


@pytest.fixture(scope="module")
def scores():
    return score_dir(FIXTURES)


@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_fixture_targets(scores, kind):
    p, r, f = scores["prf"][kind]
    assert f >= TARGETS[kind], f"{kind}: P={p:.3f} R={r:.3f} F1={f:.3f}"


def test_fixtures_cover_both_languages():
    names = [p.name for p in FIXTURES.glob("*.gold.json")]
    assert sum(n.startswith("ar_") for n in names) >= 4
    assert sum(n.startswith("en_") for n in names) >= 4


@pytest.mark.parametrize("folder", ["heldout", "heldout2"])
@pytest.mark.parametrize("kind", sorted(TARGETS))
def test_later_fixture_sets(folder, kind):
    """These sets were written after the lexicons; their first-run scores are in
    docs/evidence.md.  Here: they must not fall below the spec floors (stances: 0.7)."""
    res = score_dir(FIXTURES / folder)
    floor = 0.7 if kind == "stances" else TARGETS[kind]
    assert res["prf"][kind][2] >= floor


# heldout3 (issue #16): actors F1 >= 0.9, quotes attributed >= 0.8, stances recall >= 0.7,
# numbers and dates >= 0.95.  Met after changes prompted by this set, so these are no
# longer unseen-text figures (first-run scores are in docs/evidence.md).
HELDOUT3 = {"actors": (2, 0.9), "quotes": (2, 0.8), "stances": (1, 0.7), "numbers": (2, 0.95),
            "dates": (2, 0.95), "quote-role": (1, 0.8), "role-org": (1, 0.8)}


@pytest.fixture(scope="module")
def heldout3():
    return score_dir(FIXTURES / "heldout3")


@pytest.mark.parametrize("kind", sorted(HELDOUT3))
def test_heldout3_targets(heldout3, kind):
    which, floor = HELDOUT3[kind]  # index into (P, R, F1)
    assert heldout3["prf"][kind][which] >= floor, (kind, heldout3["prf"][kind])


def test_heldout3_anonymous_quotes_have_no_speaker():
    for name in ("ar_09", "ar_10", "ar_11", "ar_12"):
        text = (FIXTURES / "heldout3" / f"{name}.txt").read_text(encoding="utf-8")
        gold = json.loads((FIXTURES / "heldout3" / f"{name}.gold.json").read_text(encoding="utf-8"))
        x = extract(text, as_of=gold["as_of"])
        assert all(q["speaker"] is None and q["speaker_role"] for q in x["quotes"]), name


# ---------------------------------------------------------------- the seed article
def _seed():
    files = sorted(SEED_DIR.glob("000_*.txt")) if SEED_DIR.is_dir() else []
    if not files:
        pytest.skip("shared seed article not present")
    gold = json.loads((FIXTURES / "seed_gold.json").read_text(encoding="utf-8"))
    text = files[0].read_text(encoding="utf-8")
    return text, gold, extract(text, as_of=gold["as_of"])


@pytest.mark.shared
def test_seed_actors():
    _, gold, x = _seed()
    found = {a["id"] for a in x["actors"]}
    missing = set(gold["actors"]) - found
    assert not missing, f"actors not found: {sorted(missing)}"


@pytest.mark.shared
def test_seed_quotes_and_speakers():
    text, gold, x = _seed()
    got = [{"paragraph": q["paragraph"], "speaker": q["speaker"], "outlet": q["outlet"]} for q in x["quotes"]]
    assert got == [{k: g[k] for k in ("paragraph", "speaker", "outlet")} for g in gold["quotes"]]
    # anonymous officials: no speaker, the organisation named in the role phrase
    for q, g in zip(x["quotes"], gold["quotes"]):
        if "role_org" in g:
            assert q["role_org"] == g["role_org"] and q["speaker_role"], (q, g)
    assert text.count("\n") + 1 >= 14  # 14 paragraphs, one a line


@pytest.mark.shared
def test_seed_numbers():
    text, gold, x = _seed()
    got = Counter()
    for n in x["numbers"]:
        got[(n["value"], n["unit"], text.count("\n", 0, n["start"]) + 1)] += 1
    for g in gold["numbers"]:
        for para in g["paragraphs"]:
            assert got[(g["value"], g["unit"], para)] >= 1, (g, para)


@pytest.mark.shared
def test_seed_dates():
    text, gold, x = _seed()
    got = [(d["value"], text.count("\n", 0, d["start"]) + 1) for d in x["dates"]]
    for g in gold["dates"]:
        assert (g["value"], g["paragraph"]) in got, g
    # the same values come out when the reference date is taken from the text itself
    assert [d["value"] for d in extract(text)["dates"]] == [d["value"] for d in x["dates"]]


@pytest.mark.shared
def test_seed_stances():
    _, gold, x = _seed()
    got = {(s["actor"], s["issue"], s["direction"]) for s in x["stances"]}
    want = {(s["actor"], s["issue"], s["direction"]) for s in gold["stances"]}
    assert want <= got
    # no stance contradicts the gold one for the same actor and issue
    for a, i, d in got:
        assert (a, i, "support" if d == "oppose" else "oppose") not in want


@pytest.mark.shared
def test_seed_draft_arena_validates(tmp_path):
    arena_mod = pytest.importorskip("tawazun.arena")
    text, gold, x = _seed()
    draft = draft_arena(x, {"id": "seed", "title": "seed article", "date": "2021-07-27"}, text=text)
    path = tmp_path / "draft.yaml"
    path.write_text(yaml.safe_dump(draft, allow_unicode=True, sort_keys=False), encoding="utf-8")
    arena = arena_mod.load_arena(path)
    assert {i.id for i in arena.issues} == {"us-presence", "elections"}
    for s in arena.stances:
        assert all(e.locator.startswith("¶") for e in s.evidence)
        assert all(len(e.note) <= 60 for e in s.evidence)
    assert "nyt" not in {a.id for a in arena.actors}  # outlets are sources, not players


def test_draft_arena_from_fixture_validates(tmp_path):
    arena_mod = pytest.importorskip("tawazun.arena")
    text = (FIXTURES / "en_03.txt").read_text(encoding="utf-8")
    x = extract(text, as_of="2021-07-20")
    draft = draft_arena(x, {"id": "en-03", "title": "fixture", "date": "2021-07-20"}, text=text)
    assert {i["id"] for i in draft["issues"]} == {"us-presence", "vienna-missiles"}
    for s in draft["stances"]:
        assert s["position"] == {"low": 0.0, "mode": 50.0, "high": 100.0}
        assert "placeholder" in s["note"]
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(draft, allow_unicode=True, sort_keys=False), encoding="utf-8")
    arena_mod.load_arena(path)


def test_draft_arena_with_nothing_found_is_still_an_arena(tmp_path):
    arena_mod = pytest.importorskip("tawazun.arena")
    draft = draft_arena(extract("Nothing political here at all."), {"id": "empty"})
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(draft, allow_unicode=True, sort_keys=False), encoding="utf-8")
    arena_mod.load_arena(path)
