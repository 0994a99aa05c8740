"""Self-exciting event counts: a univariate Hawkes process with an exponential kernel.

Intensity (events per unit time)::

    lambda(t) = mu(t) + sum_{t_j < t} alpha * exp(-decay * (t - t_j))
    mu(t)     = exp(x(t) . b)            (piecewise constant: one value per step)

``alpha`` is the jump of the intensity at each event and ``decay`` its rate of decay, so an
event begets ``alpha / decay`` direct offspring on average (the *branching ratio*); the
process is stationary only when that ratio is below 1. For a constant ``mu`` the long-run
rate is ``mu / (1 - alpha / decay)``.

Simulation is exact, not a discretisation: inside a step the baseline is constant and the
excitation decays exponentially, so the waiting time to the next event is drawn as the
minimum of the baseline's exponential wait and the excitation's first-arrival time
(Dassios & Zhao 2013, "Exact simulation of Hawkes process with exponentially decaying
intensity", Electron. Commun. Probab. 18(62)); no thinning rejections. The kernel runs chunks of :data:`CHUNK` paths in parallel under Numba, each chunk
on its own stream seeded from the :class:`numpy.random.Generator` passed in, so a seed gives
the same counts on every machine and thread count. (Event times of one path, for fitting,
are drawn from the Generator itself.)

Fitting is maximum likelihood on event times (the continuous-time log-likelihood with the
O(n) recursion of Ogata 1978 / Ozaki 1979), on log-parameters, with standard errors from the
inverse of a numerical Hessian of the negative log-likelihood (central differences of the
analytic gradient). Goodness of fit: time-rescaled residuals ``Lambda(t_i) - Lambda(t_{i-1})``
are i.i.d. Exp(1) under the fitted model (Brown et al. 2002); a KS test checks that.

Count baselines for coarser data (monthly counts): Poisson and negative binomial, with their
plug-in predictive distributions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba as nb
import numpy as np
from scipy import optimize, stats

from tawazun.engines.threads import compile_once

__all__ = [
    "simulate_counts", "simulate_times", "stationary_rate", "branching_ratio",
    "HawkesFit", "fit_hawkes", "hawkes_loglik", "rescaled_residuals",
    "CountFit", "fit_poisson", "fit_negbin",
]

Z95 = float(stats.norm.ppf(0.975))


# ------------------------------------------------------------------------------ simulation


CHUNK = 256
"""Paths per random stream in :func:`simulate_counts`. Changing it changes every seeded result."""


@nb.njit(cache=True)
def _counts_chunk(mu, alpha, decay, dt, excite0, seed, lo, hi, counts, excite_end):  # pragma: no cover - numba
    np.random.seed(seed)
    n_steps = mu.shape[1]
    for p in range(lo, hi):
        a = alpha[p]
        d = decay[p]
        e = excite0[p]  # excitation part of the intensity at the current time
        for s in range(n_steps):
            m = mu[p, s]
            left = dt
            c = 0
            while True:
                # baseline's wait: Exp(m); excitation's first arrival (may never come)
                w = np.inf
                if m > 0.0:
                    w = np.random.exponential(1.0 / m)
                if e > 0.0:
                    q = 1.0 + d * np.log(np.random.random()) / e
                    if q > 0.0:
                        w2 = -np.log(q) / d
                        if w2 < w:
                            w = w2
                if w >= left:
                    e *= np.exp(-d * left)
                    break
                e = e * np.exp(-d * w) + a
                left -= w
                c += 1
            counts[p, s] = c
        excite_end[p] = e


@nb.njit(cache=True, parallel=True)
def _counts_kernel(mu, alpha, decay, dt, excite0, seeds, counts, excite_end):  # pragma: no cover - numba
    n = mu.shape[0]
    for c in nb.prange(seeds.shape[0]):
        _counts_chunk(mu, alpha, decay, dt, excite0, seeds[c], c * CHUNK, min(n, (c + 1) * CHUNK),
                      counts, excite_end)


def _warm() -> None:
    # compile (or load from Numba's disk cache) every kernel once, under the shared lock
    mu = np.full((2, 2), 0.5)
    _counts_kernel(mu, np.full(2, 0.5), np.ones(2), 1.0, np.zeros(2), np.array([1]),
                   np.empty((2, 2), dtype=np.int64), np.empty(2))
    _times_kernel(np.array([0.5]), np.array([0.0, 5.0]), 0.5, 1.0, np.random.default_rng(0), 100)
    _recursions(np.array([0.0, 1.0, 2.0]), 1.0)


def _per_path(x: float | np.ndarray, n: int, name: str) -> np.ndarray:
    arr = np.broadcast_to(np.asarray(x, dtype=float), (n,)).copy()
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"{name} must be finite and >= 0")
    return arr


def simulate_counts(
    mu: np.ndarray,
    alpha: float | np.ndarray,
    decay: float | np.ndarray,
    rng: np.random.Generator,
    dt: float = 1.0,
    excite0: float | np.ndarray = 0.0,
    return_state: bool = False,
):
    """Event counts per step, shape ``(paths, steps)``.

    ``mu``: baseline intensity per unit time, ``(paths, steps)`` (or ``(steps,)`` for one
    path). ``alpha``, ``decay``: scalars or ``(paths,)``. ``dt``: the step's length in the
    same time unit as the rates. ``excite0``: the excitation at the start (carried over from
    a previous call, which makes the kernel steppable). With ``return_state`` the excitation
    at the end, ``(paths,)``, is returned too.
    """
    compile_once("dynamics-hawkes", _warm)
    mu = np.atleast_2d(np.asarray(mu, dtype=float))
    if not np.all(np.isfinite(mu)) or np.any(mu < 0):
        raise ValueError("mu must be finite and >= 0")
    n = mu.shape[0]
    a = _per_path(alpha, n, "alpha")
    d = _per_path(decay, n, "decay")
    if np.any(d <= 0):
        raise ValueError("decay must be > 0")
    e0 = _per_path(excite0, n, "excite0")
    counts = np.empty(mu.shape, dtype=np.int64)
    e_end = np.empty(n)
    # one stream per chunk of CHUNK paths, seeded from rng: the same counts on any thread count
    seeds = rng.integers(0, 2**31 - 1, size=-(-n // CHUNK))
    _counts_kernel(np.ascontiguousarray(mu), a, d, float(dt), e0, seeds, counts, e_end)
    return (counts, e_end) if return_state else counts


@nb.njit(cache=True)
def _times_kernel(mu, edges, alpha, decay, rng, max_events):  # pragma: no cover - numba
    out = np.empty(1024)
    n = 0
    e = 0.0
    for s in range(mu.shape[0]):
        m = mu[s]
        t = edges[s]
        end = edges[s + 1]
        while True:
            w = np.inf
            if m > 0.0:
                w = rng.exponential(1.0 / m)
            if e > 0.0:
                q = 1.0 + decay * np.log(rng.random()) / e
                if q > 0.0:
                    w2 = -np.log(q) / decay
                    if w2 < w:
                        w = w2
            if t + w >= end:
                e *= np.exp(-decay * (end - t))
                break
            t += w
            e = e * np.exp(-decay * w) + alpha
            if n == out.shape[0]:
                if n >= max_events:
                    return out[:0], -1
                bigger = np.empty(min(2 * n, max_events))
                bigger[:n] = out
                out = bigger
            out[n] = t
            n += 1
    return out[:n], n


def simulate_times(
    mu: float | np.ndarray,
    alpha: float,
    decay: float,
    horizon: float,
    rng: np.random.Generator,
    edges: np.ndarray | None = None,
    max_events: int = 10_000_000,
) -> np.ndarray:
    """Event times of one path on ``[0, horizon)``.

    ``mu`` is a constant, or one value per interval of ``edges`` (``len(edges) == len(mu) + 1``,
    ``edges[0] == 0``, ``edges[-1] == horizon``).
    """
    compile_once("dynamics-hawkes", _warm)
    mu_arr = np.atleast_1d(np.asarray(mu, dtype=float))
    if edges is None:
        if mu_arr.size != 1:
            raise ValueError("a piecewise mu needs edges")
        edges = np.array([0.0, float(horizon)])
    edges = np.asarray(edges, dtype=float)
    if edges.size != mu_arr.size + 1:
        raise ValueError("edges must have one more entry than mu")
    out, n = _times_kernel(mu_arr, edges, float(alpha), float(decay), rng, int(max_events))
    if n < 0:
        raise ValueError(f"more than {max_events} events: is the process explosive (alpha/decay >= 1)?")
    return out.copy()


def branching_ratio(alpha: float | np.ndarray, decay: float | np.ndarray):
    """Mean number of direct offspring per event; the process is stationary iff < 1."""
    return np.asarray(alpha) / np.asarray(decay)


def stationary_rate(mu, alpha, decay):
    """Long-run events per unit time for a constant baseline: ``mu / (1 - alpha/decay)``."""
    br = branching_ratio(alpha, decay)
    return np.where(br < 1, np.asarray(mu) / np.maximum(1 - br, 1e-300), np.inf)


# ------------------------------------------------------------------------------ likelihood


@nb.njit(cache=True)
def _recursions(times, decay):  # pragma: no cover - numba
    # A_i = sum_{j<i} exp(-decay (t_i - t_j));  B_i = sum_{j<i} (t_i - t_j) exp(-decay (t_i - t_j))
    n = times.shape[0]
    A = np.zeros(n)
    B = np.zeros(n)
    for i in range(1, n):
        dlt = times[i] - times[i - 1]
        k = np.exp(-decay * dlt)
        A[i] = k * (1.0 + A[i - 1])
        B[i] = k * (B[i - 1] + dlt * (1.0 + A[i - 1]))
    return A, B


def _design(times: np.ndarray, horizon: float, X: np.ndarray | None, edges: np.ndarray | None):
    if X is None:
        X = np.ones((1, 1))
        edges = np.array([0.0, horizon])
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    edges = np.asarray(edges, dtype=float)
    if edges.size != X.shape[0] + 1:
        raise ValueError("edges must have one more entry than the rows of X")
    seg = np.clip(np.searchsorted(edges, times, side="right") - 1, 0, X.shape[0] - 1)
    return X, edges, seg


def _negll_grad(theta, times, horizon, X, edges, seg):
    k = X.shape[1]
    b = theta[:k]
    alpha = np.exp(theta[k])
    decay = np.exp(theta[k + 1])
    mu_seg = np.exp(X @ b)
    A, B = _recursions(times, decay)
    lam = mu_seg[seg] + alpha * A
    if np.any(lam <= 0):
        return np.inf, np.zeros_like(theta)
    widths = np.diff(edges)
    tau = horizon - times
    ex = np.exp(-decay * tau)
    one_m = 1.0 - ex
    ll = np.sum(np.log(lam)) - np.sum(mu_seg * widths) - alpha / decay * np.sum(one_m)
    inv = 1.0 / lam
    g_b = X[seg].T @ (mu_seg[seg] * inv) - X.T @ (mu_seg * widths)
    g_a = np.sum(A * inv) - np.sum(one_m) / decay
    g_d = -alpha * np.sum(B * inv) + alpha / decay**2 * np.sum(one_m) - alpha / decay * np.sum(tau * ex)
    grad = np.concatenate([g_b, [g_a * alpha, g_d * decay]])
    return -ll, -grad


def hawkes_loglik(times, horizon, mu, alpha, decay) -> float:
    """Log-likelihood of event times on ``[0, horizon]`` under a constant-baseline Hawkes process."""
    compile_once("dynamics-hawkes", _warm)
    times = np.sort(np.asarray(times, dtype=float))
    X, edges, seg = _design(times, horizon, None, None)
    nll, _ = _negll_grad(np.array([np.log(mu), np.log(alpha), np.log(decay)]), times, horizon, X, edges, seg)
    return -nll


@dataclass(frozen=True)
class HawkesFit:
    """Maximum-likelihood fit. ``coef`` are the baseline's log-linear coefficients."""

    coef: np.ndarray
    alpha: float
    decay: float
    theta: np.ndarray       # (coef..., log alpha, log decay)
    cov: np.ndarray         # covariance of theta: inverse observed information
    loglik: float
    n_events: int
    converged: bool

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.clip(np.diag(self.cov), 0, None))

    @property
    def mu(self) -> float:
        """The baseline when the design is the constant (no covariates)."""
        return float(np.exp(self.coef[0]))

    @property
    def branching_ratio(self) -> float:
        return self.alpha / self.decay

    @property
    def stationary(self) -> bool:
        return self.branching_ratio < 1.0

    def ci(self, level: float = 0.95) -> np.ndarray:
        """Wald intervals on theta (log scale for alpha and decay), shape ``(k+2, 2)``."""
        z = float(stats.norm.ppf(0.5 + level / 2))
        return np.stack([self.theta - z * self.se, self.theta + z * self.se], axis=1)


