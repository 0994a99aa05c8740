"""KTAB CSV files <-> arena dicts (format tawazun-arena/1).

KTAB's SMP reads one scenario per CSV file:

    line 1:  scenario name, description, number of actors, number of dimensions
    line 2:  header: Actor, Description, Influence, then Position, Salience per dimension
    line 3+: actor name, description, capability, then position (0-100) and salience
             (0-100, summed over the dimensions at most 100) per dimension

Lines may end with a trailing comma. Reading gives one issue per dimension on a 0-100
scale, a space joining them when there are several, the saliences as percent
(``salience_scale: percent``), each actor's capability as its default, and every stance
citing the file (``source: <file stem>``, ``locator: "row N"`` with N the file's line).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tawazun.arena.compile import ranged_problem
from tawazun.arena.model import Arena
from tawazun.errors import InputError
from tawazun.files import read_text

DEFAULT_KIND = "party"  # KTAB records no kind of actor


def _slug(text: str, fallback: str) -> str:
    s = re.sub(r"[^A-Za-z0-9_.-]+", "-", text.strip()).strip("-.")
    s = re.sub(r"^[^A-Za-z0-9]+", "", s)
    return s or fallback


def _unique(ident: str, taken: set[str]) -> str:
    out, k = ident, 2
    while out in taken:
        out = f"{ident}-{k}"
        k += 1
    taken.add(out)
    return out


def _fields(line: str) -> list[str]:
    row = next(csv.reader([line], skipinitialspace=True), [])
    row = [f.strip() for f in row]
    while row and row[-1] == "":
        row.pop()  # KTAB lines end with a comma
    return row


def _number(text: str, where: str, problems: list[str], lo: float | None = None,
            hi: float | None = None) -> float | None:
    try:
        v = float(text)
    except ValueError:
        problems.append(f"{where}: not a number: {text!r}")
        return None
    if not math.isfinite(v):
        problems.append(f"{where}: not a finite number: {text!r}")
        return None
    if lo is not None and v < lo or hi is not None and v > hi:
        rng = f"[{lo:g}, {hi:g}]" if hi is not None else f">= {lo:g}"
        problems.append(f"{where}: {v:g} outside {rng}")
        return None
    return v


def _int(text: str, where: str, problems: list[str]) -> int | None:
    try:
        v = int(text)
    except ValueError:
        problems.append(f"{where}: not a whole number: {text!r}")
        return None
    if v < 1:
        problems.append(f"{where}: must be at least 1, got {v}")
        return None
    return v


def read_ktab_csv(path: str | Path, *, as_of: dt.date | str | None = None,
                  kind: str = DEFAULT_KIND) -> dict[str, Any]:
    """An arena dict (v1 format) from a KTAB SMP CSV file; InputError lists every problem.

    ``as_of`` defaults to today (a KTAB file carries no date); ``kind`` is given to every
    actor (KTAB records none).
    """
    if as_of is None or isinstance(as_of, dt.date):
        when = as_of or dt.date.today()
    else:
        try:
            when = dt.date.fromisoformat(str(as_of))
        except ValueError:
            raise InputError(f"--as-of: not a date (YYYY-MM-DD): {str(as_of)[:40]!r}") from None
    path = Path(path)
    name = str(path)
    text = read_text(path, "KTAB CSV file")

    lines = text.splitlines()
    problems: list[str] = []
    numbered = [(k + 1, _fields(line)) for k, line in enumerate(lines)]
    numbered = [(ln, row) for ln, row in numbered if row and any(row)]
    if len(numbered) < 2:
        raise InputError(f"{name}:1: (file): a KTAB CSV needs a scenario line and a header line")
    (l1, head), (l2, header) = numbered[0], numbered[1]
    if len(head) < 4:
        raise InputError(f"{name}:{l1}: scenario: expected name, description, actors, dimensions; "
                         f"got {len(head)} field(s)")
    n_act = _int(head[2], f"{name}:{l1}: actors", problems)
    n_dim = _int(head[3], f"{name}:{l1}: dimensions", problems)
    if problems:
        raise InputError(problems)
    assert n_act is not None and n_dim is not None
    width = 3 + 2 * n_dim
    if len(header) < width:
        raise InputError(f"{name}:{l2}: header: expected {width} columns for {n_dim} dimension(s) "
                         f"(Actor, Description, Influence, then position and salience per "
                         f"dimension), got {len(header)}")
    dim_names = [header[3 + 2 * k] or f"Dimension {k + 1}" for k in range(n_dim)]
    sal_names = [header[4 + 2 * k] or f"Salience {k + 1}" for k in range(n_dim)]
    rows = numbered[2:]
    if len(rows) != n_act:
        at = rows[-1][0] if rows else l2
        problems.append(f"{name}:{at}: actors: line {l1} declares {n_act} actor(s), "
                        f"the file has {len(rows)}")

    stem = path.stem
    source_id = stem
    taken_issue: set[str] = set()
    issue_ids = [_unique(_slug(dn, f"dim{k + 1}"), taken_issue) for k, dn in enumerate(dim_names)]
    actors: list[dict[str, Any]] = []
    stances: list[dict[str, Any]] = []
    taken_actor: set[str] = set()
    seen_names: dict[str, int] = {}
    for ln, row in rows:
        where = f"{name}:{ln}"
        if len(row) < width:
            problems.append(f"{where}: (row): expected {width} fields, got {len(row)}")
            continue
        a_name, a_desc = row[0], row[1]
        if not a_name:
            problems.append(f"{where}: {header[0] or 'Actor'}: empty actor name")
            continue
        if a_name in seen_names:
            problems.append(f"{where}: {header[0] or 'Actor'}: duplicate actor {a_name!r} "
                            f"(first at line {seen_names[a_name]})")
            continue
        seen_names[a_name] = ln
        cap = _number(row[2], f"{where}: {header[2] or 'Influence'}", problems, lo=0.0)
        pos, sal = [], []
        for k in range(n_dim):
            pos.append(_number(row[3 + 2 * k], f"{where}: {dim_names[k]}", problems, 0.0, 100.0))
            sal.append(_number(row[4 + 2 * k], f"{where}: {sal_names[k]}", problems, 0.0, 100.0))
        if all(v is not None for v in sal):
            total = sum(v for v in sal if v is not None)
            if total > 100.0 + 1e-9:
                problems.append(f"{where}: {sal_names[-1]}: saliences sum to {total:g} > 100")
        if cap is None or any(v is None for v in pos + sal):
            continue
        actor_id = _unique(_slug(a_name, f"actor{len(actors) + 1}"), taken_actor)
        actor: dict[str, Any] = {"id": actor_id, "names": {"en": a_desc or a_name}}
        if a_name != actor_id:
            actor["aliases"] = [a_name]
        actor.update({"kind": kind, "capability": cap})
        actors.append(actor)
        for k in range(n_dim):
            stances.append({
                "actor": actor_id,
                "issue": issue_ids[k],
                "position": pos[k],
                "salience": sal[k],
                "evidence": [{"source": source_id, "locator": f"row {ln}"}],
            })
    if problems:
        raise InputError(problems)

    arena: dict[str, Any] = {
        "format": "tawazun-arena/1",
        "arena": {
            "id": _slug(stem, "ktab"),
            "title": head[0] or stem,
            "as_of": when,
            "description": head[1],
            "salience_scale": "percent",
        },
        "sources": [{
            "id": source_id,
            "title": f"KTAB SMP input file {path.name}",
            "publisher": "KTAB (KAPSARC Toolkit for Behavioral Analysis) CSV",
            "language": "en",
            "locator": "row",
        }],
        "actors": actors,
        "issues": [
            {"id": issue_ids[k], "title": dim_names[k], "scale": {"min": 0.0, "max": 100.0}}
            for k in range(n_dim)
        ],
    }
    if n_dim > 1:
        arena["spaces"] = [{"id": _unique(_slug(stem, "space") + "-space", set(issue_ids)),
                            "title": head[0] or stem, "issues": list(issue_ids)}]
    arena["stances"] = stances
    return arena


def _num(v: float) -> str:
    v = float(v)
    if v == 0:
        return "0"
    if v.is_integer() and abs(v) < 1e15:
        return str(int(v))
    return repr(v)


def _as_arena(arena: Any) -> Arena:
    if isinstance(arena, Arena):
        return arena
    try:
        return Arena.model_validate(arena)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            loc = ".".join(str(p) for p in err["loc"])
            lines.append(f"<arena>: {loc}: {err['msg']}")
        raise InputError(lines) from None


def _export_issues(arena: Arena, unit: str | None) -> list[str]:
    if unit is not None:
        for space in arena.spaces:
            if space.id == unit:
                return list(space.issues)
        if any(i.id == unit for i in arena.issues):
            return [unit]
        known = [s.id for s in arena.spaces] + [i.id for i in arena.issues]
        raise InputError(f"{arena.meta.id}: unknown issue or space {unit!r}; known: {', '.join(known)}")
    if len(arena.issues) == 1:
        return [arena.issues[0].id]
    all_ids = {i.id for i in arena.issues}
    for space in arena.spaces:
        if set(space.issues) == all_ids:
            return list(space.issues)
    known = [s.id for s in arena.spaces] + [i.id for i in arena.issues]
    raise InputError(f"{arena.meta.id}: a KTAB file holds one issue or one space; choose one "
                     f"with --unit: {', '.join(known)}")


def unit_of(arena: Arena, issue_ids: list[str]) -> str:
    """The space holding exactly these issues."""
    return next(sp.id for sp in arena.spaces if list(sp.issues) == list(issue_ids))


def ktab_csv_text(arena: Any, unit: str | None = None) -> str:
    """The KTAB CSV text of one issue or space of an arena (modes of ranges)."""
    a = _as_arena(arena)
    issue_ids = _export_issues(a, unit)
    issues = [a.issue(i) for i in issue_ids]
    # The arena compiler already decides capabilities and missing stances; export its modes.
    rp = ranged_problem(a, issue_ids[0] if len(issue_ids) == 1 else unit_of(a, issue_ids)).point()
    names = {x.id: x.names.en for x in a.actors}
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([a.meta.title, a.meta.description, len(rp.actors), len(issues), ""])
    header = ["Actor", "Description", "Influence"]
    for issue in issues:
        header += [issue.title, f"Salience: {issue.title}"]
    w.writerow(header + [""])
    for k, actor_id in enumerate(rp.actors):
        row: list[str] = [actor_id, names[actor_id], _num(float(rp.capability[0, k]))]
        for j, issue in enumerate(issues):
            lo, hi = issue.scale.min, issue.scale.max
            pos = float(rp.position[0, k, j])
            pct = pos if (lo, hi) == (0.0, 100.0) else float(f"{(pos - lo) * 100.0 / (hi - lo):.12g}")
            spct = float(f"{float(rp.salience[0, k, j]) * 100.0:.12g}")
            row += [_num(min(100.0, max(0.0, pct))), _num(spct)]
        w.writerow(row + [""])
    return buf.getvalue()


def write_ktab_csv(arena: Any, path: str | Path, unit: str | None = None) -> None:
    """Write one issue or space of an arena (dict or Arena) as a KTAB SMP CSV file.

    Positions are mapped linearly from each issue's scale onto 0-100, saliences to percent,
    ranges give their modes, an actor's capability is its first stance override in the unit
    or else its default, and an actor without a stance on one of the issues sits at the
    status quo (or the scale midpoint) with zero salience there. The actor id is KTAB's
    name, its English name KTAB's description.
    """
    from tawazun.files import atomic_write_text

    atomic_write_text(path, ktab_csv_text(arena, unit))
