"""Direct quotes and who said them.

A quote is text between «…», “…” (or “…"), or a pair of straight double quotes in the
same paragraph.  Its speaker comes from a speech verb or attribution phrase
(قال، أكد، أعلن، صرح، بحسب، نقلا عن، تنقل؛ said, told, according to, quoting …):

* before the quote, in the same sentence: the last speech verb; Arabic verbs look for
  the speaker after the verb first (``قال بايدن``), English ones before it
  (``Biden said``), then the other side;
* otherwise after the quote, in the same sentence (``"…," Biden said`` /
  ``… كما تنقل ذلك صحيفة نيويورك تايمز``).

An anonymous speaker next to the verb (``وقال مسؤول أمني رفيع``, ``مصدراً مقرباً من التيار
الصدري أوضح``) makes the quote anonymous: ``speaker`` None, ``speaker_role`` the role in
English and ``role_org`` the organisation named inside the role phrase (:func:`role_at`).

Media actors (kind ``media``) are outlets, not speakers: ``told the BBC`` / ``لقناة BBC``
makes the BBC the outlet.  A media actor is the speaker only when no one else is named
(the paper speaking for itself).  A quote with no speech verb or attribution is a scare
quote and is dropped when shorter than :data:`SCARE_MAX_WORDS` words; a longer one is
kept with ``speaker: None``.
"""

from __future__ import annotations

import bisect
import functools
import re
from typing import Callable, NamedTuple, Sequence

from tawazun.evidence import diskcache
from tawazun.evidence.gazetteer import Mention
from tawazun.evidence.normalize import Norm, line_of, line_starts

SCARE_MAX_WORDS = 7
# Attribution is looked for at most this many folded characters before the opening mark
# and after the closing one: keeps the work per quote bounded when a "sentence" has no
# end (one huge line, no full stops), so extraction stays linear in the text length.
WINDOW = 400
_PAIRS = {"«": "»", "“": "”\"", "„": "“”", '"': '"'}
_AR_VERBS = (
    "قال|قالت|قالوا|يقول|تقول|يقولون|اكد|اكدت|اكدوا|يؤكد|تؤكد|اعلن|اعلنت|يعلن|تعلن|صرح|صرحت|يصرح|"
    "اضاف|اضافت|يضيف|تضيف|ذكر|ذكرت|يذكر|تذكر|اوضح|اوضحت|يوضح|شدد|شددت|يشدد|حذر|حذرت|يحذر|كتب|كتبت|"
    "غرد|غردت|تابع|تابعت|اشار|اشارت|قائلا|قائله|مضيفا|مضيفه|مؤكدا|مؤكده|متسائلا|تساءل|هدد|هددت|نفي|نفت|"
    "ابلغ|ابلغت|بحسب|حسب|وفقا ل|وفق|نقلا عن|نقل عن|نقلت|تنقل|ينقل|نقلت عن|اعتبر|اعتبرت|خاطب|"
    "اعترف|اعترفت|طالب|طالبت|دعا|دعت|كشف|كشفت|يكشف|تكشف|افاد|افادت|يفيد|تفيد"
)
_EN_VERBS = (
    "said|says|say|told|tells|tell|added|adds|stated|states|declared|warned|warns|announced|wrote|writes|"
    "tweeted|insisted|noted|argued|asked|remarked|explained|claimed|replied|stressed|saying|adding|"
    "insisting|warning|according to|quoting|quoted|reported|reports|put it|vowed|pledged|admitted|"
    "acknowledged|conceded|urged|promised|threatened"
)
_VERB_RX = diskcache.compile(rf"(?<![\w])(?:[وف]?(?P<ar>{_AR_VERBS})|(?P<en>{_EN_VERBS}))(?![\w])")
_SENT_END = diskcache.compile(r"[.!?؟\n]")


class QuoteHit(NamedTuple):
    speaker: str | None
    outlet: str | None
    text: str
    start: int
    end: int
    paragraph: int
    nstart: int
    nend: int
    speaker_role: str | None = None  # an anonymous speaker's role, in English
    role_org: str | None = None  # the organisation named inside that role phrase


_FILLER = diskcache.compile(r"\s+(?:ما\s+)?(?:(?:صرح|قال|ذكر|افاد|اكد|اوضح|اعلن|نقل)ت?\s+(?:به|ه)?\s*)?|\s+ذلك\s+")
_WORD = diskcache.compile(r"[\u0621-\u064a]+")


@functools.lru_cache(maxsize=1)
def _roles() -> dict:
    from tawazun.evidence.names import load_data

    r = load_data()["roles"]
    return {"nouns": r["nouns"], "quant": set(r["quantifiers"]), "adj": r["adjectives"],
            "bodies": {k: v for k, v in r["bodies"].items()}}


