"""The product's own decision as a policy: scores and the stress regime -> expected returns -> the
allocator with every limit, against the SPY replication re-estimated at t.

The stress regime and composite scores come from the causal pipelines (every value at t uses data
up to t: expanding standardisation, walk-forward warning model, factor values from prices up to t),
passed in as daily frames and read at row t; prices, volumes and the covariance come from the view
``market.asof(t)``. ``use_signal=False`` is ``rotation-nosignal``: always calm (no defensive floor, no
stress tilt), same allocator and limits. The opening decision (an all-cash book) starts from the
benchmark weights, so the turnover limit applies to the move away from the benchmark, not to the
initial funding (which the simulator still charges). ``plain=True`` is plain mean-variance (no limit but long only).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.optimize.benchmark import replicating_weights
from engine.optimize.compare import PLAIN_LIMITS
from engine.optimize.costs import average_dollar_volume
from engine.optimize.covariance import risk_model
from engine.optimize.expected import expected_returns
from engine.optimize.fastsolve import FastAllocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs


class Rotation:
    """Allocator policy over ``sectors``; ``regimes``: daily regime names (None/NaN = calm);
    ``composite``: date x sector composite scores (NaN = no score)."""

    def __init__(self, sectors: list[str], limits: Limits, regimes: pd.Series, composite: pd.DataFrame,
                 use_signal: bool = True, plain: bool = False, window: int = 252, benchmark: str = "SPY",
                 name: str = "rotation"):
        self.tickers, self.window, self.bench, self.name = list(sectors), window, benchmark, name
        self.limits = limits.with_(**PLAIN_LIMITS, costs=None) if plain else limits
        self.regimes, self.composite, self.use_signal = regimes, composite.reindex(columns=self.tickers), use_signal
        self.alloc = FastAllocator(self.tickers, impact_exponent=self.limits.cost_model().impact_exponent)
        self.last_allocation = None
        self.turnover_bound: list[tuple[pd.Timestamp, bool]] = []   # (decision, turnover limit binding)
        self.expected: dict[pd.Timestamp, object] = {}              # decision -> Allocation
        self._cost_inputs: dict[pd.Timestamp, tuple] = {}

    def cost_inputs(self, t) -> tuple:
        """(daily volatility, ADV) per ticker the allocation at ``t`` priced its trades with."""
        return self._cost_inputs[t]

    def regime_at(self, t) -> str:
        if not self.use_signal:
            return "calm"
        r = self.regimes.asof(t) if len(self.regimes) else None
        return r if isinstance(r, str) else "calm"

    def target(self, view, t, current) -> pd.Series:
        px = view.prices.iloc[-(self.window + 2):]
        rets = px.reindex(columns=self.tickers).pct_change(fill_method=None).iloc[1:]
        rm = risk_model(rets, t, window=self.window)
        inv = np.isin(self.tickers, rm.investable)
        sig = np.sqrt(np.diag(rm.cov.to_numpy()))
        sigma = pd.Series(sig, index=self.tickers)
        row = self.composite.index.searchsorted(pd.Timestamp(t), side="right") - 1      # last score at or before t
        score = self.composite.iloc[row].to_numpy(float) if row >= 0 else np.full(len(self.tickers), np.nan)
        score = pd.Series(np.where(inv, score, np.nan), index=self.tickers)
        mu = expected_returns(score, pd.Series(np.where(sig > 0, sig, np.nan), index=self.tickers), self.regime_at(t))
        mu = pd.Series(np.where(mu.isna().to_numpy() & inv, 0.0, mu.to_numpy()), index=self.tickers)  # investable, unscored: 0
        bw = replicating_weights(rets, px[self.bench].pct_change(fill_method=None).iloc[1:], t,
                                 window=self.window).reindex(self.tickers).fillna(0.0).to_numpy()
        bw = np.where(inv, bw, 0.0)
        bench = pd.Series(bw / bw.sum(), index=self.tickers)
        close, vol = view.close.reindex(columns=self.tickers), view.volume.reindex(columns=self.tickers)
        adv = average_dollar_volume(close.iloc[-64:], vol.iloc[-64:], t)
        w0 = current.reindex(self.tickers).fillna(0.0)
        if w0.sum() < 1e-9:      # the opening decision funds from cash: the limits apply to the move from the benchmark
            w0 = bench
        inputs = AllocationInputs(mu=mu, cov=rm.cov, current=w0,
                                  benchmark=bench, regime=self.regime_at(t), sigma_daily=sigma / np.sqrt(252),
                                  adv_dollars=adv, investable=tuple(rm.investable),
                                  prices=_last_valid(close))
        nav = current.attrs.get("nav")
        lim = self.limits.with_(portfolio_value=float(nav)) if nav and nav > 0 else self.limits
        a = self.alloc.solve(inputs, lim)
        self.last_allocation = a
        self.turnover_bound.append((t, "turnover" in a.binding))
        self.expected[t] = a
        self._cost_inputs[t] = (inputs.sigma_daily.to_numpy(float), adv.to_numpy(float))
        return a.weights


def _last_valid(frame: pd.DataFrame) -> pd.Series:
    """The last non-NaN value of each column (NaN if none): ``frame.ffill().iloc[-1]`` without the copy."""
    arr = frame.to_numpy(float)
    ok = ~np.isnan(arr)
    row = len(arr) - 1 - np.argmax(ok[::-1], axis=0) if len(arr) else np.zeros(arr.shape[1], int)
    has = ok.any(axis=0) if len(arr) else np.zeros(arr.shape[1], bool)
    return pd.Series(np.where(has, arr[row, np.arange(arr.shape[1])] if len(arr) else np.nan, np.nan), index=frame.columns)
