"""The real book over time: holdings history -> daily shares, NAV, weights, targets and benchmark.

A holdings history is a folder of dated holdings files (the date in the file name: ``2008-10-10`` or
``20081010``), one holdings file with a ``date`` column, or one holdings file without dates (a single
snapshot dated ``as_of``, default the last session). The layout of each snapshot is the holdings
parser's (engine.trades.holdings). A snapshot dated D is the book at the close of D (after that day's
trades); it is held until the next snapshot. Values at D use the raw close; returns use adjusted
prices (dividends included); cash earns the 3-month T-bill of the previous session (0 if absent).
"""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from engine.data.model import Market
from engine.dates import parse_file_date
from engine.errors import DataError, RotationError
from engine.trades.holdings import Holdings, Lot, parse_rows, read_holdings
from engine.universe import SECTORS
from usecases.context import decision_date

TICKERS = list(SECTORS)
_DATE_IN_NAME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


@dataclass
class BookView:
    """The book day by day (every frame indexed by session from the first snapshot to the last session).

    ``shares`` (date x ticker), ``cash`` and ``nav`` (dollars), ``weights`` (date x sector, fractions of
    NAV; cash is the rest), ``targets`` and ``benchmark`` (date x sector, the allocator's target and the
    benchmark weights in force, estimated at each rebalance from data up to it), ``rebalances`` (the
    snapshot sessions where the shares changed, the first snapshot included), ``notes``."""

    source: str
    snapshots: list[tuple[pd.Timestamp, Holdings]]
    shares: pd.DataFrame
    cash: pd.Series
    nav: pd.Series
    weights: pd.DataFrame
    targets: pd.DataFrame
    benchmark: pd.DataFrame
    rebalances: list[pd.Timestamp]
    notes: list[str] = field(default_factory=list)

    @property
    def last_rebalance(self) -> pd.Timestamp:
        return self.rebalances[-1]


def _parse_date(text: str, src: str, line: int | None) -> pd.Timestamp:
    return parse_file_date(text, "date", src, line).normalize()


def _dated_file(path: Path) -> list[tuple[pd.Timestamp, Holdings]]:
    try:
        rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    except OSError as exc:
        raise DataError(f"cannot read holdings file: {exc.strerror or exc}", str(path)) from None
    head = next((i for i, r in enumerate(rows) if any(c.strip() for c in r) and not r[0].lstrip().startswith("#")), None)
    names = [c.strip().lower() for c in rows[head]] if head is not None else []
    if "date" not in names:
        return []
    k = names.index("date")
    drop = lambda r: [c for j, c in enumerate(r) if j != k]  # noqa: E731
    dates: dict[pd.Timestamp, None] = {}
    keyed = []
    for i, r in enumerate(rows):
        if i <= head or not any(c.strip() for c in r) or r[0].lstrip().startswith("#"):
            keyed.append(None)
            continue
        if k >= len(r) or not r[k].strip():
            raise DataError("empty date; every row of a dated holdings file needs one", str(path), i + 1)
        d = _parse_date(r[k], str(path), i + 1)
        dates.setdefault(d)
        keyed.append(d)
    out = []
    for d in dates:
        sub = [drop(r) if i == head else (drop(r) if keyed[i] == d else []) for i, r in enumerate(rows)]
        out.append((d, parse_rows(sub, str(path), 1)))
    return out


def read_history(path: str | Path, as_of=None, market: Market | None = None) -> list[tuple[pd.Timestamp, Holdings]]:
    """Snapshots ``(date, Holdings)`` in date order from a folder, a dated file or an undated file
    (dated ``as_of``, default the last session of ``market``). DataError names the file and line."""
    p = Path(path)
    if p.is_dir():
        snaps = []
        for f in sorted(p.glob("*.csv")):
            m = _DATE_IN_NAME.search(f.stem)
            if not m:
                raise DataError("no date in the file name (expected e.g. holdings-2008-10-10.csv)", str(f))
            snaps.append((_parse_date("-".join(m.groups()), str(f), None), read_holdings(f)))
        if not snaps:
            raise DataError("no holdings files (*.csv) in the folder", str(p))
    elif not p.exists():
        raise DataError("holdings file not found", str(p))
    else:
        snaps = _dated_file(p)
        if not snaps:
            if market is None:
                raise DataError("an undated holdings file needs a date (--as-of)", str(p))
            snaps = [(decision_date(market, as_of), read_holdings(p))]
    snaps.sort(key=lambda s: s[0])
    for (a, _), (b, h) in zip(snaps, snaps[1:]):
        if a == b:
            raise DataError(f"two holdings snapshots dated {a.date()}", h.source)
    return snaps


