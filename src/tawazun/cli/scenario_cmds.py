"""`tawazun scenarios` (CIB analysis) and the `scw` / `cibcsv` import and export commands."""

from __future__ import annotations

import contextlib
import time
from enum import Enum
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

import typer

from tawazun.cli.common import atomic_write_text, check_seed, user_errors, write_json
from tawazun.cli.app import app, export_app, import_app
from tawazun.errors import InputError
from tawazun.scenarios.analysis import analyse



class SuccessionChoice(str, Enum):
    global_ = "global"
    local = "local"


class TieChoice(str, Enum):
    keep = "keep"
    lowest = "lowest"


class MethodChoice(str, Enum):
    auto = "auto"
    static = "static"
    fcff = "fcff"
    prop = "prop"


def load_section(source: Optional[Path]):  # -> ScenariosSection
    """A section from .scw, .csv or YAML (an arena or a file with a top-level `scenarios:`).

    None: the default arena; a shipped arena's name (``iraq-2021``) is accepted too.
    """
    from tawazun.scenarios import io as cio

    from tawazun.arena.load import load_arena, resolve

    path = Path(resolve(source))
    if not path.exists():
        raise InputError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix == ".scw":
        return cio.section_from_dict(cio.read_scw(path), str(path))
    if suffix == ".csv":
        return cio.section_from_dict(cio.read_cibcsv(path), str(path))
    if suffix in (".yaml", ".yml"):
        if _is_arena(path):
            # an arena: its typed section, validated with the rest of the file
            arena = load_arena(path)
            if arena.scenarios is None:
                raise InputError(f"{path}:1: scenarios: missing (this arena has no 'scenarios:' section)")
            return arena.scenarios
        section, _ = cio.read_yaml(path)  # a bare section file (what `import scw/cibcsv` writes)
        return section
    raise InputError(f"{path}: unknown file type {suffix or '(none)'}: expected .yaml, .scw or .csv")


