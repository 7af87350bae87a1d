"""An independent cvxpy formulation of the allocation problem (no Parameters, no epigraph variable,
written from the problem statement in engine/optimize/problem.py), solved at tight tolerances: the
reference the fast re-solve must agree with to 1e-6 in weights."""
from __future__ import annotations

import numpy as np

from engine.universe import DEFENSIVE, TECH

TIGHT = dict(tol_gap_abs=1e-11, tol_gap_rel=1e-11, tol_feas=1e-11, tol_ktratio=1e-9, max_iter=500)


def solve_independent(tickers, d):
    """Weights and cash maximizing mu'w - gamma (w-b_r)'Σ(w-b_r) - (252/H) cost(w - w0) under every limit."""
    import cvxpy as cp

    n = len(tickers)
    w, c = cp.Variable(n), cp.Variable()
    t = w - d.w0
    cost = d.linear @ cp.abs(t) + d.impact @ cp.power(cp.abs(t), 1 + d.exponent)
    risk = cp.quad_form(w - d.b_risk, cp.psd_wrap(d.cov))
    cons = [cp.sum(w) + c == 1, c >= 0, c <= d.cash_max, w >= d.lo, w <= d.hi,
            np.array([x in DEFENSIVE for x in tickers], float) @ w >= d.floor,
            cp.norm(d.factor.T @ (w - d.b), 2) <= d.te,
            0.5 * (cp.sum(cp.abs(t)) + cp.abs(c - d.cash0)) <= d.turnover,
            cp.abs(t) <= d.tbound]
    if TECH in tickers:
        cons.append(w[tickers.index(TECH)] <= d.tech_cap)
    prob = cp.Problem(cp.Maximize(d.mu @ w - d.gamma * risk - d.cost_scale * cost), cons)
    prob.solve(solver="CLARABEL", **TIGHT)
    return prob.status, np.asarray(w.value), float(c.value) if c.value is not None else np.nan