def _sessions_of(market: Market, snaps) -> list[tuple[pd.Timestamp, Holdings]]:
    out = []
    for d, h in snaps:
        if d > market.last:
            raise DataError(f"snapshot dated {d.date()} is after the last session of the data ({market.last.date()})",
                            h.source)
        try:
            s = market.session_on_or_before(d)
        except KeyError:
            raise DataError(f"snapshot dated {d.date()} is before the first session of the data", h.source) from None
        if out and out[-1][0] == s:
            raise DataError(f"two holdings snapshots fall on the session {s.date()}", h.source)
        out.append((s, h))
    return out


def _marks(market: Market) -> pd.DataFrame:
    """Raw closes for valuation (adjusted prices where a vendor gave no raw close)."""
    close = market.close.reindex(columns=TICKERS)
    return close.where(close.notna(), market.prices.reindex(columns=TICKERS))


def _targets(market: Market, weights: pd.DataFrame, dates, limits) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    from usecases.optimize import optimize_as_of

    tgt, bench, notes = {}, {}, []
    for r in dates:
        try:
            res = optimize_as_of(market, r, current=weights.loc[r], limits=limits)
        except RotationError as exc:
            notes.append(f"no target at {r.date()}: {exc}")
            continue
        tgt[r], bench[r] = pd.Series(res["weights"]), pd.Series(res["benchmark"])
    frame = lambda d: pd.DataFrame(d).T.reindex(columns=TICKERS) if d else pd.DataFrame(columns=TICKERS, dtype=float)  # noqa: E731
    return frame(tgt), frame(bench), notes


def book_view(market: Market, path: str | Path, limits=None, as_of=None, with_targets: bool = True,
              later: str = "error", fills: str | Path | None = None, orders: str | Path | None = None) -> BookView:
    """The book of the holdings history at ``path`` day by day on ``market`` (see :class:`BookView`).
    Targets and benchmark weights come from the allocator at each rebalance (``usecases.optimize``, data up
    to that session; the current book as the starting point). DataError for a bad file, a snapshot
    outside the data (``later="drop"`` leaves out snapshots dated after the last session: a point-in-time
    view), or a held ticker without a price at its snapshot. With ``fills`` and ``orders``, ``path`` is the
    starting book and the history comes from :func:`history_from_fills`."""
    if (fills is None) != (orders is None):
        raise DataError("fills need their orders file (and orders their fills file) to rebuild the book",
                        str(fills or orders))
    snaps = history_from_fills(path, orders, fills, market) if fills is not None else read_history(path, as_of, market)
    if later == "drop":
        kept = [s for s in snaps if s[0] <= market.last]
        if not kept:
            raise DataError(f"no holdings snapshot on or before {market.last.date()}", str(path))
        snaps = kept
    snaps = _sessions_of(market, snaps)
    marks = _marks(market)
    for s, h in snaps:
        h.value(marks.loc[s])                                  # a price for every holding, the NAV row check
    idx = market.sessions[market.sessions >= snaps[0][0]]
    shares = pd.DataFrame({s: h.shares().reindex(TICKERS).fillna(0).astype(float) for s, h in snaps}).T
    shares = shares.reindex(idx).ffill()
    cash = pd.Series({s: float(h.cash) for s, h in snaps}).reindex(idx).ffill()
    value = (shares * marks.reindex(idx).fillna(0.0))
    nav = value.sum(axis=1) + cash
    weights = value.div(nav, axis=0)
    rebal = [snaps[0][0]] + [s for (p, hp), (s, h) in zip(snaps, snaps[1:])
                             if not hp.shares().reindex(TICKERS).fillna(0).equals(h.shares().reindex(TICKERS).fillna(0))]
    if with_targets:
        tgt, bench, notes = _targets(market, weights, rebal, limits)
    else:
        tgt = bench = pd.DataFrame(columns=TICKERS, dtype=float)
        notes = []
    daily = lambda f: f.reindex(f.index.union(idx)).ffill().reindex(idx)  # noqa: E731
    return BookView(source=str(path), snapshots=snaps, shares=shares, cash=cash, nav=nav, weights=weights,
                    targets=daily(tgt), benchmark=daily(bench), rebalances=rebal, notes=notes)


