"""Arabic/English normalisation that remembers where every character came from.

``normalize(text)`` returns a :class:`Norm`: the folded text used for matching plus, for
each folded character, the ``[start, end)`` span of the original characters it stands
for.  Every extractor matches on ``Norm.text`` and reports offsets with
``Norm.span(ns, ne)``, so results always point into the ORIGINAL text.

Folding (one character in, at most one character out, except the inserted spaces):

* diacritics (harakat, shadda, sukun, superscript alef, Quranic marks) and tatweel removed;
* alef variants ``أ إ آ ٱ`` -> ``ا``; alef maqsura ``ى`` -> ``ي``; taa marbuta ``ة`` -> ``ه``;
  Persian ``ی ک`` -> ``ي ك``;
* Arabic-Indic ``٠-٩`` and Persian ``۰-۹`` digits -> ``0-9``; ``٫`` -> ``.``, ``٬`` -> ``,``;
  ``٪`` -> ``%``;
* Latin letters lower-cased (only where lower-casing keeps one character);
* a space is inserted between an Arabic letter and a digit glued to it (``الى2500``), the
  inserted space maps to an empty span at the boundary.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from tawazun.evidence import diskcache

_DROP = set(chr(c) for c in range(0x0610, 0x061B)) | set(chr(c) for c in range(0x064B, 0x0660))
_DROP |= {"\u0670", "\u0640", "\u06D6", "\u06D7", "\u06D8", "\u06D9", "\u06DA", "\u06DB", "\u06DC",
          "\u06DF", "\u06E0", "\u06E1", "\u06E2", "\u06E3", "\u06E4", "\u06E7", "\u06E8", "\u06EA",
          "\u06EB", "\u06EC", "\u06ED", "\u200c", "\u200d", "\u200e", "\u200f", "\u061c"}

_MAP = {
    "أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ى": "ي", "ة": "ه", "ی": "ي", "ک": "ك", "ھ": "ه",
    "٫": ".", "٬": ",", "٪": "%", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
}
for _i in range(10):
    _MAP[chr(0x0660 + _i)] = str(_i)
    _MAP[chr(0x06F0 + _i)] = str(_i)

_AR_LETTER = diskcache.compile(r"[\u0621-\u064A]")
_WORD_CHAR = diskcache.compile(r"[\w\u0621-\u064A]")


def is_ar_letter(ch: str) -> bool:
    return "\u0621" <= ch <= "\u064A"


def is_word_char(ch: str) -> bool:
    """Letters and digits of either script (the characters a name boundary must not touch)."""
    return ch.isalnum() or is_ar_letter(ch)


class Norm(NamedTuple):
    original: str
    text: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, ns: int, ne: int) -> tuple[int, int]:
        """Original ``[start, end)`` for the folded span ``[ns, ne)``."""
        if ne <= ns:
            pos = self.starts[ns] if ns < len(self.starts) else len(self.original)
            return pos, pos
        return self.starts[ns], self.ends[ne - 1]

    def to_norm(self, pos: int) -> int:
        """First folded index whose original start is >= ``pos`` (binary search)."""
        lo, hi = 0, len(self.starts)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.starts[mid] < pos:
                lo = mid + 1
            else:
                hi = mid
        return lo


def fold_char(ch: str) -> str:
    """The folded form of one character ('' when it is dropped)."""
    if ch in _DROP:
        return ""
    ch = _MAP.get(ch, ch)
    if "A" <= ch <= "Z" or (ch.isupper() and len(ch.lower()) == 1):
        ch = ch.lower()
    return ch


# a letter before a digit or a digit before a letter: the cut is after the matched
# character (a consuming first character lets the regex engine skip ahead by character
# class; zero-width lookbehinds were tried at every position)
_GLUED = diskcache.compile(r"[\u0621-\u064A](?=\d)|\d(?=[\u0621-\u064A])")


def normalize(text: str, split_glued_digits: bool = True) -> Norm:
    """Fold ``text`` (see the module docstring) and keep the offset map."""
    changes: dict[str, str] = {}
    dropped: list[str] = []
    for ch in set(text):
        f = fold_char(ch)
        if f != ch:
            changes[ch] = f
            if not f:
                dropped.append(ch)
    folded = text
    if any(v in changes for v in changes.values()):
        # a folded character folded again would make the order of replace() matter
        folded = text.translate({ord(k): v or None for k, v in changes.items()})
    else:
        # one str.replace per distinct character: C-speed scans, where str.translate
        # with a dict looks every character of a non-ASCII text up (~20x slower)
        for k, v in changes.items():
            folded = folded.replace(k, v)
    n = len(text)
    if dropped:
        # the kept characters' indices as runs between the dropped ones (found by
        # str.find), instead of a Python-level test of every character
        cut: list[int] = []
        for ch in dropped:
            i = text.find(ch)
            while i >= 0:
                cut.append(i)
                i = text.find(ch, i + 1)
        cut.sort()
        starts: list[int] = []
        ends: list[int] = []
        prev = 0
        for c in cut:
            if c > prev:
                starts.extend(range(prev, c))
                ends.extend(range(prev + 1, c + 1))
            prev = c + 1
        starts.extend(range(prev, n))
        ends.extend(range(prev + 1, n + 1))
    else:
        starts, ends = list(range(n)), list(range(1, n + 1))
    if split_glued_digits:
        cuts = [m.end() for m in _GLUED.finditer(folded)]
        if cuts:
            parts, s_out, e_out, prev = [], [], [], 0
            for c in cuts:
                parts.append(folded[prev:c])
                parts.append(" ")
                s_out += starts[prev:c]
                e_out += ends[prev:c]
                s_out.append(starts[c])
                e_out.append(starts[c])
                prev = c
            parts.append(folded[prev:])
            s_out += starts[prev:]
            e_out += ends[prev:]
            folded, starts, ends = "".join(parts), s_out, e_out
    return Norm(text, folded, tuple(starts), tuple(ends))


def _normalize_slow(text: str, split_glued_digits: bool = True) -> Norm:
    """Reference implementation, one character at a time (tests compare the two)."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    prev = ""
    for i, ch in enumerate(text):
        f = fold_char(ch)
        if not f:
            continue
        if split_glued_digits and prev:
            if (f.isdigit() and is_ar_letter(prev)) or (is_ar_letter(f) and prev.isdigit()):
                out.append(" ")
                starts.append(i)
                ends.append(i)
        out.append(f)
        starts.append(i)
        ends.append(i + 1)
        prev = f
    return Norm(text, "".join(out), tuple(starts), tuple(ends))


