"""`tawazun validate`, `tawazun schema`, `tawazun forecast`."""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from tawazun.arena import arena_hash, json_schema, load_arena, resolve
from tawazun.arena.model import mode_of
from tawazun.cli.app import app
from tawazun.cli.common import (SCHEDULER_HELP, WORKERS_HELP, check_file_target, check_workers, flag_names, user_errors,
                                 write_json)
from tawazun.cli.progress import progress_bar
from tawazun.errors import InputError
from tawazun.files import check_folder_target, write_folder_atomic
from tawazun.forecast import (
    DEFAULT_DRAWS,
    FORECAST_SOBOL_N,
    ForecastConfig,
    ForecastRun,
    execute,
    issue_rows,
    manifest,
    nearest_anchor,
    parse_option_flags,
    to_json,
)
from tawazun.report.labels import LANGS

RUN_FILES = ("result.json", "report.html", "manifest.json")  # what a forecast run folder holds
ARENA_ARG = typer.Argument(None, help="Arena YAML file (default: the shipped iraq-2021 arena).", show_default=False)


@app.command()
@user_errors
def validate(arena: Optional[Path] = ARENA_ARG) -> None:
    """Check an arena file: print every problem (file:line: field.path: message) or 'ok'."""
    loaded = load_arena(arena)
    typer.echo(f"ok: {resolve(arena)} ({len(loaded.actors)} actors, {len(loaded.issues)} issues, "
               f"{len(loaded.stances)} stances)")


@app.command()
@user_errors
def schema(out: Optional[Path] = typer.Option(None, "--out", "-o", help="Write to a file instead of stdout.")) -> None:
    """Print the JSON Schema of the arena format."""
    write_json(out or "-", json_schema())


def default_out(arena_id: str) -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = Path("runs") / f"{arena_id}-{stamp}"
    folder, k = base, 1
    while folder.exists():  # two runs in one second: never replace the earlier one
        k += 1
        folder = base.with_name(f"{base.name}-{k}")
    return folder


# configuration field -> the flag that sets it (errors name what the user typed)
FORECAST_FLAGS = {"engines": "--engine", "options": "--option", "draws": "--draws", "seed": "--seed",
                  "dist": "--dist", "workers": "--workers", "sobol_n": "--sobol-n", "rounds": "--rounds",
                  "scheduler": "--scheduler", "dynamics_paths": "--dynamics-paths", "horizon": "--horizon",
                  "dynamics_engine": "--dynamics-engine", "scenario": "--scenario"}


def print_tables(run: ForecastRun, console: Console) -> None:
    """Per issue: each engine's headline (the median of the draws when there are draws, see
    docs/uncertainty.md), the run at the modes beside it, the 80% interval, and one line
    under the table for each result flagged unstable."""
    dist_cols = run.draws > 0
    for issue in run.arena.issues:
        sqv = None if issue.status_quo is None else mode_of(issue.status_quo)
        title = f"{issue.title}  [{issue.scale.min:g}–{issue.scale.max:g}]"
        table = Table(title=title, title_justify="left")
        table.add_column("engine")
        table.add_column("forecast", justify="right")
        if dist_cols:
            table.add_column("at modes", justify="right")
        table.add_column("nearest labelled point")
        if dist_cols:
            table.add_column("80% interval", justify="right")
        notes = []
        for row in issue_rows(run, issue.id):
            h = row.headline
            flag = " ⚠" if h["unstable"] else ""
            cells = [row.label, f"{h['value']:.1f}{flag}"]
            if dist_cols:
                cells.append(f"{row.value:.1f}")
            cells.append(nearest_anchor(issue, h["value"]) or "")
            if dist_cols:
                d = row.distribution
                cells.append("" if not d else f"{d['quantiles']['10']:.1f}–{d['quantiles']['90']:.1f}")
            table.add_row(*cells)
            if h["unstable"]:
                notes.append(f"⚠ {row.label} is unstable here: {h['note']}")
        if sqv is not None:
            cells = ["status quo", f"{sqv:.1f}"] + ([""] if dist_cols else []) + [nearest_anchor(issue, sqv) or ""]
            table.add_row(*(cells + ([""] if dist_cols else [])), style="dim")
        console.print(table)
        for note in notes:
            console.print(f"[yellow]{note}[/yellow]", highlight=False)
    if dist_cols:
        console.print(f"[dim]forecast: the median of {run.draws:,} {run.dist} draws over the ranges[/dim]")
        console.print("[dim]at modes: one run with every range at its mode[/dim]")
        console.print("[dim]80% interval: 10th–90th percentile of the draws[/dim]")
        console.print("[dim]⚠ unstable: the reason is under the table (docs/uncertainty.md)[/dim]")
    else:
        console.print("[dim]forecast: one run with every range at its mode (no draws: no interval)[/dim]")


def print_questions(questions: list[dict], console: Console) -> None:
    """Each question's probability (or quantiles) per engine, from the draws (docs/loop.md)."""
    from tawazun.loop.questions import headline

    if not questions:
        return
    table = Table(title="Questions", title_justify="left")
    for col in ("question", "resolves", "kind", "engine", "forecast"):
        table.add_column(col)
    for q in questions:
        rows = q["forecasts"] or [{"engine": "", "note": q.get("note", "")}]
        for k, f in enumerate(rows):
            text = headline(f, q["kind"]) if "note" not in f else f["note"]
            if "step" in f:  # a series or regime question: read from the dynamics paths at that step
                text += f" · dynamics {'by' if f.get('by') == 'ever' else 'at'} {f['step']}"
            table.add_row(q["id"] if k == 0 else "", q["resolves_on"] if k == 0 else "", q["kind"] if k == 0 else "",
                          f["engine"], text)
    console.print(table)


