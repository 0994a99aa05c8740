"""`tawazun import ktab` and `tawazun export ktab`: KTAB SMP CSV files <-> arena YAML."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
import yaml

from tawazun.arena import load_arena
from tawazun.arena.ktab import read_ktab_csv, write_ktab_csv
from tawazun.cli.common import atomic_write_text, user_errors
from tawazun.cli.app import export_app, import_app


@import_app.command("ktab")
@user_errors
def import_ktab(
    file: Path = typer.Argument(..., help="KTAB SMP input CSV (scenario line, header, a row per actor)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o",
                                       help="Arena YAML to write (default: FILE with .yaml)."),
    as_of: Optional[str] = typer.Option(None, "--as-of", help="Date of the arena, YYYY-MM-DD (default: today)."),
) -> None:
    """KTAB CSV -> arena YAML (one issue per dimension on 0-100, a space joining them)."""
    arena = read_ktab_csv(file, as_of=as_of)
    text = yaml.safe_dump(arena, allow_unicode=True, sort_keys=False)
    target = out or file.with_suffix(".yaml")
    atomic_write_text(target, text)
    typer.echo(f"wrote {target} ({len(arena['actors'])} actors, {len(arena['issues'])} issues)")


@export_app.command("ktab")
@user_errors
def export_ktab(
    arena: Path = typer.Argument(..., help="Arena YAML file."),
    out: Path = typer.Option(..., "--out", "-o", help="KTAB CSV file to write."),
    unit: Optional[str] = typer.Option(None, "--unit", "-u",
                                       help="Issue or space to export (needed when the arena has several)."),
) -> None:
    """Arena YAML -> KTAB CSV of one issue or space (ranges written as their modes)."""
    loaded = load_arena(arena)
    write_ktab_csv(loaded, out, unit=unit)
    typer.echo(f"wrote {out}")
