"""The browser workbench (FastAPI): ``tawazun serve``; :func:`create_app` for tests and embedding."""

from __future__ import annotations

from typing import Any


def create_app(*args: Any, **kwargs: Any) -> Any:
    """See :func:`tawazun.web.app.create_app` (imported lazily: FastAPI is only needed here)."""
    from tawazun.web.app import create_app as _create

    return _create(*args, **kwargs)


__all__ = ["create_app"]
