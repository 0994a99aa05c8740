"""A Rich progress bar that appears only when a run lasts longer than about a second."""

from __future__ import annotations

import contextlib
import time
from typing import Callable, Iterator


@contextlib.contextmanager
def progress_bar(description: str = "Monte Carlo", *, delay: float = 1.0,
                 console: object | None = None) -> Iterator[Callable[[int, int], None]]:
    """Yield a ``callback(done, total)`` for :func:`run_ensemble`.

    Nothing is drawn until ``delay`` seconds have passed (short runs stay silent), nor
    when stderr is not a terminal. The bar is transient: it disappears when done.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    con = console if console is not None else Console(stderr=True)
    t0 = time.monotonic()
    state: dict[str, object] = {"bar": None, "task": None}

    def callback(done: int, total: int) -> None:
        bar = state["bar"]
        if bar is None:
            if not getattr(con, "is_terminal", False) or done >= total:
                return
            if time.monotonic() - t0 < delay:
                return
            bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                           TimeRemainingColumn(), console=con, transient=True)
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task(description, total=total)
        bar.update(state["task"], completed=done, total=total)  # type: ignore[union-attr]

    try:
        yield callback
    finally:
        bar = state["bar"]
        if bar is not None:
            bar.stop()  # type: ignore[union-attr]
