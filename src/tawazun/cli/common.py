"""Shared CLI plumbing: one-line errors with exit code 2, atomic writes."""

from __future__ import annotations

import contextlib
import functools
import json
import sys
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

import typer

from tawazun.errors import InputError
from tawazun.files import atomic_write_text, check_file_target, forget_written, written

__all__ = ["atomic_write_text", "check_file_target", "check_seed", "check_workers", "fail", "user_errors",
           "write_json", "SCHEDULER_HELP", "WORKERS_HELP"]

SEED_MAX = 2**32 - 1  # numpy's legacy seeding and the web form take 32-bit seeds


def fail(lines: list[str] | str, code: int = 2) -> None:
    for line in [lines] if isinstance(lines, str) else lines:
        typer.echo(line, err=True)
    raise typer.Exit(code)


def user_errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Turn InputError into its lines on stderr and exit code 2; never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        forget_written()
        try:
            return fn(*args, **kwargs)
        except InputError as exc:
            fail(exc.lines)
        except KeyboardInterrupt:
            # true by construction: every write goes through tawazun.files, which records
            # a file or folder only once it is in place, whole
            done = written()
            if done:
                typer.echo(f"interrupted after writing {', '.join(map(str, done))}", err=True)
            else:
                typer.echo("interrupted: nothing was written", err=True)
            raise typer.Exit(130) from None

    return wrapper


@contextlib.contextmanager
def flag_names(flags: Mapping[str, str]) -> Iterator[None]:
    """Name the command's flags in errors about configuration fields: the core says
    ``draws: must be ...``, the user typed ``--draws``, so the CLI says ``--draws: ...``."""
    try:
        yield
    except InputError as exc:
        lines = []
        for line in exc.lines:
            field, sep, rest = line.partition(": ")
            lines.append(f"{flags[field]}: {rest}" if sep and field in flags else line)
        raise InputError(lines) from None


def check_seed(seed: int, flag: str = "--seed") -> int:
    if not 0 <= seed <= SEED_MAX:
        raise InputError(f"{flag}: must be between 0 and {SEED_MAX}, got {seed}")
    return seed


# --workers / --scheduler: the same flags, help and checks on every command that spreads work on Dask
WORKERS_HELP = "Local worker processes (Dask LocalCluster when > 1)."
SCHEDULER_HELP = "Address of an existing Dask scheduler, e.g. tcp://host:8786 (instead of --workers)."


def check_workers(workers: int, scheduler: str | None) -> None:
    """One line, before any computing: workers >= 1, a well-formed address, not both flags."""
    if workers < 1:
        raise InputError(f"--workers: must be at least 1, got {workers}")
    if scheduler is not None:
        if workers > 1:
            raise InputError("--workers and --scheduler: give one or the other (the scheduler's workers do the work)")
        from tawazun.uncertainty.distributed import check_address

        check_address(scheduler)


def emit(doc: Any, json_out: str | None, html_out: Path | None = None,
         page: Callable[[Any], str] | None = None) -> bool:
    """Write a command's document: ``page(doc)`` to ``html_out``, the JSON to ``json_out``
    (``-``: stdout). True when the terminal table should follow (the JSON did not go to stdout)."""
    if html_out is not None and page is not None:
        atomic_write_text(html_out, page(doc))
    if json_out is not None:
        write_json(json_out, doc)
    return json_out != "-"


def write_json(target: str | Path, payload: Any) -> None:
    """`-` writes to stdout; otherwise an atomic file write."""
    text = json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
    if str(target) == "-":
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        atomic_write_text(target, text)
