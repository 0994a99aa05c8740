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

from tawazun.evidence.gazetteer import Mention
from tawazun.evidence.normalize import Norm

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "names.yaml")
_TOKEN = re.compile(r"[\u0621-\u064a]+")
_AR_TRANSLIT = dict(zip("ءآأؤإئابةتثجحخدذرزسشصضطظعغفقكلمنهوىي",
                        ["'", "a", "a", "u", "i", "i", "a", "b", "a", "t", "th", "j", "h", "kh", "d", "dh", "r",
                         "z", "s", "sh", "s", "d", "t", "z", "a", "gh", "f", "q", "k", "l", "m", "n", "h",
                         "w", "a", "y"]))


class NewActor(NamedTuple):
    id: str
    kind: str
    name: str  # folded name as found first


@functools.lru_cache(maxsize=1)
def _lex() -> dict[str, Any]:
    from tawazun.evidence.gazetteer import _read_bytes, _yaml_load

    d = _yaml_load(_read_bytes(DATA).decode("utf-8"))
    conn = set(d["connectors_ar"])
    en_titles = sorted(d["titles_en"], key=len, reverse=True)
    name_word = r"(?:[A-Z][a-z'’]+(?:-[A-Z][a-z'’]+)?|al-[A-Z][a-z'’]+|bin|Abu|Abdul|Abdel)"
    en_heads = "|".join(sorted(d["org_heads_en"], key=len, reverse=True))
    return {
        "org": dict(d["org_heads_ar"]),
        "titles": set(d["titles_ar"]) | set(d["title_modifiers_ar"]),
        "title_starts": set(d["title_starts_ar"]),
        "given": set(d["given_names_ar"]) - conn,
        "conn": conn,
        "stop": set(d["stop_ar"]),
        "generic": set(d["generic_ar"]),
        "org_en": dict(d["org_heads_en"]),
        "en_person": re.compile(
            r"(?<![\w-])(?:" + "|".join(re.escape(t) for t in en_titles) + r")\s+"
            r"(" + name_word + r"(?:\s+" + name_word + r"){1,3})(?![\w-])"),
        "en_org": re.compile(r"(?<![\w-])((?:[A-Z][a-z'’]+\s+){1,4}(?:" + en_heads + r"))(?![\w-])"),
    }


def slug(name: str) -> str:
    out = []
    for ch in name:
        if ch in _AR_TRANSLIT:
            out.append(_AR_TRANSLIT[ch])
        elif ch.isascii() and ch.isalnum():
            out.append(ch.lower())
        elif ch in " -":
            out.append("-")
    s = re.sub(r"-+", "-", "".join(out)).strip("-")
    return "new-" + (s or "x")


def _strip_prefix(tok: str) -> tuple[str, str]:
    """(proclitics incl. a definite article, rest): ``لتيار`` -> (ل, تيار), ``والتيار`` -> (وال, تيار)."""
    m = re.match(r"^(?:[وف])?(?:[بك]?ال|لل|[بلك])?", tok)
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
    toks = [(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(t)]
    n = len(toks)

    def gap_ok(i: int) -> bool:  # only spaces between token i and i+1
        return i + 1 < n and not t[toks[i][1]:toks[i + 1][0]].strip()

    def free(i: int) -> bool:
        return not covered[toks[i][0]]

    found: list[tuple[int, int, str, str]] = []  # folded start, end, kind, name
    i = 0
    while i < n:
        s0, e0, w = toks[i]
        if not free(i):
            i += 1
            continue
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
                i = words[-1] + 1
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
                i = name_idx[-1] + 1
                continue
        # ---- given name + surname
        g = stem if pre in ("و", "ف") else w
        if g in lx["given"]:
            name_idx = _name_after(toks, i - 1, lx, gap_ok, free, titled=False)
            if name_idx:
                s = toks[name_idx[0]][0] + (len(w) - len(g))
                found.append((s, toks[name_idx[-1]][1], "person",
                              " ".join([g] + [toks[x][2] for x in name_idx[1:]])))
                i = name_idx[-1] + 1
                continue
        i += 1
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
    if not re.search(r"[A-Z]", orig):
        return out
    for rx, kind in ((lx["en_person"], "person"), (lx["en_org"], None)):
        for m in rx.finditer(orig):
            ns, ne = norm.to_norm(m.start(1)), norm.to_norm(m.end(1))
            if ne <= ns or covered.find(1, ns, ne) >= 0:
                continue
            name = norm.text[ns:ne]
            k = kind or lx["org_en"].get(m.group(1).split()[-1], "movement")
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
        alts = "|".join(re.escape(k) for k in sorted(key_id, key=len, reverse=True))
        rx = re.compile(r"(?<![\w])(?:[وف]?[بلك]?)(" + alts + r")(?![\w])")
        for m in rx.finditer(t):
            s, e = m.start(1), m.end(1)
            if covered.find(1, s, e) >= 0 or taken.find(1, s, e) >= 0:
                continue
            spans.append((s, e, key_id[m.group(1)]))
            taken[s:e] = b"\x01" * (e - s)
    out = []
    for s, e, aid in sorted(spans):
        os_, oe = norm.span(s, e)
        out.append(Mention(aid, os_, oe, norm.original[os_:oe], s, e))
    return out, actors
