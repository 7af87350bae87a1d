"""Fast re-solves of the allocation problem: a hand-built cone program, Clarabel called directly, then polished.

:class:`FastAllocator` writes the problem of :class:`engine.optimize.problem.Allocator` (every limit, the same
:class:`engine.costs.CostModel`) as one Clarabel cone program with fixed sparsity patterns
(:mod:`engine.optimize.conic`), keeps a persistent ``clarabel.DefaultSolver`` and only updates its values per
solve (no cvxpy import on this path). Clarabel runs at a loose tolerance (1e-5; it only has to find the active
set); the point is then polished on its active set (:mod:`engine.optimize.polish`) so that the turnover limit binds
on the real trades rather than on the |trade| epigraph. When the polish cannot certify its point (a degenerate
active set), the problem is re-solved at tight tolerances instead (``last_path`` says which happened).
With ``warm_start=True`` a solve first tries the active set of the previous certified solve (the same or nearby
inputs under other limits: see WARM_NEAR) without Clarabel, and keeps that point only if the same certificate holds
(``last_path`` "warm"); otherwise it takes the cold path above. After three warm misses in a row it tries only
every eighth solve until one certifies (a sequence of unrelated problems then costs about the cold path).
Infeasible limits are diagnosed with cvxpy (:mod:`engine.optimize.diagnose`), imported only then.
"""
from __future__ import annotations

import copy
import logging

import numpy as np
import pandas as pd

from engine.errors import ArgumentError, SolverError
from engine.optimize.conic import ConeProgram
from engine.optimize.limits import Limits
from engine.optimize.polish import active_set, polish_active, warm_guess
from engine.optimize.conic import weight_bounds
from engine.optimize.problem import AllocationInputs, Allocation, NumericData, check_exponent, finish, prepare

log = logging.getLogger(__name__)
# Settings of the first solve and of the fallback / the plain cvxpy path. The first solve only has to find the
# active set (the polish then solves the KKT system exactly): at 1e-5 Clarabel needs 8.95 iterations on 300 bench
# draws (10.2 at 1e-6, 14 at its default 1e-8; about 55 us each) and 10.4 on the backtest's 240 months (11.8),
# for a few more polish rounds (380 Newton solves against 341 on the draws, 468 against 362 on the months) and
# one more tight fallback in 225 feasible months; 1e-4 saves no more iterations on the months and certifies
# 7 fewer. (Without equilibration it is not faster: 11.7 against 10.3 iterations on the bench draws, 12.1
# against 11.8 on the backtest's months, measured interleaved in one process.)
# Iterative refinement is off on the first solve: it refines each KKT solve of every iteration and takes 40% of
# Clarabel's time here (180 against 315 us a solve on 200 bench draws, the same 8.9 iterations, the same 199 of
# 200 certified; the rotation backtest's 225 months certify alike, weights within 2e-8). The polish re-solves
# the KKT system exactly anyway, and the tight fallback keeps refinement on.
FAST_SETTINGS = {"tol_gap_abs": 1e-5, "tol_gap_rel": 1e-5, "tol_feas": 1e-5, "iterative_refinement_enable": False}
WARM_ROUNDS = 3       # active-set repairs a warm start may make before the cold path takes over
# A warm start is tried only when the new inputs are near the last certified solve's (relative change of the
# expected returns, the covariance, and L1 change of the current and benchmark weights, the largest of them, at
# most WARM_NEAR): the active set then has a chance to carry over. Measured: on 107 real month-to-month
# transitions (tests/test_optimize_warm.py's sequence, changes 0.2 to 3) it certified 2; between the bench's
# random draws (changes 0.66 to 2.2) none; after a limit change (change 0) 52 of 53.
WARM_NEAR = 0.2
TIGHT_SETTINGS = {"tol_gap_abs": 1e-10, "tol_gap_rel": 1e-10, "tol_feas": 1e-10}


def _settings(clarabel, values: dict):
    s = clarabel.DefaultSettings()
    s.verbose = False
    s.presolve_enable = False              # the data are updated in place: keep every row
    s.chordal_decomposition_enable = False
    for k, v in values.items():
        setattr(s, k, v)
    return s


