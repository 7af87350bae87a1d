"""The allocator calls two of numpy's LAPACK gufuncs without np.linalg's wrappers (engine.optimize.polish._solve,
engine.optimize.covariance._cholesky): the same values as np.linalg, the same errors, and no warning on a
singular or indefinite matrix (the wrappers' error state is not there to silence it)."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.optimize.covariance import _cholesky
from engine.optimize.polish import _solve


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 30), seed=st.integers(0, 2**31 - 1))
def test_equal_to_numpy_linalg(n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, n))
    spd = a @ a.T + n * np.eye(n)
    rhs = rng.normal(size=n)
    assert np.array_equal(_cholesky(spd), np.linalg.cholesky(spd))
    assert np.array_equal(_solve(spd, rhs), np.linalg.solve(spd, rhs))


def test_singular_and_indefinite_matrices_fall_back_silently():
    singular = np.array([[1.0, 1.0], [1.0, 1.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = _solve(singular, np.array([1.0, 1.0]))        # least squares: the minimum-norm solution
        assert x == pytest.approx([0.5, 0.5])
        with pytest.raises(np.linalg.LinAlgError):
            _cholesky(np.array([[1.0, 2.0], [2.0, 1.0]]))
