"""Raw factors (closed forms), cross-sectional standardization, and no look-ahead of the panel."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from engine.data.model import Market
from engine.errors import ArgumentError, DataError
from engine.factors import raw
from engine.factors.compute import FACTORS, factor_panel, raw_factors
from engine.factors.standardize import standardize, winsorize_cross_section

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
SECT = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]


# ----------------------------------------------------------------------------- fixtures
def synthetic_market(n: int = 400, seed: int = 0, late: dict[str, int] | None = None) -> Market:
    """Random-walk prices for 9 sectors + SPY; ``late`` = {ticker: first row with data}."""
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2001-01-02", periods=n, name="date")
    cols = SECT + ["SPY"]
    r = rng.normal(0.0003, 0.012, (n, len(cols)))
    prices = pd.DataFrame(100 * np.exp(np.cumsum(r, axis=0)), index=idx, columns=cols)
    for t, first in (late or {}).items():
        prices.iloc[:first, prices.columns.get_loc(t)] = np.nan
    close = prices * 1.3
    volume = pd.DataFrame(rng.integers(1_000, 100_000, (n, len(cols))).astype(float), index=idx, columns=cols)
    volume = volume.where(prices.notna())
    stress = pd.DataFrame({"hy_oas": 4 + np.cumsum(rng.normal(0, 0.05, n))}, index=idx)
    return Market(prices=prices, close=close, volume=volume, stress=stress, reference=pd.DataFrame(), label="test")


def _private_load(folder: Path) -> Market:
    frames = {}
    for f in sorted((folder / "prices" / "yahoo").glob("*.csv")):
        frames[f.stem] = pd.read_csv(f, parse_dates=["Date"], index_col="Date")
    idx = frames["SPY"].index.rename("date")
    pick = lambda c: pd.DataFrame({k: v[c] for k, v in frames.items()}).reindex(idx)  # noqa: E731
    hy = pd.read_csv(folder / "fred" / "BAMLH0A0HYM2.csv", parse_dates=["observation_date"],
                     index_col="observation_date")["BAMLH0A0HYM2"]
    stress = pd.DataFrame({"hy_oas": hy.reindex(idx).ffill(limit=5)})
    return Market(prices=pick("Adj Close"), close=pick("Close"), volume=pick("Volume"), stress=stress,
                  reference=pd.DataFrame(), label="real")


_REAL: dict = {}


def real_market() -> Market:
    """The vendor data in ../shared/data (lead's loader if present, else a private one); skips if absent."""
    if not (DATA / "prices" / "yahoo").is_dir():
        pytest.skip("../shared/data not available")
    if "m" not in _REAL:
        try:
            from engine.data.folder import load_folder
            _REAL["m"] = load_folder(DATA)
        except ImportError:
            _REAL["m"] = _private_load(DATA)
    return _REAL["m"]


def proxy_stress(market: Market) -> pd.Series:
    """Expanding z-score of the HY OAS (uses data up to t only)."""
    hy = market.stress["hy_oas"]
    return (hy - hy.expanding(63).mean()) / hy.expanding(63).std()


# ----------------------------------------------------------------------------- raw factors
def test_momentum_and_trend_closed_form():
    m = synthetic_market()
    p = m.prices[SECT]
    t = 300
    mom = raw.momentum(p, 126)
    np.testing.assert_allclose(mom.iloc[t], p.iloc[t] / p.iloc[t - 126] - 1)
    m121 = raw.momentum(p, 252, 21)
    np.testing.assert_allclose(m121.iloc[t], p.iloc[t - 21] / p.iloc[t - 252] - 1)
    assert m121.iloc[251].isna().all() and m121.iloc[252].notna().all()
    tr = raw.trend(p, 200)
    np.testing.assert_allclose(tr.iloc[t], p.iloc[t] / p.iloc[t - 199:t + 1].mean() - 1)
    assert tr.iloc[198].isna().all() and tr.iloc[199].notna().all()


def test_low_vol_matches_numpy():
    p = synthetic_market().prices[SECT]
    lv = raw.low_volatility(p, 63)
    t = 250
    lr = np.log(p.iloc[t - 63:t + 1].to_numpy())
    expected = -np.diff(lr, axis=0).std(axis=0, ddof=1) * np.sqrt(252)
    np.testing.assert_allclose(lv.iloc[t].to_numpy(), expected, rtol=1e-10)
    assert (lv.dropna(how="all") < 0).all().all()


def test_stress_beta_and_correlation_match_ols_and_corrcoef():
    m = synthetic_market()
    s = proxy_stress(m)
    pb = m.prices
    t = 350
    beta = raw.stress_beta(pb, s, "SPY", 126)
    corr = raw.correlation_to(pb, "SPY", 126)
    r = pb.pct_change(fill_method=None).iloc[t - 125:t + 1]
    ds = s.diff().iloc[t - 125:t + 1].to_numpy()
    for c in SECT:
        ex = (r[c] - r["SPY"]).to_numpy()
        slope = np.polyfit(ds, ex, 1)[0]
        assert beta[c].iloc[t] == pytest.approx(slope, rel=1e-8)
        assert corr[c].iloc[t] == pytest.approx(np.corrcoef(r[c], r["SPY"])[0, 1], rel=1e-8)
    assert "SPY" not in beta.columns


def test_stress_beta_sign_favours_sector_that_gains_when_stress_rises():
    n = 300
    idx = pd.bdate_range("2005-01-03", periods=n, name="date")
    rng = np.random.default_rng(3)
    ds = rng.normal(0, 1, n)
    spy = rng.normal(0, 0.01, n)
    defensive = spy + 0.002 * ds          # beats SPY when stress rises
    cyclical = spy - 0.002 * ds
    ret = pd.DataFrame({"XLU": defensive, "XLE": cyclical, "SPY": spy}, index=idx)
    prices = 100 * (1 + ret).cumprod()
    b = raw.stress_beta(prices, pd.Series(np.cumsum(ds), index=idx), "SPY", 126).iloc[-1]
    assert b["XLU"] > 0 > b["XLE"]
    assert b["XLU"] == pytest.approx(0.002, rel=1e-6)  # excess return is exactly 0.002 * d stress


def test_liquidity_is_log_mean_dollar_volume():
    m = synthetic_market()
    liq = raw.liquidity(m.close[SECT], m.volume[SECT], 63)
    t = 200
    dv = (m.close[SECT] * m.volume[SECT]).iloc[t - 62:t + 1].mean()
    np.testing.assert_allclose(liq.iloc[t], np.log(dv))


def test_bad_arguments_are_typed_errors():
    m = synthetic_market()
    with pytest.raises(ArgumentError, match="lookback"):
        raw.momentum(m.prices, 1)
    with pytest.raises(ArgumentError, match="skip"):
        raw.momentum(m.prices, 20, 20)
    with pytest.raises(ArgumentError, match="stress_index"):
        raw.stress_beta(m.prices, [1, 2, 3])
    with pytest.raises(DataError, match="SPY"):
        raw.correlation_to(m.prices.drop(columns=["SPY"]))
    with pytest.raises(ArgumentError, match="method"):
        standardize(m.prices, method="minmax")


# ----------------------------------------------------------------------------- standardization
row_values = arrays(np.float64, st.integers(3, 11),
                    elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


@settings(max_examples=40, deadline=None)
@given(row_values, st.sampled_from(["rank", "zscore"]))
def test_standardized_rows_have_mean0_sd1_and_keep_order(values, method):
    df = pd.DataFrame([values])
    z = standardize(df, method=method).iloc[0].to_numpy()
    if np.ptp(values) == 0 or (method == "rank" and len(np.unique(values)) == 1):
        assert np.isnan(z).all()
        return
    if np.isnan(z).all():   # zscore: dispersion vanished after winsorization
        return
    assert np.nanmean(z) == pytest.approx(0, abs=1e-9)
    assert np.nanstd(z) == pytest.approx(1, abs=1e-9)
    order = np.argsort(values, kind="stable")
    assert np.all(np.diff(z[order]) >= -1e-9)  # weakly monotone in the raw value


int_rows = arrays(np.float64, st.integers(3, 11), elements=st.integers(-1000, 1000).map(float))


@settings(max_examples=40, deadline=None)
@given(int_rows)
def test_rank_scores_invariant_to_monotone_transform_and_bounded(values):
    df = pd.DataFrame([values])
    z1 = standardize(df).to_numpy()
    z2 = standardize(np.sign(df) * np.abs(df) ** 3 + 5).to_numpy()
    np.testing.assert_allclose(z1, z2, atol=1e-9, equal_nan=True)
    n = len(values)
    # bounded: an outlier gets at most the score of the top rank among n
    assert np.nanmax(np.abs(z1), initial=0) <= 1.1 * np.sqrt(n)


def test_rank_scores_ignore_missing_sectors_and_need_min_count():
    df = pd.DataFrame([[1.0, 2.0, 3.0, np.nan], [1.0, np.nan, np.nan, np.nan]], columns=list("abcd"))
    z = standardize(df)
    assert np.isnan(z.loc[0, "d"]) and z.loc[0, ["a", "b", "c"]].notna().all()
    assert z.loc[0, "b"] == pytest.approx(0.0, abs=1e-12)
    assert z.loc[0, "a"] == pytest.approx(-z.loc[0, "c"])
    assert z.loc[1].isna().all()


def test_winsorize_clips_outlier_only():
    df = pd.DataFrame([[1.0, 2.0, 3.0, 4.0, 1000.0]])
    w = winsorize_cross_section(df, 3.0).iloc[0]
    assert w.iloc[:4].tolist() == [1.0, 2.0, 3.0, 4.0]
    assert w.iloc[4] == pytest.approx(3.0 + 3 * 1.4826 * 1.0)


# ----------------------------------------------------------------------------- panel
def test_panel_excludes_sectors_without_data_and_is_not_filled():
    m = synthetic_market(n=500, late={"XLU": 300})
    s = proxy_stress(m)
    panel = factor_panel(m, s)
    assert set(panel) == set(FACTORS)
    for name, f in panel.items():
        assert f.iloc[:300]["XLU"].isna().all(), name
        full = f.iloc[299].dropna()
        if len(full):
            assert full.mean() == pytest.approx(0, abs=1e-9)
    # XLU gets momentum exactly 126 sessions after its first price
    mom = panel["mom_126"]["XLU"]
    assert mom.iloc[300 + 125] != mom.iloc[300 + 125]  # NaN
    assert np.isfinite(mom.iloc[300 + 126])


def test_panel_no_look_ahead_synthetic():
    m = synthetic_market(n=420, seed=5)
    s = proxy_stress(m)
    full = factor_panel(m, s)
    rawf = raw_factors(m, s)
    for t in (m.sessions[280], m.sessions[350]):
        cut = m.asof(t)
        part = factor_panel(cut, s.loc[:t])
        rawp = raw_factors(cut, s.loc[:t])
        for name in FACTORS:
            pd.testing.assert_series_equal(part[name].loc[t], full[name].loc[t], rtol=1e-12, atol=1e-12)
            pd.testing.assert_series_equal(rawp[name].loc[t], rawf[name].loc[t], rtol=1e-12, atol=1e-12)


@pytest.mark.realdata
def test_real_panel_listing_dates_and_no_look_ahead():
    m = real_market()
    s = proxy_stress(m)
    panel = factor_panel(m, s)
    mom = panel["mom_126"]
    assert mom.loc[:"2015-10-07", "XLRE"].isna().all()
    assert mom.loc[:"2018-06-18", "XLC"].isna().all()
    assert mom.loc["2019-12-31"].notna().sum() == 11
    assert mom.loc["2010-06-30"].notna().sum() == 9
    # stress beta of staples above energy's in 2008-10 (defensives gain as stress rises)
    sb = raw_factors(m, s)["stress_beta_126"].loc["2008-10-10"]
    assert sb["XLP"] > sb["XLE"]
    for t in ("2008-10-10", "2016-03-01"):
        cut = m.asof(t)
        part = factor_panel(cut, proxy_stress(cut))
        for name in FACTORS:
            pd.testing.assert_series_equal(part[name].loc[t], panel[name].loc[t], rtol=1e-9, atol=1e-10)
