"""A normal solve does not import cvxpy (≈1.4 s): the use case and the decision run on the hand-built cone
program; cvxpy is imported only to diagnose infeasible limits (and for the cvxpy reference in tests)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = """
import sys
from usecases.context import open_market
from usecases.optimize import optimize_as_of
res = optimize_as_of(open_market(demo=True))
assert abs(sum(res["weights"].values()) + res.get("cash", 0.0) - 1) < 1e-8, res
print("cvxpy" in sys.modules)
"""


def test_optimize_use_case_does_not_import_cvxpy():
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, cwd=ROOT,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_infeasible_limits_are_still_diagnosed():
    """The diagnosis (cvxpy, imported on demand) still names the conflicting limits."""
    import numpy as np
    import pandas as pd
    import pytest

    from engine.errors import InfeasibleError
    from engine.optimize.limits import Limits
    from engine.optimize.problem import AllocationInputs, allocate
    from engine.universe import SECTORS

    tk = list(SECTORS)
    s = lambda x: pd.Series(x, index=tk)  # noqa: E731
    inp = AllocationInputs(mu=s(np.full(11, 0.02)), cov=pd.DataFrame(np.eye(11) * 0.04, index=tk, columns=tk),
                           current=s(np.full(11, 1 / 11)), benchmark=s(np.full(11, 1 / 11)), regime="stress")
    with pytest.raises(InfeasibleError) as e:      # three defensive sectors at most 10% cannot make a 40% floor
        allocate(inp, Limits(sector_max=0.1, defensive_floor=0.4))
    assert "defensive floor" in str(e.value)
