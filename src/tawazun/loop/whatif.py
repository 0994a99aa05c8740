"""What-if: change stances in memory, run baseline and variant on common random numbers.

``--set ACTOR.ISSUE.FIELD=VALUE|LOW:MODE:HIGH`` changes one stance's position, salience or
capability in the parsed document before validation (:func:`apply_changes`), so a bad value
gets the loader's ``file:line: field.path: message`` and the file is never touched. Both runs
use the same seed: every unit's inputs come from the same uniform numbers (one
``(BLOCK, K)`` matrix per block and unit, column by column, see docs/loop.md), so a draw of
the variant differs from the same draw of the baseline only through the changed ranges, and
a change that changes nothing gives a difference of exactly 0 in every draw.

``--fix DESCRIPTOR=VARIANT`` pins CIB descriptors (:func:`pinned_completions`): the pinned
descriptors are set from outside, so only the others must be consistent.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from tawazun.arena.load import parse_arena_text
from tawazun.arena.model import Arena
from tawazun.errors import InputError
from tawazun.forecast import ForecastConfig, ForecastRun, execute, issue_rows

FIELDS = ("position", "salience", "capability")


@dataclass(frozen=True)
class Change:
    """One ``--set``: a stance field and its new (low, mode, high)."""

    target: str  # ACTOR.ISSUE.FIELD as typed
    value: tuple[float, float, float]
    actor: str = ""
    issue: str = ""
    field: str = ""
    before: tuple[float, float, float] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"set": self.target, "actor": self.actor, "issue": self.issue, "field": self.field,
                "from": list(self.before) if self.before else None, "to": list(self.value)}


def parse_value(text: str, where: str) -> tuple[float, float, float]:
    parts = text.split(":")
    if len(parts) not in (1, 3):
        raise InputError(f"{where}: expected VALUE or LOW:MODE:HIGH, got {text!r}")
    try:
        nums = [float(p) for p in parts]
    except ValueError:
        raise InputError(f"{where}: expected numbers, got {text!r}") from None
    if not all(np.isfinite(nums)):
        raise InputError(f"{where}: expected finite numbers, got {text!r}")
    return (nums[0],) * 3 if len(nums) == 1 else (nums[0], nums[1], nums[2])


def parse_set(text: str) -> Change:
    """``a.x.position=3`` or ``a.x.salience=40:50:60`` -> a Change (ids resolved later)."""
    target, sep, value = text.partition("=")
    if not sep or target.count(".") < 2:
        raise InputError(f"set: expected ACTOR.ISSUE.FIELD=VALUE or ...=LOW:MODE:HIGH, got {text!r}")
    field = target.rsplit(".", 1)[1]
    if field not in FIELDS:
        raise InputError(f"set: {target}: field must be one of {', '.join(FIELDS)}, got {field!r}")
    return Change(target.strip(), parse_value(value.strip(), f"set: {target}"), field=field)


def parse_fix(text: str) -> tuple[str, str]:
    desc, sep, variant = text.partition("=")
    if not sep or not desc.strip() or not variant.strip():
        raise InputError(f"fix: expected DESCRIPTOR=VARIANT, got {text!r}")
    return desc.strip(), variant.strip()


def _triplet(raw: Any) -> tuple[float, float, float] | None:
    if isinstance(raw, dict):
        try:
            return (float(raw["low"]), float(raw["mode"]), float(raw["high"]))
        except (KeyError, TypeError, ValueError):
            return None
    try:
        v = float(raw)
    except (TypeError, ValueError):
        return None
    return (v, v, v)


def _edit(changes: list[Change], resolved: list[Change]):
    """The edit applied to the parsed document: ids are matched against the raw file (ids may
    hold dots, so ACTOR.ISSUE is split where both halves are known ids)."""

    def edit(data: dict[str, Any]) -> None:
        actors = {str(a.get("id")) for a in data.get("actors") or [] if isinstance(a, dict)}
        issues = {str(i.get("id")) for i in data.get("issues") or [] if isinstance(i, dict)}
        stances = data.get("stances") or []
        for ch in changes:
            pair = ch.target.rsplit(".", 1)[0]
            parts = pair.split(".")
            matches = [(".".join(parts[:k]), ".".join(parts[k:])) for k in range(1, len(parts))
                       if ".".join(parts[:k]) in actors and ".".join(parts[k:]) in issues]
            if not matches:
                raise InputError(f"set: {ch.target}: no actor and issue {pair!r} in this arena")
            actor, issue = matches[0]
            idx = next((k for k, s in enumerate(stances) if isinstance(s, dict)
                        and s.get("actor") == actor and s.get("issue") == issue), None)
            if idx is None:
                raise InputError(f"set: {ch.target}: {actor!r} has no stance on {issue!r} "
                                 "(what-if changes existing stances)")
            stance = stances[idx]
            before = _triplet(stance.get(ch.field))
            if before is None and ch.field == "capability":
                actor_raw = next(a for a in data["actors"] if isinstance(a, dict) and a.get("id") == actor)
                before = _triplet(actor_raw.get("capability"))
            low, mode, high = ch.value
            stance[ch.field] = low if low == mode == high else {"low": low, "mode": mode, "high": high}
            resolved.append(dataclasses.replace(ch, actor=actor, issue=issue, before=before))

    return edit


def apply_changes(text: str, filename: str, changes: Iterable[Change]) -> tuple[Arena, list[Change]]:
    """The arena with ``changes`` applied in memory, validated like the file itself."""
    changes = list(changes)
    resolved: list[Change] = []
    arena = parse_arena_text(text, filename, edit=_edit(changes, resolved) if changes else None)
    return arena, resolved


# ------------------------------------------------------------------ paired runs
def paired_config(config: ForecastConfig) -> ForecastConfig:
    """The runs of a what-if: draws on, no sensitivity, CIB search (the pins do that) or
    dynamics in the pipeline (:func:`compare_dynamics` simulates both runs with the pins)."""
    if config.draws < 1:
        raise InputError("draws: a what-if compares draws; set draws >= 1")
    return dataclasses.replace(config, sensitivity=False, sobol_n=0, scenarios=False, dynamics=False)


def _summary(row: Any) -> dict[str, Any]:
    d = row.distribution or {}
    q = d.get("quantiles", {})
    return {"value": row.headline["value"], "at_modes": row.value, "q10": q.get("10"), "q90": q.get("90"),
            "bands": {b["label"]: b["probability"] for b in d.get("bands", [])}}


def compare(base: ForecastRun, var: ForecastRun) -> dict[str, Any]:
    """Per issue and engine: both summaries and the paired difference draw by draw."""
    baseline: dict[str, dict[str, Any]] = {}
    variant: dict[str, dict[str, Any]] = {}
    delta = []
    for issue in base.arena.issues:
        rows_b = {r.label: r for r in issue_rows(base, issue.id)}
        rows_v = {r.label: r for r in issue_rows(var, issue.id)}
        baseline[issue.id] = {k: _summary(r) for k, r in rows_b.items()}
        variant[issue.id] = {k: _summary(r) for k, r in rows_v.items()}
        for label, rb in rows_b.items():
            rv = rows_v[label]
            ub, uv = rb.unit_result, rv.unit_result
            if ub.actors != uv.actors:  # cannot happen for stance edits; guards the CRN claim
                raise InputError(f"{issue.id}: the variant's actors differ from the baseline's")
            k = ub.issues.index(issue.id)
            diff = uv.samples[:, k] - ub.samples[:, k]
            ok = diff[np.isfinite(diff)]
            bands_b = baseline[issue.id][label]["bands"]
            bands_v = variant[issue.id][label]["bands"]
            delta.append({
                "issue": issue.id, "engine": label,
                "mean": float(ok.mean()) if ok.size else None,
                "q10": float(np.percentile(ok, 10)) if ok.size else None,
                "q90": float(np.percentile(ok, 90)) if ok.size else None,
                "at_modes": rv.value - rb.value,
                "moved": bool(np.any(ok != 0)) or rv.value != rb.value,
                "bands": {lab: bands_v[lab] - bands_b[lab] for lab in bands_b},
            })
    return {"baseline": baseline, "variant": variant, "delta": delta}


def whatif(arena: Arena, variant: Arena, changes: list[Change], config: ForecastConfig,
           fixes: list[tuple[str, str]] | None = None, *, dynamics: bool = True) -> dict[str, Any]:
    """The what-if document: baseline, variant, changes, delta (and the pinned futures; and,
    when the arena has a dynamics section and ``dynamics`` is on, the paired dynamics)."""
    config = paired_config(config)
    # the pins first: an unknown descriptor or variant is reported before any run
    fixed = fixed_futures(variant, fixes) if fixes else None
    base = execute(arena, config)
    var = execute(variant, config)
    doc: dict[str, Any] = {"arena": arena.meta.id, "seed": config.seed, "draws": config.draws,
                           "dist": config.dist, **compare(base, var)}
    doc["changes"] = [c.to_dict() for c in changes]
    doc["crn"] = ("exact: every unchanged range gets the same numbers in every draw" if config.dist != "pert"
                  else "partial: PERT draws Beta variates by rejection, so a changed range can shift "
                       "the other ranges' draws of its unit (docs/loop.md)")
    if fixed is not None:
        doc["fix"] = fixed
    if dynamics and getattr(arena, "dynamics", None) is not None:
        doc["dynamics"] = compare_dynamics(base, var, fixes or [])
    return doc


# ------------------------------------------------------------------ the dynamics, paired
def compare_dynamics(base: ForecastRun, var: ForecastRun, fixes: list[tuple[str, str]]) -> dict[str, Any]:
    """Baseline and variant dynamics on common random numbers, path by path.

    Both runs simulate the arena's dynamics section with the same seed, hence the same
    ``dynamics`` stream: every ranged parameter of a path gets the same draw in both. The
    coupled covariates take each run's own per-draw forecasts (so ``--set`` changes reach the
    dynamics as in a forecast, :func:`tawazun.forecast.coupled_covariates`); the variant's pins
    set the covariates that map a pinned descriptor (they win over the coupling, as
    ``--scenario`` does). Per series and step: the mean and 10-90 % of the per-path difference;
    per regime: its probability at the horizon in both runs.
    """
    from tawazun.dynamics.simulate import scenario_covariates, section_of, simulate
    from tawazun.forecast import coupled_covariates, dynamics_paths

    section = section_of(base.arena)
    paths = dynamics_paths(base)
    horizon = base.config.horizon
    engine, coupled, cov_b = coupled_covariates(base, paths)
    _, _, cov_v = coupled_covariates(var, paths)
    pinned = scenario_covariates(section, dict(fixes), paths)
    cov_v.update(pinned)
    res_b = simulate(base.arena, paths=paths, horizon=horizon, seed=base.seed, covariates=cov_b)
    res_v = simulate(var.arena, paths=paths, horizon=horizon, seed=var.seed, covariates=cov_v)
    steps = [d.isoformat() for d in res_b.steps]
    series = []
    for name in res_b.series:
        a, b = res_b.raw[name], res_v.raw[name]
        diff = b - a
        q = np.percentile(diff, [10, 90], axis=0)
        for t, step in enumerate(steps):
            series.append({"series": name, "step": step, "mean": float(diff[:, t].mean()),
                           "q10": float(q[0, t]), "q90": float(q[1, t]),
                           "baseline": float(a[:, t].mean()), "variant": float(b[:, t].mean()),
                           "moved": bool(np.any(diff[:, t] != 0))})
    regimes = []
    for name, p_b in res_b.regimes.items():
        p_v = res_v.regimes[name]
        regimes.append({"regime": name, "step": steps[-1], "baseline": float(p_b[-1]), "variant": float(p_v[-1]),
                        "delta": float(p_v[-1] - p_b[-1]),
                        "delta_by_step": [float(x) for x in (p_v - p_b)]})
    return {"paths": paths, "steps": steps, "engine": engine, "coupled": coupled,
            "pinned": {c: float(v[0]) for c, v in pinned.items()},
            "crn": ("same seed and 'dynamics' stream: every ranged parameter of a path is drawn alike; "
                    "hawkes and protest processes take a fixed count of seeds per step, so a series "
                    "that does not depend on a changed input keeps its exact path; a poisson process "
                    "draws a rate-dependent count of numbers, so what follows it in the step can "
                    "shift (docs/loop.md)"),
            "series": series, "regimes": regimes}


# ------------------------------------------------------------------ CIB pins
def fixed_futures(arena: Arena, fixes: list[tuple[str, str]], tolerance: int = 0) -> dict[str, Any]:
    if not arena.scenarios:
        raise InputError("fix: the arena has no scenarios section (CIB descriptors)")
    return pinned_completions(arena.scenarios, fixes, tolerance)


def pinned_completions(section: Any, fixes: list[tuple[str, str]], tolerance: int = 0) -> dict[str, Any]:
    """Every completion of the pinned descriptors in which each *unpinned* descriptor is
    consistent (inconsistency <= tolerance); a pinned descriptor is set from outside, so its
    own balance is not required to favour it (its gap in the full matrix is reported).

    Exact: the pinned descriptors keep only their pinned variant (a descriptor of one variant
    is always consistent) and the same pruned search as ``tawazun scenarios`` runs on the rest.
    """
    from tawazun.scenarios import cib
    from tawazun.scenarios.model import to_arrays

    arr = to_arrays(section)
    ids = list(arr.descriptor_ids)
    pins: dict[int, int] = {}
    for desc, variant in fixes:
        if desc not in ids:
            raise InputError(f"fix: unknown descriptor {desc!r}; known: {', '.join(ids)}")
        i = ids.index(desc)
        if variant not in arr.variant_ids[i]:
            raise InputError(f"fix: unknown variant {variant!r} of {desc!r}; known: {', '.join(arr.variant_ids[i])}")
        pins[i] = arr.variant_ids[i].index(variant)
    counts = np.asarray(arr.counts)
    offsets = np.asarray(arr.offsets)
    keep = np.concatenate([[offsets[i] + pins[i]] if i in pins else np.arange(offsets[i], offsets[i + 1])
                           for i in range(len(ids))]).astype(np.int64)
    sub_counts = np.array([1 if i in pins else counts[i] for i in range(len(ids))], dtype=np.int64)
    res = cib.enumerate_scenarios(arr.matrix[np.ix_(keep, keep)], sub_counts, tolerance)
    full = np.array(res.scenarios, dtype=np.int64).reshape(-1, len(ids))
    for i, j in pins.items():
        full[:, i] = j
    rows = []
    if len(full):
        scores = cib.evaluate(arr.matrix, counts, full)
        for s, ic, tis in zip(full, scores.inconsistency, scores.tis):
            rows.append({"variants": {d: arr.variant_ids[i][int(s[i])] for i, d in enumerate(ids)},
                         "inconsistency_full": _num(ic), "tis": _num(tis)})
        rows.sort(key=lambda r: (r["inconsistency_full"], -r["tis"]))
    return {"fixed": {ids[i]: arr.variant_ids[i][j] for i, j in pins.items()}, "tolerance": tolerance,
            "completions": rows, "complete": bool(res.complete)}


def _num(x: float) -> int | float:
    x = float(x)
    return int(x) if x.is_integer() else round(x, 9)
