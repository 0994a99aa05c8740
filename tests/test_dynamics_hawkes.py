"""Hawkes kernel: exact simulation moments, MLE recovery and CI coverage, KS residuals, count baselines."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tawazun.dynamics import hawkes as hk

MU, ALPHA, DECAY = 0.5, 0.8, 1.6   # branching ratio 0.5: long-run rate 1.0


def test_simulated_mean_rate_matches_theory():
    rng = np.random.default_rng(11)
    steps, burn = 300, 60
    counts = hk.simulate_counts(np.full((4000, steps), MU), ALPHA, DECAY, rng)
    est = counts[:, burn:].mean()
    # paths are independent: the SE of the grand mean comes from the per-path means
    se = counts[:, burn:].mean(axis=1).std(ddof=1) / np.sqrt(counts.shape[0])
    assert abs(est - 1.0) < 4 * se
    # and without excitation the counts are Poisson(mu dt): mean and variance both mu dt
    c0 = hk.simulate_counts(np.full((4000, 50), 2.0), 0.0, 1.0, rng, dt=0.5)
    assert abs(c0.mean() - 1.0) < 0.01 and abs(c0.var() - 1.0) < 0.03


def test_counts_are_seeded_and_steppable():
    mu = np.full((50, 40), MU)
    a = hk.simulate_counts(mu, ALPHA, DECAY, np.random.default_rng(3))
    b = hk.simulate_counts(mu, ALPHA, DECAY, np.random.default_rng(3))
    assert np.array_equal(a, b)
    # carrying the excitation over: 40 one-step calls are the same process (in law) as one call
    rng = np.random.default_rng(4)
    e = np.zeros(4000)
    tot = np.zeros(4000)
    for _ in range(40):
        c, e = hk.simulate_counts(np.full((4000, 1), MU), ALPHA, DECAY, rng, excite0=e, return_state=True)
        tot += c[:, 0]
    whole = hk.simulate_counts(np.full((4000, 40), MU), ALPHA, DECAY, rng).sum(axis=1)
    assert stats.ks_2samp(tot, whole).pvalue > 0.001


def test_excitation_clusters_events():
    # self-excitation makes counts overdispersed (variance > mean), the Poisson case does not
    c = hk.simulate_counts(np.full((3000, 30), MU), ALPHA, DECAY, np.random.default_rng(5), dt=7.0)
    assert c.var() > 1.5 * c.mean()


def test_mle_recovers_parameters_and_ci_coverage():
    rng = np.random.default_rng(2021)
    horizon, reps = 400.0, 150
    truth = np.log([MU, ALPHA, DECAY])
    hits = np.zeros(3)
    est = []
    for _ in range(reps):
        t = hk.simulate_times(MU, ALPHA, DECAY, horizon, rng)
        fit = hk.fit_hawkes(t, horizon)
        assert fit.converged
        lo, hi = fit.ci(0.95).T
        hits += (lo <= truth) & (truth <= hi)
        est.append([fit.mu, fit.alpha, fit.decay])
    cover = hits / reps
    assert np.all((cover >= 0.90) & (cover <= 0.99)), cover
    med = np.median(np.array(est), axis=0)
    assert np.allclose(med, [MU, ALPHA, DECAY], rtol=0.15), med


def test_ks_pvalues_uniform_under_true_model():
    rng = np.random.default_rng(7)
    true = hk.HawkesFit(coef=np.array([np.log(MU)]), alpha=ALPHA, decay=DECAY,
                        theta=np.log([MU, ALPHA, DECAY]), cov=np.eye(3), loglik=0.0,
                        n_events=0, converged=True)
    ps = [hk.ks_test(hk.simulate_times(MU, ALPHA, DECAY, 200.0, rng), 200.0, true).pvalue for _ in range(200)]
    assert stats.kstest(ps, "uniform").pvalue > 0.001
    # a misspecified model (Poisson with the same mean rate) is rejected on clustered data
    t = hk.simulate_times(MU, 1.2, 1.6, 2000.0, rng)
    poisson = hk.HawkesFit(coef=np.array([np.log(t.size / 2000.0)]), alpha=1e-9, decay=1.0,
                           theta=np.zeros(3), cov=np.eye(3), loglik=0.0, n_events=0, converged=True)
    assert hk.ks_test(t, 2000.0, poisson).pvalue < 1e-3


def test_fit_with_covariates_recovers_log_linear_baseline():
    # baseline exp(b0 + b1 x) with x switching on halfway (e.g. talks stalled)
    rng = np.random.default_rng(9)
    edges = np.array([0.0, 1000.0, 2000.0])
    X = np.array([[1.0, 0.0], [1.0, 1.0]])
    b = np.array([np.log(0.3), np.log(2.0)])
    t = hk.simulate_times(np.exp(X @ b), 0.6, 1.5, 2000.0, rng, edges=edges)
    fit = hk.fit_hawkes(t, 2000.0, X=X, edges=edges)
    lo, hi = fit.ci(0.99).T
    assert np.all((lo[:2] <= b) & (b <= hi[:2])), (fit.coef, b)
    assert fit.stationary and 0.2 < fit.branching_ratio < 0.6


def test_loglik_gradient_matches_finite_differences():
    t = hk.simulate_times(MU, ALPHA, DECAY, 300.0, np.random.default_rng(1))
    X, edges, seg = hk._design(t, 300.0, None, None)
    th = np.log([0.4, 0.7, 2.0])
    f0, g = hk._negll_grad(th, t, 300.0, X, edges, seg)
    num = np.array([(hk._negll_grad(th + h, t, 300.0, X, edges, seg)[0]
                     - hk._negll_grad(th - h, t, 300.0, X, edges, seg)[0]) / 2e-6
                    for h in np.eye(3) * 1e-6])
    assert np.allclose(g, num, rtol=1e-4, atol=1e-4)
    assert hk.hawkes_loglik(t, 300.0, 0.4, 0.7, 2.0) == pytest.approx(-f0)


def test_stationarity_helpers():
    assert hk.branching_ratio(0.8, 1.6) == 0.5
    assert hk.stationary_rate(0.5, 0.8, 1.6) == pytest.approx(1.0)
    assert np.isinf(hk.stationary_rate(0.5, 2.0, 1.6))
    with pytest.raises(ValueError):
        hk.simulate_counts(np.full((2, 2), -1.0), 0.1, 1.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="explosive"):
        hk.simulate_times(1.0, 3.0, 1.0, 1e6, np.random.default_rng(0), max_events=5000)


def test_count_baselines():
    rng = np.random.default_rng(3)
    y = rng.poisson(4.0, size=400)
    p = hk.fit_poisson(y)
    assert p.mean == pytest.approx(y.mean()) and p.predictive().mean() == pytest.approx(y.mean())
    z = rng.negative_binomial(2.0, 2.0 / (2.0 + 5.0), size=2000)   # mean 5, size 2
    nb = hk.fit_negbin(z)
    assert nb.mean == pytest.approx(z.mean(), rel=1e-3)
    assert 1.6 < nb.dispersion < 2.5
    assert nb.aic < hk.fit_poisson(z).aic                      # overdispersion is detected
    assert nb.predictive().var() > nb.predictive().mean()
    with pytest.raises(ValueError):
        hk.fit_poisson([1.5, 2])
