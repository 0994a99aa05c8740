"""The named random-stream tree (tawazun.random): each branch is pinned to the spawn key
its module used before the tree was named, so published numbers cannot drift."""

from __future__ import annotations

import zlib

import numpy as np
import pytest

from tawazun.engines import REGISTRY
from tawazun.forecast import sampling_seed, unit_seed
from tawazun.random import BRANCHES, generator, seed_int, stream


def _state(ss: np.random.SeedSequence) -> list[int]:
    return ss.generate_state(4).tolist()


@pytest.mark.parametrize("seed", [0, 1, 2**40 + 3])
def test_branches_keep_their_spawn_keys(seed):
    crc = lambda text: zlib.crc32(text.encode())  # noqa: E731
    legacy = {
        ("block", 5): np.random.SeedSequence(seed, spawn_key=(5,)),
        ("sampling", "iraq-deal"): np.random.SeedSequence(seed, spawn_key=(0x5EED, crc("iraq-deal"))),
        ("engine", "bdm", "us-presence"): np.random.SeedSequence(seed, spawn_key=(crc("bdm"), crc("us-presence"))),
        ("ensemble", 2048): np.random.SeedSequence(seed, spawn_key=(0x7A57, 2048)),
        ("sensitivity", 96): np.random.SeedSequence(seed, spawn_key=(0x5E45, 96)),
        ("bootstrap",): np.random.SeedSequence([seed, 0xB007]),
        ("cib",): np.random.SeedSequence(seed),
        ("folds",): np.random.SeedSequence(seed),
        ("score-bootstrap",): np.random.SeedSequence(seed),
        ("backtest", 3): np.random.SeedSequence([seed, 3]),
        ("dynamics",): np.random.SeedSequence(seed, spawn_key=(0xD1A5, 0)),
        # block k of the dynamics paths; block 0 is the stream of every path before blocks
        ("dynamics", 0): np.random.SeedSequence(seed, spawn_key=(0xD1A5, 0)),
        ("dynamics", 3): np.random.SeedSequence(seed, spawn_key=(0xD1A5, 3)),
        ("attacks", "paths", 4): np.random.SeedSequence(seed, spawn_key=(0xA77A, crc("paths"), 4)),
        ("protest-table", 80): np.random.SeedSequence(seed, spawn_key=(0x7AB1, 80)),
    }
    assert {k[0] for k in legacy} == set(BRANCHES)
    for (branch, *keys), ss in legacy.items():
        assert _state(stream(seed, branch, *keys)) == _state(ss), branch
    # default_rng(int) and default_rng([a, b]) are these sequences
    assert generator(seed, "folds").random() == np.random.default_rng(seed).random()
    assert generator(seed, "backtest", 3).random() == np.random.default_rng([seed, 3]).random()
    assert generator(seed, "block", 5).random() == np.random.default_rng(legacy[("block", 5)]).random()
    assert seed_int(seed, "sampling", "iraq-deal") == int(legacy[("sampling", "iraq-deal")].generate_state(1)[0])
    # the forecast pipeline's helpers are the named streams
    assert _state(unit_seed(seed, "bdm", "us-presence")) == _state(legacy[("engine", "bdm", "us-presence")])
    assert sampling_seed(seed, "iraq-deal") == seed_int(seed, "sampling", "iraq-deal")


def test_no_engine_name_collides_with_a_branch_constant():
    constants = {0x5EED, 0x7A57, 0x5E45, 0xD1A5, 0xA77A, 0x7AB1}
    for name in REGISTRY:
        assert zlib.crc32(name.encode()) not in constants, name


def test_unknown_branch_or_keys_are_one_line_errors():
    with pytest.raises(ValueError, match=r"^unknown random stream 'engines'; known: block, "):
        stream(0, "engines", "bdm", "x")
    with pytest.raises(ValueError, match=r"^random stream 'engine': wrong keys \('bdm',\)$"):
        stream(0, "engine", "bdm")


def test_dynamics_blocks_are_distinct_streams():
    firsts = {generator(0, "dynamics", k).random() for k in range(5)}
    assert len(firsts) == 5
    assert generator(0, "dynamics").random() == generator(0, "dynamics", 0).random()
    with pytest.raises(ValueError, match=r"^random stream 'dynamics': wrong keys \(1, 2\)$"):
        stream(0, "dynamics", 1, 2)
