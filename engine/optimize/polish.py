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

import math
from dataclasses import dataclass

import numpy as np

try:                 # the gufunc np.linalg.solve calls for one right-hand side: a third of its cost at this size
    from numpy.linalg._umath_linalg import solve1 as _solve1
except ImportError:  # pragma: no cover - another numpy layout: np.linalg.solve alone
    _solve1 = None

from engine.optimize.conic import weight_bounds
from engine.optimize.problem import TE_OFF, NumericData

FEAS_TOL = 1e-10     # primal: every limit holds to this on the polished weights
DUAL_TOL = 1e-9      # dual: multiplier signs and kink bounds hold to this
STAT_TOL = 1e-8      # stationarity: |gradient + J' multipliers| at the polished point
MAX_NEWTON = 25
TRADE_RATIO = 40.0   # slack ratio of the two |trade| rows above which a trade is read as made (see active_set);
                     # 40 takes the fewest Newton rounds over 400 bench draws and the backtest's 225 feasible months
                     # (10: 555 + 432, 40: 453 + 377, never: 478 + 456)


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


def active_set(prog, d: NumericData, x: np.ndarray, s: np.ndarray, z: np.ndarray, bounds=None) -> _Active:
    """Active limits and trade signs read from a primal-dual interior-point point of ``prog``
    (a row is active when its dual exceeds its slack). ``bounds``: :func:`weight_bounds` of ``d`` if known."""
    n = prog.n
    w, c = x[:n], x[n]
    on = z > s
    sign = np.where(w >= d.w0, 1, -1)
    lo, hi = bounds or weight_bounds(d)
    s_up, s_dn = s[prog.r_up:prog.r_up + n], s[prog.r_down:prog.r_down + n]
    # both epigraph rows look active when the trade is below ~sqrt(barrier) (z > s for both); a slack ratio
    # far from 1 still says which side binds: a small trade, not a kink
    lopsided = np.maximum(s_up, s_dn) > TRADE_RATIO * np.minimum(s_up, s_dn)
    no_trade = on[prog.r_up:prog.r_up + n] & on[prog.r_down:prog.r_down + n] & ~lopsided
    at_lo, at_hi = on[prog.r_lo:prog.r_lo + n], on[prog.r_hi:prog.r_hi + n]
    pinned = hi - lo <= FEAS_TOL                              # excluded ticker (or a pinned weight)
    sign[no_trade & ~pinned] = 0
    bound = ["eq" if p else None if nt else "lo" if al else "hi" if ah else None   # eq, no trade, lo, hi
             for p, nt, al, ah in zip(pinned.tolist(), no_trade.tolist(), at_lo.tolist(), at_hi.tolist())]
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
    te = d.te < TE_OFF and z[r] > s[r] - _norm(s[r + 1:r + 1 + n])
    return _Active(sign, bound, sign_c, bound_c, bool(on[prog.r_floor]),
                   prog.r_tech is not None and bool(on[prog.r_tech]), bool(on[prog.r_turn]), bool(te))


def _rows(prog, d: NumericData, act: _Active, bounds=None) -> list:
    """The active limits as equality rows ``(coefficients over y = [w, cash], rhs, kind, index)``; ``kind``
    says which multiplier sign the row's inequality requires ("le" >= 0, "ge" <= 0, "zero": the kink)."""
    n = prog.n
    rows = [(np.ones(n + 1), 1.0, "eq", -1)]
    lo, hi = bounds or weight_bounds(d)
    eye = np.eye(n + 1)
    for i in range(n):
        bd, sg = act.bound[i], act.sign[i]
        if bd == "eq":
            rows.append((eye[i], lo[i], "eq", i))
        elif sg == 0:
            rows.append((eye[i], d.w0[i], "zero", i))
        elif bd == "lo":
            rows.append((eye[i], lo[i], "ge", i))
        elif bd == "hi":
            rows.append((eye[i], hi[i], "le", i))
    if act.bound_c == "eq":
        rows.append((eye[n], 0.0, "eq", n))
    elif act.sign_c == 0:
        rows.append((eye[n], d.cash0, "zero", n))
    elif act.bound_c in ("lo", "hi"):
        rows.append((eye[n], 0.0 if act.bound_c == "lo" else d.cash_max, "ge" if act.bound_c == "lo" else "le", n))
    if act.floor:
        rows.append((np.append(prog.def_mask, 0.0), d.floor, "ge", "floor"))
    if act.tech:
        rows.append((eye[prog.tech], d.tech_cap, "le", "tech"))
    if act.turnover:
        coef = 0.5 * np.append(act.sign, act.sign_c).astype(float)
        rows.append((coef, d.turnover + coef[:n] @ d.w0 + coef[n] * d.cash0, "turnover", -1))
    return rows


