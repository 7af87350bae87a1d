"""The walk-forward loop: decisions at scheduled sessions from ``market.asof(t)``, fills at t + lag.

``run(market, policy, config)``: the book opens with ``capital`` in cash at the last session before
``config.start``; the first decision is taken there and fills at the first session on or after the
start with lag 1 (at the same close with lag 0, which is labelled look-ahead for end-of-day data).
Later decisions are the schedule's sessions whose fill falls on or before the last session on or
before ``config.end``. A policy that raises a product error at t (an infeasible allocator, too little
data) leaves the book as it is and the failure is recorded as ``(t, reason, conflicts)``.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.backtest import fastpath
from engine.backtest.book import Arrays, Book
from engine.backtest.schedule import decision_positions
from engine.costs import CostModel
from engine.errors import ArgumentError, InfeasibleError, NoDataError, RotationError

log = logging.getLogger(__name__)
LOOK_AHEAD = "fills on the decision close: look-ahead for end-of-day data"
VIX_STEPS = ((15.0, 1.2), (20.0, 1.0), (30.0, 0.8), (np.inf, 0.6))   # EXP-002's published overlay


def vix_multiplier(vix: float) -> float:
    """EXP-002's overlay: 1.2 / 1.0 / 0.8 / 0.6 for a VIX close below 15 / 20 / 30 / otherwise (NaN: 1.0)."""
    if not np.isfinite(vix):
        return 1.0
    return next(m for level, m in VIX_STEPS if vix < level)


@dataclass(frozen=True)
class BacktestConfig:
    """Timing, leverage, financing and costs of one backtest (dates are resolved to sessions by ``run``)."""

    start: pd.Timestamp
    end: pd.Timestamp
    execution_lag: int = 1
    schedule: str = "monthly"
    every: int = 21
    min_gap: int = 5
    leverage: float = 1.0
    vix_overlay: bool = False
    vix_daily_reset: bool = False
    financing_spread_bps: float = 0.0
    capital: float = 1e9
    positional: bool = True          # a policy with bind/target_at reads arrays by position (False: market.asof(t))
    cost_model: CostModel = field(default_factory=lambda: CostModel(half_spread_bps=10.0, impact_eta=0.0))

    def __post_init__(self):
        if not isinstance(self.execution_lag, (int, np.integer)) or self.execution_lag < 0:
            raise ArgumentError("--lag", f"expected a whole number of sessions >= 0, got {self.execution_lag!r}")
        if not 0 < self.leverage <= 10:
            raise ArgumentError("--leverage", f"expected a gross exposure between 0 and 10, got {self.leverage}")

    @property
    def timing_note(self) -> str:
        return LOOK_AHEAD if self.execution_lag == 0 else f"fills at the close {self.execution_lag} session(s) after the decision"


@dataclass
class Failed:
    """A rebalance that did not happen: the book was kept."""

    date: pd.Timestamp
    reason: str
    conflicts: list[str]

    def to_dict(self) -> dict:
        return {"date": self.date.date().isoformat(), "reason": self.reason, "conflicts": list(self.conflicts)}


