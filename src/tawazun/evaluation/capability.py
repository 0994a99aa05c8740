"""Named capability schemes for DEU issues (DEU itself codes no capabilities).

``equal``
    every actor with a position has capability 1, so the engines weigh by salience only.

``council``
    member states get the Council voting weight of the treaty regime in force on the
    proposal's introduction date; the Commission and the Parliament get fixed weights
    expressed in units of that regime:

    ==============  =========================  ==================================
    regime          in force                   member-state weights (source)
    ==============  =========================  ==================================
    pre-Nice        until 30 Apr 2004          EC Treaty Art. 205(2) after the 1995
                                               enlargement: EU-15, total 87
    accession-2004  1 May - 31 Oct 2004        2003 Act of Accession, transitional
                                               weights: EU-25, total 124
    Nice            1 Nov 2004 - 31 Oct 2014   Treaty of Nice as adapted by the 2003,
                                               2005 and 2012 Acts of Accession:
                                               EU-25 321, EU-27 345, EU-28 352
    Lisbon          from 1 Nov 2014            double majority approximated by the
                                               population share (%) in Annex III of the
                                               Council's Rules of Procedure for 2016
                                               (Council Decision (EU, Euratom) 2015/2393)
    ==============  =========================  ==================================

    Commission: the weight of the largest member state of the regime (it drafts the
    proposal, can withdraw it, and under QMV the Council can amend it only by unanimity).
    Parliament under COD (co-decision / ordinary legislative procedure, a co-legislator
    with a veto): also the weight of the largest member state. Parliament under CNS (and
    any procedure other than COD: consultation, its opinion is not binding): the weight
    of the smallest member state. These numbers are fixed a priori, not tuned.

    Effective date (decisions log D6): a state recorded with a position must have been a
    member when the decision was taken, so the regime is read on the later of the
    introduction date and the accession date of every state with a position (e.g. a 2003
    proposal with Polish positions is weighted by the 1 May 2004 table). Sources and
    exact tables: docs/backtest.md.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass

import numpy as np

from tawazun.errors import InputError
from tawazun.evaluation.deu import DeuIssue

SCHEMES: tuple[str, ...] = ("equal", "council")

ACCESSION: dict[str, _dt.date] = {
    **{s: _dt.date(1995, 1, 1) for s in ("at", "fi", "se")},
    **{s: _dt.date(2004, 5, 1) for s in ("cy", "cz", "ee", "hu", "lv", "lt", "mt", "pl", "si", "sk")},
    **{s: _dt.date(2007, 1, 1) for s in ("bu", "ro")},
    "cr": _dt.date(2013, 7, 1),
}

# EC Treaty Art. 205(2) (ex 148(2)) as of 1995: EU-15, total 87.
PRE_NICE: dict[str, float] = {
    "de": 10, "fr": 10, "it": 10, "uk": 10, "es": 8, "be": 5, "el": 5, "nl": 5, "pt": 5,
    "at": 4, "se": 4, "dk": 3, "ie": 3, "fi": 3, "lu": 2,
}
# 2003 Act of Accession, weights for 1 May - 31 October 2004: EU-25, total 124.
ACCESSION_2004: dict[str, float] = {
    **PRE_NICE,
    "pl": 8, "cz": 5, "hu": 5, "sk": 3, "lt": 3, "lv": 3, "si": 3, "ee": 3, "cy": 2, "mt": 2,
}
# Treaty of Nice weights (Protocol on enlargement / Acts of Accession 2003, 2005, 2012).
NICE: dict[str, float] = {
    "de": 29, "fr": 29, "it": 29, "uk": 29, "es": 27, "pl": 27, "ro": 14, "nl": 13,
    "be": 12, "cz": 12, "el": 12, "hu": 12, "pt": 12, "at": 10, "bu": 10, "se": 10,
    "dk": 7, "ie": 7, "lt": 7, "sk": 7, "fi": 7, "cr": 7,
    "ee": 4, "cy": 4, "lv": 4, "lu": 4, "si": 4, "mt": 3,
}
# Population share (% of the EU-28 population, 508 940 955) for 1 Jan - 31 Dec 2016,
# Annex III of the Council's Rules of Procedure as set by Council Decision 2015/2393.
LISBON_POP_2016: dict[str, float] = {
    "de": 15.93, "fr": 13.04, "uk": 12.73, "it": 12.07, "es": 9.12, "pl": 7.47, "ro": 3.90,
    "nl": 3.37, "be": 2.21, "el": 2.13, "cz": 2.05, "pt": 2.04, "hu": 1.94, "se": 1.92,
    "at": 1.69, "bu": 1.42, "dk": 1.11, "fi": 1.08, "sk": 1.06, "ie": 0.91, "cr": 0.83,
    "lt": 0.57, "si": 0.41, "lv": 0.39, "ee": 0.26, "cy": 0.17, "lu": 0.11, "mt": 0.08,
}


@dataclass(frozen=True)
class Regime:
    name: str
    start: _dt.date
    weights: dict[str, float]
    source: str


REGIMES: tuple[Regime, ...] = (
    Regime("pre-Nice", _dt.date(1995, 1, 1), PRE_NICE,
           "EC Treaty Art. 205(2) as amended by the 1994 Act of Accession (EU-15, total 87)"),
    Regime("accession-2004", _dt.date(2004, 5, 1), ACCESSION_2004,
           "2003 Act of Accession, transitional weights 1 May-31 Oct 2004 (EU-25, total 124)"),
    Regime("Nice", _dt.date(2004, 11, 1), NICE,
           "Treaty of Nice weights as adapted by the 2003, 2005 and 2012 Acts of Accession"),
    Regime("Lisbon", _dt.date(2014, 11, 1), LISBON_POP_2016,
           "Population share, Annex III Council Rules of Procedure 2016 (Decision 2015/2393)"),
)


def regime_on(day: _dt.date) -> Regime:
    current = REGIMES[0]
    for r in REGIMES:
        if day >= r.start:
            current = r
    return current


def effective_date(issue: DeuIssue) -> _dt.date:
    """Decisions log D6: the later of intro and every positioned state's accession."""
    if issue.intro is None:
        raise InputError(
            f"row {issue.row}: column intro: blank, but --capability council needs the "
            "introduction date to choose the treaty regime"
        )
    day = issue.intro
    for a in issue.actors:
        acc = ACCESSION.get(a)
        if acc is not None and acc > day:
            day = acc
    return day


