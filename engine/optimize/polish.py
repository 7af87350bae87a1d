"""Polish an interior-point allocation on its active set, so the turnover bound binds on the real trade.

An interior-point solve stops with the |trade| epigraph ``u`` a little above ``|w - w0|`` (the slack times its
dual is the barrier parameter), so a binding turnover limit binds on ``u`` and the weights sit up to ~1e-5
away from the optimum at Clarabel's default tolerance. Polishing reads the active set off the solver's duals
(a row is active when its dual exceeds its slack), fixes each trade's sign (buy, sell, or no trade), and
solves the remaining smooth equality-constrained problem in the weights and cash alone,

    minimize  F(y) = -mu'w + gamma (w - b_r)'Σ(w - b_r) + (252/H) sum_i (linear_i |t_i| + k_i |t_i|^(1+e))
    subject to the active limits held as equalities (turnover written on the signed real trades,
    the tracking-error cone as (w - b)'LL'(w - b) = te^2),

by Newton's method on its KKT conditions (a few iterations from the interior-point point). The result is
accepted only with a certificate: every limit holds to 1e-10 on the real trades, every multiplier has the
sign its inequality requires, and at each untraded asset the gradient lies inside the cost's kink
(|multiplier| <= (252/H) linear_i + turnover multiplier / 2). Otherwise the caller falls back to a tight solve.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.optimize.conic import weight_bounds
from engine.optimize.problem import TE_OFF, NumericData

FEAS_TOL = 1e-10     # primal: every limit holds to this on the polished weights
DUAL_TOL = 1e-9      # dual: multiplier signs and kink bounds hold to this
STAT_TOL = 1e-8      # stationarity: |gradient + J' multipliers| at the polished point
MAX_NEWTON = 25


@dataclass
class _Active:
    sign: np.ndarray      # trade signs of the assets (+1 buy, -1 sell, 0 no trade)
    bound: list           # per asset: None, "lo", "hi" or "eq" (an active bound of conic.weight_bounds)
    sign_c: int           # sign of the cash trade (0: no cash trade)
    bound_c: str | None   # None, "lo" (no cash), "hi" (cash_max) or "eq" (cash not allowed)
    floor: bool
    tech: bool
    turnover: bool
    te: bool              # tracking-error cone active


def active_set(prog, d: NumericData, x: np.ndarray, s: np.ndarray, z: np.ndarray) -> _Active:
    """Active limits and trade signs read from a primal-dual interior-point point of ``prog``
    (a row is active when its dual exceeds its slack)."""
    n = prog.n
    w, c = x[:n], x[n]
    on = z > s
    sign = np.where(w >= d.w0, 1, -1)
    lo, hi = weight_bounds(d)
    no_trade = on[prog.r_up:prog.r_up + n] & on[prog.r_down:prog.r_down + n]
    at_lo, at_hi = on[prog.r_lo:prog.r_lo + n], on[prog.r_hi:prog.r_hi + n]
    pinned = hi - lo <= FEAS_TOL                              # excluded ticker (or a pinned weight)
    sign[no_trade & ~pinned] = 0
    bound = [("eq" if pinned[i] else None if no_trade[i] else "lo" if at_lo[i] else "hi" if at_hi[i] else None)
             for i in range(n)]
    sign_c, bound_c = (1 if c >= d.cash0 else -1), None
    rc = prog.r_cash
    if d.cash_max <= FEAS_TOL:
        bound_c = "eq"
    elif on[rc] and on[rc + 1]:
        sign_c = 0
    elif on[rc + 2]:
        bound_c = "lo"
    elif on[rc + 3]:
        bound_c = "hi"
    r = prog.r_te
    te = d.te < TE_OFF and z[r] > s[r] - np.linalg.norm(s[r + 1:r + 1 + n])
    return _Active(sign, bound, sign_c, bound_c, bool(on[prog.r_floor]),
                   prog.r_tech is not None and bool(on[prog.r_tech]), bool(on[prog.r_turn]), bool(te))


def _rows(prog, d: NumericData, act: _Active) -> list:
    """The active limits as equality rows ``(coefficients over y = [w, cash], rhs, kind, index)``; ``kind``
    says which multiplier sign the row's inequality requires ("le" >= 0, "ge" <= 0, "zero": the kink)."""
    n = prog.n
    rows = [(np.ones(n + 1), 1.0, "eq", -1)]
    lo, hi = weight_bounds(d)
    for i in range(n):
        bd, sg = act.bound[i], act.sign[i]
        if bd == "eq":
            rows.append((_unit(n, i), lo[i], "eq", i))
        elif sg == 0:
            rows.append((_unit(n, i), d.w0[i], "zero", i))
        elif bd == "lo":
            rows.append((_unit(n, i), lo[i], "ge", i))
        elif bd == "hi":
            rows.append((_unit(n, i), hi[i], "le", i))
    if act.bound_c == "eq":
        rows.append((_unit(n, n), 0.0, "eq", n))
    elif act.sign_c == 0:
        rows.append((_unit(n, n), d.cash0, "zero", n))
    elif act.bound_c in ("lo", "hi"):
        rows.append((_unit(n, n), 0.0 if act.bound_c == "lo" else d.cash_max, "ge" if act.bound_c == "lo" else "le", n))
    if act.floor:
        rows.append((np.append(prog.def_mask, 0.0), d.floor, "ge", -1))
    if act.tech:
        rows.append((_unit(n, prog.tech), d.tech_cap, "le", -1))
    if act.turnover:
        coef = 0.5 * np.append(act.sign, act.sign_c).astype(float)
        rows.append((coef, d.turnover + coef[:n] @ d.w0 + coef[n] * d.cash0, "turnover", -1))
    return rows