def book_returns(market: Market, book: BookView) -> pd.DataFrame:
    """Daily returns from the second session of the book: ``book`` (sum of yesterday's weights x today's
    adjusted sector returns, plus cash at the T-bill), ``benchmark`` (yesterday's benchmark weights x the
    same sector returns), ``spy``, ``active`` (book - benchmark) and ``cash_rate``."""
    idx = book.weights.index
    rets = market.prices.reindex(columns=TICKERS).pct_change(fill_method=None).reindex(idx).fillna(0.0)
    rf = (market.stress["dgs3mo"].shift(1) / 100 / 252).reindex(idx).fillna(0.0) if "dgs3mo" in market.stress \
        else pd.Series(0.0, index=idx)
    w = book.weights.shift(1)
    wc = (1 - w.sum(axis=1))
    r_book = (w * rets).sum(axis=1) + wc * rf
    wb = book.benchmark.shift(1)
    r_bench = (wb * rets).sum(axis=1).where(wb.notna().any(axis=1))
    spy = market.prices["SPY"].pct_change(fill_method=None).reindex(idx) if "SPY" in market.prices else np.nan
    out = pd.DataFrame({"book": r_book, "benchmark": r_bench, "spy": spy, "cash_rate": rf}).iloc[1:]
    out["active"] = out["book"] - out["benchmark"]
    return out


def history_from_fills(start: str | Path, orders: str | Path, fills: str | Path,
                       market: Market) -> list[tuple[pd.Timestamp, Holdings]]:
    """Snapshots from a starting book and the fills since: the starting holdings (no date column) are the
    book at the close of the session before the first fill; each fill day adds a snapshot with the
    signed fills applied (side from the orders file) and cash reduced by shares x price + fees.
    DataError naming the fills line that would sell more than is held or overdraw cash."""
    from engine.trades.orders import read_orders_csv
    from engine.trades.shortfall import match_orders, read_fills

    book, o, f = read_holdings(start), read_orders_csv(orders), read_fills(fills)
    src = str(fills)
    f = f.assign(side=np.where(match_orders(f, o, "side", src) == "buy", 1, -1),
                 ticker=match_orders(f, o, "ticker", src))
    f["day"] = f["time"].dt.tz_localize(None).dt.normalize()
    f = f.sort_values("time", kind="stable")
    before = market.sessions[market.sessions < f["day"].iloc[0]]
    if not len(before):
        raise DataError("the first fill is on or before the first session of the data", src)
    shares = book.shares().reindex(TICKERS).fillna(0).astype(int).to_dict()
    cash = float(book.cash)
    snaps = [(before[-1], book)]
    for day, g in f.groupby("day", sort=True):
        for r in g.itertuples(index=False):
            shares[r.ticker] = shares.get(r.ticker, 0) + int(r.side * r.shares)
            cash -= r.side * r.shares * r.price + r.fees
            if shares[r.ticker] < 0:
                raise DataError(f"this fill sells more {r.ticker} than the book holds", src, r.line)
            if cash < -0.005:
                raise DataError(f"this fill overdraws cash ({cash:,.2f})", src, r.line)
        lots = tuple(Lot(tk, n) for tk, n in shares.items() if n)
        snaps.append((pd.Timestamp(day), Holdings(lots, max(cash, 0.0), source=f"{src} through {day.date()}")))
    return snaps
