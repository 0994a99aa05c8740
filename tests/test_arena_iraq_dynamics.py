"""The shipped arena's attack rates are the Hawkes fit on the attack list up to 2021-07-31."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from tawazun.arena import load_arena
from tawazun.arena.model import triplet
from tawazun.dynamics.hawkes import fit_hawkes
from tawazun.dynamics.simulate import section_of

CSV = Path(__file__).resolve().parents[1] / "data" / "attacks" / "iraq-us-sites-2019-2022.csv"
MONTH = 30.4375
START, END = dt.date(2019, 1, 1), dt.date(2021, 7, 31)
CAP = 0.95  # the section's branching cap (evidence note: an explosive process was not seen)


def fitted():
    rows = [r for r in csv.DictReader(CSV.open(encoding="utf-8"))
            if dt.date.fromisoformat(r["date"]) <= END and r["weapon"] != "other" and r["target_type"] != "convoy"]
    times = []
    for r in rows:
        d = dt.date.fromisoformat(r["date"])
        if r["date_precision"] == "month":
            d = d.replace(day=15)  # the middle of a month known only to the month
        times.append((d - START).days / MONTH)
    return rows, fit_hawkes(np.array(times), ((END - START).days + 1) / MONTH)


def test_attack_rates_are_the_fit_within_rounding():
    rows, fit = fitted()
    assert len(rows) == 74 and fit.converged
    ci = np.exp(fit.ci())  # baseline, excitation, decay (Wald, log scale)
    c = fit.cov
    se_n = np.sqrt(c[1, 1] + c[2, 2] - 2 * c[1, 2])
    n_ci = np.exp(np.log(fit.branching_ratio) + np.array([-1.959964, 1.959964]) * se_n)
    proc = next(p for p in section_of(load_arena(None)).processes if p.id == "attacks")
    np.testing.assert_allclose(triplet(proc.baseline), [ci[0, 0], fit.mu, ci[0, 1]], atol=0.006)
    np.testing.assert_allclose(triplet(proc.decay), [ci[2, 0], fit.decay, ci[2, 1]], atol=0.006)
    np.testing.assert_allclose(triplet(proc.branching), [n_ci[0], fit.branching_ratio, min(n_ci[1], CAP)], atol=0.006)


def test_attacks_reference_is_the_fitted_long_run_rate():
    _, fit = fitted()
    coupling = next(c for c in section_of(load_arena(None)).couplings if c.source == "attacks")
    assert round(fit.mu / (1 - fit.branching_ratio)) == coupling.reference


def test_shipped_section_runs_and_the_monopoly_of_force_moves_collapse():
    from tawazun.dynamics.simulate import simulate

    arena = load_arena(None)
    res = simulate(arena, paths=24, horizon=4, seed=0)
    assert set(res.series) == {"legitimacy", "balance", "attacks", "protests"}
    assert np.allclose(res.regimes["collapse"] + res.regimes["fragile-security"], 1.0)
    # the state's hold on the armed factions (¶11), as a bargaining forecast of the issue, moves collapse
    lo = simulate(arena, paths=60, horizon=12, seed=1, covariates={"armed-factions": np.zeros(60)})
    hi = simulate(arena, paths=60, horizon=12, seed=1, covariates={"armed-factions": np.full(60, 75.0)})
    assert lo.regimes["collapse"][-1] > hi.regimes["collapse"][-1]


def test_questions_may_name_the_sections_series_and_regimes():
    # a section's series are its states and processes (a question's `series` rule names one)
    from tawazun.arena import resolve
    from tawazun.arena.load import parse_arena_text

    text = resolve(None).read_text(encoding="utf-8")
    extra = ("  - id: attacks-monthly\n    text: {en: \"Attacks a month by July 2022?\"}\n    kind: numeric\n"
             "    resolves_on: 2022-07-31\n    rule: {series: attacks}\n"
             "  - id: collapse-by-july\n    text: {en: \"Collapse by July 2022?\"}\n    kind: binary\n"
             "    resolves_on: 2022-07-31\n    rule: {regime: collapse}\n")
    text = text.replace("\n# ---------------- Dynamics", "\n" + extra + "\n# ---------------- Dynamics", 1)
    arena = parse_arena_text(text, "x.yaml")
    assert [q.id for q in arena.questions][-2:] == ["attacks-monthly", "collapse-by-july"]
