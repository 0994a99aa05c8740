"""`tawazun sensitivity`: which stances move a forecast (tornado and Sobol tables)."""

from __future__ import annotations

import math
from typing import Any, Optional

import typer

from tawazun.cli.common import check_seed, user_errors, write_json
from tawazun.cli.app import app
from tawazun.errors import InputError


def _fmt(x: Any, digits: int = 3) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:.{digits}g}" if isinstance(x, float) else str(x)


def _parse_options(items: list[str], engine: str) -> dict[str, str]:
    """``ENGINE.KEY=VALUE`` as on `tawazun forecast` (``KEY=VALUE`` also accepted: the
    command runs one engine)."""
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--option: expected ENGINE.KEY=VALUE, got {item!r}")
        head, dot, tail = key.strip().partition(".")
        if dot:
            if head != engine:
                raise InputError(f"--option: {item!r} is for engine {head!r}, this run uses {engine!r}")
            key = tail
        out[key.strip()] = value.strip()
    return out


def _deprecated(old: str, new: str) -> None:
    typer.echo(f"warning: {old} is deprecated and will be removed in the next release; use {new}", err=True)


def sensitivity_payload(arena_ref: str | None, issue: str, engine: str, draws: int, seed: int,
                        dist: str, options: dict[str, str] | None = None,
                        with_sobol: bool = True) -> dict[str, Any]:
    """Everything the command prints, as a JSON-able dict."""
    from tawazun.arena import load_arena
    from tawazun.arena.compile import ranged_problem
    from tawazun.uncertainty.ensemble import resolve_engine
    from tawazun.uncertainty.sensitivity import sobol, tornado

    arena = load_arena(arena_ref, forecast=True)
    ids = [i.id for i in arena.issues]
    if issue not in ids:
        raise InputError(f"--issue: {issue!r} is not an issue of {arena.meta.id}; known: {', '.join(ids)}")
    spec, opts = resolve_engine(engine, options or None)
    joint = bool(getattr(spec, "joint", spec.max_dims != 1))
    ranged = ranged_problem(arena, issue, joint=joint)
    payload: dict[str, Any] = {
        "arena": arena.meta.id, "issue": issue, "engine": spec.name, "dims": list(ranged.dims),
        "seed": seed, "dist": dist,
        "tornado": tornado(ranged, spec, opts, dim=issue),
    }
    payload["base"] = payload["tornado"][0]["base"] if payload["tornado"] else \
        float(spec.run(ranged.point(), opts, None).forecast[0, list(ranged.dims).index(issue)])
    if with_sobol:
        from tawazun.cli.progress import progress_bar

        with progress_bar("Sobol") as bar:
            res = sobol(ranged, spec, opts, n=draws, seed=seed, dist=dist, dim=issue, progress=bar)
        payload["sobol"] = res.to_dict()
    return payload


def print_tables(payload: dict[str, Any], top: int, console: Any = None) -> None:
    from rich.console import Console
    from rich.table import Table

    con = console or Console()
    con.print(f"[bold]{payload['arena']}[/] / [bold]{payload['issue']}[/] with "
              f"[bold]{payload['engine']}[/]: forecast at the modes = {_fmt(payload['base'], 4)}")
    tor = Table(title=f"Tornado: forecast with one input at its low / high (top {top})",
                title_justify="left")
    rows = payload["tornado"][:top]
    width = min(40, max([len(r["label"]) for r in rows] + [5]))
    for col, just in (("#", "right"), ("input", "left"), ("range", "right"),
                      ("at low", "right"), ("at high", "right"), ("swing", "right")):
        tor.add_column(col, justify=just, overflow="fold",  # type: ignore[arg-type]
                       min_width=width if col == "input" else None)
    for k, r in enumerate(rows, 1):
        tor.add_row(str(k), r["label"], f"{_fmt(r['low'])} .. {_fmt(r['high'])}",
                    _fmt(r["forecast_low"], 4), _fmt(r["forecast_high"], 4), _fmt(r["swing"], 3))
    con.print(tor)
    if "sobol" in payload:
        s = payload["sobol"]
        level = int(round(100 * s["conf_level"]))
        tab = Table(title=(f"Sobol indices (N={s['n']}, {s['evaluations']} engine runs, {s['dist']}, "
                           f"seed {s['seed']}; ± = {level}% CI half-width; top {top})"),
                    title_justify="left")
        width = min(40, max([len(r["input"]) for r in s["indices"][:top]] + [5]))
        for col, just in (("input", "left"), ("S1", "right"), ("± S1", "right"),
                          ("ST", "right"), ("± ST", "right")):
            tab.add_column(col, justify=just, overflow="fold",  # type: ignore[arg-type]
                           min_width=width if col == "input" else None)
        for r in s["indices"][:top]:
            tab.add_row(r["input"], f"{r['S1']:.3f}", f"{r['S1_conf']:.3f}", f"{r['ST']:.3f}",
                        f"{r['ST_conf']:.3f}")
        con.print(tab)
        if s.get("note"):
            con.print(s["note"])


@app.command("sensitivity")
@user_errors
def sensitivity_cmd(
    arena: Optional[str] = typer.Argument(None, help="Arena file or shipped arena name (default: the shipped arena)."),
    issue: str = typer.Option(..., "--issue", help="Issue id whose forecast is analysed."),
    engine: str = typer.Option("median", "--engine", "-e", help="Engine name (see the registry)."),
    sobol_n: int = typer.Option(512, "--sobol-n", help="Sobol base sample N, rounded up to a power of two; the engine runs N x (inputs + 2) cases."),
    draws_old: Optional[int] = typer.Option(None, "--draws", hidden=True, help="Deprecated name of --sobol-n."),
    seed: int = typer.Option(0, "--seed", help="Seed of the Sobol sample and its bootstrap."),
    dist: str = typer.Option("triangular", "--dist", help="Distribution on each range: triangular, pert or uniform."),
    top: int = typer.Option(15, "--top", help="Rows shown per table."),
    with_sobol: bool = typer.Option(True, "--sobol/--no-sobol", help="Also compute Sobol indices."),
    option: list[str] = typer.Option([], "--option", "-O", help="Engine option ENGINE.KEY=VALUE (repeatable), as on `tawazun forecast`."),
    option_old: list[str] = typer.Option([], "-o", hidden=True, help="Deprecated short name of --option."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the results as JSON to PATH, or '-' for stdout."),
) -> None:
    """Rank the ranged inputs by how much they move the forecast: tornado and Sobol tables."""
    check_seed(seed)
    if draws_old is not None:
        _deprecated("--draws", "--sobol-n (on `tawazun forecast`, --draws counts Monte Carlo draws)")
        sobol_n = draws_old
    if option_old:
        _deprecated("-o", "-O / --option (-o means --out elsewhere)")
    options = _parse_options([*option, *option_old], engine)
    payload = sensitivity_payload(arena, issue, engine, sobol_n, seed, dist, options, with_sobol)
    if json_out != "-":
        print_tables(payload, top)
    if json_out:
        write_json(json_out, payload)
