"""`tawazun backtest deu3 PATH`: score the engines against recorded EU decision outcomes."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from tawazun.cli.common import SEED_MAX, check_file_target, user_errors, write_json
from tawazun.cli.app import app
from tawazun.errors import InputError
from tawazun.files import check_folder_target, write_folder_atomic

BACKTEST_FILES = ("backtest.json", "backtest.html")
backtest_app = typer.Typer(
    help="Score engines out of fold against recorded decision outcomes.", no_args_is_help=True
)
app.add_typer(backtest_app, name="backtest")


def _table(summary: dict) -> Table:
    t = Table(title=f"DEU backtest: {summary['n_issues']} issues, "
                    f"{summary['folds']['k']}-fold grouped CV, capability "
                    f"{summary['capability']['name']}, seed {summary['seed']}")
    for col in ("engine", "kind", "MAE", "RMSE", "≤10", "CRPS", "cov50", "cov80",
                "ΔMAE [95%]", "ΔCRPS [95%]", "failed"):
        t.add_column(col, justify="left" if col in ("engine", "kind") else "right", no_wrap=True)
    t.caption = "Δ = engine − compromise, mean over issues, 95% bootstrap over proposals"
    for name, e in summary["engines"].items():
        d = summary["differences"].get(name)

        def ci(key: str) -> str:
            if d is None:
                return "—"
            v = d[key]
            return f"{v['mean']:+.2f} [{v['lo']:+.2f}, {v['hi']:+.2f}]"

        t.add_row(name, e["kind"], f"{e['mae']:.2f}", f"{e['rmse']:.2f}", f"{e['within10']:.3f}",
                  f"{e['crps']:.2f}", f"{e['coverage50']:.2f}", f"{e['coverage80']:.2f}",
                  ci("abs_error"), ci("crps"), str(e["n_failed"]))
    return t


@backtest_app.command("deu3")
@user_errors
def deu3(
    path: Path = typer.Argument(..., help="DEU III tab-separated file (read in place)."),
    engines: Optional[str] = typer.Option(
        None, "--engines", help="Comma-separated engines and fitted models (default: all)."),
    capability: str = typer.Option("council", "--capability", help="equal | council"),
    draws: int = typer.Option(1000, "--draws", help="Monte Carlo draws per issue for the sampled CRPS."),
    folds: int = typer.Option(5, "--folds", help="K for the grouped (by proposal) K-fold split."),
    seed: int = typer.Option(2026, "--seed", help="Seed of the split, draws and bootstrap."),
    json_path: Optional[str] = typer.Option(None, "--json", help="Also write the JSON here ('-' = stdout)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for backtest.json and backtest.html."),
    boot: int = typer.Option(2000, "--boot", help="Bootstrap replicates for the paired differences."),
) -> None:
    """Out-of-fold backtest of every engine on DEU III issues."""
    from tawazun.evaluation.capability import SCHEMES
    from tawazun.evaluation.deu import load_deu
    from tawazun.evaluation.protocol import all_choices, run_backtest
    from tawazun.evaluation.report import render_html

    problems = []
    if capability not in SCHEMES:
        problems.append(f"--capability: unknown scheme {capability!r}; known: {', '.join(SCHEMES)}")
    if draws < 1:
        problems.append(f"--draws: must be at least 1, got {draws}")
    if boot < 10:
        problems.append(f"--boot: must be at least 10, got {boot}")
    if folds < 2:
        problems.append(f"--folds: must be at least 2, got {folds}")
    wanted = None
    if engines:
        wanted = [e.strip() for e in engines.split(",") if e.strip()]
        known = all_choices()
        bad = [e for e in wanted if e not in known]
        if bad:
            problems.append(f"--engines: unknown {', '.join(map(repr, bad))}; available: {', '.join(known)}")
    if not 0 <= seed <= SEED_MAX:
        problems.append(f"--seed: must be between 0 and {SEED_MAX}, got {seed}")
    if problems:
        raise InputError(problems)
    if out is not None:  # before any computing
        check_folder_target(out, BACKTEST_FILES, "--out")
    if json_path and json_path != "-":
        check_file_target(json_path, "--json")

    data = load_deu(path)
    n_prop = len(data.proposals)
    if not data.issues:
        raise InputError(f"{path}: no issue with an outcome and a position to backtest")
    if folds > n_prop:
        raise InputError(f"--folds: {folds} folds but only {n_prop} proposals with usable issues")

    result = run_backtest(data, wanted, scheme=capability, k=folds, seed=seed, draws=draws,
                          n_boot=boot)
    summary = result.to_json()
    parts = ["tawazun", "backtest", "deu3", str(path), "--capability", capability,
             "--draws", str(draws), "--folds", str(folds), "--seed", str(seed)]
    if wanted:
        parts += ["--engines", ",".join(wanted)]
    if boot != 2000:
        parts += ["--boot", str(boot)]
    command = " ".join(shlex.quote(a) for a in parts)
    summary["command"] = command

    console = Console(stderr=json_path == "-")
    if not console.is_terminal:
        console.width = 160  # pipes and files: do not squeeze the table to 80 columns
    console.print(_table(summary))
    sk = summary["skipped"]
    console.print(f"kept {sk['issues_kept']} issues of {sk['rows']} rows "
                  f"({sk['proposals_kept']} proposals); skipped {sk['issues_skipped']} "
                  f"{sk['issues_skipped_by_reason']}; saliences imputed: {sk['saliences_imputed']}")
    if out is not None:
        write_folder_atomic(out, {
            "backtest.json": json.dumps(summary, ensure_ascii=False, indent=2, allow_nan=False) + "\n",
            "backtest.html": render_html(result, command),
        }, "--out")
        console.print(f"wrote {out / 'backtest.json'} and {out / 'backtest.html'}")
    if json_path:
        write_json(json_path, summary)
