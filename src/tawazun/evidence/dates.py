"""Dates: absolute (day-month-year, month-year, year) and relative ones resolved against
a reference date.  Arabic standard, Iraqi/Levantine and Maghrebi month names and English
ones.  Values are ISO strings: ``YYYY-MM-DD``, ``YYYY-MM`` or ``YYYY``.

Conventions (see docs/evidence.md, decisions log):
* "end of <year>" / نهاية عام -> ``YYYY-12-31``; "beginning of <year>" -> ``YYYY-01-01``;
  other modifiers of a year (early, late, mid) keep ``YYYY``; modifiers of a month keep
  ``YYYY-MM``.
* "next October" / أكتوبر المقبل -> the first October after the reference date;
  "last October" -> the last one before it; a bare month name -> that month of the
  reference year.
* numeric ``d/m/yyyy`` is read day first.
* month names that are also ordinary words (آب, مارس, ماي, May, March and the English
  abbreviations) count only next to a day or a year number or a relative modifier.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import NamedTuple

from tawazun.evidence import diskcache
from tawazun.evidence.normalize import Norm

_MONTHS = {
    # Arabic standard (Egyptian/Gulf) names, folded
    "يناير": 1, "فبراير": 2, "مارس": 3, "ابريل": 4, "مايو": 5, "يونيو": 6, "يونيه": 6,
    "يوليو": 7, "يوليه": 7, "اغسطس": 8, "سبتمبر": 9, "اكتوبر": 10, "نوفمبر": 11, "ديسمبر": 12,
    # Iraqi/Levantine
    "كانون الثاني": 1, "شباط": 2, "اذار": 3, "نيسان": 4, "ايار": 5, "حزيران": 6, "تموز": 7,
    "اب": 8, "ايلول": 9, "تشرين الاول": 10, "تشرين الثاني": 11, "كانون الاول": 12,
    # Maghrebi
    "جانفي": 1, "فيفري": 2, "افريل": 4, "ماي": 5, "جوان": 6, "جويليه": 7, "اوت": 8,
    # English
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9, "sept": 9,
    "oct": 10, "nov": 11, "dec": 12,
}
_AMBIGUOUS = {"اب", "مارس", "ماي", "may", "march", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
              "sep", "sept", "oct", "nov", "dec"}

_M = "|".join(sorted((re.escape(k.strip()) for k in _MONTHS), key=len, reverse=True))
# "كانون الثاني/يناير": the Levantine and the standard name of one month, written together
_MONTH = rf"(?:[وفبل](?=\S))?(?P<m>{_M})(?:\s*/\s*(?:{_M}))?\.?"
_B = r"(?<![\w])"
_E = r"(?![\w])"
_DAY = r"(?P<d>[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?P<y>(?:1[89]|20)\d\d)"
_SEP = r"\s*(?:[/\-.,]\s*)?"
_YW = r"(?:(?:من\s+)?(?:عام|سنه|العام|لعام)\s+)?"
_NEXT = r"(?P<next>المقبل|القادم|المقبله|القادمه|الجاري)"
_LAST = r"(?P<last>الماضي|المنصرم|السابق|الفائت)"
_MOD_AR = r"(?:(?P<mod>(?:[وفبل])?(?:نهايه|اواخر|ختام|بدايه|مطلع|اوائل|منتصف|اواسط))\s+(?:شهر\s+)?)"
_MOD_EN = r"(?:(?:by\s+)?(?:the\s+)?(?P<emod>end|close|beginning|start|middle|early|late|mid)(?:\s+of|-)?\s+)"
_MOD = rf"(?:{_MOD_AR}|{_MOD_EN})?"
_UNIT_AFTER = (r"(?!\s*(?:%|جندي|جنود|عسكري|مقعد|مقاعد|شخص|دولار|troops|soldiers|seats|people|"
               r"dollars|votes|صوت|مقاتل|fighters|personnel))")

_ORD_DAY = {"الاول": 1, "الثاني": 2, "الثالث": 3, "الرابع": 4, "الخامس": 5, "السادس": 6, "السابع": 7,
            "الثامن": 8, "التاسع": 9, "العاشر": 10, "الحادي عشر": 11, "الثاني عشر": 12, "الثالث عشر": 13,
            "الرابع عشر": 14, "الخامس عشر": 15, "السادس عشر": 16, "السابع عشر": 17, "الثامن عشر": 18,
            "التاسع عشر": 19, "العشرين": 20, "الحادي والعشرين": 21, "الثاني والعشرين": 22,
            "الثالث والعشرين": 23, "الرابع والعشرين": 24, "الخامس والعشرين": 25, "السادس والعشرين": 26,
            "السابع والعشرين": 27, "الثامن والعشرين": 28, "التاسع والعشرين": 29, "الثلاثين": 30,
            "الحادي والثلاثين": 31}
_AR_ORD_DAYS = "|".join(sorted(_ORD_DAY, key=len, reverse=True))
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
             "الاثنين": 0, "الثلاثاء": 1, "الاربعاء": 2, "الخميس": 3, "الجمعه": 4, "السبت": 5, "الاحد": 6}
_WD = "|".join(_WEEKDAYS)
_N_AGO = r"(?P<n>\d{1,3}|عامين|سنتين|شهرين|يومين|اسبوعين)"
_PATTERNS = [
    ("dmy", rf"{_B}{_MOD}{_DAY}{_SEP}(?:of\s+)?{_MONTH}{_SEP}{_YW}{_YEAR}{_E}"),
    # two days of one month: "يومي 6 و8 أيار", "on 6 and 8 May" (two dates)
    ("ddm", rf"{_B}(?P<d>[0-3]?\d)\s+(?:و\s*|and\s+)(?P<d2>[0-3]?\d)\s*(?:of\s+)?{_MONTH}(?:{_SEP}{_YW}{_YEAR})?{_E}"),
    ("mdy", rf"{_B}{_MOD}{_MONTH}\s+{_DAY},?\s+{_YEAR}{_E}"),
    ("num", rf"{_B}(?P<d>[0-3]?\d)\s*/\s*(?P<mo>[01]?\d)\s*/\s*{_YEAR}{_E}"),
    ("iso", rf"{_B}{_YEAR}-(?P<mo>[01]\d)-(?P<d>[0-3]\d){_E}"),
    ("my", rf"{_B}{_MOD}{_MONTH}{_SEP}{_YW}{_YEAR}{_E}"),
    ("ord_dm", rf"{_B}(?:يوم\s+)?(?P<od>{_AR_ORD_DAYS})\s+(?:من\s+)?(?:شهر\s+)?{_MONTH}(?:{_SEP}{_YW}{_YEAR})?{_E}"),
    ("dm", rf"{_B}{_DAY}\s*(?:of\s+)?{_MONTH}{_E}(?!\s*(?:عام|سنه)?\s*\d)"),
    ("md", rf"{_B}{_MONTH}\s+{_DAY}{_E}(?!,?\s*\d)"),
    ("m_rel", rf"{_B}{_MOD}{_MONTH}\s+(?:{_NEXT}|{_LAST}){_E}"),
    ("m_rel_en", rf"{_B}(?P<erel>next|last|this|coming|past)\s+{_MONTH}{_E}"),
    ("y", rf"{_B}{_MOD}{_YW}{_YEAR}{_E}{_UNIT_AFTER}"),
    ("ago", rf"{_B}(?:[وف]?(?:قبل|منذ)\s+(?:نحو\s+|حوالي\s+|اكثر\s+من\s+)?{_N_AGO}\s*(?P<u>عاما|عام|سنه|سنوات|سنين|اعوام|شهرا|اشهر|شهور|يوما|ايام|اسابيع|اسبوعا)?"
            rf"|(?P<en>\d{{1,3}}|two|three|four|five|six|seven|eight|nine|ten)\s+(?P<eu>years?|months?|weeks?|days?)\s+ago){_E}"),
    ("rel_year", rf"{_B}(?:(?P<mod2>(?:[وفبل])?(?:نهايه|اواخر|بدايه|مطلع|اوائل|منتصف))\s+)?(?:هذا\s+)?[وفبل]?(?P<ry>العام|السنه|عامنا)\s*(?:(?P<rnext>المقبل|القادم|المقبله|القادمه)|(?P<rlast>الماضي|المنصرم|السابق|الفائت)|الحالي|الجاري|هذا|الحاليه|الجاريه)?{_E}"),
    ("rel_year_en", rf"{_B}(?:(?:by\s+)?(?:the\s+)?(?P<emod2>end|beginning|start|middle)\s+of\s+)?(?P<ew>this|next|last|the)\s+year{_E}"),
    ("rel_unit", rf"{_B}[وفبل]?(?P<ru>الاسبوع|الشهر)\s+(?:(?P<unext>المقبل|القادم)|(?P<ulast>الماضي|المنصرم|الفائت)){_E}"),
    ("rel_unit_en", rf"{_B}(?P<uw>next|last)\s+(?P<eru>week|month){_E}"),
    ("day_word", rf"{_B}(?P<dw>yesterday|tomorrow|today|[وف]?امس|[وف]?غدا){_E}"),
    ("m", rf"{_B}{_MOD}{_MONTH}{_E}"),
    ("weekday", rf"{_B}(?:(?P<wrel>next|last|this)\s+|(?:[وف]?(?:يوم|مساء|صباح|ليله|ظهر|فجر)\s+))(?P<wd>{_WD})(?:\s+(?P<wrel2>المقبل|القادم|الماضي))?{_E}(?!\s*[\d(]|\s*\S+\s+\d)"),
    ("weekday_on", rf"(?<=\bon\s)(?P<wd>{_WD}){_E}(?!,?\s*\S*\s*\d)"),
]
_RX = [(name, diskcache.compile(p)) for name, p in _PATTERNS]


# Anchors: words every date contains (a month, a year, a weekday, a relative keyword).
# Patterns are only tried at word starts up to _LOOKBACK characters before an anchor,
# which is how far a modifier or a day can stand before it ("by the end of", "26th of",
# "الحادي والعشرين من شهر").
_LOOKBACK = 32
_ANCHOR_KINDS = {
    "month": ("dmy", "ddm", "mdy", "my", "ord_dm", "dm", "md", "m_rel", "m_rel_en", "m"),
    "year": ("num", "iso", "y"),
    "wd": ("weekday", "weekday_on"),
    "kw": ("rel_year", "rel_year_en", "rel_unit", "rel_unit_en"),
    "ago": ("ago",),
    "day": ("day_word",),
}
_ANCHOR = diskcache.compile(
    rf"(?<![\w])(?:(?P<month>[وفبل]?(?:{_M}))"
    r"|(?P<year>(?:1[89]|20)\d\d)"
    rf"|(?P<wd>[وف]?(?:{_WD}))"
    r"|(?P<kw>[وفبل]?(?:العام|السنه|عامنا|year|الاسبوع|الشهر|week|month))"
    r"|(?P<ago>[وف]?(?:قبل|منذ)|ago)"
    r"|(?P<day>yesterday|tomorrow|today|[وف]?امس|[وف]?غدا))(?![\w])"
)
_RX_BY_KIND = dict(_RX)
_WORD = diskcache.compile(r"\w+")
# words a date may start with before its anchor: modifiers, day numbers and ordinals, "on"
_START_WORDS = {
    "by", "the", "end", "close", "beginning", "start", "middle", "early", "late", "mid", "on", "next", "last",
    "this", "coming", "past", "يوم", "هذا", "قبل", "منذ",
} | {p + w for p in ("", "و", "ف", "ب", "ل", "وب", "ول", "فب") for w in (
    "نهايه", "اواخر", "ختام", "بدايه", "مطلع", "اوائل", "منتصف", "اواسط", "يوم", "قبل", "منذ",
    "مساء", "صباح", "ليله", "ظهر", "فجر")} | {
    w.split()[0] for w in _ORD_DAY}

_EN_NUM = {"two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
_AR_DUAL = {"عامين": (2, "y"), "سنتين": (2, "y"), "شهرين": (2, "m"), "يومين": (2, "d"), "اسبوعين": (2, "w")}


class DateHit(NamedTuple):
    surface: str
    value: str
    start: int
    end: int
    nstart: int
    nend: int
    relative: bool
    kind: str


def _add_months(d: dt.date, k: int) -> tuple[int, int]:
    m = d.month - 1 + k
    return d.year + m // 12, m % 12 + 1


def _month_of(g: dict) -> int:
    return _MONTHS[g["m"]]


def _year_value(y: int, mod: str | None) -> str:
    if mod:
        mod = mod.lstrip("وفبل") if mod not in ("end", "close", "beginning", "start", "middle", "early", "late", "mid") else mod
        if mod in ("نهايه", "ختام", "end", "close"):
            return f"{y:04d}-12-31"
        if mod in ("بدايه", "مطلع", "beginning", "start"):
            return f"{y:04d}-01-01"
    return f"{y:04d}"


def _valid_day(y: int, m: int, d: int) -> bool:
    if not 1 <= m <= 12:
        return False
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    return 1 <= d <= (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1]


def _resolve(kind: str, g: dict, ref: dt.date) -> tuple[str | None, bool]:
    """(ISO value or None to drop the hit, relative?)"""
    mod = g.get("mod") or g.get("emod")
    if kind in ("dmy", "mdy"):
        y, m, d = int(g["y"]), _month_of(g), int(g["d"])
        return (f"{y:04d}-{m:02d}-{d:02d}" if _valid_day(y, m, d) else None), False
    if kind in ("num", "iso"):
        y, m, d = int(g["y"]), int(g["mo"]), int(g["d"])
        return (f"{y:04d}-{m:02d}-{d:02d}" if _valid_day(y, m, d) else None), False
    if kind == "my":
        return f"{int(g['y']):04d}-{_month_of(g):02d}", False
    if kind == "ord_dm":
        m, d = _month_of(g), _ORD_DAY[g["od"]]
        y = int(g["y"]) if g.get("y") else ref.year
        if not _valid_day(y, m, d):
            return None, False
        return f"{y:04d}-{m:02d}-{d:02d}", not g.get("y")
    if kind in ("dm", "md"):
        m, d = _month_of(g), int(g["d"])
        return (f"{ref.year:04d}-{m:02d}-{d:02d}" if _valid_day(ref.year, m, d) else None), True
    if kind == "m_rel":
        m = _month_of(g)
        if g.get("next"):
            if g["next"] == "الجاري":
                return f"{ref.year:04d}-{m:02d}", True
            y = ref.year if m > ref.month else ref.year + 1
        else:
            y = ref.year if m < ref.month else ref.year - 1
        return f"{y:04d}-{m:02d}", True
    if kind == "m_rel_en":
        m, w = _month_of(g), g["erel"]
        if w in ("next", "coming"):
            y = ref.year if m > ref.month else ref.year + 1
        elif w in ("last", "past"):
            y = ref.year if m < ref.month else ref.year - 1
        else:
            y = ref.year
        return f"{y:04d}-{m:02d}", True
    if kind == "y":
        return _year_value(int(g["y"]), mod), False
    if kind == "ago":
        if g.get("en"):
            n = int(g["en"]) if g["en"].isdigit() else _EN_NUM[g["en"]]
            unit = g["eu"][0]
        else:
            if g["n"] in _AR_DUAL:
                n, unit = _AR_DUAL[g["n"]]
            else:
                n = int(g["n"])
                u = g.get("u") or ""
                if not u:
                    return None, True
                unit = {"ع": "y", "س": "y", "ا": "y", "ش": "m", "ي": "d"}.get(u[0], "y")
                if u.startswith("اسب"):
                    unit = "w"
                if u.startswith("اشهر"):
                    unit = "m"
        if unit == "y":
            return f"{ref.year - n:04d}", True
        if unit == "m":
            y, m = _add_months(ref, -n)
            return f"{y:04d}-{m:02d}", True
        days = n * 7 if unit == "w" else n
        return (ref - dt.timedelta(days=days)).isoformat(), True
    if kind == "rel_year":
        y = ref.year + (1 if g.get("rnext") else -1 if g.get("rlast") else 0)
        mod2 = g.get("mod2")
        if not mod2 and not g.get("rnext") and not g.get("rlast"):
            # a bare "العام" is too vague unless qualified (الحالي/الجاري/هذا) -> checked by caller
            pass
        return _year_value(y, mod2), True
    if kind == "rel_year_en":
        w = g["ew"]
        if w == "the" and not g.get("emod2"):
            return None, True
        y = ref.year + (1 if w == "next" else -1 if w == "last" else 0)
        return _year_value(y, g.get("emod2")), True
    if kind in ("rel_unit", "rel_unit_en"):
        unit = g.get("ru") or g.get("eru")
        sign = 1 if (g.get("unext") or g.get("uw") == "next") else -1
        if unit in ("الشهر", "month"):
            y, m = _add_months(ref, sign)
            return f"{y:04d}-{m:02d}", True
        return (ref + dt.timedelta(days=7 * sign)).isoformat(), True
    if kind == "day_word":
        w = g["dw"].lstrip("وف") if g["dw"][0] in "وف" and len(g["dw"]) > 3 else g["dw"]
        delta = {"yesterday": -1, "امس": -1, "tomorrow": 1, "غدا": 1, "today": 0}[w]
        return (ref + dt.timedelta(days=delta)).isoformat(), True
    if kind in ("weekday", "weekday_on"):
        wd = _WEEKDAYS[g["wd"]]
        rel = g.get("wrel") or g.get("wrel2") or ""
        if rel in ("next", "المقبل", "القادم"):
            delta = (wd - ref.weekday()) % 7 or 7
        else:  # news reports the past: the latest such day on or before the reference
            delta = -((ref.weekday() - wd) % 7)
            if rel in ("last", "الماضي") and delta == 0:
                delta = -7
        return (ref + dt.timedelta(days=delta)).isoformat(), True
    if kind == "m":
        return f"{ref.year:04d}-{_month_of(g):02d}", True
    return None, False


def _valid(kind: str, m: re.Match) -> bool:
    g = m.groupdict()
    if g.get("m") and g["m"] in _AMBIGUOUS and (
            kind == "m" or (kind == "m_rel_en" and g["erel"] in ("this", "past", "coming"))):
        return False
    if kind == "m_rel" and g.get("m") in ("ماي",):
        return False
    if kind == "rel_year" and not (g.get("rnext") or g.get("rlast") or g.get("mod2")):
        # a bare العام only with an explicit "this/current" qualifier
        return bool(diskcache.compile(r"الحالي|الجاري|هذا|الحاليه|الجاريه").search(m.group()))
    return True


def find_dates(norm: Norm, as_of: dt.date | None = None) -> list[DateHit]:
    """All date expressions, leftmost-longest, resolved against ``as_of``.

    Without ``as_of`` the reference is the latest full absolute date in the text (the
    document's own date, usually), else 1 July of its latest year, else today.
    """
    t = norm.text
    # One pass of the combined locator finds where a date may start; there every pattern
    # is tried anchored and the longest valid one is kept (leftmost-longest overall).
    cands: dict[tuple[int, int], tuple[int, int, str, dict]] = {}
    tried: set[tuple[int, str]] = set()
    for a in _ANCHOR.finditer(t):
        kinds = _ANCHOR_KINDS[a.lastgroup or "month"]
        lo = max(0, a.start() - _LOOKBACK)
        starts = [w.start() for w in _WORD.finditer(t, lo, a.start())
                  if (w.group() in _START_WORDS or w.group()[0].isdigit()) and (w.start() == 0 or not t[w.start() - 1].isalnum())]
        starts.append(a.start())
        for p in starts:
            for kind in kinds:
                if (p, kind) in tried:
                    continue
                tried.add((p, kind))
                m = _RX_BY_KIND[kind].match(t, p)
                if m is not None and _valid(kind, m):
                    key = (p, m.end())
                    if key not in cands:
                        cands[key] = (p, m.end(), kind, m.groupdict())
    raw = sorted(cands.values(), key=lambda r: (r[0], -(r[1] - r[0])))
    chosen: list[tuple[int, int, str, dict]] = []
    last = -1
    for r in raw:
        if r[0] >= last:
            chosen.append(r)
            last = r[1]
    ref = as_of
    if ref is None:
        ref = _infer_reference(chosen)
    out: list[DateHit] = []
    for s, e, kind, g in chosen:
        if kind == "ddm":
            # the first day alone, then the second day with the month (and year)
            k2 = "dmy" if g.get("y") else "dm"
            v1, r1 = _resolve(k2, g, ref)
            v2, r2 = _resolve(k2, dict(g, d=g["d2"]), ref)
            m1 = diskcache.compile(r"\d+").match(t[s:e])
            d2 = t.find(g["d2"], s + (m1.end() if m1 else 0))
            for (hs, he, v, r) in ((s, s + (m1.end() if m1 else 0), v1, r1), (d2, e, v2, r2)):
                if v is not None and he > hs:
                    os_, oe = norm.span(hs, he)
                    out.append(DateHit(norm.original[os_:oe], v, os_, oe, hs, he, r, k2))
            continue
        value, rel = _resolve(kind, g, ref)
        if value is None:
            continue
        s = _trim_proclitic(t, s, e)
        os_, oe = norm.span(s, e)
        out.append(DateHit(norm.original[os_:oe], value, os_, oe, s, e, rel, kind))
    return out


_HEADS = ("ال", "قبل", "منذ", "امس", "غدا", "يوم", "نهايه", "بدايه", "مطلع", "اواخر", "اوائل", "منتصف",
          "اواسط", "ختام", "هذا") + tuple(k for k in _MONTHS if not k[0].isascii())


def _trim_proclitic(t: str, s: int, e: int) -> int:
    """Leave an attached conjunction/preposition (و ف ب ل) out of the surface."""
    if t[s:e].startswith(_HEADS):
        return s
    for k in (1, 2):
        if s + k < e and all(c in "وفبل" for c in t[s:s + k]) and t[s + k:e].startswith(_HEADS):
            return s + k
    return s


def _infer_reference(chosen: list[tuple[int, int, str, dict]]) -> dt.date:
    best: dt.date | None = None
    years: list[int] = []
    for _, _, kind, g in chosen:
        try:
            if kind in ("dmy", "mdy"):
                d = dt.date(int(g["y"]), _month_of(g), int(g["d"]))
            elif kind in ("num", "iso"):
                d = dt.date(int(g["y"]), int(g["mo"]), int(g["d"]))
            else:
                if kind in ("my", "y"):
                    years.append(int(g["y"]))
                continue
        except (ValueError, KeyError):
            continue
        best = d if best is None or d > best else best
    if best is not None:
        return best
    if years:
        return dt.date(max(years), 7, 1)
    return dt.date.today()
