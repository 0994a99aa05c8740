"""The `tawazun` command. Subcommand modules register themselves on these apps."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="tawazun",
    help="Make a political-security arena executable: validate it, forecast it, test it.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
import_app = typer.Typer(help="Bring arenas in from other tools' formats.", no_args_is_help=True)
export_app = typer.Typer(help="Write arenas out in other tools' formats.", no_args_is_help=True)
app.add_typer(import_app, name="import")
app.add_typer(export_app, name="export")

# Each module adds its commands to the apps above; keep one import per line.
from tawazun.cli import arena_cmds as _arena_cmds  # noqa: E402,F401
from tawazun.cli import extract_cmds as _extract_cmds  # noqa: E402,F401
from tawazun.cli import backtest_cmds as _backtest_cmds  # noqa: E402,F401
from tawazun.cli import sensitivity_cmds as _sensitivity_cmds  # noqa: E402,F401
from tawazun.cli import web_cmds as _web_cmds  # noqa: E402,F401
from tawazun.cli import scenario_cmds as _scenario_cmds  # noqa: E402,F401
from tawazun.cli import ktab_cmds as _ktab_cmds  # noqa: E402,F401


def main() -> None:  # pragma: no cover - console entry
    app()
