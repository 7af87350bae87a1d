"""The in-memory market: aligned daily series on the exchange-session calendar.

A :class:`Market` is read-only by convention. ``market.asof(t)`` returns the
point-in-time view used by every walk-forward computation: nothing after ``t``.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from engine.universe import DEMO_LABEL


@dataclass(frozen=True)
class SeriesMeta:
    """Provenance of one imported series."""

    name: str                 # canonical name, e.g. "XLK" or "hy_oas"
    source: str               # file path it came from ("synthetic" for the demo)
    format: str               # detected format: yahoo_ohlcv, yahoo_close, fred, cboe_vix, date_value, demo
    first: str                # ISO date of first observation
    last: str                 # ISO date of last observation
    rows: int                 # observations with a value
    imported_at: str          # ISO UTC time of the import
    sha256: str = ""          # digest of the source file's bytes
    fields: tuple[str, ...] = ("value",)


@dataclass(frozen=True, eq=False)   # identity equality and hashing: frames do not compare as booleans
class Market:
    """Aligned daily market data.

    Attributes (every frame is indexed by the session calendar, a sorted
    ``DatetimeIndex`` named ``date``; missing values are NaN):

    - ``prices``: total-return prices (adjusted close) by ticker (sector ETFs, SPY, bond ETFs).
    - ``close``: raw close by ticker where the vendor gives it.
    - ``volume``: volume in shares by ticker where known.
    - ``stress``: bond-stress inputs by canonical name (see ``engine.universe.STRESS_SERIES``),
      aligned to sessions with an explicit, bounded forward fill.
    - ``reference``: published indices on their own dates (weekly STLFSI4, NFCI, ...), not aligned.
    - ``meta``: provenance by series name.
    - ``fills``: how many values each stress series had forward-filled during alignment.
    - ``label``: shown on every output; ``DEMO DATA (synthetic)`` for the demo market.
    """

    prices: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    stress: pd.DataFrame
    reference: pd.DataFrame
    meta: dict[str, SeriesMeta] = field(default_factory=dict)
    fills: dict[str, int] = field(default_factory=dict)
    label: str = ""

    @property
    def sessions(self) -> pd.DatetimeIndex:
        return self.prices.index

    @property
    def is_demo(self) -> bool:
        return self.label == DEMO_LABEL

    @property
    def first(self) -> pd.Timestamp:
        return self.sessions[0]

    @property
    def last(self) -> pd.Timestamp:
        return self.sessions[-1]

    def asof(self, t) -> "Market":
        """The point-in-time view: every row dated after ``t`` removed."""
        t = pd.Timestamp(t)
        cut = lambda df: df.loc[:t]  # noqa: E731
        return replace(
            self,
            prices=cut(self.prices), close=cut(self.close), volume=cut(self.volume),
            stress=cut(self.stress), reference=cut(self.reference),
        )

    def session_on_or_before(self, t) -> pd.Timestamp:
        """The last session at or before ``t`` (raises KeyError if ``t`` precedes the data)."""
        t = pd.Timestamp(t)
        pos = self.sessions.searchsorted(t, side="right") - 1
        if pos < 0:
            raise KeyError(f"{t.date()} is before the first session {self.first.date()}")
        return self.sessions[pos]
