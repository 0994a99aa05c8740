"""Numbers with units: digits (ASCII or Arabic-Indic, thousands separators ``,`` ``٬``,
decimals ``.`` ``٫``), scale words (thousand/ألف, million/مليون) and number words in
Arabic and English (``two thousand five hundred``, ``ألفين وخمسمئة``), plus ordinals next
to a counted noun (``الجولة السادسة``, ``the sixth round``).

Digits are always reported (with ``unit: null`` when no unit follows); number words
only with a unit, because bare words (``one``, ``واحد``) are too often not quantities.
"""

from __future__ import annotations

import math
import re
from typing import NamedTuple

from tawazun.evidence import diskcache
from tawazun.evidence.normalize import Norm, strip_proclitics

# unit -> folded forms (a leading proclitic is allowed in Arabic forms)
_UNITS: dict[str, list[str]] = {
    "troops": ["جندي", "جنود", "جنديا", "عسكري", "عسكريا", "عسكريين", "مقاتل", "مقاتلا", "مقاتلين",
               "مستشار", "مستشارا", "مستشارين", "مدرب", "مدربين", "عنصر", "عنصرا", "عناصر",
               "troops", "troop", "soldiers", "soldier", "service members", "servicemembers",
               "military personnel", "personnel", "fighters", "advisers", "advisors", "trainers",
               "marines"],
    "seats": ["مقعد", "مقعدا", "مقاعد", "seats", "seat"],
    "percent": ["%", "بالمئه", "بالمائه", "في المئه", "في المائه", "percent", "per cent", "pct"],
    "years": ["عاما", "عام", "سنه", "سنوات", "سنين", "اعوام", "years", "year"],
    "months": ["شهرا", "اشهر", "شهور", "months", "month"],
    "days": ["يوما", "ايام", "days", "day"],
    "rounds": ["جوله", "جولات", "rounds", "round"],
    "usd": ["دولار", "دولارا", "دولارات", "dollars", "dollar", "usd"],
    "people": ["شخص", "شخصا", "اشخاص", "مواطن", "مواطنا", "مواطنين", "people", "persons", "civilians",
               "ناشط", "ناشطا", "ناشطين", "نشطاء", "activists", "متظاهر", "متظاهرا", "متظاهرين",
               "محتج", "محتجا", "محتجين", "protesters", "demonstrators"],
    "observers": ["مراقب", "مراقبا", "مراقبين", "observers", "monitors"],
    "bases": ["قاعده", "قواعد", "bases", "base"],
    "attacks": ["drone attacks", "drone strikes", "rocket attacks", "air strikes", "airstrikes", "air raids",
                "غارات جويه", "غاره جويه", "غارات", "غاره", "هجمات بطائرات مسيره", "هجوم", "هجوما", "هجمات", "attacks", "attack", "strikes", "ضربه", "ضربات"],
    "drones": ["طائره مسيره", "طائرات مسيره", "مسيره", "مسيرات", "drones", "drone"],
    "rockets": ["صاروخ", "صاروخا", "صواريخ", "rockets", "rocket", "missiles", "missile"],
    "votes": ["صوت", "صوتا", "اصوات", "votes", "vote", "ballots"],
    "candidates": ["مرشح", "مرشحا", "مرشحين", "candidates", "candidate"],
    "factions": ["فصيل", "فصيلا", "فصائل", "factions", "militias", "groups"],
    "parties": ["حزب", "حزبا", "احزاب", "parties"],
    "voters": ["ناخب", "ناخبا", "ناخبين", "voters"],
}
_UNIT_OF: dict[str, str] = {}
for _u, _forms in _UNITS.items():
    for _f in _forms:
        _UNIT_OF[_f] = _u
_UNIT_RX = diskcache.compile(
    r"\s*(?:[وفبل]?(?:ال)?)?(" + "|".join(re.escape(f) for f in sorted(_UNIT_OF, key=len, reverse=True)) + r")(?![\w])"
)
# English words allowed between a number and its unit ("2,500 US troops")
_EN_FILLER = diskcache.compile(r"\s*(?:(?:us|u\.s\.|american|iraqi|iranian|foreign|more|additional|other|"
                               r"coalition|nato|combat|active|armed|new|remaining|parliamentary|elected)\s+){1,2}")

_SCALE = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000,
          "الف": 1_000, "الاف": 1_000, "مليون": 1_000_000, "ملايين": 1_000_000, "مليار": 1_000_000_000,
          "مليارات": 1_000_000_000}
_SCALE_AFTER = diskcache.compile(r"\s*(thousand|million|billion|الف|الاف|مليون|ملايين|مليار|مليارات)(?![\w])")
MAX_DIGITS = 15  # longer digit runs are not quantities (beyond float precision anyway)
_DIGITS = diskcache.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w]|[.,]\d)")

