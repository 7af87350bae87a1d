"""The warning model's own Newton/IRLS logistic fit against scikit-learn and statsmodels (to 1e-8),
and its report of non-convergence."""
import warnings

import numpy as np
import pytest
import statsmodels.api as sm
from sklearn.linear_model import LogisticRegression

from engine.stress.warning import LogisticConvergenceWarning, fit_logistic, fit_logistic_info


def _data(seed, n=600, k=4):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, k))
    eta = -2.0 + x @ rng.normal(0, 1, k)
    y = (rng.random(n) < 1 / (1 + np.exp(-eta))).astype(float)
    return x, y


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("ridge", [0.5, 1.0, 10.0])
def test_ridge_fit_equals_sklearn(seed, ridge):
    x, y = _data(seed)
    beta = fit_logistic(x, y, ridge)
    ref = LogisticRegression(C=1.0 / ridge, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(x, y)
    np.testing.assert_allclose(beta[0], ref.intercept_[0], atol=1e-8)
    np.testing.assert_allclose(beta[1:], ref.coef_[0], atol=1e-8)


@pytest.mark.parametrize("seed", [3, 4])
def test_unpenalised_fit_equals_statsmodels(seed):
    x, y = _data(seed)
    beta = fit_logistic(x, y, 0.0)
    ref = sm.Logit(y, sm.add_constant(x)).fit(method="newton", tol=1e-14, maxiter=200, disp=0)
    np.testing.assert_allclose(beta, ref.params, atol=1e-8)


def test_non_convergence_is_reported():
    x = np.linspace(-1, 1, 40)[:, None]
    y = (x[:, 0] > 0).astype(float)          # separable: without a penalty the slope diverges
    beta, converged, steps = fit_logistic_info(x, y, 0.0, max_iter=5)
    assert not converged and steps == 5
    with pytest.warns(LogisticConvergenceWarning, match="did not converge"):
        fit_logistic(x, y, 0.0, max_iter=5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _, ok, _ = fit_logistic_info(x, y, 1.0)       # the ridge makes it well posed
        assert ok
        fit_logistic(x, y, 1.0)


@pytest.mark.parametrize("seed", [5, 6])
def test_a_fit_started_elsewhere_reaches_the_same_optimum(seed):
    """The walk-forward refits start at last month's optimum (a warm start); with a ridge the objective is
    strictly convex, so the start changes the Newton steps taken, not the answer (sklearn's, to 1e-8)."""
    x, y = _data(seed)
    ref = LogisticRegression(C=1.0, solver="newton-cholesky", tol=1e-14, max_iter=500).fit(x, y)
    want = np.concatenate([ref.intercept_, ref.coef_[0]])
    cold, ok_c, steps_c = fit_logistic_info(x, y, 1.0)
    warm, ok_w, steps_w = fit_logistic_info(x, y, 1.0, beta0=want + 0.05)
    far, ok_f, _ = fit_logistic_info(x, y, 1.0, beta0=np.full(len(want), 3.0))
    assert ok_c and ok_w and ok_f and steps_w < steps_c
    for b in (cold, warm, far):
        np.testing.assert_allclose(b, want, atol=1e-8)


def test_restandardized_start_keeps_the_linear_predictor():
    """_restandardize writes last month's fit on this month's means and sds without changing any prediction."""
    from engine.stress.warning import _restandardize

    rng = np.random.default_rng(8)
    x = rng.normal(2.0, 3.0, (50, 3))
    mu0, sd0, beta = rng.normal(size=3), rng.uniform(0.5, 2, 3), rng.normal(size=4)
    mu, sd = rng.normal(size=3), rng.uniform(0.5, 2, 3)
    new = _restandardize((mu0, sd0, beta), mu, sd)
    np.testing.assert_allclose(beta[0] + ((x - mu0) / sd0) @ beta[1:], new[0] + ((x - mu) / sd) @ new[1:],
                               rtol=1e-12, atol=1e-12)


def test_walk_forward_with_warm_starts_equals_cold_fits():
    """Every monthly refit of walk_forward_probability warm-starts; the probabilities equal those of fits
    started at zero to 1e-8 (measured on ../shared/data: within 2.8e-9 for the model and both baselines)."""
    import pandas as pd

    from engine.stress import warning as W
    from engine.stress.config import WarningConfig

    rng = np.random.default_rng(9)
    idx = pd.bdate_range("2000-01-03", periods=1500)
    feats = pd.DataFrame(rng.standard_normal((1500, 3)).cumsum(axis=0) * 0.05, index=idx, columns=list("abc"))
    eta = -1.5 + feats.to_numpy() @ np.array([1.5, -1.0, 0.5])
    label = pd.Series((rng.random(1500) < 1 / (1 + np.exp(-eta))).astype(float), index=idx)
    cfg = WarningConfig()
    warm = W.walk_forward_probability(feats, label, cfg)
    cold_start = W._restandardize
    try:
        W._restandardize = lambda model, mu, sd: None
        cold = W.walk_forward_probability(feats, label, cfg)
    finally:
        W._restandardize = cold_start
    assert warm.notna().sum() > 500
    np.testing.assert_allclose(warm.to_numpy(), cold.to_numpy(), atol=1e-8, equal_nan=True)
