"""Read an arena file: YAML -> line map -> pydantic model -> whole-arena checks.

Every problem found is reported, one line each, as ``file:line: field.path: message``,
by raising :class:`tawazun.errors.InputError`. Nothing is written anywhere.
"""

from __future__ import annotations

import hashlib
from importlib import resources
from pathlib import Path
from typing import Any, Callable

from pydantic import ValidationError

from tawazun.arena.checks import check_arena, forecast_problems
from tawazun.arena.model import (
    Actor, Arena, ArenaMeta, Issue, Relation, ScenariosSection, SectionProblems, Source, Space, Stance,
)
from tawazun.arena.yamlsafe import format_path, load_document  # noqa: F401 - format_path re-exported
from tawazun.errors import InputError
from tawazun.files import read_text

SHIPPED = {"iraq-2021": "iraq-2021.yaml"}
DEFAULT_ARENA = "iraq-2021"

LinePath = tuple[str | int, ...]

#: Arena files are hand-written or generated from a handful of sources: the shipped one is
#: 70 kB. A cap keeps a mistaken or hostile file from costing minutes and gigabytes.
MAX_ARENA_BYTES = 5 * 1024 * 1024


def shipped_path(name: str = DEFAULT_ARENA) -> Path:
    """Path of an arena shipped inside the package."""
    return Path(str(resources.files("tawazun") / "data" / SHIPPED[name]))


def resolve(arena: str | Path | None) -> Path:
    """A file path, or the name of a shipped arena, or None for the default arena."""
    if arena is None:
        return shipped_path()
    if str(arena) in SHIPPED and not Path(arena).exists():
        return shipped_path(str(arena))
    return Path(arena)


def _line_for(lines: dict[LinePath, int], path: LinePath) -> int:
    # Walk up until a path with a known line (missing fields point at their parent).
    p = tuple(path)
    while p and p not in lines:
        p = p[:-1]
    return lines.get(p, 1)


def _clean_loc(loc: tuple[Any, ...]) -> LinePath:
    """Pydantic locations include union-branch tags (e.g. 'float', 'Range'); drop them."""
    out: list[str | int] = []
    for part in loc:
        if isinstance(part, str) and (part in {"float", "Range", "int", "str", "none", "dict[str,any]",
                                               "date", "Period"}
                                      or part.startswith(("function-", "literal["))):
            continue
        out.append(part)
    return tuple(out)


def pydantic_problems(exc: ValidationError) -> list[tuple[LinePath, str]]:
    """(path, message) per location: THE formatter of validation errors for every part of the
    format (the arena and its scenarios section, alone or nested).

    One message per location (union branches produce several errors for one field); a
    validator that found several problems (:class:`SectionProblems`) gives one each.
    """
    by_path: dict[LinePath, list[str]] = {}

    def add(path: LinePath, msg: str) -> None:
        by_path.setdefault(path, [])
        if msg not in by_path[path]:
            by_path[path].append(msg)

    for err in exc.errors():
        path = _clean_loc(tuple(err["loc"]))
        found = (err.get("ctx") or {}).get("error")
        if isinstance(found, SectionProblems):
            for sub, msg in found.problems:
                add(path + tuple(sub), msg)
            continue
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling)"
        elif err["type"] == "missing":
            msg = "required field is missing"
        add(path, msg)
    out = []
    for path, msgs in by_path.items():
        # A number-or-range field reports both branches; the range message is the informative
        # one, and "not a range" says nothing when the number branch has a reason of its own.
        informative = ([m for m in msgs if "range must" in m]
                       or [m for m in msgs if "instance of Range" not in m] or msgs)
        out.append((path, informative[0] if len(informative) == 1 else "; ".join(informative)))
    return out


_pydantic_messages = pydantic_problems  # the name other modules used before


