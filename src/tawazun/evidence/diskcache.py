"""Per-user disk caches of the evidence package (the folder and atomic writes: tawazun.cache) and compiled
regular expressions kept across processes.

Why the regex cache (issue #16): Python compiles a pattern in pure Python (``re._parser``
then ``re._compiler``), and the extractors' patterns (date grammar, stance cues, name
and number patterns, several hundred in all) took about a quarter of a fresh 10,000-word
extraction.  :func:`compile` keeps the compiled code of every pattern it is given in one
file per Python build (``regex-<tag>.marshal``, tag = checksum of ``sys.version`` and the
``_sre`` constants) and rebuilds the pattern object from it with ``_sre.compile``, the
same call ``re.compile`` ends with (it validates the code, so a damaged file raises
instead of misbehaving).  Entries are keyed by the pattern text and flags, so an entry is
never stale: a changed pattern is simply a new key.  No file, an unreadable, corrupt or
foreign file, a read-only folder, or a Python whose internals differ (checked once with
a canary pattern) all mean plain :func:`re.compile`, never an error.  New entries are
written once, at interpreter exit, atomically.
"""

from __future__ import annotations

import os
import re
import sys
from array import array
from typing import Any

from tawazun.cache import cache_dir, read_bytes, write_cache  # noqa: F401 - the evidence package's names for them


# ---------------------------------------------------------------- compiled regexes
# past this many entries the file is rewritten with this process's patterns only (the
# package's own are about 150; more come from custom lexicons); also bounds the memo
MAX_ENTRIES = 1000
_CANARY = r"(?<![\w])(?P<a>ab|c[de]{1,3}?)\s+(?:x|y)*(?=z)(?!\d)"

_CODE_TYPE = "I"  # unsigned int: _sre's code words are 4 bytes (checked in the tag)
_state: dict[str, Any] = {}  # "table", "new", "used", "ok", "path": set on first use
_memo: dict[tuple[Any, int], re.Pattern] = {}  # this process's compiled patterns


def _tag() -> str:
    import zlib

    import _sre

    sig = (f"{sys.version}|{_sre.MAGIC}|{_sre.CODESIZE}|{_sre.MAXREPEAT}|{_sre.MAXGROUPS}|"
           f"{sys.byteorder}|{array(_CODE_TYPE).itemsize}")
    return f"{sys.implementation.cache_tag}-{zlib.crc32(sig.encode()):08x}"


def _entry(pattern: str, flags: int) -> tuple:
    """What ``re._compiler.compile`` passes to ``_sre.compile`` (mirrors it exactly)."""
    from re import _compiler, _parser

    p = _parser.parse(pattern, flags)
    code = _compiler._code(p, flags)
    groupindex = dict(p.state.groupdict)
    indexgroup: list[str | None] = [None] * p.state.groups
    for k, i in groupindex.items():
        indexgroup[i] = k
    # the code as the bytes of an unsigned array (marshal reads bytes at memcpy speed,
    # a list of 100,000 ints one object at a time)
    return (int(flags | p.state.flags), array(_CODE_TYPE, code).tobytes(), p.state.groups - 1,
            groupindex, tuple(indexgroup))


def _build(pattern: str, entry: tuple) -> re.Pattern:
    import _sre

    flags, raw, groups, groupindex, indexgroup = entry
    code = array(_CODE_TYPE)
    code.frombytes(raw)
    return _sre.compile(pattern, flags, code.tolist(), groups, groupindex, indexgroup)


def _init() -> None:
    _state.update(table={}, new={}, used=set(), ok=False, path=None)
    if os.environ.get("TAWAZUN_NO_REGEX_CACHE"):
        return
    try:
        # the internals this module relies on must behave as re.compile does here
        import _sre

        if _sre.CODESIZE != array(_CODE_TYPE).itemsize:
            return
        if _build(_CANARY, _entry(_CANARY, 0)) != re.compile(_CANARY):
            return
        path = os.path.join(cache_dir(), f"regex-{_tag()}.marshal")
    except Exception:  # noqa: BLE001 - any difference in the internals: no cache
        return
    _state["ok"], _state["path"] = True, path
    try:
        import marshal

        table = marshal.loads(read_bytes(path))
        if isinstance(table, dict):
            _state["table"] = table
    except Exception:  # noqa: BLE001 - missing or corrupt: start empty
        pass


def compile(pattern: str, flags: int = 0) -> re.Pattern:  # noqa: A001 - re.compile's name
    """``re.compile(pattern, flags)``, from the disk cache when it holds the pattern."""
    done = _memo.get((pattern, flags))
    if done is not None:  # in-process memo, like re's own cache (inline uses stay cheap)
        return done
    rx = _compile(pattern, flags)
    if len(_memo) < MAX_ENTRIES:
        _memo[(pattern, flags)] = rx
    return rx


def _compile(pattern: str, flags: int) -> re.Pattern:
    if not _state:
        _init()
    if not _state["ok"] or not isinstance(pattern, str):
        return re.compile(pattern, flags)
    key = (pattern, int(flags))
    entry = _state["table"].get(key)
    if entry is not None:
        try:
            rx = _build(pattern, entry)
            _state["used"].add(key)
            return rx
        except Exception:  # noqa: BLE001 - a damaged entry: compile afresh
            pass
    try:
        entry = _entry(pattern, int(flags))
        rx = _build(pattern, entry)
    except Exception:  # noqa: BLE001 - let re.compile raise its own error, or succeed
        return re.compile(pattern, flags)
    if not _state["new"]:
        import atexit

        atexit.register(_save)
    _state["new"][key] = entry
    return rx


def _save() -> None:
    """Write the table with this process's new patterns (at exit, only when there are any)."""
    new = _state.get("new")
    if not new or not _state.get("path"):
        return
    try:
        import marshal

        table = dict(_state["table"])
        if len(table) + len(new) > MAX_ENTRIES:
            table = {k: v for k, v in table.items() if k in _state["used"]}
        table.update(new)
        write_cache(_state["path"], marshal.dumps(table))
        _state["table"], _state["new"] = table, {}
    except Exception:  # noqa: BLE001 - a cache is never worth an error at exit
        pass


def reset() -> None:
    """Forget the loaded table (tests: after changing ``TAWAZUN_CACHE``)."""
    _state.clear()
    _memo.clear()
