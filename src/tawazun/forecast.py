"""The forecast pipeline and its result: arena -> compiled problems -> engines -> ForecastRun.

:func:`execute` is the one pipeline: the CLI, the web app and the Python API call it with a
:class:`ForecastConfig`, and every renderer (terminal tables, the HTML report, the web pages,
the JSON document of :func:`to_json`) only reads the :class:`ForecastRun` it returns. No I/O
here; errors name configuration fields (``draws: ...``), and the CLI adds its flag names.

The steps are public for callers that want one of them (:func:`run_forecast`,
:func:`add_distributions`, :func:`add_sensitivity`, :func:`add_scenarios`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, NamedTuple

import numpy as np

from tawazun import __version__
from tawazun.arena.compile import ranged_problem, units
from tawazun.arena.model import Arena, Issue
from tawazun.engines.base import REGISTRY, EngineResult, EngineSpec, Problem, RangedProblem, get_engine
from tawazun.errors import InputError
from tawazun.uncertainty.ensemble import DEFAULT_DRAWS

CORE_ENGINES = ("compromise", "median", "bdm")
FORECAST_SOBOL_N = 64  # Sobol base sample per issue in a forecast (~1 s on the shipped arena)
SCENARIO_SECONDS = 60.0  # cap on a forecast's exact CIB search (`tawazun scenarios` has none)
DISTS = ("triangular", "pert")
DYNAMICS_PATHS = 1000  # dynamics paths of a run without draws (its covariates: the point forecasts)


@dataclass(frozen=True)
class ForecastConfig:
    """Everything a forecast run depends on besides the arena (recorded in the manifest)."""

    engines: tuple[str, ...] = ("all",)
    seed: int = 0
    rounds: int | None = None  # rounds/turns of the dynamic engines (None: each engine's own)
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # engine -> key -> value
    draws: int = DEFAULT_DRAWS  # Monte Carlo draws over the ranges (0: point forecasts only)
    dist: str = "triangular"  # distribution on {low, mode, high}
    workers: int = 1  # local Dask workers for the draws (> 1: a LocalCluster)
    scheduler: str | None = None  # address of an existing Dask scheduler
    sensitivity: bool = True  # one-at-a-time tornado per issue (with draws)
    sobol_n: int = FORECAST_SOBOL_N  # Sobol base sample per issue (0: none)
    scenarios: bool = True  # consistent CIB futures when the arena has a matrix
    scenario_seconds: float = SCENARIO_SECONDS
    # the arena's dynamics section, coupled to the bargaining draws (add_dynamics)
    dynamics: bool = True
    dynamics_paths: int | None = None  # None: one path per draw (DYNAMICS_PATHS without draws)
    horizon: int | None = None  # steps after as_of (None: the section's)
    dynamics_engine: str | None = None  # whose forecasts feed the covariates (None: compromise, else the first)
    scenario: str | None = None  # condition the dynamics on one consistent future (future_variants)
    dynamics_futures: bool = True  # also simulate every consistent future (the report's table)

    def __post_init__(self) -> None:
        engines = self.engines
        if isinstance(engines, str):
            engines = tuple(n.strip() for n in engines.split(",") if n.strip())
        object.__setattr__(self, "engines", tuple(engines) or ("all",))
        try:
            seed = int(self.seed)
        except (TypeError, ValueError):
            raise InputError(f"seed: expected a whole number, got {self.seed!r}") from None
        if not 0 <= seed < 2**32:
            raise InputError(f"seed: must be between 0 and {2**32 - 1}, got {seed}")
        object.__setattr__(self, "seed", seed)
        if self.draws < 0:
            raise InputError(f"draws: must be 0 or more, got {self.draws}")
        if self.dist not in DISTS:
            raise InputError(f"dist: expected {' or '.join(DISTS)}, got {self.dist!r}")
        if self.workers < 1:
            raise InputError(f"workers: must be at least 1, got {self.workers}")
        if self.sobol_n < 0:
            raise InputError(f"sobol_n: must be 0 or more, got {self.sobol_n}")
        if self.rounds is not None and self.rounds < 0:
            raise InputError(f"rounds: must be 0 or more, got {self.rounds}")
        if self.dynamics_paths is not None and self.dynamics_paths < 1:
            raise InputError(f"dynamics_paths: must be at least 1, got {self.dynamics_paths}")
        if self.horizon is not None and self.horizon < 1:
            raise InputError(f"horizon: must be at least 1, got {self.horizon}")
        if self.draws == 0 and (self.scheduler is not None or self.workers > 1):
            raise InputError("workers: workers and scheduler spread Monte Carlo draws; set draws > 0")

    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["engines"] = list(self.engines)
        out["options"] = {k: dict(v) for k, v in self.options.items()}
        return out


@dataclass
class UnitResult:
    """One engine on one bargaining unit (an issue, or a space of issues bargained jointly):
    the compiled problem it saw, its point forecast and, after the draws, its distribution."""

    unit: str
    issues: list[str]
    engine: str
    actors: list[str]
    problem: RangedProblem  # compiled once per unit; ``problem.point()`` is what the engine saw
    result: EngineResult
    distribution: dict[str, Any] | None = None  # one issue: a summary; a space: issue -> summary
    samples: np.ndarray | None = field(default=None, repr=False)  # (draws, d) forecasts, draw by draw

    @property
    def joint(self) -> bool:
        return len(self.issues) > 1

    @property
    def label(self) -> str:
        return result_label(self.engine, self.unit, self.joint)

    def point(self) -> Problem:
        return self.problem.point()

    def distribution_on(self, issue_id: str) -> dict[str, Any] | None:
        if self.distribution is None:
            return None
        return self.distribution[issue_id] if self.joint else self.distribution


@dataclass
class ScenarioFutures:
    """The consistent scenarios of the arena's CIB matrix, as :func:`analyse` reports them."""

    section: Any  # the validated scenarios section (descriptor names and variant labels)
    payload: dict[str, Any]
    max_seconds: float | None


