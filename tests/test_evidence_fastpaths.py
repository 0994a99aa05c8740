"""The speed paths of issue #16 give what the plain code gives: quote pairs found by regex
search against the character loop, and stance cues tried only where the issue's probe
stops against every cue scanned over every sentence."""

from __future__ import annotations

import copy
import random
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.evidence.gazetteer import Gazetteer
from tawazun.evidence.normalize import normalize
from tawazun.evidence.quotes import _pairs, _pairs_slow, find_quotes
from tawazun.evidence.stances import Cue, Lexicon, find_stances

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "evidence"


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(list('«»“”„"ab \n') + ["  ", "x y"]), max_size=60).map("".join))
def test_quote_pairs_equal_reference(text):
    assert _pairs(text) == _pairs_slow(text)


def test_quote_pairs_unclosed_line_is_linear():
    # 200,000 openers and no closer: the cached stop keeps this one pass
    text = "«" * 200_000
    assert _pairs(text) == []
    assert _pairs("«a» " * 3 + "«" * 1000 + "\n«b»") == _pairs_slow("«a» " * 3 + "«" * 1000 + "\n«b»")


def _stances(text: str, lex: Lexicon) -> list:
    gaz = Gazetteer.default()
    norm = normalize(text)
    mentions = gaz.find(norm)

    def kind_of(aid: str) -> str:
        return gaz.actor_info(aid).kind

    quotes = find_quotes(norm, mentions, kind_of, lambda a: a)
    return find_stances(norm, mentions, quotes, kind_of, lex)


def _unprobed(lex: Lexicon) -> Lexicon:
    plain = copy.copy(lex)
    plain.probes = {}
    return plain


def _sentences() -> list[str]:
    out: list[str] = []
    for p in sorted(FIXTURES.rglob("*.txt")):
        for line in p.read_text(encoding="utf-8").splitlines():
            out += [s.strip() + "." for s in line.split(".") if s.strip()]
    return out


def test_probed_cues_equal_plain_scan_on_shuffled_fixture_sentences():
    lex = Lexicon.default()
    assert lex.probes  # the shipped lexicon is probed
    sents = _sentences()
    rng = random.Random(16)
    for _ in range(6):
        rng.shuffle(sents)
        text = "\n".join(" ".join(sents[k:k + 3]) for k in range(0, 240, 3))
        got = _stances(text, lex)
        assert got == _stances(text, _unprobed(lex))
    assert got  # the texts do hold stances


_WORDS = ["the", "Sadrists", "boycott", "elections", "reject", "US", "forces", "withdrawal", "of",
          "ترفض", "الكتله", "وجود", "القوات", "الامريكيه", "مقاطعه", "الانتخابات", "يدعم", "اجراء",
          "not", "لن", "نشارك", "في", ",", ".", "\n", "Iran", "missiles", "Kataib", "Hezbollah"]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(_WORDS), max_size=40).map(" ".join))
def test_probed_cues_equal_plain_scan_on_word_salad(text):
    lex = Lexicon.default()
    assert _stances(text, lex) == _stances(text, _unprobed(lex))


def test_backreference_and_empty_cues_are_not_probed_wrongly():
    data = {
        "issues": [{
            "id": "x", "title": "x",
            "cues": [
                {"dir": "support", "rx": r"(\w+) and \1 back elections"},  # backreference: never probed
                {"dir": "oppose", "rx": r"boycott(?:s)?"},
                {"dir": "support", "rx": r"(?:welcome)?"},  # can match empty: finditer's rules
            ],
        }],
        "negators": {"en": ["not"]},
    }
    lex = Lexicon.from_dict(data)
    assert "(\\w+) and \\1" not in lex.probes["x"].pattern
    text = "The Sadrists and Sadrists back elections. Iran boycotts. Iraq welcome it."
    assert _stances(text, lex) == _stances(text, _unprobed(lex))
    assert isinstance(lex.cues[0], Cue)