def _lexform(w: str, table: dict) -> str | None:
    """``w`` or its accusative/feminine form (مصدرا، مقربا، امنيه) in ``table``."""
    for cand in (w, w[:-1] if w.endswith(("ا", "ه")) else None, w[:-2] if w.endswith(("ين", "ون")) else None):
        if cand and cand in table:
            return cand
    return None


def role_at(t: str, p: int, mentions: Sequence[Mention], starts: list[int],
            org_name: Callable[[str], str], end_at: int | None = None
            ) -> tuple[int, str, str | None] | None:
    """An anonymous speaker's role phrase starting at folded ``p`` (``مصدر مقرب من التيار
    الصدري``, ``عضو اللجنة المركزية في الحزب الشيوعي العراقي``): (end, English role, org id).
    With ``end_at`` the phrase must end there (only spaces between)."""
    rl = _roles()
    m = _WORD.match(t, p)
    if not m:
        return None
    adjs: list[str] = []
    quant = False
    if m.group() in rl["quant"]:
        quant = True
        m = _WORD.match(t, m.end() + 1) if t[m.end():m.end() + 1] == " " else None
        if not m:
            return None
    noun = _lexform(m.group(), rl["nouns"])
    if noun is None:
        return None
    e = m.end()
    org: str | None = None
    body: str | None = None
    rel = ""
    for _ in range(8):
        if t[e:e + 1] != " ":
            break
        nxt = _WORD.match(t, e + 1)
        if not nxt:
            break
        w = nxt.group()
        a = _lexform(w, rl["adj"])
        if a is not None and a != "مقرب":
            if rl["adj"][a]:
                adjs.append(rl["adj"][a])
            e = nxt.end()
            continue
        direct_body = next((bk for bk in rl["bodies"] if t.startswith(bk, nxt.start())), None)
        if a == "مقرب" or w in ("في", "من", "داخل", "لدي") or (w[:1] == "ل" and not w.startswith("ال")) \
                or direct_body:
            # an organisation (or a body of one) after a preposition
            q = nxt.end() + 1 if w in ("في", "من", "داخل", "لدي") or a == "مقرب" else \
                nxt.start() if direct_body else nxt.start() + 1
            if a == "مقرب":
                fm = diskcache.compile(r"\s+من\s+").match(t[nxt.end():nxt.end() + 8])
                if not fm:
                    break
                q = nxt.end() + fm.end()
                rel = "close to"
            for bk, bv in rl["bodies"].items():
                if t.startswith(bk, q) and (q + len(bk) >= len(t) or not t[q + len(bk)].isalpha()):
                    body = bv
                    q2 = q + len(bk)
                    pm = diskcache.compile(r"\s+(?:في|من)\s+|\s+ل(?=\S)").match(t[q2:q2 + 6])
                    q = q2 + pm.end() if pm else q2
                    break
            j = bisect.bisect_left(starts, q - 2)
            if j < len(mentions) and mentions[j].nstart <= q + 2:
                org = mentions[j].id
                e = mentions[j].nend
                rel = rel or "in"
            elif body:
                e = q
            break
        break
    if end_at is not None and t[e:end_at].strip():
        return None
    # a role followed by a name is a title, not an anonymous source (قيادي … هادي العامري)
    j = bisect.bisect_left(starts, e)
    if j < len(mentions) and not t[e:mentions[j].nstart].strip(" ،,") and mentions[j].id != org:
        return None
    senior = [a for a in adjs if a == "senior"][:1]
    words = senior + [a for a in adjs if a != "senior"] + [rl["nouns"][noun]]
    role = " ".join(words)
    if noun in ("سكان", "ساكن") or quant and noun == "سكان":
        role = "resident"
    if body and org:
        role += f" of the {body} of the {org_name(org)}" if noun == "عضو" else f" in the {body} of the {org_name(org)}"
    elif body:
        role += f" of the {body}"
    elif org:
        role += f" {rel or 'in'} the {org_name(org)}"
    return e, role, org


_OPENER = diskcache.compile("[" + re.escape("".join(_PAIRS)) + "]")
_STOP = {o: diskcache.compile("[" + re.escape(c) + "\n]") for o, c in _PAIRS.items()}


