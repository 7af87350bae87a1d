"""A tiny synthetic Market for backtest tests."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.data.model import Market


def tiny_market(prices: dict, rf: float | list = 0.0, vix: float | list = 18.0, start="2020-01-01") -> Market:
    """Market on business days from ``start`` with the given price columns (lists), DGS3MO ``rf`` (percent)
    and VIX; raw close = prices, volume 1e6 shares."""
    n = len(next(iter(prices.values())))
    idx = pd.bdate_range(start, periods=n, name="date")
    px = pd.DataFrame(prices, index=idx, dtype=float)
    stress = pd.DataFrame({"dgs3mo": np.broadcast_to(rf, n).astype(float), "vix": np.broadcast_to(vix, n).astype(float)},
                          index=idx)
    return Market(prices=px, close=px.copy(), volume=px * 0 + 1e6, stress=stress,
                  reference=pd.DataFrame(index=idx), label="test")


class Fixed:
    """A policy holding fixed weights."""

    def __init__(self, weights: dict, name="fixed"):
        self.tickers, self.w, self.name = list(weights), pd.Series(weights, dtype=float), name
        self.seen: list = []

    def target(self, view, t, current):
        self.seen.append((t, view.prices.index[-1]))
        return self.w
