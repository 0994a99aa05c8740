"""Unit tests of the evidence extractors: normalisation, gazetteer, dates, numbers,
quotes, stances. Test sentences are written for these tests."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tawazun.evidence.dates import find_dates
from tawazun.evidence.gazetteer import Gazetteer
from tawazun.evidence.normalize import fold, fold_char, normalize, strip_proclitics
from tawazun.evidence.numbers import find_numbers
from tawazun.evidence.pipeline import extract

REF = dt.date(2021, 7, 27)


# ---------------------------------------------------------------- normalisation
def test_fold_letters_digits_diacritics():
    assert fold("أَإِآٱ") == "اااا"
    assert fold("مستشفى") == "مستشفي"
    assert fold("الحكومة") == "الحكومه"
    assert fold("جـــنـــود") == "جنود"
    assert fold("٢٠٢١ ۱۹") == "2021 19"
    assert fold("Biden") == "biden"


def test_glued_digits_are_split_and_map_back():
    n = normalize("الى2500 جندي")
    assert n.text == "الي 2500 جندي"
    i = n.text.index("2500")
    assert n.span(i, i + 4) == (3, 7)
    # the inserted space maps to an empty span at the boundary
    assert n.starts[3] == n.ends[3] == 3


def test_strip_proclitics():
    assert strip_proclitics("والحكومه") == "حكومه"
    assert strip_proclitics("للحكومه") == "حكومه"
    assert strip_proclitics("بايران") == "ايران"
    assert strip_proclitics("لا") == "لا"  # too short to strip


_ALPHABET = st.sampled_from(list("أإآٱاىيةهـَُِّ٠١٢٣456789 ,.«»\"“”\nبتثجحخدذرسشصضطظعغفقكلمنوabcXYZ"))


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_normalize_offsets_invariants(text):
    n = normalize(text)
    assert len(n.text) == len(n.starts) == len(n.ends)
    prev = 0
    for i, ch in enumerate(n.text):
        s, e = n.starts[i], n.ends[i]
        assert prev <= s <= e <= len(text)
        prev = s
        if e > s:  # a real character: folding the original gives this one
            assert fold_char(text[s]) == ch
        else:
            assert ch == " "


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from([
    "الكاظمي", " قال ", "بايدن", ": «", "»", " 2500 جندي", " تموز 2021", " واشنطن", " Biden said \"",
    "\" ", ". ", "\n", " يطالب برحيل القوات الأمريكية", " التيار الصدري", " boycott the elections",
    "٣٠٪", " إيران", " Iran-aligned factions", "ـ", "َ",
]), max_size=25).map("".join))
def test_extract_offsets_point_into_original(text):
    x = extract(text, as_of=REF)
    for a in x["actors"]:
        for m in a["mentions"]:
            assert text[m["start"]:m["end"]] == m["surface"]
    for k in ("numbers", "dates"):
        for h in x[k]:
            assert text[h["start"]:h["end"]] == h["surface"]
    for q in x["quotes"]:
        assert text[q["start"]:q["end"]] == q["text"]
        assert q["paragraph"] == text.count("\n", 0, q["start"]) + 1
    for s in x["stances"]:
        assert 0 <= s["start"] <= s["end"] <= len(text)
        assert s["surface"] in text


# ---------------------------------------------------------------- gazetteer
def _ids(text, gaz=None):
    g = gaz or Gazetteer.default()
    return [(m.id, m.surface) for m in g.find(normalize(text))]


def test_gazetteer_proclitics_and_article():
    assert _ids("وللحكومة العراقية موقف") == [("iraq-gov", "للحكومة العراقية")]
    assert _ids("ضغطت لإيران") == [("iran", "إيران")] or _ids("ضغطت لإيران")[0][0] == "iran"
    assert _ids("والكاظمي") == [("iraq-gov", "الكاظمي")]


def test_gazetteer_nationality_adjectives_map_to_country():
    ids = [i for i, _ in _ids("القوات الأمريكية والجنود الأميركيين and American troops")]
    assert ids == ["us-gov", "us-gov", "us-gov"]


def test_gazetteer_case_sensitive_acronyms_and_stoplist():
    assert _ids("US forces") == [("us-gov", "US")]
    assert _ids("let us go") == []
    assert _ids("Islamic State (ISIS)")[-1] == ("isis", "ISIS")
    assert _ids("the isis flower") == []
    # ordinary words that are also party names are not actors on their own
    assert _ids("بعد الفتح والدعوة والحكمة") == []
    assert _ids("صدر القرار") == []


def test_gazetteer_place_names_for_governments():
    assert _ids("Baghdad and Washington agreed") == [("iraq-gov", "Baghdad"), ("us-gov", "Washington")]
    assert _ids("a drone fell in Baghdad") == []
    assert _ids("اغتيل في بغداد") == []
    assert _ids("WASHINGTON — officials") == []


def test_gazetteer_word_boundaries():
    assert _ids("Iranians") == [("iran", "Iranians")]
    assert _ids("Iranianism") == []
    assert _ids("مصر على موقفه") == []  # مُصِرّ (insists), not Egypt


def test_gazetteer_fuzzy_spelling_variant():
    found = _ids("الميلشيات الموالية لايران هاجمت")
    assert found and found[0][0] == "aligned-factions"


def test_gazetteer_arena_aliases_and_regrouping():
    arena = {"actors": [
        {"id": "kurdish-parties", "names": {"en": "Kurdish parties (KDP, PUK)"}, "aliases": ["KDP", "PUK", "Erbil"]},
        {"id": "hashd", "names": {"en": "Popular Mobilization", "ar": "الحشد"}, "aliases": ["Hashd"]},
        {"id": "lone", "names": {"en": "Lone Star Front"}, "aliases": ["the party"]},
    ]}
    x = extract("The KDP and the Kurdistan Democratic Party met the Hashd and the Lone Star Front.", arena=arena)
    ids = [a["id"] for a in x["actors"]]
    assert ids[0] == "kurdish-parties" and "kdp" not in ids
    assert "hashd" in ids and "lone" in ids
    assert not any(m["surface"] == "party" for a in x["actors"] for m in a["mentions"])


# ---------------------------------------------------------------- dates
@pytest.mark.parametrize("text,value", [
    ("وقع الاتفاق يوم 26/ تموز / 2021", "2021-07-26"),
    ("في ٢٦ تموز ٢٠٢١", "2021-07-26"),
    ("في 12 جانفي 2020", "2020-01-12"),
    ("في 3 أوت 2019", "2019-08-03"),
    ("في العاشر من تشرين الأول", "2021-10-10"),
    ("بداية كانون الثاني عام 2020", "2020-01"),
    ("بحلول نهاية عام 2021", "2021-12-31"),
    ("by the end of the year", "2021-12-31"),
    ("أكتوبر المقبل", "2021-10"),
    ("تشرين الاول القادم", "2021-10"),
    ("next October", "2021-10"),
    ("last March", "2021-03"),
    ("حزيران الماضي", "2021-06"),
    ("قبل 18 عاما", "2003"),
    ("18 years ago", "2003"),
    ("last week", "2021-07-20"),
    ("الشهر المقبل", "2021-08"),
    ("العام الماضي", "2020"),
    ("on July 26, 2021", "2021-07-26"),
    ("on 26/7/2021", "2021-07-26"),
    ("in 2018", "2018"),
    ("May 2021", "2021-05"),
    ("said on Monday", "2021-07-26"),
])
def test_dates(text, value):
    got = [d.value for d in find_dates(normalize(text), REF)]
    assert got == [value]


@pytest.mark.parametrize("text", ["you may go", "they march on", "أب الشهيد", "2,500 troops", "2000 جندي",
                                  "العام"])
def test_not_dates(text):
    assert find_dates(normalize(text), REF) == []


def test_dates_reference_inferred_from_text():
    d = find_dates(normalize("وقع يوم 26 تموز 2021 اتفاقا ينتهي نهاية العام"))
    assert [x.value for x in d] == ["2021-07-26", "2021-12-31"]


# ---------------------------------------------------------------- numbers
@pytest.mark.parametrize("text,value,unit", [
    ("الى2500 جندي", 2500, "troops"),
    ("٢٬٥٠٠ عسكري", 2500, "troops"),
    ("about 2,500 US troops", 2500, "troops"),
    ("two thousand five hundred soldiers", 2500, "troops"),
    ("ألفين وخمسمئة جندي", 2500, "troops"),
    ("خمسة وعشرين مقعدا", 25, "seats"),
    ("ثلاثة آلاف عنصر", 3000, "troops"),
    ("مئة وستين ألف مقاتل", 160000, "troops"),
    ("٣٥٪", 35, "percent"),
    ("40 بالمئة", 40, "percent"),
    ("44.5 percent", 44.5, "percent"),
    ("ثلاث جولات", 3, "rounds"),
    ("الجولة السادسة", 6, "rounds"),
    ("the sixth round", 6, "rounds"),
    ("$5 million", 5_000_000, "usd"),
    ("18 عاما", 18, "years"),
])
def test_numbers(text, value, unit):
    hits = find_numbers(normalize(text))
    assert [(h.value, h.unit) for h in hits] == [(value, unit)]


def test_number_words_need_a_unit_and_digits_do_not():
    assert find_numbers(normalize("no one will declare it; واحد من الاسباب")) == []
    assert [(h.value, h.unit) for h in find_numbers(normalize("item 42 here"))] == [(42, None)]


def test_numbers_skip_dates_in_pipeline():
    x = extract("يوم 26 تموز 2021 بقي 2500 جندي", as_of=REF)
    assert [(n["value"], n["unit"]) for n in x["numbers"]] == [(2500, "troops")]


# ---------------------------------------------------------------- quotes
def test_quote_speakers_outlets_and_scare_quotes():
    text = ('وقال بايدن للصحفيين: "سنبقى شركاء للعراق في الحرب على الإرهاب". '
            'وأكد المتحدث باسم كتائب حزب الله لقناة BBC: «لا هدنة مع الاحتلال بعد اليوم». '
            'وعادت "الفصائل" الى الواجهة.\n'
            '"We will hold the vote on time, whatever happens," Kadhimi told the BBC. '
            'Critics called it a "fait accompli".')
    x = extract(text, as_of=REF)
    got = [(q["speaker"], q["outlet"], q["paragraph"]) for q in x["quotes"]]
    assert got == [("us-gov", None, 1), ("kataib-hezbollah", "bbc", 1), ("iraq-gov", "bbc", 2)]


def test_quote_attributed_after_with_according_to():
    text = 'The militias are "responsible for most killings of activists in the south", according to the New York Times.'
    x = extract(text)
    assert [(q["speaker"], q["outlet"]) for q in x["quotes"]] == [("nyt", "nyt")]


def test_long_unattributed_quote_is_kept_without_speaker():
    text = 'The banner read "the people want the fall of the corrupt political class now".'
    assert [q["speaker"] for q in extract(text)["quotes"]] == [None]


# ---------------------------------------------------------------- stances
def _st(text):
    return [(s["actor"], s["issue"], s["direction"]) for s in extract(text, as_of=REF)["stances"]]


def test_stances_basic_and_negation():
    assert _st("تطالب الفصائل الموالية لإيران برحيل القوات الأمريكية.") == [
        ("aligned-factions", "us-presence", "oppose")]
    assert _st("لا يدعم التيار الصدري إجراء الانتخابات.") == [("sadrists", "elections", "oppose")]
    assert _st("The Sadrists will not boycott the elections.") == [("sadrists", "elections", "support")]
    assert _st("Kataib Hezbollah no longer demands the withdrawal of US troops.") == [
        ("kataib-hezbollah", "us-presence", "support")]


def test_stances_coordination_and_quotes():
    got = _st("الحكومة العراقية، إلى جانب كبار القادة العسكريين العراقيين، يفضلون بقاء القوات.")
    assert set(got) == {("iraq-gov", "us-presence", "support"), ("isf-commanders", "us-presence", "support")}
    assert _st('قال بايدن: "نتطلع إلى إجراء انتخابات نزيهة".') == [("us-gov", "elections", "support")]


def test_stances_vienna_missiles():
    assert _st("Iran refused to discuss its missiles, while the E3 pressed for limits on Iran's missiles.") == [
        ("iran", "vienna-missiles", "oppose"), ("e3", "vienna-missiles", "support")]


def test_stance_span_is_the_sentence():
    text = "First sentence here. The Sadrists boycott the elections. Last one."
    s = extract(text)["stances"][0]
    assert text[s["start"]:s["end"]] == "The Sadrists boycott the elections"
    assert s["surface"] == "boycott the elections"


@settings(max_examples=200, deadline=None)
@given(st.lists(_ALPHABET, max_size=80).map("".join))
def test_fast_normalize_equals_reference(text):
    from tawazun.evidence.normalize import _normalize_slow

    assert normalize(text) == _normalize_slow(text)


# every kind of fold (issue #16 made normalize replace characters one distinct character
# at a time and find dropped ones with str.find): Persian letters and digits, joiners
# and marks, spaces, and upper-case letters whose lower case is one character or two
_WIDE = st.sampled_from(list("یکھ٫٬٪\u00a0\u2009\u202f\u200c\u200d\u200e\u061c\u0670\u06D6\u0610ۀ۱۲۹"
                             "İΣǅKÅẞABßاةى١2 \n") + ["\u0640\u0640", "أَ", "ـ٣"])


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.lists(_WIDE, max_size=60).map("".join), st.text(max_size=60)))
def test_fast_normalize_equals_reference_wide_alphabet(text):
    from tawazun.evidence.normalize import _normalize_slow

    assert normalize(text) == _normalize_slow(text)
    assert normalize(text, split_glued_digits=False) == _normalize_slow(text, split_glued_digits=False)


def test_gazetteer_disk_cache_round_trip(tmp_path, monkeypatch):
    from tawazun.evidence.stances import Lexicon

    text = normalize("قال الكاظمي إن واشنطن والبنتاغون و Kataib Hezbollah and the Sadrists agreed")
    expected = Gazetteer.default().find(text)
    monkeypatch.setenv("TAWAZUN_CACHE", str(tmp_path))
    try:
        Gazetteer.default.cache_clear()
        Lexicon.default.cache_clear()
        built = Gazetteer.default()  # cold: builds and writes the cache
        assert list(tmp_path.iterdir())
        Gazetteer.default.cache_clear()
        loaded = Gazetteer.default()  # warm: read back from the pickle
        assert built.find(text) == loaded.find(text) == expected
        n_cues = len(Lexicon.default().cues)
        Lexicon.default.cache_clear()
        assert len(Lexicon.default().cues) == n_cues  # from the JSON cache
        # a corrupt cache file is rebuilt, not an error
        files = [f for f in tmp_path.rglob("*") if f.is_file()]
        assert len(files) == 2
        for f in files:
            f.write_bytes(b"not a pickle")
        Gazetteer.default.cache_clear()
        Lexicon.default.cache_clear()
        assert Gazetteer.default().find(text) == expected
        assert len(Lexicon.default().cues) == n_cues
    finally:
        Gazetteer.default.cache_clear()
        Lexicon.default.cache_clear()
