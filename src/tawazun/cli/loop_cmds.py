"""`tawazun whatif`, `levers`, `seal`, `audit`, `resolve`: the analyst's loop (docs/loop.md)."""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
from importlib import resources
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.table import Table

from tawazun import __version__
from tawazun.arena import load_arena, resolve
from tawazun.cli.app import app
from tawazun.cli.arena_cmds import ARENA_ARG
from tawazun.cli.common import atomic_write_text, emit, flag_names, user_errors, write_json
from tawazun.errors import InputError
from tawazun.files import read_bytes, read_text
from tawazun.forecast import DEFAULT_DRAWS, ForecastConfig, execute, parse_option_flags, to_json

WHATIF_FLAGS = {"set": "--set", "fix": "--fix", "engines": "--engine", "draws": "--draws", "seed": "--seed",
                "options": "--option", "dist": "--dist"}
LEVER_FLAGS = {"actor": "--actor", "issue": "--issue", "goal": "--goal", "step": "--step", "budget": "--budget",
               "intervals": "--intervals",
               "draws": "--draws", "engine": "--engine", "options": "--option", "engines": "--engine"}
LEDGER_OPT = typer.Option(Path("ledger.jsonl"), "--ledger", help="The ledger (JSON Lines; default ./ledger.jsonl).")


def _engines(flags: list[str]) -> tuple[str, ...]:
    return tuple(n.strip() for flag in flags for n in flag.split(",") if n.strip())


