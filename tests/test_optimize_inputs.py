"""Limits (TOML), covariance estimators, expected returns, transition paths, walk-forward comparison."""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.errors import ArgumentError, NoDataError
from engine.optimize import costs
from engine.optimize.covariance import ewma_covariance, ledoit_wolf_constant_corr, ledoit_wolf_identity, risk_model
from engine.optimize.expected import expected_returns
from engine.optimize.limits import Limits
from engine.optimize.transition import transition_path
from engine.universe import SECTORS

TK = list(SECTORS)
DEFAULT_TOML = Path(__file__).resolve().parents[1] / "engine" / "optimize" / "default_limits.toml"


# ---- limits ------------------------------------------------------------------------------------
def test_default_toml_matches_dataclass_defaults():
    assert Limits.from_toml(DEFAULT_TOML) == Limits()


def test_toml_unknown_key_and_range_name_the_key(tmp_path):
    p = tmp_path / "l.toml"
    p.write_text("[limits]\ntech_cap = 0.2\ntech_capp = 0.3\n")
    with pytest.raises(ArgumentError, match="tech_capp"):
        Limits.from_toml(p)
    p.write_text("[limits]\nturnover = 1.5\n")
    with pytest.raises(ArgumentError, match="turnover"):
        Limits.from_toml(p)
    p.write_text("[limits]\nsector_max = 'high'\n")
    with pytest.raises(ArgumentError, match="sector_max"):
        Limits.from_toml(p)
    p.write_text("[other]\n")
    with pytest.raises(ArgumentError, match="limits"):
        Limits.from_toml(p)
    with pytest.raises(ArgumentError, match="does not exist"):
        Limits.from_toml(tmp_path / "missing.toml")
    p.write_text("[limits]\ntech_cap = 0.2\ntracking_error = 0.03\n")
    lim = Limits.from_toml(p)
    assert lim.tech_cap == 0.2 and lim.tracking_error == 0.03 and lim.turnover == Limits().turnover


# ---- covariance --------------------------------------------------------------------------------
def _returns(seed=0, t=300, p=6):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(t, p)) @ rng.normal(size=(p, p)) * 0.01


def test_ledoit_wolf_identity_equals_sklearn():
    from sklearn.covariance import LedoitWolf

    x = _returns()
    c, s = ledoit_wolf_identity(x)
    ref = LedoitWolf().fit(x)
    np.testing.assert_allclose(c, ref.covariance_, rtol=1e-10, atol=1e-16)
    assert s == pytest.approx(ref.shrinkage_, rel=1e-10)


def test_ledoit_wolf_constant_corr_equals_pypfopt():
    from pypfopt.risk_models import CovarianceShrinkage

    x = _returns(1, t=200, p=5)
    df = pd.DataFrame(x, columns=list("abcde"))
    ref = CovarianceShrinkage(df, returns_data=True, frequency=1).ledoit_wolf("constant_correlation")
    c, delta = ledoit_wolf_constant_corr(x)
    assert 0 < delta < 1
    # PyPortfolioOpt starts from the 1/(T-1) sample covariance while pi, rho and gamma use 1/T (the paper
    # uses 1/T throughout, as we do): rescaled, the two agree to the order of 1/T.
    t = len(x)
    np.testing.assert_allclose(c * t / (t - 1), ref.to_numpy(), rtol=3e-3, atol=1e-3 * np.abs(ref.to_numpy()).max())
    # the target keeps the sample variances and one average correlation
    d = np.sqrt(np.diag(c))
    corr = c / np.outer(d, d)
    xc = x - x.mean(0)
    s = xc.T @ xc / t
    np.testing.assert_allclose(np.diag(c), np.diag(s), rtol=1e-12)
    s_corr = s / np.outer(np.sqrt(np.diag(s)), np.sqrt(np.diag(s)))
    rbar = (s_corr.sum() - 5) / 20
    np.testing.assert_allclose(corr, delta * rbar + (1 - delta) * s_corr + np.eye(5) * delta * (1 - rbar), atol=1e-12)


def test_ewma_halflife_weights():
    x = np.array([[1.0], [2.0]])
    # weights 0.5 (older) and 1 (newer), normalized: (0.5*1 + 1*4)/1.5 = 3
    assert ewma_covariance(x, halflife=1.0)[0, 0] == pytest.approx(3.0)


def test_risk_model_excludes_young_sectors_and_has_no_lookahead():
    idx = pd.bdate_range("2015-01-01", periods=400)
    rng = np.random.default_rng(4)
    r = pd.DataFrame(rng.normal(0, 0.01, (400, len(TK))), index=idx, columns=TK)
    r.loc[: idx[250], "XLRE"] = np.nan
    r.loc[:, "XLC"] = np.nan
    t = idx[300]
    rm = risk_model(r, t, window=252)
    assert set(rm.excluded) == {"XLRE", "XLC"}
    assert (rm.cov.loc["XLRE"] == 0).all() and np.isfinite(rm.cov.to_numpy()).all()
    L = rm.factor
    np.testing.assert_allclose(L @ L.T, rm.cov.to_numpy(), atol=1e-14)
    later = r.copy()
    later.loc[idx[301]:] = 99.0          # the future changes wildly
    pd.testing.assert_frame_equal(risk_model(later, t, window=252).cov, rm.cov)
    later_rm = risk_model(r, idx[-1], window=100)
    assert "XLRE" in later_rm.investable
    with pytest.raises(NoDataError):
        risk_model(r, idx[10], window=252)


