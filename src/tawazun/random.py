"""The one tree of named random streams every seeded part of tawazun draws from.

A run has one user seed. Every random number comes from a stream named by a branch and
its keys, ``stream(seed, branch, *keys)``, so that no two parts share a stream and adding
an engine, an issue or a chunk changes no other stream. docs/uncertainty.md lists the tree.

The spawn keys below are the ones each module used before they were gathered here; they
are kept exactly (the branches are names for them), so every published number stays
bit for bit the same. Branches differ in the length or the first element of their spawn
key; the one way two could meet is an engine name whose CRC-32 equals 0x5EED, 0x7A57,
0x5E45, 0xD1A5 or 0x7AB1, which tests/test_random.py rules out for every registered engine
(the ``attacks`` branch is the only one with a three-element key).
"""

from __future__ import annotations

import zlib
from typing import Callable

import numpy as np

_SAMPLING = 0x5EED  # per-unit input-sampling seed (forecast distributions)
_ENSEMBLE = 0x7A57  # engine stream of the ensemble chunk starting at draw `start`
_SENSITIVITY = 0x5E45  # engine stream of the sensitivity chunk starting at row `row`
_BOOTSTRAP = 0xB007  # SALib's bootstrap seed for Sobol confidence intervals
_DYNAMICS = 0xD1A5  # the dynamics section's simulation (tawazun.dynamics.simulate)
_ATTACKS = 0xA77A  # the attacks backtest (tawazun.evaluation.attacks)
_PTABLE = 0x7AB1  # the protest emulator's tables (tawazun.dynamics.emulator)


def _crc(text: str) -> int:
    return zlib.crc32(text.encode())


_BRANCHES: dict[str, Callable[..., np.random.SeedSequence]] = {
    # input draws of block k (uncertainty.sampling: BLOCK draws per block)
    "block": lambda seed, k: np.random.SeedSequence(seed, spawn_key=(int(k),)),
    # the seed of a bargaining unit's input draws, shared by every engine on it
    "sampling": lambda seed, unit: np.random.SeedSequence(seed, spawn_key=(_SAMPLING, _crc(unit))),
    # an engine's own stream for the point forecast of one unit
    "engine": lambda seed, engine, unit: np.random.SeedSequence(seed, spawn_key=(_crc(engine), _crc(unit))),
    # an engine's own stream for the ensemble chunk of draws [start, start + count)
    "ensemble": lambda seed, start: np.random.SeedSequence(seed, spawn_key=(_ENSEMBLE, int(start))),
    # an engine's own stream for the sensitivity chunk starting at row `row`
    "sensitivity": lambda seed, row: np.random.SeedSequence(seed, spawn_key=(_SENSITIVITY, int(row))),
    # SALib's bootstrap of the Sobol indices (entropy [seed, 0xB007], not a spawn key)
    "bootstrap": lambda seed: np.random.SeedSequence([seed, _BOOTSTRAP]),
    # cross-impact balance: succession starts and sampled judgment matrices (the root)
    "cib": lambda seed: np.random.SeedSequence(seed),
    # backtests: the grouped folds' permutation, and the cluster bootstrap of score gains
    "folds": lambda seed: np.random.SeedSequence(seed),
    "score-bootstrap": lambda seed: np.random.SeedSequence(seed),
    # backtests: an engine's stream on DEU issue i; [seed, 1] also seeds the residual
    # ensembles and PIT draws (an overlap with issue 1, kept so no number changes)
    "backtest": lambda seed, i: np.random.SeedSequence([seed, int(i)]),
    # the dynamics section, block k of its paths (tawazun.dynamics.simulate: BLOCK paths per
    # block): parameter draws, then every step's processes and shocks, in order. Block 0 is
    # the stream every path used before paths were blocked, so runs of <= BLOCK paths keep
    # their numbers
    "dynamics": lambda seed, block=0: np.random.SeedSequence(seed, spawn_key=(_DYNAMICS, int(block))),
    # the attacks backtest: ("times", 0) places events within their day/month, ("paths", k)
    # simulates the Hawkes paths of origin k (a three-element key: no other branch has one)
    "attacks": lambda seed, purpose, i: np.random.SeedSequence(
        seed, spawn_key=(_ATTACKS, _crc(purpose), int(i))),
    # the protest emulator's table, grid row i (the previous step's legitimacy) of its kernel
    # worlds; the seed is the table's fixed build seed, never a run's
    "protest-table": lambda seed, i: np.random.SeedSequence(seed, spawn_key=(_PTABLE, int(i))),
}

BRANCHES = tuple(_BRANCHES)


def stream(seed: int | None, branch: str, *keys: int | str) -> np.random.SeedSequence:
    """The seed sequence of one named stream, e.g. ``stream(0, "engine", "bdm", "us-presence")``.

    ``branch`` is one of :data:`BRANCHES`; ``keys`` are what that branch is indexed by (see
    docs/uncertainty.md). Raises ValueError for an unknown branch or the wrong keys.
    """
    try:
        make = _BRANCHES[branch]
    except KeyError:
        raise ValueError(f"unknown random stream {branch!r}; known: {', '.join(BRANCHES)}") from None
    try:
        return make(seed, *keys)
    except TypeError:
        raise ValueError(f"random stream {branch!r}: wrong keys {keys!r}") from None


def generator(seed: int | None, branch: str, *keys: int | str) -> np.random.Generator:
    """A NumPy generator on the stream ``stream(seed, branch, *keys)``."""
    return np.random.default_rng(stream(seed, branch, *keys))


def seed_int(seed: int | None, branch: str, *keys: int | str) -> int:
    """The stream's first 32-bit word, for APIs that take a plain integer seed."""
    return int(stream(seed, branch, *keys).generate_state(1)[0])