def _num_hessian(fun_grad, theta, args, rel=1e-5):
    k = theta.size
    H = np.empty((k, k))
    for j in range(k):
        h = rel * max(1.0, abs(theta[j]))
        tp, tm = theta.copy(), theta.copy()
        tp[j] += h
        tm[j] -= h
        H[:, j] = (fun_grad(tp, *args)[1] - fun_grad(tm, *args)[1]) / (2 * h)
    return 0.5 * (H + H.T)


def fit_hawkes(
    times: np.ndarray,
    horizon: float,
    X: np.ndarray | None = None,
    edges: np.ndarray | None = None,
    start: np.ndarray | None = None,
) -> HawkesFit:
    """Maximum-likelihood fit of event times on ``[0, horizon]``.

    Without ``X`` the baseline is a constant. With ``X`` (``(segments, k)``) and ``edges``
    (``segments + 1``) the baseline is ``exp(X[s] . coef)`` on ``[edges[s], edges[s+1])``.
    """
    compile_once("dynamics-hawkes", _warm)
    times = np.sort(np.asarray(times, dtype=float))
    if times.size < 3:
        raise ValueError("a Hawkes fit needs at least 3 events")
    if times[0] < 0 or times[-1] > horizon:
        raise ValueError("event times must lie in [0, horizon]")
    X, edges, seg = _design(times, float(horizon), X, edges)
    k = X.shape[1]
    if start is None:
        # a Poisson rate for the baseline, a moderate branching ratio, decay ~ the event rate
        rate = times.size / horizon
        b0 = np.linalg.lstsq(X, np.full(X.shape[0], np.log(0.5 * rate)), rcond=None)[0]
        start = np.concatenate([b0, [np.log(0.5 * rate), np.log(rate)]])
    args = (times, float(horizon), X, edges, seg)
    # BFGS (pure Python over 3-5 parameters): L-BFGS-B's Fortran step was measured at ~10 ms
    # per iteration on a loaded machine (its BLAS threads), far more than the O(n) likelihood.
    res = optimize.minimize(_negll_grad, start, args=args, jac=True, method="BFGS",
                            options={"maxiter": 500, "gtol": 1e-6})
    H = _num_hessian(_negll_grad, res.x, args)
    try:
        cov = np.linalg.inv(H)
    except np.linalg.LinAlgError:
        cov = np.full_like(H, np.nan)
    # BFGS often stops with "precision loss" at the optimum: accept the fit when the Newton
    # step left by the final gradient is below 1% of every standard error.
    se = np.sqrt(np.clip(np.diag(cov), 0, None))
    step = cov @ _negll_grad(res.x, *args)[1]
    converged = bool(res.success) or bool(np.all(np.isfinite(step)) and np.all(np.abs(step) < 0.01 * se))
    return HawkesFit(
        coef=res.x[:k].copy(), alpha=float(np.exp(res.x[k])), decay=float(np.exp(res.x[k + 1])),
        theta=res.x.copy(), cov=cov, loglik=float(-res.fun), n_events=int(times.size),
        converged=converged,
    )


