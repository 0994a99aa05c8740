"""Options of the expected-utility model and the named presets.

Every point where Scholz, Calbert & Smith's (2011) text, their figures and Bueno de
Mesquita's original disagree is a named option of :class:`BdmOptions`;
``docs/models/bdm.md`` states the equations and the decisions.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from tawazun.engines.base import EngineOptions, is_number, is_whole

#: Longest cycle of positions (in rounds) the ``converge`` stop looks for.
CYCLE_MAX = 6

_CHOICES: dict[str, tuple[str, ...]] = {
    "reference": ("median", "mean"),
    "security_sum": ("received", "given"),
    "risk_range": ("actors", "alternatives"),
    "prob_voters": ("all", "third_parties"),
    "conflict_rule": ("weaker_moves", "nobody_moves"),
    "compromise_sign": ("text", "figure"),
    "offer_choice": ("by_type_low_point", "least_move", "by_type", "largest_eu"),
    "perspective": ("own", "receiver"),
    "prob_norm": ("pair", "all_pairs"),
}


@dataclass(frozen=True)
class BdmOptions(EngineOptions):
    """Options of the expected-utility model; defaults are the Scholz et al. reading.

    rounds: bargaining rounds (no convergence rule is published, so the count is fixed).
    q: probability an actor expects the status quo to hold absent a challenge (Q).
    risk: compute risk exponents from security levels (False: r_i = 1 throughout).
    reference: the point mu in the "better"/"worse" utilities: weighted median or mean.
    security_sum: whose expected utilities make actor i's security level:
        "received" - sum over j of E_j(U_ji), what the others expect from challenging i;
        "given"    - sum over j of E_i(U_ij), what i expects from challenging the others.
    risk_range: where the max and min security levels in R_i come from:
        "actors"       - across all actors at their current positions (Scholz);
        "alternatives" - across the positions actor i could hold (each actor's current
                         position), others fixed (Bueno de Mesquita's original).
    prob_voters: who votes in the probability that i beats j: "all" actors (i and j
        included, as in the formula) or "third_parties" only.
    conflict_rule: when both sides expect to gain from a challenge: the side with the
        lower expected utility moves to the other ("weaker_moves") or "nobody_moves".
    compromise_sign: the compromise move of the target j towards the proposer i:
        "text"   - x_j + (x_i - x_j)|b/a| (moves the fraction |b/a| of the way);
        "figure" - x_j + (x_i - x_j)(1 - |b/a|) (stops |b/a| short of x_i).
    offer_choice: which of the offers an actor receives it acts on:
        "least_move"       - the one that moves it least (Scholz);
        "largest_eu"       - the one whose sender expects most from it;
        "by_type"          - a lost conflict first, else a compromise, else a
                             capitulation; the least move within the type;
        "by_type_low_point" - as "by_type" but among compromises the one whose
                             EU-weighted point (|b| x_j + a x_i)/(a + |b|) is lowest on
                             the scale (what a public port of Scholz's program does;
                             not invariant under reversing the scale).
    perspective: whose risk exponent values the two sides of a dyad (i proposes, j
        receives): "own" - E_i(U_ij) with r_i and E_j(U_ji) with r_j; "receiver" - both
        with r_j, i.e. the receiver's perception E^j(U_ij), E^j(U_ji) (BDM's notation).
    prob_norm: denominator of P_i(j): "pair" - sum_k c_k s_k |d_k| for this pair (the
        formula); "all_pairs" - the same sum over every ordered pair of positions (a
        port of Scholz's program reports this; P_i + P_j is then far below 1).
    vote_risk: raise each voter's normalised distances to its risk exponent in the
        probability votes (as the port of Scholz's program does) instead of using r = 1.
    capitulation: whether the capitulation case moves the target at all (the port of
        Scholz's program has a test that never fires, so it never capitulates).
    converge: stop a draw's rounds early once its positions are stationary, and give its
        remaining rounds the values they would repeat: after a round in which no position
        moved by more than ``converge_tol`` of the scale (a fixed point), or whose
        positions equal exactly those of 2 to ``CYCLE_MAX`` rounds before (a cycle). A
        round depends on the positions only, so with ``converge_tol = 0`` every output is
        bit for bit that of the full run; only the time changes. Off by default.
    converge_tol: the fixed-point tolerance, as a fraction of the scale (0: exact). With
        a positive tolerance the rounds after the stop repeat the stopped positions,
        offer counts and risk exponents instead of what the model would still do.
    """

    rounds: int = 10
    q: float = 1.0
    risk: bool = True
    reference: str = "median"
    security_sum: str = "received"
    risk_range: str = "actors"
    prob_voters: str = "all"
    conflict_rule: str = "weaker_moves"
    compromise_sign: str = "text"
    offer_choice: str = "by_type_low_point"
    perspective: str = "receiver"
    prob_norm: str = "all_pairs"
    vote_risk: bool = True
    capitulation: bool = True
    converge: bool = False
    converge_tol: float = 0.0

    engine = "bdm"  # not a field: no annotation

    def validate(self) -> None:
        for name, allowed in _CHOICES.items():
            self._choice(name, allowed)
        self._check("rounds", is_whole(self.rounds) and self.rounds >= 0, "expected a whole number >= 0")
        self._check("q", is_number(self.q) and 0.0 <= float(self.q) <= 1.0, "expected a number in [0, 1]")
        self._check("converge", isinstance(self.converge, bool), "expected true or false")
        self._check("converge_tol", is_number(self.converge_tol) and 0.0 <= float(self.converge_tol) < 1.0,
                    "expected a number in [0, 1) (a fraction of the scale)")



#: Scholz, Calbert & Smith (2011) as their published numbers imply (7 of 8 medians within
#: 0.1): receiver's perception of both sides of a dyad, vote shares normalised over all
#: pairs, voters' risk exponents in the votes, offers by type. See docs/models/bdm.md.
SCHOLZ = BdmOptions()
#: The formulas as printed in Scholz et al.'s text (and our SPEC): each side values its own
#: challenge with its own risk exponent, P_i(j) normalised per pair, votes with r = 1, each
#: actor takes the offer that moves it least.
TEXT = dataclasses.replace(SCHOLZ, perspective="own", prob_norm="pair", vote_risk=False,
                           offer_choice="least_move")
#: The text reading with Bueno de Mesquita's own risk range (over the positions an actor
#: could hold rather than across actors).
ORIGINAL = dataclasses.replace(TEXT, risk_range="alternatives")
#: No risk adjustment (every r_i = 1): a baseline for sensitivity checks.
RISK_NEUTRAL = dataclasses.replace(SCHOLZ, risk=False)

PRESETS: dict[str, BdmOptions] = {
    "scholz": SCHOLZ, "text": TEXT, "original": ORIGINAL, "risk_neutral": RISK_NEUTRAL,
}
