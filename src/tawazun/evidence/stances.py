"""Stance cues: an actor, an issue and a direction (support/oppose) from cue phrases.

The lexicon is ``data/stances.yaml``: for each issue, regular expressions over folded
text with a direction.  For every cue found:

* negation — a negator (لا لم لن ليس غير عدم …; not, never, no, n't …) among the three
  words before the cue, in the same clause, flips the direction;
* actor — inside a direct quote: the nearest actor named earlier in the quote, else the
  quote's speaker; elsewhere: the nearest non-media actor named before the cue in the
  same sentence, plus actors coordinated with it (``X و Y``, ``X, along with many Y``);
  failing that, an actor named right after the cue's first word (Arabic verb-subject
  order: ``تؤيد واشنطن إجراء الانتخابات``).

Composition layer (``compose:`` in the lexicon): cues built from verb classes and issue
objects with short gaps (:class:`Frame`), a negation mode per class (flip or drop),
denial verbs that drop a cue, verb-subject holders right after the head, decisions as
referents ("رحب بالقرار"), and a person's stance reported for his movement only when the
text says so.  See docs/evidence.md.

``start``/``end`` of a stance are the sentence's span in the original text; ``surface`` is
the cue phrase (with its negator when there is one).
"""

from __future__ import annotations

import bisect
import functools
import os
import re
from typing import Any, Callable, NamedTuple, Sequence

from tawazun.evidence import diskcache
from tawazun.evidence.gazetteer import Mention
from tawazun.evidence.normalize import Norm, line_of, line_starts
from tawazun.evidence.quotes import _VERB_RX, QuoteHit, title_holder

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "stances.yaml")
_SENT = diskcache.compile(r"[.!?؟;\n]")
# A cue looks back at most this many folded characters for its sentence start: a text
# with no full stops is one endless "sentence", and an unbounded look-back made
# extraction quadratic in its length.
WINDOW = 600
_CLAUSE = diskcache.compile(r"[,،;:؛—–\-]\s")
_COORD = diskcache.compile(
    r"^[\s،,]*(?:و|and|الي جانب|along with|as well as|together with|كذلك|وكذلك|ومعها|مع)?[\s،,]*"
    r"(?:(?:العديد من|عدد من|many|several|some|بعض|كبار|senior|its|their|the|of)\s*)*$"
)


class Cue(NamedTuple):
    issue: str
    direction: str
    rx: Any  # re.Pattern or LazyRx
    neg: str = "flip"  # what a negator before the cue does: flip the direction, or drop the cue
    composed: bool = False  # from the composition layer (verb class + object frames)
    vs: bool = False  # its head is a verb: an actor right after the head is the subject
    head: str = ""  # regex of the first item (composed cues)


_GAP = r"(?:[^\s.!?؟;؛:]+\s+){{0,{n}}}?"


class LazyRx:
    """A regex compiled on first use: the composed frames are large and most texts need
    only a few of them, so compiling them all at start-up would cost more than running."""

    __slots__ = ("pattern", "_rx")

    def __init__(self, pattern: str):
        self.pattern = pattern
        self._rx: re.Pattern | None = None

    def _get(self) -> re.Pattern:
        if self._rx is None:
            self._rx = diskcache.compile(self.pattern)
        return self._rx

    def match(self, *a: Any) -> Any:
        return self._get().match(*a)

    def search(self, *a: Any) -> Any:
        return self._get().search(*a)

    def finditer(self, *a: Any) -> Any:
        return self._get().finditer(*a)


_ITEMS: dict[str, re.Pattern] = {}
_SPACES = diskcache.compile(r"\s+")
_GAP_WORD = diskcache.compile(r"[^\s.!?؟;؛:]+")


def _item(pat: str) -> re.Pattern:
    rx = _ITEMS.get(pat)
    if rx is None:
        rx = _ITEMS[pat] = diskcache.compile(pat)
    return rx


class FrameMatch(NamedTuple):
    s: int
    e: int
    he: int  # end of the head item

    def start(self) -> int:
        return self.s

    def end(self, group: str | None = None) -> int:
        return self.he if group == "head" else self.e


