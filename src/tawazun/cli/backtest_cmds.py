"""`tawazun backtest deu3 PATH` (engines vs recorded EU decision outcomes) and
`tawazun backtest attacks PATH` (rolling-origin forecasts of monthly attack counts)."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Optional

import numpy as np
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


# ------------------------------------------------------------------------------ attacks

_ATTACK_MODELS_ORDER = ("hawkes", "poisson", "negbin", "persistence")


def _attacks_table(doc: dict) -> Table:
    s = doc["settings"]
    t = Table(title=f"Attacks backtest: {doc['n_events']} events, {len(doc['origins'])} origins "
                    f"{doc['origins'][0]}…{doc['origins'][-1]}, {s['paths']} paths, seed {s['seed']}")
    for col in ("model", "h", "CRPS", "log score", "ΔCRPS vs poisson [95%]", "Δlog vs poisson [95%]"):
        t.add_column(col, justify="left" if col == "model" else "right", no_wrap=True)
    t.caption = ("monthly counts of REPORTED events in this sample; lower is better; "
                 f"Δ = model − poisson, bootstrap over blocks of {doc['bootstrap']['block_origins']} origins")
    for m in _ATTACK_MODELS_ORDER:
        rows = doc["scores"][m]
        for h, r in rows.items():
            def ci(key: str) -> str:
                v = r.get(key)
                return "—" if v is None else f"{v['mean']:+.2f} [{v['lo']:+.2f}, {v['hi']:+.2f}]"
            t.add_row(m if h == "1" else "", h, f"{r['crps']:.3f}", f"{r['log']:.3f}",
                      ci("crps_vs_poisson"), ci("log_vs_poisson"),
                      end_section=h == "all")
    return t


@backtest_app.command("attacks")
@user_errors
def attacks(
    path: Path = typer.Argument(..., help="Attack event list (CSV, data/attacks/ layout)."),
    origins: str = typer.Option("2020-01:2022-07", "--origins",
                                help="First:last origin month, YYYY-MM:YYYY-MM (month starts)."),
    horizons: int = typer.Option(6, "--horizons", help="Months ahead forecast from each origin."),
    paths: int = typer.Option(2000, "--paths", help="Simulated Hawkes paths per origin."),
    seed: int = typer.Option(2026, "--seed", help="Seed of event placement, paths and bootstrap."),
    month_rows: str = typer.Option("uniform", "--month-rows",
                                   help="Month-precision rows: uniform (random day in the month) | mid."),
    state_strikes: bool = typer.Option(False, "--state-strikes/--no-state-strikes",
                                       help="Count the Iranian state missile strikes (default: no)."),
    targets: Optional[str] = typer.Option(None, "--targets",
                                          help="Comma-separated target types to count (default: all)."),
    block: int = typer.Option(3, "--block", help="Consecutive origins per bootstrap block."),
    boot: int = typer.Option(2000, "--boot", help="Bootstrap replicates for the differences."),
    json_path: Optional[str] = typer.Option(None, "--json", help="Also write the JSON here ('-' = stdout)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Folder for backtest.json."),
) -> None:
    """Rolling-origin backtest of monthly attack counts: Hawkes vs Poisson, NB, persistence."""
    from tawazun.cli.progress import progress_bar
    from tawazun.evaluation import attacks as A
    from tawazun.random import generator

    problems = []
    o_range: tuple[int, int] | None = None
    first, sep, last = origins.partition(":")
    try:
        if not sep:
            raise ValueError(f"expected START:END, got {origins!r}")
        o_range = (A.parse_month(first), A.parse_month(last))
        if o_range[1] < o_range[0]:
            raise ValueError(f"the last origin {last} is before the first {first}")
    except ValueError as exc:
        problems.append(f"--origins: {exc}")
    if horizons < 1:
        problems.append(f"--horizons: must be at least 1, got {horizons}")
    if paths < 10:
        problems.append(f"--paths: must be at least 10, got {paths}")
    if month_rows not in ("uniform", "mid"):
        problems.append(f"--month-rows: expected uniform or mid, got {month_rows!r}")
    if block < 1:
        problems.append(f"--block: must be at least 1, got {block}")
    if boot < 10:
        problems.append(f"--boot: must be at least 10, got {boot}")
    wanted = None
    if targets is not None:
        wanted = [x.strip() for x in targets.split(",") if x.strip()]
        bad = [x for x in wanted if x not in A.TARGET_TYPES]
        if bad or not wanted:
            problems.append(f"--targets: unknown {', '.join(map(repr, bad)) or 'empty list'}; "
                            f"known: {', '.join(A.TARGET_TYPES)}")
    if problems:
        raise InputError(problems)
    assert o_range is not None

    events = A.load_attacks(path)
    kept, dropped = A.select_events(events, state_strikes=state_strikes, targets=wanted)
    # the window: whole calendar years from the first to the last row's year (the list's
    # declared coverage), so quiet months at either end count as zeros
    first_month = min(e.date for e in events).year * 12
    n_months = (max(e.date for e in events).year + 1) * 12 - first_month
    lo, hi = o_range
    if lo - first_month < A.MIN_HISTORY_MONTHS:
        raise InputError(f"--origins: the first origin {A.month_label(lo)} has "
                         f"{max(lo - first_month, 0)} months of history from "
                         f"{A.month_label(first_month)}; it needs {A.MIN_HISTORY_MONTHS}")
    if hi + horizons > first_month + n_months:
        raise InputError(f"--origins: the last origin {A.month_label(hi)} with --horizons {horizons} "
                         f"reaches {A.month_label(hi + horizons - 1)}, past the data's end "
                         f"{A.month_label(first_month + n_months - 1)}")
    if len(kept) < 3:
        raise InputError(f"{path}: {len(kept)} events selected; the Hawkes fit needs at least 3")
    times = A.event_times(kept, first_month, generator(seed, "attacks", "times", 0), month_rows)
    if np.count_nonzero(times < A.month_edges(first_month, lo - first_month)[-1]) < 3:
        raise InputError(f"--origins: fewer than 3 selected events before the first origin "
                         f"{A.month_label(lo)}; the Hawkes fit needs at least 3")

    with progress_bar("Origins") as cb:
        doc = A.run_attacks_backtest(times, first_month, n_months, range(lo, hi + 1),
                                     horizons=horizons, paths=paths, seed=seed, block=block,
                                     n_boot=boot, progress=cb)
    parts = ["tawazun", "backtest", "attacks", str(path), "--origins", f"{A.month_label(lo)}:{A.month_label(hi)}",
             "--horizons", str(horizons), "--paths", str(paths), "--seed", str(seed),
             "--month-rows", month_rows, "--block", str(block), "--boot", str(boot)]
    if state_strikes:
        parts.append("--state-strikes")
    if wanted:
        parts += ["--targets", ",".join(wanted)]
    doc = {
        "command": " ".join(shlex.quote(a) for a in parts),
        "settings": {"path": str(path), "paths": paths, "seed": seed, "month_rows": month_rows,
                     "state_strikes": state_strikes, "targets": wanted or list(A.TARGET_TYPES),
                     "persistence_floor": A.PERSISTENCE_FLOOR,
                     "min_history_months": A.MIN_HISTORY_MONTHS},
        "data": {"rows": len(events), "kept": len(kept), "dropped": dropped,
                 "month_precision_kept": sum(e.precision == "month" for e in kept)},
        **doc,
    }

    console = Console(stderr=json_path == "-")
    if not console.is_terminal:
        console.width = 160
    console.print(_attacks_table(doc))
    d = doc["hawkes_diagnostics"]
    console.print(f"kept {len(kept)} of {len(events)} rows (dropped {dropped}); Hawkes fits: "
                  f"{d['fits_branching_ratio_ge_1']} with branching ratio ≥ 1, "
                  f"{d['fits_not_converged']} not converged; {d['outcomes_above_every_path']} of "
                  f"{d['cases']} outcomes above every simulated path")
    if out is not None:
        write_json(out / "backtest.json", doc)
        console.print(f"wrote {out / 'backtest.json'}")
    if json_path:
        write_json(json_path, doc)
