"""Composite score: equal and IC weighting, weights from past data only, no look-ahead."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.errors import ArgumentError
from engine.factors.composite import composite_score, ic_weights
from engine.factors.compute import FACTORS, factor_panel
from engine.factors.ic import forward_returns, rank_ic
from engine.factors.standardize import standardize
from test_factors_compute import proxy_stress, real_market, synthetic_market

SECT = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]


def _prices(n=700, seed=11):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2004-01-02", periods=n, name="date")
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, len(SECT))), axis=0)),
                        index=idx, columns=SECT)


def test_equal_weight_is_rank_of_mean_with_signs():
    idx = pd.bdate_range("2010-01-01", periods=1)
    a = pd.DataFrame([[1.0, 2.0, 3.0, 4.0]], index=idx, columns=list("wxyz"))
    b = pd.DataFrame([[4.0, 3.0, 2.0, np.nan]], index=idx, columns=list("wxyz"))
    panel = {"a": standardize(a), "b": standardize(b)}
    c = composite_score(panel, "equal")
    raw = pd.concat([panel["a"], panel["b"]]).mean()  # nan skipped
    np.testing.assert_allclose(c.iloc[0], standardize(raw.to_frame().T).iloc[0])
    flipped = composite_score(panel, "equal", signs={"b": -1.0})
    assert list(flipped.iloc[0].rank()) == [1.0, 2.0, 3.0, 4.0]


def test_ic_weights_use_only_ics_whose_window_ended():
    """A factor that predicts the 21-day return perfectly only from row 400 on: its weight may
    react only at row 400 + 21, when the first such IC becomes known."""
    p = _prices()
    h = 21
    fwd = forward_returns(p, h)
    rng = np.random.default_rng(0)
    noise = pd.DataFrame(rng.normal(size=p.shape), index=p.index, columns=p.columns)
    switch = noise.copy()
    switch.iloc[400:] = fwd.iloc[400:]
    panel = {"noise": standardize(noise), "switch": standardize(switch)}
    w = ic_weights(panel, p, h, window=50, min_obs=50)
    before = w["switch"].iloc[400 + h - 1]
    after = w["switch"].iloc[400 + h]
    assert w.iloc[: 50 + h - 1].isna().all().all()      # min_obs known ICs needed
    assert w.iloc[50 + h].notna().all()
    assert after > before                              # first perfect IC enters exactly at t = 400 + h
    # 60 rows later the 50-IC window holds only perfect ICs: mean 1, so w = 1 / (1 + |mean noise IC|)
    row = 400 + h + 60
    noise_ic = rank_ic(panel["noise"], fwd).iloc[row - h - 49: row - h + 1].mean()
    assert w["switch"].iloc[row] == pytest.approx(1 / (1 + abs(noise_ic)), rel=1e-12)
    assert w["noise"].iloc[row] == pytest.approx(noise_ic / (1 + abs(noise_ic)), rel=1e-12)
    np.testing.assert_allclose(w.dropna().abs().sum(axis=1), 1.0)


def test_ic_weighted_composite_ranks_like_the_known_good_factor():
    p = _prices(900, seed=5)
    fwd = forward_returns(p, 21)
    rng = np.random.default_rng(1)
    good = fwd + rng.normal(0, fwd.std().mean() * 0.5, fwd.shape)   # informative (uses the future on purpose)
    bad = pd.DataFrame(rng.normal(size=p.shape), index=p.index, columns=p.columns)
    panel = {"good": standardize(good), "bad": standardize(-good + 3 * bad)}
    c = composite_score(panel, "ic", prices=p, horizon=21, min_obs=100)
    t = p.index[700]
    corr_good = np.corrcoef(c.loc[t], panel["good"].loc[t])[0, 1]
    assert corr_good > 0.9
    with pytest.raises(ArgumentError, match="prices"):
        composite_score(panel, "ic")
    with pytest.raises(ArgumentError, match="method"):
        composite_score(panel, "best")


def test_composite_no_look_ahead_synthetic():
    m = synthetic_market(n=700, seed=2)
    s = proxy_stress(m)
    full_panel = factor_panel(m, s)
    full_eq = composite_score(full_panel, "equal")
    full_ic = composite_score(full_panel, "ic", prices=m.prices, min_obs=60)
    for t in (m.sessions[450], m.sessions[600]):
        cut = m.asof(t)
        panel = factor_panel(cut, s.loc[:t])
        pd.testing.assert_series_equal(composite_score(panel, "equal").loc[t], full_eq.loc[t])
        part_ic = composite_score(panel, "ic", prices=cut.prices, min_obs=60).loc[t]
        assert part_ic.notna().sum() >= 5
        pd.testing.assert_series_equal(part_ic, full_ic.loc[t], rtol=1e-10, atol=1e-12)


@pytest.mark.realdata
def test_composite_no_look_ahead_real_data():
    m = real_market()
    full_panel = factor_panel(m, proxy_stress(m))
    full = composite_score(full_panel, "ic", prices=m.prices)
    t = pd.Timestamp("2008-10-10")
    cut = m.asof(t)
    part = composite_score(factor_panel(cut, proxy_stress(cut)), "ic", prices=cut.prices)
    assert part.loc[t].notna().sum() == 9
    pd.testing.assert_series_equal(part.loc[t], full.loc[t], rtol=1e-9, atol=1e-10)
    assert set(full_panel) == set(FACTORS)