@dataclass
class Run:
    """Raw output of :func:`run` over sessions ``dates`` (first = first session on or after the start).

    ``nav`` (post-trade, dollars), ``returns`` (daily, net of costs, first = vs opening capital),
    ``weights`` (close, post-trade, fractions of NAV; ``cash`` column), ``bod_weights`` (weights held
    through each session: the previous close's), ``asset_returns`` (total-return per ticker), ``cost``
    and ``turnover`` (one-way: traded / 2 / pre-trade NAV) and ``leverage`` (gross exposure) per
    session, ``trades`` (one row per order), ``failed``, ``decisions`` (decision -> fill date),
    ``transitions`` (first and last fill session of each multi-step rebalance).

    ``weights``, ``bod_weights``, ``asset_returns``, ``trades`` and ``decisions`` are built from the
    run's arrays when first read (a sweep or a bench that reads only the returns does not pay for
    them); the arrays are final when the run returns, so the frames are the same whenever they are read.
    """

    dates: pd.DatetimeIndex
    nav: pd.Series
    returns: pd.Series
    cash_return: pd.Series
    cost: pd.Series
    turnover: pd.Series
    leverage: pd.Series
    failed: list[Failed]
    config: BacktestConfig
    parts: dict = field(default_factory=dict, repr=False)      # arrays behind the frames below
    transitions: list[tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=list)
    _frames: dict = field(default_factory=dict, repr=False)

    def _frame(self, name: str):
        if name not in self._frames:
            p = self.parts
            cols = p["tickers"] + ["cash"]
            if name == "weights":
                out = pd.DataFrame(p["weights"], index=self.dates, columns=cols)
            elif name == "bod_weights":
                out = pd.DataFrame(p["bod"], index=self.dates, columns=cols)
            elif name == "asset_returns":
                out = pd.DataFrame(p["asset_returns"], index=self.dates, columns=p["tickers"])
            elif name == "trades":
                out = _orders(p["order_rows"], p["sessions"], p["tickers"])
            else:
                fills = p["fills"]
                out = list(zip(p["sessions"][np.asarray([d for d, _ in fills], dtype=int)],
                               p["sessions"][np.asarray([f for _, f in fills], dtype=int)]))
            self._frames[name] = out
        return self._frames[name]

    weights = property(lambda self: self._frame("weights"))
    bod_weights = property(lambda self: self._frame("bod_weights"))
    asset_returns = property(lambda self: self._frame("asset_returns"))
    trades = property(lambda self: self._frame("trades"))
    decisions = property(lambda self: self._frame("decisions"))


def arrays_for(market, tickers: list[str], vol_window: int = 63) -> Arrays:
    """Simulation arrays from ``market``: prices, raw closes, daily volatility and ADV known at each
    session (windows ending the session before, so a fill at s does not use s's own volume)."""
    px = market.prices.reindex(columns=tickers)
    raw = market.close.reindex(index=px.index, columns=tickers)
    rets = px.pct_change(fill_method=None)
    sigma = rets.rolling(vol_window, min_periods=20).std().shift(1)
    adv = (raw * market.volume.reindex(index=px.index, columns=tickers)).rolling(vol_window, min_periods=20)\
        .mean().shift(1)
    st = market.stress.reindex(px.index)
    rf = st["dgs3mo"] if "dgs3mo" in st else pd.Series(np.nan, index=px.index)
    vix = st["vix"] if "vix" in st else pd.Series(np.nan, index=px.index)
    return Arrays(px.to_numpy(float), raw.to_numpy(float), sigma.to_numpy(float), adv.to_numpy(float),
                  rf.to_numpy(float), vix.to_numpy(float))


def window(sessions: pd.DatetimeIndex, start, end) -> tuple[int, int]:
    """Positions of the first session on or after ``start`` and the last on or before ``end``."""
    i0 = int(sessions.searchsorted(pd.Timestamp(start), side="left"))
    i1 = int(sessions.searchsorted(pd.Timestamp(end), side="right")) - 1
    if i0 < 1 or i0 >= len(sessions) or i1 < i0:
        raise NoDataError(f"backtest window {pd.Timestamp(start).date()} to {pd.Timestamp(end).date()}: needs a "
                          f"session before the start and one inside (data {sessions[0].date()} to {sessions[-1].date()})")
    return i0, i1


def decisions_for(sessions, config: BacktestConfig, i0: int, i1: int, trigger_dates=None) -> list[int]:
    """The opening decision (i0 - 1) plus the schedule's sessions whose fill lands inside the window."""
    lag = config.execution_lag
    sched = decision_positions(sessions, config.schedule, config.every, trigger_dates, config.min_gap)
    later = [int(p) for p in sched if p >= i0 and p + lag <= i1 and p != i0 - 1]
    return [i0 - 1] + later


