"""`rotation trades --holdings h.csv ...`: the rebalance trade list, tax lots and execution schedule."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import AsOfOpt, DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, handle_errors, out, spinner

P = Annotated


def trades(
    holdings: P[Path, typer.Option("--holdings", help="Holdings CSV: ticker,shares[,acquired,cost_basis], CASH and NAV rows.", dir_okay=False)],
    as_of: AsOfOpt = None,
    step: P[Optional[int], typer.Option("--step", help="Trade from the holdings straight to step K of the transition (default 1).")] = None,
    all_steps: P[bool, typer.Option("--all-steps", help="Every step of the transition in turn.")] = False,
    steps: P[str, typer.Option("--steps", help="Rebalances in the transition, or 'auto'.")] = "auto",
    schedule: P[str, typer.Option("--schedule", help="twap or vwap.")] = "vwap",
    days: P[int, typer.Option("--days", help="Sessions per step.")] = 5,
    participation: P[float, typer.Option("--participation", help="Cap per session, fraction of expected volume (of ADV).")] = 0.10,
    tax: P[Optional[Path], typer.Option("--tax", help="TOML with a [tax] table: rates, lot_method, identical groups.", dir_okay=False)] = None,
    config: P[Optional[Path], typer.Option("--config", help="TOML with a [limits] table.", dir_okay=False)] = None,
    turnover: P[Optional[float], typer.Option("--turnover", help="Maximum one-way turnover per step (fraction).")] = None,
    min_notional: P[float, typer.Option("--min-notional", help="Drop orders below this many dollars.")] = 0.0,
    round_lot: P[int, typer.Option("--round-lot", help="Order shares in multiples of this (1 = odd lots).")] = 1,
    cash_buffer: P[float, typer.Option("--cash-buffer", help="Fraction of NAV kept in cash.")] = 0.0,
    profile: P[Optional[Path], typer.Option("--profile", help="Intraday volume profile CSV (start,weight per 30 minutes).", dir_okay=False)] = None,
    orders: P[Optional[Path], typer.Option("--orders", help="Write the child orders CSV here.", dir_okay=False)] = None,
    fix: P[Optional[Path], typer.Option("--fix", help="Write FIX 4.4 NewOrderSingle messages here (one per line).", dir_okay=False)] = None,
    sender: P[str, typer.Option("--sender", help="FIX SenderCompID.")] = "ROTATION",
    target_comp: P[str, typer.Option("--target", help="FIX TargetCompID.")] = "BROKER",
    data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """Whole-share orders from your holdings to the target (or a transition step), with lots, tax, wash sales and a TWAP/VWAP schedule."""
    from addin.cli.optimize_cmd import load_limits, parse_steps
    from engine.trades.profile import read_profile
    from engine.trades.tradelist import TradeOptions
    from usecases.context import open_market
    from usecases.trades import rebalance_trades, write_outputs

    with handle_errors(as_json):
        lim = load_limits(config, turnover=turnover)
        opts = TradeOptions(min_notional=min_notional, round_lot=round_lot, cash_buffer=cash_buffer)
        prof = read_profile(profile) if profile else None
        with spinner(as_json, "allocation, transition, trade list and schedule"):
            market = open_market(data=data, store=store, demo=demo)
            r = rebalance_trades(market, holdings, as_of, lim, parse_steps(steps), step, all_steps, schedule.lower(),
                                 days, participation, tax, opts, prof)
        r["files"] = write_outputs(r, orders, fix, sender, target_comp)
        emit(r, as_json, render)


def render(r: dict) -> None:
    from rich.table import Table

    t = Table(title=f"Trades as of {r['as_of']} (NAV ${r['nav']:,.0f}, regime {r['regime']})  [{r['label']}]",
              title_justify="left")
    for c in ("step", "ticker", "side", "shares", "notional", "cost bps", "sessions", "max % ADV/day"):
        t.add_column(c, justify="left" if c in ("ticker", "side") else "right")
    for o in r["orders"]:
        t.add_row(str(o["step"]), o["ticker"], o["side"], f"{o['shares']:,}", f"{o['notional']:,.0f}",
                  f"{o['expected_cost_bps']:.1f}", str(o["sessions"]), f"{o['max_day_participation']:.2%}")
    out.print(t)
    g = r["realized_gains"]
    out.print(f"Cash after ${r['cash_after']:,.0f}; residual drift {r['residual_drift']['total']:.3%} (one-way); "
              f"expected cost ${r['expected_cost']:,.0f}.")
    out.print(f"Realized gains: short term ${g['short']:,.0f}, long term ${g['long']:,.0f}; estimated tax "
              f"${r['estimated_tax']:,.0f} ({r['tax_settings']['lot_method']}).")
    for w in r["wash_sales"]:
        out.print(f"Warning: {w['message']}")
    out.print(f"Schedule: {len(r['schedule'])} child orders ({r['schedule_options']['strategy']}, cap "
              f"{r['schedule_options']['participation']:.0%} of volume a session).")
    out.print(f"Transition: {r['transition_note']}")
    for k, v in (r.get("files") or {}).items():
        out.print(f"{k} written to {v}")
