"""Options of KTAB's Spatial Model of Politics and the small constants of the original."""

from __future__ import annotations

from dataclasses import dataclass

from tawazun.engines.base import EngineOptions, is_number, is_whole

# Small constants of the original, kept so that results match it.
_MIN_COALITION = 1e-8  # floor of a coalition's strength in an election between options
_MIN_CHALLENGE = 1e-10  # floor of a coalition's strength in a challenge (i:j)
_MIN_GAIN = 1e-5  # smallest expected gain that makes a challenge worth making
_MIN_W = 1e-6  # keeps the bargain interpolation away from 0/0
_BINARY_STEP = 1e-8  # width of the ramp of the "Binary" voting rule
_BINARY_VP_THRESH = 1.10  # strength ratio that decides a "Binary" victory for sure
_BINARY_VP_MIN = 1e-6

VOTING_RULES = ("Proportional", "Binary", "PropBin", "PropCbc", "Cubic", "ASymProsp")
VICTORY_MODELS = ("Linear", "Square", "Quartic", "Octic", "Binary")
PCE_MODELS = ("Conditional", "MarkovUniform", "MarkovIncentive")
RISK_RANGES = ("Mid", "Min", "Max")
RISK_ADJUSTS = ("OneThird", "Half", "TwoThirds", "Full", "None")
THIRD_PARTY = ("SemiCommit", "FullCommit", "NoCommit")
INTERPOLATIONS = ("S2P2", "S1P1", "S2PMax")
TRANSITIONS = ("Deterministic", "Stochastic")
SALIENCE_OVERFLOW = ("rescale", "error")
BACKENDS = ("numba", "numpy")


@dataclass(frozen=True)
class SmpOptions(EngineOptions):
    """KTAB's model options (defaults = the ``smpc`` defaults that made the reference runs)."""

    voting_rule: str = "Proportional"  # how an actor's vote scales with its utility difference
    victory_prob: str = "Linear"  # P[i>j] from coalition strengths
    pce: str = "Conditional"  # probabilistic Condorcet election
    risk_range: str = "Mid"  # maps election probabilities to risk attitudes R
    risk_adjust: str = "OneThird"  # h's estimate of i's risk attitude
    third_party: str = "SemiCommit"  # how third parties value the outcomes of (i:j)
    interpolation: str = "S2P2"  # bargain interpolation between the two positions
    transition: str = "Deterministic"  # Deterministic: most likely bargain; Stochastic: a draw
    max_turns: int = 100
    min_turns: int = 2
    stop_ratio: float = 0.02  # stop when dist(t-1, t) / (dist(0, 1) + stop_epsilon) < ratio
    stop_epsilon: float = 1e-4
    position_tolerance: float = 1e-3  # positions closer than this (on [0, 1]) are one position
    bargain_decimals: int = 4  # S1P1/S2P2 bargains are rounded to this many decimals on [0, 1]
    salience_overflow: str = "rescale"  # an actor whose saliences sum above 1: rescale or error
    backend: str = "numba"  # numba: compiled run per draw; numpy: the vectorised reference

    engine = "smp"  # not a field: no annotation

    def validate(self) -> None:
        for name, allowed in (
            ("voting_rule", VOTING_RULES),
            ("victory_prob", VICTORY_MODELS),
            ("pce", PCE_MODELS),
            ("risk_range", RISK_RANGES),
            ("risk_adjust", RISK_ADJUSTS),
            ("third_party", THIRD_PARTY),
            ("interpolation", INTERPOLATIONS),
            ("transition", TRANSITIONS),
            ("salience_overflow", SALIENCE_OVERFLOW),
            ("backend", BACKENDS),
        ):
            self._choice(name, allowed)
        self._check("max_turns", is_whole(self.max_turns) and self.max_turns >= 0, "expected a whole number >= 0")
        self._check("min_turns", is_whole(self.min_turns) and self.min_turns >= 1, "expected a whole number >= 1")
        for name in ("stop_ratio", "stop_epsilon", "position_tolerance"):
            value = getattr(self, name)
            self._check(name, is_number(value) and value >= 0, "expected a number >= 0")
        self._check("bargain_decimals", is_whole(self.bargain_decimals) and self.bargain_decimals >= 0,
                    "expected a whole number >= 0")