@dataclass
class DynamicsRun:
    """The arena's dynamics over the run's draws (:func:`add_dynamics`).

    ``result``: series quantiles and regime probabilities by step (``tawazun.dynamics.simulate``);
    ``coupled``: covariate id -> the issue whose per-draw forecasts by ``engine`` it took;
    ``scenario``: the consistent future the run was conditioned on ({index, variants}), if any;
    ``futures``: per consistent future, the probability of each regime by the horizon."""

    result: Any
    engine: str | None
    coupled: dict[str, str]
    scenario: dict[str, Any] | None = None
    futures: list[dict[str, Any]] | None = None


@dataclass
class ForecastRun:
    arena: Arena
    config: ForecastConfig
    engines: list[str]
    options: dict[str, dict[str, Any]]  # resolved options per engine (every field)
    results: list[UnitResult] = field(default_factory=list)
    sensitivity: dict[str, dict[str, Any]] = field(default_factory=dict)  # issue -> tornado (+ sobol)
    scenarios: ScenarioFutures | None = None
    questions: list[dict[str, Any]] | None = None  # each question's forecast per engine (loop/questions.py)
    dynamics: DynamicsRun | None = None
    draws: int = 0
    dist: str | None = None
    created: str = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    _compiled: dict[tuple[str, bool], RangedProblem] = field(default_factory=dict, repr=False)

    @property
    def seed(self) -> int:
        return self.config.seed

    def compiled(self, unit: str, joint: bool) -> RangedProblem:
        """The unit's arrays, compiled once per run."""
        key = (unit, joint)
        if key not in self._compiled:
            self._compiled[key] = ranged_problem(self.arena, unit, joint=joint)
        return self._compiled[key]


# ---------------------------------------------------------------- reading a run
def result_label(engine: str, unit: str, joint: bool) -> str:
    """How every interface names a result: ``smp``, or ``smp (joint: iraq-deal)``."""
    return f"{engine} (joint: {unit})" if joint else engine


class IssueRow(NamedTuple):
    """One engine's forecast of one issue: the row every view shows."""

    unit_result: UnitResult
    label: str
    value: float  # the run with every range at its mode ("at modes")
    distribution: dict[str, Any] | None  # over the draws, when there were draws
    headline: dict[str, Any]  # what to headline and whether it is unstable (uncertainty/headline.py)