def institution_weights(regime: Regime, procedure: str) -> dict[str, float]:
    big = max(regime.weights.values())
    small = min(regime.weights.values())
    return {"com": big, "ep": big if procedure.upper() == "COD" else small}


def council_capabilities(issue: DeuIssue) -> tuple[np.ndarray, Regime]:
    day = effective_date(issue)
    regime = regime_on(day)
    inst = institution_weights(regime, issue.procedure)
    caps = []
    for a in issue.actors:
        if a in inst:
            caps.append(inst[a])
        else:
            # A state outside the table (cannot happen after D6 for known codes) gets 0.
            caps.append(float(regime.weights.get(a, 0.0)))
    return np.asarray(caps, dtype=float), regime


def capabilities(issue: DeuIssue, scheme: str) -> np.ndarray:
    """Capability vector aligned with ``issue.actors``."""
    if scheme == "equal":
        return np.ones(len(issue.actors))
    if scheme == "council":
        return council_capabilities(issue)[0]
    raise InputError(f"--capability: unknown scheme {scheme!r}; known: {', '.join(SCHEMES)}")


def describe(scheme: str) -> dict:
    """A JSON-able description of a scheme, for backtest.json."""
    if scheme == "equal":
        return {"name": "equal", "rule": "capability 1 for every actor with a position"}
    return {
        "name": "council",
        "rule": "Council voting weight of the regime in force on max(intro, accession of "
        "every positioned state); com = largest state weight; ep = largest (COD) or "
        "smallest (other procedures) state weight",
        "regimes": [
            {"name": r.name, "from": r.start.isoformat(), "source": r.source,
             "weights": r.weights, "total": round(sum(r.weights.values()), 2)}
            for r in REGIMES
        ],
    }