def _pairs(t: str) -> list[tuple[int, int]]:
    """(opener, closer) folded positions; never across a line break.

    Openers and the first closer or line break after each are found by regex search (C
    speed, not a Python loop over every character); the last stop found for each kind of
    opener is reused while it still lies ahead, so a line of unclosed openers stays linear.
    """
    out: list[tuple[int, int]] = []
    n = len(t)
    stop: dict[str, int] = {}  # opener -> first closer or line break at or after the last search
    m = _OPENER.search(t, 0)
    while m is not None:
        i = m.start()
        ch = t[i]
        j = stop.get(ch, -1)
        if j < i + 1:
            c = _STOP[ch].search(t, i + 1)
            j = stop[ch] = c.start() if c is not None else n
        if j < n and t[j] in _PAIRS[ch] and t[i + 1:j].strip():
            out.append((i, j))
            m = _OPENER.search(t, j + 1)
            continue
        m = _OPENER.search(t, i + 1)
    return out


def _pairs_slow(t: str) -> list[tuple[int, int]]:
    """Reference implementation, one character at a time (tests compare the two)."""
    out: list[tuple[int, int]] = []
    i, n = 0, len(t)
    while i < n:
        ch = t[i]
        if ch in _PAIRS:
            closers = _PAIRS[ch]
            j = i + 1
            while j < n and t[j] not in closers and t[j] != "\n":
                j += 1
            if j < n and t[j] in closers and t[i + 1:j].strip():
                out.append((i, j))
                i = j + 1
                continue
        i += 1
    return out


def _is_media(kind_of: Callable[[str], str], aid: str) -> bool:
    return kind_of(aid) == "media"


def find_quotes(norm: Norm, mentions: Sequence[Mention], kind_of: Callable[[str], str],
                name_of: Callable[[str], str] | None = None) -> list[QuoteHit]:
    t = norm.text
    pairs = _pairs(t)
    starts = [m.nstart for m in mentions]
    lines = line_starts(norm.original)
    out: list[QuoteHit] = []
    prev_close = -1
    for k, (o, c) in enumerate(pairs):
        inner_s, inner_e = o + 1, c
        while inner_s < inner_e and t[inner_s].isspace():
            inner_s += 1
        while inner_e > inner_s and t[inner_e - 1].isspace():
            inner_e -= 1
        words = len(t[inner_s:inner_e].split())
        # before-window: same sentence, after the previous quote
        ws = max(prev_close + 1, o - WINDOW, 0)
        for m in _SENT_END.finditer(t, ws, o):
            ws = m.end()
        next_open = pairs[k + 1][0] if k + 1 < len(pairs) else len(t)
        next_open = min(next_open, c + 1 + WINDOW)
        m_end = _SENT_END.search(t, c + 1, next_open)
        we = m_end.start() if m_end else next_open
        role = _role_attribution(t, mentions, starts, ws, o, c + 1, we, name_of or (lambda a: a))
        if role is not None:
            # anonymous: no speaker; an outlet named with the verb still counts (لنيويورك تايمز)
            _, outlet, _ = _attribute(t, mentions, kind_of, ws, o, c + 1, we, words, starts)
            speaker, attributed = None, True
        else:
            speaker, outlet, attributed = _attribute(t, mentions, kind_of, ws, o, c + 1, we, words, starts)
            if attributed and speaker is None:
                speaker = _previous_subject(t, mentions, kind_of, ws, starts)
        prev_close = c
        if not attributed and words < SCARE_MAX_WORDS:
            continue
        os_, oe = norm.span(inner_s, inner_e)
        out.append(QuoteHit(speaker, outlet, norm.original[os_:oe], os_, oe,
                            line_of(lines, os_), inner_s, inner_e,
                            role[1] if role else None, role[2] if role else None))
    return out


def title_holder(t: str, ms: Sequence[Mention], kind_of: Callable[[str], str]) -> str:
    """The first of ``ms``, unless it is an organisation inside a title right before a
    person (``زعيم التيار الصدري مقتدى الصدر``, ``القيادي في تحالف الفتح هادي العامري``):
    then the person."""
    if len(ms) > 1 and kind_of(ms[0].id) != "person" and kind_of(ms[1].id) == "person" \
            and not t[ms[0].nend:ms[1].nstart].strip():
        return ms[1].id
    return ms[0].id


def _after_verb(t: str, v_end: int) -> int:
    fm = _FILLER.match(t, v_end)
    return fm.end() if fm else v_end


