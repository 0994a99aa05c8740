"""Protest cascades: the compiled kernel agrees in distribution with the Mesa reference; invariants."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from tawazun.dynamics import protest as pr

# A small world where cascades are punctuated (the time of the peak varies from run to run).
AGREE = pr.ProtestParams(width=20, height=20, vision=3, cop_density=0.08, j_max=15)
TICKS, L = 50, 0.8
ALPHA_TEST = 0.01   # per statistic; seeds are fixed, so the outcome is deterministic


def _kernel_stats(params, runs, ticks, legit, seed):
    active, _ = pr.run(params, runs, ticks, legit, np.random.default_rng(seed))
    return pr.summarise(active, params.n_citizens)


def _mesa_stats(params, runs, ticks, legit, seed0):
    ref = pytest.importorskip("tawazun.dynamics.protest_mesa")
    series = [ref.run_reference(params, ticks, legit, seed=seed0 + s)[0] for s in range(runs)]
    return pr.summarise(np.array(series), params.n_citizens)


def _agree(k, m):
    for name in ("peak_share", "time_to_peak", "mean_share"):
        p = stats.ks_2samp(k[name], m[name]).pvalue
        assert p > ALPHA_TEST, (name, p, np.mean(k[name]), np.mean(m[name]))


@pytest.mark.slow
@pytest.mark.timeout(3600)   # the Mesa side: ~0.5 s a run on an idle core, 200 runs
def test_kernel_agrees_with_mesa_reference_200_seeds():
    _agree(_kernel_stats(AGREE, 200, TICKS, L, 1), _mesa_stats(AGREE, 200, TICKS, L, 10_000))


def test_kernel_agrees_with_mesa_reference_quick():
    small = pr.ProtestParams(width=12, height=12, vision=3, cop_density=0.06, j_max=10)
    sched = np.linspace(0.85, 0.6, 25)       # legitimacy falling tick by tick
    _agree(_kernel_stats(small, 400, 25, sched[None, :], 2), _mesa_stats(small, 60, 25, sched, 20_000))


def test_seeded_and_bounded():
    a1, j1 = pr.run(AGREE, 8, 30, L, np.random.default_rng(5))
    a2, j2 = pr.run(AGREE, 8, 30, L, np.random.default_rng(5))
    assert np.array_equal(a1, a2) and np.array_equal(j1, j2)
    assert np.all(a1 + j1 <= AGREE.n_citizens) and np.all(a1 >= 0)


def test_world_invariants_after_ticks():
    w = pr.init_world(AGREE, 6, np.random.default_rng(0))
    pr.advance(w, np.linspace(0.9, 0.5, 40)[None, :].repeat(6, 0), 40, np.random.default_rng(1))
    for r in range(6):
        free = w.pos[r] >= 0
        assert np.all(w.occ[r][w.pos[r][free]] == np.flatnonzero(free))          # occ and pos agree
        assert (w.occ[r] >= 0).sum() == free.sum()                                # one agent per cell
        assert np.all(free[: AGREE.n_cops])                                       # cops never jailed
        assert np.all((w.jail[r] > 0) == ~free) and not np.any(w.active[r] & ~free)


def test_legitimacy_and_hardship_drive_protest():
    # Epstein's comparative statics: lower legitimacy or higher hardship -> more activity
    means = [_kernel_stats(AGREE, 60, 30, lv, 3)["mean_share"].mean() for lv in (0.9, 0.8, 0.6)]
    assert means[0] < means[1] < means[2]
    calm = pr.with_inputs(AGREE, 0.0, 0.3)
    assert _kernel_stats(calm, 60, 30, 0.6, 3)["mean_share"].mean() < means[2] / 2
    # nobody protests when grievance can never beat the threshold
    assert _kernel_stats(AGREE, 20, 20, 0.95, 3)["peak_share"].max() == 0.0


def test_effective_legitimacy_and_bad_inputs():
    assert pr.effective_legitimacy(0.8, boycott=0.5, boycott_weight=0.4) == pytest.approx(0.64)
    assert pr.effective_legitimacy(0.8, 2.0, 1.0) == 0.0
    with pytest.raises(ValueError):
        pr.ProtestParams(width=5, height=5, vision=3)
    with pytest.raises(ValueError):
        pr.run(AGREE, 2, 3, 1.5, np.random.default_rng(0))
