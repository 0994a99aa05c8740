"""The draft Iraq dynamics section (docs/examples) validates against the shipped arena and runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tawazun.arena.load import parse_arena_text, shipped_path
from tawazun.dynamics.simulate import simulate

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "iraq-2021-dynamics.yaml"


def test_example_appended_to_shipped_arena():
    text = shipped_path().read_text(encoding="utf-8") + "\n" + EXAMPLE.read_text(encoding="utf-8")
    arena = parse_arena_text(text, "iraq-2021+dynamics")
    res = simulate(arena, paths=24, horizon=4, seed=0)
    assert set(res.series) == {"legitimacy", "balance", "attacks", "protests"}
    assert np.allclose(res.regimes["collapse"] + res.regimes["fragile-security"], 1.0)
    # the state's hold on the armed factions (¶11), as a bargaining forecast of the issue, moves collapse
    lo = simulate(arena, paths=60, horizon=12, seed=1, covariates={"armed-factions": np.zeros(60)})
    hi = simulate(arena, paths=60, horizon=12, seed=1, covariates={"armed-factions": np.full(60, 75.0)})
    assert lo.regimes["collapse"][-1] > hi.regimes["collapse"][-1]