def _gross(config: BacktestConfig, vix: float) -> float:
    return config.leverage * (vix_multiplier(vix) if config.vix_overlay else 1.0)


def _gross_many(config: BacktestConfig, vix: np.ndarray) -> np.ndarray:
    """:func:`_gross` for an array of VIX closes (equal to it element by element; tested)."""
    if not config.vix_overlay:
        return np.full(len(vix), config.leverage)
    steps = np.select([vix < level for level, _ in VIX_STEPS[:-1]], [m for _, m in VIX_STEPS[:-1]], VIX_STEPS[-1][1])
    return config.leverage * np.where(np.isfinite(vix), steps, 1.0)


def _target(policy, market, t, current, failed, pos: int | None = None) -> np.ndarray | None:
    """Unlevered target weights of ``policy`` at ``t`` from ``market.asof(t)`` (checked), or None with the
    failure recorded. A bound policy (``target_at``) reads its own arrays at session ``pos`` instead."""
    try:
        if pos is not None:
            target = policy.target_at(pos, t, current)
        else:
            target = policy.target(market.asof(t), t, current)
    except InfeasibleError as e:
        failed.append(Failed(t, str(e), list(e.conflicts)))
        return None
    except RotationError as e:
        failed.append(Failed(t, str(e), []))
        return None
    w = (target if target.index.equals(_index(policy)) else target.reindex(policy.tickers)).fillna(0.0).to_numpy(float)
    if (w < -1e-9).any() or w.sum() > 1 + 1e-6:
        raise ArgumentError("policy", f"{policy.name} at {t.date()}: weights must be >= 0 and sum to at most 1")
    return np.clip(w, 0.0, None)


def _index(policy) -> pd.Index:
    """``policy.tickers`` as an Index, built once per policy (a Series per decision reuses it)."""
    idx = getattr(policy, "_index", None)
    return idx if isinstance(idx, pd.Index) and list(idx) == list(policy.tickers) else pd.Index(policy.tickers)


def _decide(policy, market, sessions, book, t_pos, config, failed) -> np.ndarray | None:
    """Target weights (gross-scaled) of ``policy`` at session ``t_pos`` from ``market.asof(t)``, or None."""
    t = sessions[t_pos]
    w_now = book.weights(t_pos)
    current = pd.Series(w_now / max(1.0, w_now.sum()), index=_index(policy))
    current.attrs["nav"] = book.nav_now()          # dollars: sizes impact and liquidity like the simulator
    bound = config.positional and hasattr(policy, "target_at")     # bound by run(): reads its arrays at t_pos
    w = _target(policy, market, t, current, failed, t_pos if bound else None)
    if w is None:
        return None
    w = np.clip(w, 0.0, None) * _gross(config, book.a.vix[t_pos])
    cost_inputs = getattr(policy, "cost_inputs", None)
    return (w, *cost_inputs(t)) if cost_inputs else w


