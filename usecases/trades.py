"""Rebalance trades: "given what I hold, what do I send to the desk, when, at what expected cost and
tax?" ``rotation trades``, the ribbon's Generate Trades button and ``=REBALANCE_TRADES()`` call
:func:`rebalance_trades`; ``rotation slippage`` calls :func:`slippage_report`.

Pipeline at the decision date D (data up to D only): holdings valued at D's closes -> current
weights -> allocator + multi-step transition (every per-step limit; liquidity = the schedule's
participation x ADV x days) -> whole-share orders per step (CostModel costs, cash-feasible) -> tax
lots, gains, wash sales -> TWAP/VWAP child orders from D+1 on the NYSE calendar -> CSV / FIX.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.model import Market
from engine.errors import ArgumentError, DataError
from engine.optimize.costs import average_dollar_volume
from engine.optimize.covariance import risk_model
from engine.optimize.limits import Limits
from engine.optimize.multistep import cost_model_of
from engine.trades import tax as taxmod
from engine.trades.holdings import Holdings, Lot, parse_rows, read_holdings
from engine.trades.schedule import ScheduleOptions, schedule_orders
from engine.trades.tradelist import Market1, TradeOptions, trade_step
from engine.universe import SECTORS
from usecases.context import decision_date

TICKERS = list(SECTORS)
# the per-step liquidity limit is this share of the schedule's capacity (participation x ADV shares x
# days, at the decision price), so that whole-share rounding and the cost reserve still fit the caps
LIQUIDITY_MARGIN = 0.995


def load_holdings(holdings) -> Holdings:
    """Holdings from a Holdings, a CSV path, or a 2-D list of cells (an Excel/Calc range)."""
    if isinstance(holdings, Holdings):
        return holdings
    if isinstance(holdings, (str, Path)):
        return read_holdings(holdings)
    if isinstance(holdings, (list, tuple)):
        return parse_rows(holdings, "holdings range", 1)
    raise ArgumentError("holdings", f"expected a CSV path or a range of cells, got {type(holdings).__name__}")


@dataclass
class _Inputs:
    t: pd.Timestamp
    price: pd.Series
    sigma: pd.Series
    adv_dollars: pd.Series
    adv_shares: pd.Series


def _inputs(market: Market, t: pd.Timestamp, held: pd.Series) -> _Inputs:
    close = market.close[TICKERS].loc[:t]
    price = close.iloc[-1]
    stale = [tk for tk in held.index if held[tk] > 0 and not price.get(tk, np.nan) > 0]
    if stale:
        raise DataError(f"no close on {t.date()} for held {', '.join(stale)}")
    rets = market.prices[TICKERS].pct_change(fill_method=None)
    cov = risk_model(rets, t).cov.reindex(index=TICKERS, columns=TICKERS)
    sigma = pd.Series(np.sqrt(np.clip(np.diag(cov.to_numpy(float)), 0, None)) / np.sqrt(252), index=TICKERS)
    adv_d = average_dollar_volume(market.close[TICKERS], market.volume[TICKERS], t).reindex(TICKERS)
    adv_s = market.volume[TICKERS].loc[:t].iloc[-63:].mean().reindex(TICKERS)     # shares, 63 sessions to D
    return _Inputs(t, price, sigma, adv_d, adv_s)


def _sells(lots: list[Lot], orders: pd.Series, price: pd.Series, day, settings) -> tuple[dict, list]:
    by, sales = {}, []
    for tk, q in orders.items():
        if q < 0:
            by[tk] = taxmod.select_lots([lot for lot in lots if lot.ticker == tk], int(-q), float(price[tk]), day,
                                        settings)
            sales += by[tk]
    return by, sales


def _run_step(k, book, target, inp, model, opts, sopts, settings, days, start_after, first_parent):
    shares, cash, lots = book
    res = trade_step(shares, cash, target, Market1(inp.price, inp.sigma, inp.adv_dollars), model, opts)
    parents = pd.DataFrame([{"parent_id": f"S{k}-{i + first_parent:03d}", "ticker": tk,
                             "side": "buy" if q > 0 else "sell", "shares": abs(int(q))}
                            for i, (tk, q) in enumerate(res.orders.items())],
                           columns=["parent_id", "ticker", "side", "shares"])
    children, needed = schedule_orders(parents, start_after, days, inp.adv_shares, sopts)
    day0 = children["date"].min() if len(children) else None
    by_lot, sales = _sells(lots, res.orders, inp.price, day0, settings)
    lots = taxmod.remaining_lots(lots, sales)
    for tk, q in res.orders.items():
        if q > 0:
            lots.append(Lot(tk, int(q), day0, float(q * inp.price[tk]), None))
    return res, parents, children, needed, by_lot, sales, (res.shares_after, res.cash_after, lots)


def _order_rows(k, res, parents, children, by_lot, inp) -> list[dict]:
    out = []
    for p in parents.itertuples(index=False):
        tk = p.ticker
        notional = float(p.shares * inp.price[tk])
        ch = children[children["parent_id"] == p.parent_id]
        out.append({"step": k, "parent_id": p.parent_id, "ticker": tk, "side": p.side, "shares": int(p.shares),
                    "price": float(inp.price[tk]), "notional": notional,
                    "expected_cost": float(res.cost[tk]), "expected_cost_bps": 1e4 * float(res.cost[tk]) / notional,
                    "first_date": ch["date"].min(), "last_date": ch["date"].max(),
                    "sessions": int(ch["date"].nunique()),
                    "max_day_participation": float(ch["day_participation"].max()),
                    "lots": [s.to_dict() for s in by_lot.get(tk, [])]})
    return out


def rebalance_trades(market: Market, holdings, as_of=None, limits: Limits | None = None, steps="auto",
                     step: int | None = None, all_steps: bool = False, schedule: str = "vwap", days: int = 5,
                     participation: float = 0.10, tax=None, options: TradeOptions | None = None,
                     profile=None, bucket_minutes: int = 30) -> dict:
    """The rebalance trade list, its tax lots and its execution schedule at ``as_of``.

    ``holdings``: a Holdings, a CSV path or a 2-D range. ``steps``: rebalances of the transition
    (int or ``"auto"``); ``step``: trade from the holdings straight to step K of the path (default 1);
    ``all_steps``: every step in turn, each starting after the previous one's last session.
    ``schedule``/``days``/``participation``: TWAP or VWAP over ``days`` sessions per step, each session
    capped at ``participation`` x its expected volume (the same cap is the per-step liquidity limit).
    ``tax``: TaxSettings or a TOML path (default FIFO, 37% / 20%). Returns a dict (keys in the README).
    """
    return rebalance_with_allocation(market, holdings, as_of, limits, steps, step, all_steps, schedule, days,
                                     participation, tax, options, profile, bucket_minutes)[0]


def rebalance_with_allocation(market: Market, holdings, as_of=None, limits: Limits | None = None, steps="auto",
                              step: int | None = None, all_steps: bool = False, schedule: str = "vwap", days: int = 5,
                              participation: float = 0.10, tax=None, options: TradeOptions | None = None,
                              profile=None, bucket_minutes: int = 30) -> tuple[dict, dict]:
    """:func:`rebalance_trades` and the allocation it traded to (``usecases.optimize.optimize_as_of``'s
    dict), for the decision workbook."""
    h = load_holdings(holdings)
    settings = tax if isinstance(tax, taxmod.TaxSettings) else (taxmod.TaxSettings.from_toml(tax) if tax else taxmod.TaxSettings())
    opts = options or TradeOptions()
    sopts = ScheduleOptions(strategy=schedule, participation=participation, bucket_minutes=bucket_minutes,
                            **({"profile": tuple(profile)} if profile is not None else {}))
    t = decision_date(market, as_of)
    pit = market.asof(t)
    _check_lot_dates(h, t)
    inp = _inputs(pit, t, h.shares())
    nav = h.value(inp.price)
    current = h.weights(inp.price)
    lim = (limits or Limits()).with_(portfolio_value=nav, participation=participation,
                                     liquidity_days=float(days) * LIQUIDITY_MARGIN)
    from usecases.optimize import optimize_as_of

    plan = optimize_as_of(pit, t, current, lim, steps, adv_dollars=inp.adv_shares * inp.price)
    path = pd.DataFrame(plan["transition"]).set_index("step")
    m = len(path) - 1
    if step is not None and not (isinstance(step, int) and 1 <= step <= m):
        raise ArgumentError("--step", f"expected a step between 1 and {m} of the transition path, got {step!r}")
    todo = list(range(1, m + 1)) if all_steps else [step or 1]
    return _execute(h, settings, opts, sopts, inp, nav, path, todo, lim, plan, days, t, market.label), plan


def _check_lot_dates(h: Holdings, t: pd.Timestamp) -> None:
    for lot in h.lots:
        if lot.acquired is not None and pd.Timestamp(lot.acquired) > t:
            raise DataError(f"lot acquired {lot.acquired} is after the decision date {t.date()}", h.source, lot.line)


def _execute(h, settings, opts, sopts, inp, nav, path, todo, lim, plan, days, t, label) -> dict:
    model = cost_model_of(lim)
    book = (h.shares(), h.cash, list(h.lots))
    start_after, all_sales, all_children, step_rows, orders = t, [], [], [], []
    res = None
    for k in todo:
        target = path.loc[k, [c for c in TICKERS if c in path.columns]]
        res, parents, children, needed, by_lot, sales, book = _run_step(
            k, book, target, inp, model, opts, sopts, settings, days, start_after, 1)
        rows = _order_rows(k, res, parents, children, by_lot, inp)
        orders += rows
        all_sales += sales
        all_children.append(children.assign(step=k))
        notional = sum(r["notional"] for r in rows)
        net_buys = sum(r["notional"] * (1 if r["side"] == "buy" else -1) for r in rows)
        step_rows.append({"step": k, "date": children["date"].min() if len(children) else None,
                          "last_date": children["date"].max() if len(children) else None,
                          "orders": rows, "turnover": 0.5 * (notional + abs(net_buys)) / res.nav,   # costs are not turnover
                          "path_turnover": float(path.loc[k, "turnover"]), "cash_after": res.cash_after,
                          "residual_drift": res.residual_drift,
                          "sessions_needed": max(needed.values()) if needed else 0})
        if len(children):
            start_after = pd.Timestamp(children["date"].max())
    sched = pd.concat(all_children, ignore_index=True) if all_children else pd.DataFrame()
    return _result(h, settings, inp, nav, res, orders, all_sales, sched, step_rows, plan, lim, days, t, label, sopts)


def _result(h, settings, inp, nav, res, orders, sales, sched, step_rows, plan, lim, days, t, label, sopts) -> dict:
    purchases = [(r.ticker, r.date, int(r.shares)) for r in sched.itertuples(index=False) if r.side == "buy"]
    first_sale = min((s.sold for s in sales), default=None)
    if first_sale is not None:
        purchases += taxmod.recent_lot_purchases(list(h.lots), sales, first_sale)
    summary = taxmod.summarize(sales, settings)
    washes = taxmod.wash_sales(sales, purchases, settings)
    last_target = pd.Series(dict(zip(res.drift.index, res.weights_after - res.drift)))
    return {
        "as_of": t.date().isoformat(), "label": label, "nav": nav, "cash": h.cash, "regime": plan["regime"],
        "target_weights": plan["weights"], "current_weights": plan["current"],
        "transition_note": plan["transition_note"], "steps_tradeoff": plan.get("steps_tradeoff", []),
        "path_steps": plan.get("steps"), "orders": orders, "cash_after": res.cash_after,
        "weights_after": {k: float(v) for k, v in res.weights_after.items()},
        "residual_drift": {"per_ticker": {k: float(v) for k, v in res.drift.items()}, "total": res.residual_drift,
                           "against": {k: float(v) for k, v in last_target.items()}},
        "realized_gains": {"short": summary.short, "long": summary.long, "by_ticker": summary.by_ticker,
                           "basis_unknown_shares": summary.basis_unknown_shares},
        "estimated_tax": summary.estimated_tax, "tax_settings": {"lot_method": settings.lot_method,
                                                                  "short_term_rate": settings.short_term_rate,
                                                                  "long_term_rate": settings.long_term_rate},
        "wash_sales": [w.to_dict() for w in washes], "steps": step_rows,
        "schedule": sched.to_dict(orient="records"), "schedule_options": {
            "strategy": sopts.strategy, "participation": sopts.participation, "days": days,
            "bucket_minutes": sopts.bucket_minutes},
        "expected_cost": float(sum(o["expected_cost"] for o in orders)),
        "cost_model": cost_model_of(lim).to_dict(),
        "holdings_file": h.source,
    }


def write_outputs(r: dict, orders_path=None, fix_path=None, sender: str = "ROTATION", target: str = "BROKER") -> dict:
    """Write the child orders of a :func:`rebalance_trades` result as CSV and/or FIX 4.4; returns the paths."""
    from engine.trades.orders import fix_messages, write_fix, write_orders_csv

    sched = pd.DataFrame(r["schedule"])
    price = pd.Series({o["ticker"]: o["price"] for o in r["orders"]}, dtype=float)
    files = {}
    if orders_path:
        files["orders"] = str(write_orders_csv(sched, price, orders_path))
    if fix_path:
        msgs = fix_messages(sched, sender, target, participation=r["schedule_options"]["participation"])
        files["fix"] = str(write_fix(msgs, fix_path))
    return files


def slippage_report(orders_path, fills_path) -> dict:
    """Implementation shortfall of the orders in ``orders_path`` from the fills in ``fills_path``."""
    from engine.trades.orders import read_orders_csv
    from engine.trades.shortfall import implementation_shortfall, read_fills

    return implementation_shortfall(read_orders_csv(orders_path), read_fills(fills_path), str(fills_path))
