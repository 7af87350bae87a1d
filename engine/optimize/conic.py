"""The allocation problem of :mod:`engine.optimize.problem` written by hand as one Clarabel cone program.

Variables ``x = [w (n), cash, u (n), uc, s (n)]``: weights, cash, the |trade| epigraph ``u >= |w - w0|``,
``uc >= |cash - cash0|`` and the impact epigraph ``s_i >= u_i ** (1 + e)``. Clarabel solves

    minimize  x'Px / 2 + q'x   subject to   A x + slack = b,  slack in K

with  P = 2 gamma Σ on the weights,  q = [-mu - 2 gamma Σ b_r, 0, (252/H) linear, 0, (252/H) k],  and K:

- zero cone (1):        sum(w) + cash = 1
- nonnegative cone:     u >= ±(w - w0), uc >= ±(cash - cash0), 0 <= cash <= cash_max,
                        max(lo, w0 - tbound) <= w <= min(hi, w0 + tbound)  (sector limits and liquidity),
                        defensive floor, tech cap, 0.5 (sum u + uc) <= turnover
- second-order cone:    ||L'(w - b)||_2 <= te
- n power cones:        (s_i, 1, u_i) in K_pow(1 / (1 + e)), i.e. s_i >= |u_i| ** (1 + e)

which is exactly the cvxpy problem of :class:`engine.optimize.problem.Allocator` (the same limits and the same
:class:`engine.costs.CostModel` cost, with the constant risk term dropped). The sparsity pattern is fixed (the
covariance block dense, the factor block as the lower triangle of the Cholesky factor), so a re-solve only
writes new values.
"""
from __future__ import annotations

import numpy as np

from engine.errors import ArgumentError
from engine.optimize.problem import NumericData
from engine.universe import DEFENSIVE, TECH


class CSC:
    """A compressed-sparse-column matrix as Clarabel reads one (``format``, ``shape``, ``data``, ``indices``,
    ``indptr``, ``has_canonical_format``), so the allocator does not import scipy.sparse (0.15 s in every
    export process); tests/test_optimize_fast.py checks it equals scipy's ``csc_matrix`` of the same pattern."""

    format = "csc"
    has_canonical_format = True

    def __init__(self, data, indices, indptr, shape):
        self.data = np.ascontiguousarray(data, dtype=float)
        self.indices = np.ascontiguousarray(indices, dtype=np.int64)
        self.indptr = np.ascontiguousarray(indptr, dtype=np.int64)
        self.shape = tuple(shape)

    def toarray(self) -> np.ndarray:
        """The dense matrix (for tests)."""
        out = np.zeros(self.shape)
        cols = np.repeat(np.arange(self.shape[1]), np.diff(self.indptr))
        out[self.indices, cols] = self.data
        return out


