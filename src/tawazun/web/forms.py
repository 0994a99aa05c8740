"""Small helpers shared by the templates and the page handlers: number display and form fields."""

from __future__ import annotations

import math
from typing import Any

from tawazun.arena.model import Range


def fmt(x: Any) -> str:
    if x is None:
        return ""
    if isinstance(x, float) and math.isfinite(x):
        return f"{x:.4g}" if abs(x) < 1e4 else f"{x:.0f}"
    return str(x)


def rng(x: Any) -> dict[str, str] | None:
    """A number or Range as {mode, low, high} strings for display (low/high empty for numbers)."""
    if x is None:
        return None
    if isinstance(x, Range):
        return {"mode": fmt(x.mode), "low": fmt(x.low), "high": fmt(x.high)}
    if isinstance(x, dict):
        return {k: fmt(x.get(k)) for k in ("low", "mode", "high")}
    return {"mode": fmt(x), "low": "", "high": ""}


def _number(text: str) -> Any:
    """Form text -> int/float, or the text itself so that the loader reports it."""
    t = text.strip()
    try:
        v = float(t)
    except ValueError:
        return t
    if not math.isfinite(v):
        return t
    return int(v) if v.is_integer() and "." not in t and "e" not in t.lower() else v


def number_from_form(form: dict[str, str], prefix: str) -> Any:
    """Fields <prefix>_low/_mode/_high -> None (all empty), a number (only mode), or a range."""
    parts = {k: (form.get(f"{prefix}_{k}") or "").strip() for k in ("low", "mode", "high")}
    if not any(parts.values()):
        return None
    if not parts["low"] and not parts["high"]:
        return _number(parts["mode"])
    return {k: _number(v) for k, v in parts.items() if v}


def form_values_for_number(value: Any, prefix: str) -> dict[str, str]:
    r = rng(value) or {"low": "", "mode": "", "high": ""}
    return {f"{prefix}_{k}": r[k] for k in ("low", "mode", "high")}