_EN_SMALL = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen".split())}
_EN_SMALL.update({"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                  "eighty": 80, "ninety": 90, "dozen": 12})
_EN_ORD = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7,
           "eighth": 8, "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12}
_AR_UNITS = {"واحد": 1, "واحده": 1, "اثنان": 2, "اثنين": 2, "اثنتان": 2, "اثنتين": 2, "اثنا": 2, "اثنتا": 2,
             "ثلاث": 3, "ثلاثه": 3, "اربع": 4, "اربعه": 4, "خمس": 5, "خمسه": 5, "ست": 6, "سته": 6,
             "سبع": 7, "سبعه": 7, "ثماني": 8, "ثمانيه": 8, "ثمان": 8, "تسع": 9, "تسعه": 9,
             "عشر": 10, "عشره": 10}
_AR_TENS = {"عشرون": 20, "عشرين": 20, "ثلاثون": 30, "ثلاثين": 30, "اربعون": 40, "اربعين": 40,
            "خمسون": 50, "خمسين": 50, "ستون": 60, "ستين": 60, "سبعون": 70, "سبعين": 70,
            "ثمانون": 80, "ثمانين": 80, "تسعون": 90, "تسعين": 90}
_AR_HUNDREDS = {"مئه": 100, "مائه": 100, "مئتان": 200, "مئتين": 200, "مائتان": 200, "مائتين": 200}
for _w, _v in [("ثلاث", 3), ("اربع", 4), ("خمس", 5), ("ست", 6), ("سبع", 7), ("ثمان", 8), ("ثماني", 8), ("تسع", 9)]:
    _AR_HUNDREDS[_w + "مئه"] = _v * 100
    _AR_HUNDREDS[_w + "مائه"] = _v * 100
_AR_THOUSANDS = {"الف": 1000, "الفا": 1000, "الفان": 2000, "الفين": 2000, "الاف": 1000}
_AR_ORD = {"الاول": 1, "الاولي": 1, "الثاني": 2, "الثانيه": 2, "الثالث": 3, "الثالثه": 3, "الرابع": 4,
           "الرابعه": 4, "الخامس": 5, "الخامسه": 5, "السادس": 6, "السادسه": 6, "السابع": 7, "السابعه": 7,
           "الثامن": 8, "الثامنه": 8, "التاسع": 9, "التاسعه": 9, "العاشر": 10, "العاشره": 10}
_ORD_NOUNS = {"جوله": "rounds", "الجوله": "rounds", "دوره": "rounds", "الدوره": "rounds", "round": "rounds",
              "rounds": "rounds", "term": "terms", "ولايه": "terms", "الولايه": "terms"}

_NUMBERISH = (set(_EN_SMALL) | {"hundred", "thousand", "million", "billion"} | set(_AR_UNITS) | set(_AR_TENS)
              | set(_AR_HUNDREDS) | set(_AR_THOUSANDS) | {"مليون", "ملايين", "مليار", "مليارات"}
              | set(_AR_ORD) | set(_EN_ORD))
_TOKEN = diskcache.compile(r"[\w%]+(?:-[\w]+)*|[^\s\w]")


class NumberHit(NamedTuple):
    value: int | float
    unit: str | None
    surface: str
    start: int
    end: int
    nstart: int
    nend: int


def _clean(v: float) -> int | float:
    return int(v) if float(v).is_integer() else v


def _unit_after(t: str, pos: int, lang_ar: bool) -> tuple[str | None, int]:
    """The unit right after position ``pos`` (and where it ends)."""
    m = _UNIT_RX.match(t, pos)
    if m:
        return _UNIT_OF[m.group(1)], m.end()
    f = _EN_FILLER.match(t, pos)
    if f:
        m = _UNIT_RX.match(t, f.end())
        if m:
            return _UNIT_OF[m.group(1)], m.end()
    return None, pos


def _word_value(w: str) -> tuple[str, int] | None:
    """('small'|'hundred'|'scale'|'thousands', value) for a number word."""
    if w in _EN_SMALL:
        return "small", _EN_SMALL[w]
    if w == "hundred":
        return "hundred", 100
    if w in ("thousand", "million", "billion"):
        return "scale", _SCALE[w]
    if w in _AR_UNITS:
        return "small", _AR_UNITS[w]
    if w in _AR_TENS:
        return "small", _AR_TENS[w]
    if w in _AR_HUNDREDS:
        v = _AR_HUNDREDS[w]
        return ("hundred", 100) if v == 100 else ("small", v)
    if w in ("الفان", "الفين"):
        return "lump", 2000
    if w in ("الف", "الفا", "الاف"):
        return "scale", 1000
    if w in ("مليون", "ملايين"):
        return "scale", 1_000_000
    if w in ("مليار", "مليارات"):
        return "scale", 1_000_000_000
    return None


def find_numbers(norm: Norm, blocked: list[tuple[int, int]] | None = None) -> list[NumberHit]:
    """Numbers in folded text; ``blocked`` folded spans (dates) are skipped."""
    t = norm.text
    taken = bytearray(len(t) + 1)  # 1 where a date or an earlier number sits
    for bs, be in blocked or []:
        taken[bs:be] = b"\x01" * (be - bs)

    def free(s: int, e: int) -> bool:
        return taken.find(1, s, max(e, s + 1)) < 0

    hits: list[NumberHit] = []

    def emit(value: float, unit: str | None, s: int, e: int) -> None:
        if not math.isfinite(value):
            return  # inf/nan never reach the JSON writer
        os_, oe = norm.span(s, e)
        hits.append(NumberHit(_clean(value), unit, norm.original[os_:oe], os_, oe, s, e))
        taken[s:e] = b"\x01" * (e - s)

    # 1. digits, with an optional scale word and unit
    for m in _DIGITS.finditer(t):
        s, e = m.start(), m.end()
        if not free(s, e):
            continue
        digits = m.group(1).replace(",", "")
        if len(digits) > MAX_DIGITS:
            continue  # a code, a hash or junk, not a quantity (and float() would give inf)
        value = float(digits)
        sm = _SCALE_AFTER.match(t, e)
        if sm:
            value *= _SCALE[sm.group(1)]
            e = sm.end()
        unit, ue = _unit_after(t, e, True)
        if unit is None and t[s - 1:s] == "$":
            unit, s = "usd", s - 1
        emit(value, unit, s, ue if unit else e)

    # 2. number words (with a unit) and ordinals next to a counted noun; only tokens that
    #    can start one are visited
    raw = _TOKEN.findall(t)
    cands = [i for i, w in enumerate(raw)
             if w in _NUMBERISH or (w[:1] in "وب" and w[1:] in _NUMBERISH)
             or ("-" in w and w.split("-", 1)[0] in _EN_SMALL)]
    toks: list[tuple[int, int, str]] = []
    if cands:
        pos = 0
        for w in raw:
            pos = t.find(w, pos)
            toks.append((pos, pos + len(w), w))
            pos += len(w)
    n = len(toks)
    resume = 0
    for i in cands:
        if i < resume:
            continue
        s0, e0, w = toks[i]
        if not free(s0, e0):
            continue
        # ordinals: "الجوله السادسه", "the sixth round"
        if w in _AR_ORD:
            if i > 0 and strip_proclitics(toks[i - 1][2]) in ("جوله", "دوره", "ولايه"):
                prev = toks[i - 1][2]
                stem = strip_proclitics(prev)
                k = len(prev) - len(stem)
                if prev[k - 2:k] == "ال":
                    k -= 2
                if free(toks[i - 1][0], e0):
                    emit(_AR_ORD[w], _ORD_NOUNS[stem], toks[i - 1][0] + k, e0)
            continue
        if w in _EN_ORD:
            if i + 1 < n and toks[i + 1][2] in _ORD_NOUNS:
                emit(_EN_ORD[w], _ORD_NOUNS[toks[i + 1][2]], s0, toks[i + 1][1])
                resume = i + 2
            continue
        # cardinal word sequences
        total, current, j, last_end, used = 0, 0, i, e0, 0
        while j < n:
            w2 = toks[j][2]
            if used and w2 in ("and", "و"):
                j += 1
                continue
            wv = _word_value(w2)
            if wv is None and used and w2.startswith("و") and len(w2) > 2:
                wv = _word_value(w2[1:])
            if wv is None and not used and w2[:1] in "وب" and len(w2) > 3:
                wv = _word_value(w2[1:])
            if wv is None and "-" in w2:
                parts = [_word_value(p) for p in w2.split("-")]
                if all(p and p[0] == "small" for p in parts):
                    wv = ("small", sum(p[1] for p in parts))  # type: ignore[index]
            if wv is None:
                break
            kind, v = wv
            if kind == "small":
                current += v
            elif kind == "hundred":
                current = max(current, 1) * 100
            elif kind == "lump":
                total += v
            else:  # scale
                total += max(current, 1) * v
                current = 0
            used += 1
            last_end = toks[j][1]
            j += 1
        if used:
            value = total + current
            unit, ue = _unit_after(t, last_end, True)
            if unit and value > 0 and free(s0, ue):
                st = s0 + (1 if w[:1] in "وب" and _word_value(w) is None else 0)
                emit(value, unit, st, ue)
            resume = j
    hits.sort(key=lambda h: h.start)
    return hits