def csc_pattern(rows, cols, ncols: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(order, indices, indptr)`` of the CSC pattern of entries at ``(rows[k], cols[k])``, sorted by column
    then row (canonical): ``order[p]`` is the entry number stored at CSC position p. Duplicates are an error."""
    rows, cols = np.asarray(rows, dtype=np.int64), np.asarray(cols, dtype=np.int64)
    order = np.lexsort((rows, cols))
    r, c = rows[order], cols[order]
    if len(r) > 1 and np.any((r[1:] == r[:-1]) & (c[1:] == c[:-1])):  # pragma: no cover - patterns have none
        raise RuntimeError("internal: duplicate entries in the cone program pattern")
    indptr = np.concatenate(([0], np.cumsum(np.bincount(c, minlength=ncols))))
    return order, r, indptr


def weight_bounds(d: NumericData) -> tuple[np.ndarray, np.ndarray]:
    """Per-ticker bounds on w of the sector limits and the liquidity limit |w - w0| <= tbound together."""
    return np.maximum(d.lo, d.w0 - d.tbound), np.minimum(d.hi, d.w0 + d.tbound)


class ConeProgram:
    """Index bookkeeping of the hand-built cone program for ``n`` tickers (built once per ticker list).

    ``data(d)`` returns ``(P_data, q, A_data, b)`` for one rebalance, in the CSC value order of the fixed
    patterns ``self.P`` and ``self.A``; ``cones()`` gives Clarabel's cone list.
    """

    def __init__(self, tickers: list[str], exponent: float):
        n = self.n = len(tickers)
        self.exponent = float(exponent)
        self.iw, self.ic = np.arange(n), n
        self.iu, self.iuc = n + 1 + np.arange(n), 2 * n + 1
        self.i_s = 2 * n + 2 + np.arange(n)
        self.nx = 3 * n + 2
        self.tech = tickers.index(TECH) if TECH in tickers else None
        self.def_mask = np.array([t in DEFENSIVE for t in tickers], dtype=float)
        self._build_pattern()

    # ---- pattern ---------------------------------------------------------------------------------
    def _build_pattern(self) -> None:
        rows, cols, keys = [], [], []          # keys: name of the value slot of each entry

        def add(r, c, key):
            rows.append(r), cols.append(c), keys.append(key)

        r = self._linear_rows(add)
        self.n_nonneg = r - self.n_zero
        self.m = self._cone_rows(add, r)
        self._finish_pattern(np.array(rows), np.array(cols), keys)

    def _linear_rows(self, add) -> int:
        """Budget (zero cone) and every linear limit (nonnegative cone); returns the next row."""
        n = self.n
        r = 0
        for i in range(n):                                     # budget (zero cone)
            add(r, self.iw[i], "one")
        add(r, self.ic, "one")
        r += 1
        self.n_zero = 1
        self.r_up = r                                          # w - u <= w0
        for i in range(n):
            add(r + i, self.iw[i], "one"), add(r + i, self.iu[i], "minus")
        r += n
        self.r_down = r                                        # -w - u <= -w0
        for i in range(n):
            add(r + i, self.iw[i], "minus"), add(r + i, self.iu[i], "minus")
        r += n
        self.r_cash = r                                        # c - uc <= c0; -c - uc <= -c0; -c <= 0; c <= cmax
        add(r, self.ic, "one"), add(r, self.iuc, "minus")
        add(r + 1, self.ic, "minus"), add(r + 1, self.iuc, "minus")
        add(r + 2, self.ic, "minus")
        add(r + 3, self.ic, "one")
        r += 4
        self.r_lo = r                                          # -w <= -lo
        for i in range(n):
            add(r + i, self.iw[i], "minus")
        r += n
        self.r_hi = r                                          # w <= hi
        for i in range(n):
            add(r + i, self.iw[i], "one")
        r += n
        self.r_floor = r                                       # -def'w <= -floor
        for i in np.flatnonzero(self.def_mask):
            add(r, self.iw[i], "minus")
        r += 1
        self.r_tech = None
        if self.tech is not None:                              # w_tech <= cap
            self.r_tech = r
            add(r, self.iw[self.tech], "one")
            r += 1
        self.r_turn = r                                        # 0.5 (sum u + uc) <= turnover
        for i in range(n):
            add(r, self.iu[i], "half")
        add(r, self.iuc, "half")
        return r + 1

    def _cone_rows(self, add, r: int) -> int:
        """The tracking-error cone and the impact power cones from row ``r``; returns the row count."""
        n = self.n
        self.r_te = r                                          # (te, L'(w - b)): rows te, then -L' w
        for k in range(n):                                     # L is lower-triangular (cholesky_factor): row k
            for i in range(k, n):                              # of L' has entries i >= k only (55 fewer of 243
                add(r + 1 + k, self.iw[i], ("L", k, i))        # entries: Clarabel's solve 8% faster, measured)
        r += n + 1
        self.r_pow = r                                         # (s_i, 1, u_i) in the power cone
        for i in range(n):
            add(r + 3 * i, self.i_s[i], "minus"), add(r + 3 * i + 2, self.iu[i], "minus")
        return r + 3 * n

    def _finish_pattern(self, rows, cols, keys) -> None:
        n = self.n
        order, self._A_idx, self._A_ptr = csc_pattern(rows, cols, self.nx)   # CSC position -> entry number
        const = {"one": 1.0, "minus": -1.0, "half": 0.5}
        base = np.array([const.get(k, 0.0) if isinstance(k, str) else 0.0 for k in keys])
        self._A_base = base[order]
        is_l = np.array([not isinstance(k, str) for k in keys])
        pos = np.empty(len(keys), dtype=int)
        pos[order] = np.arange(len(keys))
        lk = [keys[j] for j in np.flatnonzero(is_l)]
        self._L_pos = pos[np.flatnonzero(is_l)]                # A value slots of -L' (row k, column i)
        self._L_k = np.array([k for _, k, _ in lk])
        self._L_i = np.array([i for _, _, i in lk])
        iu, ju = np.triu_indices(n)
        _, self._P_idx, self._P_ptr = csc_pattern(iu, ju, self.nx)
        # CSC order of the upper triangle of the n x n block is column-major: (row i, column j), i <= j
        cols_, rows_ = [], []
        for j in range(n):
            for i in range(j + 1):
                rows_.append(i), cols_.append(j)
        self._P_r, self._P_c = np.array(rows_), np.array(cols_)
        self._P_flat = self._P_r * n + self._P_c               # the same entries as flat positions (take)
        self._L_flat = self._L_i * n + self._L_k
        self._U_flat = np.flatnonzero(np.triu(np.ones((n, n)), 1))   # strictly upper part: must be zero
        self._b_base = np.zeros(self.m)
        self._b_base[0] = 1.0
        self._b_base[self.r_pow + 1:self.r_pow + 3 * n:3] = 1.0

    # ---- per rebalance ---------------------------------------------------------------------------
    def data(self, d: NumericData):
        """``(P_data, q, A_data, b)`` of one rebalance in the fixed patterns' value order."""
        n = self.n
        p_data = (2.0 * d.gamma) * d.cov.take(self._P_flat)
        q = np.zeros(self.nx)
        q[:n] = -d.mu - (2.0 * d.gamma) * (d.cov @ d.b_risk)
        q[self.iu] = d.cost_scale * d.linear
        q[self.i_s] = d.cost_scale * d.impact
        a_data = self._A_base.copy()
        if d.factor.take(self._U_flat).any():
            raise ArgumentError("factor", "expected the lower-triangular Cholesky factor of the covariance "
                                "(engine.optimize.covariance.cholesky_factor), got entries above the diagonal")
        a_data[self._L_pos] = -d.factor.take(self._L_flat)    # row k of L' is column k of L
        b = self._b_base.copy()                                # budget 1 and the power cones' 1 set
        b[self.r_up:self.r_up + n] = d.w0
        b[self.r_down:self.r_down + n] = -d.w0
        b[self.r_cash:self.r_cash + 4] = (d.cash0, -d.cash0, 0.0, d.cash_max)
        lo, hi = weight_bounds(d)
        b[self.r_lo:self.r_lo + n] = -lo
        b[self.r_hi:self.r_hi + n] = hi
        b[self.r_floor] = -d.floor
        if self.r_tech is not None:
            b[self.r_tech] = d.tech_cap
        b[self.r_turn] = d.turnover
        b[self.r_te] = d.te
        b[self.r_te + 1:self.r_te + 1 + n] = -(d.factor.T @ d.b)
        return p_data, q, a_data, b

    def matrices(self, p_data, a_data):
        """Clarabel's CSC matrices (upper-triangular P) from value arrays in the fixed patterns."""
        return (CSC(p_data, self._P_idx, self._P_ptr, (self.nx, self.nx)),
                CSC(a_data, self._A_idx, self._A_ptr, (self.m, self.nx)))

    def cones(self, clarabel) -> list:
        """Clarabel cone objects in row order."""
        head = [clarabel.ZeroConeT(self.n_zero), clarabel.NonnegativeConeT(self.n_nonneg),
                clarabel.SecondOrderConeT(self.n + 1)]
        alpha = 1.0 / (1.0 + self.exponent) if self.exponent > 0 else 0.5   # exponent 0 only without impact
        return head + [clarabel.PowerConeT(alpha) for _ in range(self.n)]
