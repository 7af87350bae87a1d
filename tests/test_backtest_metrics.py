"""Metrics equal empyrical-reloaded's to 1e-8 on random and real series; the CSV reproduces them."""
from __future__ import annotations

import empyrical as ep
import numpy as np
import pandas as pd
import pytest

from engine.backtest import metrics as M


def _pairs(r, b, rf):
    return [
        (M.total_return(r), ep.cum_returns_final(r)),
        (M.annual_return(r), ep.annual_return(r)),
        (M.volatility(r), ep.annual_volatility(r)),
        (M.sharpe(r), ep.sharpe_ratio(r)),
        (M.sharpe(r, rf), ep.sharpe_ratio(r, risk_free=rf)),
        (M.sortino(r), ep.sortino_ratio(r)),
        (M.max_drawdown(r)["value"], ep.max_drawdown(r)),
        (M.calmar(r), ep.calmar_ratio(r)),
        (M.alpha_beta(r, b)["beta"], ep.beta(r, b)),
        (M.alpha_beta(r, b)["alpha"], ep.alpha(r, b)),
    ]


def check(r, b, rf):
    for ours, theirs in _pairs(r, b, rf):
        assert ours == pytest.approx(float(theirs), rel=1e-8, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_equal_to_empyrical_random(seed):
    rng = np.random.default_rng(seed)
    idx = pd.bdate_range("2001-01-01", periods=700)
    b = pd.Series(rng.normal(3e-4, 0.012, 700), index=idx)
    r = 0.3 * b + pd.Series(rng.standard_t(4, 700) * 0.008 + 2e-4, index=idx)
    rf = pd.Series(rng.uniform(0, 2e-4, 700), index=idx)
    check(r, b, rf)


def test_drawdown_dates_and_win_rates():
    idx = pd.bdate_range("2020-01-01", periods=6)
    r = pd.Series([0.1, -0.2, 0.05, 0.2, -0.01, 0.01], index=idx)
    mdd = M.max_drawdown(r)
    assert mdd["value"] == pytest.approx(-0.2)
    assert (mdd["peak"], mdd["trough"], mdd["recovery"]) == ("2020-01-01", "2020-01-02", "2020-01-06")
    assert M.win_rates(r)[0] == pytest.approx(4 / 6)
    assert M.cagr(r, start=idx[0] - pd.Timedelta(days=1)) == pytest.approx(
        (1 + M.total_return(r)) ** (365.25 / 8) - 1)


def test_backtest_csv_reproduces_metrics_with_empyrical(real_market, tmp_path):
    from usecases.backtest import run_backtest, write_daily_csv

    res = run_backtest(real_market, "momentum", start="2005-01-01", end="2019-12-31")
    path = tmp_path / "daily.csv"
    write_daily_csv(res, path)
    df = pd.read_csv(path, parse_dates=["date"], index_col="date")
    assert list(df.columns) == ["nav", "return", "benchmark_return", "spy_return", "leverage", "turnover", "cost"]
    m = res.metrics
    r, spy = df["return"], df["spy_return"]
    assert m["total_return"] == pytest.approx(ep.cum_returns_final(r), rel=1e-8)
    assert m["annual_return"] == pytest.approx(ep.annual_return(r), rel=1e-8)
    assert m["volatility"] == pytest.approx(ep.annual_volatility(r), rel=1e-8)
    assert m["sharpe"] == pytest.approx(ep.sharpe_ratio(r), rel=1e-8)
    assert m["sortino"] == pytest.approx(ep.sortino_ratio(r), rel=1e-8)
    assert m["max_drawdown"] == pytest.approx(ep.max_drawdown(r), rel=1e-8)
    assert m["calmar"] == pytest.approx(ep.calmar_ratio(r), rel=1e-8)
    assert m["beta"] == pytest.approx(ep.beta(r, spy), rel=1e-8)
    assert m["alpha"] == pytest.approx(ep.alpha(r, spy), rel=1e-8)
    check(r, spy, 0.0)
    # the NAV column compounds the returns
    assert df["nav"].iloc[-1] / 1e9 == pytest.approx((1 + r).prod(), rel=1e-12)