def issue_rows(run: ForecastRun, issue_id: str) -> list[IssueRow]:
    """Every result that forecasts ``issue_id``, in the run's order."""
    from tawazun.uncertainty.headline import assess

    out = []
    for ur in run.results:
        if issue_id in ur.issues:
            k = ur.issues.index(issue_id)
            value, dist = float(ur.result.forecast[0, k]), ur.distribution_on(issue_id)
            out.append(IssueRow(ur, ur.label, value, dist, assess(value, dist)))
    return out


def nearest_anchor(issue: Issue, value: float) -> str | None:
    if not issue.scale.anchors or not np.isfinite(value):
        return None
    return min(issue.scale.anchors, key=lambda a: abs(a.value - value)).label


# ---------------------------------------------------------------- engines and options
def resolve_engines(names: list[str] | tuple[str, ...] | str | None) -> list[str]:
    """'all' = every registered engine (core first); otherwise validated names, in order."""
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
            raise InputError(f"engines: unknown engine {name!r}; available: all, {', '.join(sorted(REGISTRY))}")
    return out


def engine_options(spec: EngineSpec, overrides: Mapping[str, Any], rounds: int | None) -> Any:
    """Defaults, then ``rounds``, then explicit ``options[engine][key]`` overrides."""
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
        raise InputError(f"options: {msg}") from None


def parse_option_flags(flags: list[str] | None) -> dict[str, dict[str, str]]:
    """['bdm.rounds=5', 'bdm.q=0.5'] -> {'bdm': {'rounds': '5', 'q': '0.5'}}."""
    out: dict[str, dict[str, str]] = {}
    for flag in flags or []:
        if "=" not in flag or "." not in flag.split("=", 1)[0]:
            raise InputError(f"options: expected ENGINE.KEY=VALUE, got {flag!r}")
        key, value = flag.split("=", 1)
        engine, opt = key.split(".", 1)
        out.setdefault(engine.strip(), {})[opt.strip()] = value.strip()
    return out


def unit_seed(seed: int, engine: str, unit: str) -> np.random.SeedSequence:
    """Independent, order-free streams per (engine, unit): adding an engine changes no other."""
    from tawazun.random import stream

    return stream(seed, "engine", engine, unit)


def sampling_seed(seed: int, unit: str) -> int:
    """One input-sampling seed per bargaining unit, shared by every engine on it
    (common random numbers: engines differ only by their model, not by their draws)."""
    from tawazun.random import seed_int

    return seed_int(seed, "sampling", unit)


def bargaining_units(arena: Arena, spec: EngineSpec) -> list[tuple[str, list[str]]]:
    """Engines that bargain a space jointly get spaces; the others get single issues."""
    if spec.joint:
        return [(u, ids) for u, ids in units(arena) if spec.max_dims is None or len(ids) <= spec.max_dims]
    return [(i.id, [i.id]) for i in arena.issues]


# ---------------------------------------------------------------- the pipeline
Phase = Callable[[str], None]
Progress = Callable[[int, int], None]


def execute(arena: Arena, config: ForecastConfig | None = None, *,
            progress: Progress | None = None, phase: Phase | None = None) -> ForecastRun:
    """The whole forecast: point forecasts, Monte Carlo distributions, sensitivity and the
    arena's consistent futures, as ``config`` asks. ``phase(name)`` is called as each step
    starts and ``progress(done, total)`` counts Monte Carlo draws (both optional)."""
    config = config or ForecastConfig()
    say = phase or (lambda _name: None)
    say("point forecasts")
    run = run_forecast(arena, config)
    if config.draws > 0:
        say("Monte Carlo draws")
        add_distributions(run, progress=progress)
        if config.sensitivity:
            say("sensitivity")
            add_sensitivity(run)
    if config.scenarios and arena.scenarios:
        say("scenarios")
        add_scenarios(run)
    if config.dynamics and getattr(arena, "dynamics", None) is not None:
        say("dynamics")
        add_dynamics(run)
    elif config.scenario is not None:
        raise InputError("scenario: conditions the dynamics, and this run has none "
                         "(the arena has no dynamics section, or dynamics is off)")
    if arena.questions:
        say("questions")
        add_questions(run)
    return run


def add_questions(run: ForecastRun) -> None:
    """Each question's probability (or quantiles) per engine from the run's draws; a question
    on a CIB descriptor reads the consistent futures (searched here if the run has none)."""
    from tawazun.loop.questions import question_forecasts

    run.questions = question_forecasts(run)