def print_dynamics(block: dict, console: Console) -> None:
    """The dynamics at the horizon: each series' mean and 10–90 % band, each regime's probability."""
    from rich.table import Table

    last = block["steps"][-1]
    title = f"Dynamics by {last}: {block['paths']} paths" + (f", covariates from {block['engine']}" if block["coupled"] else "")
    table = Table(title=title)
    table.add_column("series / regime")
    table.add_column(f"at {last}", justify="right")
    for name, s in block["series"].items():
        table.add_row(name, f"{s['mean'][-1]:.3g} ({s['quantiles']['0.1'][-1]:.3g}–{s['quantiles']['0.9'][-1]:.3g})")
    for name, r in block["regimes"].items():
        table.add_row(f"P({name})", f"{r['probability_by_step'][-1]:.3f}")
    console.print(table)
    for f in block.get("futures") or []:
        probs = ", ".join(f"P({k}) {v:.3f}" for k, v in f["regimes_at_horizon"].items())
        console.print(f"  future #{f['index']}: {probs}")
        for note in f.get("notes") or []:
            console.print(f"    note: {note}")
    for note in block.get("notes") or []:
        console.print(f"  note: {note}")


@app.command()
@user_errors
def forecast(
    arena: Optional[Path] = ARENA_ARG,
    engine: list[str] = typer.Option(["all"], "--engine", "-e", help="compromise, median, bdm, ... or all (repeatable or comma-separated)."),
    rounds: Optional[int] = typer.Option(None, "--rounds", min=0, help="Rounds of the dynamic engines (default: each engine's own)."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random stream of the run (0 to 2**32-1)."),
    option: list[str] = typer.Option([], "--option", "-O", help="Engine option ENGINE.KEY=VALUE, e.g. bdm.rounds=8 (repeatable)."),
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws", min=0, help="Monte Carlo draws over the arena's ranges (0: point forecasts only)."),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
    dist: str = typer.Option("triangular", "--dist", help="Distribution on {low, mode, high}: triangular or pert."),
    sobol_n: int = typer.Option(FORECAST_SOBOL_N, "--sobol-n", min=0, help="Sobol base sample per issue in the report (0: tornado only)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Run folder (default runs/<arena>-<timestamp>/)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Also write the result JSON to PATH, or - for stdout."),
    no_report: bool = typer.Option(False, "--no-report", help="Skip report.html."),
    lang: str = typer.Option("en", "--lang", help="Language of the actor names in the report's charts: en or ar."),
    no_dynamics: bool = typer.Option(False, "--no-dynamics", help="Skip the arena's dynamics section."),
    no_futures: bool = typer.Option(False, "--no-futures", help="Do not simulate the dynamics under every consistent future (the report's table)."),
    dynamics_paths: Optional[int] = typer.Option(None, "--dynamics-paths", min=1, help="Dynamics paths (default: one per draw)."),
    horizon: Optional[int] = typer.Option(None, "--horizon", min=1, help="Dynamics steps after as_of (default: the section's)."),
    dynamics_engine: Optional[str] = typer.Option(None, "--dynamics-engine", help="Engine whose per-draw forecasts feed the dynamics (default: compromise)."),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="Condition the dynamics on one consistent future: its number in `tawazun scenarios` or its variants."),
) -> None:
    """Forecast every issue of an arena with the bargaining engines; write result, manifest and report."""
    if lang not in LANGS:
        raise InputError(f"--lang: expected {' or '.join(LANGS)}, got {lang!r}")
    check_workers(workers, scheduler)
    loaded = load_arena(arena, forecast=True)
    engines = tuple(n.strip() for flag in engine for n in flag.split(",") if n.strip())
    with flag_names(FORECAST_FLAGS):
        # the futures (CIB search) only appear in the report: skip them without one
        config = ForecastConfig(engines=engines, seed=seed, rounds=rounds, options=parse_option_flags(option),
                                draws=draws, dist=dist, workers=workers, scheduler=scheduler,
                                sobol_n=sobol_n, scenarios=not no_report, dynamics=not no_dynamics,
                                dynamics_paths=dynamics_paths, horizon=horizon,
                                dynamics_engine=dynamics_engine, scenario=scenario,
                                dynamics_futures=not no_futures)
    folder = out or default_out(loaded.meta.id)
    # Refuse an unusable --out/--json before computing anything.
    check_folder_target(folder, RUN_FILES, "--out")
    if json_out and json_out != "-":
        check_file_target(json_out, "--json")
    with flag_names(FORECAST_FLAGS):
        with progress_bar("Monte Carlo draws") as progress:
            run = execute(loaded, config, progress=progress)
    payload = to_json(run)
    to_stdout = json_out == "-"
    console = Console(stderr=to_stdout)
    print_tables(run, console)
    print_questions(payload.get("questions", []), console)
    if run.dynamics is not None:
        print_dynamics(payload["dynamics"], console)

    man = manifest(run, arena_path=str(resolve(arena)), arena_sha256=arena_hash(arena),
                   command=" ".join(["tawazun", *sys.argv[1:]]))
    # Everything is rendered first, then the folder is written in one step (tawazun.files):
    # an error or Ctrl-C before the rename leaves no files.
    files = {"result.json": json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"}
    if not no_report:
        from tawazun.report.html import render

        files["report.html"] = render(run, man, lang=lang)
    files["manifest.json"] = json.dumps(man, ensure_ascii=False, indent=2) + "\n"
    write_folder_atomic(folder, files, "--out", replaceable=RUN_FILES)
    if json_out:
        write_json(json_out, payload)
    console.print(f"[bold]report:[/bold] {folder / 'report.html' if not no_report else '(skipped)'}")
    console.print(f"result: {folder / 'result.json'}  manifest: {folder / 'manifest.json'}")
