"""Implementation shortfall (Perold 1988) of executed orders from a fills file.

Per parent order of Q shares decided at price p_d (side s = +1 buy, -1 sell), with X shares filled
at an average p_f, arrival price p_a and end price p_e for the unfilled rest:

    delay        = s * X * (p_a - p_d)
    impact       = s * X * (p_f - p_a)          (trading cost against the arrival price)
    opportunity  = s * (Q - X) * (p_e - p_d)
    fees         = sum of fill fees
    shortfall    = delay + impact + opportunity + fees   (paper minus real portfolio, dollars)

in basis points of the paper notional Q * p_d. Slippage against the arrival price is
s (p_f - p_a) / p_a and against the interval VWAP (when the fills give one) s (p_f - v) / v.
Progress is X / Q, and against the schedule X / (child shares due by the last fill's time).

Fills CSV (header; ``child_id`` or ``ticker`` required): ``child_id, ticker, time, shares, price,
fees`` and optional ``arrival_price`` (market price when the order was released), ``interval_vwap``
(market VWAP over the child's interval) and ``end_price`` (market price at the end of the horizon,
for unfilled shares). Without an arrival price the decision price is used (delay then shows as
impact); without an end price, the last fill price (and the note says so).
"""
from __future__ import annotations

import csv
import math
from pathlib import Path

import pandas as pd

from engine.dates import parse_file_date
from engine.errors import DataError
from engine.universe import SECTORS

FILL_REQUIRED = ("time", "shares", "price")
FILL_OPTIONAL = ("child_id", "ticker", "fees", "arrival_price", "interval_vwap", "end_price")
NY = "America/New_York"


def _num(v: str, what: str, src: str, line: int, optional: bool = False) -> float:
    if optional and not v.strip():
        return math.nan
    try:
        x = float(v.replace(",", ""))
    except ValueError:
        raise DataError(f"{what} {v.strip()!r} is not a number", src, line) from None
    if not math.isfinite(x):
        raise DataError(f"{what} {v.strip()!r} is not finite", src, line)
    return x