def _unit(n: int, i: int) -> np.ndarray:
    e = np.zeros(n + 1)
    e[i] = 1.0
    return e


def _grad_hess(d: NumericData, two_g_cov: np.ndarray, y: np.ndarray, sign: np.ndarray, H: np.ndarray):
    """Gradient of F at ``y``; writes its Hessian into ``H`` ((n+1) x (n+1), cash row zero)."""
    n = len(sign)
    w = y[:n]
    t = np.abs(w - d.w0) * (sign != 0)
    g = np.zeros(n + 1)
    g[:n] = -d.mu + two_g_cov @ (w - d.b_risk) + d.cost_scale * sign * (
        d.linear + (1.0 + d.exponent) * d.impact * t ** d.exponent)
    H[:n, :n] = two_g_cov
    curv = (sign != 0) & (d.impact > 0)
    if curv.any():
        idx = np.flatnonzero(curv)
        t_c = np.maximum(t[idx], 1e-12)        # a trade just started (or at 0) has a finite, steep curvature
        H[idx, idx] += d.cost_scale * d.impact[idx] * (1.0 + d.exponent) * d.exponent * t_c ** (d.exponent - 1.0)
    return g


def newton(d: NumericData, rows: list, act: _Active, y0: np.ndarray):
    """KKT point ``(y, multipliers, nu)`` of the active-set problem from ``y0``; ``(None, i)`` when the trade
    of asset ``i`` would change sign (``i`` = n for cash), ``None`` when Newton does not converge."""
    n = len(act.sign)
    E = np.array([r[0] for r in rows])
    e = np.array([r[1] for r in rows])
    S = d.cov                                   # = L L' (the factor of the tracking-error cone)
    two_g_cov = (2.0 * d.gamma) * d.cov
    signs = np.append(act.sign, act.sign_c)
    start = np.append(d.w0, d.cash0)
    k = len(e) + (1 if act.te else 0)
    K = np.zeros((n + 1 + k, n + 1 + k))
    K[n + 1:n + 1 + len(e), :n + 1] = E
    K[:n + 1, n + 1:n + 1 + len(e)] = E.T
    rhs = np.empty(n + 1 + k)
    y, nu = y0.copy(), 0.0
    for _ in range(MAX_NEWTON):
        g = _grad_hess(d, two_g_cov, y, act.sign, K)
        rhs[:n + 1] = -g
        rhs[n + 1:n + 1 + len(e)] = e - E @ y
        if act.te:
            a = y[:n] - d.b
            grad_te = 2.0 * S @ a
            K[:n, :n] += 2.0 * nu * S
            K[-1, :n] = K[:n, -1] = grad_te
            rhs[-1] = d.te ** 2 - a @ S @ a
        sol = _solve(K, rhs)
        if sol is None:
            return None
        dy = sol[:n + 1]
        y = y + dy
        nu = float(sol[-1]) if act.te else 0.0
        wrong = np.flatnonzero(signs * (y - start) < -FEAS_TOL)
        if len(wrong):
            return None, int(wrong[0])
        if np.abs(dy).max() < 1e-8:     # quadratic convergence: the next step would be ~1e-16
            break
    else:
        return None
    # the multipliers of the last step are those at y to O(|dy|); the certificate checks stationarity at y
    mult = sol[n + 1:]
    g = _grad_hess(d, two_g_cov, y, act.sign, K)
    J = K[n + 1:, :n + 1]
    if act.te:
        J[-1, :n] = 2.0 * S @ (y[:n] - d.b)
    if np.abs(g + J.T @ mult).max() > STAT_TOL:
        return None
    return y, mult[:len(e)], (float(mult[-1]) if act.te else 0.0)


