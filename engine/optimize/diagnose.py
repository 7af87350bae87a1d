"""Diagnosis of infeasible limits: which limits conflict and the smallest relaxation, in words.

The relaxable limits (each one key of the ``[limits]`` table) get a named non-negative slack:

    tech_cap         w_XLK <= tech_cap + s
    tracking_error   ||L'(w - b)|| <= te + s
    turnover         one-way turnover <= turnover + s
    defensive_floor  w_XLU + w_XLP + w_XLV >= floor - s
    sector_min       w_i >= sector_min - s          (investable sectors)
    sector_max       w_i <= sector_max + s          (investable sectors)
    participation    |w_i - w0_i| <= bound_i * (1 + s)   (liquidity, relative)

Fully invested, long only, cash limits and excluded sectors stay hard. First the weighted sum of
slacks is minimized with every slack allowed (the smallest joint relaxation); then, for each limit,
only its own slack is allowed, which gives "the nearest feasible <limit>" when relaxing that limit
alone is enough. Sentences name the conflicting limits (those binding at the relaxed solution).

Two formulations of the same slack problem: :class:`_Relaxed` (cvxpy, compiled per call: the
reference) and :class:`_RelaxedConic` (the cone program written out with numpy and handed to Clarabel
directly: no compilation, about a millisecond a solve). ``diagnose`` uses the second; a test checks
both give the same sentences on random and real infeasible rebalances.
"""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from engine.errors import InfeasibleError, SolverError
from engine.optimize.limits import Limits
from engine.optimize.problem import TE_OFF, NumericData, binding_constraints
from engine.universe import DEFENSIVE, TECH

log = logging.getLogger(__name__)

RELAXABLE = ("tech_cap", "tracking_error", "turnover", "defensive_floor", "sector_min", "sector_max", "participation")
LABEL = {
    "tech_cap": "tech cap", "tracking_error": "tracking error", "turnover": "turnover",
    "defensive_floor": "defensive floor", "sector_min": "sector minimum", "sector_max": "sector maximum",
    "participation": "participation (liquidity)",
}
SLACK_TOL = 1e-6


def _pct(x: float) -> str:
    return f"{100 * x:.1f}%"


def _limit_value(key: str, d: NumericData, limits: Limits) -> float:
    return {
        "tech_cap": d.tech_cap, "tracking_error": d.te, "turnover": d.turnover, "defensive_floor": d.floor,
        "sector_min": limits.sector_min, "sector_max": limits.sector_max, "participation": limits.participation,
    }[key]


def _relaxed_value(key: str, value: float, s: float) -> float:
    if key in ("defensive_floor", "sector_min"):
        return max(0.0, value - s)
    if key == "participation":
        return value * (1 + s)
    return value + s


