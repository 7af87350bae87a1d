"""The stress stage on the synthetic demo market (no files needed)."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture(scope="module")
def demo():
    from engine.data.demo import demo_market
    from engine.stress.pipeline import compute
    m = demo_market(7)
    return m, compute(m)


def test_demo_reading_has_every_key(demo):
    from engine.stress.pipeline import READING_KEYS
    _, r = demo
    got = r.reading()
    assert tuple(got) == READING_KEYS
    assert got["regime"] in {"calm", "elevated", "stress", "crisis"}
    assert 0 <= got["strength"] <= 100


def test_demo_no_look_ahead_at_a_middle_date(demo):
    from engine.stress.pipeline import compute
    m, r = demo
    t = m.sessions[len(m.sessions) * 2 // 3]
    cut = compute(m.asof(t)).daily.iloc[-1]
    full = r.daily.loc[t]
    for col in ("index", "percentile", "strength", "warning_probability"):
        assert abs(float(full[col]) - float(cut[col])) <= 1e-12 or (np.isnan(full[col]) and np.isnan(cut[col]))
    assert full["regime"] == cut["regime"]


def test_equal_weights_variant_runs(demo):
    from dataclasses import replace
    from engine.stress.config import StressConfig
    from engine.stress.pipeline import compute
    m, r = demo
    cfg = StressConfig.default()
    eq = compute(m, replace(cfg, index=replace(cfg.index, combine="equal")))
    a, b = r.daily["index"], eq.daily["index"]
    ok = a.notna() & b.notna()
    assert np.corrcoef(a[ok], b[ok])[0, 1] > 0.8


def test_missing_required_series_is_a_data_error(demo):
    from dataclasses import replace
    from engine.errors import DataError
    from engine.stress.pipeline import compute
    m, _ = demo
    bad = replace(m, stress=m.stress.drop(columns=["hy_oas"]))
    with pytest.raises(DataError, match="hy_oas"):
        compute(bad)
