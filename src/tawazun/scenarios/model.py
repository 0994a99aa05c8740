"""The optional ``scenarios`` section of an arena: CIB descriptors, variants and judgments.

YAML shape (see docs/models/cib.md)::

    scenarios:
      scale: 3                      # optional, judgments lie in -scale..+scale (default 3)
      descriptors:
        - id: us-role
          names: {en: "US military role", ar: "..."}
          variants:
            - {id: advisory, label: "Advisory mission", meaning: "..."}
            - {id: combat, label: "Combat mission continues", meaning: "..."}
      judgments:
        - source: us-role.advisory    # "descriptor.variant" that exerts the influence
          target: attacks.resumed     # "descriptor.variant" that is promoted (+) / restricted (-)
          value: 2                    # or {low: 1, mode: 2, high: 3}
          rationale: "..."
          evidence: [{source: seed, locator: "¶10", note: "..."}]

Every pair not listed is 0. Validation problems are reported one per line as
``path: problem`` with a dotted path from the section (``judgments.4.value``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np
from pydantic import ValidationError

# The section's models are part of the one arena format (tawazun.arena.model): the same
# Names, Evidence and id rule as the rest of the file, and one error formatter.
from tawazun.arena.model import (  # noqa: F401 - re-exported
    ID_PATTERN,
    Descriptor,
    Evidence,
    Judgment,
    JudgmentRange,
    Names,
    Period,
    ScenariosSection,
    Variant,
)
from tawazun.arena.model import section_problems as _section_problems


def _dotted(path: tuple[Any, ...]) -> str:
    return ".".join(str(p) for p in path)


def section_problems(section: ScenariosSection) -> list[str]:
    """Cross-reference problems of a structurally valid section, ``path: problem`` each."""
    return [f"{_dotted(p)}: {m}" for p, m in _section_problems(section)]


def check(section: ScenariosSection, source_ids: Iterable[str]) -> list[str]:
    """Problems needing the arena around the section: evidence citing unknown sources."""
    known = set(source_ids)
    out = []
    for k, jd in enumerate(section.judgments):
        for e, ev in enumerate(jd.evidence):
            if ev.source not in known:
                out.append(f"judgments.{k}.evidence.{e}.source: unknown source {ev.source!r}")
    return out


def error_lines(exc: ValidationError, prefix: str = "") -> list[str]:
    """One ``path: problem`` line per problem, with dotted paths (``judgments.3.value``) for a
    bare section, or ``scenarios.judgments.3.value`` when it is nested in a bigger model.

    The messages come from the arena loader's formatter, so a section reads the same
    whether it is checked alone or inside an arena.
    """
    from tawazun.arena.load import pydantic_problems

    return [f"{prefix}{_dotted(p)}: {m}" if p else f"{prefix}{m}" for p, m in pydantic_problems(exc)]


# ------------------------------------------------------------------------------ arrays


@dataclass
class CibArrays:
    """A section as arrays: matrices are (V, V), rows = source variant, columns = target."""

    descriptor_ids: list[str]
    variant_ids: list[list[str]]
    counts: np.ndarray  # (D,)
    offsets: np.ndarray  # (D+1,)
    matrix: np.ndarray  # (V, V) modes
    low: np.ndarray  # (V, V)
    high: np.ndarray  # (V, V)

    @property
    def has_ranges(self) -> bool:
        return bool(np.any(self.low != self.high))

    def label(self, scenario: Iterable[int]) -> dict[str, str]:
        return {d: self.variant_ids[i][int(j)] for i, (d, j) in enumerate(zip(self.descriptor_ids, scenario))}


def to_arrays(section: ScenariosSection) -> CibArrays:
    counts = np.array([len(d.variants) for d in section.descriptors], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    v = int(offsets[-1])
    mode = np.zeros((v, v))
    low = np.zeros((v, v))
    high = np.zeros((v, v))
    index = section.variant_index()
    for jd in section.judgments:
        si, sj = index[jd.source]
        ti, tj = index[jd.target]
        r, c = offsets[si] + sj, offsets[ti] + tj
        low[r, c], mode[r, c], high[r, c] = jd.bounds()
    return CibArrays(
        [d.id for d in section.descriptors],
        [[x.id for x in d.variants] for d in section.descriptors],
        counts,
        offsets,
        mode,
        low,
        high,
    )
