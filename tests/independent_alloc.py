"""An independent formulation of the allocation problem, written from the problem statement in
engine/optimize/problem.py (no Parameters, no epigraph variables), with a certified refinement.

``solve_independent`` solves it with cvxpy (Clarabel), the objective scaled by 1000 so that Clarabel's
tolerances mean more digits. An interior-point answer stops short of the optimum by up to ~5e-6 in weights
where the optimum is flat, and Clarabel often reports it inaccurate at tight tolerances, so ``refine`` turns it
into a reference that is certified: it reads the active limits off the weights (slack below a threshold), solves
the KKT equations of the problem with those limits held as equalities with scipy's ``root`` (hybrid Powell, a
different method from the engine's Newton polish), and accepts the point only if every limit holds to 1e-10 and
the multipliers prove optimality (signs, and each untraded asset's gradient inside its cost kink). A convex
problem's KKT point is its optimum, so a certified reference is exact to ~1e-10.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import root

from engine.universe import DEFENSIVE, TECH

TIGHT = dict(tol_gap_abs=1e-9, tol_gap_rel=1e-9, tol_feas=1e-9, max_iter=500)
SCALE = 1e3
FEAS = 1e-10


def solve_independent(tickers, d):
    """(status, w, cash) maximizing mu'w - gamma (w-b_r)'Σ(w-b_r) - (252/H) cost(w - w0) under every limit."""
    import warnings

    import cvxpy as cp

    n = len(tickers)
    w, c = cp.Variable(n), cp.Variable()
    t = w - d.w0
    cost = d.linear @ cp.abs(t) + d.impact @ cp.power(cp.abs(t), 1 + d.exponent)
    risk = cp.quad_form(w - d.b_risk, cp.psd_wrap(d.cov))
    cons = [cp.sum(w) + c == 1, c >= 0, c <= d.cash_max, w >= d.lo, w <= d.hi,
            _defensive(tickers) @ w >= d.floor,
            cp.norm(d.factor.T @ (w - d.b), 2) <= d.te,
            0.5 * (cp.sum(cp.abs(t)) + cp.abs(c - d.cash0)) <= d.turnover,
            cp.abs(t) <= d.tbound]
    if TECH in tickers:
        cons.append(w[tickers.index(TECH)] <= d.tech_cap)
    prob = cp.Problem(cp.Maximize(SCALE * (d.mu @ w - d.gamma * risk - d.cost_scale * cost)), cons)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        prob.solve(solver="CLARABEL", **TIGHT)
    return prob.status, np.asarray(w.value), float(c.value) if c.value is not None else np.nan


def _defensive(tickers):
    return np.array([x in DEFENSIVE for x in tickers], float)


def objective(d, w):
    """The allocation objective at weights ``w`` (cash earns nothing and costs nothing)."""
    t = np.abs(w - d.w0)
    a = w - d.b_risk
    return float(d.mu @ w - d.gamma * a @ d.cov @ a - d.cost_scale * (d.linear @ t + d.impact @ t ** (1 + d.exponent)))


def feasible(tickers, d, w, c, tol=FEAS):
    """Every limit of the problem statement holds at (w, c) to ``tol``."""
    t = w - d.w0
    ok = [abs(w.sum() + c - 1) <= tol, c >= -tol, c <= d.cash_max + tol, (w >= d.lo - tol).all(),
          (w <= d.hi + tol).all(), _defensive(tickers) @ w >= d.floor - tol,
          np.linalg.norm(d.factor.T @ (w - d.b)) <= d.te + tol,
          0.5 * (np.abs(t).sum() + abs(c - d.cash0)) <= d.turnover + tol, (np.abs(t) <= d.tbound + tol).all()]
    if TECH in tickers:
        ok.append(w[tickers.index(TECH)] <= d.tech_cap + tol)
    return all(bool(x) for x in ok)


def _limits(tickers, d, w, c, thr):
    """Active limits at (w, c): list of (kind, value(y), gradient(y), index); kind in eq/le/ge/zero."""
    n = len(tickers)
    lo, hi = np.maximum(d.lo, d.w0 - d.tbound), np.minimum(d.hi, d.w0 + d.tbound)
    e = np.eye(n + 1)
    out = [("eq", lambda y: y.sum() - 1.0, lambda y: np.ones(n + 1), -1)]
    for i in range(n):
        if hi[i] - lo[i] <= 1e-12:
            out.append(("eq", lambda y, i=i: y[i] - lo[i], lambda y, i=i: e[i], i))
        elif abs(w[i] - d.w0[i]) <= thr:
            out.append(("zero", lambda y, i=i: y[i] - d.w0[i], lambda y, i=i: e[i], i))
        elif w[i] - lo[i] <= thr:
            out.append(("ge", lambda y, i=i: y[i] - lo[i], lambda y, i=i: e[i], i))
        elif hi[i] - w[i] <= thr:
            out.append(("le", lambda y, i=i: y[i] - hi[i], lambda y, i=i: e[i], i))
    if d.cash_max <= 1e-12:
        out.append(("eq", lambda y: y[n], lambda y: e[n], n))
    elif abs(c - d.cash0) <= thr:
        out.append(("zero", lambda y: y[n] - d.cash0, lambda y: e[n], n))
    elif c <= thr:
        out.append(("ge", lambda y: y[n], lambda y: e[n], n))
    elif d.cash_max - c <= thr:
        out.append(("le", lambda y: y[n] - d.cash_max, lambda y: e[n], n))
    dm = np.append(_defensive(tickers), 0.0)
    if d.floor > 0 and dm @ np.append(w, c) - d.floor <= thr:
        out.append(("ge", lambda y: dm @ y - d.floor, lambda y: dm, -1))
    if TECH in tickers and d.tech_cap - w[tickers.index(TECH)] <= thr:
        k = tickers.index(TECH)
        out.append(("le", lambda y: y[k] - d.tech_cap, lambda y: e[k], -1))
    sg = np.append(np.where(np.abs(w - d.w0) <= thr, 0.0, np.sign(w - d.w0)), 0.0 if abs(c - d.cash0) <= thr
                   else np.sign(c - d.cash0))
    y0 = np.append(d.w0, d.cash0)
    if d.turnover - 0.5 * (np.abs(w - d.w0).sum() + abs(c - d.cash0)) <= thr:
        out.append(("turn", lambda y: 0.5 * sg @ (y - y0) - d.turnover, lambda y: 0.5 * sg, -1))
    S = d.factor @ d.factor.T
    if d.te - np.linalg.norm(d.factor.T @ (w - d.b)) <= thr:
        out.append(("le", lambda y: (y[:n] - d.b) @ S @ (y[:n] - d.b) - d.te ** 2,
                    lambda y: np.append(2 * S @ (y[:n] - d.b), 0.0), -1))
    return out, sg


def _gradient(d, y, sg):
    n = len(d.mu)
    t = np.abs(y[:n] - d.w0)
    g = np.zeros(n + 1)
    g[:n] = (-d.mu + 2 * d.gamma * d.cov @ (y[:n] - d.b_risk)
             + d.cost_scale * sg[:n] * (d.linear + (1 + d.exponent) * d.impact * t ** d.exponent))
    return g                                   # of the minimized -objective


def _certified(tickers, d, y, lims, lam, lim_turn):
    n = len(tickers)
    if not feasible(tickers, d, y[:n], y[n]):
        return False
    lo, hi = np.maximum(d.lo, d.w0 - d.tbound), np.minimum(d.hi, d.w0 + d.tbound)
    for (kind, _, _, i), m in zip(lims, lam):
        if kind in ("le", "turn") and m < -1e-9 or kind == "ge" and m > 1e-9:
            return False
        if kind == "zero":
            width = 0.5 * lim_turn + (d.cost_scale * d.linear[i] if i < n else 0.0)
            up = (d.w0[i] < hi[i] - 1e-12) if i < n else d.cash0 < d.cash_max - 1e-12
            down = (d.w0[i] > lo[i] + 1e-12) if i < n else d.cash0 > 1e-12
            if (m > width + 1e-9 and up) or (m < -width - 1e-9 and down):
                return False
    return True


def refine(tickers, d, w, c):
    """Certified optimum ``(w, cash)`` near the interior-point answer (w, c), or None when no active-set
    guess (slack thresholds 1e-7, 1e-9, 1e-5) yields a KKT point that passes the certificate."""
    n = len(tickers)
    for thr in (1e-7, 1e-9, 1e-5):
        lims, sg = _limits(tickers, d, w, c, thr)
        k = len(lims)

        def kkt(z):
            y, lam = z[:n + 1], z[n + 1:]
            grad = _gradient(d, y, sg) + sum(m * gr(y) for (_, _, gr, _), m in zip(lims, lam))
            return np.concatenate([grad, [val(y) for (_, val, _, _) in lims]])

        y0 = np.append(w, c)
        J = np.array([gr(y0) for (_, _, gr, _) in lims])
        lam0 = np.linalg.lstsq(J.T, -_gradient(d, y0, sg), rcond=None)[0]
        sol = root(kkt, np.concatenate([y0, lam0]), method="hybr", options={"xtol": 1e-15})
        z = sol.x
        if np.abs(kkt(z)).max() > 1e-11 or np.any(sg * (z[:n + 1] - np.append(d.w0, d.cash0)) < -1e-12):
            continue
        lam = z[n + 1:n + 1 + k]
        lim_turn = max([m for (kind, _, _, _), m in zip(lims, lam) if kind == "turn"], default=0.0)
        if _certified(tickers, d, z[:n + 1], lims, lam, lim_turn):
            return z[:n], float(z[n])
    return None
