"""The `tawazun` command: the one place where command modules are registered.

Each command module adds its commands to the apps of :mod:`tawazun.cli.app` when imported;
they import the apps from there, never from here, so imports run one way (no cycle).
"""

from __future__ import annotations

# The import order is the order of the commands in `tawazun --help`.
from tawazun.cli import arena_cmds as _arena_cmds  # noqa: F401
from tawazun.cli import extract_cmds as _extract_cmds  # noqa: F401
from tawazun.cli import backtest_cmds as _backtest_cmds  # noqa: F401
from tawazun.cli import sensitivity_cmds as _sensitivity_cmds  # noqa: F401
from tawazun.cli import web_cmds as _web_cmds  # noqa: F401
from tawazun.cli import scenario_cmds as _scenario_cmds  # noqa: F401
from tawazun.cli import ktab_cmds as _ktab_cmds  # noqa: F401
from tawazun.cli import dynamics_cmds as _dynamics_cmds  # noqa: F401
from tawazun.cli import loop_cmds as _loop_cmds  # noqa: F401
from tawazun.cli.app import app, export_app, import_app

__all__ = ["app", "export_app", "import_app", "main"]


def main() -> None:  # pragma: no cover - console entry
    app()
