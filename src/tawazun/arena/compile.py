"""Arena -> typed arrays (the engines' only input).

An issue that belongs to a space is bargained as part of that space; any other issue is a
space of one. Actors without a stance on some issue of a space sit at that issue's status
quo (or the scale midpoint) with zero salience there, so they neither pull nor care.
Context actors (``role: context``) are not compiled at all.
"""

from __future__ import annotations

import numpy as np

from tawazun.arena.model import Arena, triplet
from tawazun.engines.base import RangedProblem
from tawazun.errors import InputError


def units(arena: Arena) -> list[tuple[str, list[str]]]:
    """Bargaining units in file order: (space or issue id, its issue ids)."""
    out: list[tuple[str, list[str]]] = []
    done: set[str] = set()
    for issue in arena.issues:
        if issue.id in done:
            continue
        space = arena.space_of(issue.id)
        if space is None:
            out.append((issue.id, [issue.id]))
            done.add(issue.id)
        else:
            out.append((space.id, list(space.issues)))
            done.update(space.issues)
    return out


def unit_issues(arena: Arena, unit_id: str) -> list[str]:
    for space in arena.spaces:
        if space.id == unit_id:
            return list(space.issues)
    if any(i.id == unit_id for i in arena.issues):
        return [unit_id]
    known = [u for u, _ in units(arena)]
    raise InputError(f"{arena.meta.id}: unknown issue or space {unit_id!r}; known: {', '.join(known)}")


def ranged_problem(arena: Arena, unit_id: str, *, joint: bool = True) -> RangedProblem:
    """Arrays for one issue, or one space of issues (``joint=False``: the issue alone)."""
    issue_ids = unit_issues(arena, unit_id) if joint else [unit_id]
    issues = [arena.issue(i) for i in issue_ids]
    d = len(issues)
    smax = arena.salience_max
    by_pair = {(s.actor, s.issue): s for s in arena.stances}
    # Context actors (role: context) are described in the arena but bargain nowhere: leaving
    # them out here keeps them out of every engine, the Monte Carlo, sensitivity and exports.
    actors = [a for a in arena.bargainers if any((a.id, i) in by_pair for i in issue_ids)]
    if not actors:
        raise InputError(f"{arena.meta.id}: no bargaining actor has a stance on {unit_id!r}")
    n = len(actors)
    pos = np.zeros((3, n, d))
    sal = np.zeros((3, n, d))
    cap = np.zeros((3, n))
    sq = np.zeros((3, d))
    has_sq = all(i.status_quo is not None for i in issues)
    for k, issue in enumerate(issues):
        rest = triplet(issue.status_quo) if issue.status_quo is not None else \
            (0.5 * (issue.scale.min + issue.scale.max),) * 3
        sq[:, k] = rest
        for a_idx, actor in enumerate(actors):
            stance = by_pair.get((actor.id, issue.id))
            if stance is None:
                pos[:, a_idx, k] = rest
                continue
            pos[:, a_idx, k] = triplet(stance.position)
            sal[:, a_idx, k] = np.array(triplet(stance.salience)) / smax
    for a_idx, actor in enumerate(actors):
        # Capability: the first stance in the unit that overrides it, else the actor default.
        chosen = None
        for issue in issues:
            st = by_pair.get((actor.id, issue.id))
            if st is not None and st.capability is not None:
                chosen = st.capability
                break
        if chosen is None:
            chosen = actor.capability
        cap[:, a_idx] = triplet(chosen)
    return RangedProblem(
        actors=tuple(a.id for a in actors),
        dims=tuple(issue_ids),
        position=pos,
        salience=sal,
        capability=cap,
        lower=np.array([i.scale.min for i in issues]),
        upper=np.array([i.scale.max for i in issues]),
        status_quo=sq if has_sq else None,
    )