class _Relaxed:
    """The slack problem for one set of inputs; ``solve(allowed)`` lets only the named slacks move."""

    def __init__(self, tickers: list[str], d: NumericData):
        import cvxpy as cp

        self.cp = cp
        n = len(tickers)
        self.tickers = tickers
        self.d = d
        inv = d.hi > 0
        self.active_keys = [k for k in RELAXABLE if self._applies(k, tickers, d)]
        self.s = {k: cp.Variable(nonneg=True, name=k) for k in self.active_keys}
        self.on = {k: cp.Parameter(nonneg=True, name=f"on_{k}") for k in self.active_keys}
        w, c = cp.Variable(n), cp.Variable()
        t = w - d.w0
        zero = 0.0
        sv = lambda k: self.s[k] if k in self.s else zero  # noqa: E731
        cons = [cp.sum(w) + c == 1, w >= 0, c >= 0, c <= d.cash_max, w[~inv] == 0]
        cons += [self.s[k] <= 10.0 * self.on[k] for k in self.active_keys]
        if inv.any():
            cons += [w[inv] >= d.lo[inv] - sv("sector_min"), w[inv] <= d.hi[inv] + sv("sector_max")]
        if TECH in tickers:
            cons.append(w[tickers.index(TECH)] <= d.tech_cap + sv("tech_cap"))
        mask = np.array([x in DEFENSIVE for x in tickers], dtype=float)
        if d.floor > 0:
            cons.append(mask @ w >= d.floor - sv("defensive_floor"))
        if d.te < TE_OFF:
            cons.append(cp.norm(d.factor.T @ (w - d.b), 2) <= d.te + sv("tracking_error"))
        cons.append(0.5 * (cp.sum(cp.abs(t)) + cp.abs(c - d.cash0)) <= d.turnover + sv("turnover"))
        if (d.tbound < 1).any():
            cons.append(cp.abs(t) <= cp.multiply(d.tbound, 1 + sv("participation")) if "participation" in self.s
                        else cp.abs(t) <= d.tbound)
        self.w, self.c = w, c
        obj = cp.sum([self.s[k] for k in self.active_keys]) if self.active_keys else cp.Constant(0.0)
        self.problem = cp.Problem(cp.Minimize(obj), cons)

    @staticmethod
    def _applies(key: str, tickers, d: NumericData) -> bool:
        return {
            "tech_cap": TECH in tickers, "tracking_error": d.te < TE_OFF, "turnover": True,
            "defensive_floor": d.floor > 0, "sector_min": bool((d.lo > 0).any()), "sector_max": True,
            "participation": bool((d.tbound < 1).any()),
        }[key]

    def solve(self, allowed) -> dict[str, float] | None:
        for k in self.active_keys:
            self.on[k].value = 1.0 if k in allowed else 0.0
        try:
            self.problem.solve(solver="CLARABEL")
        except self.cp.error.SolverError:
            return None
        if self.problem.status not in ("optimal", "optimal_inaccurate"):
            return None
        return {k: float(self.s[k].value) for k in self.active_keys}


class _Rows:
    """Dense constraint rows over ``nx`` variables and their right-hand sides, added term by term."""

    def __init__(self, nx: int):
        self.nx, self.rows, self.rhs = nx, [], []

    def add(self, entries, b: float) -> None:
        r = np.zeros(self.nx)
        for idx, v in entries:
            np.add.at(r, np.atleast_1d(idx), v)
        self.rows.append(r)
        self.rhs.append(b)