class Frame:
    """A composed cue: items (regexes of classes/objects, each a whole word or phrase)
    with up to ``gap`` words of the same clause between two of them.  Matched item by
    item (shortest gap first, backtracking to longer ones), so each class or object is
    compiled once however many frames use it: one big regex per frame made start-up
    compile times larger than the extraction itself."""

    __slots__ = ("items", "gap", "pattern", "_rx")

    def __init__(self, items: list[list[str]], gap: int):
        # each item: its alternatives (one class or object each), whole words
        self.items = [[rf"(?:{x})(?![\w])" for x in alts] for alts in items]
        self.gap = gap
        self.pattern = " ".join(x for alts in items for x in alts)  # for the literal pre-filter
        # compiled alternatives of each item, filled on first use (an item never reached
        # is never compiled); kept on the frame so that a match does no dict lookups
        self._rx: list[list[re.Pattern] | None] = [None] * len(self.items)

    def _level(self, k: int) -> list[re.Pattern]:
        rxs = self._rx[k]
        if rxs is None:
            rxs = self._rx[k] = [_item(a) for a in self.items[k]]
        return rxs

    def head(self, t: str, pos: int, hi: int) -> int | None:
        """End of the head item at ``pos`` (a word start), or None."""
        if pos > 0 and (t[pos - 1].isalnum() or t[pos - 1] == "_"):
            return None
        for rx in self._rx[0] or self._level(0):
            m = rx.match(t, pos, hi)
            if m is not None:
                return m.end()
        return None

    def match(self, t: str, pos: int, hi: int | None = None) -> FrameMatch | None:
        hi = len(t) if hi is None else hi
        if pos > 0 and (t[pos - 1].isalnum() or t[pos - 1] == "_"):
            return None
        for rx in self._rx[0] or self._level(0):
            m0 = rx.match(t, pos, hi)
            if m0 is None:
                continue
            end = self._rest(t, 1, m0.end(), hi)
            if end is not None:
                return FrameMatch(pos, end, m0.end())
        return None

    def _rest(self, t: str, k: int, cur: int, hi: int) -> int | None:
        if k == len(self.items):
            return cur
        rxs = self._rx[k] or self._level(k)
        p = cur
        for _ in range(self.gap + 1):
            sp = _SPACES.match(t, p, hi)
            if sp is None:
                return None
            q = sp.end()
            for rx in rxs:
                m = rx.match(t, q, hi)
                if m is not None:
                    r = self._rest(t, k + 1, m.end(), hi)
                    if r is not None:
                        return r
            w = _GAP_WORD.match(t, q, hi)
            if w is None:
                return None
            p = w.end()
        return None