def _is_arena(path: Path) -> bool:
    import yaml

    from tawazun.files import read_text

    try:
        data = yaml.load(read_text(path, "YAML file"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # noqa: S506
    except yaml.YAMLError:
        return False  # read_yaml reports it with its line
    return isinstance(data, dict) and "arena" in data


def _print_table(payload: dict[str, Any], title: str) -> None:
    from rich.console import Console
    from rich.table import Table

    descs = [d["id"] for d in payload["descriptors"]]
    ens = any("frequency" in r for r in payload["scenarios"])
    # the width the tableau needs; a terminal narrower than that folds cells instead
    widths = [max([len(d)] + [len(r["variants"][d]) for r in payload["scenarios"]]) for d in descs]
    needed = sum(w + 3 for w in widths) + 40
    console = Console()
    if not console.is_terminal:
        console = Console(width=max(80, needed))
    table = Table(title=title, show_lines=False)
    table.add_column("#", justify="right")
    for d in descs:
        table.add_column(d, overflow="fold")
    table.add_column("IC", justify="right")
    table.add_column("TIS", justify="right")
    table.add_column("CV", justify="right")
    if ens:
        table.add_column("freq", justify="right")
    for i, r in enumerate(payload["scenarios"], 1):
        cells = [str(i), *[r["variants"][d] for d in descs], str(r["inconsistency"]), str(r["tis"]), str(r["consistency"])]
        if ens:
            cells.append(f"{r['frequency']:.3f}")
        table.add_row(*cells)
    console.print(table)
    console.print(f"{len(payload['scenarios'])} scenario(s); search nodes evaluated: {payload['evaluated']}")
    suc = payload.get("succession")
    if suc:
        st = Table(title=f"{suc['mode']} succession (tie rule: {suc['tie']}), {suc['starts']} start(s)")
        st.add_column("kind")
        for d in descs:
            st.add_column(d)
        st.add_column("basin", justify="right")
        for a in suc["attractors"]:
            for k, state in enumerate(a["states"]):
                st.add_row(a["kind"] if k == 0 else "", *[state[d] for d in descs], str(a["basin"]) if k == 0 else "")
        console.print(st)
        if suc["unfinished"]:
            console.print(f"{suc['unfinished']} start(s) did not settle within the step limit")


@app.command("scenarios")
@user_errors
def scenarios_cmd(
    source: Optional[Path] = typer.Argument(None, help="Arena YAML or shipped arena name, .scw or .csv (default: the shipped Iraq-2021 arena)."),
    tolerance: int = typer.Option(0, "--tolerance", "-k", min=0, help="List scenarios with inconsistency <= k."),
    succession: Optional[SuccessionChoice] = typer.Option(None, "--succession", help="Also run succession from every (or sampled) start."),
    tie: TieChoice = typer.Option(TieChoice.keep, "--tie", help="Tie rule in succession."),
    starts: Optional[int] = typer.Option(None, "--starts", min=1, help="Sample this many succession starts (default: all, or 10000 above 200000 scenarios)."),
    draws: int = typer.Option(0, "--draws", min=0, help="Ensemble: sample judgment ranges this many times."),
    seed: int = typer.Option(0, "--seed", help="Seed for draws and sampled starts."),
    method: MethodChoice = typer.Option(MethodChoice.auto, "--method", help="Search strategy (auto: prop, or static on a complete matrix)."),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", min=0, help="Stop the search after about this long; the list is then marked incomplete."),
    expert: Optional[list[Path]] = typer.Option(None, "--expert", help="Another expert's matrix (same descriptors and variants); repeatable. Adds frequencies."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the result as JSON to PATH ('-' = stdout)."),
    fix: Optional[list[str]] = typer.Option(None, "--fix", help="Pin a descriptor, DESCRIPTOR=VARIANT (repeatable): list the consistent completions."),
) -> None:
    """Cross-impact balance: the consistent scenarios of a CIB matrix."""
    check_seed(seed)
    section = load_section(source)
    if fix:
        from tawazun.cli.loop_cmds import print_fixed

        return print_fixed(section, fix, tolerance, json_out)
    others = []
    for path in expert or []:
        other = load_section(path)
        if _shape(other) != _shape(section):
            raise InputError(f"{path}: descriptors or variants differ from the main matrix's")
        others.append(other)
    with search_progress(section, tolerance, method.value, seed) as progress:
        payload = analyse(
            section,
            tolerance=tolerance,
            succession=succession.value if succession else None,
            tie=tie.value,
            starts=starts,
            draws=draws,
            seed=seed,
            method=method.value,
            experts=others,
            max_seconds=max_seconds,
            progress=progress,
        )
    if json_out is not None:
        write_json(json_out, payload)
    if json_out != "-":
        name = "Iraq 2021 (shipped)" if source is None else str(source)
        _print_table(payload, f"Consistent scenarios (IC <= {tolerance}): {name}")
    if not payload["complete"]:
        typer.echo(f"warning: search stopped after {max_seconds:g} s and {payload['evaluated']:,} nodes: "
                   "the list may be missing scenarios (\"complete\": false)", err=True)


# scenario spaces above this get a tree-size estimate before the search starts
ESTIMATE_ABOVE = 10**10


@contextlib.contextmanager
def search_progress(section: Any, tolerance: int, method: str, seed: int) -> Iterator[Callable[[int], None]]:
    """A ``progress(nodes)`` callback for the exact search, drawn on a terminal's stderr
    once the search has run for a second. Large spaces first get Knuth's estimate of the
    tree (a line on stderr, then the bar's total), so a search of months is seen as such
    at the start instead of after a wait."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from tawazun.scenarios import cib
    from tawazun.scenarios.model import to_arrays

    con = Console(stderr=True)
    arr = to_arrays(section)
    estimate = None
    if cib.n_scenarios(arr.counts) > ESTIMATE_ABOVE:
        mean, _ = cib.estimate_nodes(arr.matrix, arr.counts, method, probes=100, seed=seed, tolerance=tolerance)
        estimate = max(mean, 1.0)
        typer.echo(f"search: about {estimate:.2g} nodes by Knuth's estimate (100 random probes; an order of "
                   "magnitude, not a promise); Ctrl-C stops it, --max-seconds caps it", err=True)
    t0 = time.monotonic()
    state: dict[str, Any] = {"bar": None}

    def progress(nodes: int) -> None:
        if state["bar"] is None:
            if not con.is_terminal or time.monotonic() - t0 < 1.0:
                return
            bar = Progress(TextColumn("exact search"), BarColumn(), TextColumn("{task.fields[nodes]}"),
                           TimeElapsedColumn(), console=con, transient=True)
            bar.start()
            state["bar"] = bar
            state["task"] = bar.add_task("search", total=estimate, nodes="")
        rate = nodes / max(time.monotonic() - t0, 1e-9)
        text = f"{nodes:,} nodes, {rate:,.0f}/s"
        if estimate:
            text += f", ~{100 * min(nodes / estimate, 0.99):.0f}% of the estimate"
            if rate > 0 and nodes < estimate:
                text += f", ~{_duration((estimate - nodes) / rate)} left at this rate"
        state["bar"].update(state["task"], completed=min(nodes, estimate) if estimate else None, nodes=text)

    try:
        yield progress
    finally:
        if state["bar"] is not None:
            state["bar"].stop()


def _duration(seconds: float) -> str:
    """A rough human duration: '40 s', '12 min', '5.3 h', '46 days', '3.1 years'."""
    for unit, size in (("years", 365 * 86400), ("days", 86400), ("h", 3600), ("min", 60)):
        if seconds >= 2 * size:
            value = seconds / size
            return f"{value:.1f} {unit}" if value < 10 else f"{value:,.0f} {unit}"
    return f"{seconds:.0f} s"


def _shape(section: Any) -> list[tuple[str, list[str]]]:
    return [(d.id, [v.id for v in d.variants]) for d in section.descriptors]


def _write_import(section: Any, name: str, out: Path) -> None:
    from tawazun.scenarios import io as cio

    atomic_write_text(out, cio.section_yaml(section, [cio.import_source(name)]))
    typer.echo(f"wrote {out}")


@import_app.command("scw")
@user_errors
def import_scw(
    file: Path = typer.Argument(..., help="ScenarioWizard project (.scw)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="YAML to write (default: FILE with .yaml)."),
) -> None:
    """ScenarioWizard .scw -> YAML holding a `scenarios:` section."""
    from tawazun.scenarios import io as cio

    section = cio.section_from_dict(cio.read_scw(file), str(file))
    _write_import(section, file.name, out or file.with_suffix(".yaml"))


@import_app.command("cibcsv")
@user_errors
def import_cibcsv(
    file: Path = typer.Argument(..., help="CIB matrix as CSV (header of variant labels)."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="YAML to write (default: FILE with .yaml)."),
) -> None:
    """CSV cross-impact matrix -> YAML holding a `scenarios:` section."""
    from tawazun.scenarios import io as cio

    section = cio.section_from_dict(cio.read_cibcsv(file), str(file))
    _write_import(section, file.name, out or file.with_suffix(".yaml"))


def _note_ranges(section: Any) -> None:
    from tawazun.scenarios.model import to_arrays

    if to_arrays(section).has_ranges:
        typer.echo("note: judgment ranges were written as their modes", err=True)


@export_app.command("scw")
@user_errors
def export_scw(
    file: Optional[Path] = typer.Argument(None, help="YAML with a `scenarios:` section (default: shipped Iraq-2021)."),
    out: Path = typer.Option(..., "--out", "-o", help=".scw file to write."),
) -> None:
    """`scenarios:` section -> ScenarioWizard .scw."""
    from tawazun.scenarios import io as cio

    section = load_section(file)
    atomic_write_text(out, cio.write_scw(section, out.name))
    _note_ranges(section)
    typer.echo(f"wrote {out}")


@export_app.command("cibcsv")
@user_errors
def export_cibcsv(
    file: Optional[Path] = typer.Argument(None, help="YAML with a `scenarios:` section (default: shipped Iraq-2021)."),
    out: Path = typer.Option(..., "--out", "-o", help=".csv file to write."),
) -> None:
    """`scenarios:` section -> CSV matrix (`descriptor.variant` labels)."""
    from tawazun.scenarios import io as cio

    section = load_section(file)
    atomic_write_text(out, cio.write_cibcsv(section))
    _note_ranges(section)
    typer.echo(f"wrote {out}")


__all__ = ["analyse", "load_section", "scenarios_cmd"]
