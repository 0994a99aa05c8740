"""The web workspace on disk: arena files, their history, source texts (no HTTP here).

Layout::

    <workspace>/arenas/<name>.yaml        editable arenas (name: [A-Za-z0-9_-]+)
    <workspace>/history/<name>.<stamp>.yaml   the previous version of each saved arena
    <workspace>/sources/<source-id>.txt   optional source texts, one paragraph per line
    <workspace>/runs.sqlite               runs (see :mod:`tawazun.web.runs`)
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import logging
import re
import shutil
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import yaml

from tawazun.arena import parse_arena_text
from tawazun.arena.checks import forecast_problems
from tawazun.arena.load import DEFAULT_ARENA, check_size, shipped_path
from tawazun.arena.model import Arena
from tawazun.arena.yamlsafe import load_document
from tawazun.errors import InputError
from tawazun.files import atomic_write_text
from tawazun.files import read_text as read_user_text

log = logging.getLogger("tawazun.web")

NAME_RE = re.compile(r"^[A-Za-z0-9_-]{1,100}$")
# Source ids become file names: no separators, no leading dot.
SOURCE_RE = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,99}$")
# "¶4", "¶4-6", "¶4–¶6", "¶4, ¶7"
_PARA_RE = re.compile(r"¶\s*(\d+)(?:\s*[-–—]\s*¶?\s*(\d+))?")


class BadName(ValueError):
    """An arena or source name that may not be used as a file name."""


class NotFound(LookupError):
    pass


def check_name(name: str) -> str:
    if not NAME_RE.fullmatch(name or ""):
        raise BadName(f"invalid arena name {name!r}: use letters, digits, '-' and '_' only")
    return name


def dump_yaml(data: Any) -> str:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)


def cited_paragraphs(locator: str) -> list[int]:
    """Paragraph numbers cited by a locator such as '¶4', '¶4–¶6' or '¶2, ¶9'."""
    out: list[int] = []
    for m in _PARA_RE.finditer(locator or ""):
        a = int(m.group(1))
        b = int(m.group(2)) if m.group(2) else a
        if b < a or b - a > 50:
            b = a
        out.extend(k for k in range(a, b + 1) if k not in out)
    return out


# Parsing YAML in pure Python is the slow part of every page (~0.5 s for the shipped arena),
# so parsed arenas are kept by (file name shown in messages, sha256 of the text).
_CACHE: OrderedDict[tuple[str, str], tuple[Arena | None, list[str], Any]] = OrderedDict()
_CACHE_SIZE = 32
_CACHE_LOCK = threading.Lock()


def _remember(text: str, display: str, value: tuple[Arena | None, list[str], Any]) -> None:
    key = (display, hashlib.sha256(text.encode("utf-8")).hexdigest())
    with _CACHE_LOCK:
        _CACHE[key] = value
        _CACHE.move_to_end(key)
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)


def _parse_cached(text: str, display: str) -> tuple[Arena | None, list[str], Any]:
    """(arena or None, loader lines, raw document or None) of an arena text."""
    key = (display, hashlib.sha256(text.encode("utf-8")).hexdigest())
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        return hit
    arena: Arena | None = None
    lines: list[str] = []
    data: Any = None
    try:
        arena = parse_arena_text(text, display)
    except InputError as exc:
        lines = exc.lines
    except Exception:  # noqa: BLE001 - a loader bug must not take the whole index down
        log.exception("unexpected error loading %s", display)
        lines = [f"{display}:1: (document): this file could not be read (the server log has the details)"]
    # the raw document (for editing a file that does not validate), read with the same
    # bounds as the loader: no alias bombs, no duplicate keys
    try:
        data, _ = load_document(text, display)
    except Exception:  # noqa: BLE001 - InputError, or a bug: either way no document
        data = None
    _remember(text, display, (arena, lines, data))
    return arena, lines, data


def parse_cached(text: str, display: str, *, forecast: bool = False) -> Arena:
    """parse_arena_text with the cache: the validated arena, or InputError. ``forecast``:
    also refuse an arena that cannot be forecast (parsed again for the line numbers)."""
    arena, lines, _ = _parse_cached(text, display)
    if arena is None:
        raise InputError(lines or [f"{display}:1: (document): an arena file must be a YAML mapping"])
    if forecast and any(True for _ in forecast_problems(arena)):
        parse_arena_text(text, display, forecast=True)  # raises InputError with file:line messages
    return arena


class Workspace:
    def __init__(self, root: Path | str):
        self.root = Path(root).resolve()
        self.arenas_dir = self.root / "arenas"
        self.history_dir = self.root / "history"
        self.sources_dir = self.root / "sources"
        self.db_path = self.root / "runs.sqlite"
        self._lock = threading.RLock()

    # ---- setup ---------------------------------------------------------------------------
    def init(self) -> None:
        """Create the folders; copy the shipped arena in when the workspace has no arenas yet."""
        for d in (self.arenas_dir, self.history_dir, self.sources_dir):
            d.mkdir(parents=True, exist_ok=True)
        if not any(self.arenas_dir.glob("*.yaml")):
            shutil.copyfile(shipped_path(DEFAULT_ARENA), self.arenas_dir / f"{DEFAULT_ARENA}.yaml")

    # ---- arenas --------------------------------------------------------------------------
    def arena_names(self) -> list[str]:
        return sorted(p.stem for p in self.arenas_dir.glob("*.yaml") if NAME_RE.fullmatch(p.stem))

    def arena_path(self, name: str) -> Path:
        check_name(name)
        path = (self.arenas_dir / f"{name}.yaml").resolve()
        if path.parent != self.arenas_dir.resolve():  # belt and braces: never leave arenas/
            raise BadName(f"invalid arena name {name!r}")
        return path

    def display_name(self, name: str) -> str:
        """The file name used in messages (the same shape as the CLI's `file:line:`)."""
        return f"arenas/{name}.yaml"

    def read_text(self, name: str) -> str:
        path = self.arena_path(name)
        if not path.is_file():
            raise NotFound(f"no arena named {name!r} in the workspace")
        display = self.display_name(name)
        check_size(path.stat().st_size, display)  # before reading a huge file into memory
        try:
            return read_user_text(path, "YAML arena file")
        except InputError as exc:  # binary or not UTF-8: say it with the workspace's file name
            raise InputError([f"{display}:1: (document): {line.split(': ', 1)[-1]}" for line in exc.lines]) from None

    def _entry(self, name: str) -> tuple[Arena | None, list[str], Any]:
        try:
            text = self.read_text(name)
        except InputError as exc:  # too large, binary, not UTF-8: listed as invalid, not fatal
            return None, exc.lines, None
        return _parse_cached(text, self.display_name(name))

    def load(self, name: str) -> Arena:
        """The validated arena (raises InputError with the loader's lines)."""
        arena, lines, _ = self._entry(name)
        if arena is None:
            raise InputError(lines)
        return arena

    def load_data(self, name: str) -> dict[str, Any]:
        """The raw YAML document (read with the bounded loader), a private copy for editing."""
        _, lines, data = self._entry(name)
        if data is None and lines:
            raise InputError(lines)
        if not isinstance(data, dict):
            raise InputError(f"{self.display_name(name)}:1: (document): an arena file must be a YAML mapping")
        return copy.deepcopy(data)

    def validate_data(self, name: str, data: dict[str, Any]) -> tuple[str, Arena]:
        """Dump a document to YAML and validate it with the loader; (text, arena) or InputError."""
        text = dump_yaml(data)
        return text, parse_arena_text(text, self.display_name(name))

    def save_data(self, name: str, data: dict[str, Any], *, create: bool = False) -> tuple[Arena, str | None]:
        """Validate, keep the current file in history/, then write atomically.

        Returns (arena, history file name or None). Nothing is written when invalid.
        """
        text, arena = self.validate_data(name, data)
        path = self.arena_path(name)
        with self._lock:
            kept = None
            if path.exists():
                kept = self._keep_history(name, path)
            elif not create:
                raise NotFound(f"no arena named {name!r} in the workspace")
            atomic_write_text(path, text)
            _remember(text, self.display_name(name), (arena, [], copy.deepcopy(data)))
        return arena, kept

    def _keep_history(self, name: str, path: Path) -> str:
        self.history_dir.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        target = self.history_dir / f"{name}.{stamp}.yaml"
        atomic_write_text(target, path.read_text(encoding="utf-8"))
        return target.name

    def history(self, name: str) -> list[str]:
        check_name(name)
        return sorted((p.name for p in self.history_dir.glob(f"{name}.*.yaml")), reverse=True)

    # ---- edits on the raw document -------------------------------------------------------
    @staticmethod
    def with_stance(data: dict[str, Any], index: int, fields: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(data)
        stances = new.get("stances")
        if not isinstance(stances, list) or not (0 <= index < len(stances)) or not isinstance(stances[index], dict):
            raise NotFound(f"no stance number {index}")
        st = stances[index]
        for key, value in fields.items():
            if value is None:
                st.pop(key, None)
            else:
                st[key] = value
        return new

    @staticmethod
    def with_actor(data: dict[str, Any], actor_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        new = copy.deepcopy(data)
        actors = new.get("actors") if isinstance(new.get("actors"), list) else []
        for actor in actors:
            if isinstance(actor, dict) and str(actor.get("id")) == actor_id:
                for key, value in fields.items():
                    if value is None:
                        actor.pop(key, None)
                    else:
                        actor[key] = value
                return new
        raise NotFound(f"no actor {actor_id!r}")

    # ---- sources -------------------------------------------------------------------------
    def source_paragraphs(self, source_id: str) -> list[str] | None:
        """Paragraphs (non-empty lines) of sources/<id>.txt, or None when absent."""
        if not SOURCE_RE.fullmatch(source_id or ""):
            return None
        path = (self.sources_dir / f"{source_id}.txt").resolve()
        if path.parent != self.sources_dir.resolve() or not path.is_file():
            return None
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return [line.strip() for line in text.splitlines() if line.strip()]
