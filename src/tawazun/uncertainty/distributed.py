"""Dask scale-out for the Monte Carlo ensemble.

``workers=N > 1`` starts an embedded ``dask.distributed.LocalCluster`` (N worker
processes, one thread each, no dashboard, quiet logs) for the duration of the run;
``scheduler="tcp://host:port"`` connects to a scheduler someone already started
(``dask scheduler`` plus ``dask worker tcp://host:port`` on machines with tawazun
installed). Chunks are submitted as tasks and merged back in draw order.

A malformed or unreachable scheduler address is an :class:`InputError` with one line.
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from typing import Any, Callable, Iterator, Sequence

from tawazun.errors import InputError

CONNECT_TIMEOUT_S = 3.0
"""How long to wait for an existing scheduler before giving up."""

_ADDRESS = re.compile(
    r"^(?P<proto>tcp|tls)://(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.\-_]*):(?P<port>\d{1,5})/?$"
)


def check_address(address: str) -> str:
    """The address unchanged if it looks like ``tcp://HOST:PORT`` (or ``tls://``)."""
    text = str(address).strip()
    m = _ADDRESS.match(text)
    if not m or not (1 <= int(m.group("port")) <= 65535):
        raise InputError(
            f"--scheduler: {address!r} is not a scheduler address; expected tcp://HOST:PORT "
            "(e.g. tcp://127.0.0.1:8786)"
        )
    return text.rstrip("/")


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    names = ["distributed", "distributed.scheduler", "distributed.worker", "distributed.nanny",
             "distributed.core", "distributed.comm", "distributed.client", "tornado", "asyncio"]
    saved = {}
    for name in names:
        lg = logging.getLogger(name)
        saved[name] = lg.level
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)


@contextlib.contextmanager
def dask_client(workers: int = 2, scheduler: str | None = None,
                connect_timeout: float = CONNECT_TIMEOUT_S) -> Iterator[Any]:
    """A ``distributed.Client``: on ``scheduler`` if given, else on a fresh LocalCluster."""
    if scheduler is not None:
        address = check_address(scheduler)
    with _quiet_logs():
        from distributed import Client, LocalCluster

        cluster = None
        if scheduler is not None:
            try:
                client = Client(address, timeout=connect_timeout, set_as_default=False)
            except (OSError, TimeoutError) as exc:
                text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                reason = "" if "timed out" in text.lower() else f" ({text[:120]})"
                raise InputError(
                    f"--scheduler: cannot reach {address} within {connect_timeout:g} s{reason}; "
                    "is `dask scheduler` running there?"
                ) from None
            try:
                client.wait_for_workers(1, timeout=connect_timeout)
            except (OSError, TimeoutError):
                with contextlib.suppress(Exception):
                    client.close()
                raise InputError(
                    f"--scheduler: {address} has no workers (start some with "
                    f"`dask worker {address}`)"
                ) from None
        else:
            with warnings.catch_warnings():
                # The scheduler's small HTTP endpoint warns when its default port is taken.
                warnings.simplefilter("ignore", UserWarning)
                cluster = LocalCluster(
                    n_workers=int(workers),
                    threads_per_worker=1,
                    processes=True,
                    dashboard_address=None,
                    silence_logs=logging.CRITICAL,
                )
            client = Client(cluster, set_as_default=False)
        try:
            yield client
        finally:
            with contextlib.suppress(Exception):
                client.close()
            if cluster is not None:
                with contextlib.suppress(Exception):
                    cluster.close()


def _is_client(obj: Any) -> bool:
    return obj is not None and not isinstance(obj, str) and hasattr(obj, "submit")


@contextlib.contextmanager
def ensemble_cluster(workers: int = 1, scheduler: str | None = None) -> Iterator[Any]:
    """One Dask client for many ensembles (e.g. every engine x issue of a forecast).

    Yields ``None`` when ``workers == 1`` and no scheduler is given (run in process);
    otherwise a ``distributed.Client`` to pass as ``scheduler=`` to
    :func:`~tawazun.uncertainty.ensemble.run_ensemble` or ``forecast_distribution``, so
    the LocalCluster starts once rather than once per call. An open ``distributed.Client``
    given as ``scheduler`` is yielded as is and left open (its owner closes it).
    """
    if _is_client(scheduler):
        yield scheduler
        return
    if scheduler is None and int(workers) <= 1:
        yield None
        return
    with dask_client(workers=workers, scheduler=scheduler) as client:
        yield client


def map_chunks(
    fn: Callable[..., Any],
    args: Sequence[tuple],
    *,
    workers: int = 2,
    scheduler: Any = None,
    progress: Callable[[int, int], None] | None = None,
    total: int | None = None,
    counts: Sequence[int] | None = None,
) -> list[Any]:
    """``[fn(*a) for a in args]`` computed as Dask tasks; results in the order of ``args``.

    ``scheduler``: None (a fresh LocalCluster of ``workers``), an address, or an open
    ``distributed.Client`` (used as is and left open).

    ``progress(done, total)`` is called as chunks finish, ``done`` summing ``counts``.
    On ``KeyboardInterrupt`` the tasks are cancelled and the cluster shut down, then
    the interrupt propagates.
    """
    from distributed import as_completed

    counts = list(counts) if counts is not None else [1] * len(args)
    total = int(total) if total is not None else sum(counts)
    if _is_client(scheduler):
        session = contextlib.nullcontext(scheduler)  # the caller's client: leave it open
    else:
        session = dask_client(workers=workers, scheduler=scheduler)
    with session as client:
        futures = [client.submit(fn, *a, pure=False) for a in args]
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[Any] = [None] * len(futures)
        done = 0
        try:
            for fut in as_completed(futures, loop=client.loop):
                i = index[fut.key]
                results[i] = fut.result()
                done += counts[i]
                if progress is not None:
                    progress(done, total)
        except BaseException:
            with contextlib.suppress(Exception):
                client.cancel(futures)
            raise
    return results