def parse_arena_text(text: str, filename: str = "<arena>",
                     edit: Callable[[dict[str, Any]], None] | None = None, *, forecast: bool = False) -> Arena:
    """Parse and validate arena YAML text; raise InputError with every problem.

    ``edit(data)`` changes the parsed document in place before validation (what-if changes
    in memory): problems then still point at the file's lines. ``forecast=True`` also
    refuses arenas that are valid but cannot be forecast (no stances, an issue without one,
    nothing weighing on an issue): see checks.forecast_problems."""
    check_size(len(text.encode("utf-8")), filename)
    data, lines = load_document(text, filename)
    if not isinstance(data, dict):
        raise InputError(f"{filename}:1: (document): an arena file must be a YAML mapping")
    if edit is not None:
        edit(data)

    def fmt(path: LinePath, msg: str) -> str:
        return f"{filename}:{_line_for(lines, path)}: {format_path(path)}: {msg}"

    arena, problems, index_maps = _validate(data)
    if arena is not None:
        raw_ids = {
            section: {str(item.get("id")) for item in data.get(section) or [] if isinstance(item, dict)}
            for section in ("sources", "actors", "issues")
        }
        found = check_arena(arena, known=raw_ids)
        if forecast:
            found += list(forecast_problems(arena))
        for path, msg in found:
            # a partial arena holds only valid items: map indices back to the file's
            if len(path) >= 2 and path[0] in index_maps and isinstance(path[1], int):
                path = (path[0], index_maps[path[0]][path[1]]) + tuple(path[2:])
            problems.append((path, msg))
    if problems:
        raise InputError([fmt(p, m) for p, m in problems])
    assert arena is not None
    return arena


_SECTIONS = {
    "sources": Source, "actors": Actor, "issues": Issue, "spaces": Space,
    "stances": Stance, "relations": Relation,
}


def _validate(
    data: dict[str, Any],
) -> tuple[Arena | None, list[tuple[LinePath, str]], dict[str, list[int]]]:
    """Validate item by item so one bad entry does not hide the problems of the others.

    Returns a (possibly partial) arena built from the valid items for the cross-checks,
    or None when the document's frame itself is unusable.
    """
    try:
        return Arena.model_validate(data), [], {}
    except ValidationError as exc:
        whole = pydantic_problems(exc)
    problems: list[tuple[LinePath, str]] = []
    parts: dict[str, Any] = {}
    index_maps: dict[str, list[int]] = {}
    for path, msg in whole:  # errors outside the item lists (frame, arena, format, ...)
        if not (len(path) >= 2 and path[0] in _SECTIONS and isinstance(path[1], int)):
            problems.append((path, msg))
    for section, model in _SECTIONS.items():
        good = []
        index_maps[section] = []
        for idx, item in enumerate(data.get(section) or [] if isinstance(data.get(section), list) else []):
            try:
                good.append(model.model_validate(item))
                index_maps[section].append(idx)
            except ValidationError as item_exc:
                problems.extend(((section, idx) + p, m) for p, m in pydantic_problems(item_exc))
        parts[section] = good
    try:
        meta = ArenaMeta.model_validate(data.get("arena"))
    except ValidationError:
        return None, problems, index_maps
    try:  # its problems, if any, are already in `whole`
        scen = None if data.get("scenarios") is None else ScenariosSection.model_validate(data["scenarios"])
    except ValidationError:
        scen = None
    dyn = data.get("dynamics")
    partial = Arena.model_construct(arena=meta, scenarios=scen, dynamics=dyn if isinstance(dyn, dict) else None,
                                    **parts)
    return partial, problems, index_maps


def check_size(n_bytes: int, filename: str) -> None:
    if n_bytes > MAX_ARENA_BYTES:
        raise InputError(f"{filename}:1: (document): {n_bytes / 2**20:.1f} MB; arena files are limited to "
                         f"{MAX_ARENA_BYTES // 2**20} MB")


def load_arena(arena: str | Path | None = None, *, forecast: bool = False) -> Arena:
    """Load and validate an arena by path or shipped name (None: the default arena);
    ``forecast=True``: also refuse arenas that cannot be forecast (see parse_arena_text)."""
    path = resolve(arena)
    try:
        check_size(path.stat().st_size, str(path))  # before reading it into memory
    except OSError:
        pass  # read_text says what is wrong with the path
    return parse_arena_text(read_text(path, "YAML arena file"), str(path), forecast=forecast)


def arena_hash(arena: str | Path | None = None) -> str:
    """sha256 of the arena file's bytes (for run manifests)."""
    return hashlib.sha256(resolve(arena).read_bytes()).hexdigest()


def json_schema() -> dict[str, Any]:
    schema = Arena.model_json_schema(by_alias=True)
    schema["$id"] = "https://tawazun.invalid/schema/arena-1.json"
    schema["title"] = "tawazun arena (format tawazun-arena/1)"
    return schema
