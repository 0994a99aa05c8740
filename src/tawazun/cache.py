"""The per-user cache folder and its best-effort atomic writes.

Caches hold what can always be recomputed (compiled regexes, gazetteer indexes, protest
emulator tables): an unreadable or read-only folder means no cache, never an error.
``$TAWAZUN_CACHE`` (else ``$XDG_CACHE_HOME``, else ``~/.cache``) + ``/tawazun``.
"""

from __future__ import annotations

import os

__all__ = ["cache_dir", "read_bytes", "write_cache"]


def cache_dir() -> str:
    base = os.environ.get("TAWAZUN_CACHE") or os.environ.get("XDG_CACHE_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache")
    return os.path.join(base, "tawazun")


def read_bytes(path: str) -> bytes:
    with open(path, "rb") as fh:
        return fh.read()


def write_cache(path: str, data: bytes) -> None:
    """Atomic best-effort write of a cache file (a read-only home just means no cache)."""
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except OSError:
        pass