class Lexicon:
    """Issues, their cue regexes and gates, and the negators."""

    def __init__(self, issues: list[dict[str, Any]], cues: list[Cue], negators: set[str],
                 gates: dict[str, re.Pattern] | None = None, denial: Any = None,
                 referents: dict[str, Any] | None = None):
        self.issues = issues
        self.cues = cues
        self.negators = negators
        self.gates = gates
        self.denial = denial
        self.referents = referents
        # one probe per issue over its fixed cues: "some cue of this issue matches here"
        # (a lookahead alternation), so each sentence is scanned once per issue and each
        # cue is then tried only where the probe stopped (find_stances, _probed_matches)
        self.probes: dict[str, LazyRx] = {}
        by_issue: dict[str, list[str]] = {}
        for c in cues:
            if not (c.composed and c.head) and _probed(c):
                by_issue.setdefault(c.issue, []).append(c.rx.pattern[len(_CUE_START):])
        for iid, pats in by_issue.items():
            self.probes[iid] = LazyRx(_CUE_START + "(?=" + "|".join(pats) + ")")
        # composed cues are tried only where their head class occurs (one scan per
        # (issue, head) instead of one per frame: the frames' gaps make full scans slow)
        self.heads: list[tuple[str, Frame, list[Cue]]] = []
        groups: dict[tuple[str, str], list[Cue]] = {}
        for c in cues:
            if c.composed and c.head:
                groups.setdefault((c.issue, c.head), []).append(c)
        for (iid, head), cs in groups.items():
            self.heads.append((iid, cs[0].rx, cs))
        # the literal words of the heads, for one Aho-Corasick pass that finds where a
        # head may start (Python's re scans a big alternation slowly at every position)
        self.head_ac = None
        if self.heads:
            import ahocorasick

            lits: dict[str, set[int]] = {}
            for k, (_, frame, _) in enumerate(self.heads):
                pat = diskcache.compile(r"\\[sSwWdb]|\{[^}]*\}|\[[^\]]*\]").sub(" ", " ".join(frame.items[0]))
                for lit in diskcache.compile(r"[\u0621-\u064a]{2,}|[a-z']{3,}").findall(pat):
                    if lit not in ("ال", "لل"):
                        lits.setdefault(lit, set()).add(k)
            ac = ahocorasick.Automaton()
            for lit, ks in lits.items():
                ac.add_word(lit, (len(lit), tuple(sorted(ks))))
            ac.make_automaton()
            self.head_ac = ac

    @classmethod
    @functools.lru_cache(maxsize=1)
    def default(cls) -> "Lexicon":
        """The shipped lexicon (its parsed YAML is cached on disk as JSON)."""
        import json
        import zlib

        from tawazun.evidence.gazetteer import _cache_dir, _read_bytes, _write_cache, _yaml_load

        raw = _read_bytes(DATA)
        cache = os.path.join(_cache_dir(), f"stances-{zlib.crc32(raw):08x}.json")
        try:
            with open(cache, encoding="utf-8") as fh:
                data = json.load(fh)
        except (OSError, ValueError):
            data = _yaml_load(raw.decode("utf-8"))
            _write_cache(cache, json.dumps(data, ensure_ascii=False).encode("utf-8"))
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Lexicon":
        macros = {k: str(v) for k, v in (data.get("macros") or {}).items()}
        cues: list[Cue] = []
        issues = []
        for issue in data["issues"]:
            issues.append({k: v for k, v in issue.items() if k != "cues"})
            for c in issue.get("cues") or []:
                pat = str(c["rx"])
                for k, v in macros.items():
                    pat = pat.replace("{" + k + "}", v)
                cues.append(Cue(str(issue["id"]), str(c["dir"]), diskcache.compile(rf"(?<![\w])(?:{pat})(?![\w])")))
        neg = {str(w) for lang in ("ar", "en") for w in (data.get("negators") or {}).get(lang, [])}
        gates = {str(i["id"]): diskcache.compile(str(i["gate"])) for i in data["issues"] if i.get("gate")}
        comp = data.get("compose") or {}
        denial = referents = None
        if comp:
            def mac(x: str) -> str:
                for k, v in macros.items():
                    x = x.replace("{" + k + "}", v)
                return x

            classes = {k: mac(str(v)) for k, v in (comp.get("classes") or {}).items()}
            objects = {k: mac(str(v)) for k, v in (comp.get("objects") or {}).items()}
            drop = set((comp.get("negation") or {}).get("drop") or [])
            verbs = set(comp.get("verbs") or [])
            p = macros.get("P", "")
            for iid, frames in (comp.get("frames") or {}).items():
                for f in frames:
                    seq = [str(x) for x in f["seq"]]
                    items = [[f"{p}(?:{classes[x] if x in classes else objects[x]})" for x in item.split("|")]
                             for item in seq]
                    first = seq[0].split("|")
                    mode = "drop" if any(x in drop for x in first) else "flip"
                    cues.append(Cue(str(iid), str(f["dir"]), Frame(items, int(f.get("gap", 3))), mode, True,
                                    all(x in verbs for x in first), seq[0]))
            if comp.get("denial"):
                denial = LazyRx(rf"(?<![\w])(?:{comp['denial']})(?![\w])")
            ref = comp.get("referents")
            if ref:
                noun = str(ref["noun"])
                def ref_rx(names: list[str]) -> Frame:
                    return Frame([[f"{p}(?:{classes[x]})" for x in names], [f"{p}(?:{noun})"]], 4)

                referents = {"carrier": LazyRx(rf"(?<![\w]){p}(?:{noun})\s+(?:\S+\s+){{0,3}}$"),
                             "noun": LazyRx(rf"(?<![\w]){p}(?:{noun})(?![\w])"),
                             "same": ref_rx([str(x) for x in ref.get("same") or []]),
                             "flip": ref_rx([str(x) for x in ref.get("flip") or []])}
        return cls(issues, cues, neg, gates, denial, referents)

    def issue(self, iid: str) -> dict[str, Any] | None:
        return next((i for i in self.issues if i["id"] == iid), None)


