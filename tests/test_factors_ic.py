"""IC testing: known answers, cross-checks with scipy and statsmodels, timing of forward returns."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings, strategies as st
from scipy.stats import spearmanr

from engine.errors import ArgumentError
from engine.factors import ic as icm

SECT = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY", "XLRE", "XLC"]


def random_prices(n=600, seed=1):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2003-01-02", periods=n, name="date")
    return pd.DataFrame(100 * np.exp(np.cumsum(rng.normal(0, 0.01, (n, len(SECT))), axis=0)), index=idx, columns=SECT)


def test_forward_return_is_from_t_to_t_plus_h():
    p = random_prices(50)
    f = icm.forward_returns(p, 5)
    np.testing.assert_allclose(f.iloc[10], p.iloc[15] / p.iloc[10] - 1)
    assert f.iloc[-5:].isna().all().all() and f.iloc[-6].notna().all()


@pytest.mark.parametrize("h", [1, 5, 21, 63])
def test_factor_equal_to_forward_return_has_ic_plus_one_and_negative_minus_one(h):
    p = random_prices()
    fwd = icm.forward_returns(p, h)
    plus = icm.rank_ic(fwd, fwd)
    minus = icm.rank_ic(-fwd, fwd)
    valid = plus.dropna()
    assert len(valid) == len(p) - h
    np.testing.assert_allclose(valid, 1.0, atol=1e-12)
    np.testing.assert_allclose(minus.dropna(), -1.0, atol=1e-12)
    st_ = icm.ic_stats(plus, h)
    assert st_["mean_ic"] == pytest.approx(1.0) and st_["hit_rate"] == 1.0
    assert icm.ic_stats(minus, h)["hit_rate"] == 0.0


def test_shuffled_factor_has_ic_near_zero_and_insignificant():
    p = random_prices(1500, seed=2)
    fwd = icm.forward_returns(p, 21)
    rng = np.random.default_rng(9)
    shuffled = pd.DataFrame(rng.permuted(fwd.to_numpy(), axis=1), index=fwd.index, columns=fwd.columns)
    s = icm.ic_stats(icm.rank_ic(shuffled, fwd), 21)
    assert abs(s["mean_ic"]) < 0.05
    assert abs(s["t_stat"]) < 3.0
    assert 0.4 < s["hit_rate"] < 0.6


def test_rank_ic_matches_scipy_with_missing_sectors_and_ties():
    rng = np.random.default_rng(4)
    idx = pd.bdate_range("2010-01-01", periods=40)
    f = pd.DataFrame(rng.integers(0, 4, (40, 11)).astype(float), index=idx, columns=SECT)  # ties
    r = pd.DataFrame(rng.normal(size=(40, 11)), index=idx, columns=SECT)
    f.iloc[:, 9:] = np.nan            # XLRE/XLC not listed yet
    r.iloc[::7, 0] = np.nan
    ic = icm.rank_ic(f, r)
    for i in range(40):
        m = f.iloc[i].notna() & r.iloc[i].notna()
        expected = spearmanr(f.iloc[i][m], r.iloc[i][m]).statistic
        assert ic.iloc[i] == pytest.approx(expected, abs=1e-12)


def test_rank_ic_needs_min_count_sectors():
    idx = pd.bdate_range("2010-01-01", periods=2)
    f = pd.DataFrame([[1, 2, 3, 4, np.nan], [1, 2, 3, 4, 5]], index=idx, columns=list("abcde"), dtype=float)
    ic = icm.rank_ic(f, f, min_count=5)
    assert np.isnan(ic.iloc[0]) and ic.iloc[1] == pytest.approx(1.0)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(0, 12), st.integers(30, 300))
def test_newey_west_matches_statsmodels_hac(seed, lags, n):
    rng = np.random.default_rng(seed)
    e = rng.normal(size=n + 5)
    x = 0.1 + np.convolve(e, np.ones(5) / 5, mode="valid")[:n]   # MA(4): overlapping-window-like
    mean, se = icm.newey_west(x, lags)
    res = sm.OLS(x, np.ones(n)).fit(cov_type="HAC", cov_kwds={"maxlags": lags, "use_correction": False})
    assert mean == pytest.approx(res.params[0], rel=1e-12)
    assert se == pytest.approx(res.bse[0], rel=1e-9)


def test_t_stat_uses_at_least_h_minus_1_lags_and_deflates_overlap():
    p = random_prices(1200, seed=7)
    fwd = icm.forward_returns(p, 21)
    rng = np.random.default_rng(1)
    noisy = fwd + rng.normal(0, fwd.std().mean() * 3, fwd.shape)
    ic = icm.rank_ic(noisy, fwd)
    with pytest.raises(ArgumentError, match="lags"):
        icm.ic_stats(ic, 21, lags=5)
    hac = icm.ic_stats(ic, 21)
    naive = ic.mean() / (ic.std() / np.sqrt(ic.count()))
    assert hac["lags"] == 21
    # overlapping 21-day windows make daily ICs positively autocorrelated: HAC t is smaller
    assert abs(hac["t_stat"]) < abs(naive)
    res = sm.OLS(ic.dropna().to_numpy(), np.ones(ic.count())).fit(
        cov_type="HAC", cov_kwds={"maxlags": 21, "use_correction": False})
    assert hac["t_stat"] == pytest.approx(res.tvalues[0], rel=1e-9)


def test_ic_stats_closed_form_on_small_series():
    ic = pd.Series([0.5, -0.1, 0.2, np.nan, 0.4])
    s = icm.ic_stats(ic, 1, lags=0)
    v = np.array([0.5, -0.1, 0.2, 0.4])
    assert s["n"] == 4 and s["hit_rate"] == 0.75
    assert s["mean_ic"] == pytest.approx(v.mean())
    assert s["ic_ir"] == pytest.approx(v.mean() / v.std(ddof=1))
    assert s["t_stat"] == pytest.approx(v.mean() / (v.std(ddof=0) / 2))


def test_table_regime_split_and_decay():
    p = random_prices(800, seed=3)
    f5 = icm.forward_returns(p, 5)
    panel = {"perfect5": f5, "anti5": -f5}
    ics = icm.daily_ics(panel, p, (5, 21, 63))
    table = icm.ic_table(ics)
    assert list(table.index.names) == ["factor", "horizon"]
    assert table.loc[("perfect5", 5), "mean_ic"] == pytest.approx(1.0)
    assert table.loc[("anti5", 5), "mean_ic"] == pytest.approx(-1.0)
    decay = icm.ic_decay(table)
    assert list(decay.columns) == [5, 21, 63]
    # the 5-day forward return explains less and less of longer windows
    d = decay.loc["perfect5"]
    assert d[5] > d[21] > d[63] > 0
    regimes = pd.Series(np.where(np.arange(len(p)) < 400, "calm", "stress"), index=p.index)
    ic = ics[("perfect5", 5)].copy()
    ic.iloc[400:] = -ic.iloc[400:]
    by = icm.ic_by_regime(ic, regimes, 5)
    assert by.loc["calm", "mean_ic"] == pytest.approx(1.0)
    assert by.loc["stress", "mean_ic"] == pytest.approx(-1.0)
    assert by.loc["calm", "n"] == 400 and by.loc["stress", "n"] == 400 - 5


def test_known_ics_are_relabelled_at_t_plus_h():
    idx = pd.bdate_range("2010-01-01", periods=10)
    ic = pd.Series(np.arange(10.0), index=idx)
    k = icm.known_ics(ic, 3)
    assert k.iloc[3] == 0.0 and k.iloc[:3].isna().all() and k.iloc[-1] == 6.0


def test_bad_horizon_is_typed_error():
    with pytest.raises(ArgumentError, match="horizon"):
        icm.forward_returns(random_prices(10), 0)
