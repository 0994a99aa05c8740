"""Files at the edges: reading user files with one-line errors, and writing files and run
folders atomically (whole or not at all)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import threading
from pathlib import Path
from typing import Iterable, Iterator

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


# ---- writing: every file and run folder appears whole or not at all ----------------------

#: What this process has put on disk through the functions below, so that a command stopped
#: by Ctrl-C can say truthfully whether anything was written (see tawazun.cli.common).
_WRITTEN: list[Path] = []


def written() -> list[Path]:
    return list(_WRITTEN)


def forget_written() -> None:
    _WRITTEN.clear()


def _record(path: Path) -> None:
    _WRITTEN.append(path)
    del _WRITTEN[:-100]  # a long-running server writes on and on; a command needs a handful


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C over a rename and its bookkeeping, then deliver it: otherwise an interrupt
    landing between the two would make "nothing was written" a lie."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    old = signal.signal(signal.SIGINT, lambda signum, frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)
        if pending:
            if callable(old):
                old(signal.SIGINT, None)  # the default handler raises KeyboardInterrupt here
            elif old == signal.SIG_DFL:
                os.kill(os.getpid(), signal.SIGINT)


def _make_parents(folder: Path, created: list[Path]) -> None:
    """mkdir -p, listing in ``created`` each folder it makes (before making it, so that an
    interrupt at any point leaves a list that undoes exactly what was made)."""
    missing: list[Path] = []
    p = folder
    while not p.exists():
        missing.append(p)
        if p.parent == p:
            break
        p = p.parent
    for d in reversed(missing):
        created.append(d)
        try:
            d.mkdir()
        except FileExistsError:
            created.pop()
        except OSError as exc:
            created.pop()
            raise InputError(f"{d}: cannot create the folder: {exc.strerror or exc}") from None


def _remove_dirs(created: list[Path]) -> None:
    for d in reversed(created):
        try:
            d.rmdir()
        except OSError:
            pass


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def check_file_target(path: str | Path, what: str = "output") -> None:
    """Refuse, before any work, an output path that cannot be written: a folder, or a path
    under an existing file."""
    p = Path(path)
    if p.is_dir():
        raise InputError(f"{what}: {p} is a folder, expected a file name")
    _check_ancestors(p, what)


def _check_ancestors(p: Path, what: str) -> None:
    anc = p.parent
    while not anc.exists() and anc.parent != anc:
        anc = anc.parent
    if not anc.is_dir():
        raise InputError(f"{what}: {anc} is a file, so {p} cannot be created under it")
    if not os.access(anc, os.W_OK | os.X_OK):
        raise InputError(f"{what}: cannot write in {anc} (permission denied)")


def check_folder_target(target: str | Path, names: Iterable[str], what: str = "--out") -> None:
    """Refuse, before any work, a run folder that cannot be written: a file, a path under a
    file, or an existing folder holding anything but the files of a previous run (replacing
    it would delete them)."""
    t = Path(target)
    if t.exists() and not t.is_dir():
        raise InputError(f"{what}: {t} is a file, expected a folder (or a name for a new one)")
    if t.is_dir():
        try:
            others = sorted(p.name for p in t.iterdir() if p.name not in set(names))
        except OSError as exc:
            raise InputError(f"{what}: cannot read {t}: {exc.strerror or exc}") from None
        if others:
            shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
            raise InputError(f"{what}: {t} already holds other files ({shown}); choose a new folder")
        _check_ancestors(t / "x", what)
        return
    _check_ancestors(t, what)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _remove_stale(parent: Path, name: str) -> None:
    """Temp folders of earlier writes to the same target whose process died (SIGKILL, power)."""
    pattern = re.compile(rf"^\.{re.escape(name)}\.(\d+)\.[^/]*\.(tmp|old)$")
    try:
        entries = list(parent.iterdir())
    except OSError:
        return
    for p in entries:
        m = pattern.match(p.name)
        if m and int(m.group(1)) != os.getpid() and not _pid_alive(int(m.group(1))) and p.is_dir():
            shutil.rmtree(p, ignore_errors=True)


def write_folder_atomic(target: str | Path, files: dict[str, str | bytes], what: str = "--out",
                        replaceable: Iterable[str] = ()) -> Path:
    """Write a run folder whole: every file goes into a temp folder beside the target (same
    file system), which is then renamed into place in one step. Readers, Ctrl-C and crashes
    see the complete folder or none; a kill can leave only a hidden ``.<name>.<pid>.*.tmp``
    folder, removed by the next write to the same target.

    An existing target may only hold files of a previous run (names in ``files`` or
    ``replaceable``, see check_folder_target); it is replaced: renamed aside, the new folder
    renamed in, the old one deleted.
    """
    t = Path(target)
    check_folder_target(t, [*files, *replaceable], what)
    parent = t.parent
    created: list[Path] = []
    done = False
    tmp: Path | None = None
    old: Path | None = None
    try:
        _make_parents(parent, created)
        _remove_stale(parent, t.name)
        # named before it exists, so that an interrupt right after the mkdir still finds it
        tmp = parent / f".{t.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        os.mkdir(tmp, 0o700)
        for name, content in files.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            with open(tmp / name, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        os.chmod(tmp, 0o777 & ~_umask())  # made 0700; give what a plain mkdir would
        with _sigint_deferred():
            if t.is_dir() and any(t.iterdir()):
                old = parent / f".{t.name}.{os.getpid()}.{secrets.token_hex(4)}.old"
                os.rename(t, old)
            os.rename(tmp, t)  # replaces an empty folder atomically; fails on a non-empty one
            done = True
            _record(t)
    except OSError as exc:
        raise InputError(f"{what}: cannot write {t}: {exc.strerror or exc}") from None
    finally:
        if not done:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
            if old is not None and not t.exists():
                os.rename(old, t)  # put the previous run back
                old = None
            _remove_dirs(created)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return t


def atomic_write_text(path: Path | str, text: str) -> None:
    """Write via a temp file in the same folder, then rename: readers never see half a file."""
    path = Path(path)
    created: list[Path] = []
    # named before it exists, so that an interrupt right after the open still finds it
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    done = False
    try:
        _make_parents(path.parent, created)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        # created 0600; give the file the permissions a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        with _sigint_deferred():
            os.replace(tmp, path)
            done = True
            _record(path)
    except OSError as exc:
        raise InputError(f"{path}: cannot write: {exc.strerror or exc}") from None
    finally:
        if not done:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            _remove_dirs(created)