class StanceHit(NamedTuple):
    actor: str
    issue: str
    direction: str
    surface: str  # the cue (original text)
    start: int  # sentence span (original)
    end: int
    cue_start: int
    cue_end: int
    paragraph: int


_CUE_START = r"(?<![\w])"
# a backreference or a conditional would change meaning inside the combined probe
_NOT_PROBED = diskcache.compile(r"\\[1-9]|\\g|\(\?P=|\(\?\(")


def _probed(cue: Cue) -> bool:
    pat = getattr(cue.rx, "pattern", None)
    return (isinstance(cue.rx, re.Pattern) and isinstance(pat, str) and pat.startswith(_CUE_START)
            and not _NOT_PROBED.search(pat))


def _probed_matches(cue: Cue, t: str, lo: int, hi: int, where: list[int]
                    ) -> list[tuple[int, int, Cue]]:
    """``cue.rx.finditer(t, lo, hi)`` as (start, end, cue), trying only the positions in
    ``where`` (every position where the cue can match is there: the issue's probe found
    them with the same bounds).  An empty match, if a cue ever had one, falls back to
    finditer (its rule for where the next search starts differs)."""
    rx = cue.rx
    out: list[tuple[int, int, Cue]] = []
    nxt = lo
    for p in where:
        if p < nxt:
            continue
        m = rx.match(t, p, hi)
        if m is not None:
            if m.end() == p:
                return [(m.start(), m.end(), cue) for m in rx.finditer(t, lo, hi)]
            out.append((p, m.end(), cue))
            nxt = m.end()
    return out


def _negated(t: str, lo: int, cue_s: int, negators: set[str]) -> tuple[bool, int]:
    """Is there a negator among the three words before the cue (same clause)? And where."""
    seg_start = lo
    for m in _CLAUSE.finditer(t, lo, cue_s):
        seg_start = m.end()
    words = list(diskcache.compile(r"[\w'’]+").finditer(t[seg_start:cue_s]))[-3:]
    for w in reversed(words):
        tok = w.group()
        cands = {tok}
        if len(tok) > 2 and tok[0] in "وف":
            cands.add(tok[1:])
        if len(tok) > 3 and tok[0] in "وف" and tok[1] == "ب":
            cands.add(tok[2:])
        if tok.endswith(("n't", "n’t")):
            return True, seg_start + w.start()
        if cands & negators:
            return True, seg_start + w.start()
    return False, cue_s


