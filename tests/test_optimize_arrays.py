"""The per-rebalance array helpers equal the pandas formulations they replace on the backtest path:
expected returns (Grinold alpha with the stress tilt), the windowed covariance, and the regime lookup."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.optimize.covariance import covariance_window, risk_model_window
from engine.optimize.expected import TILT_MULTIPLIER, expected_returns_array, tilt_vector
from engine.universe import DEFENSIVE, SECTORS, TECH

TK = list(SECTORS)


def _pandas_expected(score: pd.Series, sigma: pd.Series, regime: str, ic=0.05, tilt=0.02) -> pd.Series:
    """The formula as written with pandas before (z from pandas' mean and std, ddof 0)."""
    ok = score.notna() & sigma.notna()
    sv = score[ok]
    sd = sv.std(ddof=0) if ok.sum() >= 2 else 0.0
    z = (sv - sv.mean()) / sd if sd > 0 else sv * 0.0
    mult = TILT_MULTIPLIER[regime]
    t = pd.Series([tilt * mult if k in DEFENSIVE else -tilt * mult if k == TECH else 0.0 for k in score.index],
                  index=score.index)
    return (ic * sigma * z + t).where(ok)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**31), regime=st.sampled_from(sorted(TILT_MULTIPLIER)), holes=st.integers(0, 5))
def test_expected_returns_array_equals_pandas(seed, regime, holes):
    rng = np.random.default_rng(seed)
    score = rng.normal(size=len(TK))
    sigma = rng.uniform(0.1, 0.4, len(TK))
    score[rng.choice(len(TK), holes, replace=False)] = np.nan
    ours = expected_returns_array(score, sigma, tilt_vector(TK), regime)
    ref = _pandas_expected(pd.Series(score, index=TK), pd.Series(sigma, index=TK), regime).to_numpy()
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours[~np.isnan(ours)], ref[~np.isnan(ref)], rtol=0, atol=1e-15)


@pytest.mark.parametrize("method", ["ledoit_wolf_constant_corr", "ledoit_wolf_identity", "ewma"])
def test_covariance_window_is_the_risk_model(method):
    rng = np.random.default_rng(4)
    vals = rng.normal(0, 0.01, (252, len(TK)))
    vals[:100, TK.index("XLRE")] = np.nan                 # a sector without a full window is excluded
    cov, inv, shrink = covariance_window(vals, method)
    rm = risk_model_window(vals, TK, method=method)
    np.testing.assert_array_equal(cov, rm.cov.to_numpy())
    assert tuple(t for t, ok in zip(TK, inv) if ok) == rm.investable and shrink == rm.shrinkage


def test_regime_lookup_is_series_asof():
    """Rotation.regime_at reads the regime by position: equal to Series.asof (last known value) everywhere,
    including dates before the first value, between values and over NaN gaps."""
    from engine.backtest.rotation import Rotation
    from engine.optimize.limits import Limits

    days = pd.bdate_range("2020-01-01", periods=40)
    reg = pd.Series(["calm", "stress", None, "crisis", np.nan] * 8, index=days, dtype=object)
    rot = Rotation(TK, Limits(), reg, pd.DataFrame(index=days, columns=TK, dtype=float))
    for t in list(pd.bdate_range("2019-12-25", "2020-03-10")) + [pd.Timestamp("2020-01-03 12:00")]:
        want = reg.asof(t) if t >= days[0] else None
        assert rot.regime_at(t) == (want if isinstance(want, str) else "calm"), t


@settings(max_examples=50, deadline=None)
@given(seed=st.integers(0, 2**31), exponent=st.sampled_from([0.5, 0.6, 1.0]))
def test_polish_gradient_equals_the_reference_formula(seed, exponent):
    """The Newton polish's gradient and impact curvature (polish._Smooth, precomputed per sign pattern) equal the
    direct formula (polish._grad_hess) at random points of random sign patterns."""
    from engine.optimize.polish import _grad_hess, _Smooth
    from engine.optimize.problem import NumericData

    rng = np.random.default_rng(seed)
    n = len(TK)
    a = rng.normal(size=(n, n)) * 0.05
    cov = a @ a.T + np.diag(rng.uniform(0.01, 0.05, n))
    w0 = rng.dirichlet(np.ones(n)) * 0.9
    d = NumericData(mu=rng.normal(0, 0.05, n), cov=cov, factor=np.linalg.cholesky(cov), w0=w0, cash0=0.1,
                    b=rng.dirichlet(np.ones(n)), lo=np.zeros(n), hi=np.ones(n), tech_cap=0.3, floor=0.0, te=0.05,
                    turnover=0.3, tbound=np.full(n, 2.0), linear=rng.uniform(0, 1e-3, n),
                    impact=rng.uniform(0, 0.5, n) * (rng.random(n) < 0.8), cash_max=0.2, gamma=2.0,
                    b_risk=rng.dirichlet(np.ones(n)), cost_scale=12.0, exponent=exponent)
    sign = rng.integers(-1, 2, n)
    y = np.append(w0 + sign * rng.uniform(0, 0.05, n), 0.1)
    G = 2.0 * d.gamma * d.cov
    H = np.zeros((n + 1, n + 1))
    g_ref = _grad_hess(d, G, y, sign, H)
    f = _Smooth(d, sign, G)
    g, curv = f.grad(y)
    np.testing.assert_allclose(g, g_ref, rtol=1e-12, atol=1e-14)
    H2 = np.zeros((n + 1, n + 1))
    H2[:n, :n] = G
    if curv is not None:
        H2[f.ii] += curv
    np.testing.assert_allclose(H2, H, rtol=1e-12, atol=1e-14)