def _unit(n: int, i: int) -> np.ndarray:
    e = np.zeros(n + 1)
    e[i] = 1.0
    return e


def _grad_hess(d: NumericData, two_g_cov: np.ndarray, y: np.ndarray, sign: np.ndarray, H: np.ndarray):
    """Gradient of F at ``y``; writes its Hessian into ``H`` ((n+1) x (n+1), cash row zero). The reference
    formula: :class:`_Smooth` computes the same in fewer operations (a test compares them)."""
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


def smooth_base(d: NumericData, two_g_cov: np.ndarray) -> tuple:
    """The parts of :class:`_Smooth` that do not depend on the sign pattern (computed once per solve)."""
    n = len(d.mu)
    k = d.cost_scale * (1.0 + d.exponent)
    Gy = np.zeros((n + 1, n + 1))                # the risk Hessian over y = [w, cash] (cash has no smooth term)
    Gy[:n, :n] = two_g_cov
    return (-d.mu - two_g_cov @ d.b_risk, d.cost_scale * d.linear, k * d.impact, (k * d.exponent) * d.impact,
            d.impact > 0, Gy)


class _Smooth:
    """F and its derivatives on one sign pattern, with everything that does not depend on ``y`` computed once
    (the same function as :func:`_grad_hess`, in fewer array operations; ``base``: :func:`smooth_base`)."""

    def __init__(self, d: NumericData, sign: np.ndarray, two_g_cov: np.ndarray, base: tuple | None = None):
        n = len(sign)
        self.n, self.G, self.e = n, two_g_cov, d.exponent
        c_base, lin, a_imp, b_imp, has_imp, self.Gy = base or smooth_base(d, two_g_cov)
        self.c0 = c_base + sign * lin
        self.c0y = np.zeros(n + 1)
        self.c0y[:n] = self.c0
        idx = self.idx = np.flatnonzero((sign != 0) & has_imp)
        self.a = a_imp[idx] * sign[idx]
        self.b = b_imp[idx]
        self.w0 = d.w0[idx]
        self.ii = (idx, idx)

    def grad(self, y: np.ndarray) -> np.ndarray:
        """Gradient over [w, cash] and the impact curvature of the traded assets (idx order)."""
        idx = self.idx
        g = self.c0y + self.Gy @ y
        if len(idx):
            t = np.abs(y[idx] - self.w0)
            g[idx] += self.a * t ** self.e
            return g, self.b * np.maximum(t, 1e-12) ** (self.e - 1.0)
        return g, None