# ------------------------------------------------------------------ whatif
@app.command()
@user_errors
def whatif(
    arena: Optional[Path] = ARENA_ARG,
    set_: list[str] = typer.Option([], "--set", help="ACTOR.ISSUE.FIELD=VALUE or =LOW:MODE:HIGH (position, salience, capability); repeatable."),
    fix: list[str] = typer.Option([], "--fix", help="Pin a CIB descriptor: DESCRIPTOR=VARIANT (repeatable)."),
    engine: list[str] = typer.Option(["compromise,median,bdm"], "--engine", "-e", help="Engines (comma-separated or repeated; all for every one)."),
    draws: int = typer.Option(DEFAULT_DRAWS, "--draws", min=1, help="Monte Carlo draws (common to baseline and variant)."),
    seed: int = typer.Option(0, "--seed", help="Seed of both runs."),
    option: list[str] = typer.Option([], "--option", "-O", help="Engine option ENGINE.KEY=VALUE (repeatable)."),
    dist: str = typer.Option("triangular", "--dist", help="triangular (exact common random numbers) or pert."),
    no_dynamics: bool = typer.Option(False, "--no-dynamics", help="Leave out the arena's dynamics section."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the document to PATH, or - for stdout."),
) -> None:
    """Change stances in memory, run baseline and variant on the same draws, print the deltas."""
    from tawazun.loop.whatif import apply_changes, parse_fix, parse_set
    from tawazun.loop.whatif import whatif as run_whatif

    path = resolve(arena)
    text = read_text(path, "arena file")
    with flag_names(WHATIF_FLAGS):
        changes = [parse_set(s) for s in set_]
        fixes = [parse_fix(f) for f in fix]
        if not changes and not fixes:
            raise InputError("set: give at least one --set or --fix")
        base = load_arena(arena)
        variant, resolved_changes = apply_changes(text, str(path), changes)
        config = ForecastConfig(engines=_engines(engine), seed=seed, draws=draws, dist=dist,
                                options=parse_option_flags(option))
        doc = run_whatif(base, variant, resolved_changes, config, fixes, dynamics=not no_dynamics)
    if not emit(doc, json_out):
        return
    console = Console()
    for ch in doc["changes"]:
        console.print(f"[bold]set[/bold] {ch['set']}: {_tri(ch['from'])} → {_tri(ch['to'])}")
    table = Table(title=f"What-if ({draws} paired draws, seed {seed})", title_justify="left")
    for col in ("issue", "engine", "baseline", "variant", "Δ mean", "Δ 80% interval", "band shift"):
        table.add_column(col, justify="left" if col in ("issue", "engine", "band shift") else "right")
    for d in doc["delta"]:
        b, v = doc["baseline"][d["issue"]][d["engine"]], doc["variant"][d["issue"]][d["engine"]]
        shift = ", ".join(f"{k} {x:+.2f}" for k, x in d["bands"].items() if abs(x) >= 0.005)
        style = None if d["moved"] else "dim"
        table.add_row(d["issue"], d["engine"], f"{b['value']:.2f}", f"{v['value']:.2f}", f"{d['mean']:+.2f}",
                      f"{d['q10']:+.2f} … {d['q90']:+.2f}", shift, style=style)
    console.print(table)
    console.print("[dim]baseline/variant: median of the draws; Δ: variant − baseline draw by draw "
                  "(common random numbers); dim rows did not move[/dim]")
    if "dynamics" in doc:
        _print_dynamics(console, doc["dynamics"])
    if "fix" in doc:
        _print_completions(console, doc["fix"])


def _print_dynamics(console: Console, dyn: dict[str, Any]) -> None:
    """The dynamics at the horizon: each series' paired difference, each regime's shift."""
    last = dyn["steps"][-1]
    how = f"covariates from {dyn['engine']}" if dyn["engine"] else "no coupled covariates"
    if dyn["pinned"]:
        how += "; pinned: " + ", ".join(f"{c}={v:g}" for c, v in dyn["pinned"].items())
    table = Table(title=f"Dynamics at {last} ({dyn['paths']} paired paths; {how})", title_justify="left")
    for col in ("series", "baseline", "variant", "Δ mean", "Δ 80% interval"):
        table.add_column(col, justify="left" if col == "series" else "right")
    for r in dyn["series"]:
        if r["step"] != last:
            continue
        table.add_row(r["series"], f"{r['baseline']:.3g}", f"{r['variant']:.3g}", f"{r['mean']:+.3g}",
                      f"{r['q10']:+.3g} … {r['q90']:+.3g}", style=None if r["moved"] else "dim")
    console.print(table)
    regimes = Table(title=f"Regimes at {last}", title_justify="left")
    for col in ("regime", "baseline", "variant", "Δ"):
        regimes.add_column(col, justify="left" if col == "regime" else "right")
    for r in dyn["regimes"]:
        regimes.add_row(r["regime"], f"{r['baseline']:.3f}", f"{r['variant']:.3f}", f"{r['delta']:+.3f}",
                        style=None if r["delta"] else "dim")
    console.print(regimes)
    console.print("[dim]Δ: variant − baseline path by path (same seed, same dynamics stream); "
                  "--json has every step[/dim]")


def _tri(t: list[float] | None) -> str:
    if t is None:
        return "(none)"
    return f"{t[0]:g}" if t[0] == t[1] == t[2] else f"{t[0]:g}:{t[1]:g}:{t[2]:g}"


def _print_completions(console: Console, fix: dict[str, Any]) -> None:
    pinned = ", ".join(f"{k}={v}" for k, v in fix["fixed"].items())
    rows = fix["completions"]
    if not rows:
        console.print(f"no consistent completion with {pinned}")
        return
    descs = list(rows[0]["variants"])
    table = Table(title=f"Consistent completions with {pinned} (IC ≤ {fix['tolerance']} on the other descriptors)",
                  title_justify="left")
    for d in descs:
        table.add_column(d + (" (pinned)" if d in fix["fixed"] else ""))
    table.add_column("IC (full)", justify="right")
    table.add_column("TIS", justify="right")
    for r in rows:
        table.add_row(*[r["variants"][d] for d in descs], str(r["inconsistency_full"]), str(r["tis"]))
    console.print(table)
    console.print("[dim]IC (full): the inconsistency counting the pinned descriptors too "
                  "(> 0: the pin holds only because it is imposed)[/dim]")


def print_fixed(section: Any, fix: list[str], tolerance: int, json_out: Optional[str]) -> None:
    """`tawazun scenarios --fix`: the consistent completions of pinned descriptors."""
    from tawazun.loop.whatif import parse_fix, pinned_completions

    with flag_names(WHATIF_FLAGS):
        doc = pinned_completions(section, [parse_fix(f) for f in fix], tolerance)
    if emit(doc, json_out):
        _print_completions(Console(), doc)


# ------------------------------------------------------------------ levers
@app.command()
@user_errors
def levers(
    arena: Optional[Path] = ARENA_ARG,
    actor: str = typer.Option(..., "--actor", help="The actor whose levers are ranked."),
    issue: str = typer.Option(..., "--issue", help="The issue."),
    goal: Optional[float] = typer.Option(None, "--goal", help="Target forecast (default: the actor's own position)."),
    engine: str = typer.Option("compromise", "--engine", "-e", help="One engine."),
    step: Optional[float] = typer.Option(None, "--step", help="Persuasion step in scale units (default: 10% of the scale)."),
    budget: Optional[float] = typer.Option(None, "--budget", help="Own moves within ± this of the mode (default: within the stance's range)."),
    draws: int = typer.Option(200, "--draws", min=1, help="Draws for each lever's interval."),
    intervals: Optional[int] = typer.Option(None, "--intervals", min=0, help="Levers, best first, that get the paired interval (default: all for compromise, median, nash; 5 for bdm, smp)."),
    seed: int = typer.Option(0, "--seed"),
    option: list[str] = typer.Option([], "--option", "-O", help="Engine option ENGINE.KEY=VALUE (repeatable)."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write the tornado chart and table to this HTML file."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the document to PATH, or - for stdout."),
) -> None:
    """Rank an actor's own moves and the persuasions of others by how close they bring the forecast to a goal."""
    from tawazun.loop.levers import levers as rank

    loaded = load_arena(arena)
    with flag_names(LEVER_FLAGS):
        doc = rank(loaded, actor, issue, engine, goal=goal, step=step, budget=budget, seed=seed, draws=draws,
                   options=parse_option_flags(option).get(engine), intervals=intervals)
    from tawazun.report.loop import levers_page

    if not emit(doc, json_out, html_out, levers_page):
        return
    console = Console()
    table = Table(title=f"Levers of {actor} on {issue} ({engine}): forecast {doc['baseline']:.2f}, goal {doc['goal']:g}",
                  title_justify="left")
    for col in ("#", "lever", "move", "forecast", "effect", "80% interval", "method", "apply with whatif"):
        table.add_column(col, justify="right" if col in ("#", "forecast", "effect", "80% interval") else "left")
    for lv in doc["levers"]:
        name = f"persuade {lv['actor']}" if lv["kind"] == "persuade" else f"own {lv['field']}"
        table.add_row(str(lv["rank"]), name, f"{lv['from']:g} → {lv['to']:g}", f"{lv['forecast']:.2f}",
                      f"{lv['effect']:+.2f}", "–" if lv["q10"] is None else f"{lv['q10']:+.2f} … {lv['q90']:+.2f}",
                      lv["method"], f"--set {lv['apply']}")
    console.print(table)
    if doc["intervals"] < len(doc["levers"]):
        console.print(f"[dim]80% interval over {doc['draws']} paired draws for the top {doc['intervals']} "
                      "(--intervals N for more)[/dim]")
    if html_out is not None:
        console.print(f"chart: {html_out}")


# ------------------------------------------------------------------ ledger
def package_sha256() -> str:
    """SHA-256 over the installed package's files (path and bytes, sorted), caches left out."""
    root = Path(str(resources.files("tawazun")))
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and p.suffix not in (".pyc", ".pyo"):
            h.update(str(p.relative_to(root)).encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def _read_ledger(path: Path) -> list[dict[str, Any]]:
    from tawazun.loop.ledger import parse_ledger

    if not path.exists():
        return []
    return parse_ledger(read_text(path, "ledger"), str(path))


def _append(path: Path, make: Any) -> tuple[dict[str, Any], bool]:
    """Under an exclusive lock on PATH.lock: read the ledger, let ``make(entries)`` return a new
    entry (or an existing one), and write the whole file anew by temp file and rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(str(path) + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        entries = _read_ledger(path)
        entry, new = make(entries)
        if new:
            old = path.read_text(encoding="utf-8") if path.exists() else ""
            if old and not old.endswith("\n"):
                old += "\n"
            atomic_write_text(path, old + json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        return entry, new


def _portable(path: Path, ledger: Path) -> str:
    """A path as the ledger records it: relative to the ledger's folder when inside it (so a
    ledger committed with its runs audits from any clone), else absolute."""
    base = ledger.resolve().parent
    try:
        return str(path.resolve().relative_to(base))
    except ValueError:
        return str(path.resolve())


def _located(recorded: str, ledger: Path) -> Path:
    p = Path(recorded)
    return p if p.is_absolute() else ledger.resolve().parent / p


def _run_files(run_dir: Path) -> tuple[bytes, dict[str, Any], dict[str, Any]]:
    result = read_bytes(run_dir / "result.json", "result file")
    try:
        manifest = json.loads(read_text(run_dir / "manifest.json", "manifest"))
        doc = json.loads(result)
    except json.JSONDecodeError as exc:
        raise InputError(f"{run_dir}: result.json or manifest.json is not JSON: {exc.msg}") from None
    return result, manifest, doc


def dynamics_config(recorded: Any) -> dict[str, Any]:
    """The ForecastConfig fields of a sealed run's dynamics (None: the run had none)."""
    if not recorded:
        return {"dynamics": False}
    return {"dynamics": True, "dynamics_paths": recorded.get("paths"), "horizon": recorded.get("horizon"),
            "dynamics_engine": recorded.get("engine"), "scenario": recorded.get("scenario"),
            "dynamics_futures": bool(recorded.get("futures"))}


@app.command()
@user_errors
def seal(
    run_dir: Path = typer.Argument(..., help="A run folder of `tawazun forecast` (result.json, manifest.json)."),
    ledger: Path = LEDGER_OPT,
) -> None:
    """Append a sealed entry for a run to the ledger (idempotent)."""
    from tawazun.loop.ledger import make_entry
    from tawazun.loop.questions import unresolvable

    result, manifest, doc = _run_files(run_dir)
    arena_path = Path(manifest["arena"]["path"])
    if not arena_path.is_absolute():
        arena_path = (Path.cwd() / arena_path).resolve()
    arena_bytes = read_bytes(arena_path, "arena file")
    if hashlib.sha256(arena_bytes).hexdigest() != manifest["arena"]["sha256"]:
        raise InputError(f"{arena_path}: the arena file changed since the run (sha256 differs from the manifest)")
    arena = load_arena(arena_path)
    missing = unresolvable(arena.questions)
    if missing:
        raise InputError([f"{arena_path}: questions: {q}: no resolution rule or source; cannot seal" for q in missing])
    if not manifest.get("draws"):
        raise InputError(f"{run_dir}: a sealed forecast needs Monte Carlo draws (run with --draws > 0)")
    digest = package_sha256()

    def make(entries: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        rh = hashlib.sha256(result).hexdigest()
        for e in entries:
            if e["result_sha256"] == rh:
                return e, False
        entry = make_entry(result=result, manifest=manifest, arena_path=_portable(arena_path, ledger),
                           arena_bytes=arena_bytes, package_sha256=digest, version=__version__,
                           run_dir=_portable(run_dir, ledger),
                           questions=doc.get("questions", []),
                           sealed=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
                           prev=entries[-1]["entry_sha256"] if entries else None)
        return entry, True

    entry, new = _append(ledger, make)
    typer.echo(f"{'sealed' if new else 'already sealed'}: {entry['id']} in {ledger} "
               f"({len(entry['questions'])} question(s))")


@app.command()
@user_errors
def audit(
    entry: str = typer.Argument(..., help="An entry id (or unique prefix), or its number in the ledger."),
    ledger: Path = LEDGER_OPT,
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the checks to PATH, or - for stdout."),
) -> None:
    """Re-check a sealed entry: ledger chain, result hash, input hashes, bit-identical re-run."""
    from tawazun.loop.ledger import chain_problems, check, entry_hash, find, sha256

    entries = _read_ledger(ledger)
    e = find(entries, entry)
    if e is None:
        raise InputError(f"{ledger}: no entry {entry!r} (or more than one matches)")
    checks = []
    chain = chain_problems(entries)
    checks.append(check("ledger", e.get("entry_sha256") == entry_hash(e) and not chain,
                        "entry hash and chain hold" if not chain else "; ".join(chain)))
    result_path = _located(e["run_dir"], ledger) / "result.json"
    try:
        result = read_bytes(result_path, "result file")
        checks.append(check("result", sha256(result) == e["result_sha256"],
                            f"sha256 of {result_path} {'matches' if sha256(result) == e['result_sha256'] else 'differs from'} the ledger"))
    except InputError as exc:
        checks.append(check("result", False, exc.lines[0]))
    try:
        arena_bytes = read_bytes(_located(e["arena"]["path"], ledger), "arena file")
        same = sha256(arena_bytes) == e["arena"]["sha256"]
        checks.append(check("arena", same, f"sha256 of {e['arena']['path']} {'matches' if same else 'differs'}"))
    except InputError as exc:
        arena_bytes = None
        checks.append(check("arena", False, exc.lines[0]))
    pkg = package_sha256()
    checks.append(check("package", pkg == e["package_sha256"] and __version__ == e["tawazun_version"],
                        f"tawazun {__version__}, files sha256 {'match' if pkg == e['package_sha256'] else 'differ'}"))
    if arena_bytes is None:
        checks.append(check("re-run", False, "no arena file to re-run"))
    else:
        try:
            from tawazun.arena.load import parse_arena_text

            arena = parse_arena_text(arena_bytes.decode("utf-8").removeprefix("\ufeff"), e["arena"]["path"])
            c = e["config"]
            config = ForecastConfig(engines=tuple(c["engines"]), seed=e["seed"], options=c["options"],
                                    draws=c["draws"], dist=c["dist"] or "triangular",
                                    sensitivity=bool(c["sensitivity"]), sobol_n=c["sobol_n"], scenarios=False,
                                    **dynamics_config(c.get("dynamics")))
            text = json.dumps(to_json(execute(arena, config)), ensure_ascii=False, indent=2, allow_nan=False) + "\n"
            same = sha256(text.encode()) == e["result_sha256"]
            checks.append(check("re-run", same, "re-run result is bit-identical" if same
                                else "re-run result differs from the sealed one"))
        except InputError as exc:
            checks.append(check("re-run", False, exc.lines[0]))
    if json_out is not None:
        write_json(json_out, {"entry": e["id"], "checks": checks})
    if json_out != "-":
        for c in checks:
            typer.echo(f"{c['result']}  {c['check']}: {c['detail']}")
    if any(c["result"] == "FAIL" for c in checks):
        raise typer.Exit(1)


# ------------------------------------------------------------------ resolve
def read_outcomes(path: Path) -> dict[str, Any]:
    """The outcomes file, validated; problems as ``file:line: field.path: message``."""
    from pydantic import ValidationError

    from tawazun.arena.load import _line_for, format_path
    from tawazun.arena.yamlsafe import load_document
    from tawazun.loop.scoring import OutcomesFile

    text = read_text(path, "outcomes file", allow_empty=False)
    # the arena loader's bounded reader: no alias bombs, duplicate keys and bad dates in one line
    data, lines = load_document(text, str(path))
    if not isinstance(data, dict):
        raise InputError(f"{path}:1: (document): an outcomes file is a mapping with an `outcomes` list")
    try:
        return {"file": OutcomesFile.model_validate(data), "lines": lines}
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p in ("bool", "float", "str")))
        msg = "required field is missing" if err["type"] == "missing" else err["msg"].removeprefix("Value error, ")
        raise InputError(f"{path}:{_line_for(lines, loc)}: {format_path(loc)}: {msg}") from None


