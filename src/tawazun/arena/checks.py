"""Whole-arena checks: every cross-reference and range rule, each problem with its path.

A path is a tuple of keys and list indices into the YAML document, e.g.
``("stances", 3, "salience", "high")``; the loader turns it into a line number.
"""

from __future__ import annotations

from collections import Counter
from typing import Iterator

from tawazun.arena.model import Arena, Number, Range, triplet

Path = tuple[str | int, ...]
Problem = tuple[Path, str]


def _number_parts(value: Number, path: Path) -> Iterator[tuple[Path, float]]:
    if isinstance(value, Range):
        for key in ("low", "mode", "high"):
            yield path + (key,), getattr(value, key)
    else:
        yield path, float(value)


def _duplicates(items: list, key: str, section: str) -> Iterator[Problem]:
    seen: dict[str, int] = {}
    for idx, item in enumerate(items):
        ident = getattr(item, key)
        if ident in seen:
            yield (section, idx, key), f"duplicate id {ident!r} (first at {section}[{seen[ident]}])"
        else:
            seen[ident] = idx


def check_arena(arena: Arena, known: dict[str, set[str]] | None = None) -> list[Problem]:
    """All cross-reference and range problems. ``known`` adds ids of items that failed their
    own validation, so a bad actor entry does not also make every reference to it an error."""
    known = known or {}
    problems: list[Problem] = []
    add = problems.append
    for section in ("sources", "actors", "issues", "spaces"):
        problems.extend(_duplicates(getattr(arena, section), "id", section))

    source_ids = {s.id for s in arena.sources} | known.get("sources", set())
    actor_ids = {a.id for a in arena.actors}
    ref_actor_ids = actor_ids | known.get("actors", set())
    issues = {i.id: i for i in arena.issues}
    ref_issue_ids = set(issues) | known.get("issues", set())
    smax = arena.salience_max
    conv = "[0, 1] (salience_scale: unit)" if smax == 1.0 else "[0, 100] (salience_scale: percent)"

    for a_idx, actor in enumerate(arena.actors):
        if actor.role == "context" and not actor.note.strip():
            add((("actors", a_idx, "note"), "a context actor needs a note saying why it does not bargain"))
        if actor.capability is not None:
            for path, v in _number_parts(actor.capability, ("actors", a_idx, "capability")):
                if v < 0:
                    add((path, f"capability must be >= 0, got {v:g}"))

    for i_idx, issue in enumerate(arena.issues):
        lo, hi = issue.scale.min, issue.scale.max
        for k, anchor in enumerate(issue.scale.anchors):
            if not lo <= anchor.value <= hi:
                add((("issues", i_idx, "scale", "anchors", k, "value"),
                     f"anchor {anchor.value:g} outside the scale [{lo:g}, {hi:g}]"))
        if issue.status_quo is not None:
            for path, v in _number_parts(issue.status_quo, ("issues", i_idx, "status_quo")):
                if not lo <= v <= hi:
                    add((path, f"status quo {v:g} outside the scale [{lo:g}, {hi:g}]"))
        if issue.outcome is not None:
            if not lo <= issue.outcome.value <= hi:
                add((("issues", i_idx, "outcome", "value"),
                     f"outcome {issue.outcome.value:g} outside the scale [{lo:g}, {hi:g}]"))
            if issue.outcome.source is not None and issue.outcome.source not in source_ids:
                add((("issues", i_idx, "outcome", "source"),
                     f"unknown source {issue.outcome.source!r}"))

    in_space: dict[str, str] = {}
    for s_idx, space in enumerate(arena.spaces):
        for k, issue_id in enumerate(space.issues):
            if issue_id not in ref_issue_ids:
                add((("spaces", s_idx, "issues", k), f"unknown issue {issue_id!r}"))
            elif issue_id not in issues:
                continue
            elif issue_id in in_space:
                add((("spaces", s_idx, "issues", k),
                     f"issue {issue_id!r} is already in space {in_space[issue_id]!r}"))
            else:
                in_space[issue_id] = space.id

    pair_seen: dict[tuple[str, str], int] = {}
    for st_idx, stance in enumerate(arena.stances):
        base: Path = ("stances", st_idx)
        if stance.actor not in ref_actor_ids:
            add((base + ("actor",), f"unknown actor {stance.actor!r}"))
        if stance.issue not in ref_issue_ids:
            add((base + ("issue",), f"unknown issue {stance.issue!r}"))
        key = (stance.actor, stance.issue)
        if key in pair_seen:
            add((base, f"second stance of {stance.actor!r} on {stance.issue!r} "
                       f"(first at stances[{pair_seen[key]}])"))
        else:
            pair_seen[key] = st_idx
        issue = issues.get(stance.issue)
        if issue is not None:
            lo, hi = issue.scale.min, issue.scale.max
            for field in ("position", "declared"):
                value = getattr(stance, field)
                if value is None:
                    continue
                for path, v in _number_parts(value, base + (field,)):
                    if not lo <= v <= hi:
                        add((path, f"{field} {v:g} outside the scale of {issue.id!r} [{lo:g}, {hi:g}]"))
        for path, v in _number_parts(stance.salience, base + ("salience",)):
            if not 0.0 <= v <= smax:
                add((path, f"salience {v:g} outside {conv}"))
        if stance.capability is not None:
            for path, v in _number_parts(stance.capability, base + ("capability",)):
                if v < 0:
                    add((path, f"capability must be >= 0, got {v:g}"))
        elif (stance.actor in actor_ids and arena.actor(stance.actor).capability is None
              and arena.actor(stance.actor).role == "bargainer"):  # context actors are not weighed
            add((base, f"no capability: set it on the stance or on actor {stance.actor!r}"))
        for e_idx, ev in enumerate(stance.evidence):
            if ev.source not in source_ids:
                add((base + ("evidence", e_idx, "source"), f"unknown source {ev.source!r}"))

    # A stance's saliences across a space share one budget (they sum to <= 1 or <= 100).
    for s_idx, space in enumerate(arena.spaces):
        totals: Counter[str] = Counter()
        for stance in arena.stances:
            if stance.issue in space.issues:
                totals[stance.actor] += triplet(stance.salience)[1]
        for actor_id, total in sorted(totals.items()):
            if total > smax * (1 + 1e-9):
                add((("spaces", s_idx),
                     f"saliences of {actor_id!r} across space {space.id!r} sum to {total:g} > {smax:g}"))

    for r_idx, rel in enumerate(arena.relations):
        for field, alias in (("source", "from"), ("target", "to")):
            ident = getattr(rel, field)
            if ident not in ref_actor_ids:
                add((("relations", r_idx, alias), f"unknown actor {ident!r}"))

    if arena.scenarios is not None:
        # the section's own structure and cross-references are checked by its model
        for k, desc in enumerate(arena.scenarios.descriptors):
            for e_idx, ev in enumerate(desc.evidence):
                if ev.source not in source_ids:
                    add((("scenarios", "descriptors", k, "evidence", e_idx, "source"), f"unknown source {ev.source!r}"))
        for k, jd in enumerate(arena.scenarios.judgments):
            for e_idx, ev in enumerate(jd.evidence):
                if ev.source not in source_ids:
                    add((("scenarios", "judgments", k, "evidence", e_idx, "source"), f"unknown source {ev.source!r}"))
    if getattr(arena, "dynamics", None) is not None:
        from tawazun.dynamics.model import check_section as check_dynamics

        issue_ids = {i.id for i in arena.issues} | known.get("issues", set())
        descs = None
        if arena.scenarios is not None:
            descs = {d.id: [v.id for v in d.variants] for d in arena.scenarios.descriptors}
        problems.extend((("dynamics",) + tuple(p), m)
                        for p, m in check_dynamics(arena.dynamics, source_ids, issue_ids, descs))

    from tawazun.loop.questions import check_questions

    problems.extend(check_questions(arena))
    return problems


