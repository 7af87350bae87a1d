"""The in-memory market: aligned daily series on the exchange-session calendar.

A :class:`Market` is read-only by convention. ``market.asof(t)`` returns the
point-in-time view used by every walk-forward computation: nothing *published* after ``t``. Daily
series are placed at the session they become available (see ``engine.data.assemble``), so cutting
rows after ``t`` is enough for them; weekly reference series keep their own dates and are cut at
``t`` minus their availability lag.
"""
from __future__ import annotations

import weakref
from dataclasses import dataclass, field, replace

import numpy as np
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


_CUT_AT: "weakref.WeakKeyDictionary[Market, pd.Timestamp]" = weakref.WeakKeyDictionary()   # view -> its t


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
    - ``lags``: availability lag in sessions by series (``engine.universe.AVAILABILITY_LAGS``, overridden
      by the mapping file); the demo market is generated at availability dates (no lags).
    - ``stale``: sessions x stress series, sessions since the last value available (None: not tracked).
    - ``returns``: return series on their own dates (Ken French portfolios), not aligned.
    - ``user_factors``: the user's own factor panel (:class:`engine.data.user_factors.FactorPanel`, the
      data folder's ``factors.csv``) or None; ``asof(t)`` keeps only the rows published by t.
    """

    prices: pd.DataFrame
    close: pd.DataFrame
    volume: pd.DataFrame
    stress: pd.DataFrame
    reference: pd.DataFrame
    meta: dict[str, SeriesMeta] = field(default_factory=dict)
    fills: dict[str, int] = field(default_factory=dict)
    label: str = ""
    lags: dict[str, int] = field(default_factory=dict)
    stale: pd.DataFrame | None = None
    returns: pd.DataFrame = field(default_factory=pd.DataFrame)
    user_factors: object | None = None

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
        """The point-in-time view at ``t``: every row dated after ``t`` removed, and each reference
        series cut at its last value published by ``t`` (its availability lag in sessions)."""
        t = pd.Timestamp(t)
        if _CUT_AT.get(self) == t:          # already this view (asof is idempotent): keep its memos
            return self
        cut = lambda df: df.loc[:t]  # noqa: E731
        ref = cut(self.reference)
        if self.lags and len(ref.columns) and len(self.sessions):
            pos = self.sessions.searchsorted(t, side="right") - 1
            limits = [self.sessions[p] if p >= 0 else pd.Timestamp.min
                      for p in (pos - self.lags.get(c, 0) for c in ref.columns)]
            if ref.index.is_monotonic_increasing and all(dt == np.float64 for dt in ref.dtypes):   # one array pass, same values
                vals = ref.to_numpy(dtype=float, copy=True)
                rows = ref.index.searchsorted(pd.DatetimeIndex(limits), side="right")
                vals[np.arange(len(ref))[:, None] >= rows[None, :]] = np.nan
                ref = pd.DataFrame(vals, index=ref.index, columns=list(ref.columns))
            else:
                ref = pd.DataFrame({c: ref[c].where(ref.index <= lim) for c, lim in zip(ref.columns, limits)},
                                   index=ref.index)
        view = replace(
            self,
            prices=cut(self.prices), close=cut(self.close), volume=cut(self.volume),
            stress=cut(self.stress), reference=ref, returns=cut(self.returns),
            stale=None if self.stale is None else cut(self.stale),
            user_factors=None if self.user_factors is None else self.user_factors.asof(t),
        )
        _CUT_AT[view] = t                   # kept outside the object: Market(**view.__dict__) still works
        return view

    def stale_inputs(self, t, columns=None) -> dict[str, int]:
        """Series (of ``columns``, default all stress series) whose last available value is older than
        session ``t``: name -> sessions stale. Series that have not started by ``t`` are left out."""
        if self.stale is None or not len(self.stale):
            return {}
        row = self.stale.loc[:pd.Timestamp(t)]
        if not len(row):
            return {}
        last = row.iloc[-1]
        cols = [c for c in (columns if columns is not None else last.index) if c in last.index]
        return {c: int(last[c]) for c in cols if last[c] == last[c] and last[c] > 0}

    def session_on_or_before(self, t) -> pd.Timestamp:
        """The last session at or before ``t`` (raises KeyError if ``t`` precedes the data)."""
        t = pd.Timestamp(t)
        pos = self.sessions.searchsorted(t, side="right") - 1
        if pos < 0:
            raise KeyError(f"{t.date()} is before the first session {self.first.date()}")
        return self.sessions[pos]