def run(market, policy, config: BacktestConfig, arrays: Arrays | None = None, trigger_dates=None,
        targets: dict[int, np.ndarray] | None = None, vectorised: bool = True) -> Run:
    """Simulate ``policy`` over the window of ``config`` (see the module docstring).

    ``policy``: an object with ``name``, ``tickers`` and ``target(view, t, current) -> weights``
    (:mod:`engine.backtest.policies`); a policy with ``cost_inputs(t) -> (sigma, adv)`` has its trades
    charged with the volatility and ADV it optimized with. ``targets``: optional precomputed unlevered weights per decision
    position for policies that do not depend on the book (a vectorised fast path; a test checks it equals
    the ``market.asof(t)`` path); with a linear cost model their fills are also made all at once
    (:mod:`engine.backtest.fastpath`; ``vectorised=False`` forces the session loop, the reference).
    """
    sessions = market.sessions
    i0, i1 = window(sessions, config.start, config.end)
    if config.positional and hasattr(policy, "target_at"):
        policy.bind(market)
    a = arrays if arrays is not None else arrays_for(market, policy.tickers)
    book = Book(a, i0 - 1, config.capital, config.cost_model, config.financing_spread_bps)
    lag = config.execution_lag
    decisions = decisions_for(sessions, config, i0, i1, trigger_dates)
    failed: list[Failed] = []
    pending: dict[int, tuple[int, np.ndarray]] = {}
    fills: list[tuple[int, int]] = []
    order_rows: list[tuple] = []
    if vectorised and fastpath.applies(book, config, policy) and (targets is not None or not getattr(policy, "uses_book", True)):
        if targets is None:       # a policy that ignores the book: its decisions first, from market.asof(t) only
            none = pd.Series(0.0, index=policy.tickers)
            targets = {d: _target(policy, market, sessions[d], none, failed) for d in decisions}
        return _run_targets(book, sessions, policy, config, decisions, targets, i0, i1, failed)
    multi = getattr(policy, "steps", 1) != 1          # rebalances executed over several sessions
    days = range(i0 - 1, i1 + 1) if config.vix_daily_reset or multi else sorted(set(decisions) | {d + lag for d in decisions})
    dset = set(decisions)
    paths: dict[int, list[int]] = {}                  # decision -> fill sessions of its multi-step path
    for s in days:
        book.advance_to(s)
        if s in pending:
            d, w = pending.pop(s)
            _fill(book, s, d, w, fills, order_rows)
            if d in paths:
                paths[d].append(s)
        elif config.vix_daily_reset and s > i0 - 1 + lag and s - lag >= i0 - 1:
            w = book.weights(s)
            if w.sum() > 0:
                _fill(book, s, s - lag, w / w.sum() * _gross(config, a.vix[s - lag]), fills, order_rows, reset=True)
        if s in dset:
            if targets is not None:
                w = targets.get(s)
                w = None if w is None else w * _gross(config, a.vix[s])
            else:
                w = _decide(policy, market, sessions, book, s, config, failed)
            if w is not None:
                _schedule(policy, sessions[s], s, w, _gross(config, a.vix[s]), lag, i1, pending, paths)
                if lag == 0 and s in pending:
                    _fill(book, s, *pending.pop(s), fills, order_rows)
                    if s in paths:
                        paths[s].append(s)
    book.advance_to(i1)
    return _collect(book, sessions, policy.tickers, i0, i1, config, failed, fills, order_rows,
                    [(f[0], f[-1]) for f in paths.values() if len(f) >= 2])


def _schedule(policy, t, s, w, gross, lag, i1, pending, paths) -> None:
    """Queue the fills of the decision at session ``s``: one at ``s + lag``, or, when the policy planned
    a multi-step path (``path_at(t)``: unlevered weights after each step), step k at
    ``s + lag + k * policy.step_sessions`` (steps after the window's end are not made). A new decision
    supersedes the steps of an earlier path that are not made yet."""
    for k in [k for k in pending if k >= s + lag]:
        del pending[k]
    path = policy.path_at(t) if hasattr(policy, "path_at") else None
    if not path or len(path) < 2:
        pending[s + lag] = (s, w)
        return
    extra = w[1:] if isinstance(w, tuple) else ()
    paths[s] = []
    for k, step in enumerate(path):
        f = s + lag + k * int(policy.step_sessions)
        if f <= i1:
            wk = np.clip(np.asarray(step, float), 0.0, None) * gross
            pending[f] = (s, (wk, *extra) if extra else wk)


