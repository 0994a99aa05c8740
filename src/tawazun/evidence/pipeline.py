"""One call from text to evidence, and from evidence to a draft arena.

``extract(text)`` runs, on one folded copy of the text: actors (gazetteer), dates,
numbers (outside absolute dates), quotes (with speakers from the actor mentions) and
stance cues.  Every offset is into the ORIGINAL text; paragraphs are lines, 1-based.

``draft_arena(extraction, source_meta)`` turns that into an arena dict (format
``tawazun-arena/1``) for an analyst to finish: actors found (media outlets are sources,
not players, and are left out), one issue per issue with a cue, candidate stances with
their evidence, and wide placeholder positions, saliences and capabilities that say so.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any, Callable, Mapping

from tawazun.evidence.dates import find_dates
from tawazun.evidence.gazetteer import Gazetteer
from tawazun.evidence.names import find_new_actors
from tawazun.evidence.normalize import normalize
from tawazun.evidence.numbers import find_numbers
from tawazun.evidence.quotes import find_quotes
from tawazun.evidence.stances import Lexicon, find_stances

# Largest text `extract` accepts (characters).  Extraction is linear (about 10-15 µs a
# character on the development machine), so this bounds one call to well under a minute
# and its memory (the offset map holds two integers per character) to a few hundred MB.
MAX_CHARS = 2_000_000
PROGRESS_STEPS = 6


class TextTooLarge(ValueError):
    """The text is longer than :data:`MAX_CHARS` (or a caller's smaller limit)."""


def check_size(text: str, limit: int = MAX_CHARS) -> None:
    if len(text) > limit:
        raise TextTooLarge(f"the text is {len(text):,} characters; the limit is {limit:,} "
                           "(split it into parts)")


PLACEHOLDER_NOTE = "placeholder range: position, salience and capability are left for the analyst"
NOTE_MAX = 50  # evidence notes quote at most this many characters of the source


def _as_date(value: Any) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def arena_actors(arena: Any) -> list[dict[str, Any]]:
    """Actor dicts from an arena given as a path, a dict, or a loaded Arena model."""
    if arena is None:
        return []
    if isinstance(arena, (str, os.PathLike)):
        import yaml

        with open(arena, encoding="utf-8") as fh:
            arena = yaml.safe_load(fh)
    if hasattr(arena, "actors") and not isinstance(arena, Mapping):
        return [
            {"id": a.id, "names": a.names.model_dump(exclude_none=True), "aliases": list(a.aliases),
             "kind": a.kind}
            for a in arena.actors
        ]
    out = []
    for a in (arena or {}).get("actors") or []:
        if isinstance(a, Mapping) and a.get("id"):
            out.append(dict(a))
    return out


def extract(text: str, lang: str = "auto", as_of: Any = None, arena: Any = None,
            progress: Callable[[int, int, str], None] | None = None) -> dict[str, Any]:
    """Evidence in ``text``: actors, quotes, numbers, dates, stances (original offsets).

    ``lang`` is accepted for the record ('ar', 'en' or 'auto'); the lexicons of both
    languages are always applied, since Arabic analysis quotes English names and back.
    ``as_of`` (date or ISO string) resolves relative dates; without it the latest full
    date in the text is used.  ``arena`` (path, dict or Arena) adds its actors' names.
    ``progress(done, total, label)``, when given, is called after each of the
    :data:`PROGRESS_STEPS` stages (a CLI progress bar).  A text over :data:`MAX_CHARS`
    characters raises :class:`TextTooLarge`.
    """
    if lang not in ("auto", "ar", "en"):
        raise ValueError(f"lang must be 'auto', 'ar' or 'en', got {lang!r}")
    check_size(text)
    step = [0]

    def tick(label: str) -> None:
        step[0] += 1
        if progress is not None:
            progress(step[0], PROGRESS_STEPS, label)

    gaz = Gazetteer.default()
    extra = arena_actors(arena)
    if extra:
        gaz = gaz.extended(extra)
    norm = normalize(text)
    tick("normalised")
    mentions = gaz.find(norm)
    new_mentions, new_actors = find_new_actors(norm, mentions)
    if new_mentions:
        mentions = sorted(mentions + new_mentions, key=lambda m: m.nstart)
    tick("actors")

    def kind_of(aid: str) -> str:
        na = new_actors.get(aid)
        return na.kind if na is not None else gaz.actor_info(aid).kind

    dates = find_dates(norm, _as_date(as_of))
    tick("dates")
    numbers = find_numbers(norm, [(d.nstart, d.nend) for d in dates if d.kind != "ago"])
    tick("numbers")
    def name_of(aid: str) -> str:
        na = new_actors.get(aid)
        if na is not None:
            return na.name
        en = gaz.actor_info(aid).names.get("en") or aid
        return en.split("(")[0].strip()

    quotes = find_quotes(norm, mentions, kind_of, name_of)
    tick("quotes")
    stances = find_stances(norm, mentions, quotes, kind_of, Lexicon.default(),
                           leads_of=lambda aid: gaz.actor_info(aid).leads)
    tick("stances")

    actors: dict[str, dict[str, Any]] = {}
    for m in mentions:
        a = actors.get(m.id)
        if a is None:
            if m.id in new_actors:
                names = {"ar" if any("\u0600" <= c <= "\u06ff" for c in m.surface) else "en": m.surface}
            else:
                names = dict(gaz.actor_info(m.id).names)
            a = actors[m.id] = {"id": m.id, "names": names, "kind": kind_of(m.id),
                                "source": "pattern" if m.id in new_actors else "gazetteer", "mentions": []}
        a["mentions"].append({"start": m.start, "end": m.end, "surface": m.surface})
    return {
        "actors": list(actors.values()),
        "quotes": [
            {"speaker": q.speaker, "outlet": q.outlet, "text": q.text, "start": q.start, "end": q.end,
             "paragraph": q.paragraph, "speaker_role": q.speaker_role, "role_org": q.role_org}
            for q in quotes
        ],
        "numbers": [
            {"value": h.value, "unit": h.unit, "surface": h.surface, "start": h.start, "end": h.end}
            for h in numbers
        ],
        "dates": [{"surface": d.surface, "value": d.value, "start": d.start, "end": d.end} for d in dates],
        "stances": [
            {"actor": s.actor, "issue": s.issue, "direction": s.direction, "surface": s.surface,
             "start": s.start, "end": s.end}
            for s in stances
        ],
    }


def _paragraph_of(text: str | None, pos: int) -> int | None:
    if text is None:
        return None
    return text.count("\n", 0, pos) + 1


def _short(s: str) -> str:
    s = " ".join(s.split())
    return s if len(s) <= NOTE_MAX else s[: NOTE_MAX - 1] + "…"


def draft_arena(extraction: Mapping[str, Any], source_meta: Mapping[str, Any] | None = None,
                text: str | None = None) -> dict[str, Any]:
    """A draft arena (format v1) from an extraction.

    ``source_meta``: ``{id, title, publisher, date, language, arena_id, arena_title,
    as_of}`` (all optional).  ``text``, when given, lets evidence name its paragraph
    (``¶N``); otherwise the paragraph is worked out from a quote or left as the offset.
    """
    meta = dict(source_meta or {})
    src_id = str(meta.get("id") or "source")
    date = _as_date(meta.get("date"))
    as_of = _as_date(meta.get("as_of")) or date or dt.date.today()
    gaz = Gazetteer.default()
    lex = Lexicon.default()
    kinds = {a["id"]: a.get("kind") or gaz.actor_info(a["id"]).kind for a in extraction.get("actors", [])}

    # one candidate stance per (actor, issue); directions and cues collected as evidence
    grouped: dict[tuple[str, str], dict[str, Any]] = {}
    for s in extraction.get("stances", []):
        key = (s["actor"], s["issue"])
        g = grouped.setdefault(key, {"dirs": [], "evidence": []})
        g["dirs"].append(s["direction"])
        para = _paragraph_of(text, s["start"])
        locator = f"¶{para}" if para else f"@{s['start']}"
        ev = {"source": src_id, "locator": locator, "note": f"{s['direction']}: {_short(s['surface'])}"}
        if ev not in g["evidence"]:
            g["evidence"].append(ev)

    issues_found = sorted({k[1] for k in grouped}, key=lambda i: [x["id"] for x in lex.issues].index(i)
                          if lex.issue(i) else 999)
    actors_out = []
    for a in extraction.get("actors", []):
        if kinds.get(a["id"]) == "media":
            continue
        names = {k: v for k, v in (a.get("names") or {}).items() if v}
        if "en" not in names:
            names["en"] = a["id"]
        seen_alias: list[str] = []
        for m in a.get("mentions", []):
            sfc = m["surface"]
            if sfc not in seen_alias and sfc not in names.values() and len(seen_alias) < 6:
                seen_alias.append(sfc)
        actors_out.append({
            "id": a["id"],
            "names": names,
            "aliases": seen_alias,
            "kind": kinds.get(a["id"]) or "movement",
            "capability": {"low": 0.0, "mode": 0.5, "high": 1.0},
            "note": f"found {len(a.get('mentions', []))} time(s) in {src_id}; capability is a placeholder range",
        })
    actor_ids = {a["id"] for a in actors_out}

    issues_out = []
    for iid in issues_found:
        spec = lex.issue(iid) or {"id": iid, "title": iid}
        anchors = spec.get("anchors") or [{"value": 0, "label": "oppose"}, {"value": 100, "label": "support"}]
        issues_out.append({
            "id": iid,
            "title": str(spec.get("title") or iid),
            "description": f"support = {spec.get('support', 'the higher end of the scale')}; "
                           "scale is a 0-100 placeholder for the analyst",
            "scale": {"min": 0, "max": 100, "anchors": [dict(x) for x in anchors]},
        })

    stances_out = []
    for (aid, iid), g in grouped.items():
        if aid not in actor_ids:
            continue
        sup, opp = g["dirs"].count("support"), g["dirs"].count("oppose")
        lean = "support" if sup > opp else "oppose" if opp > sup else "mixed"
        stances_out.append({
            "actor": aid,
            "issue": iid,
            "position": {"low": 0.0, "mode": 50.0, "high": 100.0},
            "salience": {"low": 0.0, "mode": 0.5, "high": 1.0},
            "evidence": g["evidence"],
            "note": f"candidate stance, cues lean {lean} ({sup} support, {opp} oppose); {PLACEHOLDER_NOTE}",
        })

    sources = [{
        "id": src_id,
        "title": str(meta.get("title") or src_id),
        "publisher": str(meta.get("publisher") or ""),
        "language": str(meta.get("language") or "ar"),
        "locator": "paragraph",
    }]
    if date:
        sources[0]["date"] = date.isoformat()
    if not issues_out:
        # an arena needs an issue; keep a placeholder the analyst will replace
        issues_out.append({"id": "issue-1", "title": "placeholder issue (no stance cue found)",
                           "scale": {"min": 0, "max": 100}})
    if not actors_out:
        actors_out.append({"id": "actor-1", "names": {"en": "placeholder actor (none found)"},
                           "kind": "movement"})
    return {
        "format": "tawazun-arena/1",
        "arena": {
            "id": str(meta.get("arena_id") or f"draft-{src_id}"),
            "title": str(meta.get("arena_title") or f"Draft arena from {meta.get('title') or src_id}"),
            "as_of": as_of.isoformat(),
            "description": "Drafted by `tawazun extract`: actors, issues and candidate stances found in the "
                           "text; every position, salience and capability is a wide placeholder.",
            "salience_scale": "unit",
        },
        "sources": sources,
        "actors": actors_out,
        "issues": issues_out,
        "stances": stances_out,
    }