class _RelaxedConic:
    """The slack problem of :class:`_Relaxed` as Clarabel's cone program, built from the arrays of ``d``.

    Variables x = [w (n), cash, u (n) >= |w - w0|, uc >= |cash - cash0|, one slack per active key];
    rows A x + s = b: equalities (budget, excluded sectors at 0), then inequalities (s >= 0), then
    the tracking-error second-order cone. ``solve(allowed)`` changes only the slacks' upper bounds.
    """

    def __init__(self, tickers: list[str], d: NumericData):
        import clarabel
        import scipy.sparse as sp

        self.cl, self.tickers, self.d = clarabel, tickers, d
        n = len(tickers)
        self.active_keys = [k for k in RELAXABLE if _Relaxed._applies(k, tickers, d)]
        K = len(self.active_keys)
        self.n, self.nx = n, 2 * n + 2 + K
        iw, ic, iu, iuc = np.arange(n), n, n + 1 + np.arange(n), 2 * n + 1
        col = {k: 2 * n + 2 + j for j, k in enumerate(self.active_keys)}
        inv = d.hi > 0
        eq = _Rows(self.nx)
        eq.add([(iw, 1.0), (ic, 1.0)], 1.0)                             # budget
        for j in np.flatnonzero(~inv):
            eq.add([(iw[j], 1.0)], 0.0)                                 # excluded sectors at 0
        le, self._cap_rows = self._inequalities(tickers, d, col, (iw, ic, iu, iuc), inv)
        eq, le, rhs_eq, rhs_le = eq.rows, le.rows, eq.rhs, le.rhs
        blocks, rhs = [np.array(eq), np.array(le)], [rhs_eq, rhs_le]
        cones = [clarabel.ZeroConeT(len(eq)), clarabel.NonnegativeConeT(len(le))]
        if d.te < TE_OFF:
            soc = np.zeros((n + 1, self.nx))
            soc[0, col["tracking_error"]] = -1.0
            soc[1:, iw] = -d.factor.T
            blocks.append(soc)
            rhs.append(np.r_[d.te, -(d.factor.T @ d.b)])
            cones.append(clarabel.SecondOrderConeT(n + 1))
        self.A = sp.csc_matrix(np.vstack(blocks))
        self.b0 = np.concatenate([np.asarray(r, float) for r in rhs])
        self._cap_rows = np.asarray(self._cap_rows, int) + len(eq)
        self.cones, self.col = cones, col
        self.q = np.zeros(self.nx)
        self.q[[col[k] for k in self.active_keys]] = 1.0
        self.w = self.c = None
        self._solver = None

    def _inequalities(self, tickers, d, col, idx, inv):
        """Rows of A x <= b (long only, cash bounds, slack bounds, every relaxable limit, the |trade|
        epigraphs); also the rows of the slacks' upper bounds, which ``solve`` switches."""
        iw, ic, iu, iuc = idx
        le, caps = _Rows(self.nx), []
        slack = lambda k, coef=-1.0: [(col[k], coef)] if k in col else []  # noqa: E731
        for j in range(len(tickers)):
            le.add([(iw[j], -1.0)], 0.0)                                # w >= 0
        le.add([(ic, -1.0)], 0.0)
        le.add([(ic, 1.0)], d.cash_max)
        for k in self.active_keys:
            le.add([(col[k], -1.0)], 0.0)                               # slack >= 0
            caps.append(len(le.rows))
            le.add([(col[k], 1.0)], 10.0)                               # slack <= 10 * on_k
        for j in np.flatnonzero(inv):
            le.add([(iw[j], -1.0)] + slack("sector_min"), -d.lo[j])
            le.add([(iw[j], 1.0)] + slack("sector_max"), d.hi[j])
        if TECH in tickers:
            le.add([(iw[tickers.index(TECH)], 1.0)] + slack("tech_cap"), d.tech_cap)
        if d.floor > 0:
            mask = np.array([x in DEFENSIVE for x in tickers], dtype=float)
            le.add([(iw, -mask)] + slack("defensive_floor"), -d.floor)
        for j in range(len(tickers)):
            le.add([(iw[j], 1.0), (iu[j], -1.0)], d.w0[j])              # u >= w - w0
            le.add([(iw[j], -1.0), (iu[j], -1.0)], -d.w0[j])            # u >= w0 - w
        le.add([(ic, 1.0), (iuc, -1.0)], d.cash0)
        le.add([(ic, -1.0), (iuc, -1.0)], -d.cash0)
        le.add([(iu, 0.5), (iuc, 0.5)] + slack("turnover"), d.turnover)
        if (d.tbound < 1).any():
            for j in range(len(tickers)):
                le.add([(iu[j], 1.0)] + slack("participation", -d.tbound[j]), d.tbound[j])
        return le, caps

    def solve(self, allowed) -> dict[str, float] | None:
        import scipy.sparse as sp

        b = self.b0.copy()
        b[self._cap_rows] = [10.0 if k in allowed else 0.0 for k in self.active_keys]
        if self._solver is None:          # set up once per diagnosis; the next slack problems only change b
            settings = self.cl.DefaultSettings()
            settings.verbose = False
            settings.presolve_enable = False
            self._solver = self.cl.DefaultSolver(sp.csc_matrix((self.nx, self.nx)), self.q, self.A, b, self.cones,
                                                 settings)
        else:
            self._solver.update(b=b)
        sol = self._solver.solve()
        if str(sol.status) not in ("Solved", "AlmostSolved"):
            return None
        x = np.asarray(sol.x)
        self.w, self.c = x[:self.n], float(x[self.n])
        return {k: float(x[self.col[k]]) for k in self.active_keys}


