"""Holdings: a CSV file (or a 2-D range from Excel/Calc) of positions and tax lots.

Layout (header row required; column order free; names case-insensitive)::

    ticker,shares,acquired,cost_basis
    XLK,60000,2007-03-15,1320000
    XLK,40000,2008-09-30,960000
    XLU,25000
    CASH,1500000
    NAV,2000000000

A lot row gives shares, the purchase date and the lot's TOTAL cost in dollars; a row without
``acquired`` and ``cost_basis`` is a position without lot detail (basis unknown: no tax figures
for it). ``CASH`` is dollars (at most one row, default 0); ``NAV`` is an optional check of the
book's value at the decision prices (within 0.5%).
``cost_per_share`` may replace ``cost_basis``. Rows of one ticker add up. Blank lines and lines
starting with ``#`` are skipped. Every error names the line (of the file, header = line 1, or of
the range) and what was expected.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from engine.dates import parse_file_date
from engine.errors import DataError
from engine.universe import SECTORS

NAV_TOLERANCE = 0.005          # the NAV row must agree with shares x prices + cash within 0.5%
_COLUMNS = ("ticker", "shares", "acquired", "cost_basis", "cost_per_share")


@dataclass(frozen=True)
class Lot:
    """One tax lot (``acquired``/``cost_basis`` None when the file gives no lot detail)."""

    ticker: str
    shares: int
    acquired: date | None = None
    cost_basis: float | None = None      # total dollars
    line: int | None = None

    @property
    def cost_per_share(self) -> float | None:
        return None if self.cost_basis is None or self.shares == 0 else self.cost_basis / self.shares


@dataclass(frozen=True)
class Holdings:
    """Positions as tax lots plus cash; ``nav_check`` is the optional NAV row's value."""

    lots: tuple[Lot, ...]
    cash: float = 0.0
    nav_check: float | None = None
    nav_line: int | None = None
    source: str = "holdings"
    lines: dict = field(default_factory=dict)      # ticker -> first line (for messages)

    def shares(self) -> pd.Series:
        """Shares held per ticker (int), tickers in file order."""
        out: dict[str, int] = {}
        for lot in self.lots:
            out[lot.ticker] = out.get(lot.ticker, 0) + lot.shares
        return pd.Series(out, dtype="int64")

    def lots_of(self, ticker: str) -> list[Lot]:
        return [lot for lot in self.lots if lot.ticker == ticker]

    def value(self, prices: pd.Series) -> float:
        """NAV at ``prices`` (shares x price + cash). DataError naming the line for a ticker without a
        price, and for a NAV row that disagrees by more than 0.5%."""
        sh = self.shares()
        missing = [t for t in sh.index if sh[t] and not (t in prices.index and prices[t] > 0)]
        if missing:
            raise DataError(f"no price for {missing[0]} at the decision date", self.source, self.lines.get(missing[0]))
        nav = float((sh * prices.reindex(sh.index)).sum() + self.cash)
        if self.nav_check is not None and abs(nav - self.nav_check) > NAV_TOLERANCE * max(abs(self.nav_check), 1.0):
            raise DataError(f"NAV {self.nav_check:,.2f} disagrees with shares x prices + cash = {nav:,.2f} "
                            f"by more than {NAV_TOLERANCE:.1%}", self.source, self.nav_line)
        return nav

    def weights(self, prices: pd.Series) -> pd.Series:
        """Weights of NAV per sector (the rest is cash), over every sector ticker."""
        nav = self.value(prices)
        sh = self.shares().reindex(list(SECTORS)).fillna(0)
        return sh * prices.reindex(sh.index).fillna(0.0) / nav


def _number(v: Any, what: str, src: str, line: int) -> float:
    if isinstance(v, bool):
        raise DataError(f"{what} {v!r} is not a number", src, line)
    if isinstance(v, (int, float)):
        x = float(v)
    else:
        s = str(v).strip().replace(",", "").replace("$", "").replace("_", "")
        try:
            x = float(s)
        except ValueError:
            raise DataError(f"{what} {str(v).strip()!r} is not a number", src, line) from None
    if not math.isfinite(x):
        raise DataError(f"{what} {v!r} is not a finite number", src, line)
    return x


