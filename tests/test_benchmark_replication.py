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


try:
    from hypothesis import given, settings, strategies as st
except ImportError:  # pragma: no cover - hypothesis is a dev dependency
    given = None

if given is not None:
    @settings(max_examples=150, deadline=None)
    @given(seed=st.integers(0, 2**31), n=st.integers(2, 14), zeros=st.booleans())
    def test_simplex_least_squares_equals_scipy_path(seed, n, zeros):
        """The replication equals the former scipy.optimize.nnls implementation to 1e-10 (the same weighted
        budget row, scipy's solver) on return-like random windows."""
        from scipy.optimize import nnls as scipy_nnls

        rng = np.random.default_rng(seed)
        R = rng.normal(3e-4, 0.012, (252, n)) * rng.uniform(0.3, 3.0, n)
        true = rng.dirichlet(np.ones(n))
        if zeros:
            true[: n // 2] = 0.0
            true /= true.sum()
        y = R @ true + rng.normal(0, 0.002, 252)
        ref = _old_simplex(R, y, scipy_nnls)
        np.testing.assert_allclose(simplex_least_squares(R, y), ref, atol=1e-10)
        # a start support (right, wrong or partly right) only changes the path, not the answer
        for start in (ref > 0, rng.random(n) < 0.5, ~(ref > 0)):
            np.testing.assert_allclose(simplex_least_squares(R, y, start=start), ref, atol=1e-10)


def _old_simplex(R, y, scipy_nnls):
    """The replication as it was written with scipy.optimize.nnls (the reference of the tests)."""
    scale = max(float(np.sqrt((R * R).sum(axis=0).max())), 1e-12)
    big = 1e4 * scale
    A = np.vstack([R, np.full((1, R.shape[1]), big)])
    w, _ = scipy_nnls(A, np.r_[y, big], maxiter=50 * R.shape[1])
    w = np.clip(w, 0.0, None)
    return w / w.sum()


def test_real_replication_equals_scipy_path(real_market):
    """On the real data, the SPY replication at every month end 1999-2019 equals the scipy path to 1e-10, also
    when started from the previous month's support."""
    from scipy.optimize import nnls as scipy_nnls

    from engine.optimize.benchmark import replicate_window
    from engine.universe import SECTORS
    m = real_market
    px = m.prices.reindex(columns=list(SECTORS) + ["SPY"])
    rets = px.pct_change(fill_method=None).to_numpy(float)[1:]
    month_ends = np.flatnonzero(np.diff(m.sessions.month) != 0)
    checked, prev = 0, None
    for pos in month_ends:
        if pos < 300:
            continue
        R, rb = rets[pos - 252:pos, :-1], rets[pos - 252:pos, -1]
        full = ~np.isnan(R).any(axis=0)
        if np.isnan(rb).any() or not full.any():
            continue
        ours = replicate_window(R, rb)
        ref = np.zeros(R.shape[1])
        ref[full] = _old_simplex(R[:, full], rb, scipy_nnls)
        np.testing.assert_allclose(ours, ref, atol=1e-10)
        if prev is not None:            # started from the previous month's support, as the backtest does
            np.testing.assert_allclose(replicate_window(R, rb, start=prev > 0), ref, atol=1e-10)
        prev = ours
        checked += 1
    assert checked > 200