def _sealed_arena(entry: dict[str, Any], ledger: Path, cache: dict[tuple[str, str], Any],
                  notes: list[str]) -> Any:
    """The arena copy a sealed entry recorded, parsed, if its bytes still hash to the sealed
    sha256 (else None and a note: baselines come from the sealed inputs or not at all)."""
    from tawazun.arena.load import parse_arena_text
    from tawazun.loop.ledger import sha256

    path = _located(entry["arena"]["path"], ledger)
    key = (str(path), entry["arena"]["sha256"])
    if key not in cache:
        try:
            data = read_bytes(path, "arena file")
        except InputError:
            data = None
        if data is None or sha256(data) != entry["arena"]["sha256"]:
            notes.append(f"entry {entry['id']}: no baselines: {path} is missing or differs from the sealed arena")
            cache[key] = None
        else:
            cache[key] = parse_arena_text(data.decode("utf-8").removeprefix("\ufeff"), entry["arena"]["path"])
    return cache[key]


@app.command("resolve")
@user_errors
def resolve_cmd(
    ledger: Path = typer.Argument(..., help="The ledger of sealed forecasts."),
    outcomes: Path = typer.Option(..., "--outcomes", help="YAML/JSON outcomes file (format tawazun-outcomes/1)."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write the reliability diagram and tables here."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the scores to PATH, or - for stdout."),
) -> None:
    """Score every resolved question of the ledger: Brier, log score, CRPS per engine."""
    from tawazun.arena.load import _line_for, format_path
    from tawazun.loop.scoring import reliability, score_baseline, score_entry_question, summary

    entries = _read_ledger(ledger)
    if not entries:
        raise InputError(f"{ledger}: no sealed entries")
    read = read_outcomes(outcomes)
    by_q = {}
    for k, o in enumerate(read["file"].outcomes):
        by_q[o.question] = (k, o)
    known = {q["id"] for e in entries for q in e["questions"]}
    for qid, (k, _o) in by_q.items():
        if qid not in known:
            path = ("outcomes", k, "question")
            raise InputError(f"{outcomes}:{_line_for(read['lines'], path)}: {format_path(path)}: "
                             f"no sealed question {qid!r} in {ledger}")
    scores = []
    base_rows: list[dict[str, Any]] = []
    notes: list[str] = []
    arenas: dict[tuple[str, str], Any] = {}
    for e in entries:
        arena = _sealed_arena(e, ledger, arenas, notes)
        for q in e["questions"]:
            if q["id"] not in by_q:
                continue
            k, o = by_q[q["id"]]
            rows, problem = score_entry_question(q, o)
            if problem:
                path = ("outcomes", k, "value")
                raise InputError(f"{outcomes}:{_line_for(read['lines'], path)}: {format_path(path)}: "
                                 f"{problem.split(': ', 1)[1]}")
            for r in rows:
                r.update(entry=e["id"], source=o.source)
            scores.extend(rows)
            b = score_baseline(q, o, arena, int(e["config"].get("draws") or 0)) if arena is not None else None
            if b is not None:
                b.update(entry=e["id"], source=o.source)
                base_rows.append(b)
    doc = {"ledger": str(ledger), "outcomes": str(outcomes), "scores": scores, "summary": summary(scores),
           "reliability": reliability(scores),
           # reference forecasts from each sealed entry's arena copy only (docs/loop.md)
           "baseline_scores": base_rows, "baseline_summary": summary(base_rows), "baseline_notes": notes}
    from tawazun.report.loop import scores_page

    if not emit(doc, json_out, html_out, scores_page):
        return
    console = Console()
    table = Table(title=f"Scores ({len({(r['entry'], r['question']) for r in scores})} resolved forecast(s))",
                  title_justify="left")
    for col in ("engine", "questions", "Brier", "log", "CRPS"):
        table.add_column(col, justify="left" if col == "engine" else "right")
    for s in doc["summary"]:
        table.add_row(s["engine"], str(s["questions"]), *["" if s[k] is None else f"{s[k]:.4f}" for k in ("brier", "log", "crps")])
    for s in doc["baseline_summary"]:
        table.add_row(f"[italic]{s['engine']} (baseline)[/italic]", str(s["questions"]),
                      *["" if s[k] is None else f"{s[k]:.4f}" for k in ("brier", "log", "crps")])
    console.print(table)
    console.print("[dim]lower is better; log score clips probabilities to half a draw (docs/loop.md); "
                  "baselines from the sealed arena only: no change = the issue's status quo, "
                  "uniform = every variant of a descriptor alike[/dim]")
    for n in notes:
        console.print(f"[dim]{n}[/dim]")
    if html_out is not None:
        console.print(f"page: {html_out}")