def rescaled_residuals(times, horizon, fit: HawkesFit, X=None, edges=None) -> np.ndarray:
    """Compensator increments ``Lambda(t_i) - Lambda(t_{i-1})`` (``t_0 = 0``): Exp(1) under the model."""
    compile_once("dynamics-hawkes", _warm)
    times = np.sort(np.asarray(times, dtype=float))
    X, edges, seg = _design(times, float(horizon), X, edges)
    mu_seg = np.exp(X @ fit.coef)
    cum = np.concatenate([[0.0], np.cumsum(mu_seg * np.diff(edges))])
    base = cum[seg] + mu_seg[seg] * (times - edges[seg])
    A, _ = _recursions(times, fit.decay)
    dlt = np.diff(times, prepend=0.0)
    # excitation just after t_{i-1} is alpha (A_{i-1} + 1); it integrates to that / decay * (1 - e^{-decay dlt})
    carry = np.concatenate([[0.0], A[:-1] + 1.0])
    exc = fit.alpha / fit.decay * carry * (1.0 - np.exp(-fit.decay * dlt))
    return np.diff(base, prepend=0.0) + exc


def ks_test(times, horizon, fit: HawkesFit, X=None, edges=None):
    """KS test of the rescaled residuals against Exp(1) (scipy.stats.kstest)."""
    return stats.kstest(rescaled_residuals(times, horizon, fit, X, edges), "expon")