def _date(v: Any, src: str, line: int) -> date:
    if isinstance(v, datetime):
        return v.date()
    if isinstance(v, date):
        return v
    return parse_file_date(v, "acquired", src, line).date()   # ISO or Excel serial; ambiguous text refused


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _header(row: Sequence[Any], src: str, line: int) -> dict[str, int]:
    names = [str(c).strip().lower().replace(" ", "_") for c in row]
    cols = {n: i for i, n in enumerate(names) if n}
    unknown = [n for n in cols if n not in _COLUMNS]
    if unknown:
        raise DataError(f"unknown column {unknown[0]!r}; expected {', '.join(_COLUMNS[:4])} (or cost_per_share)", src, line)
    if "ticker" not in cols or "shares" not in cols:
        raise DataError("the header must name at least the columns ticker and shares "
                        "(a ticker,weight file is read by `rotation optimize --current`)", src, line)
    if "cost_basis" in cols and "cost_per_share" in cols:
        raise DataError("give cost_basis (total dollars) or cost_per_share, not both", src, line)
    return cols


def parse_rows(rows: Sequence[Sequence[Any]], source: str = "holdings", first_line: int = 1,
               universe: Sequence[str] = tuple(SECTORS)) -> Holdings:
    """Holdings from rows of cells (a CSV read with ``csv.reader`` or a 2-D Excel/Calc range).

    ``first_line``: the line (or sheet row) number of ``rows[0]``, for messages.
    """
    cols: dict[str, int] | None = None
    lots: list[Lot] = []
    lines: dict[str, int] = {}
    cash, cash_line, nav, nav_line = 0.0, None, None, None
    for k, row in enumerate(rows):
        line = first_line + k
        cells = list(row) if row is not None else []
        if all(_blank(c) for c in cells) or str(cells[0]).lstrip().startswith("#"):
            continue
        if cols is None:
            cols = _header(cells, source, line)
            continue
        get = lambda name: cells[cols[name]] if name in cols and cols[name] < len(cells) else None  # noqa: E731
        tk = str(get("ticker") or "").strip().upper()
        if not tk:
            raise DataError("empty ticker", source, line)
        if tk in ("CASH", "NAV"):
            amount = _number(get("shares"), f"{tk} amount", source, line)
            if tk == "CASH":
                if cash_line is not None:
                    raise DataError(f"a second CASH row (the first is line {cash_line})", source, line)
                if amount < 0:
                    raise DataError(f"cash {amount:,.2f} is negative (no margin borrowing)", source, line)
                cash, cash_line = amount, line
            else:
                if nav_line is not None:
                    raise DataError(f"a second NAV row (the first is line {nav_line})", source, line)
                if amount <= 0:
                    raise DataError(f"NAV {amount:,.2f} must be positive", source, line)
                nav, nav_line = amount, line
            continue
        if tk not in universe:
            raise DataError(f"unknown ticker {tk!r}; expected one of {', '.join(universe)}, CASH or NAV", source, line)
        lots.append(_lot(tk, get, source, line))
        lines.setdefault(tk, line)
    if cols is None:
        raise DataError("no header row (expected ticker,shares[,acquired,cost_basis])", source)
    _check_mixed(lots, source)
    return Holdings(tuple(lots), cash, nav, nav_line, source, lines)


def _lot(tk: str, get, source: str, line: int) -> Lot:
    x = _number(get("shares"), "shares", source, line)
    if x < 0:
        raise DataError(f"shares {x:g} is negative (short positions are not supported)", source, line)
    if x != int(x):
        raise DataError(f"shares {x:g} is not a whole number", source, line)
    acq_raw = get("acquired")
    cb_raw = get("cost_basis") if get("cost_basis") is not None else get("cost_per_share")
    per_share = get("cost_basis") is None and not _blank(get("cost_per_share"))
    if _blank(acq_raw) != _blank(cb_raw):
        raise DataError("a lot needs both acquired and its cost basis (or neither)", source, line)
    if _blank(acq_raw):
        return Lot(tk, int(x), None, None, line)
    cb = _number(cb_raw, "cost basis", source, line)
    if cb < 0:
        raise DataError(f"cost basis {cb:g} is negative", source, line)
    return Lot(tk, int(x), _date(acq_raw, source, line), cb * x if per_share else cb, line)


def _check_mixed(lots: list[Lot], source: str) -> None:
    with_detail = {lot.ticker for lot in lots if lot.acquired is not None}
    for lot in lots:
        if lot.acquired is None and lot.ticker in with_detail:
            raise DataError(f"{lot.ticker} has lot rows with dates and one without; give every lot's "
                            "acquired date and cost basis, or a single row without lots", source, lot.line)


def read_holdings(path: str | Path) -> Holdings:
    """Read a holdings CSV (layout in the module docstring). DataError names the file and line."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DataError(f"cannot read holdings file: {exc.strerror or exc}", str(p)) from None
    return parse_rows(list(csv.reader(io.StringIO(text))), str(p), 1)
