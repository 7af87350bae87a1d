"""=REBALANCE_TRADES(range, as_of) calls the same use case as `rotation trades` and never puts a traceback in a cell."""
from __future__ import annotations

import pytest


@pytest.fixture()
def udf(monkeypatch):
    monkeypatch.setenv("ROTATION_UDF_SOURCE", "demo")
    from udfs.functions import REBALANCE_TRADES

    return REBALANCE_TRADES


def test_rebalance_trades_udf_matches_the_use_case(udf):
    from udfs.runtime import current_market
    from usecases.trades import rebalance_trades

    rng = [["ticker", "shares", "acquired", "cost_basis"], ["XLK", 10000, "2019-01-02", 500000.0],
           ["XLU", 5000, None, None], ["CASH", 100000, None, None]]
    out = udf(rng, "2019-06-28")
    assert out[0] == ["ticker", "side", "shares", "notional", "expected_cost_bps"]
    r = rebalance_trades(current_market(), rng, "2019-06-28")
    assert [row[:3] for row in out[1:]] == [[o["ticker"], o["side"], o["shares"]] for o in r["orders"]]


def test_rebalance_trades_udf_errors_name_the_row(udf):
    out = udf([["ticker", "shares"], ["XLK", 10], ["QQQ", 5]], None)
    assert out.startswith("#ERROR: holdings range, line 3: unknown ticker 'QQQ'")