def read_fills(path: str | Path) -> pd.DataFrame:
    """Fills as a DataFrame (``line`` column kept for messages); DataError naming the line otherwise."""
    p, src = Path(path), str(path)
    try:
        rows = list(csv.reader(p.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise DataError(f"cannot read fills file: {exc.strerror or exc}", src) from None
    if not rows:
        raise DataError("empty fills file", src)
    head = [c.strip().lower() for c in rows[0]]
    unknown = [c for c in head if c not in FILL_REQUIRED + FILL_OPTIONAL]
    if unknown or any(c not in head for c in FILL_REQUIRED) or not ({"child_id", "ticker"} & set(head)):
        raise DataError(f"expected a header with {', '.join(FILL_REQUIRED)}, child_id or ticker, and optionally "
                        f"fees, arrival_price, interval_vwap, end_price; got {','.join(head)}", src, 1)
    out = []
    for line, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(head):
            raise DataError(f"expected {len(head)} fields, got {len(r)}", src, line)
        d = dict(zip(head, (c.strip() for c in r)))
        t = parse_file_date(d["time"], "time", src, line)     # ISO only: "03/04/2008 10:30" is either day first
        rec = {"line": line, "child_id": d.get("child_id", ""), "ticker": d.get("ticker", "").upper(),
               "time": t.tz_localize(NY) if t.tzinfo is None else t.tz_convert(NY),
               "shares": _num(d["shares"], "shares", src, line), "price": _num(d["price"], "price", src, line),
               "fees": _num(d.get("fees", ""), "fees", src, line, optional=True)}
        for k in ("arrival_price", "interval_vwap", "end_price"):
            rec[k] = _num(d.get(k, ""), k, src, line, optional=True)
        if rec["shares"] <= 0 or rec["price"] <= 0:
            raise DataError("shares and price must be positive", src, line)
        if not rec["child_id"] and not rec["ticker"]:
            raise DataError("a fill needs a child_id or a ticker", src, line)
        out.append(rec)
    if not out:
        raise DataError("no fills", src)
    f = pd.DataFrame(out)
    f["fees"] = f["fees"].fillna(0.0)
    return f


def match_orders(fills: pd.DataFrame, orders: pd.DataFrame, column: str, src: str) -> pd.Series:
    """``orders[column]`` for every fill: through its child id, else through its ticker when that
    ticker's orders share one value of ``column``. DataError naming the fills line otherwise."""
    by_child = dict(zip(orders["child_id"], orders[column]))
    by_ticker = orders.groupby("ticker")[column].unique()
    what = "parent order" if column == "parent_id" else column
    out = []
    for r in fills.itertuples(index=False):
        if r.child_id:
            if r.child_id not in by_child:
                raise DataError(f"child_id {r.child_id!r} is not in the orders file", src, r.line)
            out.append(by_child[r.child_id])
            continue
        values = by_ticker.get(r.ticker)
        if values is None:
            raise DataError(f"no order for ticker {r.ticker!r}", src, r.line)
        if len(values) > 1:
            raise DataError(f"{r.ticker} has {len(values)} values of {what} in the orders file; give the child_id",
                            src, r.line)
        out.append(values[0])
    return pd.Series(out, index=fills.index)


def _parent(pid, o: pd.DataFrame, f: pd.DataFrame, notes: set) -> dict:
    s = 1.0 if o["side"].iloc[0] == "buy" else -1.0
    q, pd_ = float(o["shares"].sum()), float(o["decision_price"].iloc[0])
    x = float(f["shares"].sum()) if len(f) else 0.0
    pf = float((f["shares"] * f["price"]).sum() / x) if x else math.nan
    arr = f["arrival_price"].dropna()
    pa = float(arr.iloc[0]) if len(arr) else pd_
    if not len(arr):
        notes.add("no arrival price in the fills: the decision price stands in (delay counted as impact)")
    end = f["end_price"].dropna()
    pe = float(end.iloc[-1]) if len(end) else (float(f.sort_values("time")["price"].iloc[-1]) if x else pd_)
    if x < q and not len(end):
        notes.add("no end price for unfilled shares: the last fill price stands in" if x else
                  "an order without fills or end price: the decision price stands in (opportunity cost 0)")
    fees = float(f["fees"].sum())
    parts = {"delay": s * x * (pa - pd_) if x else 0.0, "impact": s * x * (pf - pa) if x else 0.0,
             "opportunity": s * (q - x) * (pe - pd_), "fees": fees}
    paper = q * pd_
    total = sum(parts.values())
    vw = f.dropna(subset=["interval_vwap"])
    vwap = float((vw["shares"] * vw["interval_vwap"]).sum() / vw["shares"].sum()) if len(vw) else math.nan
    last = f["time"].max() if x else None
    due = _due(o, last) if last is not None else 0.0
    ticker = o["ticker"].iloc[0]
    return {"parent_id": pid, "ticker": ticker, "sector": SECTORS.get(ticker, ticker), "side": o["side"].iloc[0],
            "shares": int(q), "filled": int(x), "decision_price": pd_, "arrival_price": pa, "fill_price": pf,
            "paper_notional": paper, **{f"{k}_dollars": v for k, v in parts.items()}, "shortfall_dollars": total,
            **{f"{k}_bps": 1e4 * v / paper for k, v in parts.items()}, "shortfall_bps": 1e4 * total / paper,
            "slippage_arrival_bps": 1e4 * s * (pf - pa) / pa if x else math.nan,
            "slippage_vwap_bps": 1e4 * s * (pf - vwap) / vwap if x and math.isfinite(vwap) else math.nan,
            "progress": x / q, "scheduled_by_last_fill": int(due),
            "progress_vs_schedule": x / due if due else math.nan}


def _due(o: pd.DataFrame, last: pd.Timestamp) -> float:
    ends = pd.to_datetime(o["date"].astype(str) + " " + o["end"]).dt.tz_localize(NY)
    return float(o.loc[(ends <= last).to_numpy(), "shares"].sum())


def _roll(rows: list[dict]) -> dict:
    paper = sum(r["paper_notional"] for r in rows)
    out = {"paper_notional": paper, "shares": sum(r["shares"] for r in rows), "filled": sum(r["filled"] for r in rows)}
    for k in ("delay", "impact", "opportunity", "fees", "shortfall"):
        d = sum(r[f"{k}_dollars"] for r in rows)
        out[f"{k}_dollars"], out[f"{k}_bps"] = d, 1e4 * d / paper if paper else math.nan
    return out


def implementation_shortfall(orders: pd.DataFrame, fills: pd.DataFrame, source: str = "fills") -> dict:
    """Per order, per sector and total shortfall (dollars and bps) with its Perold parts, slippage
    and progress. ``orders``: from :func:`engine.trades.orders.read_orders_csv`."""
    fills = fills.assign(parent_id=match_orders(fills, orders, "parent_id", source))
    notes: set[str] = set()
    rows = []
    for pid, o in orders.groupby("parent_id", sort=False):
        f = fills[fills["parent_id"] == pid]
        if f["shares"].sum() > o["shares"].sum() + 1e-9:
            raise DataError(f"fills of {pid} ({f['shares'].sum():g} shares) exceed the order's "
                            f"{o['shares'].sum()} shares", source, int(f["line"].iloc[-1]))
        rows.append(_parent(pid, o, f, notes))
    sectors = {}
    for r in rows:
        sectors.setdefault(r["sector"], []).append(r)
    return {"orders": rows, "sectors": {k: _roll(v) for k, v in sectors.items()}, "total": _roll(rows),
            "notes": sorted(notes)}
