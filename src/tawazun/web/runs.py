"""Forecast runs of the web app: a SQLite table and a background worker thread.

A run snapshots the arena text when it is submitted, so editing the arena while a run
is queued or running changes nothing about that run. One run is computed at a time
(queued runs wait); the numbers come from the same pipeline as the CLI's,
:func:`tawazun.forecast.execute`, with the same :class:`~tawazun.forecast.ForecastConfig`
defaults, so a web run and a CLI run of the same request give the same result document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import sqlite3
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tawazun.errors import InputError
from tawazun.web.workspace import parse_cached

log = logging.getLogger("tawazun.web")

MAX_DRAWS = 20_000

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    arena TEXT NOT NULL,
    engines TEXT NOT NULL,
    draws INTEGER NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    phase TEXT NOT NULL DEFAULT '',
    progress REAL NOT NULL DEFAULT 0,
    error TEXT,
    created TEXT NOT NULL,
    finished TEXT,
    arena_sha256 TEXT,
    arena_text TEXT,
    result TEXT,
    manifest TEXT,
    report TEXT
)
"""

LIST_COLUMNS = "id, arena, engines, draws, seed, status, phase, progress, error, created, finished"


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def _row(row: sqlite3.Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    out = dict(row)
    out["engines"] = json.loads(out["engines"])
    for key in ("result", "manifest"):
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out


class RunStore:
    """Thin wrapper over runs.sqlite; a connection per call (safe across threads)."""

    def __init__(self, path: Path):
        self.path = path
        self._lock = threading.Lock()
        with self._connect() as con:
            con.execute(SCHEMA)
            # A server stopped mid-run leaves rows that will never finish.
            con.execute("UPDATE runs SET status='failed', error='interrupted: the server stopped during the run', "
                        "finished=? WHERE status IN ('queued', 'running')", (_now(),))

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(self.path, timeout=30)
        con.row_factory = sqlite3.Row
        return con

    def create(self, arena: str, engines: list[str], draws: int, seed: int, sha: str, text: str) -> int:
        with self._lock, self._connect() as con:
            cur = con.execute(
                "INSERT INTO runs (arena, engines, draws, seed, status, phase, created, arena_sha256, arena_text) "
                "VALUES (?, ?, ?, ?, 'queued', 'waiting for the worker', ?, ?, ?)",
                (arena, json.dumps(engines), draws, seed, _now(), sha, text))
            return int(cur.lastrowid)

    def update(self, run_id: int, **fields: Any) -> None:
        for key in ("result", "manifest"):
            if key in fields and not isinstance(fields[key], str):
                fields[key] = json.dumps(fields[key], ensure_ascii=False, allow_nan=False)
        cols = ", ".join(f"{k}=?" for k in fields)
        with self._lock, self._connect() as con:
            con.execute(f"UPDATE runs SET {cols} WHERE id=?", (*fields.values(), run_id))

    def get(self, run_id: int, *, full: bool = True) -> dict[str, Any] | None:
        cols = "*" if full else LIST_COLUMNS
        with self._connect() as con:
            row = con.execute(f"SELECT {cols} FROM runs WHERE id=?", (run_id,)).fetchone()
        return _row(row)

    def result(self, run_id: int) -> dict[str, Any] | None:
        """Only the result document (no report HTML): for listings."""
        with self._connect() as con:
            row = con.execute("SELECT result FROM runs WHERE id=?", (run_id,)).fetchone()
        return None if row is None or row["result"] is None else json.loads(row["result"])

    def report(self, run_id: int) -> str | None:
        with self._connect() as con:
            row = con.execute("SELECT report FROM runs WHERE id=?", (run_id,)).fetchone()
        return None if row is None else row["report"]

    def list(self, limit: int = 200) -> list[dict[str, Any]]:
        with self._connect() as con:
            rows = con.execute(f"SELECT {LIST_COLUMNS} FROM runs ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [_row(r) for r in rows]  # type: ignore[misc]


class RunInterrupted(Exception):
    """The server is stopping (Ctrl-C / SIGTERM) while a run is in progress."""


INTERRUPTED = "interrupted: the server stopped during the run"


class RunManager:
    """Submits runs to one background worker thread and records them in the store."""

    def __init__(self, store: RunStore, workspace_root: Path):
        self.store = store
        self.root = workspace_root
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tawazun-run")
        self._stopping = threading.Event()

    def submit(self, name: str, arena_text: str, display: str, engines: list[str] | str,
               draws: int, seed: int) -> int:
        """Validate the request now (InputError on any problem), then queue the run."""
        from tawazun.forecast import ForecastConfig, resolve_engines

        arena = parse_cached(arena_text, display, forecast=True)
        if not (0 <= draws <= MAX_DRAWS):
            raise InputError(f"draws: must be between 0 and {MAX_DRAWS}, got {draws}")
        if not engines:
            raise InputError("engines: choose at least one engine")
        config = ForecastConfig(engines=tuple(resolve_engines(engines)), seed=seed, draws=draws)
        names = list(config.engines)
        sha = hashlib.sha256(arena_text.encode("utf-8")).hexdigest()
        run_id = self.store.create(name, names, draws, seed, sha, arena_text)
        self._pool.submit(self._work, run_id, arena, display, sha, config)
        return run_id

    def shutdown(self) -> None:
        """Stop taking runs; the one in progress stops at its next progress step and is
        recorded as interrupted (queued ones are cancelled and marked on the next start)."""
        self._stopping.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _check_stop(self) -> None:
        if self._stopping.is_set():
            raise RunInterrupted()

    def _work(self, run_id: int, arena: Any, display: str, sha: str, config: Any) -> None:
        from tawazun.forecast import execute, manifest, to_json
        from tawazun.report.html import render

        store = self.store
        # share of the progress bar at which each phase starts
        starts = {"point forecasts": 0.02, "Monte Carlo draws": 0.05, "sensitivity": 0.82, "scenarios": 0.88}
        last = [0.0]

        def phase(name: str) -> None:
            self._check_stop()
            store.update(run_id, status="running", phase=name, progress=starts.get(name, last[0]))

        def progress(done: int, total: int) -> None:
            self._check_stop()
            frac = 0.05 + 0.75 * done / max(total, 1)
            if frac - last[0] >= 0.02 or done >= total:
                last[0] = frac
                store.update(run_id, phase=f"Monte Carlo draws ({done}/{total})", progress=frac)

        try:
            self._check_stop()
            run = execute(arena, config, progress=progress, phase=phase)
            self._check_stop()
            store.update(run_id, phase="report", progress=0.9)
            doc = to_json(run)
            man = manifest(run, arena_path=str(self.root / display), arena_sha256=sha,
                           command=f"tawazun serve (web run {run_id})")
            report = render(run, man, plotly="url")
            json.dumps(doc, allow_nan=False)  # fail here, not half-way through the update
            store.update(run_id, status="done", phase="done", progress=1.0, finished=_now(),
                         result=doc, manifest=man, report=report)
        except InputError as exc:
            store.update(run_id, status="failed", phase="failed", error="\n".join(exc.lines), finished=_now())
        except Exception as exc:  # noqa: BLE001 - the user sees a message, the log the traceback
            if isinstance(exc, RunInterrupted) or self._stopping.is_set() or sys.is_finalizing():
                # Stopping the server makes the engines' thread pools refuse work
                # (RuntimeError: cannot schedule new futures...): that is the stop, not a bug.
                store.update(run_id, status="failed", phase="failed", finished=_now(), error=INTERRUPTED)
                return
            log.exception("run %s failed", run_id)
            store.update(run_id, status="failed", phase="failed", finished=_now(),
                         error=f"the run failed: {type(exc).__name__}: {exc}"[:500])
