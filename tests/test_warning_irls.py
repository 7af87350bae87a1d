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
