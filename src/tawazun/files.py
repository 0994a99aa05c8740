"""Reading user files at the edges: one place for the one-line errors every command gives."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from tawazun.errors import InputError


def read_bytes(path: str | Path, what: str = "file") -> bytes:
    """The file's bytes, or an InputError naming the file and the problem."""
    p = Path(path)
    try:
        return p.read_bytes()
    except FileNotFoundError:
        raise InputError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{p}: is a directory, expected a {what}") from None
    except OSError as exc:
        raise InputError(f"{p}: cannot read: {exc.strerror or exc}") from None


def read_text(path: str | Path, what: str = "text file", *, allow_empty: bool = True) -> str:
    """UTF-8 text (a leading byte-order mark is dropped). Binary files, other encodings and,
    unless ``allow_empty``, files with nothing but white space are refused in one line."""
    p = Path(path)
    data = read_bytes(p, what)
    nul = data.find(b"\x00")
    if nul >= 0:
        raise InputError(f"{p}: binary file (NUL byte at offset {nul}), expected a {what}")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{p}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start})") from None
    text = text.removeprefix("\ufeff")
    if not allow_empty and not text.strip():
        raise InputError(f"{p}: empty file, expected a {what}")
    return text


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write via a temp file in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
