"""The HMM regime candidate: hmmlearn's EM, our causal filter checked against hmmlearn's posteriors,
deterministic state order, and no look-ahead through the filter."""
import numpy as np
import pytest

from engine.signals_research.hmm import filtered, fit_regimes


def _regime_data(n=1500, seed=0):
    rng = np.random.default_rng(seed)
    s = np.zeros(n, int)
    for t in range(1, n):
        s[t] = s[t - 1] if rng.random() < 0.97 else 1 - s[t - 1]
    x = rng.normal(size=(n, 2)) * np.where(s == 1, 3.0, 1.0)[:, None] + 0.5 * s[:, None]
    return x, s


def _hmmlearn_model(r):
    from hmmlearn.hmm import GaussianHMM

    m = GaussianHMM(n_components=len(r.means), covariance_type="full")
    m.startprob_, m.transmat_, m.means_, m.covars_ = r.startprob, r.transmat, r.means, r.covars
    return m


@pytest.mark.parametrize("k", [2, 3])
def test_filter_equals_hmmlearn_posterior_on_the_last_row(k):
    """On the last row of a sequence the forward filter equals the forward-backward posterior, so
    filtered[t] must equal hmmlearn's predict_proba(x[: t + 1])[-1] for every t checked."""
    x, _ = _regime_data()
    r = fit_regimes(x, k)
    f = filtered(r, x)
    m = _hmmlearn_model(r)
    z = (x - r.mu) / r.sd
    for t in (0, 1, 10, 300, 999, len(x) - 1):
        np.testing.assert_allclose(f[t], m.predict_proba(z[: t + 1])[-1], atol=1e-8)
    np.testing.assert_allclose(f.sum(axis=1), 1.0, atol=1e-12)


def test_states_ordered_by_variance_and_found():
    x, s = _regime_data()
    r = fit_regimes(x, 2)
    tr = [np.trace(c) for c in r.covars]
    assert tr[0] < tr[1]
    assert ((filtered(r, x)[:, 1] > 0.5) == (s == 1)).mean() > 0.9       # the volatile regime is state 1
    r2 = fit_regimes(x.copy(), 2)
    np.testing.assert_array_equal(r.transmat, r2.transmat)              # deterministic (seeded EM)


def test_filter_ignores_rows_after_t_and_skips_missing_rows():
    x, _ = _regime_data()
    r = fit_regimes(x, 2)
    f = filtered(r, x)
    t = 800
    x2 = x.copy()
    x2[t + 1:] = 50.0
    np.testing.assert_array_equal(filtered(r, x2)[: t + 1], f[: t + 1])
    np.testing.assert_array_equal(filtered(r, x[: t + 1]), f[: t + 1])
    x3 = x.copy()
    x3[100, 0] = np.nan
    g = filtered(r, x3)
    assert np.isnan(g[100]).all() and np.isfinite(g[101]).all()
    np.testing.assert_array_equal(g[:100], f[:100])
