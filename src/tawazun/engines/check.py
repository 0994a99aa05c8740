"""``check_engine``: the engine contract, checked on a registered engine.

In the spirit of scikit-learn's ``check_estimator``: whatever an engine computes, it must be
a pure function over batch-first arrays that honours the contract of
:mod:`tawazun.engines.base`. :func:`check_engine` runs an engine on small seeded problems
and raises :class:`EngineCheckError` (an AssertionError) naming the first broken rule:

* ``shapes``        - forecast (B, d); a dynamic engine's trajectory (B, T+1, n, d) whose
                      turn 0 is the input; every diagnostic array batch-first;
* ``point``         - a batch of one (``Problem.from_points``) gives exactly the forecast
                      that draw gets inside a larger batch;
* ``batch``         - a batch of B gives exactly what B batches of one give;
* ``seed``          - the same rng seed gives the same result, bit for bit;
* ``threads``       - 1 and 3 threads (``TAWAZUN_THREADS``) give the same result, bit for bit;
* ``options``       - defaults pass ``validate()``; an unknown option name and each invalid
                      value tried are refused by ``EngineSpec.make_options`` with a
                      one-line KeyError/ValueError (InputError at the CLI);
* ``scale``         - every finite forecast lies on the issue's scale [lower, upper].

``tests/test_check_engine.py`` runs it on every engine in the registry, so a new engine is
checked by CI the day it is registered.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from typing import Any, Iterator

import numpy as np

from tawazun.engines.base import EngineResult, EngineSpec, Problem, get_engine


class EngineCheckError(AssertionError):
    """An engine broke a rule of the contract; the message says which, and how."""


CHECKS = ("shapes", "point", "batch", "seed", "threads", "options", "scale")


def random_problem(n: int, d: int, batch: int, seed: int, lower: float = -3.0,
                   upper: float = 7.0) -> Problem:
    """A seeded problem on the scale [lower, upper] in every dimension, with a status quo;
    positive capabilities and saliences (so weighted means are defined)."""
    rng = np.random.default_rng(seed)
    sal = rng.uniform(0.1, 1.0, (batch, n, d))
    if d > 1:  # engines may require an actor's saliences to sum to at most 1
        sal = sal / d
    return Problem(
        actors=tuple(f"a{k}" for k in range(n)), dims=tuple(f"x{k}" for k in range(d)),
        position=rng.uniform(lower, upper, (batch, n, d)),
        salience=sal,
        capability=rng.uniform(0.1, 1.0, (batch, n)),
        lower=np.full(d, lower), upper=np.full(d, upper),
        status_quo=rng.uniform(lower, upper, (batch, d)),
    )


def _fail(spec: EngineSpec, check: str, message: str) -> None:
    raise EngineCheckError(f"engine {spec.name!r} fails check {check!r}: {message}")


def _same(a: Any, b: Any) -> bool:
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.dtype.kind in "fc":
        return bool(np.array_equal(a, b, equal_nan=True))
    return bool(np.array_equal(a, b))


def _run(spec: EngineSpec, problem: Problem, options: Any, seed: int) -> EngineResult:
    return spec.run(problem, options, np.random.default_rng(seed))


def _arrays(res: EngineResult) -> dict[str, np.ndarray]:
    """Every batch-first output of a result, by name."""
    out = {"forecast": np.asarray(res.forecast)}
    if res.trajectory is not None:
        out["trajectory"] = np.asarray(res.trajectory)
    for key, value in (res.diagnostics or {}).items():
        out[f"diagnostics[{key!r}]"] = np.asarray(value)
    return out


def _compare(spec: EngineSpec, check: str, a: EngineResult, b: EngineResult, what: str) -> None:
    xa, xb = _arrays(a), _arrays(b)
    if set(xa) != set(xb):
        _fail(spec, check, f"{what}: different outputs {sorted(set(xa) ^ set(xb))}")
    for key in xa:
        if not _same(xa[key], xb[key]):
            _fail(spec, check, f"{what}: {key} differs")


@contextlib.contextmanager
def _threads(k: int) -> Iterator[None]:
    """Every thread setting of the process set to ``k`` for the duration."""
    names = [n for n in os.environ if n.startswith("TAWAZUN_") and n.endswith("_THREADS")]
    saved = {n: os.environ.get(n) for n in names + ["TAWAZUN_THREADS"]}
    from tawazun.engines import bdm

    previous = bdm.set_threads(None)
    try:
        for n in names:
            del os.environ[n]
        os.environ["TAWAZUN_THREADS"] = str(k)
        yield
    finally:
        for n, v in saved.items():
            if v is None:
                os.environ.pop(n, None)
            else:
                os.environ[n] = v
        bdm.set_threads(previous)


def _bad_values(value: Any) -> list[Any]:
    """Values of the same field that no sensible option accepts."""
    if isinstance(value, bool):
        return []
    if isinstance(value, str):
        return ["no-such-choice"]
    if isinstance(value, (int, float)):
        return [-1, float("nan")]
    return []


def _check_options(spec: EngineSpec) -> None:
    opts = spec.make_options()
    try:
        opts.validate()
    except ValueError as exc:
        _fail(spec, "options", f"the defaults fail validate(): {exc}")
    try:
        spec.make_options({"no_such_option": "1"})
    except KeyError as exc:
        msg = str(exc.args[0] if exc.args else exc)
        if "\n" in msg or "no_such_option" not in msg:
            _fail(spec, "options", f"an unknown option is not refused in one line naming it: {msg!r}")
    else:
        _fail(spec, "options", "an unknown option name is accepted")
    refused = 0
    for field in dataclasses.fields(opts):
        for bad in _bad_values(getattr(opts, field.name)):
            try:
                spec.make_options({field.name: bad})
            except (KeyError, ValueError) as exc:
                msg = str(exc.args[0] if exc.args else exc)
                if "\n" in msg or field.name not in msg:
                    _fail(spec, "options", f"{field.name}={bad!r} is refused, but not in one line "
                          f"naming the option: {msg!r}")
                refused += 1
            except Exception as exc:  # noqa: BLE001 - the contract is KeyError/ValueError
                _fail(spec, "options", f"{field.name}={bad!r} raises {type(exc).__name__}, "
                      "not a one-line ValueError")
    if dataclasses.fields(opts) and refused == 0:
        _fail(spec, "options", "no invalid value of any option is refused")


def check_engine(engine: str | EngineSpec, *, n: int = 5, batch: int = 12, seed: int = 0,
                 thread_batch: int = 700, thread_actors: int = 12) -> list[str]:
    """Check one engine (a registry name or an :class:`EngineSpec`) against the contract.

    Returns the names of the checks passed (:data:`CHECKS`); raises
    :class:`EngineCheckError` at the first failure. Problems are small (``n`` actors,
    ``batch`` draws; the thread check uses ``thread_batch`` draws of ``thread_actors``
    actors, enough for BDM to split its batch into several chunks) so that it runs in
    seconds. Engines that bargain several issues jointly are also checked on d = 2.
    """
    spec = engine if isinstance(engine, EngineSpec) else get_engine(engine)
    opts = spec.make_options()
    dims = [1] + ([2] if spec.max_dims is None or spec.max_dims >= 2 else [])
    for d in dims:
        p = random_problem(n, d, batch, seed + d)
        res = _run(spec, p, opts, seed)

        # shapes
        fc = np.asarray(res.forecast)
        if fc.shape != (batch, d):
            _fail(spec, "shapes", f"forecast has shape {fc.shape}, expected {(batch, d)}")
        if spec.dynamic:
            tr = res.trajectory
            if tr is None or tr.ndim != 4 or tr.shape[0] != batch or tr.shape[2:] != (n, d):
                _fail(spec, "shapes", f"trajectory has shape {None if tr is None else tr.shape}, "
                      f"expected (B, T+1, n, d) = ({batch}, T+1, {n}, {d})")
            if not np.allclose(tr[:, 0], p.position, rtol=0, atol=1e-9 * (p.upper - p.lower).max()):
                _fail(spec, "shapes", "trajectory turn 0 is not the input positions")
        for key, value in _arrays(res).items():
            if value.ndim == 0 or value.shape[0] != batch:
                _fail(spec, "shapes", f"{key} is not batch-first (shape {value.shape})")

        # scale
        finite = np.isfinite(fc)
        span = p.upper - p.lower
        lo = p.lower - 1e-9 * span
        hi = p.upper + 1e-9 * span
        if not finite.all():
            _fail(spec, "scale", "a forecast is not finite on a problem with positive weights")
        if ((fc < lo) | (fc > hi)).any():
            _fail(spec, "scale", f"a forecast lies off the scale [{p.lower}, {p.upper}]: "
                  f"{fc[(fc < lo) | (fc > hi)][:3]}")

        # point: the modes alone, as a batch of one, equal that draw inside the batch
        one = Problem.from_points(p.actors, p.position[0], p.salience[0], p.capability[0],
                                  p.lower, p.upper, p.status_quo[0], dims=p.dims)
        _compare(spec, "point", _run(spec, one, opts, seed), _subset(res, 0), "draw 0 alone vs in the batch")

        # batch: B batches of one equal one batch of B
        for k in range(batch):
            _compare(spec, "batch", _run(spec, p.take(slice(k, k + 1)), opts, seed), _subset(res, k),
                     f"draw {k} alone vs in a batch of {batch}")

        # seed: the same seed twice
        _compare(spec, "seed", _run(spec, p, opts, seed), res, "two runs with the same seed")

    # threads
    big = random_problem(thread_actors, 1, thread_batch, seed + 7)
    with _threads(1):
        a = _run(spec, big, opts, seed)
    with _threads(3):
        b = _run(spec, big, opts, seed)
    _compare(spec, "threads", a, b, "1 thread vs 3 threads")

    _check_options(spec)
    return list(CHECKS)


def _subset(res: EngineResult, k: int) -> EngineResult:
    """Draw k of a result as a batch of one. A dynamic engine that stops a draw early pads
    it (repeating its final state) to the batch's longest run; the draw alone is not padded,
    so padding beyond its own ``turns`` is cut where the engine reports them."""
    traj = None if res.trajectory is None else np.asarray(res.trajectory)[k:k + 1]
    diags = {key: np.asarray(v)[k:k + 1] for key, v in (res.diagnostics or {}).items()}
    turns = diags.get("turns")
    if turns is not None and traj is not None:
        t = int(turns[0])
        traj = traj[:, : t + 1]
        for key, v in list(diags.items()):
            if v.ndim >= 2 and v.shape[1] == res.trajectory.shape[1]:
                diags[key] = v[:, : t + 1]
            elif v.ndim >= 2 and v.shape[1] == res.trajectory.shape[1] - 1:
                diags[key] = v[:, :t]
    return EngineResult(res.engine, np.asarray(res.forecast)[k:k + 1], traj, diags, res.options)