class FastAllocator:
    """Same problem and result as :class:`Allocator`, re-solved in well under a millisecond.

    ``solve(inputs, limits)`` validates like :meth:`Allocator.solve`; ``solve_numeric(d, limits)`` skips
    validation for callers (backtests) that already hold a :class:`NumericData`. ``polish=False`` returns
    the tight interior-point solution without polishing (for comparisons).
    """

    def __init__(self, tickers: list[str], settings: dict | None = None, impact_exponent: float = 0.5,
                 polish: bool = True, warm_start: bool = False):
        import clarabel

        self._clarabel = clarabel
        self.tickers = list(tickers)
        if not self.tickers:
            raise ArgumentError("tickers", "expected at least one ticker")
        self.exponent = float(impact_exponent)
        self._index = pd.Index(self.tickers)
        self.program = ConeProgram(self.tickers, self.exponent)
        self.polish = polish
        first = {**(FAST_SETTINGS if polish else TIGHT_SETTINGS), **(settings or {})}
        self.settings = _settings(clarabel, first)
        self.tight_settings = _settings(clarabel, {**TIGHT_SETTINGS, **(settings or {})})
        self._solver = self._tight = None
        self.last_status = None
        self.last_path = None                  # "warm", "polished", "interior" or "tight" (fallback)
        self.warm_start = bool(warm_start) and polish
        self._last = None                      # (active set, [w, cash]) of the last certified solve
        self._last_data = None                 # its NumericData (None: unknown, then a warm start is tried)
        self._misses = 0                       # warm attempts in a row that did not certify
        self._skipped = 0
        self.warm_stats = {"tried": 0, "certified": 0}

    # ---- solve -----------------------------------------------------------------------------------
    def _run(self, which: str, d: NumericData):
        p_data, q, a_data, b = self.program.data(d)
        solver = getattr(self, which)
        if solver is None:
            P, A = self.program.matrices(p_data, a_data)
            settings = self.settings if which == "_solver" else self.tight_settings
            solver = self._clarabel.DefaultSolver(P, q, A, b, self.program.cones(self._clarabel), settings)
            setattr(self, which, solver)
        else:                    # lists: Clarabel reads a list several times faster than a numpy array
            solver.update(P=p_data.tolist(), q=q.tolist(), A=a_data.tolist(), b=b.tolist())
        sol = solver.solve()
        return sol, str(sol.status)

    def _check(self, status: str, d: NumericData, limits: Limits) -> None:
        self.last_status = status
        if status in ("PrimalInfeasible", "AlmostPrimalInfeasible"):
            from engine.optimize.diagnose import diagnose_and_raise
            diagnose_and_raise(self.tickers, d, limits)
        if status not in ("Solved", "AlmostSolved"):
            raise SolverError(f"Clarabel returned status {status}; loosen the limits or check that expected returns "
                              "and covariance are finite and on an annual scale")

    def forget(self) -> None:
        """Drop the warm-start memory (the next solve is cold)."""
        self._last, self._last_data, self._misses, self._skipped = None, None, 0, 0

    def _warm(self, d: NumericData):
        """The certified point reached from the previous solve's active set, or None (then: cold)."""
        if self._misses >= 3:
            self._skipped += 1
            if self._skipped % 8:
                return None
        self.warm_stats["tried"] += 1
        bounds = weight_bounds(d)
        act, y0 = warm_guess(self.program, d, *self._last)
        try:
            out = polish_active(self.program, d, act, y0, WARM_ROUNDS, bounds)
        except (np.linalg.LinAlgError, FloatingPointError, ValueError):  # pragma: no cover
            out = None
        self._misses = 0 if out is not None else self._misses + 1
        if out is not None:
            self._skipped = 0
            self.warm_stats["certified"] += 1
        return out

    def solve_numeric(self, d: NumericData, limits: Limits) -> Allocation:
        """Solve from validated arrays. Infeasible -> InfeasibleError (diagnosed); failure -> SolverError."""
        check_exponent(self.exponent, d)
        if self.warm_start and self._last is not None and _near(d, self._last_data):
            done = self._warm(d)
            if done is not None:
                return self._accept(d, done, "warm", limits)
        self._last = None
        sol, status = self._run("_solver", d)
        if status in ("PrimalInfeasible", "AlmostPrimalInfeasible") or not self.polish:
            self._check(status, d, limits)
            self.last_path = "interior"
            return self._finish_tight(d, sol, status, limits)
        done = None
        if status == "Solved":
            try:
                done = self._polish(d, sol)
            except (np.linalg.LinAlgError, FloatingPointError, ValueError) as e:  # pragma: no cover
                log.debug("polish failed (%s); re-solving tightly", e)
        if done is not None:
            return self._accept(d, done, "polished", limits)
        sol, status = self._run("_tight", d)         # degenerate active set or a stalled first solve
        self._check(status, d, limits)
        self.last_path = "tight"
        return self._finish_tight(d, sol, status, limits)

    def _accept(self, d: NumericData, done: tuple, path: str, limits: Limits) -> Allocation:
        """The certified point ``done = (w, cash, active set)``: remembered for the next warm start."""
        if self.warm_start:
            self._last = (done[2], np.append(done[0], done[1]))
            self._last_data = d
        self.last_path = path
        return finish(self.tickers, d, done[0], done[1], "optimal", limits, self._index)

    def _polish(self, d: NumericData, sol):
        x, s, z = np.asarray(sol.x), np.asarray(sol.s), np.asarray(sol.z)
        bounds = weight_bounds(d)
        act = active_set(self.program, d, x, s, z, bounds)
        return polish_active(self.program, d, act, x[:self.program.n + 1].copy(), 6, bounds)

    def _finish_tight(self, d: NumericData, sol, status: str, limits: Limits) -> Allocation:
        x, n = np.asarray(sol.x), len(self.tickers)
        return finish(self.tickers, d, x[:n], float(x[n]), "optimal" if status == "Solved" else "optimal_inaccurate",
                      limits, self._index)

    def solve(self, inputs: AllocationInputs, limits: Limits | None = None) -> Allocation:
        """Validate ``inputs`` and solve (same contract as :meth:`Allocator.solve`)."""
        limits = limits or Limits()
        return self.solve_numeric(prepare(self.tickers, inputs, limits), limits)