def fold(text: str) -> str:
    """Folded text only, with runs of whitespace collapsed (for dictionary keys)."""
    return " ".join(normalize(text).text.split())


# Proclitics: conjunction (و ف), preposition (ب ل ك), article (ال); ل + ال is written لل.
_PROCLITIC = diskcache.compile(r"^(?:[وف])?(?:(?:[بك]?ال)|لل|[بلك])?")
_PROCLITIC_PREFIX = diskcache.compile(r"^(?:[وف])?(?:[بلك])?$")


def strip_proclitics(word: str, min_stem: int = 2) -> str:
    """Remove attached proclitics from a folded Arabic word (``والحكومه`` -> ``حكومه``).

    Keeps at least ``min_stem`` letters, so short words are not eaten away.
    """
    m = _PROCLITIC.match(word)
    if m and m.end() and len(word) - m.end() >= min_stem:
        return word[m.end():]
    return word


def valid_proclitic_prefix(prefix: str) -> bool:
    """Is ``prefix`` (letters glued before a name inside the same word) a proclitic chain?"""
    return bool(_PROCLITIC_PREFIX.match(prefix))


def line_starts(text: str) -> list[int]:
    """Offsets of the line breaks of ``text``, for :func:`line_of` (one pass, instead of
    ``text.count("\n", 0, pos)`` per item, which is quadratic on long texts)."""
    out, i = [], text.find("\n")
    while i >= 0:
        out.append(i)
        i = text.find("\n", i + 1)
    return out


def line_of(breaks: list[int], pos: int) -> int:
    """1-based line (paragraph) of original offset ``pos``; ``breaks`` from :func:`line_starts`."""
    import bisect

    return bisect.bisect_left(breaks, pos) + 1


def detect_lang(text: str) -> str:
    """'ar' when Arabic letters outnumber Latin ones, else 'en'."""
    ar = sum(1 for ch in text if "\u0600" <= ch <= "\u06FF")
    la = sum(1 for ch in text if ("a" <= ch <= "z") or ("A" <= ch <= "Z"))
    return "ar" if ar >= la and ar > 0 else "en"