def find_stances(norm: Norm, mentions: Sequence[Mention], quotes: Sequence[QuoteHit],
                 kind_of: Callable[[str], str], lexicon: Lexicon | None = None,
                 leads_of: Callable[[str], str | None] | None = None) -> list[StanceHit]:
    lex = lexicon or Lexicon.default()
    t = norm.text
    bounds = [0] + [m.end() for m in _SENT.finditer(t)] + [len(t)]
    found: list[tuple[int, int, Cue]] = []
    # sentences each issue's gate opens (all sentences for an issue without a gate)
    spans: dict[str, list[tuple[int, int]]] = {}
    for issue in {c.issue for c in lex.cues if not c.composed}:
        gate = (lex.gates or {}).get(issue)
        if gate is None:
            spans[issue] = [(0, len(t))]
            continue
        ks = sorted({bisect.bisect_right(bounds, g.start()) - 1 for g in gate.finditer(t)})
        spans[issue] = [(bounds[k], bounds[min(k + 1, len(bounds) - 1)]) for k in ks]
    stops: dict[tuple[str, int], list[int] | None] = {}
    for cue in lex.cues:
        if cue.composed and cue.head:
            continue
        probe = lex.probes.get(cue.issue) if _probed(cue) else None
        for lo, hi in spans[cue.issue]:
            if probe is None:
                for m in cue.rx.finditer(t, lo, hi):
                    found.append((m.start(), m.end(), cue))
                continue
            key = (cue.issue, lo)
            where = stops.get(key)
            if where is None:
                try:
                    where = stops[key] = [m.start() for m in probe.finditer(t, lo, hi)]
                except re.error:  # cues that cannot be combined: scan them one by one
                    lex.probes[cue.issue] = probe = None
                    found.extend((m.start(), m.end(), cue) for m in cue.rx.finditer(t, lo, hi))
                    continue
            found += _probed_matches(cue, t, lo, hi, where)
    if lex.head_ac is not None:
        # composed cues need no gate: the literal pass already finds where they may start
        tried: set[tuple[int, int]] = set()
        for end, (ln, ks) in lex.head_ac.iter(t):
            ws = end + 1 - ln
            back = 0
            while ws > 0 and t[ws - 1].isalpha() and back < 6:
                ws -= 1
                back += 1
            if ws > 0 and t[ws - 1].isalpha():
                continue
            k_sent = bisect.bisect_right(bounds, ws) - 1
            hi = bounds[min(k_sent + 1, len(bounds) - 1)]
            for k in ks:
                iid, head_rx, group = lex.heads[k]
                if (ws, k) in tried:
                    continue
                tried.add((ws, k))
                if head_rx.head(t, ws, hi) is None:
                    continue
                for cue in group:
                    m = cue.rx.match(t, ws, hi)
                    if m is not None:
                        found.append((m.start(), m.end(), cue))
    # leftmost-longest per issue
    found.sort(key=lambda f: (f[2].issue, f[0], -(f[1] - f[0])))
    kept: list[tuple[int, int, Cue]] = []
    last: dict[str, int] = {}
    for s, e, cue in found:
        if s < last.get(cue.issue, -1):
            continue
        kept.append((s, e, cue))
        last[cue.issue] = e
    kept.sort(key=lambda f: f[0])
    kept += _referent_cues(t, kept, lex, bounds)
    kept.sort(key=lambda f: f[0])
    people = [m for m in mentions if kind_of(m.id) != "media"]
    starts = [m.nstart for m in people]
    # a composed cue's subject comes right after its head word (verb-subject order)
    subjects: dict[int, Mention] = {}
    for s, e, cue in kept:
        if cue.vs:
            hm = cue.rx.match(t, s)
            if hm is not None and _AR_LETTER.search(t, hm.start(), hm.end("head")):
                sm = _subject_after(t, people, starts, hm.end("head"))
                if sm is not None:
                    subjects[s] = sm
    # mentions inside another cue (its object), inside a relative clause or apposition
    # (", who leads X,", "، الذي يتزعمه X،", "بزعامة X") are not subjects
    hidden: list[tuple[int, int]] = []
    for s, e, _ in kept:
        sm = subjects.get(s)
        hidden += [(s, sm.nstart), (sm.nend, e)] if sm is not None else [(s, e)]
    hidden += [(m.start(), m.end()) for m in _RELATIVE.finditer(t)]
    hidden += [(m.start(), m.end()) for m in _AR_ASIDE.finditer(t)]
    mask = bytearray(len(t) + 1)
    for hs, he in hidden:
        mask[hs:he] = b"\x01" * (he - hs)
    out: list[StanceHit] = []
    lines = line_starts(norm.original)
    qstarts = [q.nstart for q in quotes]
    for s, e, cue in kept:
        k = bisect.bisect_right(bounds, s) - 1
        ss, se = max(bounds[k], s - WINDOW), bounds[min(k + 1, len(bounds) - 1)]
        while ss < se and t[ss].isspace():
            ss += 1
        neg, cs = _negated(t, ss, s, lex.negators)
        direction = cue.direction
        if neg:
            if cue.neg == "drop":
                continue  # "did not reject" is not acceptance
            direction = "oppose" if direction == "support" else "support"
        if lex.denial is not None and lex.denial.search(t, ss, s):
            continue  # "denied that it had decided to boycott"
        qi = bisect.bisect_right(qstarts, s) - 1
        quote = quotes[qi] if qi >= 0 and quotes[qi].nstart <= s < quotes[qi].nend else None
        if s in subjects:
            actors = [subjects[s].id]
        else:
            actors = _actors_for(t, people, starts, quote, ss, s, e, mask, kind_of)
        if not actors:
            continue
        if leads_of is not None:
            actors = _with_movements(t, actors, leads_of, quote, ss, se, s, e)
        sent_os, sent_oe = norm.span(ss, se)
        # leave the sentence's closing punctuation out of the span
        while sent_oe > sent_os and norm.original[sent_oe - 1] in ".!?؟;\n ":
            sent_oe -= 1
        cos, coe = norm.span(cs, e)
        para = line_of(lines, cos)
        for aid in actors:
            out.append(StanceHit(aid, cue.issue, direction, norm.original[cos:coe], sent_os, sent_oe,
                                 cos, coe, para))
    return out