# ------------------------------------------------------------------------------ count baselines


@dataclass(frozen=True)
class CountFit:
    """A fitted count model and its plug-in predictive distribution for one more period."""

    kind: str
    mean: float
    dispersion: float | None   # NB size r (variance = m + m^2 / r); None for Poisson
    se_mean: float
    loglik: float
    aic: float

    def predictive(self):
        """A frozen scipy distribution of next period's count (parameters plugged in)."""
        if self.kind == "poisson":
            return stats.poisson(self.mean)
        r = self.dispersion
        return stats.nbinom(r, r / (r + self.mean))


def _counts(y) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or y.size < 2 or np.any(y < 0) or np.any(y != np.round(y)):
        raise ValueError("counts must be a 1-d array of >= 2 non-negative integers")
    return y.astype(float)


def fit_poisson(y) -> CountFit:
    y = _counts(y)
    m = float(y.mean())
    ll = float(stats.poisson.logpmf(y, m).sum()) if m > 0 else 0.0
    return CountFit("poisson", m, None, float(np.sqrt(m / y.size)), ll, 2 * 1 - 2 * ll)


def fit_negbin(y) -> CountFit:
    """NB by maximum likelihood on (log mean, log size); overdispersion -> finite size."""
    y = _counts(y)
    m0 = max(float(y.mean()), 1e-3)
    v = float(y.var(ddof=1))
    r0 = m0**2 / (v - m0) if v > m0 else 100.0

    def nll(th):
        m, r = np.exp(th)
        return -float(stats.nbinom.logpmf(y, r, r / (r + m)).sum())

    res = optimize.minimize(nll, np.log([m0, r0]), method="Nelder-Mead",
                            options={"xatol": 1e-8, "fatol": 1e-10, "maxiter": 4000})
    m, r = np.exp(res.x)
    # the MLE of the NB mean is the sample mean; its SE from the NB variance
    se = float(np.sqrt((m + m**2 / r) / y.size))
    ll = -float(res.fun)
    return CountFit("negbin", float(m), float(r), se, ll, 2 * 2 - 2 * ll)
