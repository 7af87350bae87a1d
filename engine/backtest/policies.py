"""Policies: target weights at a decision session t from the point-in-time view ``market.asof(t)``.

A policy has ``name``, ``tickers`` (the book's columns) and ``target(view, t, current) -> pd.Series``
of weights summing to at most 1 (the rest is cash; the simulator applies leverage). ``current`` is
the book's weights at t (drifted, after any fill at t). Strategies are composed from parts:
signal -> allocator -> schedule -> cost model -> overlay; the schedule, costs and overlay live in
:class:`engine.backtest.simulate.BacktestConfig`, the signal and allocator here.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, NoDataError


class EqualWeight:
    """Equal weights over the tickers that have a price at t."""

    uses_book = False        # target() ignores the current book: its fills may be made all at once

    def __init__(self, tickers: list[str], name: str = "equal"):
        self.tickers, self.name = list(tickers), name

    def target(self, view, t, current) -> pd.Series:
        row = view.prices.reindex(columns=self.tickers).iloc[-1]
        live = row.notna()
        if not live.any():
            raise NoDataError(f"no ticker of {', '.join(self.tickers)} has a price at {t.date()}")
        return live.astype(float) / live.sum()

    def targets_at(self, prices: pd.DataFrame, positions) -> dict[int, np.ndarray]:
        """The same targets for many decision positions at once (row p uses row p only)."""
        live = np.isfinite(prices.reindex(columns=self.tickers).to_numpy(float))
        return {int(p): live[p] / live[p].sum() for p in positions if live[p].any()}


class BuyHold:
    """All in one ticker (``spy``: buy and hold SPY; the book drifts only by its own return)."""

    uses_book = False

    def __init__(self, ticker: str = "SPY", name: str = "spy"):
        self.tickers, self.name = [ticker], name

    def target(self, view, t, current) -> pd.Series:
        if not np.isfinite(view.prices[self.tickers[0]].iloc[-1]):
            raise NoDataError(f"{self.tickers[0]} has no price at {t.date()}")
        return pd.Series(1.0, index=self.tickers)


class Momentum:
    """EXP-002: the top ``top`` tickers by trailing ``lookback``-session total return, equal weight.

    A ticker is eligible once it has ``lookback + 1`` prices (so its trailing return exists); ties keep
    the universe order. Fewer than ``top`` eligible tickers: equal weight over those.
    """

    uses_book = False

    def __init__(self, universe: list[str], lookback: int = 126, top: int = 3, name: str = "momentum"):
        if lookback < 1 or top < 1:
            raise ArgumentError("--lookback/--top", f"expected positive whole numbers, got {lookback}, {top}")
        self.tickers, self.lookback, self.top, self.name = list(universe), int(lookback), int(top), name

    def _pick(self, score: np.ndarray) -> np.ndarray:
        ok = np.isfinite(score)
        w = np.zeros(len(score))
        if not ok.any():
            return w
        order = np.argsort(-np.where(ok, score, -np.inf), kind="stable")[: min(self.top, int(ok.sum()))]
        w[order] = 1.0 / len(order)
        return w

    def target(self, view, t, current) -> pd.Series:
        px = view.prices.reindex(columns=self.tickers)
        if len(px) < self.lookback + 1:
            raise NoDataError(f"momentum at {t.date()}: fewer than {self.lookback + 1} sessions of prices")
        window = px.iloc[-(self.lookback + 1):].to_numpy(float)
        counts = px.notna().sum().to_numpy()
        score = np.where(counts >= self.lookback + 1, window[-1] / window[0] - 1.0, np.nan)
        if not np.isfinite(score).any():
            raise NoDataError(f"momentum at {t.date()}: no ticker has {self.lookback + 1} prices yet")
        return pd.Series(self._pick(score), index=self.tickers)

    def targets_at(self, prices: pd.DataFrame, positions) -> dict[int, np.ndarray]:
        """The same targets for many decision positions at once (vectorised; row p uses rows <= p only).

        Equal to :meth:`target` and to a loop over :meth:`_pick` (tests/test_backtest_fast.py): the
        ranking is the same stable argsort, taken on all decision rows in one call."""
        px = prices.reindex(columns=self.tickers).to_numpy(float)
        P = np.asarray([int(p) for p in positions if p >= self.lookback], dtype=int)
        if not len(P):
            return {}
        eligible = np.cumsum(np.isfinite(px[:P.max() + 1]), axis=0)[P] >= self.lookback + 1
        with np.errstate(invalid="ignore", divide="ignore"):
            score = np.where(eligible, px[P] / px[P - self.lookback] - 1.0, np.nan)
        ok = np.isfinite(score)
        k = np.minimum(self.top, ok.sum(axis=1))
        order = np.argsort(np.where(ok, -score, np.inf), axis=1, kind="stable")
        rank = np.empty_like(order)
        np.put_along_axis(rank, order, np.arange(score.shape[1])[None, :], axis=1)
        w = np.where(rank < k[:, None], 1.0 / np.maximum(k, 1)[:, None], 0.0)
        keep = k > 0
        return dict(zip(P[keep].tolist(), w[keep]))


class Replication:
    """The benchmark: the long-only sector portfolio replicating SPY best over the ``window`` sessions up to t,
    re-estimated at every rebalance (:func:`engine.optimize.benchmark.replicating_weights`)."""

    uses_book = False

    def __init__(self, sectors: list[str], benchmark: str = "SPY", window: int = 252, name: str = "benchmark"):
        self.tickers, self.bench, self.window, self.name = list(sectors), benchmark, window, name

    def target(self, view, t, current) -> pd.Series:
        from engine.optimize.benchmark import replicating_weights

        px = view.prices.iloc[-(self.window + 1):]
        rets = px.reindex(columns=self.tickers).pct_change(fill_method=None).iloc[1:]
        spy = px[self.bench].pct_change(fill_method=None).iloc[1:]
        return replicating_weights(rets, spy, t, window=self.window)