def newton(d: NumericData, rows: list, act: _Active, y0: np.ndarray, two_g_cov: np.ndarray | None = None,
           base: tuple | None = None):
    """KKT point ``(y, multipliers, nu)`` of the active-set problem from ``y0``; ``(None, idx)`` when the trades
    of the assets ``idx`` would change sign (index n for cash), ``None`` when Newton does not converge.

    Converged when the KKT residual at the new point (stationarity with the step's multipliers, to STAT_TOL / 10,
    and the tracking-error equality, to FEAS_TOL / 10) is small: checked before each further step, so the last
    evaluation of the gradient is also the certificate's."""
    n = len(act.sign)
    E = np.array([r[0] for r in rows])
    e = np.array([r[1] for r in rows])
    m = len(e)
    S = d.cov                                   # = L L' (the factor of the tracking-error cone)
    G = (2.0 * d.gamma) * d.cov if two_g_cov is None else two_g_cov
    f = _Smooth(d, act.sign, G, base)
    signs = np.empty(n + 1)
    signs[:n], signs[n] = act.sign, act.sign_c
    start = np.empty(n + 1)
    start[:n], start[n] = d.w0, d.cash0
    k = m + (1 if act.te else 0)
    N = n + 1 + k
    K0 = np.zeros((N, N))                       # the constant part of the KKT matrix, copied per step
    K0[:n, :n] = G
    K0[n + 1:n + 1 + m, :n + 1] = E
    K0[:n + 1, n + 1:n + 1 + m] = E.T
    diag = f.idx * (N + 1)                      # flat positions of K[idx, idx]
    rhs = np.empty(N)
    y, nu, mult, Jt = y0.copy(), 0.0, None, None
    for _ in range(MAX_NEWTON):
        g, curv = f.grad(y)
        if act.te:
            a = y[:n] - d.b
            sa = S @ a
            grad_te = 2.0 * sa
            te_res = d.te ** 2 - a @ sa
        if mult is not None:
            r = g + Jt @ mult[:m]
            if act.te:
                r[:n] += mult[-1] * grad_te
            if np.abs(r).max() <= 0.1 * STAT_TOL and (not act.te or abs(te_res) <= 0.1 * FEAS_TOL):
                return y, mult[:m], (float(mult[-1]) if act.te else 0.0)
        K = K0.copy()
        if curv is not None:
            K.flat[diag] += curv
        rhs[:n + 1] = -g
        rhs[n + 1:n + 1 + m] = e - E @ y
        if act.te:
            K[:n, :n] += (2.0 * nu) * S
            K[-1, :n] = K[:n, -1] = grad_te
            rhs[-1] = te_res
        sol = _solve(K, rhs)
        if sol is None:
            return None
        y = y + sol[:n + 1]
        mult = sol[n + 1:]
        Jt = E.T
        nu = float(sol[-1]) if act.te else 0.0
        moved = signs * (y - start)             # < 0: the trade changed sign
        if moved.min() < -FEAS_TOL:
            return None, np.flatnonzero(moved < -FEAS_TOL)
    return None


def _solve(K: np.ndarray, rhs: np.ndarray) -> np.ndarray | None:
    """K^-1 rhs (least squares when K is singular: redundant active rows), None when it cannot be solved."""
    if _solve1 is not None:                     # LAPACK gesv without np.linalg.solve's wrapping (same result);
        with np.errstate(all="ignore"):         # a singular K gives NaN here, silently: checked below
            sol = _solve1(K, rhs)
        if math.isfinite(sol @ sol):            # every entry finite (one dot product instead of two ufuncs;
            return sol                          # an overflow to inf only takes the checked path below)
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
    if c < -tol or c > d.cash_max + tol or prog.def_mask @ w < d.floor - tol:
        return False
    if prog.tech is not None and w[prog.tech] > d.tech_cap + tol:
        return False
    at = np.abs(w - d.w0)
    # the sector bounds and the liquidity bound in one comparison: the largest violation of any of them
    if max((d.lo - w).max(), (w - d.hi).max(), (at - d.tbound).max()) > tol:
        return False
    if 0.5 * (at.sum() + abs(c - d.cash0)) > d.turnover + tol:
        return False
    return not (d.te < TE_OFF and _norm(d.factor.T @ (w - d.b)) > d.te + tol)


def _norm(v: np.ndarray) -> float:
    """Euclidean norm of a vector (what np.linalg.norm computes for one, without its wrapper)."""
    return math.sqrt(v @ v)


def certify(d: NumericData, prog, rows: list, y: np.ndarray, lam: np.ndarray, nu: float, bounds=None):
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
            direction = _kink_exit(d, i, prog.n, m, lam_turn, bounds)
            if direction:
                kinks.append((i, direction))
    return ok and not kinks, kinks


def _kink_exit(d: NumericData, i: int, n: int, m: float, lam_turn: float, bounds=None) -> int:
    """0 when the multiplier of an untraded asset (or cash) lies in the kink of cost + turnover, or points to a
    direction it cannot move (at a bound, without liquidity); else the direction it should trade (+1 / -1)."""
    if i == n:
        width, can_down, can_up = 0.5 * lam_turn, d.cash0 > FEAS_TOL, d.cash0 < d.cash_max - FEAS_TOL
    else:
        width = d.cost_scale * d.linear[i] + 0.5 * lam_turn
        lo, hi = bounds or weight_bounds(d)
        can_down, can_up = d.w0[i] > lo[i] + FEAS_TOL, d.w0[i] < hi[i] - FEAS_TOL
    # m = -dF/dy_i: m > 0 means buying would lower F
    if m > width + DUAL_TOL and can_up:
        return 1
    if m < -width - DUAL_TOL and can_down:
        return -1
    return 0


