"""Order files: the child-order CSV (read back by the slippage report) and FIX 4.4 NewOrderSingle.

CSV columns, one row per child order: ``parent_id, child_id, date, start, end, ticker, side,
shares, limit, strategy, participation, decision_price`` (date YYYY-MM-DD; start/end HH:MM New
York time; side buy|sell; limit a price or ``none``; participation = shares / the bucket's expected
volume; decision_price = the close the decision was made at).

FIX 4.4 (facts in the notes): header 8/9/35=D/49/56/34/52, body ClOrdID(11), HandlInst(21)=1,
Symbol(55), Side(54) 1 buy / 2 sell, TransactTime(60), OrderQty(38), OrdType(40) 1 market / 2 limit
with Price(44), TimeInForce(59)=6 (good till date) with EffectiveTime(168) and ExpireTime(126) =
the child's bucket, Currency(15)=USD, TargetStrategy(847)=1 for VWAP (FIX 4.4 defines no TWAP
value, so TWAP children carry none) and ParticipationRate(849) = the cap; trailer CheckSum(10).
One message per line in the .fix file (fields separated by SOH).
"""
from __future__ import annotations

import csv
import math
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path

import pandas as pd

from engine.dates import parse_date
from engine.errors import ArgumentError, DataError

ORDER_COLUMNS = ("parent_id", "child_id", "date", "start", "end", "ticker", "side", "shares", "limit", "strategy",
                 "participation", "decision_price")
SIDE_CODE = {"buy": "1", "sell": "2"}


def _fmt(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "none"
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def write_orders_csv(children: pd.DataFrame, decision_price: pd.Series, path: str | Path) -> Path:
    """Write the child orders to ``path`` (through a temporary file: complete or not at all)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    with tmp.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(ORDER_COLUMNS)
        for r in children.itertuples(index=False):
            w.writerow([r.parent_id, r.child_id, str(r.date), r.start, r.end, r.ticker, r.side, int(r.shares),
                        _fmt(r.limit), r.strategy, f"{r.participation:.6f}",
                        f"{float(decision_price[r.ticker]):.4f}"])
    tmp.replace(p)
    return p


def read_orders_csv(path: str | Path) -> pd.DataFrame:
    """Read an order CSV written by :func:`write_orders_csv`; DataError naming the line otherwise."""
    p = Path(path)
    try:
        rows = list(csv.reader(p.read_text(encoding="utf-8-sig").splitlines()))
    except OSError as exc:
        raise DataError(f"cannot read orders file: {exc.strerror or exc}", str(p)) from None
    if not rows or [c.strip() for c in rows[0]] != list(ORDER_COLUMNS):
        raise DataError(f"expected the header {','.join(ORDER_COLUMNS)}", str(p), 1)
    out = []
    for line, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        if len(r) != len(ORDER_COLUMNS):
            raise DataError(f"expected {len(ORDER_COLUMNS)} fields, got {len(r)}", str(p), line)
        d = dict(zip(ORDER_COLUMNS, (c.strip() for c in r)))
        try:
            d["shares"] = int(d["shares"])
            d["decision_price"] = float(d["decision_price"])
            d["limit"] = None if d["limit"].lower() in ("", "none") else float(d["limit"])
            day = parse_date(d["date"], "date", allow_future=True)    # orders are planned ahead; ISO only
            if day is None:
                raise ValueError("date is empty")
            d["date"] = day.date()
        except ArgumentError as exc:
            raise DataError(f"date: {exc.problem}", str(p), line) from None
        except ValueError as exc:
            raise DataError(f"bad value ({exc})", str(p), line) from None
        if d["side"] not in SIDE_CODE or d["shares"] <= 0:
            raise DataError("side must be buy or sell and shares a positive whole number", str(p), line)
        out.append(d)
    if not out:
        raise DataError("no orders", str(p))
    return pd.DataFrame(out)


@lru_cache(maxsize=8192)
def _utc(day, hhmm: str) -> str:
    ts = pd.Timestamp(f"{day} {hhmm}").tz_localize("America/New_York").tz_convert("UTC")
    return ts.strftime("%Y%m%d-%H:%M:%S.000")


def fix_messages(children: pd.DataFrame, sender: str = "ROTATION", target: str = "BROKER",
                 participation: float | None = None, sending_time: datetime | None = None,
                 first_seq: int = 1) -> list[bytes]:
    """One encoded FIX 4.4 NewOrderSingle per child order (simplefix computes BodyLength and CheckSum)."""
    import simplefix

    now = (sending_time or datetime.now(timezone.utc)).strftime("%Y%m%d-%H:%M:%S.000")
    out = []
    for seq, r in enumerate(children.itertuples(index=False), start=first_seq):
        m = simplefix.FixMessage()
        m.append_pair(8, "FIX.4.4", header=True)
        m.append_pair(35, "D", header=True)
        m.append_pair(49, sender, header=True)
        m.append_pair(56, target, header=True)
        m.append_pair(34, seq, header=True)
        m.append_pair(52, now, header=True)
        m.append_pair(11, r.child_id)
        m.append_pair(21, "1")
        m.append_pair(55, r.ticker)
        m.append_pair(54, SIDE_CODE[r.side])
        m.append_pair(60, now)
        m.append_pair(38, int(r.shares))
        limit = r.limit if r.limit is not None and not (isinstance(r.limit, float) and math.isnan(r.limit)) else None
        m.append_pair(40, "2" if limit is not None else "1")
        if limit is not None:
            m.append_pair(44, f"{limit:.4f}")
        m.append_pair(59, "6")
        m.append_pair(168, _utc(r.date, r.start))
        m.append_pair(126, _utc(r.date, r.end))
        m.append_pair(15, "USD")
        if r.strategy == "vwap":
            m.append_pair(847, "1")
        if participation is not None:
            m.append_pair(849, f"{participation:g}")
        out.append(m.encode())
    return out


def write_fix(messages: list[bytes], path: str | Path) -> Path:
    """Write messages one per line (complete or not at all)."""
    p = Path(path)
    tmp = p.with_name(f".{p.name}.tmp")
    tmp.write_bytes(b"".join(m + b"\n" for m in messages))
    tmp.replace(p)
    return p
