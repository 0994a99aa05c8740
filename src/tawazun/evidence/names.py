"""Actors the gazetteer does not know, found by name patterns (``data/names.yaml``).

* organisations: a head noun and its name words — ``حزب القوات اللبنانية``, ``تيار
  المستقبل``, ``جماعة أنصار الله الحوثية``, ``الجبهة التركمانية العراقية`` (a definite head
  needs a definite adjective after it); English ``<Capitalised words> Party|Movement|…``;
* persons: a title phrase and the name after it — ``رئيس الحكومة الأسبق فؤاد السنيورة``,
  ``برئاسة النائب المستقيل سامي الجميّل``, ``الأمير فيصل بن فرحان``, ``Prime Minister
  Najib Mikati``; or a common given name followed by a definite surname or a compound
  (``سعد الحريري``, ``حسين أمير عبد اللهيان``);
* later references in the same text: the full name again, a person's surname
  (``الحريري``, ``عبد المهدي``) and an organisation's name without its last adjective
  (``مجلس التعاون`` after ``مجلس التعاون الخليجي``) get the same id.

Spans a gazetteer mention covers are left alone (``حزب الله`` stays the gazetteer's).  Ids
are ``new-`` and an ASCII transliteration of the folded name (arena ids are ASCII), so
the same name gets the same id in every text.  Everything runs on tokens once: linear.
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any, NamedTuple, Sequence

from tawazun.evidence import diskcache
from tawazun.evidence.gazetteer import Mention
from tawazun.evidence.normalize import Norm

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "names.yaml")
_TOKEN = diskcache.compile(r"[\u0621-\u064a]+")
WINDOW = 100  # folded characters read after a trigger word (a title, a name, an org name)
_AR_TRANSLIT = dict(zip("ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي",
                        ["'", "a", "a", "u", "i", "i", "a", "b", "a", "t", "th", "j", "h", "kh", "d", "dh", "r",
                         "z", "s", "sh", "s", "d", "t", "z", "a", "gh", "f", "q", "k", "l", "m", "n", "h",
                         "w", "a", "y"]))


class NewActor(NamedTuple):
    id: str
    kind: str
    name: str  # folded name as found first


@functools.lru_cache(maxsize=1)
def load_data() -> dict[str, Any]:
    """``data/names.yaml``, parsed; cached on disk as JSON like the stance lexicon (no
    YAML import on the hot path)."""
    import json
    import zlib

    from tawazun.evidence.gazetteer import _cache_dir, _read_bytes, _write_cache, _yaml_load

    raw = _read_bytes(DATA)
    cache = os.path.join(_cache_dir(), f"names-{zlib.crc32(raw):08x}.json")
    try:
        with open(cache, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        data = _yaml_load(raw.decode("utf-8"))
        _write_cache(cache, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        return data


@functools.lru_cache(maxsize=1)
def _lex() -> dict[str, Any]:
    d = load_data()
    conn = set(d["connectors_ar"])
    en_titles = sorted(d["titles_en"], key=len, reverse=True)
    name_word = r"(?:[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|al-[A-Z][a-z'’]+|bin|Abu|Abdul|Abdel)"
    en_heads = "|".join(sorted(d["org_heads_en"], key=len, reverse=True))
    return {
        "org": dict(d["org_heads_ar"]),
        "titles": set(d["titles_ar"]) | set(d["title_modifiers_ar"]),
        "title_starts": set(d["title_starts_ar"]),
        "given": set(d["given_names_ar"]) - conn,
        "trig_ac": _automaton(set(d["org_heads_ar"]) | set(d["title_starts_ar"]) | (set(d["given_names_ar"]) - conn)),
        "conn": conn,
        "stop": set(d["stop_ar"]),
        "generic": set(d["generic_ar"]),
        "org_en": dict(d["org_heads_en"]),
        "en_person": diskcache.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in en_titles) + r")\s+"
            r"(" + name_word + r"(?:\s+" + name_word + r"){1,3})(?![\w-])"),
        "en_head": diskcache.compile(r"(?<![\w-])(?:" + en_heads + r")(?![\w-])"),
        "en_before": diskcache.compile(r"(?:[A-Z][a-z'’]+\s+){1,4}$"),
    }


def _automaton(words: set[str]) -> Any:
    import ahocorasick

    a = ahocorasick.Automaton()
    for w in words:
        a.add_word(w, len(w))
    a.make_automaton()
    return a


_PREFIX_OK = diskcache.compile(r"^(?:[وف]?(?:[بك]?ال|لل|[بلك])?)$")


def _is_ar(ch: str) -> bool:
    return "\u0621" <= ch <= "\u064a"


def _trigger_starts(t: str, auto: Any) -> list[int]:
    """Word starts of tokens that are a trigger word with optional proclitics (one
    Aho-Corasick pass: much faster than a regex alternation of 150 words)."""
    out = []
    last = -1
    for end, ln in auto.iter(t):
        e = end + 1
        if e < len(t) and _is_ar(t[e]):
            continue
        s = e - ln
        ws = s
        while ws > 0 and _is_ar(t[ws - 1]) and s - ws < 4:
            ws -= 1
        if ws > 0 and _is_ar(t[ws - 1]):
            continue
        if (ws == s or _PREFIX_OK.match(t[ws:s])) and ws != last:
            out.append(ws)
            last = ws
    out.sort()
    return out


def slug(name: str) -> str:
    out = []
    for ch in name:
        if ch in _AR_TRANSLIT:
            out.append(_AR_TRANSLIT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch.lower())
        elif ch in " -":
            out.append("-")
    s = diskcache.compile(r"-+").sub("-", "".join(out)).strip("-")
    return "new-" + (s or "x")


@functools.lru_cache(maxsize=65536)
def _strip_prefix(tok: str) -> tuple[str, str]:
    """(proclitics incl. a definite article, rest): ``لتيار`` -> (ل, تيار), ``والتيار`` -> (وال, تيار)."""
    m = diskcache.compile(r"^(?:[وف])?(?:[بك]?ال|لل|[بلك])?").match(tok)
    pre = m.group() if m else ""
    if len(tok) - len(pre) < 2:
        return "", tok
    return pre, tok[len(pre):]


def find_new_actors(norm: Norm, known: Sequence[Mention]) -> tuple[list[Mention], dict[str, NewActor]]:
    """Mentions of actors outside the gazetteer (sorted, not overlapping ``known``) and
    their id -> :class:`NewActor`."""
    lx = _lex()
    t = norm.text
    covered = bytearray(len(t) + 1)
    for m in known:
        covered[m.nstart:m.nend] = b"\x01" * (m.nend - m.nstart)
    toks: list[tuple[int, int, str]] = []
    n = 0

    def gap_ok(i: int) -> bool:  # only spaces between token i and i+1
        if i < 0:
            return n > 0
        return i + 1 < n and not t[toks[i][1]:toks[i + 1][0]].strip()

    def free(i: int) -> bool:
        return not covered[toks[i][0]]

    found: list[tuple[int, int, str, str]] = []  # folded start, end, kind, name
    resume = 0
    # only where a head, a title or a given name stands; the name is read in a short
    # window of tokens after it (no tokenisation of the whole text)
    for hs in _trigger_starts(t, lx["trig_ac"]):
        if hs < resume or covered[hs]:
            continue
        toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(t, hs, min(len(t), hs + WINDOW))]
        n = len(toks)
        if not n:
            continue
        i = 0
        s0, e0, w = toks[0]
        pre, stem = _strip_prefix(w)
        # ---- organisation head
        definite = pre.endswith(("ال", "لل"))
        if stem in lx["org"] and (not pre or pre in ("و", "ف", "ب", "ل", "ك", "وب", "ول", "فب", "فل")
                                  or definite):
            words: list[int] = []
            k = i
            while len(words) < 4 and gap_ok(k) and free(k + 1):
                nxt = toks[k + 1][2]
                if nxt in lx["stop"] or nxt in lx["title_starts"]:
                    break
                if nxt.startswith("ال"):
                    if not words and nxt in lx["generic"]:
                        break
                elif words or definite or nxt in lx["org"]:
                    break
                words.append(k + 1)
                k += 1
            if words and not (definite and not toks[words[0]][2].startswith("ال")):
                start = s0 + len(pre) - (2 if definite and pre.endswith("ال") else 0)
                end = toks[words[-1]][1]
                name = ("ال" if definite else "") + stem + " " + " ".join(toks[j][2] for j in words)
                found.append((start, end, lx["org"][stem], name))
                resume = toks[words[-1]][1]
                continue
        # ---- title phrase, then a name
        j = i
        if w in lx["title_starts"] or stem in lx["title_starts"] or (pre in ("و", "ف") and stem in lx["title_starts"]):
            j = i
            while gap_ok(j) and (toks[j + 1][2] in lx["titles"] or _strip_prefix(toks[j + 1][2])[1] in lx["titles"]):
                j += 1
            name_idx = _name_after(toks, j, lx, gap_ok, free, titled=True)
            if name_idx:
                found.append((toks[name_idx[0]][0], toks[name_idx[-1]][1], "person",
                              " ".join(toks[x][2] for x in name_idx)))
                resume = toks[name_idx[-1]][1]
                continue
        # ---- given name + surname
        g = stem if pre in ("و", "ف") else w
        if g in lx["given"]:
            name_idx = _name_after(toks, i - 1, lx, gap_ok, free, titled=False)
            if name_idx:
                s = toks[name_idx[0]][0] + (len(w) - len(g))
                found.append((s, toks[name_idx[-1]][1], "person",
                              " ".join([g] + [toks[x][2] for x in name_idx[1:]])))
                resume = toks[name_idx[-1]][1]
                continue
    found += _english(norm, covered)
    return _with_references(norm, found, covered)


def _name_after(toks: list[tuple[int, int, str]], j: int, lx: dict[str, Any], gap_ok: Any, free: Any,
                titled: bool) -> list[int]:
    """Token indices of a person's name starting at j+1 ([] when there is none)."""
    n = len(toks)
    if not gap_ok(j) or not free(j + 1):
        return []
    first = toks[j + 1][2]
    if (first.startswith("ال") or first in lx["stop"] or first in lx["titles"] or len(first) < 2
            or first in lx["org"] or (len(first) > 4 and first.endswith(("ها", "هم", "هما", "كم", "نا")))):
        return []  # a pronoun suffix (خارجيتها) makes it a common noun
    if not titled and first not in lx["given"] and _strip_prefix(first)[1] not in lx["given"]:
        return []
    idx = [j + 1]
    k = j + 1
    while len(idx) < 5 and gap_ok(k) and free(k + 1):
        w = toks[k + 1][2]
        if w in lx["stop"] or w in lx["title_starts"]:
            break
        if w in lx["conn"]:
            if not (gap_ok(k + 1) and free(k + 2)):
                break
            idx += [k + 1, k + 2]
            k += 2
            continue
        if w.startswith("ال"):
            if w in lx["generic"] or w in lx["titles"]:
                break
            idx.append(k + 1)
            break  # a definite surname ends the name
        if len(idx) >= 2 or w[:1] in "لب":
            # a third plain word only before a connector (حسين امير عبد اللهيان); a
            # glued preposition (لصحيفه) ends the name
            break
        if not titled:
            # untitled: a plain second word only when a connector follows it
            if not (gap_ok(k + 1) and k + 2 < n and toks[k + 2][2] in lx["conn"]):
                break
        idx.append(k + 1)
        k += 1
    if not titled and len(idx) < 2:
        return []
    if len(idx) == 1 and len(first) < 3:
        return []
    return idx


