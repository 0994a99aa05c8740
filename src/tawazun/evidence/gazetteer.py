"""Actor gazetteer: Arabic and English names and aliases matched on folded text.

Exact matching uses one Aho-Corasick automaton (pyahocorasick) over the folded keys;
each hit is kept only when it sits on word boundaries (Arabic proclitics allowed in
front, see :func:`tawazun.evidence.normalize.valid_proclitic_prefix`), passes its
context rules (case-sensitive acronyms, place names used for governments, a few
collision rules), and is not an ordinary word of the stoplist.  Overlapping hits are
resolved leftmost-longest.  Multi-word names of 12+ characters are also matched
approximately with rapidfuzz on the words no exact hit covers (spelling variants such as
``الميليشيات``/``المليشيات``).
"""

from __future__ import annotations

import functools
import os
import pickle
import re
import zlib
from typing import Any, Iterable, NamedTuple

import ahocorasick

from tawazun.evidence import diskcache
from tawazun.evidence.normalize import (
    Norm,
    fold,
    is_ar_letter,
    is_word_char,
    strip_proclitics,
    valid_proclitic_prefix,
)

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "gazetteer.yaml")


def _yaml_load(text: str) -> Any:
    import yaml  # only when a cache is cold: keeps start-up short

    return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))

# Words right before a place name that make it a place, not a government ("in Baghdad").
_LOCATIVE = {"in", "at", "near", "outside", "inside", "في", "داخل", "قرب", "خارج", "وسط",
             # a facility named after a city is not its government (مطار بغداد الدولي)
             "مطار", "مرفا", "ميناء", "جامعه", "محافظه", "مدينه", "ساحه", "airport", "port", "university"}
# Collisions that a word boundary cannot catch: key -> words that must not follow it.
_NOT_BEFORE = {"مصر": {"علي", "على"}}
FUZZY_MIN_CHARS = 12
FUZZY_SCORE = 90.0


class Mention(NamedTuple):
    id: str
    start: int  # original offsets
    end: int
    surface: str
    nstart: int  # folded offsets
    nend: int
    fuzzy: bool = False


class _Rule(NamedTuple):
    id: str
    case: str | None = None  # exact original surface required (acronyms)
    loc: bool = False  # place name standing for its government
    priority: int = 0


class ActorInfo(NamedTuple):
    id: str
    kind: str
    names: dict[str, str]
    aliases: list[str]
    leads: str | None = None  # a person's movement or party (gazetteer `leads:`)


def _is_acronym(s: str) -> bool:
    letters = [c for c in s if c.isalpha()]
    return 0 < len(letters) <= 5 and all(c.isupper() for c in letters) and " " not in s


def _ar_adjective_forms(adj: str) -> list[str]:
    base = fold(adj)
    forms = [base + suf for suf in ("", "ه", "ين", "ون", "ان")]
    return forms + ["ال" + f for f in forms]


def _split_display(name: str) -> list[str]:
    """'United States (Biden administration)' -> ['United States', 'Biden administration']."""
    out = []
    for part in re.split(r"[()/]", name):
        part = part.strip(" ,;-")
        if part:
            out.append(part)
    return out


# the cache helpers live in diskcache.py (stances.py and names.py import them from here)
_cache_dir = diskcache.cache_dir
_read_bytes = diskcache.read_bytes
_write_cache = diskcache.write_cache