def _solve(K: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """K^-1 rhs (least squares when K is singular: redundant active rows), None when it cannot be solved."""
    try:
        sol = np.linalg.solve(K, rhs)
    except np.linalg.LinAlgError:
        try:
            sol = np.linalg.lstsq(K, rhs, rcond=1e-14)[0]
        except np.linalg.LinAlgError:
            return None
    return sol if np.isfinite(sol).all() else None


def _feasible(prog, d: NumericData, y: np.ndarray) -> bool:
    """Every limit of the problem holds at ``y`` to FEAS_TOL, written on the real trades."""
    n, tol = prog.n, FEAS_TOL
    w, c = y[:n], y[n]
    t = w - d.w0
    return not ((w < d.lo - tol).any() or (w > d.hi + tol).any() or (np.abs(t) > d.tbound + tol).any()
                or c < -tol or c > d.cash_max + tol or prog.def_mask @ w < d.floor - tol
                or (prog.tech is not None and w[prog.tech] > d.tech_cap + tol)
                or 0.5 * (np.abs(t).sum() + abs(c - d.cash0)) > d.turnover + tol
                or (d.te < TE_OFF and np.linalg.norm(d.factor.T @ (w - d.b)) > d.te + tol))


def certify(d: NumericData, prog, rows: list, y: np.ndarray, lam: np.ndarray, nu: float):
    """``(ok, kinks)``: ok when ``y`` satisfies every limit and the KKT sign and kink conditions (module doc);
    ``kinks`` lists ``(index, direction)`` of untraded assets whose gradient leaves the kink (they should trade)."""
    if not _feasible(prog, d, y) or nu < -DUAL_TOL:
        return False, []
    lam_turn = max([m for r, m in zip(rows, lam) if r[2] == "turnover"], default=0.0)
    kinks, ok = [], True
    for (_, _, kind, i), m in zip(rows, lam):
        if kind in ("le", "turnover") and m < -DUAL_TOL or kind == "ge" and m > DUAL_TOL:
            ok = False
        if kind == "zero":
            direction = _kink_exit(d, i, prog.n, m, lam_turn)
            if direction:
                kinks.append((i, direction))
    return ok and not kinks, kinks


def _kink_exit(d: NumericData, i: int, n: int, m: float, lam_turn: float) -> int:
    """0 when the multiplier of an untraded asset (or cash) lies in the kink of cost + turnover, or points to a
    direction it cannot move (at a bound, without liquidity); else the direction it should trade (+1 / -1)."""
    if i == n:
        width, can_down, can_up = 0.5 * lam_turn, d.cash0 > FEAS_TOL, d.cash0 < d.cash_max - FEAS_TOL
    else:
        width = d.cost_scale * d.linear[i] + 0.5 * lam_turn
        lo, hi = weight_bounds(d)
        can_down, can_up = d.w0[i] > lo[i] + FEAS_TOL, d.w0[i] < hi[i] - FEAS_TOL
    # m = -dF/dy_i: m > 0 means buying would lower F
    if m > width + DUAL_TOL and can_up:
        return 1
    if m < -width - DUAL_TOL and can_down:
        return -1
    return 0


def polish(prog, d: NumericData, x: np.ndarray, s: np.ndarray, z: np.ndarray, rounds: int = 4):
    """Polished ``(w, cash)`` certified optimal, or None (then the caller re-solves tightly).

    Starts from the active set read off the interior-point point; an untraded asset whose gradient leaves
    the cost's kink starts trading, a trade that would change sign stops (at most ``rounds`` such changes)."""
    with np.errstate(all="ignore"):
        return _polish(prog, d, x, s, z, rounds)


def _polish(prog, d: NumericData, x: np.ndarray, s: np.ndarray, z: np.ndarray, rounds: int):
    act = active_set(prog, d, x, s, z)
    n = prog.n
    y0 = x[:n + 1].copy()
    for _ in range(rounds):
        rows = _rows(prog, d, act)
        out = newton(d, rows, act, y0)
        if out is None:
            return None
        if out[0] is None:                  # a trade crossed zero: hold it at zero
            i = out[1]
            if i == n:
                act.sign_c = 0
            else:
                act.sign[i], act.bound[i] = 0, None
            continue
        y, lam, nu = out
        ok, kinks = certify(d, prog, rows, y, lam, nu)
        if ok:
            return y[:n], float(y[n])
        if not kinks:
            return None
        for i, direction in kinks:          # start trading a little in the direction the gradient points
            if i == n:
                act.sign_c = direction
                y0[n] = d.cash0 + direction * 1e-9
            else:
                act.sign[i] = direction
                y0[i] = d.w0[i] + direction * 1e-9
    return None