# ---- costs -------------------------------------------------------------------------------------
def test_cost_square_root_law_in_dollars():
    # Q = $50m of an asset with ADV $500m, sigma 1%/day, Y = 0.6: impact per dollar 0.6*0.01*sqrt(0.1)
    V, Q, adv, sig, Y = 1e9, 5e7, 5e8, 0.01, 0.6
    k = costs.impact_coefficients([sig], [adv], V, Y)
    dollars = costs.cost([Q / V], 0.0, k) * V
    assert dollars == pytest.approx(Q * Y * sig * math.sqrt(Q / adv), rel=1e-12)
    assert costs.cost([-0.1, 0.1], 10.0) == pytest.approx(2 * 0.1 * 10 / 1e4)
    assert costs.trade_bounds([1e9, np.nan], 1e10, 0.1, 2.0).tolist() == [0.02, 0.0]


# ---- expected returns --------------------------------------------------------------------------
def test_expected_returns_grinold_and_tilt():
    score = pd.Series([1.0, 2.0, 3.0, np.nan], index=["XLK", "XLE", "XLU", "XLC"])
    sigma = pd.Series(0.2, index=score.index)
    calm = expected_returns(score, sigma, "calm", ic=0.05, defensive_tilt=0.02)
    z = (np.array([1, 2, 3.0]) - 2) / np.std([1, 2, 3.0])
    np.testing.assert_allclose(calm[["XLK", "XLE", "XLU"]].to_numpy(), 0.05 * 0.2 * z)
    assert np.isnan(calm["XLC"])
    stress = expected_returns(score, sigma, "stress", ic=0.05, defensive_tilt=0.02)
    crisis = expected_returns(score, sigma, "crisis", ic=0.05, defensive_tilt=0.02)
    assert stress["XLU"] - calm["XLU"] == pytest.approx(0.02)
    assert crisis["XLU"] - calm["XLU"] == pytest.approx(0.04)
    assert stress["XLK"] - calm["XLK"] == pytest.approx(-0.02)      # out of tech under stress
    assert crisis["XLK"] - calm["XLK"] == pytest.approx(-0.04)
    assert stress["XLE"] == calm["XLE"]
    assert expected_returns(score, sigma, "crisis", ic=0.05, defensive_tilt=0.02, tech_tilt=0.0)["XLK"] == calm["XLK"]
    with pytest.raises(ArgumentError, match="regime"):
        expected_returns(score, sigma, "boom")


# ---- transition --------------------------------------------------------------------------------
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), steps=st.integers(1, 8), turnover=st.floats(0.02, 0.5))
def test_transition_respects_turnover_and_reaches_target(seed, steps, turnover):
    rng = np.random.default_rng(seed)
    cur = pd.Series(rng.dirichlet(np.ones(11)), index=TK)
    tgt = pd.Series(rng.dirichlet(np.ones(11)), index=TK)
    k = pd.Series(rng.uniform(0, 0.01, 11), index=TK)
    path = transition_path(cur, tgt, steps, Limits(turnover=turnover), impact=k)
    assert len(path) == steps + 1
    assert (path["turnover"] <= turnover + 1e-12).all()
    total = 0.5 * (tgt - cur).abs().sum()
    w = path[TK].to_numpy()
    for j in range(1, steps + 1):
        trade = w[j] - w[j - 1]
        assert path["cost_bps"].iloc[j] == pytest.approx(1e4 * costs.cost(trade, Limits().cost_bps, k.to_numpy()))
    if total <= turnover * steps + 1e-9:
        assert path.attrs["reached"]
        np.testing.assert_allclose(w[-1], tgt.to_numpy(), atol=1e-12)
    else:
        assert not path.attrs["reached"] and "not reached" in path.attrs["message"]
        need = path.attrs["steps_needed"]
        assert need == math.ceil(total / turnover - 1e-9) > steps
        assert path["turnover"].iloc[1:].sum() == pytest.approx(steps * total / need)


def test_transition_tech_35_to_25():
    cur = pd.Series(0.65 / 10, index=TK)
    cur["XLK"] = 0.35
    tgt = pd.Series(0.75 / 10, index=TK)
    tgt["XLK"] = 0.25
    k = pd.Series(0.005, index=TK)
    path = transition_path(cur, tgt, 4, Limits(turnover=0.05), impact=k)
    assert path["XLK"].tolist() == pytest.approx([0.35, 0.325, 0.30, 0.275, 0.25])
    one_shot = transition_path(cur, tgt, 1, Limits(turnover=0.5), impact=k)
    # equal slices are cheaper in total than one trade (3/2-power impact is convex)
    assert path["cost_bps"].sum() < one_shot["cost_bps"].sum()


@pytest.mark.parametrize("dtype", [None, object, "string[python]", "str"])
def test_same_index_reads_every_label_storage(dtype):
    """The fast label check (engine.optimize.problem._same_index) agrees with a plain list comparison whatever
    the index's storage: the default string dtype, object, the python string array; order and length matter."""
    from engine.optimize.problem import _same_index

    tk = ["XLB", "XLE", "XLF"]
    for labels in (tk, ["XLE", "XLB", "XLF"], tk[:2], tk + ["XLK"], ["XLB", "XLE", "XLK"]):
        ix = pd.Index(labels, dtype=dtype)
        assert _same_index(ix, tk) == (labels == tk)
    assert not _same_index(pd.Index([1, 2, 3]), tk)
