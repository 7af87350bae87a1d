"""Excel worksheet functions of the Sector Rotation add-in (xlwings UDFs).

Each function is a thin face: convert Excel arguments, call the same use case as the command
line, return a value or a short error text. No computation lives here.
"""
from __future__ import annotations

import xlwings as xw

from udfs.runtime import as_of_arg, cell_errors, current_market
from usecases import signals

CATEGORY = "Sector Rotation"


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc="Date of the reading (a date cell, text like 2008-10-10, or empty for the latest session).")
@cell_errors
def BOND_STRESS(as_of=None):
    """Composite bond stress index (standard-deviation units; 0 = average stress) at a date."""
    return signals.bond_stress_value(current_market(), as_of_arg(as_of))


@xw.func(category=CATEGORY)
@xw.arg("holdings", ndim=2, doc="Holdings range: header ticker, shares[, acquired, cost_basis]; one row per lot; CASH and NAV rows allowed.")
@xw.arg("as_of", doc="Decision date (a date cell, text like 2008-10-10, or empty for the latest session).")
@cell_errors
def REBALANCE_TRADES(holdings, as_of=None):
    """Rebalance orders in whole shares from the holdings to the first step of the transition: ticker, side, shares, notional, expected cost (bps)."""
    from usecases.trades import rebalance_trades

    r = rebalance_trades(current_market(), holdings, as_of_arg(as_of))
    rows = [[o["ticker"], o["side"], o["shares"], round(o["notional"], 2), round(o["expected_cost_bps"], 2)]
            for o in r["orders"]]
    return [["ticker", "side", "shares", "notional", "expected_cost_bps"]] + rows
