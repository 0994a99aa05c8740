"""KTAB's Spatial Model of Politics (SMP), re-implemented for batches of draws.

This follows the algorithm of KAPSARC's KTAB ``smpc`` (2019 code) step by step; see
``docs/models/smp.md`` for the equations, every option and the decisions log. All
arithmetic runs on positions normalised to [0, 1] per dimension (as KTAB does).

The package:

* ``options``   - :class:`SmpOptions`, the option vocabularies and the original's constants;
* ``reference`` - the readable NumPy backend (``backend="numpy"``), vectorised over the
  Monte Carlo batch, the actors and the actor pairs, and its building blocks (``vote``,
  ``pce``, ...);
* ``kernels``   - the compiled backend (``backend="numba"``, the default): each draw's
  whole run as compiled loops, draws spread over threads;
* ``driver``    - :func:`simulate` (either backend on normalised arrays) and the registered
  engine function :func:`smp`.

The tests check that the two backends agree under every option.
"""

from tawazun.engines.smp import kernels, reference
from tawazun.engines.smp.driver import simulate, smp
from tawazun.engines.smp.options import (
    BACKENDS,
    INTERPOLATIONS,
    PCE_MODELS,
    RISK_ADJUSTS,
    RISK_RANGES,
    SALIENCE_OVERFLOW,
    THIRD_PARTY,
    TRANSITIONS,
    VICTORY_MODELS,
    VOTING_RULES,
    SmpOptions,
)
from tawazun.engines.smp.reference import (
    bs_util,
    coalition_matrix,
    distances,
    estimated_risk,
    pce,
    position_probability,
    risk_from_prob,
    victory_matrix,
    victory_pair,
    vote,
)

__all__ = [
    "BACKENDS", "INTERPOLATIONS", "PCE_MODELS", "RISK_ADJUSTS", "RISK_RANGES",
    "SALIENCE_OVERFLOW", "THIRD_PARTY", "TRANSITIONS", "VICTORY_MODELS", "VOTING_RULES",
    "SmpOptions", "bs_util", "coalition_matrix", "distances", "estimated_risk", "kernels",
    "pce", "position_probability", "reference", "risk_from_prob", "simulate", "smp",
    "victory_matrix", "victory_pair", "vote",
]
