"""Tax settings, lot selection (FIFO, HIFO, min-tax), realized short/long-term gains, wash sales.

Rules (IRS Publication 550, IRC 1222; facts in the notes):
- long term = held MORE than one year, counted from the day after purchase: a lot bought on D is
  long term when sold after the anniversary D + 1 year (sold on the anniversary: short term);
- FIFO sells the oldest lots first; HIFO the highest cost per share first; ``min_tax`` the lots
  whose sale adds the least tax now (a loss first, at its term's rate; per-share tax is linear, so
  taking lots in increasing order of tax per share is the exact minimum of the linear tax);
- a loss sale is a wash sale when the same ticker (or one of its "substantially identical" group)
  is bought within 30 days before or after the sale; the disallowed loss is that of the sold shares
  matched by replacement shares (shares bought in the window, each used once).
Lots without a cost basis are sold last and give no gain figures (``basis_unknown_shares``).
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from engine.errors import ArgumentError
from engine.trades.holdings import Lot

METHODS = ("fifo", "hifo", "min_tax")
WASH_DAYS = 30


@dataclass(frozen=True)
class TaxSettings:
    """Rates (fractions), the lot method and the groups of substantially identical tickers."""

    short_term_rate: float = 0.37
    long_term_rate: float = 0.20
    lot_method: str = "fifo"
    identical: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self) -> None:
        for k in ("short_term_rate", "long_term_rate"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ArgumentError(k, f"expected a rate between 0 and 1, got {v!r}")
        if self.lot_method not in METHODS:
            raise ArgumentError("lot_method", f"expected one of {', '.join(METHODS)}, got {self.lot_method!r}")

    def group_of(self, ticker: str) -> frozenset[str]:
        """The ticker and every ticker declared substantially identical to it."""
        out = {ticker}
        for g in self.identical:
            if ticker in g:
                out.update(g)
        return frozenset(out)

    @classmethod
    def from_mapping(cls, table: dict, source: str = "tax") -> "TaxSettings":
        """From the ``[tax]`` table; unknown keys and bad values raise ArgumentError naming the key."""
        known = {"short_term_rate", "long_term_rate", "lot_method", "identical"}
        for k in table:
            if k not in known:
                raise ArgumentError(f"{source}: {k}", f"unknown key; known keys are {', '.join(sorted(known))}")
        groups = table.get("identical", [])
        if not isinstance(groups, list) or not all(isinstance(g, list) and all(isinstance(t, str) for t in g)
                                                   for g in groups):
            raise ArgumentError(f"{source}: identical", 'expected a list of ticker lists, e.g. [["SPY", "IVV", "VOO"]]')
        kw = {k: table[k] for k in ("short_term_rate", "long_term_rate") if k in table}
        if "lot_method" in table:
            kw["lot_method"] = str(table["lot_method"]).lower().replace("-", "_")
        try:
            return cls(identical=tuple(tuple(t.upper() for t in g) for g in groups), **kw)
        except ArgumentError as e:
            raise ArgumentError(f"{source}: {e.argument}", e.problem) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "TaxSettings":
        """Read the ``[tax]`` table of a TOML file (missing keys keep their defaults)."""
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ArgumentError("--tax", f"file {p} does not exist") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
            raise ArgumentError("--tax", f"cannot read {p} as TOML: {e}") from None
        if not isinstance(doc.get("tax"), dict):
            raise ArgumentError("--tax", f"{p} has no [tax] table")
        return cls.from_mapping(doc["tax"], source=f"{p} [tax]")


@lru_cache(maxsize=65536)
def anniversary(acquired: date) -> date:
    """The first anniversary of a purchase (a 29 February purchase: 28 February, as pandas' DateOffset)."""
    try:
        return acquired.replace(year=acquired.year + 1)
    except ValueError:
        return acquired.replace(year=acquired.year + 1, day=28)


def is_long_term(acquired: date, sold: date) -> bool:
    """Held more than one year (from the day after purchase): sold after the first anniversary."""
    return sold > anniversary(acquired)


@dataclass(frozen=True)
class LotSale:
    """Shares of one lot sold on ``sold``; gain None when the lot has no basis."""

    ticker: str
    acquired: date | None
    shares: int
    cost_basis: float | None
    proceeds: float
    sold: date
    term: str | None                      # "short", "long" or None (basis unknown)
    line: int | None = None

    @property
    def gain(self) -> float | None:
        return None if self.cost_basis is None else self.proceeds - self.cost_basis

    def to_dict(self) -> dict:
        return {"acquired": None if self.acquired is None else self.acquired.isoformat(), "shares": self.shares,
                "cost_basis": self.cost_basis, "proceeds": self.proceeds, "gain": self.gain, "term": self.term,
                "holdings_line": self.line}


def _tax_per_share(lot: Lot, price: float, sold: date, s: TaxSettings) -> float:
    rate = s.long_term_rate if is_long_term(lot.acquired, sold) else s.short_term_rate
    return (price - lot.cost_per_share) * rate


def order_lots(lots: list[Lot], price: float, sold: date, settings: TaxSettings) -> list[Lot]:
    """Lots in the order the method sells them (lots without basis last, oldest first)."""
    known = [lot for lot in lots if lot.acquired is not None and lot.shares > 0]
    unknown = [lot for lot in lots if lot.acquired is None and lot.shares > 0]
    if settings.lot_method == "fifo":
        known.sort(key=lambda lot: (lot.acquired, lot.line or 0))
    elif settings.lot_method == "hifo":
        known.sort(key=lambda lot: (-lot.cost_per_share, lot.acquired))
    else:
        known.sort(key=lambda lot: (_tax_per_share(lot, price, sold, settings), lot.acquired))
    return known + unknown


def select_lots(lots: list[Lot], shares: int, price: float, sold: date, settings: TaxSettings) -> list[LotSale]:
    """The lot sales that make up a sell of ``shares`` at ``price`` on ``sold``."""
    out, left = [], int(shares)
    for lot in order_lots(lots, price, sold, settings):
        if left <= 0:
            break
        n = min(left, lot.shares)
        cb = None if lot.cost_basis is None else lot.cost_basis * n / lot.shares
        term = None if lot.acquired is None else ("long" if is_long_term(lot.acquired, sold) else "short")
        out.append(LotSale(lot.ticker, lot.acquired, n, cb, n * price, sold, term, lot.line))
        left -= n
    if left > 0:
        raise ArgumentError("shares", f"selling {shares} {lots[0].ticker if lots else ''} shares but only "
                            f"{shares - left} are held (never short)")
    return out


def remaining_lots(lots: list[Lot], sales: list[LotSale]) -> list[Lot]:
    """The lots left after ``sales`` (for the next step of a path)."""
    used: dict[tuple, int] = {}
    for s in sales:
        used[(s.acquired, s.line)] = used.get((s.acquired, s.line), 0) + s.shares
    out = []
    for lot in lots:
        n = used.pop((lot.acquired, lot.line), 0)
        if lot.shares - n > 0:
            cb = None if lot.cost_basis is None else lot.cost_basis * (lot.shares - n) / lot.shares
            out.append(Lot(lot.ticker, lot.shares - n, lot.acquired, cb, lot.line))
    return out


@dataclass
class TaxSummary:
    """Net realized gains by term, the estimated tax (short and long netted as the IRS nets them)."""

    short: float = 0.0
    long: float = 0.0
    basis_unknown_shares: int = 0
    estimated_tax: float = 0.0
    by_ticker: dict = field(default_factory=dict)


def summarize(sales: list[LotSale], settings: TaxSettings) -> TaxSummary:
    """Net short- and long-term gains and the tax due: net each term, then net a loss in one term
    against a gain in the other; net losses give 0 tax (carried forward, not credited)."""
    st = sum(s.gain for s in sales if s.term == "short")
    lt = sum(s.gain for s in sales if s.term == "long")
    unknown = sum(s.shares for s in sales if s.term is None)
    if st >= 0 and lt >= 0:
        tax = settings.short_term_rate * st + settings.long_term_rate * lt
    elif st < 0 <= lt:
        tax = settings.long_term_rate * max(lt + st, 0.0)
    elif lt < 0 <= st:
        tax = settings.short_term_rate * max(st + lt, 0.0)
    else:
        tax = 0.0
    by: dict[str, dict] = {}
    for s in sales:
        d = by.setdefault(s.ticker, {"short": 0.0, "long": 0.0})
        if s.term:
            d[s.term] += s.gain
    return TaxSummary(float(st), float(lt), int(unknown), float(tax), by)


@dataclass(frozen=True)
class WashSale:
    """A loss sale matched by purchases of the same ticker or group within 30 days either side."""

    ticker: str
    sold: date
    loss: float
    shares: int
    replacement: str
    replacement_date: date
    replacement_shares: int
    disallowed: float

    def to_dict(self) -> dict:
        return {"ticker": self.ticker, "sold": self.sold.isoformat(), "loss": self.loss, "shares": self.shares,
                "replacement": self.replacement, "replacement_date": self.replacement_date.isoformat(),
                "replacement_shares": self.replacement_shares, "disallowed": self.disallowed,
                "message": (f"wash sale: the {self.ticker} loss of {self.loss:,.2f} on {self.sold} is matched by "
                            f"{self.replacement_shares} {self.replacement} shares bought on "
                            f"{self.replacement_date}; {self.disallowed:,.2f} is disallowed and added to their basis")}


def wash_sales(sales: list[LotSale], purchases: list[tuple[str, date, int]], settings: TaxSettings) -> list[WashSale]:
    """Wash-sale warnings for the loss ``sales`` against ``purchases`` (ticker, date, shares): planned
    buys and lots acquired before the sale that are not themselves sold. Each purchased share
    replaces at most one sold share; the earliest-dated loss is matched first."""
    left = {i: n for i, (_, _, n) in enumerate(purchases)}
    out = []
    for s in sorted((s for s in sales if s.gain is not None and s.gain < 0), key=lambda s: s.sold):
        group = settings.group_of(s.ticker)
        need = s.shares
        for i, (tk, d, _) in enumerate(purchases):
            if need <= 0:
                break
            if tk not in group or left[i] <= 0 or abs((d - s.sold).days) > WASH_DAYS or (tk == s.ticker and d == s.acquired):
                continue
            n = min(need, left[i])
            left[i] -= n
            need -= n
            out.append(WashSale(s.ticker, s.sold, float(s.gain), s.shares, tk, d, n, float(-s.gain * n / s.shares)))
    return out


def recent_lot_purchases(lots: list[Lot], sales: list[LotSale], before: date) -> list[tuple[str, date, int]]:
    """Held lots bought within 30 days before ``before`` and not sold: they replace a loss sale."""
    left = remaining_lots(lots, sales)
    return [(lot.ticker, lot.acquired, lot.shares) for lot in left
            if lot.acquired is not None and timedelta(0) <= before - lot.acquired <= timedelta(days=WASH_DAYS)]
