"""The SPY replication's simplex least squares (NNLS with a weighted budget row) equals an independent
cvxpy solve of min ||R w - y||^2, w >= 0, sum w = 1."""
from __future__ import annotations

import numpy as np
import pytest

from engine.optimize.benchmark import simplex_least_squares


@pytest.mark.parametrize("seed", range(6))
def test_equals_cvxpy(seed):
    cp = pytest.importorskip("cvxpy")
    rng = np.random.default_rng(seed)
    n = 9 + seed % 3
    R = rng.normal(3e-4, 0.012, (252, n))
    true = rng.dirichlet(np.ones(n))
    if seed % 2:
        true[: n // 3] = 0.0
        true /= true.sum()
    y = R @ true + rng.normal(0, 0.002, 252)
    w = cp.Variable(n)
    cp.Problem(cp.Minimize(cp.sum_squares(R @ w - y)), [w >= 0, cp.sum(w) == 1]).solve(
        solver="CLARABEL", tol_gap_abs=1e-12, tol_gap_rel=1e-12, tol_feas=1e-12)
    ours = simplex_least_squares(R, y)
    assert ours.sum() == pytest.approx(1.0, abs=1e-12) and (ours >= 0).all()
    np.testing.assert_allclose(ours, w.value, atol=1e-6)
