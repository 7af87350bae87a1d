"""`rotation slippage --orders out.csv --fills fills.csv`: implementation shortfall and slippage of executed orders."""
from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from addin.cli.common import JsonOpt, emit, handle_errors, out


def slippage(
    orders: Annotated[Path, typer.Option("--orders", help="The child-order CSV written by `rotation trades --orders`.", dir_okay=False)],
    fills: Annotated[Path, typer.Option("--fills", help="Fills CSV: child_id or ticker, time, shares, price, fees[, arrival_price, interval_vwap, end_price].", dir_okay=False)],
    as_json: JsonOpt = False,
) -> None:
    """Implementation shortfall (Perold: delay, impact, opportunity, fees) per order, per sector and in total."""
    from usecases.trades import slippage_report

    with handle_errors(as_json):
        r = slippage_report(orders, fills)
        emit(r, as_json, render)


def render(r: dict) -> None:
    from rich.table import Table

    t = Table(title="Implementation shortfall (bps of the paper notional)", title_justify="left")
    for c in ("order", "ticker", "side", "filled", "delay", "impact", "opportunity", "fees", "total",
              "vs arrival", "vs VWAP"):
        t.add_column(c, justify="left" if c in ("order", "ticker", "side") else "right")
    f = lambda v: "n/a" if v is None or v != v else f"{v:.1f}"  # noqa: E731
    for o in r["orders"]:
        t.add_row(o["parent_id"], o["ticker"], o["side"], f"{o['progress']:.0%}", f(o["delay_bps"]), f(o["impact_bps"]),
                  f(o["opportunity_bps"]), f(o["fees_bps"]), f(o["shortfall_bps"]), f(o["slippage_arrival_bps"]),
                  f(o["slippage_vwap_bps"]))
    tot = r["total"]
    t.add_row("total", "", "", f"{tot['filled'] / tot['shares']:.0%}", f(tot["delay_bps"]), f(tot["impact_bps"]),
              f(tot["opportunity_bps"]), f(tot["fees_bps"]), f(tot["shortfall_bps"]), "", "")
    out.print(t)
    out.print(f"Total shortfall ${tot['shortfall_dollars']:,.0f} on ${tot['paper_notional']:,.0f} paper notional.")
    for n in r["notes"]:
        out.print(f"Note: {n}")
