"""The engine contract (tawazun.engines.check) on every registered engine, and on engines
that break it on purpose (so the checks can fail)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from tawazun.engines import REGISTRY
from tawazun.engines.base import EngineOptions, EngineResult, EngineSpec, OptionError, Problem
from tawazun.engines.check import CHECKS, EngineCheckError, check_engine


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_registered_engine_meets_the_contract(name):
    assert check_engine(name) == list(CHECKS)


@dataclasses.dataclass(frozen=True)
class _Opts(EngineOptions):
    engine = "toy"
    weight: float = 1.0

    def validate(self) -> None:
        self._check("weight", self.weight >= 0, "expected a number >= 0")


def _mean(problem: Problem) -> np.ndarray:
    w = problem.capability[:, :, None] * problem.salience
    return (w * problem.position).sum(axis=1) / w.sum(axis=1)


def _spec(run, options=_Opts) -> EngineSpec:
    return EngineSpec("toy", run, options, False, None, "a test engine")


def test_a_well_behaved_toy_engine_passes():
    assert check_engine(_spec(lambda p, o=None, rng=None: EngineResult("toy", _mean(p)))) == list(CHECKS)


@pytest.mark.parametrize("run, check", [
    # depends on the batch: the mean over the whole batch leaks into each draw
    (lambda p, o=None, rng=None: EngineResult("toy", _mean(p) * 0 + _mean(p).mean(axis=0)), "point"),
    # not seeded by its rng
    (lambda p, o=None, rng=None: EngineResult("toy", _mean(p) + np.random.default_rng().uniform(0, 1e-9)),
     "point"),
    # off the scale
    (lambda p, o=None, rng=None: EngineResult("toy", _mean(p) + 100.0), "scale"),
    # wrong shape
    (lambda p, o=None, rng=None: EngineResult("toy", _mean(p)[:, 0]), "shapes"),
])
def test_broken_engines_are_caught(run, check):
    with pytest.raises(EngineCheckError, match=f"check '{check}'"):
        check_engine(_spec(run))


def test_options_that_accept_anything_are_caught():
    @dataclasses.dataclass(frozen=True)
    class Lax(EngineOptions):
        engine = "toy"
        weight: float = 1.0

    with pytest.raises(EngineCheckError, match="check 'options'"):
        check_engine(_spec(lambda p, o=None, rng=None: EngineResult("toy", _mean(p)), Lax))


def test_option_errors_are_one_line_naming_the_option():
    spec = REGISTRY["bdm"]
    with pytest.raises(OptionError, match=r"^bdm\.rounds: expected a whole number >= 0, got -1$"):
        spec.make_options({"rounds": "-1"})
    with pytest.raises(OptionError, match=r"^bdm\.q: expected a number, got 'half'$"):
        spec.make_options({"q": "half"})
    with pytest.raises(OptionError, match=r"^smp\.voting_rule: expected one of .*, got 'Majority'$"):
        REGISTRY["smp"].make_options({"voting_rule": "Majority"})
    with pytest.raises(KeyError, match="no option 'speed'") as err:
        spec.make_options({"speed": "1"})
    assert str(err.value).startswith("bdm.speed: ") and "\n" not in str(err.value)
