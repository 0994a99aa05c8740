"""The Typer applications every command module registers on.

Kept apart from :mod:`tawazun.cli.main` so that command modules import the apps from here
and ``main`` imports the command modules: the dependency runs one way, with no cycle.
"""

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
