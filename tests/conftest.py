"""Shared fixtures. Tests needing ../shared skip cleanly when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

# Local runs draw fresh examples each time, to keep exploring; CI (.ci/run sets
# TAWAZUN_TEST_PROFILE=ci) replays a fixed set derived from each test, so a draw nobody
# has seen cannot turn a landing red. A failure found locally prints its reproduce blob.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("dev", print_blob=True)
settings.load_profile(os.environ.get("TAWAZUN_TEST_PROFILE", "dev"))

ROOT = Path(__file__).resolve().parents[1]
SHARED = (ROOT / ".." / "shared").resolve()


def shared_path(*parts: str) -> Path:
    """Path into ../shared, or skip the calling test when it is not there."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} not available")
    return path


TINY_ARENA = """\
format: tawazun-arena/1
arena: {id: tiny, title: Tiny arena, as_of: 2021-07-31, salience_scale: percent}
sources:
  - {id: memo, title: A memo, language: en, locator: paragraph}
actors:
  - {id: a, names: {en: Alpha, ar: ألفا}, kind: state, capability: 3}
  - {id: b, names: {en: Beta}, kind: party, capability: {low: 1, mode: 2, high: 3}}
  - {id: c, names: {en: Gamma}, kind: militia, capability: 1}
issues:
  - id: x
    title: Issue X
    scale:
      min: 0
      max: 10
      anchors:
        - {value: 0, label: none}
        - {value: 10, label: all}
    status_quo: 5
stances:
  - {actor: a, issue: x, position: 2, salience: 50, evidence: [{source: memo, locator: "¶1"}]}
  - {actor: b, issue: x, position: {low: 6, mode: 8, high: 9}, salience: 100, evidence: [{source: memo, locator: "¶2"}]}
  - {actor: c, issue: x, position: 9, salience: 80, capability: 2, evidence: [{source: memo, locator: "¶3"}]}
"""


@pytest.fixture
def tiny_arena_path(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY_ARENA, encoding="utf-8")
    return path