def _actors_for(t: str, people: Sequence[Mention], starts: list[int], q: QuoteHit | None,
                ss: int, cs: int, ce: int, mask: bytearray | None = None,
                kind_of: Callable[[str], str] = lambda a: "movement") -> list[str]:
    """Who holds the cue at folded [cs, ce) in the sentence starting at ``ss``.

    ``mask`` marks folded positions inside cues and relative clauses: a mention there is
    an object or an aside, not a subject (only mentions before ``cs`` are looked at, so
    the cue's own span never hides anything that matters)."""
    lo = q.nstart if q else ss
    # verb-subject order: an actor right after the cue's first word, when that word is a verb
    first = diskcache.compile(r"\S+\s+").match(t[cs:ce])
    if first and diskcache.compile(r"[وف]?[يت]\S{2,}\s").match(first.group()):
        pos = cs + first.end()
        j = bisect.bisect_left(starts, pos - 3)
        if j < len(people) and people[j].nstart <= pos and people[j].nend < ce:
            return [people[j].id]

    def hid(m: Mention) -> bool:
        return mask is not None and mask[m.nstart] == 1 and mask[m.nend - 1] == 1

    if q is None:
        lo_i, hi_i = bisect.bisect_left(starts, ss), bisect.bisect_left(starts, cs)
        rep = _reporter(t, people[lo_i:hi_i], ss, cs, hid, kind_of)
        if rep:
            return [rep]
    i = bisect.bisect_left(starts, cs) - 1
    chain: list[Mention] = []
    while i >= 0 and people[i].nstart >= lo:
        m = people[i]
        if m.nend > cs or _locative(t, m.nstart) or hid(m):
            i -= 1
            continue
        if not chain:
            chain.append(m)
        elif _COORD.match(t[m.nend:chain[-1].nstart]):
            chain.append(m)
        else:
            break
        i -= 1
    if chain:
        seen: list[str] = []
        for m in reversed(chain):
            if m.id not in seen:
                seen.append(m.id)
        return seen
    if q is not None and q.speaker:
        return [q.speaker]
    return []


_LOCATIVES = {"في", "in", "at", "inside", "داخل", "الي", "to", "into", "across", "throughout", "عبر"}


def _locative(t: str, pos: int) -> bool:
    """Is the mention at folded ``pos`` a place (after في / in / at …)?"""
    before = t[max(0, pos - 12):pos].split()
    return bool(before) and before[-1] in _LOCATIVES and t[pos - 1:pos].isspace()


_RELATIVE = diskcache.compile(r",\s*(?:who|which|whose|where|an?)\s[^,.;\n]{0,200},")
_COMPLEMENTIZER = diskcache.compile(r"(?<![\w])(?:ان|بان|وان|that)(?![\w])")


def _reporter(t: str, people: Sequence[Mention], ss: int, cs: int, hid: Callable[[Mention], bool],
              kind_of: Callable[[str], str] = lambda a: "movement") -> str | None:
    """In "X said that <clause with the cue>" where the clause names no actor before the
    cue, X holds the stance (أكد الكاظمي أن حكومته ماضية في إجراء الانتخابات)."""
    verbs = list(_VERB_RX.finditer(t, ss, cs))
    for v in reversed(verbs):
        comp = _COMPLEMENTIZER.search(t, v.end(), cs)
        if not comp:
            continue
        if any(comp.end() <= m.nstart and m.nend <= cs and not hid(m) for m in people):
            return None
        if v.group("ar") is not None:
            after = [m for m in people if v.end() <= m.nstart and m.nend <= comp.start() and not hid(m)]
            if after:
                return title_holder(t, after, kind_of)
        before = [m for m in people if ss <= m.nstart and m.nend <= v.start() and not hid(m)]
        if before:
            return before[-1].id
        return None
    return None


