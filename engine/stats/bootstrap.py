"""Stationary block bootstrap (Politis and Romano 1994) through the ``arch`` package.

The stationary bootstrap resamples blocks of consecutive rows whose lengths are geometric with mean
``block``; it keeps the serial dependence of daily returns (volatility clustering, overlapping
12-month windows) that an i.i.d. bootstrap would destroy. Rows of a 2-D array are resampled
together, so statistics of several aligned series (a strategy and its benchmark) keep their
cross-correlation.
"""
from __future__ import annotations

import math
from typing import Callable

import numpy as np

DEFAULT_REPS = 1000
DEFAULT_LEVEL = 0.95


def block_length(data: np.ndarray) -> int:
    """Mean block length for ``data`` (n rows, or n x k): the Politis-White (2004, corrected by Patton,
    Politis and White 2009) optimal stationary-bootstrap length from ``arch``, the largest over columns,
    rounded up, at least 1 and at most n // 2. NaN rows must be removed by the caller."""
    from arch.bootstrap import optimal_block_length

    x = np.asarray(data, dtype=float)
    x = x.reshape(len(x), -1)
    if len(x) < 8:
        return 1
    opt = optimal_block_length(x)["stationary"].to_numpy(float)
    opt = opt[np.isfinite(opt)]
    b = math.ceil(float(opt.max())) if len(opt) else 1
    return int(min(max(b, 1), max(len(x) // 2, 1)))


def stationary_ci(data: np.ndarray, statistic: Callable[[np.ndarray], float], *, block: int | None = None,
                  reps: int = DEFAULT_REPS, level: float = DEFAULT_LEVEL, seed: int = 0) -> dict:
    """Percentile interval of ``statistic(data)`` under the stationary bootstrap.

    ``data``: n rows (1-D, or n x k resampled by row); ``statistic`` maps an array shaped like
    ``data`` to a float (NaN results are dropped). ``block``: mean block length (None: ``block_length``).
    Returns ``{"value", "ci_low", "ci_high", "block", "reps", "level", "method"}``; the interval is
    None when fewer than half the replications give a finite value.
    """
    from arch.bootstrap import StationaryBootstrap

    x = np.asarray(data, dtype=float)
    value = float(statistic(x))
    b = block_length(x) if block is None else int(block)
    bs = StationaryBootstrap(b, x, seed=seed)
    draws = np.array([statistic(pos[0]) for pos, _ in bs.bootstrap(reps)], dtype=float)
    draws = draws[np.isfinite(draws)]
    lo = hi = None
    if len(draws) >= reps / 2:
        a = (1.0 - level) / 2.0
        lo, hi = (float(v) for v in np.quantile(draws, [a, 1.0 - a]))
    return {"value": value, "ci_low": lo, "ci_high": hi, "block": b, "reps": int(reps), "level": level,
            "method": f"stationary block bootstrap (Politis-Romano), mean block {b} rows, {reps} draws, "
                      f"{level:.0%} percentile interval"}