def _near(d: NumericData, prev: NumericData | None) -> bool:
    """The inputs of ``d`` are within WARM_NEAR of ``prev``'s (see WARM_NEAR); True when ``prev`` is unknown."""
    if prev is None or d is prev:
        return True
    if np.abs(d.mu - prev.mu).max() > WARM_NEAR * max(np.abs(prev.mu).max(), 1e-12):
        return False
    if np.abs(d.w0 - prev.w0).sum() > WARM_NEAR or np.abs(d.b - prev.b).sum() > WARM_NEAR:
        return False
    return bool(np.abs(d.cov - prev.cov).max() <= WARM_NEAR * max(np.abs(prev.cov).max(), 1e-300))


_COMPILED: dict[tuple, FastAllocator] = {}


def shared_allocator(tickers: list[str], impact_exponent: float = 0.5) -> FastAllocator:
    """A :class:`FastAllocator` as if new, without compiling again: a shallow copy of one compiled per ticker
    list and impact exponent in this process and never solved (compiling costs about 0.3 s). A copy, not the
    same object, because Clarabel's solver is created at the first solve and then updated in place, and its
    answers depend on that history below the polish's tolerance (up to about 1e-9 in weights): each copy
    starts from a fresh solver, so the same inputs give the same bits whatever was solved before in this
    process (an Excel session, a sweep worker; tests/test_optimize_fast.py checks it)."""
    key = (tuple(tickers), float(impact_exponent))
    compiled = _COMPILED.get(key)
    if compiled is None:
        if len(_COMPILED) > 32:
            _COMPILED.clear()
        compiled = _COMPILED[key] = FastAllocator(list(tickers), impact_exponent=impact_exponent)
    alloc = copy.copy(compiled)
    alloc.warm_stats = {"tried": 0, "certified": 0}          # its own counters (the copy is shallow)
    return alloc
