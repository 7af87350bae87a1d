"""The product's own decision as a policy: scores and the stress regime -> expected returns -> the
allocator with every limit, against the SPY replication re-estimated at t.

The stress regime and composite scores come from the causal pipelines (every value at t uses data
up to t: expanding standardisation, walk-forward warning model, factor values from prices up to t),
passed in as daily frames and read at row t; prices, volumes and the covariance come from the view
``market.asof(t)``. ``use_signal=False`` is ``rotation-nosignal``: always calm (no defensive floor, no
stress tilt), same allocator and limits. The opening decision (an all-cash book) starts from the
benchmark weights, so the turnover limit applies to the move away from the benchmark, not to the
initial funding (which the simulator still charges). ``plain=True`` is plain mean-variance (no limit but long only).

The defensive tilt's size at a rebalance in stress or crisis follows :func:`engine.stress.defensive.tilt_basis`
point in time: the defensive basket's evidence is re-estimated from the windows that ended by t
(:func:`engine.stress.defensive.tilt_at`); the documented prior unless that evidence supports an
estimate (``estimate_tilt=False``: always the prior). ``tilts`` records (basis, size) per such decision.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from engine.optimize.benchmark import replicate_window
from engine.optimize.compare import PLAIN_LIMITS
from engine.optimize.covariance import covariance_window
from engine.optimize.expected import PRIOR_TILT, TILT_MULTIPLIER, expected_returns_array, tilt_vector
from engine.stress import defensive as dfn
from engine.universe import DEFENSIVE, TECH
from engine.errors import ArgumentError
from engine.optimize.fastsolve import FastAllocator, shared_allocator
from engine.optimize.limits import Limits
from engine.optimize.problem import AllocationInputs


def fast_allocator(tickers: list[str], exponent: float) -> FastAllocator:
    """A fresh-solver :class:`FastAllocator` (:func:`engine.optimize.fastsolve.shared_allocator`): every
    backtest starts from a fresh solver, so a sweep's results do not depend on which configurations a worker
    ran before (tests/test_backtest_rotation_fast.py checks two runs in a row are identical)."""
    return shared_allocator(tickers, exponent)


class Rotation:
    """Allocator policy over ``sectors``; ``regimes``: daily regime names (None/NaN = calm);
    ``composite``: date x sector composite scores (NaN = no score).

    Two ways to read the market, one decision: :meth:`target` cuts the windows it needs from the view
    ``market.asof(t)`` (the reference); :meth:`bind` computes the same series once for the whole market
    (returns, dollar volume, last close: each row uses that row and the one before only) and
    :meth:`target_at` reads them by position, rows up to t only (the simulator's fast path; tests check
    both give the same weights and that data after t change nothing up to t).
    """

    def __init__(self, sectors: list[str], limits: Limits, regimes: pd.Series, composite: pd.DataFrame,
                 use_signal: bool = True, plain: bool = False, window: int = 252, benchmark: str = "SPY",
                 name: str = "rotation", steps: int | str = 1, step_sessions: int | None = None,
                 max_steps: int | None = None, estimate_tilt: bool = True):
        self.tickers, self.window, self.bench, self.name = list(sectors), window, benchmark, name
        if steps != "auto" and (isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1):
            raise ArgumentError("--steps", f"expected a positive whole number of steps or 'auto', got {steps!r}")
        self.steps = steps if steps == "auto" else int(steps)
        # a step's liquidity limit assumes liquidity_days sessions of volume: steps are that far apart
        self.step_sessions = int(step_sessions or max(1, round(limits.liquidity_days)))
        self.max_steps = int(max_steps or max(1, 21 // self.step_sessions))      # a monthly cycle
        self.paths: dict[pd.Timestamp, list[np.ndarray]] = {}                     # decision -> weights after each step
        self.limits = limits.with_(**PLAIN_LIMITS, costs=None) if plain else limits
        self.regimes, self.composite, self.use_signal = regimes, composite.reindex(columns=self.tickers), use_signal
        self._scores = self.composite.to_numpy(float)
        self._index = pd.Index(self.tickers)                       # built once: Series below reuse it
        self.alloc = fast_allocator(self.tickers, self.limits.cost_model().impact_exponent)
        self.last_allocation = None
        self.turnover_bound: list[tuple[pd.Timestamp, bool]] = []   # (decision, turnover limit binding)
        self.expected: dict[pd.Timestamp, object] = {}              # decision -> Allocation
        self._cost_inputs: dict[pd.Timestamp, tuple] = {}
        self._bound = None
        self._pattern = tilt_vector(self.tickers)
        self._bench_support = None          # the previous replication's support: a start for the next one
        known = regimes.dropna() if len(regimes) else regimes
        self._regime_dates, self._regime_values = known.index, known.to_numpy(object)
        self.estimate_tilt = estimate_tilt
        self.tilts: dict[pd.Timestamp, tuple[str, float]] = {}     # decision in stress/crisis -> (basis, size)
        self._spread = None                                         # bind(): the basket's spread per session

    def cost_inputs(self, t) -> tuple:
        """(daily volatility, ADV) per ticker the allocation at ``t`` priced its trades with."""
        return self._cost_inputs[t]

    def regime_at(self, t) -> str:
        if not self.use_signal:
            return "calm"
        row = self._regime_dates.searchsorted(pd.Timestamp(t), side="right") - 1 if len(self._regime_dates) else -1
        r = self._regime_values[row] if row >= 0 else None         # = regimes.asof(t): the last known value
        return r if isinstance(r, str) else "calm"

    def target(self, view, t, current) -> pd.Series:
        """The decision at ``t`` from the point-in-time view (the reference path)."""
        px = view.prices.iloc[-(self.window + 2):]
        rets = px.reindex(columns=self.tickers).pct_change(fill_method=None).iloc[1:]
        rb = px[self.bench].pct_change(fill_method=None).iloc[1:]
        close, vol = view.close.reindex(columns=self.tickers), view.volume.reindex(columns=self.tickers)
        dv = (close.iloc[-64:] * vol.iloc[-64:]).iloc[-63:]
        tilt = self._tilt(t, lambda: self._evidence_of(view.prices), len(view.prices) - 1)
        return self._decide(t, current, rets.to_numpy(float), rb.to_numpy(float), dv.to_numpy(float),
                            _last_valid(close).to_numpy(float), tilt)

    def _evidence_of(self, prices: pd.DataFrame):
        """(basket spread, stress mask, bootstrap seed) on ``prices``' sessions (None without the basket's
        prices): :func:`engine.stress.defensive.basket_spread` and the regime at each session."""
        need = [*DEFENSIVE, TECH]
        if not all(c in prices.columns for c in need):
            return None
        stressed = self.regimes.reindex(prices.index).isin(dfn.STRESS_REGIMES).to_numpy(bool)
        return (dfn.basket_spread(prices[need], dfn.HORIZON, TECH), stressed,
                dfn.basket_seed(prices.columns, TECH))

    def _tilt(self, t, evidence, pos: int) -> float:
        """The tilt's size at ``t`` (session position ``pos`` of the evidence): the prior unless the
        regime applies a tilt and the evidence known at t supports an estimate."""
        if not (self.estimate_tilt and self.use_signal and TILT_MULTIPLIER.get(self.regime_at(t), 0.0) > 0):
            return PRIOR_TILT
        ev = evidence()
        basis, size = ("prior", PRIOR_TILT) if ev is None else dfn.tilt_at(ev[0], ev[1], pos, seed=ev[2])
        self.tilts[pd.Timestamp(t)] = (basis, size)
        return size

    def bind(self, market) -> None:
        """Compute the per-session arrays of ``market`` once (see the class docstring)."""
        px = market.prices.reindex(columns=self.tickers + [self.bench])
        rets = px.pct_change(fill_method=None).to_numpy(float)
        close = market.close.reindex(index=px.index, columns=self.tickers)
        vol = market.volume.reindex(index=px.index, columns=self.tickers)
        self._bound = (market.sessions, rets[:, :-1], rets[:, -1], (close * vol).to_numpy(float),
                       close.ffill().to_numpy(float))
        self._spread = None
        self._market_prices = market.prices

    def _bound_evidence(self):
        """:meth:`_evidence_of` on the whole bound market, computed once (each session d's spread uses
        prices up to d + horizon; :func:`engine.stress.defensive.tilt_at` reads d <= pos - horizon only)."""
        if self._spread is None:
            self._spread = (self._evidence_of(self._market_prices.reindex(self._bound[0])),)
        return self._spread[0]

    def target_at(self, pos: int, t, current) -> pd.Series:
        """The decision at session position ``pos`` (= ``t``) from the arrays of :meth:`bind`, rows <= pos."""
        sessions, R, rb, dv, last = self._bound
        if sessions[pos] != pd.Timestamp(t):
            raise ValueError(f"position {pos} is {sessions[pos].date()}, not {pd.Timestamp(t).date()}")
        lo = max(1, pos - self.window)
        tilt = self._tilt(t, self._bound_evidence, pos)
        return self._decide(t, current, R[lo:pos + 1], rb[lo:pos + 1], dv[max(0, pos - 62):pos + 1], last[pos], tilt)

    def path_at(self, t) -> list[np.ndarray] | None:
        """Weights after each step of the multi-step rebalance decided at ``t`` (None: one step)."""
        return self.paths.get(t)

    def _at_value(self, nav) -> Limits:
        """The limits sized for a book of ``nav`` dollars (the limits themselves without a positive NAV)."""
        return self.limits.with_(portfolio_value=float(nav)) if nav and nav > 0 else self.limits

    def _plan(self, inputs, lim, w0, cov, sigma_daily, adv, last_close):
        return _plan_path(self, inputs, lim, w0, cov, sigma_daily, adv, last_close)

    def _decide(self, t, current, R, rb, dv, last_close, tilt: float = PRIOR_TILT) -> pd.Series:
        """Risk model, benchmark, expected returns and the allocation from the windows ending at ``t``:
        ``R``/``rb`` the sector/SPY returns of the last ``window`` + 1 sessions, ``dv`` the dollar
        volume of the last 63, ``last_close`` the last known close per sector, ``tilt`` the defensive
        tilt's size (:meth:`_tilt`)."""
        win = R[-self.window:]
        cov, inv, _ = covariance_window(win, t=t)
        investable = tuple(tk for tk, ok in zip(self.tickers, inv) if ok)
        sig = np.sqrt(np.diag(cov))
        row = self.composite.index.searchsorted(pd.Timestamp(t), side="right") - 1      # last score at or before t
        score = self._scores[row] if row >= 0 else np.full(len(self.tickers), np.nan)
        regime = self.regime_at(t)
        mu = expected_returns_array(np.where(inv, score, np.nan), np.where(sig > 0, sig, np.nan), self._pattern, regime,
                                    defensive_tilt=tilt)
        mu = np.where(np.isnan(mu) & inv, 0.0, mu)           # investable, unscored: 0
        raw = replicate_window(win, rb[-self.window:], t, start=self._bench_support)
        self._bench_support = raw > 0
        bw = np.where(inv, raw, 0.0)
        bench = bw / bw.sum()
        with np.errstate(invalid="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)          # a sector with no volume yet: NaN ADV
            adv = np.nanmean(dv, axis=0)
        held = (current if current.index is self._index else current.reindex(self._index)).to_numpy(float)
        held = np.where(np.isnan(held), 0.0, held)
        w0 = held
        if w0.sum() < 1e-9:      # the opening decision funds from cash: the limits apply to the move from the benchmark
            w0 = bench
        # arrays in the allocator's ticker order (AllocationInputs takes them as they are)
        inputs = AllocationInputs(mu=mu, cov=cov, current=w0, benchmark=bench, regime=regime,
                                  sigma_daily=sig / np.sqrt(252), adv_dollars=adv, investable=investable,
                                  prices=np.asarray(last_close, float))
        lim = self._at_value(current.attrs.get("nav"))
        opening = held.sum() < 1e-9       # funded in one go
        if self.steps == 1 or opening:
            a = self.alloc.solve(inputs, lim)
        else:
            a, self.paths[t] = self._plan(inputs, lim, w0, cov, sig / np.sqrt(252), adv, last_close)
        self.last_allocation = a
        self.turnover_bound.append((t, "turnover" in a.binding))
        self.expected[t] = a
        self._cost_inputs[t] = (inputs.sigma_daily, adv)
        return a.weights


def _plan_path(rot, inputs, lim, w0, cov, sigma_daily, adv, last_close):
    """The multi-step plan of :func:`engine.optimize.multistep.plan_steps` (the target every per-step
    limit lets the path reach; ``auto``: the step count minimising expected cost plus the cost of
    staying off target) and its straight-line path from
    :func:`engine.optimize.transition.transition_path`, every step charged with ``lim.cost_model()``.
    Returns (the target's Allocation, the weights after each step)."""
    from engine.optimize.costs import trade_bounds
    from engine.optimize.multistep import path_tradeoff, plan_steps
    from engine.optimize.transition import transition_path

    idx, nav, model = rot._index, lim.portfolio_value, lim.cost_model()
    bound = pd.Series(trade_bounds(adv, nav, lim.participation, lim.liquidity_days), index=idx)
    impact = pd.Series(model.impact_coefficients(np.nan_to_num(sigma_daily), adv, nav), index=idx)
    cur, price = pd.Series(w0, index=idx), pd.Series(last_close, index=idx)
    cov_df = pd.DataFrame(cov, index=idx, columns=idx)
    sd, advs = pd.Series(sigma_daily, index=idx), pd.Series(adv, index=idx)

    def tradeoff(target, m):
        return path_tradeoff(cur, target, m, cov_df, model, nav, price, sd, advs, lim.risk_aversion, rot.step_sessions)

    plan = plan_steps(lambda limits: rot.alloc.solve(inputs, limits), lim, rot.steps, cur, bound, tradeoff,
                      max_steps=rot.max_steps)
    path = transition_path(cur, plan.allocation.weights, plan.steps, lim, impact=impact, trade_bound=bound,
                           prices=price)
    return plan.allocation, [path.loc[k, rot.tickers].to_numpy(float) for k in range(1, plan.steps + 1)]


def _last_valid(frame: pd.DataFrame) -> pd.Series:
    """The last non-NaN value of each column (NaN if none): ``frame.ffill().iloc[-1]`` without the copy."""
    arr = frame.to_numpy(float)
    ok = ~np.isnan(arr)
    row = len(arr) - 1 - np.argmax(ok[::-1], axis=0) if len(arr) else np.zeros(arr.shape[1], int)
    has = ok.any(axis=0) if len(arr) else np.zeros(arr.shape[1], bool)
    return pd.Series(np.where(has, arr[row, np.arange(arr.shape[1])] if len(arr) else np.nan, np.nan), index=frame.columns)