def polish(prog, d: NumericData, x: np.ndarray, s: np.ndarray, z: np.ndarray, rounds: int = 6):
    """Polished ``(w, cash)`` certified optimal, or None (then the caller re-solves tightly).

    Starts from the active set read off the interior-point point (see :func:`polish_active`)."""
    bounds = weight_bounds(d)
    out = polish_active(prog, d, active_set(prog, d, x, s, z, bounds), x[:prog.n + 1].copy(), rounds, bounds)
    return None if out is None else out[:2]


def polish_active(prog, d: NumericData, act: _Active, y0: np.ndarray, rounds: int = 6, bounds=None):
    """``(w, cash, active set)`` certified optimal from the guess ``act`` (modified) and the point ``y0``, or None.

    Each round solves the KKT system of the guessed active set by Newton's method and checks the certificate
    (:func:`certify`); while it fails, the guess is repaired: an untraded asset whose gradient leaves the cost's
    kink starts trading, a trade that would change sign stops, a limit whose multiplier has the wrong sign is
    released and a limit the point violates is held (at most ``rounds`` rounds). Only a certified point is
    returned, whatever the guess was: a wrong guess costs rounds, never a wrong answer."""
    with np.errstate(all="ignore"):
        return _polish(prog, d, act, y0, rounds, bounds or weight_bounds(d))


def _polish(prog, d: NumericData, act: _Active, y0: np.ndarray, rounds: int, bounds):
    n = prog.n
    lo, hi = bounds
    G = (2.0 * d.gamma) * d.cov
    base = smooth_base(d, G)
    for _ in range(rounds):
        rows = _rows(prog, d, act, bounds)
        out = newton(d, rows, act, y0, G, base)
        if out is None:
            return None
        if out[0] is None:                  # trades crossed zero: hold them at zero
            for i in out[1]:
                if i == n:
                    act.sign_c = 0
                else:
                    act.sign[i], act.bound[i] = 0, None
            y0 = _consistent(d, act, y0, lo, hi)
            continue
        y, lam, nu = out
        ok, kinks = certify(d, prog, rows, y, lam, nu, bounds)
        if ok:
            return y[:n], float(y[n]), act
        y0 = y.copy()
        if kinks:
            _start_trading(d, act, rows, lam, kinks, y0, G)
        elif not _repair(prog, d, act, rows, y, lam, nu, lo, hi):
            return None
        y0 = _consistent(d, act, y0, lo, hi)
    return None


def _start_trading(d: NumericData, act: _Active, rows: list, lam: np.ndarray, kinks: list, y0: np.ndarray, G):
    """Let the kinked assets trade, starting at the 1-d estimate of their trade (risk or impact alone)."""
    n = len(act.sign)
    lam_turn = max([m for r, m in zip(rows, lam) if r[2] == "turnover"], default=0.0)
    mult = {r[3]: m for r, m in zip(rows, lam) if r[2] == "zero"}
    for i, direction in kinks:
        if i == n:
            act.sign_c = direction
            y0[n] = d.cash0 + direction * 1e-9
            continue
        excess = abs(mult[i]) - d.cost_scale * d.linear[i] - 0.5 * lam_turn
        t = excess / G[i, i] if G[i, i] > 0 else 1e-6
        if d.impact[i] > 0:
            t = min(t, (excess / (d.cost_scale * (1.0 + d.exponent) * d.impact[i])) ** (1.0 / d.exponent))
        act.sign[i] = direction
        y0[i] = d.w0[i] + direction * max(0.5 * t, 1e-9)


