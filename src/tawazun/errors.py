"""Errors that reach the user as one line each (CLI exit code 2, no traceback)."""

from __future__ import annotations


class InputError(Exception):
    """Bad user input. ``lines`` are complete messages like ``file:line: field.path: problem``."""

    def __init__(self, lines: list[str] | str):
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        super().__init__("\n".join(self.lines))