def run_forecast(
    arena: Arena,
    engines: ForecastConfig | list[str] | str | None = None,
    *,
    seed: int = 0,
    rounds: int | None = None,
    options: dict[str, dict[str, Any]] | None = None,
) -> ForecastRun:
    """Deterministic forecasts (every range at its mode) for every issue and engine.

    Takes a :class:`ForecastConfig`, or (the older call) engine names and keywords.
    """
    if isinstance(engines, ForecastConfig):
        config = engines
    else:
        names = (engines,) if isinstance(engines, str) else tuple(engines or ("all",))
        config = ForecastConfig(engines=names, seed=seed, rounds=rounds, options=options or {}, draws=0)
    names = resolve_engines(list(config.engines))
    unknown = set(config.options) - set(names)
    if unknown:
        raise InputError(f"options: options given for engines not run: {', '.join(sorted(unknown))}")
    run = ForecastRun(arena=arena, config=config, engines=names, options={})
    for name in names:
        spec = get_engine(name)
        opts = engine_options(spec, config.options.get(name, {}), config.rounds)
        run.options[name] = dataclasses.asdict(opts)
        for unit, issue_ids in bargaining_units(arena, spec):
            ranged = run.compiled(unit, len(issue_ids) > 1)
            problem = ranged.point()
            rng = np.random.default_rng(unit_seed(config.seed, name, unit))
            result = spec.run(problem, opts, rng)
            run.results.append(UnitResult(unit, issue_ids, name, list(problem.actors), ranged, result))
    return run


def add_distributions(run: ForecastRun, *, progress: Progress | None = None, **overrides: Any) -> None:
    """Monte Carlo over the arena's ranges for every (unit, engine) of ``run``.

    All chunks of all units and engines go through one evaluation pass (one Dask cluster
    when the config asks for workers or a scheduler). ``overrides`` replace config fields
    (``draws=2000``, ``dist="pert"``, ...) for this call and are recorded in ``run.config``.
    """
    from tawazun.uncertainty.ensemble import Chunk, chunks, default_chunk_size, evaluate_chunks
    from tawazun.uncertainty.sampling import check_ranges
    from tawazun.uncertainty.summary import summarize

    if overrides:
        run.config = dataclasses.replace(run.config, **overrides)
    config = run.config
    if config.draws < 1:
        raise InputError(f"draws: must be at least 1, got {config.draws}")
    tasks: list[Chunk] = []
    owners: list[int] = []
    for j, ur in enumerate(run.results):
        opts = get_engine(ur.engine).make_options(run.options[ur.engine])
        check_ranges(ur.problem)
        s = sampling_seed(config.seed, ur.unit)
        for start, count in chunks(config.draws, default_chunk_size(ur.problem)):
            tasks.append(Chunk(ur.problem, ur.engine, opts, s, config.dist, start, count))
            owners.append(j)
    outputs = evaluate_chunks(tasks, workers=config.workers, scheduler=config.scheduler, progress=progress)
    for j, ur in enumerate(run.results):
        values = np.concatenate([out[0] for out, owner in zip(outputs, owners) if owner == j], axis=0)
        per_dim = {}
        for k, issue_id in enumerate(ur.issues):
            issue = run.arena.issue(issue_id)
            anchors = [(a.value, a.label) for a in issue.scale.anchors]
            per_dim[issue_id] = summarize(values[:, k], issue.scale.min, issue.scale.max, anchors)
        ur.distribution = per_dim if ur.joint else per_dim[ur.issues[0]]
        ur.samples = values  # kept for paired comparisons and questions (tawazun.loop)
    run.draws = config.draws
    run.dist = config.dist


def sensitivity_engine(run: ForecastRun) -> str:
    """The engine whose sensitivity a run reports: its first single-issue dynamic engine,
    else its first engine."""
    dynamic = [n for n in run.engines if get_engine(n).dynamic and not get_engine(n).joint]
    return dynamic[0] if dynamic else run.engines[0]