def _repair(prog, d: NumericData, act: _Active, rows: list, y, lam, nu, lo, hi) -> bool:
    """Release limits with a wrong-sign multiplier and hold limits that ``y`` violates; False: nothing to change."""
    n, tol, changed = prog.n, FEAS_TOL, False
    for (_, _, kind, i), m in zip(rows, lam):
        if kind in ("le", "turnover") and m < -DUAL_TOL or kind == "ge" and m > DUAL_TOL:
            changed = True
            if kind == "turnover":
                act.turnover = False
            elif i == "floor":
                act.floor = False
            elif i == "tech":
                act.tech = False
            elif i == n:
                act.bound_c = None
            else:
                act.bound[i] = None
    if act.te and nu < -DUAL_TOL:
        act.te, changed = False, True
    w, c = y[:n], y[n]
    t = w - d.w0
    for i in np.flatnonzero((w < lo - tol) | (w > hi + tol)):
        if act.bound[i] is None:
            below = w[i] < lo[i]
            room = d.w0[i] - lo[i] if below else hi[i] - d.w0[i]
            act.sign[i] = (-1 if below else 1) if room > tol else 0
            act.bound[i] = ("lo" if below else "hi") if room > tol else None
            changed = True
    if act.bound_c is None and (c < -tol or c > d.cash_max + tol):
        act.bound_c, act.sign_c, changed = ("lo", -1, True) if c < 0 else ("hi", 1, True)
    checks = (("floor", prog.def_mask @ w < d.floor - tol),
              ("tech", prog.tech is not None and w[prog.tech] > d.tech_cap + tol),
              ("turnover", 0.5 * (np.abs(t).sum() + abs(c - d.cash0)) > d.turnover + tol),
              ("te", d.te < TE_OFF and _norm(d.factor.T @ (w - d.b)) > d.te + tol))
    for name, violated in checks:
        if violated and not getattr(act, name):
            setattr(act, name, True)
            changed = True
    return changed


def _consistent(d: NumericData, act: _Active, y: np.ndarray, lo, hi) -> np.ndarray:
    """``y`` moved onto the guessed active set's sign pattern and held bounds (a start for Newton)."""
    n = len(act.sign)
    y = y.copy()
    sg = act.sign
    w = np.where(sg == 0, d.w0, d.w0 + sg * np.maximum(sg * (y[:n] - d.w0), 1e-9))
    for i, bd in enumerate(act.bound):
        if bd in ("lo", "eq"):
            w[i] = lo[i]
        elif bd == "hi":
            w[i] = hi[i]
    y[:n] = w
    if act.sign_c == 0:
        y[n] = d.cash0
    elif act.bound_c in ("lo", "eq"):
        y[n] = 0.0
    elif act.bound_c == "hi":
        y[n] = d.cash_max
    return y


def warm_guess(prog, d: NumericData, prev: _Active, prev_y: np.ndarray, mode: str = "prev"):
    """A guess ``(active set, start point)`` for a new problem from the certified solution of a previous
    one (another rebalance, other parameters): its held limits, and trade signs per ``mode`` ("prev": the
    previous signs, "toward": towards the previous solution from the new current weights). Only a guess:
    :func:`polish_active` certifies or rejects what it leads to."""
    n = prog.n
    lo, hi = weight_bounds(d)
    pinned = hi - lo <= FEAS_TOL
    if mode == "toward":
        step = prev_y[:n] - d.w0
        sign = np.where(step > 1e-7, 1, np.where(step < -1e-7, -1, 0))
    else:
        sign = prev.sign.copy()
    bound = []
    for i in range(n):
        bd = prev.bound[i] if not pinned[i] else "eq"
        if bd == "lo" and not d.w0[i] > lo[i] + FEAS_TOL or bd == "hi" and not d.w0[i] < hi[i] - FEAS_TOL:
            bd = None
        if bd == "eq" and not pinned[i]:
            bd = None
        if bd == "lo":
            sign[i] = -1
        elif bd == "hi":
            sign[i] = 1
        elif bd == "eq":
            sign[i] = 1 if lo[i] >= d.w0[i] else -1
        bound.append(bd)
    if d.cash_max <= FEAS_TOL:
        bound_c, sign_c = "eq", (1 if 0.0 >= d.cash0 else -1)
    else:
        bound_c = prev.bound_c if prev.bound_c in ("lo", "hi") else None
        sign_c = prev.sign_c if bound_c is None else (-1 if bound_c == "lo" else 1)
        if bound_c == "lo" and d.cash0 <= FEAS_TOL or bound_c == "hi" and d.cash0 >= d.cash_max - FEAS_TOL:
            bound_c, sign_c = None, 0
    act = _Active(sign, bound, sign_c, bound_c, prev.floor and d.floor > 0, prev.tech, prev.turnover,
                  prev.te and d.te < TE_OFF)
    return act, _consistent(d, act, np.asarray(prev_y, dtype=float).copy(), lo, hi)
