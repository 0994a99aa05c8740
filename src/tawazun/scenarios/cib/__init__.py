"""Cross-impact balance (CIB) analysis as pure functions over NumPy arrays.

Vocabulary (see docs/models/cib.md for the full definitions and the decisions log):

* ``counts`` (D,) ints: number of variants of each descriptor; ``offsets`` (D+1,) their
  start rows/columns in the flat variant axis, ``V = offsets[-1]``.
* ``C`` (V, V): cross-impact matrix, ``C[source_variant, target_variant]``. Entries inside a
  descriptor's own diagonal block are ignored (treated as 0).
* A scenario is a (D,) int array of *local* variant indices (0-based within each descriptor);
  a batch of scenarios is (N, D).
* Impact balance of variant v for scenario S: ``sum_X C[offsets[X] + S[X], v]``.
* Inconsistency (IC) of S: max over descriptors of (best balance - chosen balance) >= 0.
* Consistency value (CV) of S: min over descriptors with >= 2 variants of
  (chosen balance - best *other* balance). 0 on a tie, > 0 when every choice wins
  strictly, < 0 exactly when S is inconsistent; then IC = -CV.
* Total impact score (TIS): sum of the chosen variants' balances.

The exact enumeration is a depth-first search with a pairwise upper bound (Numba), in three
variants (``method``): static order, forward checking, and domain propagation.

The package, along the analysis: ``structure`` (offsets, scenario spaces, balances and
scores), ``search`` (exact enumeration, tree-size estimates), ``succession`` (attractors)
and ``ensembles`` (sampled matrices). Every public name is importable from here.
"""

from tawazun.scenarios.cib.ensembles import Ensemble, ensemble, sample_triangular
from tawazun.scenarios.cib.search import (
    AUTO_DENSE,
    Enumeration,
    choose_method,
    enumerate_scenarios,
    estimate_nodes,
    influence_density,
    reordered,
    search_order,
    warm_up,
)
from tawazun.scenarios.cib.structure import (
    Scores,
    all_scenarios,
    balances,
    brute_force,
    clean_matrix,
    descriptor_of,
    evaluate,
    is_consistent,
    n_scenarios,
    offsets_of,
)
from tawazun.scenarios.cib.succession import Attractor, Succession, SuccessionMode, TieRule, succession

__all__ = [
    "AUTO_DENSE", "Attractor", "Ensemble", "Enumeration", "Scores", "Succession",
    "SuccessionMode", "TieRule", "all_scenarios", "balances", "brute_force", "choose_method",
    "clean_matrix", "descriptor_of", "ensemble", "enumerate_scenarios", "estimate_nodes",
    "evaluate", "influence_density", "is_consistent", "n_scenarios", "offsets_of",
    "reordered", "sample_triangular", "search_order", "succession", "warm_up",
]
