"""Trade-list benchmarks: 500 tax lots across 11 tickers to a whole-share trade list with lot selection
(target < 50 ms), and a 5-day VWAP schedule of 11 parent orders in 30-minute buckets (target < 20 ms).

Run: python bench/run.py trades
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from harness import Row

from engine.costs import CostModel
from engine.trades.holdings import Lot
from engine.trades.schedule import ScheduleOptions, schedule_orders
from engine.trades.tax import TaxSettings, select_lots, summarize, wash_sales
from engine.trades.tradelist import Market1, trade_step
from engine.universe import SECTORS

TK = list(SECTORS)
_rng = np.random.default_rng(10)
PRICE = pd.Series(_rng.uniform(20, 120, 11), index=TK)
LOTS = [Lot(TK[i % 11], int(_rng.integers(1_000, 200_000)), date(2015, 1, 2) + timedelta(days=int(_rng.integers(0, 1800))),
            0.0, i + 2) for i in range(500)]
LOTS = [Lot(lot.ticker, lot.shares, lot.acquired, lot.shares * PRICE[lot.ticker] * float(_rng.uniform(0.6, 1.4)), lot.line)
        for lot in LOTS]
SHARES = pd.Series({t: sum(lot.shares for lot in LOTS if lot.ticker == t) for t in TK})
TARGET = pd.Series(_rng.dirichlet(np.ones(11)), index=TK)
MKT = Market1(PRICE, pd.Series(0.02, index=TK), pd.Series(_rng.uniform(1e8, 2e9, 11), index=TK))
MODEL = CostModel()
SOLD = date(2020, 6, 15)


def trade_list_with_lots(method: str):
    settings = TaxSettings(lot_method=method)
    res = trade_step(SHARES, 1e6, TARGET, MKT, MODEL)
    sales = []
    for tk, q in res.orders.items():
        if q < 0:
            sales += select_lots([lot for lot in LOTS if lot.ticker == tk], int(-q), float(PRICE[tk]), SOLD, settings)
    buys = [(tk, SOLD, int(q)) for tk, q in res.orders.items() if q > 0]
    return summarize(sales, settings), wash_sales(sales, buys, settings)


PARENTS = pd.DataFrame([{"parent_id": f"P{i}", "ticker": t, "side": "buy" if i % 2 else "sell",
                         "shares": int(_rng.integers(100_000, 3_000_000))} for i, t in enumerate(TK)])
ADV = pd.Series(_rng.uniform(5e6, 4e7, 11), index=TK)


def vwap_5_days(_=None):
    return schedule_orders(PARENTS, "2019-03-01", 5, ADV, ScheduleOptions("vwap", 0.10))


def rows() -> list[Row]:
    return [
        Row("trade list + lots: 500 lots, 11 tickers (fifo)", lambda _: trade_list_with_lots("fifo"), 0.050),
        Row("trade list + lots: 500 lots, 11 tickers (min_tax)", lambda _: trade_list_with_lots("min_tax"), 0.050),
        Row("5-day VWAP schedule, 11 parents, 30-min buckets", vwap_5_days, 0.020),
    ]