def add_sensitivity(run: ForecastRun) -> None:
    """Per single issue, on :func:`sensitivity_engine`: the one-at-a-time tornado and, with
    ``config.sobol_n`` > 0, Sobol first-order and total indices."""
    from tawazun.uncertainty.sensitivity import sobol
    from tawazun.uncertainty.sensitivity import tornado as oat

    engine = sensitivity_engine(run)
    opts = get_engine(engine).make_options(run.options[engine])
    for issue in run.arena.issues:
        ranged = run.compiled(issue.id, False)
        entry: dict[str, Any] = {"engine": engine, "records": oat(ranged, engine, opts)}
        if run.config.sobol_n:
            res = sobol(ranged, engine, opts, n=run.config.sobol_n, seed=run.seed, dist=run.config.dist)
            entry["sobol"] = res.to_dict()
        run.sensitivity[issue.id] = entry


def add_scenarios(run: ForecastRun) -> None:
    """The consistent futures of the arena's cross-impact matrix (exact search, capped at
    ``config.scenario_seconds``: a larger matrix gets a partial list, marked incomplete)."""
    from tawazun.scenarios.analysis import analyse

    section = run.arena.scenarios  # typed, validated with the arena
    if section is None:
        return
    cap = run.config.scenario_seconds
    payload = analyse(section, tolerance=0, succession="global", max_seconds=cap)
    run.scenarios = ScenarioFutures(section, payload, cap)


def dynamics_engine(run: ForecastRun) -> str:
    """The engine whose forecasts become the dynamics' covariates: ``config.dynamics_engine``,
    else the compromise model (the fastest, smoothest core engine: its per-draw forecast moves
    with every input, and it has no rounds of its own), else the run's first engine."""
    name = run.config.dynamics_engine
    if name is not None:
        if name not in run.engines:
            raise InputError(f"dynamics_engine: {name!r} is not one of the run's engines ({', '.join(run.engines)})")
        return name
    return "compromise" if "compromise" in run.engines else run.engines[0]


def issue_samples(run: ForecastRun, engine: str, issue_id: str) -> tuple[np.ndarray | None, float]:
    """``engine``'s per-draw forecasts of ``issue_id`` (None without draws) and its point forecast;
    a single-issue unit is preferred to a joint space that also holds the issue."""
    hits = [ur for ur in run.results if ur.engine == engine and issue_id in ur.issues]
    if not hits:
        raise InputError(f"dynamics_engine: {engine} gives no forecast of issue {issue_id!r}")
    ur = min(hits, key=lambda u: len(u.issues))
    k = ur.issues.index(issue_id)
    samples = None if ur.samples is None else ur.samples[:, k]
    return samples, float(ur.result.forecast[0, k])


def future_variants(section: Any, ident: str, payload: dict[str, Any]) -> tuple[int, dict[str, str]]:
    """A consistent future named by ``ident``: its 1-based index in the list ``tawazun
    scenarios`` prints (the exact search's order), or its variants, written as in that list's
    row — comma-separated variant ids in descriptor order (``relabelled,on-time,...``) or
    ``DESCRIPTOR=VARIANT`` pairs naming every descriptor. Returns (index, descriptor -> variant)."""
    futures = payload["scenarios"]
    descs = [d.id for d in section.descriptors]
    text = str(ident).strip()
    if text.isdigit():
        k = int(text)
        if not 1 <= k <= len(futures):
            raise InputError(f"scenario: no consistent scenario #{k}; there are {len(futures)} (tawazun scenarios lists them)")
        return k, dict(futures[k - 1]["variants"])
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if parts and all("=" in p for p in parts):
        wanted = dict(p.split("=", 1) for p in parts)
    elif len(parts) == len(descs):
        wanted = dict(zip(descs, parts))
    else:
        raise InputError(f"scenario: expected a scenario number or {len(descs)} comma-separated variants "
                         f"({', '.join(descs)}), got {ident!r}")
    for k, sc in enumerate(futures, 1):
        if dict(sc["variants"]) == wanted:
            return k, dict(sc["variants"])
    raise InputError(f"scenario: {ident!r} is not one of the {len(futures)} consistent scenarios (tawazun scenarios lists them)")


def consistent_futures(arena: Arena, run: ForecastRun | None = None) -> dict[str, Any]:
    """The run's CIB result when it has one, else the exact search (uncapped, as `tawazun scenarios`)."""
    if run is not None and run.scenarios is not None:
        return run.scenarios.payload
    from tawazun.scenarios.analysis import analyse

    return analyse(arena.scenarios, tolerance=0)


