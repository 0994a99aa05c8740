"""Threads for compiled kernels: how many, how work is fanned out, and a compile lock.

Engines whose compiled kernels release the GIL (BDM, SMP) and the CIB search split their
work into independent jobs, one per worker thread, each with its own scratch. Every draw
(or subtree) is computed by the same code whichever thread runs it, so results never
depend on the thread count. :func:`fan_out` is the one place that starts those threads;
:func:`compile_once` is the one place that guards Numba's on-disk cache.
"""

from __future__ import annotations

import os
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor, wait
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")


def in_dask_worker() -> bool:
    """True inside a Dask worker task (its cluster already shares out the cores)."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return False
    try:
        distributed.get_worker()
    except Exception:  # noqa: BLE001 - outside a worker it raises ValueError
        return False
    return True


def default_threads(env_var: str) -> int:
    """``env_var`` (or ``TAWAZUN_THREADS``) if set to a whole number >= 1; else 1 inside a
    Dask worker; else the number of cores this process may run on."""
    for name in (env_var, "TAWAZUN_THREADS"):
        raw = os.environ.get(name, "").strip()
        if raw.isdigit() and int(raw) >= 1:
            return int(raw)
    if in_dask_worker():
        return 1
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def fan_out(
    jobs: Sequence[Callable[[], T]],
    threads: int,
    *,
    poll: Callable[[], None] | None = None,
    on_abort: Callable[[], None] | None = None,
    interval: float = 0.1,
) -> list[T]:
    """Run every ``job()`` and return their results in job order.

    With ``threads`` <= 1 and no ``poll`` the jobs run one after the other on the calling
    thread (no thread is started). Otherwise they run on a pool of ``threads`` worker
    threads while the calling thread calls ``poll()`` every ``interval`` seconds (progress,
    time limits); if anything interrupts it (Ctrl-C, an exception from ``poll``),
    ``on_abort()`` asks the running jobs to stop, jobs not yet started are cancelled and the
    exception goes on. A job's own exception is raised when its result is collected.
    """
    if threads <= 1 and poll is None:
        return [job() for job in jobs]
    with ThreadPoolExecutor(max_workers=max(1, int(threads))) as pool:
        futures = [pool.submit(job) for job in jobs]
        try:
            while wait(futures, timeout=interval).not_done:
                if poll is not None:
                    poll()
        except BaseException:
            if on_abort is not None:
                on_abort()
            for f in futures:
                f.cancel()
            raise
    return [f.result() for f in futures]


_COMPILED: set[str] = set()


def compile_once(name: str, warm: Callable[[], object]) -> None:
    """Run ``warm()`` (calls that compile, or load from Numba's disk cache, the kernels of
    ``name``) once per process, under a file lock shared by every process on the machine.

    Numba's cache is not safe against several processes compiling the same function at the
    same time (numba/numba#4807: it can crash the process); Dask workers or parallel test
    runs would do exactly that on a fresh checkout. The lock serialises the first call.
    """
    if name in _COMPILED:
        return
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock
        fcntl = None
    lock = os.path.join(tempfile.gettempdir(), f"tawazun-{name}-numba.lock")
    with open(lock, "a+") as fh:
        if fcntl is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            warm()
        finally:
            if fcntl is not None:
                fcntl.flock(fh, fcntl.LOCK_UN)
    _COMPILED.add(name)
