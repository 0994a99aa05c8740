"""Fitted predictors for backtests, and the residual predictive distribution.

These are not arena engines: they learn a handful of numbers from training issues
(out of fold) and predict outcomes of held-out issues from the same per-issue features
the engines see. Each one is a candidate to beat the compromise model:

``sq-blend``
    y ~ a * compromise + (1 - a) * status quo, a in [0, 1] by grid search on training
    MAE; issues without a recorded status quo get the compromise point.

``salience-gamma``
    the compromise model with saliences raised to a learned power:
    y ~ sum c_i s_i^g x_i / sum c_i s_i^g, g in {0, 0.25, ..., 4} (g = 1 is the
    compromise model; g -> infinity approaches "the most concerned actor wins";
    g = 0 ignores salience apart from who has a non-zero one).

``stack``
    a convex combination w . f of five forecasts f = (compromise, weighted median,
    status quo, Commission position, Parliament position), w >= 0, sum w = 1, fitted by
    least absolute deviations (a linear programme). A missing status quo or Parliament
    position is replaced by the compromise point. Convexity keeps forecasts in [0, 100].

``compromise-hetero``
    the compromise point unchanged, with a heteroscedastic predictive distribution:
    forecast + sigma_i * z_j, where sigma_i = sqrt(sd_i^2 + SPREAD_FLOOR^2), sd_i the
    capability x salience weighted standard deviation of the positions on issue i, and
    z_j = residual_j / sigma_j the standardised training residuals. Contested issues get
    wide distributions, near-consensual ones narrow (a proper-scoring-rule candidate:
    same MAE as the compromise model by construction, CRPS can differ).

``stack-proc``
    ``stack`` fitted separately in each procedure x voting-rule cell (COD/CNS x
    QMV/unanimity), falling back to the pooled fit in a cell with fewer than
    ``MIN_CELL`` training issues: a procedure-aware model.

Predictive distribution (all engines, point or fitted): forecast plus the empirical
residuals (outcome - forecast) of the training issues, clipped to [0, 100]. For a fitted
model the training residuals are themselves out of fold (inner cross-fitting over the
training folds), so they are as honest as the test-fold ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.optimize import linprog

GAMMAS = np.round(np.arange(0.0, 4.0001, 0.25), 2)
BLEND_GRID = np.round(np.linspace(0.0, 1.0, 101), 2)
STACK_FEATURES = ("compromise", "median", "status_quo", "commission", "parliament")
MIN_CELL = 25
SPREAD_FLOOR = 5.0  # points on 0-100; fixed a priori, keeps sigma > 0 on consensual issues


@dataclass
class Features:
    """Per-issue inputs the fitted models use; all (N,) or (N, k)."""

    y: np.ndarray
    compromise: np.ndarray
    median: np.ndarray
    status_quo: np.ndarray  # nan where absent
    commission: np.ndarray  # nan where absent
    parliament: np.ndarray  # nan where absent
    gamma_preds: np.ndarray  # (N, len(GAMMAS)) compromise with salience^g
    cell: np.ndarray  # (N,) str "COD/QMV" etc.
    spread: np.ndarray  # (N,) weighted SD of positions around the compromise point

    def stack_matrix(self) -> np.ndarray:
        c = self.compromise
        cols = [c, self.median, np.where(np.isnan(self.status_quo), c, self.status_quo),
                np.where(np.isnan(self.commission), c, self.commission),
                np.where(np.isnan(self.parliament), c, self.parliament)]
        return np.column_stack(cols)


def gamma_forecasts(position: np.ndarray, salience: np.ndarray, capability: np.ndarray) -> np.ndarray:
    """Compromise forecasts for every salience exponent in GAMMAS (one issue)."""
    out = np.empty(GAMMAS.size)
    pos_s = salience > 0
    for k, g in enumerate(GAMMAS):
        w = capability * np.where(pos_s, np.power(np.where(pos_s, salience, 1.0), g), 0.0)
        tot = w.sum()
        out[k] = (w * position).sum() / tot if tot > 0 else np.nan
    return out


class Model:
    name = "model"

    def fit(self, f: Features, idx: np.ndarray) -> "Model":
        raise NotImplementedError

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def params(self) -> dict[str, Any]:
        return {}

    def scale(self, f: Features, idx: np.ndarray) -> np.ndarray | None:
        """Per-issue residual scale; None: residuals are used as they are."""
        return None


class SqBlend(Model):
    name = "sq-blend"

    def __init__(self) -> None:
        self.a = 1.0

    def _pred(self, f: Features, idx: np.ndarray, a: np.ndarray | float) -> np.ndarray:
        sq = f.status_quo[idx]
        c = f.compromise[idx]
        a = np.asarray(a)
        p = a[..., None] * c + (1 - a[..., None]) * np.where(np.isnan(sq), c, sq)
        return p

    def fit(self, f: Features, idx: np.ndarray) -> "SqBlend":
        preds = self._pred(f, idx, BLEND_GRID)  # (G, n)
        loss = np.mean(np.abs(preds - f.y[idx]), axis=1)
        self.a = float(BLEND_GRID[int(np.argmin(loss))])
        return self

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        return self._pred(f, idx, self.a)

    def params(self) -> dict[str, Any]:
        return {"a": self.a}


class SalienceGamma(Model):
    name = "salience-gamma"

    def __init__(self) -> None:
        self.gamma = 1.0

    def fit(self, f: Features, idx: np.ndarray) -> "SalienceGamma":
        loss = np.nanmean(np.abs(f.gamma_preds[idx] - f.y[idx, None]), axis=0)
        self.gamma = float(GAMMAS[int(np.nanargmin(loss))])
        return self

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        k = int(np.argmin(np.abs(GAMMAS - self.gamma)))
        p = f.gamma_preds[idx, k]
        return np.where(np.isnan(p), f.compromise[idx], p)

    def params(self) -> dict[str, Any]:
        return {"gamma": self.gamma}


def lad_simplex(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """argmin_w sum |y - X w| subject to w >= 0, sum w = 1 (a linear programme).

    Variables (w_1..w_k, t_1..t_n); minimise sum t subject to -t <= y - X w <= t.
    Ties are broken towards the first column (the compromise point) by a tiny penalty
    on the other weights, so a flat optimum returns the benchmark, not an arbitrary mix.
    """
    n, k = X.shape
    c = np.concatenate([np.r_[0.0, np.full(k - 1, 1e-7)], np.ones(n)])
    eye = np.eye(n)
    A_ub = np.block([[-X, -eye], [X, -eye]])
    b_ub = np.concatenate([-y, y])
    A_eq = np.concatenate([np.ones(k), np.zeros(n)])[None]
    res = linprog(c, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[1.0],
                  bounds=[(0, None)] * (k + n), method="highs")
    if not res.success:  # pragma: no cover - the LP is always feasible and bounded
        w = np.zeros(k)
        w[0] = 1.0
        return w
    w = np.clip(res.x[:k], 0.0, None)
    return w / w.sum()


class Stack(Model):
    name = "stack"

    def __init__(self) -> None:
        self.w = np.eye(len(STACK_FEATURES))[0]

    def fit(self, f: Features, idx: np.ndarray) -> "Stack":
        self.w = lad_simplex(f.stack_matrix()[idx], f.y[idx])
        return self

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        return f.stack_matrix()[idx] @ self.w

    def params(self) -> dict[str, Any]:
        return {"weights": {k: round(float(v), 4) for k, v in zip(STACK_FEATURES, self.w)}}


class StackProc(Model):
    name = "stack-proc"

    def __init__(self) -> None:
        self.pooled = Stack()
        self.cells: dict[str, Stack] = {}

    def fit(self, f: Features, idx: np.ndarray) -> "StackProc":
        self.pooled = Stack().fit(f, idx)
        self.cells = {}
        for cell in np.unique(f.cell[idx]):
            sub = idx[f.cell[idx] == cell]
            if sub.size >= MIN_CELL:
                self.cells[str(cell)] = Stack().fit(f, sub)
        return self

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        out = self.pooled.predict(f, idx)
        for cell, model in self.cells.items():
            mask = f.cell[idx] == cell
            if mask.any():
                out[mask] = model.predict(f, idx[mask])
        return out

    def params(self) -> dict[str, Any]:
        return {"pooled": self.pooled.params()["weights"],
                "cells": {k: m.params()["weights"] for k, m in self.cells.items()}}


class HeteroCompromise(Model):
    name = "compromise-hetero"

    def fit(self, f: Features, idx: np.ndarray) -> "HeteroCompromise":
        return self

    def predict(self, f: Features, idx: np.ndarray) -> np.ndarray:
        return f.compromise[idx].copy()

    def scale(self, f: Features, idx: np.ndarray) -> np.ndarray:
        return np.sqrt(f.spread[idx] ** 2 + SPREAD_FLOOR**2)

    def params(self) -> dict[str, Any]:
        return {"spread_floor": SPREAD_FLOOR}


FITTED: dict[str, type[Model]] = {
    m.name: m for m in (SqBlend, SalienceGamma, Stack, StackProc, HeteroCompromise)
}


@dataclass
class FoldFit:
    """Out-of-fold output of one model for one test fold."""

    pred: np.ndarray  # forecasts for the test issues
    residuals: np.ndarray  # honest training residuals (outcome - forecast), standardised if scale
    params: dict[str, Any] = field(default_factory=dict)
    scale: np.ndarray | None = None  # per test issue; None: residuals used as they are


def fit_fold(model_cls: type[Model], f: Features, folds: np.ndarray, test_fold: int) -> FoldFit:
    """Fit on every fold but ``test_fold``; residuals by inner cross-fitting."""
    test = np.flatnonzero(folds == test_fold)
    train = np.flatnonzero(folds != test_fold)
    model = model_cls().fit(f, train)
    pred = model.predict(f, test)
    inner_pred = np.empty(train.size)
    train_folds = folds[train]
    for k in np.unique(train_folds):
        inner_test = train[train_folds == k]
        inner_train = train[train_folds != k]
        inner = model_cls().fit(f, inner_train)
        inner_pred[train_folds == k] = inner.predict(f, inner_test)
    resid = f.y[train] - inner_pred
    scale = model.scale(f, test)
    if scale is not None:
        resid = resid / model.scale(f, train)
    return FoldFit(pred=pred, residuals=resid, params=model.params(), scale=scale)


def residual_ensemble(pred: np.ndarray, residuals: np.ndarray, scale: np.ndarray | None = None,
                      lower: float = 0.0, upper: float = 100.0) -> np.ndarray:
    """(n_test, m) predictive ensemble: forecast + each training residual (times the
    issue's scale when given), clipped to the scale of the issue."""
    r = np.asarray(residuals)[None, :]
    if scale is not None:
        r = np.asarray(scale)[:, None] * r
    return np.clip(np.asarray(pred)[:, None] + r, lower, upper)