_AR_LETTER = diskcache.compile(r"[\u0621-\u064a]")
# Arabic relative clauses and appositions between commas, and "led by X": asides
_AR_ASIDE = diskcache.compile(r"[،,]\s*(?:الذي|التي|الذين|برئاسه|بزعامه|بقياده)\s[^،,.\n]{0,120}[،,]"
                              r"|(?<![\w])(?:برئاسه|بزعامه|بقياده)\s+(?:[^\s،,.]+\s+){1,2}[^\s،,.]+")
_TITLE_WORDS: set[str] | None = None


def _titles() -> set[str]:
    global _TITLE_WORDS
    if _TITLE_WORDS is None:
        from tawazun.evidence.names import _lex

        _TITLE_WORDS = set(_lex()["titles"])
    return _TITLE_WORDS


def _subject_after(t: str, people: Sequence[Mention], starts: list[int], pos: int) -> Mention | None:
    """The actor right after folded ``pos`` (a head verb), past up to three title words
    (``تعهد رئيس الحكومة نجيب ميقاتي``); None when something else comes first."""
    titles = _titles()
    p = pos
    for _ in range(4):
        while p < len(t) and t[p] == " ":
            p += 1
        j = bisect.bisect_left(starts, p - 2)
        if j < len(people) and people[j].nstart <= p + 2 and people[j].nstart >= pos:
            return people[j]
        m = diskcache.compile(r"[\u0621-\u064a]+").match(t[p:p + 30])
        if not m or m.group() not in titles:
            return None
        p += m.end()
    return None


_POSSESSIVE = diskcache.compile(r"(?<![\w])(?:[وفبل]?(?:حركته|تياره|حزبه|كتلته|ائتلافه|جماعته|انصاره)|his\s+(?:movement|party|bloc|alliance|followers))(?![\w])")
_FIRST_PLURAL = diskcache.compile(r"^(?:[وف]?(?:ن|سن)[\u0621-\u064a]{2,}|we\b|we'll|our\b)")


def _with_movements(t: str, actors: list[str], leads_of: Callable[[str], str | None], quote: QuoteHit | None,
                    ss: int, se: int, cs: int, ce: int) -> list[str]:
    """A person's stance is also his movement's when the text says so: the sentence speaks
    of "his movement" (حركته، تياره), or he speaks for it in the first person plural
    inside a quote (لن نشارك)."""
    out = list(actors)
    for aid in actors:
        org = leads_of(aid)
        if not org or org in out:
            continue
        if _POSSESSIVE.search(t, ss, cs) or (quote is not None and quote.speaker == aid
                                             and _FIRST_PLURAL.match(t[cs:ce])):
            out.append(org)
    return out


def _referent_cues(t: str, kept: list[tuple[int, int, Cue]], lex: Lexicon, bounds: list[int]
                   ) -> list[tuple[int, int, Cue]]:
    """Cues on a decision named earlier by its content: after "قرار يدعو إلى إنهاء وجود
    القوات" (oppose), "رحب بالقرار" is oppose and "رفض القرار" support."""
    ref = lex.referents
    if not ref or not kept:
        return []
    found = None
    for s, e, cue in kept:
        if ref["carrier"].search(t[max(0, s - 60):s]):
            found = (cue.issue, cue.direction, e)
            break
    if found is None:
        return []
    issue, direction, after = found
    other = "oppose" if direction == "support" else "support"
    taken = [(s, e) for s, e, c in kept if c.issue == issue]
    out = []
    for nm in ref["noun"].finditer(t, after):
        # the verb stands at most a few words before the decision noun
        for w in _GAP_WORD.finditer(t, max(after, nm.start() - 80), nm.start()):
            hit = None
            for key, d in (("same", direction), ("flip", other)):
                m = ref[key].match(t, w.start())
                if m is not None and m.end() == nm.end():
                    hit = (m.start(), m.end(), Cue(issue, d, ref[key], "drop", True, True))
                    break
            if hit and not any(s < hit[1] and hit[0] < e for s, e in taken):
                out.append(hit)
                taken.append((hit[0], hit[1]))
                break
    return out