def _role_attribution(t: str, mentions: Sequence[Mention], starts: list[int], bs: int, be: int,
                      as_: int, ae: int, name_of: Callable[[str], str]) -> tuple[int, str, str | None] | None:
    """An anonymous speaker next to an attribution verb: right after it (``وقال مسؤول
    أمني``, ``بحسب ما صرح به قيادي في …``) or right before it (``مصدراً مقرباً من … أوضح``),
    before the quote in its sentence or just after the quote.  Named actors elsewhere in
    the sentence are not looked at: they are the distractors (``تعليقاً على كلمة …``)."""
    for v in reversed(list(_VERB_RX.finditer(t, bs, be))):
        r = role_at(t, _after_verb(t, v.end()), mentions, starts, name_of)
        if r:
            return r
        for w in reversed(list(_WORD.finditer(t, max(bs, v.start() - 120), v.start()))):
            r = role_at(t, w.start(), mentions, starts, name_of, end_at=v.start())
            if r:
                return r
    m = _VERB_RX.search(t, as_, min(ae, as_ + 40))
    if m:
        return role_at(t, _after_verb(t, m.end()), mentions, starts, name_of)
    return None


def _attribute(t: str, mentions: Sequence[Mention], kind_of: Callable[[str], str],
               bs: int, be: int, as_: int, ae: int, words: int,
               starts: list[int] | None = None) -> tuple[str | None, str | None, bool]:
    """(speaker, outlet, attributed?) from the windows before [bs, be) and after [as_, ae)."""
    starts = [m.nstart for m in mentions] if starts is None else starts
    before = [m for m in mentions[bisect.bisect_left(starts, bs):bisect.bisect_left(starts, be)] if m.nend <= be]
    after = [m for m in mentions[bisect.bisect_left(starts, as_):bisect.bisect_left(starts, ae)] if m.nend <= ae]
    verbs = list(_VERB_RX.finditer(t, bs, be))
    if verbs:
        v = verbs[-1]
        if words >= SCARE_MAX_WORDS or be - v.end() <= 80:
            is_ar = v.group("ar") is not None
            after_v = [m for m in before if m.nstart >= v.end()]
            before_v = [m for m in before if m.nend <= v.start()]
            media = [m for m in after_v if _is_media(kind_of, m.id)] or \
                    [m for m in before_v if _is_media(kind_of, m.id)]
            people_after = [m for m in after_v if not _is_media(kind_of, m.id)]
            people_before = [m for m in before_v if not _is_media(kind_of, m.id)]
            first_after = title_holder(t, people_after, kind_of) if people_after else None
            last_before = people_before[-1].id if people_before else None
            speaker = (first_after or last_before) if is_ar else (last_before or first_after)
            outlet = media[0].id if media else None
            # a verb-initial sentence may end the sentence-window before the verb's subject
            if speaker is None and outlet:
                speaker = outlet
            if speaker is None and after:
                sp, ol = _after_attribution(t, after, kind_of, as_, ae)
                speaker, outlet = sp, outlet or ol
            return speaker, outlet, True
    # after the quote: ", Biden said." / "، كما تنقل ذلك صحيفة نيويورك تايمز"
    head = t[as_:ae]
    m = _VERB_RX.search(head)
    if m and m.start() <= 40:
        sp, ol = _after_attribution(t, after, kind_of, as_, ae, as_ + m.start(), as_ + m.end())
        return sp, ol, True
    return None, None, False


def _after_attribution(t: str, after: Sequence[Mention], kind_of: Callable[[str], str],
                       as_: int, ae: int, vs: int | None = None, ve: int | None = None
                       ) -> tuple[str | None, str | None]:
    if vs is None:
        m = _VERB_RX.search(t, as_, ae)
        if not m:
            return None, None
        vs, ve = m.start(), m.end()
    near = [m for m in after if m.nstart < ve + 80]
    people = [m for m in near if not _is_media(kind_of, m.id)]
    media = [m for m in near if _is_media(kind_of, m.id)]
    pre = [m for m in people if m.nend <= vs]
    post = [m for m in people if m.nstart >= ve]
    speaker = pre[-1].id if pre else (post[0].id if post else None)
    outlet = media[0].id if media else None
    if speaker is None:
        speaker = outlet
    return speaker, outlet


def _previous_subject(t: str, mentions: Sequence[Mention], kind_of: Callable[[str], str], ws: int,
                      starts: list[int] | None = None) -> str | None:
    """For "…," he said: the first non-media actor of the previous sentence, same paragraph."""
    starts = [m.nstart for m in mentions] if starts is None else starts
    line_start = max(t.rfind("\n", max(0, ws - WINDOW), ws) + 1, ws - WINDOW, 0)
    ps = line_start
    for m in _SENT_END.finditer(t, line_start, max(line_start, ws - 1)):
        ps = m.end()
    for i in range(bisect.bisect_left(starts, ps), bisect.bisect_left(starts, ws)):
        if kind_of(mentions[i].id) != "media":
            return mentions[i].id
    return None
