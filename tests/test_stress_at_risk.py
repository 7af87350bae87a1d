"""At-risk sessions: the early-warning label is defined only where a new event can start."""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.stress.events import in_event_mask, start_label


def test_in_event_mask_marks_start_to_end_inclusive():
    s = pd.bdate_range("2020-01-01", periods=30)
    ev = pd.DataFrame({"start": [s[3], s[20]], "end": [s[6], s[20]]})
    m = in_event_mask(s, ev, 60)
    assert list(np.flatnonzero(m.to_numpy())) == [3, 4, 5, 6, 20]
    assert not in_event_mask(s, ev.iloc[:0], 60).any()


def test_pipeline_label_is_missing_inside_events(demo):
    from usecases.signals import stress_result

    res = stress_result(demo)
    inside = in_event_mask(res.daily.index, res.events, res.config.warning.horizon_max)
    assert inside.any()
    assert res.label[inside].isna().all()
    raw = start_label(res.daily.index, res.events["start"], res.config.warning.horizon_min,
                      res.config.warning.horizon_max)
    outside = ~inside & raw.notna()
    pd.testing.assert_series_equal(res.label[outside], raw[outside])


def test_selloff_in_progress_is_known_from_the_past_only(real_market):
    from engine.stress.config import StressConfig
    from engine.stress.events import selloff_status

    cfg = StressConfig.default().events
    crisis = selloff_status(real_market.prices, cfg, "2008-10-10")
    assert crisis["in_progress"] and crisis["since"] <= pd.Timestamp("2008-10-10")
    assert crisis["drawdown"] <= -0.15
    assert selloff_status(real_market.asof("2008-10-10").prices, cfg, "2008-10-10") == crisis
    assert not selloff_status(real_market.prices, cfg, "2019-12-31")["in_progress"]


def test_reading_reports_the_running_selloff(real_market):
    from usecases.signals import reading

    r = reading(real_market, "2008-10-10", with_defensive=False)
    assert r["tech_selloff"]["in_progress"] and r["tech_selloff"]["since"] <= "2008-10-10"
