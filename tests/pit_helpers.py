"""Point-in-time test helpers: a market whose every value after a date is scrambled."""
from __future__ import annotations

from dataclasses import replace

import numpy as np


def altered_after(market, t):
    """``market`` with every price, close, volume and stress value after ``t`` scrambled (x U(0.5, 1.5))."""
    rng = np.random.default_rng(0)
    out = {}
    for name in ("prices", "close", "volume", "stress"):
        df = getattr(market, name).copy()
        after = df.index > t
        df.loc[after] = df.loc[after].to_numpy() * rng.uniform(0.5, 1.5, df.loc[after].shape)
        out[name] = df
    return replace(market, **out)