def _run_targets(book, sessions, policy, config, decisions, targets, i0, i1, failed) -> Run:
    """Precomputed targets, linear costs: every fill in one vectorised pass (equal to the loop; tested)."""
    dec = np.asarray([d for d in decisions if targets.get(d) is not None], dtype=int)
    order_rows = []
    if len(dec):
        W = np.stack([targets[d] for d in dec.tolist()]) * _gross_many(config, book.a.vix[dec])[:, None]
        F, V, H, X = fastpath.fill_all(book, dec, config.execution_lag, W)
        order_rows = (F, dec, V, H, X, np.zeros(len(dec), bool))
    book.advance_to(i1)
    return _collect(book, sessions, policy.tickers, i0, i1, config, failed, list(zip(dec.tolist(), (dec + config.execution_lag).tolist())),
                    order_rows)


def _fill(book, s, d, w, fills, order_rows, reset=False):
    w, sig, adv = w if isinstance(w, tuple) else (w, None, None)
    before = book._sh * book.px[s]
    v = book._cash + before.sum()
    book.fill(s, w, sig, adv)
    fills.append((d, s))
    order_rows.append((s, d, v, before, book._sh * book.px[s], reset))


def _orders(order_rows, sessions, tickers) -> pd.DataFrame:
    """One row per order: fill_date, decision_date, ticker, dollars, weight (of pre-trade NAV), kind."""
    cols = ["fill_date", "decision_date", "ticker", "dollars", "weight", "kind"]
    if not len(order_rows):
        return pd.DataFrame(columns=cols)
    if isinstance(order_rows, tuple):      # already stacked (the vectorised path)
        s, d, v, before, after, reset = order_rows
        delta = after - before
    else:
        s, d, v, before, after, reset = (np.asarray(x) for x in zip(*order_rows))
        delta = np.stack(after) - np.stack(before)
    r, j = np.nonzero(np.abs(delta) > 1e-9 * np.maximum(v, 1.0)[:, None])
    return pd.DataFrame({"fill_date": sessions[s[r]], "decision_date": sessions[d[r]],
                         "ticker": np.asarray(tickers, dtype=object)[j], "dollars": delta[r, j],
                         "weight": delta[r, j] / v[r], "kind": np.where(reset[r], "reset", "rebalance")}, columns=cols)


def _collect(book, sessions, tickers, i0, i1, config, failed, fills, order_rows, transitions=()) -> Run:
    idx = sessions[i0:i1 + 1]
    sl = slice(i0, i1 + 1)
    rec = book._records()
    nav = rec["nav"][i0 - 1:i1 + 1]
    px = book.px[i0 - 1:i1 + 1]
    # column-major (Fortran) arrays: pandas stores a frame's columns as rows, so these need no copy
    w = np.empty((len(nav), len(tickers) + 1), order="F")
    np.divide(rec["shares"][i0 - 1:i1 + 1] * px, nav[:, None], out=w[:, :-1])
    w[:, -1] = rec["cash"][i0 - 1:i1 + 1] / nav
    with np.errstate(invalid="ignore", divide="ignore"):
        prev = px[:-1]
        asset_r = np.where(prev > 0, px[1:] / np.where(prev > 0, prev, 1.0) - 1.0, 0.0)
    parts = {"tickers": list(tickers), "sessions": sessions, "weights": w[1:], "bod": w[:-1],
             "asset_returns": np.asfortranarray(asset_r), "order_rows": order_rows, "fills": fills}
    series = lambda x, name: pd.Series(x, index=idx, name=name)  # noqa: E731
    return Run(
        dates=idx, nav=series(nav[1:], "nav"),
        returns=series(nav[1:] / np.r_[config.capital, nav[1:-1]] - 1.0, "return"),
        cash_return=series(rec["cash_rate"][sl], "cash_return"), cost=series(book.cost[sl], "cost"),
        turnover=series(book.traded[sl] / 2.0 / rec["pretrade"][sl], "turnover"),
        leverage=series(w[1:, :-1].sum(axis=1), "leverage"), failed=failed, config=config, parts=parts,
        transitions=[(sessions[a], sessions[b]) for a, b in transitions])
