"""Fast re-solves of the allocation problem: cvxpy's canonicalization cached once, Clarabel called directly.

cvxpy compiles the DPP problem into a parametrized cone program whose data are affine in the stacked
parameter vector theta: [A | b] values = R_A @ [theta; 1], q = R_q @ [theta; 1], P values = R_P @ [theta; 1]
with fixed sparsity patterns. :class:`FastAllocator` keeps those maps (``ParamConeProg.reduced_A`` etc.),
fills theta directly from the numeric inputs (no cvxpy Parameter objects, no reduction chain per call),
and updates a persistent ``clarabel.DefaultSolver`` in place (presolve off so the data can be updated).
It solves exactly the cone program cvxpy would hand to Clarabel, so the solutions agree (tested).
"""
from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import scipy.sparse as sp

from engine.errors import SolverError
from engine.optimize.limits import Limits
from engine.optimize.problem import (AllocationInputs, Allocation, Allocator, NumericData, check_exponent, finish,
                                     parameter_values, prepare)

log = logging.getLogger(__name__)
# Clarabel's default tolerances (1e-8) leave the |trade| epigraph variable up to ~1e-5 above the trade, so a
# binding turnover limit binds on the epigraph instead of the real trade and the weights differ from an
# independent formulation by up to 1.4e-5. At 1e-10 they agree to 1e-6 (tests/test_optimize_independent.py)
# for about three more interior-point iterations.
TIGHT_SETTINGS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def _pattern(reduced) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    indices, indptr, shape = reduced.problem_data_index
    return np.asarray(indices), np.asarray(indptr), tuple(shape)


