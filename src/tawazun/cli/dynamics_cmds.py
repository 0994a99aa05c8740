"""`tawazun simulate`: the arena's dynamics section (attacks, protests, the armed balance) over time."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from tawazun.cli.common import (SCHEDULER_HELP, WORKERS_HELP, check_file_target, check_seed, check_workers, flag_names,
                                 user_errors, write_json)
from tawazun.cli.app import app
from tawazun.errors import InputError
from tawazun.files import check_folder_target, write_folder_atomic

SIM_FILES = ("result.json", "manifest.json")

ARENA_ARG = typer.Argument(None, help="Arena YAML file with a dynamics section (default: the shipped arena).",
                           show_default=False)


@app.command()
@user_errors
def simulate(
    arena: Optional[Path] = ARENA_ARG,
    horizon: Optional[int] = typer.Option(None, "--horizon", help="Steps after the arena's as_of (default: the section's horizon)."),
    paths: int = typer.Option(1000, "--paths", help="Monte Carlo paths."),
    seed: int = typer.Option(0, "--seed", help="Seed of every random stream of the run."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the result JSON to PATH, or - for stdout."),
    out: Optional[Path] = typer.Option(None, "--out", help="Also write result.json and manifest.json into this folder."),
    scenario: Optional[str] = typer.Option(None, "--scenario", help="Condition on one consistent future of the arena's CIB matrix: its number in `tawazun scenarios` (1-based) or its variants (comma-separated in descriptor order, or DESCRIPTOR=VARIANT pairs)."),
    workers: int = typer.Option(1, "--workers", help=WORKERS_HELP + " Blocks of 1000 paths; the numbers do not depend on it."),
    scheduler: Optional[str] = typer.Option(None, "--scheduler", help=SCHEDULER_HELP),
) -> None:
    """Simulate the security system over time: series quantiles per step and regime probabilities."""
    from rich.console import Console
    from rich.table import Table

    from tawazun import __version__
    from tawazun.arena import arena_hash, load_arena, resolve
    from tawazun.dynamics.simulate import simulate as run_sim, to_json

    check_seed(seed)
    if paths < 1:
        raise InputError(f"--paths: must be at least 1, got {paths}")
    if horizon is not None and horizon < 1:
        raise InputError(f"--horizon: must be at least 1, got {horizon}")
    check_workers(workers, scheduler)
    loaded = load_arena(arena)
    if loaded.dynamics is None:
        raise InputError(f"{resolve(arena)}:1: dynamics: the arena has no dynamics section")
    if out is not None:  # before any computing
        check_folder_target(out, SIM_FILES, "--out")
    if json_out and json_out != "-":
        check_file_target(json_out, "--json")
    covariates = None
    chosen = None
    if scenario is not None:
        from tawazun.dynamics.simulate import scenario_covariates, section_of
        from tawazun.forecast import consistent_futures, future_variants

        if loaded.scenarios is None:
            raise InputError(f"{resolve(arena)}:1: scenarios: the arena has no scenarios section to condition on")
        with flag_names({"scenario": "--scenario"}):
            k, variants = future_variants(loaded.scenarios, scenario, consistent_futures(loaded))
        chosen = {"index": k, "variants": variants}
        covariates = scenario_covariates(section_of(loaded), variants, paths)
    from tawazun.cli.progress import progress_bar

    with progress_bar("Dynamics paths") as progress:
        res = run_sim(loaded, paths=paths, horizon=horizon, seed=seed, covariates=covariates,
                      workers=workers, scheduler=scheduler, progress=progress)
    payload = to_json(res)
    if chosen is not None:
        payload["scenario"] = chosen

    console = Console(stderr=json_out == "-")
    picks = sorted({0, len(res.steps) // 2, len(res.steps) - 1})
    table = Table(title=f"{loaded.meta.title}: {paths} paths, seed {seed}",
                  caption="series: mean (10th–90th percentile) at the end of the step; P: share of paths in the regime")
    table.add_column("series")
    for i in picks:
        table.add_column(res.steps[i].isoformat(), justify="right")
    for name, s in res.series.items():
        table.add_row(name, *[f"{s['mean'][i]:.3g} ({s['0.1'][i]:.3g}–{s['0.9'][i]:.3g})" for i in picks])
    for name, p in res.regimes.items():
        table.add_row(f"P({name})", *[f"{p[i]:.2f}" for i in picks])
    console.print(table)
    for note in res.notes:
        console.print(f"note: {note}")

    if out is not None:
        man = {
            "tawazun_version": __version__,
            "arena": {"id": loaded.meta.id, "path": str(resolve(arena)), "sha256": arena_hash(arena)},
            "seed": seed, "paths": paths, "horizon": res.horizon, "scenario": scenario,
            "workers": workers, "scheduler": scheduler,
            "command": " ".join(["tawazun", *sys.argv[1:]]),
            "python": sys.version.split()[0],
        }
        result_text = json.dumps(payload, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
        write_folder_atomic(out, {"result.json": result_text,
                                  "manifest.json": json.dumps(man, ensure_ascii=False, indent=2) + "\n"}, "--out")
        console.print(f"result: {out / 'result.json'}  manifest: {out / 'manifest.json'}")
    if json_out:
        write_json(json_out, payload)