def dynamics_paths(run: ForecastRun) -> int:
    """Paths of the run's dynamics: ``config.dynamics_paths``, else one per draw."""
    return run.config.dynamics_paths or (run.draws or DYNAMICS_PATHS)


def coupled_covariates(run: ForecastRun, paths: int) -> tuple[str | None, dict[str, str], dict[str, np.ndarray]]:
    """The covariates that name an issue, path ``i`` taking draw ``i mod draws`` of
    :func:`dynamics_engine`'s forecast of that issue (every path the point forecast without
    draws). Returns (engine or None, covariate -> issue, covariate -> ``(paths,)`` values)."""
    from tawazun.dynamics.simulate import section_of

    section = section_of(run.arena)
    engine = dynamics_engine(run) if any(c.issue for c in section.covariates) else None
    coupled: dict[str, str] = {}
    covariates: dict[str, np.ndarray] = {}
    for cov in section.covariates:
        if cov.issue is None or engine is None:
            continue
        samples, point = issue_samples(run, engine, cov.issue)
        if samples is None or len(samples) == 0:
            values = np.full(paths, point)
        else:
            values = samples[np.arange(paths) % len(samples)]
        covariates[cov.id] = values
        coupled[cov.id] = cov.issue
    return engine, coupled, covariates


def add_dynamics(run: ForecastRun) -> None:
    """The arena's dynamics section over the run's Monte Carlo draws.

    Path ``i`` takes draw ``i`` (``i mod draws`` when there are more paths than draws): each
    covariate that names an issue takes :func:`dynamics_engine`'s forecast of that issue in the
    same draw, so the dynamics' intervals carry the bargaining uncertainty as well as their
    own. Without draws every path takes the point forecast. Dynamics randomness comes from the
    named ``dynamics`` stream of the run's seed, so it does not depend on how the bargaining
    draws were chunked or on the number of workers. With ``config.scenario`` the covariates
    that map the scenario's descriptors take its values (they win over the coupling); the
    arena's consistent futures are each simulated the same way for the futures table.
    The paths run in blocks (:data:`tawazun.dynamics.simulate.BLOCK`) on the run's workers or
    scheduler, one cluster for every simulation of the call, when there is more than one block.
    """
    from tawazun.dynamics.simulate import BLOCK, section_of

    arena, config = run.arena, run.config
    section = section_of(arena)
    paths = dynamics_paths(run)
    engine, coupled, covariates = coupled_covariates(run, paths)
    if paths > BLOCK:
        from tawazun.uncertainty.distributed import ensemble_cluster

        cluster = ensemble_cluster(config.workers, config.scheduler)
    else:  # one block: nothing to spread, no cluster to start
        cluster = contextlib.nullcontext(None)
    with cluster as client:
        _dynamics_runs(run, section, paths, engine, coupled, covariates, client)


def _dynamics_runs(run: ForecastRun, section: Any, paths: int, engine: str | None, coupled: dict[str, str],
                   covariates: dict[str, np.ndarray], client: Any) -> None:
    from tawazun.dynamics.simulate import scenario_covariates, simulate

    arena, config = run.arena, run.config
    mapped = [c for c in section.covariates if c.scenario is not None]
    scenario = None
    futures = None
    cond = dict(covariates)
    if config.scenario is not None or (config.dynamics_futures and mapped and arena.scenarios is not None):
        if arena.scenarios is None:
            raise InputError("scenario: the arena has no scenarios section")
        payload = consistent_futures(arena, run)
        if config.scenario is not None:
            k, variants = future_variants(arena.scenarios, config.scenario, payload)
            scenario = {"index": k, "variants": variants}
            cond.update(scenario_covariates(section, variants, paths))
        if mapped and payload["scenarios"]:
            futures = []
            for k, sc in enumerate(payload["scenarios"], 1):
                cv = dict(covariates)
                cv.update(scenario_covariates(section, sc["variants"], paths))
                res = simulate(arena, paths=paths, horizon=config.horizon, seed=run.seed, covariates=cv,
                               scheduler=client)
                futures.append({"index": k, "variants": dict(sc["variants"]),
                                "regimes_at_horizon": {r: float(p[-1]) for r, p in res.regimes.items()},
                                **({"notes": list(res.notes)} if res.notes else {})})
    result = simulate(arena, paths=paths, horizon=config.horizon, seed=run.seed, covariates=cond,
                      scheduler=client)
    run.dynamics = DynamicsRun(result, engine, coupled, scenario, futures)