def _english(norm: Norm, covered: bytearray) -> list[tuple[int, int, str, str]]:
    lx = _lex()
    out = []
    orig = norm.original
    if not diskcache.compile(r"[A-Z]").search(orig):
        return out
    spans = [(m.start(1), m.end(1), m.group(1), "person") for m in lx["en_person"].finditer(orig)]
    for h in lx["en_head"].finditer(orig):  # "<Capitalised words> Party": the head first
        b = lx["en_before"].search(orig, max(0, h.start() - 60), h.start())
        if b:
            spans.append((b.start(), h.end(), orig[b.start():h.end()], None))
    for os_, oe, text, kind in spans:
        if True:
            ns, ne = norm.to_norm(os_), norm.to_norm(oe)
            if ne <= ns or covered.find(1, ns, ne) >= 0:
                continue
            name = norm.text[ns:ne]
            k = kind or lx["org_en"].get(text.split()[-1], "movement")
            if kind is None and name.split()[0] in ("the", "a", "an", "and", "in", "of"):
                continue
            out.append((ns, ne, k, name))
    return out


def _with_references(norm: Norm, found: list[tuple[int, int, str, str]], covered: bytearray
                     ) -> tuple[list[Mention], dict[str, NewActor]]:
    t = norm.text
    found.sort()
    actors: dict[str, NewActor] = {}
    key_id: dict[str, str] = {}
    spans: list[tuple[int, int, str]] = []
    taken = bytearray(len(t) + 1)
    conn = _lex()["conn"]
    for s, e, kind, name in found:
        if taken.find(1, s, e) >= 0:
            continue
        aid = key_id.get(name)
        if aid is None:
            # a shorter or longer form of an organisation already seen (مجلس التعاون)
            for k, v in key_id.items():
                if actors[v].kind != "person" and kind != "person" and (
                        k.startswith(name + " ") or name.startswith(k + " ")):
                    aid = v
                    break
        if aid is None:
            aid = slug(name)
            actors.setdefault(aid, NewActor(aid, kind, name))
        key_id.setdefault(name, aid)
        words = name.split()
        if kind == "person" and len(words) >= 2:
            cut = max((x for x, w in enumerate(words) if w in conn), default=None)
            sur = " ".join(words[cut:]) if cut else words[-1]
            if cut or (sur.startswith("ال") and len(sur) > 4) or (sur[:1].isalpha() and sur.isascii() and len(sur) > 3):
                key_id.setdefault(sur, aid)
        elif kind != "person" and len(words) >= 3:
            key_id.setdefault(" ".join(words[:-1]), aid)
        spans.append((s, e, aid))
        taken[s:e] = b"\x01" * (e - s)
    if key_id:
        import ahocorasick

        auto = ahocorasick.Automaton()
        for k in key_id:
            auto.add_word(k, k)
        auto.make_automaton()
        hits = []
        for end, k in auto.iter(t):
            s, e = end + 1 - len(k), end + 1
            if e < len(t) and t[e].isalnum():
                continue
            ws = s
            while ws > 0 and t[ws - 1].isalnum() and s - ws < 3:
                ws -= 1
            if (ws > 0 and t[ws - 1].isalnum()) or not diskcache.compile(r"[وف]?[بلك]?").fullmatch(t[ws:s]):
                continue
            hits.append((s, -(e - s), e, k))
        for s, _, e, k in sorted(hits):  # leftmost-longest
            if covered.find(1, s, e) >= 0 or taken.find(1, s, e) >= 0:
                continue
            spans.append((s, e, key_id[k]))
            taken[s:e] = b"\x01" * (e - s)
    out = []
    for s, e, aid in sorted(spans):
        os_, oe = norm.span(s, e)
        out.append(Mention(aid, os_, oe, norm.original[os_:oe], s, e))
    return out, actors
