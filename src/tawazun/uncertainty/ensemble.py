"""Run an engine over many draws of a ranged problem: the Monte Carlo ensemble.

Draws are evaluated in chunks; each chunk is ONE batched engine call (no Python loop
over draws). Chunks run in this process (``workers=1``), on an embedded Dask
``LocalCluster`` (``workers > 1``) or on an existing Dask scheduler
(``scheduler="tcp://host:port"``); because the draws come from seeded blocks
(:mod:`tawazun.uncertainty.sampling`) the numbers do not depend on where or in how many
chunks they were computed. This module writes no files.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import numpy as np

from tawazun.engines.base import EngineSpec, RangedProblem, get_engine
from tawazun.errors import InputError
from tawazun.random import generator
from tawazun.uncertainty.sampling import BLOCK, _check_dist, check_ranges, sample

DEFAULT_DRAWS = 500
"""Recommended number of draws for a forecast distribution (see docs/performance.md)."""

ENGINE_RNG_KEY = 0x7A57  # the "ensemble" branch of tawazun.random (kept for importers)
"""Spawn-key prefix of the generator handed to the engine for a chunk (stochastic engines)."""

Progress = Callable[[int, int], None]


@dataclass
class Ensemble:
    """Forecasts of one engine over ``draws`` draws of a ranged problem."""

    engine: str
    actors: tuple[str, ...]
    dims: tuple[str, ...]
    draws: int
    seed: int
    dist: str
    chunk_size: int
    forecast: np.ndarray  # (draws, d)
    diagnostics: dict[str, np.ndarray] = field(default_factory=dict)  # each (draws, ...)
    options: Any = None
    seconds: float = 0.0
    workers: int = 1
    scheduler: str | None = None

    def values(self, dim: str | int = 0) -> np.ndarray:
        """The forecasts of one dimension, ``(draws,)``."""
        j = self.dims.index(dim) if isinstance(dim, str) else int(dim)
        return self.forecast[:, j]


def resolve_engine(engine: str | EngineSpec, options: Any = None) -> tuple[EngineSpec, Any]:
    """Engine spec and options object; ``options`` may be None, a dict of overrides
    (CLI ``key=value`` strings allowed) or the engine's options object."""
    if isinstance(engine, EngineSpec):
        spec = engine
    else:
        try:
            spec = get_engine(str(engine))
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
    if options is None or isinstance(options, dict):
        try:
            opts = spec.make_options(options or None)
        except (KeyError, ValueError) as exc:
            raise InputError(str(exc.args[0] if exc.args else exc)) from None
    else:
        opts = options
    return spec, opts