# ---------------------------------------------------------------- documents
def to_json(run: ForecastRun) -> dict[str, Any]:
    """The result document (`tawazun forecast --json`, result.json, the web run's result)."""
    from tawazun.uncertainty.headline import assess

    results = []
    for ur in run.results:
        forecast = [float(v) for v in ur.result.forecast[0]]
        entry: dict[str, Any] = {
            "issue": ur.unit,
            "engine": ur.engine,
            "forecast": [round(v, 6) for v in forecast],
        }
        if ur.joint:
            entry["issues"] = ur.issues
        entry["nearest"] = [nearest_anchor(run.arena.issue(i), v) for i, v in zip(ur.issues, forecast)]
        if all(run.arena.issue(i).status_quo is not None for i in ur.issues):
            sq = ur.point().status_quo
            entry["status_quo"] = [float(sq[0, k]) for k in range(len(ur.issues))]
        traj = ur.result.trajectory
        if traj is not None:
            entry["trajectory"] = [
                {"turn": t, "positions": {a: [round(float(x), 6) for x in traj[0, t, k]] for k, a in enumerate(ur.actors)}}
                for t in range(traj.shape[1])
            ]
        if ur.distribution is not None:
            entry["distribution"] = ur.distribution
        # one per issue, like "forecast": the headline value, its rule and any instability
        entry["headline"] = []
        for i, v in zip(ur.issues, forecast):
            head = assess(v, ur.distribution_on(i))
            head["nearest"] = nearest_anchor(run.arena.issue(i), head["value"])
            entry["headline"].append(head)
        sens = run.sensitivity.get(ur.unit)
        if sens is not None and sens["engine"] == ur.engine:
            entry["tornado"] = sens["records"]
            if "sobol" in sens:
                entry["sobol"] = sens["sobol"]
        results.append(entry)
    doc: dict[str, Any] = {
        "arena": run.arena.meta.id,
        "version": __version__,
        "seed": run.seed,
        "engines": run.engines,
        "options": run.options,
    }
    if run.draws:
        doc["draws"] = run.draws
        doc["dist"] = run.dist
    doc["results"] = results
    if run.arena.questions:
        if run.questions is None:  # a run assembled step by step, without execute()
            add_questions(run)
        doc["questions"] = run.questions
    if run.dynamics is not None:
        doc["dynamics"] = dynamics_json(run.dynamics)
    return doc


def dynamics_json(dyn: DynamicsRun) -> dict[str, Any]:
    """The ``dynamics`` block: the shape of `tawazun simulate --json` (steps, series, regimes),
    plus what it was coupled to and, when the arena maps its futures, P(regime) per future."""
    from tawazun.dynamics.simulate import to_json as sim_json

    block = sim_json(dyn.result)
    for key in ("arena", "version", "seed"):
        block.pop(key, None)
    block["engine"] = dyn.engine
    block["coupled"] = dyn.coupled
    if dyn.scenario is not None:
        block["scenario"] = dyn.scenario
    if dyn.futures is not None:
        block["futures"] = dyn.futures
    return block


def manifest(run: ForecastRun, *, arena_path: str, arena_sha256: str, command: str) -> dict[str, Any]:
    """What a run folder records beside its result: enough to re-run it to the same numbers."""
    c = run.config
    return {
        "tawazun_version": __version__,
        "created": run.created,
        "arena": {"id": run.arena.meta.id, "path": arena_path, "sha256": arena_sha256},
        "engines": run.engines,
        "options": run.options,
        "seed": run.seed,
        "draws": c.draws,
        "dist": c.dist if c.draws else None,
        "workers": c.workers,
        "scheduler": c.scheduler,
        "sensitivity": c.sensitivity,
        "sobol_n": c.sobol_n,
        "dynamics": ({"paths": run.dynamics.result.paths, "horizon": run.dynamics.result.horizon,
                      "engine": run.dynamics.engine, "scenario": c.scenario, "futures": c.dynamics_futures}
                     if run.dynamics else None),
        "command": command,
        "python": sys.version.split()[0],
    }
