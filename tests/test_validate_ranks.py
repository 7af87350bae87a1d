"""The early-warning AUC's average ranks agree with scipy.stats.rankdata (the library they replace on the
export path) and the AUC with scikit-learn's roc_auc_score."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy.stats import rankdata
from sklearn.metrics import roc_auc_score

from engine.stress.validate import average_ranks, roc_auc

values = st.lists(st.sampled_from([0.0, 0.1, 0.25, 0.5, 1.0, -3.0]) | st.floats(-1e6, 1e6), min_size=1,
                  max_size=60)


@settings(max_examples=100, deadline=None)
@given(values)
def test_average_ranks_equal_scipy_rankdata(xs):
    assert np.array_equal(average_ranks(np.array(xs)), rankdata(xs))


def test_average_ranks_hand_case_and_nan():
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]
    assert np.isnan(average_ranks(np.array([1.0, np.nan]))).all()


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.sampled_from([0.1, 0.2, 0.3]) | st.floats(0, 1)), min_size=2,
                max_size=50))
def test_roc_auc_equals_sklearn(rows):
    y = np.array([r[0] for r in rows], float)
    p = np.array([r[1] for r in rows])
    if 0 < y.sum() < len(y):
        assert roc_auc(y, p) == pytest.approx(roc_auc_score(y, p), abs=1e-12)
    else:
        assert roc_auc(y, p) is None