class FastAllocator:
    """Same problem and result as :class:`Allocator`, re-solved in well under a millisecond.

    ``solve(inputs, limits)`` validates like :meth:`Allocator.solve`; ``solve_numeric(d, limits)`` skips
    validation for callers (backtests) that already hold a :class:`NumericData`.
    """

    def __init__(self, tickers: list[str], settings: dict | None = None, impact_exponent: float = 0.5):
        import clarabel
        import cvxpy as cp
        from cvxpy.reductions.solvers.conic_solvers.conic_solver import ConicSolver
        from cvxpy.reductions.solvers.conic_solvers.clarabel_conif import dims_to_solver_cones

        self._clarabel = clarabel
        self.base = Allocator(tickers, impact_exponent=impact_exponent)
        self.exponent = self.base.exponent
        self.tickers = self.base.tickers
        self._index = pd.Index(self.tickers)
        n = len(self.tickers)
        # Any valid parameter values will do to compile: a diagonal covariance, equal weights.
        eq = np.full(n, 1.0 / n)
        d0 = NumericData(mu=np.zeros(n), cov=np.eye(n) * 0.04, factor=np.eye(n) * 0.2, w0=eq, cash0=0.0, b=eq,
                         lo=np.zeros(n), hi=np.ones(n), tech_cap=1.0, floor=0.0, te=1.0, turnover=1.0,
                         tbound=np.ones(n), linear=0.0, impact=np.zeros(n), cash_max=0.0, gamma=1.0)
        self.base.set_parameters(d0)
        data, _chain, _inv = self.base.problem.get_problem_data(cp.CLARABEL)
        fp = data[cp.settings.PARAM_PROB] if hasattr(cp.settings, "PARAM_PROB") else data["param_prob"]
        self._fp = fp
        self.cones = dims_to_solver_cones(data[ConicSolver.DIMS])
        self.nx = fp.x.size
        self.ntheta = fp.total_param_size + 1
        self._cols = {name: (fp.param_id_to_col[par.id], par.size) for name, par in self.base.params.items()}
        self._w_col = fp.var_id_to_col[self.base.w.id]
        self._c_col = fp.var_id_to_col[self.base.cash.id]
        # A and b share one map; A = -first nx columns (cvxpy's conic form is A x + s = b, s in K).
        fp.reduced_A.cache(False)
        self._RA = sp.csr_array(fp.reduced_A.reduced_mat)
        idx, ptr, shape = _pattern(fp.reduced_A)
        self.m = shape[0]
        nnz_a = int(ptr[self.nx])
        a_idx, a_ptr = idx[:nnz_a].copy(), ptr[: self.nx + 1].copy()
        self._a_order = self._sorted_order(a_idx, a_ptr)
        self._a_idx, self._a_ptr, self._nnz_a = a_idx[self._a_order], a_ptr, nnz_a
        self._b_rows = idx[nnz_a:ptr[self.nx + 1]].copy()
        self._Rq = sp.csr_array(fp.q)
        if fp.reduced_P.matrix_data is not None:
            fp.reduced_P.cache(False)
            self._RP = sp.csr_array(fp.reduced_P.reduced_mat)
            p_idx, p_ptr, _ = _pattern(fp.reduced_P)
            cols = np.repeat(np.arange(self.nx), np.diff(p_ptr))
            keep = p_idx <= cols                     # Clarabel takes the upper triangle
            self._p_keep = np.flatnonzero(keep)
            P0 = sp.csc_array((np.ones(keep.sum()), (p_idx[keep], cols[keep])), shape=(self.nx, self.nx))
            # map kept entries to P0's canonical (sorted) order
            order = np.lexsort((p_idx[keep], cols[keep]))
            self._p_keep = self._p_keep[order]
            self._p_idx, self._p_ptr = P0.indices.copy(), P0.indptr.copy()
            if len(P0.data) != len(self._p_keep):
                raise SolverError("internal: duplicate entries in the quadratic objective pattern")
        else:
            self._RP = None
        self.settings = clarabel.DefaultSettings()
        self.settings.verbose = False
        self.settings.presolve_enable = False
        self.settings.chordal_decomposition_enable = False
        for k, v in {**TIGHT_SETTINGS, **(settings or {})}.items():
            setattr(self.settings, k, v)
        self._solver = None
        self.last_status = None

    @staticmethod
    def _sorted_order(idx: np.ndarray, ptr: np.ndarray) -> np.ndarray:
        order = np.arange(len(idx))
        for j in range(len(ptr) - 1):
            s, e = ptr[j], ptr[j + 1]
            order[s:e] = s + np.argsort(idx[s:e], kind="stable")
        return order

    # ---- data ------------------------------------------------------------------------------------
    def theta(self, d: NumericData) -> np.ndarray:
        """Stacked parameter vector (cvxpy's column layout, Fortran order for matrices, constant 1 last)."""
        th = np.empty(self.ntheta)
        vals = parameter_values(d)
        for name, (col, size) in self._cols.items():
            v = vals[name]
            th[col:col + size] = np.ravel(v, order="F") if np.ndim(v) else v
        th[-1] = 1.0
        return th

    def conic_data(self, d: NumericData):
        """(P, q, A, b) in Clarabel's form for these inputs: min x'Px/2 + q'x s.t. Ax + s = b, s in cones."""
        th = self.theta(d)
        va = self._RA @ th
        a_data = -va[: self._nnz_a][self._a_order]
        b = np.zeros(self.m)
        b[self._b_rows] = va[self._nnz_a:]
        q = (self._Rq @ th)[: self.nx]
        if self._RP is not None:
            p_data = (self._RP @ th)[self._p_keep]
        else:
            p_data = np.zeros(0)
        return p_data, q, a_data, b

    # ---- solve -----------------------------------------------------------------------------------
    def solve_numeric(self, d: NumericData, limits: Limits) -> Allocation:
        """Solve from validated arrays. Infeasible -> InfeasibleError (diagnosed); failure -> SolverError."""
        cl = self._clarabel
        check_exponent(self.exponent, d)
        p_data, q, a_data, b = self.conic_data(d)
        if self._solver is None:
            P = sp.csc_matrix((p_data, self._p_idx, self._p_ptr), shape=(self.nx, self.nx)) if self._RP is not None \
                else sp.csc_matrix((self.nx, self.nx))
            A = sp.csc_matrix((a_data, self._a_idx, self._a_ptr), shape=(self.m, self.nx))
            self._solver = cl.DefaultSolver(P, q, A, b, self.cones, self.settings)
        else:
            if self._RP is not None:
                self._solver.update(P=p_data, q=q, A=a_data, b=b)
            else:
                self._solver.update(q=q, A=a_data, b=b)
        sol = self._solver.solve()
        status = str(sol.status)
        self.last_status = status
        if status in ("PrimalInfeasible", "AlmostPrimalInfeasible"):
            from engine.optimize.diagnose import diagnose_and_raise
            diagnose_and_raise(self.tickers, d, limits)
        if status not in ("Solved", "AlmostSolved"):
            raise SolverError(f"Clarabel returned status {status}; loosen the limits or check that expected returns "
                              "and covariance are finite and on an annual scale")
        x = np.asarray(sol.x)
        n = len(self.tickers)
        return finish(self.tickers, d, x[self._w_col:self._w_col + n], float(x[self._c_col]),
                      "optimal" if status == "Solved" else "optimal_inaccurate", limits, self._index)

    def solve(self, inputs: AllocationInputs, limits: Limits | None = None) -> Allocation:
        """Validate ``inputs`` and solve (same contract as :meth:`Allocator.solve`)."""
        limits = limits or Limits()
        return self.solve_numeric(prepare(self.tickers, inputs, limits), limits)