class Gazetteer:
    def __init__(self, actors: Iterable[dict[str, Any]], stoplist: dict[str, list[str]] | None = None):
        stop = stoplist or {}
        self.stop = {fold(w) for lang in ("ar", "en") for w in stop.get(lang, [])}
        self.rules: dict[str, list[_Rule]] = {}
        self.info: dict[str, ActorInfo] = {}
        self.remap: dict[str, str] = {}
        for a in actors:
            self._add_actor(a, priority=0)
        self._build()

    # ------------------------------------------------------------------ building
    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> "Gazetteer":
        """The shipped gazetteer; the built automaton is cached on disk (pickle, keyed by
        the data and code hashes) so that a fresh process does not rebuild it."""
        raw = _read_bytes(DATA)
        key = f"{zlib.crc32(raw):08x}{zlib.crc32(_read_bytes(__file__)):08x}"
        cache = os.path.join(_cache_dir(), f"gazetteer-{key}.pickle")
        try:
            with open(cache, "rb") as fh:
                g = pickle.load(fh)
            if isinstance(g, Gazetteer):
                return g
        except Exception:  # noqa: BLE001 - any unreadable cache is simply rebuilt
            pass
        data = _yaml_load(raw.decode("utf-8"))
        g = cls(data["actors"], data.get("stoplist"))
        _write_cache(cache, pickle.dumps(g, protocol=pickle.HIGHEST_PROTOCOL))
        return g

    def _add_key(self, alias: str, rule: _Rule) -> None:
        raw = alias.strip()
        if not raw:
            return
        loc = raw.startswith("@")
        raw = raw.lstrip("@")
        case = raw.startswith("=")
        raw = raw.lstrip("=")
        if not raw:
            return
        key = fold(raw)
        if not key:
            return
        is_ar = is_ar_letter(key[0])
        if not is_ar and (case or _is_acronym(raw)):
            case_surface: str | None = raw
        else:
            case_surface = None
        if case_surface is None and " " not in key and key in self.stop:
            return  # an ordinary word: never a name on its own
        r = _Rule(rule.id, case_surface, loc or rule.loc, rule.priority)
        keys = [key]
        if is_ar and key.startswith("ال") and len(key) > 3:
            keys.append("لل" + key[2:])
        for k in keys:
            self.rules.setdefault(k, []).append(r)

    def _add_actor(self, a: dict[str, Any], priority: int) -> None:
        aid = str(a["id"])
        names = dict(a.get("names") or {})
        kind = str(a.get("kind") or "movement")
        aliases: list[str] = []
        for lang in ("en", "ar"):
            if names.get(lang) and priority > 0:
                # an arena's display names are names too ("United States (Biden administration)")
                aliases += [p for p in _split_display(str(names[lang])) if not any(c.isdigit() for c in p)]
            aliases += [str(x) for x in a.get(lang) or []]
        aliases += [str(x) for x in a.get("aliases") or []]
        info = self.info.get(aid)
        if info is None or priority > 0:
            self.info[aid] = ActorInfo(aid, kind, {k: str(v) for k, v in names.items() if v},
                                       [x.lstrip("@=") for x in aliases],
                                       str(a["leads"]) if a.get("leads") else None)
        rule = _Rule(aid, priority=priority)
        for al in aliases:
            self._add_key(al, rule)
        for adj in a.get("adj_en") or []:
            self._add_key(str(adj), rule)
            self._add_key(str(adj) + "s", rule)
        for adj in a.get("adj_ar") or []:
            for form in _ar_adjective_forms(str(adj)):
                self._add_key(form, rule)

    def _build(self) -> None:
        self.auto = ahocorasick.Automaton()
        for k in self.rules:
            self.auto.add_word(k, k)
        self.auto.make_automaton()
        # Fuzzy index: (first two letters of word 1, of word 2) of proclitic-free keys.
        self.fuzzy: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for k, rules in self.rules.items():
            words = k.split()
            if (len(words) < 2 or len(k) < FUZZY_MIN_CHARS or any(r.case for r in rules)
                    or any(c.isdigit() for c in k)):
                continue
            w0 = strip_proclitics(words[0]) if is_ar_letter(k[0]) else words[0]
            w1 = strip_proclitics(words[1]) if is_ar_letter(words[1][0]) else words[1]
            stripped = " ".join([w0] + words[1:])
            self.fuzzy.setdefault((w0[:2], w1[:2]), []).append((stripped, k))

    def extended(self, actors: Iterable[dict[str, Any]]) -> "Gazetteer":
        """A new gazetteer with an arena's actors added; their names win over ours, and an
        actor of ours that one of theirs names by alias is renamed to theirs (KDP ->
        kurdish-parties when the arena groups the Kurdish parties)."""
        g = Gazetteer.__new__(Gazetteer)
        g.stop = set(self.stop)
        g.rules = {k: list(v) for k, v in self.rules.items()}
        g.info = dict(self.info)
        g.remap = dict(self.remap)
        actors = list(actors)
        arena_ids = {str(a["id"]) for a in actors}
        for a in actors:
            aid = str(a["id"])
            for al in [str(x) for x in a.get("aliases") or []]:
                for r in self.rules.get(fold(al.lstrip("@=")), []):
                    if r.id not in arena_ids and r.id not in g.remap:
                        g.remap[r.id] = aid
        for a in actors:
            g._add_actor(a, priority=1)
        g._build()
        return g

    def resolve(self, aid: str) -> str:
        return self.remap.get(aid, aid)

    def actor_info(self, aid: str) -> ActorInfo:
        return self.info.get(aid) or ActorInfo(aid, "movement", {"en": aid}, [])

    # ------------------------------------------------------------------ matching
    def _ok(self, norm: Norm, s: int, e: int, key: str, rule: _Rule) -> bool:
        t = norm.text
        if e < len(t) and is_word_char(t[e]):
            return False
        ws = s
        while ws > 0 and is_word_char(t[ws - 1]):
            ws -= 1
        prefix = t[ws:s]
        if prefix:
            if not is_ar_letter(key[0]) or not valid_proclitic_prefix(prefix):
                return False
            if key.startswith("لل") and prefix not in ("", "و", "ف"):
                return False
        if rule.case is not None:
            os_, oe = norm.span(s, e)
            if norm.original[os_:oe] != rule.case:
                return False
        if rule.loc:
            if "ب" in prefix:
                return False  # ببغداد = in Baghdad
            os_, oe = norm.span(s, e)
            if norm.original[os_:oe].isupper() and len(key) > 3:
                return False  # a dateline: "WASHINGTON —"
            before = t[max(0, ws - 12):ws].split()
            if before and before[-1] in _LOCATIVE:
                return False
        nb = _NOT_BEFORE.get(key)
        if nb:
            after = t[e:e + 8].split()
            if after and after[0] in nb:
                return False
        return True

    def find(self, norm: Norm) -> list[Mention]:
        t = norm.text
        cands: list[tuple[int, int, str]] = []
        for end, key in self.auto.iter(t):
            s, e = end - len(key) + 1, end + 1
            rules = sorted(self.rules[key], key=lambda r: -r.priority)
            for r in rules:
                if self._ok(norm, s, e, key, r):
                    cands.append((s, e, self.resolve(r.id)))
                    break
        cands.sort(key=lambda c: (c[0], -(c[1] - c[0])))
        out: list[Mention] = []
        last = -1
        for s, e, aid in cands:
            if s < last:
                continue
            os_, oe = norm.span(s, e)
            out.append(Mention(aid, os_, oe, norm.original[os_:oe], s, e))
            last = e
        if self.fuzzy:
            out = self._fuzzy(norm, out)
        return out

    _TOKEN = diskcache.compile(r"[^\s.,،؛;:!?؟\"«»“”()\[\]]+")

    def _strip(self, w: str) -> str:
        cache = self.__dict__.setdefault("_strip_cache", {})
        r = cache.get(w)
        if r is None:
            r = cache[w] = strip_proclitics(w) if is_ar_letter(w[0]) else w
        return r

    def _fuzzy(self, norm: Norm, exact: list[Mention]) -> list[Mention]:
        t = norm.text
        raw = self._TOKEN.findall(t)
        n = len(raw)
        if n < 2:
            return exact
        cache = self.__dict__.setdefault("_strip_cache", {})
        get = cache.get
        words = [get(w) or self._strip(w) for w in raw]
        sig = [w[:2] for w in words]
        index = self.fuzzy
        cand = [i for i in range(n - 1) if (sig[i], sig[i + 1]) in index]
        if not cand:
            return exact
        from rapidfuzz.fuzz import ratio

        covered = bytearray(len(t) + 1)
        for m in exact:
            covered[m.nstart:m.nend] = b"\x01" * (m.nend - m.nstart)
        starts, pos = [], 0
        for w in raw:
            pos = t.find(w, pos)
            starts.append(pos)
            pos += len(w)
        found: list[Mention] = []
        next_free = 0
        for i in cand:
            if i < next_free or covered[starts[i]] or covered[starts[i + 1]]:
                continue
            best: tuple[float, int, str] | None = None
            for stripped, key in index[(sig[i], sig[i + 1])]:
                k = key.count(" ") + 1
                for w in (k, k + 1, k - 1):
                    if w < 2 or i + w > n or any(covered[starts[j]] for j in range(i, i + w)):
                        continue
                    score = ratio(" ".join(words[i:i + w]), stripped)
                    if score >= FUZZY_SCORE and (best is None or score > best[0]):
                        best = (score, w, key)
            if best is None:
                continue
            _, w, key = best
            s = starts[i] + (len(raw[i]) - len(words[i]))
            # keep the article inside the surface when the key has it
            if key.startswith("ال") and t[s - 2:s] == "ال":
                s -= 2
            e = starts[i + w - 1] + len(raw[i + w - 1])
            rule = sorted(self.rules[key], key=lambda r: -r.priority)[0]
            os_, oe = norm.span(s, e)
            found.append(Mention(self.resolve(rule.id), os_, oe, norm.original[os_:oe], s, e, True))
            covered[s:e] = b"\x01" * (e - s)
            next_free = i + w
        if not found:
            return exact
        return sorted(exact + found, key=lambda m: m.start)
