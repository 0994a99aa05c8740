"""The Python API of a forecast run: arena -> engines -> results (no I/O here).

The CLI, the report and the web app all go through :func:`run_forecast`, so the numbers
they show are the same numbers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import zlib
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tawazun import __version__
from tawazun.arena.compile import ranged_problem, units
from tawazun.arena.model import Arena, Issue
from tawazun.engines.base import REGISTRY, EngineResult, EngineSpec, get_engine
from tawazun.errors import InputError

CORE_ENGINES = ("compromise", "median", "bdm")


@dataclass
class UnitResult:
    """One engine on one bargaining unit (an issue, or a space of issues)."""

    unit: str
    issues: list[str]
    engine: str
    actors: list[str]
    result: EngineResult
    problem_point: Any  # the Problem the engine saw (modes), for reports


@dataclass
class ForecastRun:
    arena: Arena
    engines: list[str]
    seed: int
    options: dict[str, dict[str, Any]]
    results: list[UnitResult] = field(default_factory=list)
    distributions: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    tornado: dict[str, dict[str, Any]] = field(default_factory=dict)
    draws: int = 0
    dist: str | None = None
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))


def on_issue(run: ForecastRun, issue_id: str) -> list[tuple[UnitResult, float, dict[str, Any] | None]]:
    """Every result that forecasts ``issue_id``, with its value there and, after
    :func:`add_distributions`, its distribution there (a space keeps one per issue)."""
    out = []
    for ur in run.results:
        if issue_id not in ur.issues:
            continue
        k = ur.issues.index(issue_id)
        dist = run.distributions.get((ur.unit, ur.engine))
        if dist is not None and len(ur.issues) > 1:
            dist = dist[issue_id]
        out.append((ur, float(ur.result.forecast[0, k]), dist))
    return out


def resolve_engines(names: list[str] | str | None) -> list[str]:
    """'all' = every registered engine (core first); otherwise validated names."""
    from tawazun import engines as _  # noqa: F401  (registers built-ins)

    if names is None:
        names = ["all"]
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip()]
    out: list[str] = []
    for name in names:
        if name == "all":
            extra = [n for n in REGISTRY if n not in CORE_ENGINES]
            for n in [*[c for c in CORE_ENGINES if c in REGISTRY], *sorted(extra)]:
                if n not in out:
                    out.append(n)
        elif name in REGISTRY:
            if name not in out:
                out.append(name)
        else:
            raise InputError(f"--engine: unknown engine {name!r}; available: all, {', '.join(sorted(REGISTRY))}")
    return out


def engine_options(spec: EngineSpec, overrides: dict[str, Any], rounds: int | None) -> Any:
    """Defaults, then `--rounds`, then explicit `-O engine.key=value` overrides."""
    merged: dict[str, Any] = {}
    names = {f.name for f in dataclasses.fields(spec.options)}
    if rounds is not None:
        for key in ("rounds", "max_turns", "turns"):
            if key in names:
                merged[key] = rounds
                break
    merged.update(overrides)
    try:
        return spec.make_options(merged)
    except (KeyError, ValueError, TypeError) as exc:
        msg = exc.args[0] if exc.args else str(exc)
        raise InputError(f"--option: {msg}") from None


def parse_option_flags(flags: list[str] | None) -> dict[str, dict[str, str]]:
    """['bdm.rounds=5', 'bdm.q=0.5'] -> {'bdm': {'rounds': '5', 'q': '0.5'}}."""
    out: dict[str, dict[str, str]] = {}
    for flag in flags or []:
        if "=" not in flag or "." not in flag.split("=", 1)[0]:
            raise InputError(f"--option: expected ENGINE.KEY=VALUE, got {flag!r}")
        key, value = flag.split("=", 1)
        engine, opt = key.split(".", 1)
        out.setdefault(engine.strip(), {})[opt.strip()] = value.strip()
    return out


def unit_seed(seed: int, engine: str, unit: str) -> np.random.SeedSequence:
    """Independent, order-free streams per (engine, unit): adding an engine changes no other."""
    return np.random.SeedSequence(seed, spawn_key=(zlib.crc32(engine.encode()), zlib.crc32(unit.encode())))


def run_forecast(
    arena: Arena,
    engines: list[str] | str | None = None,
    *,
    seed: int = 0,
    rounds: int | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> ForecastRun:
    """Deterministic forecasts (range modes) for every issue and engine."""
    names = resolve_engines(engines)
    options = options or {}
    unknown = set(options) - set(names)
    if unknown:
        raise InputError(f"--option: options given for engines not run: {', '.join(sorted(unknown))}")
    run = ForecastRun(arena=arena, engines=names, seed=seed, options={})
    for name in names:
        spec = get_engine(name)
        opts = engine_options(spec, options.get(name, {}), rounds)
        run.options[name] = dataclasses.asdict(opts)
        for unit, issue_ids in bargaining_units(arena, spec):
            ranged = ranged_problem(arena, unit, joint=len(issue_ids) > 1)
            problem = ranged.point()
            rng = np.random.default_rng(unit_seed(seed, name, unit))
            result = spec.run(problem, opts, rng)
            run.results.append(UnitResult(unit, issue_ids, name, list(problem.actors), result, problem))
    return run


def bargaining_units(arena: Arena, spec: EngineSpec) -> list[tuple[str, list[str]]]:
    """Engines that bargain a space jointly get spaces; the others get single issues."""
    if spec.joint:
        return [(u, ids) for u, ids in units(arena) if spec.max_dims is None or len(ids) <= spec.max_dims]
    return [(i.id, [i.id]) for i in arena.issues]


def nearest_anchor(issue: Issue, value: float) -> str | None:
    if not issue.scale.anchors or not np.isfinite(value):
        return None
    return min(issue.scale.anchors, key=lambda a: abs(a.value - value)).label


def to_json(run: ForecastRun) -> dict[str, Any]:
    """The `--json` document."""
    results = []
    for ur in run.results:
        forecast = [float(v) for v in ur.result.forecast[0]]
        entry: dict[str, Any] = {
            "issue": ur.unit,
            "engine": ur.engine,
            "forecast": [round(v, 6) for v in forecast],
        }
        if len(ur.issues) > 1:
            entry["issues"] = ur.issues
        entry["nearest"] = [nearest_anchor(run.arena.issue(i), v) for i, v in zip(ur.issues, forecast)]
        sq = [run.arena.issue(i).status_quo for i in ur.issues]
        if all(s is not None for s in sq):
            entry["status_quo"] = [float(ur.problem_point.status_quo[0, k]) for k in range(len(ur.issues))]
        traj = ur.result.trajectory
        if traj is not None:
            entry["trajectory"] = [
                {"turn": t, "positions": {a: [round(float(x), 6) for x in traj[0, t, k]] for k, a in enumerate(ur.actors)}}
                for t in range(traj.shape[1])
            ]
        dist = run.distributions.get((ur.unit, ur.engine))
        if dist is not None:
            entry["distribution"] = dist
        sens = run.tornado.get(ur.unit)
        if sens is not None and sens["engine"] == ur.engine:
            entry["tornado"] = sens["records"]
            if "sobol" in sens:
                entry["sobol"] = sens["sobol"]
        results.append(entry)
    doc: dict[str, Any] = {
        "arena": run.arena.arena.id,
        "version": __version__,
        "seed": run.seed,
        "engines": run.engines,
        "options": run.options,
    }
    if run.draws:
        doc["draws"] = run.draws
        doc["dist"] = run.dist
    doc["results"] = results
    return doc


def sampling_seed(seed: int, unit: str) -> int:
    """One input-sampling seed per bargaining unit, shared by every engine on it
    (common random numbers: engines differ only by their model, not by their draws)."""
    return int(np.random.SeedSequence(seed, spawn_key=(0x5EED, zlib.crc32(unit.encode()))).generate_state(1)[0])


def add_distributions(
    run: ForecastRun,
    *,
    draws: int,
    seed: int | None = None,
    dist: str = "triangular",
    workers: int = 1,
    scheduler: str | None = None,
    progress: Any = None,
    tornado: bool = True,
    sobol_n: int = 0,
) -> None:
    """Monte Carlo over the arena's ranges for every (unit, engine) of ``run``.

    All chunks of all units and engines go through one evaluation pass (one Dask cluster
    when ``workers`` > 1 or ``scheduler`` is given). Fills ``run.distributions`` and, for
    single issues, ``run.tornado`` (one-at-a-time swings and, with ``sobol_n``, Sobol indices
    of the run's first single-issue dynamic engine, else its first engine).
    """
    from tawazun.uncertainty.ensemble import chunks, default_chunk_size, evaluate_chunks
    from tawazun.uncertainty.sampling import check_ranges
    from tawazun.uncertainty.summary import summarize

    seed = run.seed if seed is None else seed
    if draws < 1:
        raise InputError(f"--draws must be at least 1, got {draws}")
    jobs = []  # (unit result, ranged, options, sampling seed)
    args: list[tuple] = []
    owners: list[int] = []
    for j, ur in enumerate(run.results):
        spec = get_engine(ur.engine)
        opts = spec.make_options(run.options[ur.engine])
        ranged = ranged_problem(run.arena, ur.unit, joint=len(ur.issues) > 1)
        check_ranges(ranged)
        s = sampling_seed(seed, ur.unit)
        jobs.append((ur, ranged, opts, s))
        for start, count in chunks(draws, default_chunk_size(ranged)):
            args.append((ranged, ur.engine, opts, s, dist, start, count, False))
            owners.append(j)
    outputs = evaluate_chunks(args, workers=workers, scheduler=scheduler, progress=progress)
    for j, (ur, ranged, _opts, _s) in enumerate(jobs):
        values = np.concatenate([out[0] for out, owner in zip(outputs, owners) if owner == j], axis=0)
        per_dim = {}
        for k, issue_id in enumerate(ur.issues):
            issue = run.arena.issue(issue_id)
            anchors = [(a.value, a.label) for a in issue.scale.anchors]
            per_dim[issue_id] = summarize(values[:, k], issue.scale.min, issue.scale.max, anchors)
        run.distributions[(ur.unit, ur.engine)] = per_dim[ur.issues[0]] if len(ur.issues) == 1 else per_dim
    run.draws = draws
    run.dist = dist
    if tornado:
        add_tornado(run, sobol_n=sobol_n, dist=dist)


def add_tornado(run: ForecastRun, sobol_n: int = 0, dist: str = "triangular") -> None:
    """Sensitivity of each single issue's forecast on the run's main engine: the one-at-a-time
    tornado, and Sobol first-order/total indices with ``sobol_n`` base samples (0: none)."""
    from tawazun.uncertainty.sensitivity import sobol
    from tawazun.uncertainty.sensitivity import tornado as oat

    dynamic = [n for n in run.engines if get_engine(n).dynamic and not get_engine(n).joint]
    engine = dynamic[0] if dynamic else run.engines[0]
    spec = get_engine(engine)
    opts = spec.make_options(run.options[engine])
    for issue in run.arena.issues:
        ranged = ranged_problem(run.arena, issue.id, joint=False)
        entry: dict[str, Any] = {"engine": engine, "records": oat(ranged, engine, opts)}
        if sobol_n:
            res = sobol(ranged, engine, opts, n=sobol_n, seed=run.seed, dist=dist)
            entry["sobol"] = res.to_dict()
        run.tornado[issue.id] = entry
