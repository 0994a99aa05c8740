"""How many threads a compiled engine spreads its draws over.

Engines whose compiled kernels release the GIL (BDM, SMP) split a batch of draws into
blocks, one per thread, each with its own scratch. Every draw is computed by the same code
whichever thread runs it, so results never depend on the thread count.
"""

from __future__ import annotations

import os
import sys


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