def forecast_problems(arena: Arena) -> Iterator[Problem]:
    """What a valid arena still needs before it can be forecast: stances, a stance on every
    issue, and on every issue one stance with both capability and salience above 0 (else
    an engine has nothing to weigh). Kept out of :func:`check_arena` because a draft
    arena in progress (e.g. from ``tawazun extract``) is a valid arena without stances."""
    if not arena.stances:
        yield ("stances",), "the arena has no stances: nothing to forecast (each issue needs at least one)"
        return
    actor_cap = {a.id: a.capability for a in arena.actors}
    for i_idx, issue in enumerate(arena.issues):
        on_issue = [st for st in arena.stances if st.issue == issue.id]
        if not on_issue:
            yield ("issues", i_idx), f"no stance on issue {issue.id!r}: every issue needs at least one"
            continue
        # modes, because point forecasts run at the modes; stances with an unknown
        # capability are reported elsewhere
        pairs = [(triplet(cap)[1], triplet(st.salience)[1]) for st in on_issue
                 if (cap := st.capability if st.capability is not None else actor_cap.get(st.actor)) is not None]
        if not pairs:
            continue
        if all(c == 0 for c, _ in pairs):
            yield ("issues", i_idx), (f"every capability on issue {issue.id!r} is 0 (at the modes): "
                                      "nobody can move the outcome")
        elif all(s == 0 for _, s in pairs):
            yield ("issues", i_idx), (f"every salience on issue {issue.id!r} is 0 (at the modes): "
                                      "nobody cares about the outcome")
        elif all(c * s == 0 for c, s in pairs):
            yield ("issues", i_idx), (f"no stance on issue {issue.id!r} has both capability and salience "
                                      "above 0 (at the modes): nothing weighs on the outcome")
