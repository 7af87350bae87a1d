"""Readings and validation use the frozen procedure of the nested selection ([warning] procedure): the
same walk-forward predictions as `rotation signals research`, point in time, clear error for a bad name."""
from dataclasses import replace

import numpy as np
import pytest

from engine.errors import ArgumentError
from engine.stress.config import StressConfig
from engine.stress.pipeline import compute

CFG = StressConfig.default()
PROC = replace(CFG, warning=replace(CFG.warning, procedure="rule:hy_chg20_z", selected_on="2019-06-28",
                                    evidence="crafted for the test"))


def test_reading_uses_the_research_candidate_predictions(demo):
    from engine.signals_research.models import Candidate
    from engine.signals_research.walkforward import candidate_predictions
    from usecases.signals import reading, stress_result
    from usecases.signals_research import research_inputs

    res = stress_result(demo, PROC)
    x, y, hor, _ = research_inputs(demo, PROC)
    rc = PROC.research
    pred, _, _ = candidate_predictions(x, y["event"], hor["event"], True, [Candidate("c", "rule", ("hy_chg20_z",))],
                                       step=rc.step, min_train=rc.min_train, min_positive=rc.min_positive, ridge=rc.ridge)
    p = res.daily["warning_probability"]
    assert p.notna().sum() > 100
    np.testing.assert_allclose(p.to_numpy(float), pred["c"].to_numpy(float), rtol=0, atol=0, equal_nan=True)
    t = p.dropna().index[-5]
    r = reading(demo, t, PROC)
    assert r["warning_probability"] == pytest.approx(p.loc[t], abs=0)
    assert r["warning"] == bool(p.loc[t] > PROC.warning.threshold)
    assert r["warning_procedure"]["procedure"] == "rule:hy_chg20_z"
    assert "2019-06-28" in r["warning_procedure"]["verdict"] and "crafted" in r["warning_procedure"]["verdict"]


def test_procedure_probability_is_point_in_time(demo):
    full = compute(demo, PROC).daily["warning_probability"]
    t = full.dropna().index[len(full.dropna()) // 2]
    cut = compute(demo.asof(t), PROC).daily["warning_probability"]
    np.testing.assert_array_equal(cut.to_numpy(float), full.loc[:t].to_numpy(float))


def test_unknown_procedure_is_a_clear_error(demo):
    bad = replace(CFG, warning=replace(CFG.warning, procedure="rule:nope"))
    with pytest.raises(ArgumentError, match="warning.procedure"):
        compute(demo, bad)
