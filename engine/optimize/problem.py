"""The allocator's convex problem, built once with cvxpy Parameters (DPP) and re-solved for new data.

    maximize    mu'w - gamma * (w - b_r)'Σ(w - b_r) - (252 / H) * cost(w - w0)
                (b_r = b with ``active_risk`` (default): active variance; b_r = 0: total variance)
    subject to  sum(w) + cash = 1,  w >= 0,  0 <= cash <= cash_max
                lo_i <= w_i <= hi_i                       (sector min/max; 0/0 for excluded sectors)
                w_XLK <= tech_cap
                w_XLU + w_XLP + w_XLV >= floor            (floor = defensive_floor in stress/crisis, else 0)
                ||L'w - L'b||_2 <= te                      (ex-ante tracking error, Σ = L L', annualized)
                0.5 * (sum|w - w0| + |cash - cash0|) <= turnover
                |w_i - w0_i| <= participation * ADV_i * days / V   (liquidity)

Units: ``mu`` annualized expected excess returns, Σ annualized; cost(t) is the one-off cost of the
trade as a fraction of the portfolio (:class:`engine.costs.CostModel`, the model the simulator charges),
amortized over the holding period of H sessions (``Limits.holding_sessions``, 21 = monthly) so that
return, risk and cost are on the same (annual) scale: charging the one-off cost against an annual
return would weight it 252 / H times too little. The benchmark ``b`` is a weight vector over the same
sectors (e.g. cap weights, or a sector replication of SPY). Risk uses the factor sqrt(gamma) L and the
tracking error uses L, so every parameter enters affinely (``problem.is_dpp()`` holds).
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, SolverError
from engine.costs import CostModel
from engine.optimize import costs as costs_mod
from engine.optimize.covariance import cholesky_factor
from engine.optimize.limits import Limits
from engine.universe import DEFENSIVE, TECH

log = logging.getLogger(__name__)
STRESS_REGIMES = ("stress", "crisis")
TE_OFF = 10.0      # parameter value used when tracking_error is inf (no limit)
BIND_TOL = 1e-5    # a constraint binds when its slack is within this tolerance


@dataclass
class AllocationInputs:
    """Data of one rebalance, all indexed by the allocator's tickers.

    - ``mu``: annualized expected excess returns (NaN allowed only for excluded tickers).
    - ``cov``: annualized covariance (DataFrame or n x n array); a zero diagonal marks an excluded ticker.
    - ``current``: current weights w0 (sum <= 1, the rest is cash); default all cash... see ``validate``.
    - ``benchmark``: benchmark weights (sum 1).
    - ``regime``: ``calm``, ``elevated``, ``stress`` or ``crisis`` (the defensive floor applies in the last two).
    - ``sigma_daily``, ``adv_dollars``: per-ticker daily volatility and average daily dollar volume for
      impact and liquidity; None = no impact term and no liquidity limit.
    - ``investable``: tickers allowed to hold; default those with a positive covariance diagonal.
    """

    mu: pd.Series
    cov: pd.DataFrame
    current: pd.Series
    benchmark: pd.Series
    regime: str = "calm"
    sigma_daily: pd.Series | None = None
    adv_dollars: pd.Series | None = None
    investable: tuple[str, ...] | None = None
    prices: pd.Series | None = None       # per-ticker price, for a per-share commission (None: no such term)


@dataclass
class Allocation:
    """Result of one solve. Fractions of portfolio value; volatility/tracking error annualized (ex-ante)."""

    weights: pd.Series
    cash: float
    expected_return: float
    volatility: float
    tracking_error: float
    turnover: float
    expected_cost_bps: float
    binding: list[str]
    status: str
    trade_values: np.ndarray | None = field(default=None, repr=False)   # w - w0, in the weights' order
    objective: float = float("nan")

    @property
    def trades(self) -> pd.Series:
        """Trades w - w0 per ticker (fractions of portfolio value), built on first use from ``trade_values``
        (most callers read only the weights: a pandas Series costs about as much as a fifth of a re-solve)."""
        got = self.__dict__.get("_trades")
        if got is None:
            if self.trade_values is None:
                got = pd.Series(dtype=float)
            else:
                got = pd.Series(self.trade_values, index=self.weights.index, name="trade", copy=False)
            self.__dict__["_trades"] = got
        return got

    def to_dict(self) -> dict:
        return {
            "weights": {k: float(v) for k, v in self.weights.items()}, "cash": self.cash,
            "expected_return": self.expected_return, "volatility": self.volatility,
            "tracking_error": self.tracking_error, "turnover": self.turnover,
            "expected_cost_bps": self.expected_cost_bps, "binding": list(self.binding), "status": self.status,
        }


@dataclass
class NumericData:
    """Arrays of one rebalance after validation (what is written into the cvxpy Parameters)."""

    mu: np.ndarray
    cov: np.ndarray
    factor: np.ndarray                   # lower-triangular L with L L' = cov (covariance.cholesky_factor)
    w0: np.ndarray
    cash0: float
    b: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    tech_cap: float
    floor: float
    te: float
    turnover: float
    tbound: np.ndarray
    linear: np.ndarray                   # per-ticker linear cost rate (CostModel.linear_rate), or a scalar
    impact: np.ndarray                   # per-ticker k_i (CostModel.impact_coefficients)
    cash_max: float
    gamma: float
    b_risk: np.ndarray | None = None     # the risk term's reference: b (active risk) or 0 (total risk)
    cost_scale: float = 1.0              # objective weight of the one-off cost: 252 / holding sessions
    exponent: float = 0.5                # impact exponent of the cost model

    def __post_init__(self):
        if self.b_risk is None:
            self.b_risk = np.zeros_like(self.b)
        lin = np.asarray(self.linear, dtype=float)
        self.linear = lin.copy() if lin.shape == self.mu.shape else np.broadcast_to(lin, self.mu.shape).copy()

    def cost_per_asset(self, trade: np.ndarray) -> np.ndarray:
        """One-off cost per asset (fraction of the portfolio) of ``trade`` under the cost model."""
        t = np.abs(trade)
        return self.linear * t + self.impact * t ** (1.0 + self.exponent)


_INDEX_CACHE: dict[tuple, pd.Index] = {}


def _index_of(tickers: list[str]) -> pd.Index:
    key = tuple(tickers)
    idx = _INDEX_CACHE.get(key)
    if idx is None:
        idx = _INDEX_CACHE[key] = pd.Index(tickers)
    return idx


def _same_index(ix: pd.Index, tickers: list[str]) -> bool:
    """``ix`` lists exactly ``tickers`` in order (a list comparison: ~4x cheaper than Index.equals; the labels
    read from the index's numpy storage when it has one, ~6x cheaper again than Index.tolist; through its
    stored array rather than ``Index.array``, which builds a wrapper on first use: 0.4 against 1.2 us on a
    new Series, and every rebalance brings new ones)."""
    if ix is _index_of(tickers):
        return True
    if len(ix) != len(tickers):
        return False
    raw = getattr(getattr(ix, "_data", None), "_ndarray", None)
    return (raw.tolist() if isinstance(raw, np.ndarray) else ix.tolist()) == tickers


def _vec(x, tickers, name, fill=None) -> np.ndarray:
    """One per-ticker input as a float array in ticker order (a Series is aligned by ticker; NaN -> ``fill``)."""
    if isinstance(x, pd.Series):
        if _same_index(x.index, tickers):
            a = x.to_numpy(dtype=float)
        else:
            missing = [t for t in tickers if t not in x.index]
            if missing and fill is None:
                raise ArgumentError(name, f"missing tickers {', '.join(missing)}")
            a = x.reindex(tickers).to_numpy(dtype=float)
    else:
        a = np.asarray(x, dtype=float).ravel()
        if a.shape != (len(tickers),):
            raise ArgumentError(name, f"expected {len(tickers)} values (one per ticker), got {a.shape[0]}")
        return a
    if fill is None or fill != fill:            # NaN stays NaN
        return a
    return np.where(np.isnan(a), fill, a)


def _cov_array(inputs: AllocationInputs, tickers: list[str]) -> np.ndarray:
    c = inputs.cov
    if isinstance(c, pd.DataFrame):
        same = _same_index(c.index, tickers) and _same_index(c.columns, tickers)
        return (c if same else c.reindex(index=tickers, columns=tickers)).to_numpy(dtype=float)
    return np.asarray(c, dtype=float)


def _risk(tickers: list[str], inputs: AllocationInputs):
    """``(cov, factor, investable mask)`` validated: the covariance restricted to the investable tickers."""
    n = len(tickers)
    cov = _cov_array(inputs, tickers)
    if cov.shape != (n, n):
        raise ArgumentError("cov", f"expected a {n} x {n} matrix over {', '.join(tickers)}, got {cov.shape}")
    diag = cov.diagonal()
    if inputs.investable is not None:
        allowed = set(inputs.investable)
        inv = np.array([t in allowed for t in tickers])
    else:
        inv = np.isfinite(diag) & (diag > 0)
    if not inv.all():
        cov = np.where(np.outer(inv, inv), cov, 0.0)
    if not np.isfinite(cov).all():
        bad = [tickers[i] for i in range(n) if not np.isfinite(cov[i]).all()]
        raise ArgumentError("cov", f"NaN or infinite covariance for investable tickers {', '.join(bad)}")
    if not inv.any():
        raise ArgumentError("cov", "no investable ticker (every covariance diagonal is 0 or NaN)")
    cov = 0.5 * (cov + cov.T)
    try:
        factor = cholesky_factor(cov)
    except np.linalg.LinAlgError:
        raise ArgumentError("cov", "covariance is not positive semi-definite (Cholesky failed)") from None
    return cov, factor, inv


def _weights(inputs: AllocationInputs, tickers: list[str], tol: float):
    """Validated current and benchmark weights (one finiteness / sign check over both)."""
    w0 = _vec(inputs.current, tickers, "current", fill=0.0)
    b = _vec(inputs.benchmark, tickers, "benchmark", fill=0.0)
    both = np.concatenate((w0, b))
    sb = b.sum()
    if not (np.isfinite(both).all() and both.min() >= -tol and w0.sum() <= 1 + 1e-6 and sb <= 1 + 1e-6):
        for name, v in (("current", w0), ("benchmark", b)):      # which one, in the documented order
            if not np.isfinite(v).all() or (v < -tol).any():
                raise ArgumentError(name, "weights must be finite and non-negative")
            if v.sum() > 1 + 1e-6:
                raise ArgumentError(name, f"weights sum to {v.sum():.6f}, more than 1")
    if abs(sb - 1) > 1e-6:
        raise ArgumentError("benchmark", f"weights must sum to 1, got {sb:.6f}")
    return (w0 if w0.min() >= 0 else np.clip(w0, 0.0, None)), b


def prepare(tickers: list[str], inputs: AllocationInputs, limits: Limits, tol: float = 1e-6) -> NumericData:
    """Validate ``inputs`` and turn them into the parameter arrays. Raises ArgumentError naming the field.

    Per-call overhead matters here (a fast re-solve is well under a millisecond): inputs already in ticker
    order are read without reindexing and each check is one array operation."""
    n = len(tickers)
    cov, factor, inv = _risk(tickers, inputs)
    all_inv = inv.all()
    mu = _vec(inputs.mu, tickers, "mu", fill=np.nan)
    if not all_inv:
        mu = np.where(inv, mu, 0.0)
    if not np.isfinite(mu).all():
        bad = [tickers[i] for i in range(n) if not np.isfinite(mu[i])]
        raise ArgumentError("mu", f"NaN expected return for investable tickers {', '.join(bad)}")
    w0, b = _weights(inputs, tickers, tol)
    if inputs.regime not in ("calm", "elevated", "stress", "crisis"):
        raise ArgumentError("regime", f"expected calm, elevated, stress or crisis, got {inputs.regime!r}")
    lo = np.where(inv, limits.sector_min, 0.0)
    hi = np.where(inv, limits.sector_max, 0.0)
    v = limits.portfolio_value
    cm = limits.cost_model()
    price = _vec(inputs.prices, tickers, "prices", fill=np.nan) if inputs.prices is not None else np.full(n, np.nan)
    if inputs.adv_dollars is not None:
        adv = _vec(inputs.adv_dollars, tickers, "adv_dollars", fill=np.nan)
        tbound = costs_mod.trade_bounds(adv, v, limits.participation, limits.liquidity_days)
        # a ticker without ADV cannot be traded: its trade bound is 0 (it stays where it is)
        sig = _vec(inputs.sigma_daily, tickers, "sigma_daily", fill=np.nan) if inputs.sigma_daily is not None \
            else np.sqrt(cov.diagonal() / 252.0)
        impact = cm.impact_coefficients(sig, adv, v)         # NaN sigma counts as 0 there
    else:
        tbound = np.full(n, 2.0)
        impact = np.zeros(n)
    te = TE_OFF if math.isinf(limits.tracking_error) else limits.tracking_error
    floor = limits.defensive_floor if inputs.regime in STRESS_REGIMES else 0.0
    return NumericData(mu=mu, cov=cov, factor=factor, w0=w0, cash0=max(0.0, 1.0 - w0.sum()), b=b,
                       lo=lo, hi=hi, tech_cap=limits.tech_cap, floor=floor, te=te, turnover=limits.turnover,
                       tbound=tbound, linear=cm.linear_rate(price), impact=impact,
                       cash_max=limits.effective_cash_max, gamma=limits.risk_aversion,
                       b_risk=b.copy() if limits.active_risk else np.zeros(n),
                       cost_scale=limits.cost_scale, exponent=cm.impact_exponent)


def parameter_values(d: NumericData) -> dict:
    """The value of every cvxpy Parameter of :class:`Allocator` for one rebalance (one place for both
    the cvxpy path and the fast path, which stacks these into cvxpy's parameter vector)."""
    L = d.factor
    g = math.sqrt(d.gamma)
    return {
        "mu": d.mu, "risk_factor": g * L, "risk_bench": g * (L.T @ d.b_risk), "te_factor": L,
        "te_bench": L.T @ d.b, "te": d.te, "w0": d.w0, "cash0": d.cash0, "lo": d.lo, "hi": d.hi,
        "tech_cap": d.tech_cap, "floor": d.floor, "turnover": d.turnover, "tbound": d.tbound,
        "linear": d.cost_scale * d.linear, "impact": d.cost_scale * d.impact, "cash_max": d.cash_max,
    }


class Allocator:
    """The allocation problem for a fixed list of tickers, compiled once; ``solve`` re-solves for new data.

    >>> alloc = Allocator(list_of_sectors)
    >>> result = alloc.solve(inputs, limits)       # Allocation, or InfeasibleError / SolverError
    """

    def __init__(self, tickers: list[str], solver: str = "CLARABEL", impact_exponent: float = 0.5):
        import cvxpy as cp

        self.tickers = list(tickers)
        self.exponent = float(impact_exponent)
        model = CostModel(impact_exponent=self.exponent)
        self.solver = solver
        n = len(self.tickers)
        if n == 0:
            raise ArgumentError("tickers", "expected at least one ticker")
        self.tech_idx = self.tickers.index(TECH) if TECH in self.tickers else None
        self.def_mask = np.array([t in DEFENSIVE for t in self.tickers], dtype=float)
        p = self.params = {
            "mu": cp.Parameter(n, name="mu"),
            "risk_factor": cp.Parameter((n, n), name="risk_factor"),   # sqrt(gamma) * L
            "risk_bench": cp.Parameter(n, name="risk_bench"),          # sqrt(gamma) * L' b_risk
            "te_factor": cp.Parameter((n, n), name="te_factor"),       # L
            "te_bench": cp.Parameter(n, name="te_bench"),              # L' b
            "te": cp.Parameter(nonneg=True, name="te"),
            "w0": cp.Parameter(n, name="w0"),
            "cash0": cp.Parameter(name="cash0"),
            "lo": cp.Parameter(n, name="lo"),
            "hi": cp.Parameter(n, name="hi"),
            "tech_cap": cp.Parameter(nonneg=True, name="tech_cap"),
            "floor": cp.Parameter(nonneg=True, name="floor"),
            "turnover": cp.Parameter(nonneg=True, name="turnover"),
            "tbound": cp.Parameter(n, nonneg=True, name="tbound"),
            "linear": cp.Parameter(n, nonneg=True, name="linear"),      # (252/H) * linear rate
            "impact": cp.Parameter(n, nonneg=True, name="impact"),
            "cash_max": cp.Parameter(nonneg=True, name="cash_max"),
        }
        w = self.w = cp.Variable(n, name="w")
        c = self.cash = cp.Variable(name="cash")
        u = self.abs_trade = cp.Variable(n, name="abs_trade")      # u >= |w - w0| (so u >= 0)
        uc = cp.Variable(name="abs_cash_trade")                     # uc >= |cash - cash0|
        self.trade = w - p["w0"]
        cost = model.expression(u, p["linear"], p["impact"])       # already scaled by 252 / H
        # the same cost model written on the trades themselves, for reporting and cross-checks
        self.cost_expr = model.expression(cp.abs(self.trade), p["linear"], p["impact"])
        objective = cp.Maximize(p["mu"] @ w - cp.sum_squares(p["risk_factor"].T @ w - p["risk_bench"]) - cost)
        self.cons = {
            "budget": cp.sum(w) + c == 1,
            "abs_trade_up": u >= w - p["w0"],
            "abs_trade_down": u >= p["w0"] - w,
            "abs_cash_up": uc >= c - p["cash0"],
            "abs_cash_down": uc >= p["cash0"] - c,
            "cash_min": c >= 0,
            "cash_max": c <= p["cash_max"],
            "sector_min": w >= p["lo"],          # lo >= 0 (Limits.sector_min >= 0): this is also long only
            "sector_max": w <= p["hi"],
            "defensive_floor": self.def_mask @ w >= p["floor"],
            "tracking_error": cp.norm(p["te_factor"].T @ w - p["te_bench"], 2) <= p["te"],
            "turnover": 0.5 * (cp.sum(u) + uc) <= p["turnover"],
            "liquidity": u <= p["tbound"],
        }
        if self.tech_idx is not None:
            self.cons["tech_cap"] = w[self.tech_idx] <= p["tech_cap"]
        self.problem = cp.Problem(objective, list(self.cons.values()))
        if not self.problem.is_dpp():  # pragma: no cover - guarded by a test
            raise SolverError("internal: the allocation problem is not DPP; re-solves would rebuild it")

    # ---- parameters ------------------------------------------------------------------------------
    def set_parameters(self, d: NumericData) -> None:
        """Write one rebalance's arrays into the cvxpy Parameters."""
        for name, value in parameter_values(d).items():
            self.params[name].value = value

    # ---- solve -----------------------------------------------------------------------------------
    def solve(self, inputs: AllocationInputs, limits: Limits | None = None) -> Allocation:
        """Solve for one rebalance with plain cvxpy (Clarabel). Infeasible limits -> InfeasibleError with
        the diagnosis of :mod:`engine.optimize.diagnose`; other failures -> SolverError."""
        limits = limits or Limits()
        d = prepare(self.tickers, inputs, limits)
        check_exponent(self.exponent, d)
        self.set_parameters(d)
        import cvxpy as cp

        try:
            import warnings

            from engine.optimize.fastsolve import TIGHT_SETTINGS
            with warnings.catch_warnings():      # an inaccurate solve is reported through the status below
                warnings.simplefilter("ignore", UserWarning)
                self.problem.solve(solver=self.solver, **(TIGHT_SETTINGS if self.solver == "CLARABEL" else {}))
        except cp.error.SolverError as e:
            raise SolverError(f"the solver {self.solver} failed ({e}); loosen the limits or check the covariance "
                              "for near-singular or badly scaled values") from None
        status = self.problem.status
        if status in (cp.INFEASIBLE, cp.INFEASIBLE_INACCURATE):
            from engine.optimize.diagnose import diagnose_and_raise
            diagnose_and_raise(self.tickers, d, limits)
        if status not in (cp.OPTIMAL, cp.OPTIMAL_INACCURATE) or self.w.value is None:
            raise SolverError(f"the solver {self.solver} returned status {status!r}; loosen the limits or check "
                              "that expected returns and covariance are finite and on an annual scale")
        return finish(self.tickers, d, self.w.value, float(self.cash.value), status, limits)


_MASKS: dict[tuple, tuple] = {}


def _masks(tickers: list[str]) -> tuple:
    """(index of XLK or None, boolean mask of the defensives) of a ticker list, computed once per list."""
    key = tuple(tickers)
    got = _MASKS.get(key)
    if got is None:
        if len(_MASKS) > 64:
            _MASKS.clear()
        got = _MASKS[key] = (tickers.index(TECH) if TECH in tickers else None,
                             np.array([t in DEFENSIVE for t in tickers]))
    return got


def binding_constraints(tickers: list[str], d: NumericData, w: np.ndarray, cash: float, tol: float = BIND_TOL,
                        trade: np.ndarray | None = None, turnover: float | None = None) -> list[str]:
    """Names of limits active at (w, cash): slack within ``tol``. Per-sector limits carry the ticker.
    ``trade`` (w - w0) and ``turnover`` may be passed when already computed (the same values)."""
    out = []
    trade = w - d.w0 if trade is None else trade
    # per ticker on Python floats (the same double arithmetic; at this size cheaper than a dozen array operations)
    for t, wi, lo, hi, tb, tr in zip(tickers, w.tolist(), d.lo.tolist(), d.hi.tolist(), d.tbound.tolist(),
                                     trade.tolist()):
        if not hi > 0:                   # an excluded ticker is not a decision
            continue
        if lo > 0 and wi - lo <= tol:
            out.append(f"sector_min:{t}")
        if hi - wi <= tol and hi < 1:
            out.append(f"sector_max:{t}")
        if tb < 1 and tb - abs(tr) <= tol:
            out.append(f"liquidity:{t}")
    tech, def_mask = _masks(tickers)
    if tech is not None and d.tech_cap - w[tech] <= tol:
        out.append("tech_cap")
    if d.floor > 0 and w[def_mask].sum() - d.floor <= tol:
        out.append("defensive_floor")
    if d.te < TE_OFF:
        v = d.factor.T @ (w - d.b)
        te = math.sqrt(v @ v)                    # np.linalg.norm's formula for a vector
        if d.te - te <= max(tol, 1e-4 * d.te):
            out.append("tracking_error")
    turn = 0.5 * (np.abs(trade).sum() + abs(cash - d.cash0)) if turnover is None else turnover
    if d.turnover - turn <= tol:
        out.append("turnover")
    if d.cash_max > 0 and d.cash_max - cash <= tol:
        out.append("cash_max")
    return out


def finish(tickers: list[str], d: NumericData, w: np.ndarray, cash: float, status: str, limits: Limits,
           index: pd.Index | None = None) -> Allocation:
    """Clean the solver's weights (clip tiny negatives) and compute the reported measures."""
    index = _index_of(tickers) if index is None else index
    # interior-point solutions carry ~1e-9 dust: tiny weights become 0 and the budget is exactly 1
    w = np.asarray(w, dtype=float)
    w = np.where(w < 1e-8, 0.0, w)
    cash = 0.0 if cash < 1e-8 else float(cash)
    total = w.sum() + cash
    if total > 0 and abs(total - 1.0) < 1e-6:
        w, cash = w / total, cash / total
    trade = w - d.w0
    abs_t = np.abs(trade)
    c = float((d.linear * abs_t + d.impact * abs_t ** (1.0 + d.exponent)).sum())     # d.cost_per_asset(trade)
    a = w - d.b_risk
    active = w - d.b
    mu_w = d.mu @ w
    turnover = float(0.5 * (abs_t.sum() + abs(cash - d.cash0)))
    return Allocation(
        weights=pd.Series(w, index=index, name="weight", copy=False), cash=cash,
        expected_return=float(mu_w), volatility=float(math.sqrt(max(w @ d.cov @ w, 0.0))),
        tracking_error=float(math.sqrt(max(active @ d.cov @ active, 0.0))),
        turnover=turnover, expected_cost_bps=c * 1e4,
        binding=binding_constraints(tickers, d, w, cash, trade=trade, turnover=turnover), status=status,
        trade_values=trade,
        objective=float(mu_w - d.gamma * a @ d.cov @ a - d.cost_scale * c))


def check_exponent(compiled: float, d: NumericData) -> None:
    """The problem is compiled for one impact exponent; a cost model with another raises ArgumentError."""
    if abs(compiled - d.exponent) > 1e-12 and np.any(d.impact > 0):
        raise ArgumentError("costs: impact_exponent", f"this allocator was compiled for exponent {compiled:g}, "
                            f"the cost model has {d.exponent:g}; build it with impact_exponent={d.exponent:g}")


def allocate(inputs: AllocationInputs, limits: Limits | None = None, tickers: list[str] | None = None) -> Allocation:
    """One-shot convenience: solve with the cvxpy-free :class:`engine.optimize.fastsolve.FastAllocator` for the
    tickers of ``inputs.mu`` (kept per ticker list and impact exponent, so repeated calls re-solve). cvxpy is
    imported only when the limits are infeasible and the diagnosis needs it."""
    from engine.optimize.fastsolve import shared_allocator

    tickers = list(tickers or inputs.mu.index)
    limits = limits or Limits()
    return shared_allocator(tickers, limits.cost_model().impact_exponent).solve(inputs, limits)