def _relax_numeric(d: NumericData, key: str, s: float) -> NumericData:
    if key == "tech_cap":
        return replace(d, tech_cap=d.tech_cap + s)
    if key == "tracking_error":
        return replace(d, te=d.te + s)
    if key == "turnover":
        return replace(d, turnover=d.turnover + s)
    if key == "defensive_floor":
        return replace(d, floor=max(0.0, d.floor - s))
    if key == "sector_min":
        return replace(d, lo=np.where(d.lo > 0, np.maximum(d.lo - s, 0.0), d.lo))
    if key == "sector_max":
        return replace(d, hi=np.where(d.hi > 0, d.hi + s, d.hi))
    return replace(d, tbound=np.where(d.tbound < 1, d.tbound * (1 + s), d.tbound))


def _partners(tickers, d: NumericData, key: str, w: np.ndarray, cash: float) -> list[str]:
    """Relaxable limits (other than ``key``) that bind at the relaxed solution, as config keys."""
    names = binding_constraints(tickers, d, w, cash, tol=1e-4)
    out = []
    for nm in names:
        base = nm.split(":")[0]
        base = "participation" if base == "liquidity" else base
        if base != key and base in RELAXABLE and base not in out:
            out.append(base)
    return out


def diagnose(tickers: list[str], d: NumericData, limits: Limits, reference: bool = False) -> tuple[str, list[str]]:
    """Return (message, conflict sentences) for inputs whose limits cannot all hold (``reference``: solve
    the slack problems with the cvxpy formulation instead of the direct cone program)."""
    rel = (_Relaxed if reference else _RelaxedConic)(list(tickers), d)
    joint = rel.solve(set(rel.active_keys))
    if joint is None:
        msg = ("the limits cannot hold even after relaxing every relaxable limit; check that some sector is "
               "investable, cash_max and the current weights")
        return msg, [msg]
    moved = [k for k in rel.active_keys if joint[k] > SLACK_TOL]
    order = moved + [k for k in rel.active_keys if k not in moved]
    sentences = []
    for key in order:
        single = rel.solve({key})
        if single is None:
            continue
        s = single[key]
        dd = _relax_numeric(d, key, s)
        w, c = (rel.w.value, float(rel.c.value)) if reference else (rel.w, rel.c)
        partners = _partners(tickers, dd, key, w, c)
        cur = _limit_value(key, d, limits)
        nearest = _relaxed_value(key, cur, s)
        who = [f"{LABEL[p]} {_pct(_limit_value(p, d, limits))}" for p in partners] + [f"{LABEL[key]} {_pct(cur)}"]
        both = "both" if len(who) == 2 else "all"
        head = f"{' and '.join(who)} cannot {both} hold" if len(who) > 1 else f"{LABEL[key]} {_pct(cur)} cannot hold"
        sentences.append(f"{head}; the nearest feasible {LABEL[key]} is {_pct(nearest)}")
    if len(moved) > 1:
        parts = ", ".join(f"{LABEL[k]} {_pct(_relaxed_value(k, _limit_value(k, d, limits), joint[k]))}" for k in moved)
        sentences.insert(0, f"the smallest joint relaxation moves several limits: {parts}")
    if not sentences:
        sentences = ["the limits cannot all hold, and no single limit could be relaxed to fix it"]
    return sentences[0], sentences


def diagnose_and_raise(tickers: list[str], d: NumericData, limits: Limits) -> None:
    """Diagnose and raise :class:`InfeasibleError` (never returns)."""
    try:
        msg, conflicts = diagnose(tickers, d, limits)
    except InfeasibleError:
        raise
    except Exception as e:  # the diagnosis itself must not leak a traceback
        log.exception("diagnosis failed")
        raise SolverError(f"the limits cannot all hold and their diagnosis failed ({e}); loosen the tightest "
                          "limits (tracking error, tech cap, turnover) and retry") from None
    raise InfeasibleError(f"The allocation limits cannot all hold: {msg}.", conflicts=conflicts)