def default_chunk_size(ranged: RangedProblem) -> int:
    """Draws per engine call: about 2**24 / (n * n * d) so that an engine's pairwise
    (chunk, n, n, d) arrays stay near 128 MB, between 64 and 8192, aligned to the
    sampling blocks (a multiple of BLOCK, or a power of two dividing it)."""
    n, d = len(ranged.actors), len(ranged.dims)
    target = max(64, min(8192, (1 << 24) // max(1, n * n * d)))
    if target >= BLOCK:
        return (target // BLOCK) * BLOCK
    return 1 << (target.bit_length() - 1)


def chunks(draws: int, chunk_size: int) -> list[tuple[int, int]]:
    """``(start, count)`` per chunk, in draw order."""
    return [(s, min(chunk_size, draws - s)) for s in range(0, draws, chunk_size)]


class Chunk(NamedTuple):
    """One batched engine call of an ensemble: draws ``[start, start + count)``."""

    ranged: RangedProblem
    engine: str | EngineSpec
    options: Any
    seed: int  # the sampling seed (common to every engine on this problem)
    dist: str
    start: int
    count: int
    keep_diagnostics: bool = False


def evaluate_chunk(chunk: Chunk) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The chunk's draws through the engine in one batched call.

    Module-level and free of closures so that Dask workers can run it.
    """
    ranged, engine, options, seed, dist, start, count, keep_diagnostics = chunk
    spec = engine if isinstance(engine, EngineSpec) else get_engine(engine)
    problem = sample(ranged, count, seed, dist=dist, start=start)
    rng = generator(seed, "ensemble", start)
    result = spec.run(problem, options, rng)
    forecast = np.asarray(result.forecast, dtype=float).reshape(count, len(ranged.dims))
    diags: dict[str, np.ndarray] = {}
    if keep_diagnostics:
        for key, value in (result.diagnostics or {}).items():
            arr = np.asarray(value)
            if arr.ndim >= 1 and arr.shape[0] == count:
                diags[key] = arr
    return forecast, diags


def evaluate_chunks(
    tasks: list[Chunk],
    *,
    workers: int = 1,
    scheduler: Any = None,
    progress: Progress | None = None,
) -> list[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """:func:`evaluate_chunk` over every chunk, in order: in this process, or as Dask
    tasks on one cluster when ``workers`` > 1 or a ``scheduler`` is given.
    ``progress(done, total)`` counts draws."""
    counts = [int(c.count) for c in tasks]
    total = sum(counts)
    if scheduler is None and workers <= 1:
        results = []
        done = 0
        for task, c in zip(tasks, counts):
            results.append(evaluate_chunk(task))
            done += c
            if progress is not None:
                progress(done, total)
        return results
    from tawazun.uncertainty.distributed import map_chunks

    return map_chunks(evaluate_chunk, [(task,) for task in tasks], workers=workers, scheduler=scheduler,
                      progress=progress, total=total, counts=counts)


def run_ensemble(
    ranged: RangedProblem,
    engine: str | EngineSpec,
    options: Any = None,
    draws: int = DEFAULT_DRAWS,
    seed: int = 0,
    dist: str = "triangular",
    chunk_size: int | None = None,
    workers: int = 1,
    scheduler: Any = None,
    progress: Progress | None = None,
    keep_diagnostics: bool = False,
) -> Ensemble:
    """Forecast distribution of one engine: ``draws`` seeded draws, chunked and batched.

    Same ``seed`` and ``dist`` give bit-identical forecasts for any ``chunk_size``,
    ``workers`` or ``scheduler`` (for deterministic engines; a stochastic engine gets a
    generator seeded per chunk start, so it repeats only for the same chunking).
    ``scheduler`` is None, a ``tcp://HOST:PORT`` address or an open ``distributed.Client``
    (see :func:`tawazun.uncertainty.distributed.ensemble_cluster`).
    ``KeyboardInterrupt`` propagates after the workers are shut down.
    """
    spec, opts = resolve_engine(engine, options)
    _check_dist(dist)
    draws = int(draws)
    if draws < 1:
        raise InputError(f"draws must be at least 1, got {draws}")
    try:
        seed = int(seed)
    except (TypeError, ValueError):
        raise InputError(f"seed must be an integer, got {seed!r}") from None
    if seed < 0:
        raise InputError(f"seed must be a non-negative integer, got {seed}")
    workers = int(workers)
    if workers < 1:
        raise InputError(f"workers must be at least 1, got {workers}")
    d = len(ranged.dims)
    if spec.max_dims is not None and d > spec.max_dims:
        raise InputError(
            f"engine {spec.name!r} handles at most {spec.max_dims} dimension(s); "
            f"this problem has {d} ({', '.join(ranged.dims)})"
        )
    check_ranges(ranged)
    size = int(chunk_size) if chunk_size else default_chunk_size(ranged)
    if size < 1:
        raise InputError(f"chunk size must be at least 1, got {size}")
    plan = chunks(draws, size)
    # The spec travels itself (its function pickles by module reference), so a worker
    # imports the engine's module even when the engine is not among the built-ins.
    tasks = [Chunk(ranged, spec, opts, seed, dist, s, c, keep_diagnostics) for s, c in plan]

    t0 = time.perf_counter()
    results = evaluate_chunks(tasks, workers=workers, scheduler=scheduler, progress=progress)
    seconds = time.perf_counter() - t0

    forecast = np.concatenate([r[0] for r in results], axis=0)
    diagnostics: dict[str, np.ndarray] = {}
    if keep_diagnostics and results:
        keys = set(results[0][1])
        for r in results[1:]:
            keys &= set(r[1])
        for key in sorted(keys):
            try:
                diagnostics[key] = np.concatenate([r[1][key] for r in results], axis=0)
            except ValueError:
                pass  # shapes differ between chunks (e.g. varying turn counts): skip
    return Ensemble(
        engine=spec.name,
        actors=tuple(ranged.actors),
        dims=tuple(ranged.dims),
        draws=draws,
        seed=seed,
        dist=dist,
        chunk_size=size,
        forecast=forecast,
        diagnostics=diagnostics,
        options=opts if not dataclasses.is_dataclass(opts) else dataclasses.asdict(opts),
        seconds=seconds,
        workers=workers,
        scheduler=_address(scheduler),
    )


def _address(scheduler: Any) -> str | None:
    if scheduler is None or isinstance(scheduler, str):
        return scheduler
    try:
        return str(scheduler.scheduler.address)
    except AttributeError:
        return repr(scheduler)
