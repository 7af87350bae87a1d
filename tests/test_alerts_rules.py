"""Alert rules on crafted series: once per crossing, hysteresis, re-entry only after N sessions, point in time."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.alerts.config import AlertConfig
from engine.alerts.book_rules import drift_alerts, tech_alerts
from engine.alerts.rules import evaluate, in_window
from engine.alerts.signal_rules import reentry_alerts, regime_alerts, strength_alerts, warning_alerts
from engine.alerts.stale import stale_alerts, staleness
from engine.errors import ArgumentError

CFG = AlertConfig.default()


def frame(regime=None, index=None, change=None, strength=None, prob=None, n=None):
    n = n or len(next(x for x in (regime, index, change, strength, prob) if x is not None))
    dates = pd.bdate_range("2020-01-01", periods=n, name="date")
    fill = lambda x, v: list(x) if x is not None else [v] * n  # noqa: E731
    return pd.DataFrame({"index": fill(index, 1.0), "percentile": 50.0, "change_20d": fill(change, -0.1),
                         "regime": fill(regime, "calm"), "strength": fill(strength, 50.0),
                         "warning_probability": fill(prob, 0.05)}, index=dates)


def positions(daily, alerts):
    return [daily.index.get_loc(a.date) for a in alerts]


def test_regime_changes_fire_once_each_and_the_first_reading_is_not_a_change():
    d = frame(["calm", "calm", "elevated", None, "elevated", "stress", "stress", "elevated", "calm"])
    al = regime_alerts(d, CFG)
    assert positions(d, al) == [2, 5, 7, 8]
    assert [a.kind for a in al] == ["regime_entered", "regime_entered", "regime_left", "regime_left"]
    assert al[1].values["from"] == "elevated" and al[1].values["to"] == "stress"
    assert "STRESS" in al[1].message and "XLK" in al[1].recommendation and "25%" in al[1].recommendation
    assert "re-entry is signalled after 10 sessions" in al[2].recommendation


def test_strength_moves_are_measured_from_the_last_alert():
    d = frame(strength=[50, 60, 69, 71, 75, 52, 51, np.nan, 30])
    al = strength_alerts(d, CFG)
    assert positions(d, al) == [3, 6, 8]       # 50->71 (+21); 71->52 (-19) is not a move, 71->51 is; 51->30
    assert [round(a.values["move"]) for a in al] == [21, -20, -21]


def test_warning_fires_once_per_crossing_with_hysteresis():
    p = [0.10, 0.16, 0.12, 0.20, 0.149, 0.151, 0.09, 0.16, np.nan, 0.05]
    d = frame(prob=p)
    al = warning_alerts(d, CFG, threshold=0.15)
    assert positions(d, al) == [1, 6, 7, 9]
    assert [a.kind for a in al] == ["warning_on", "warning_off", "warning_on", "warning_off"]
    wobble = frame(prob=[0.149, 0.151] * 20)
    assert len(warning_alerts(wobble, CFG, threshold=0.15)) == 1


def test_reentry_only_after_n_sessions_with_the_index_falling():
    n = CFG.reentry_sessions
    short = frame(["stress"] * 3 + ["elevated"] * (n - 1) + ["stress"] * 2 + ["elevated"] * (n - 1))
    assert reentry_alerts(short, CFG) == []                       # never held N sessions
    held = frame(["crisis"] * 3 + ["elevated"] * n + ["calm"] * 5)
    al = reentry_alerts(held, CFG)
    assert positions(held, al) == [3 + n - 1]                     # the exit session counts as the first
    assert al[0].values["from"] == "crisis" and al[0].values["sessions"] == n
    assert "XLK toward its benchmark weight over 4 steps" in al[0].recommendation
    rising = [0.2] * (3 + n + 2) + [-0.1] * 4                     # index not falling until later
    late = frame(["stress"] * 3 + ["elevated"] * (n + 6), change=rising)
    assert positions(late, reentry_alerts(late, CFG)) == [3 + n + 2]
    again = frame(["stress"] * 2 + ["calm"] * (n + 3) + ["stress"] * 2 + ["elevated"] * n)
    assert positions(again, reentry_alerts(again, CFG)) == [2 + n - 1, 2 + n + 3 + 2 + n - 1]


def test_reentry_recommendation_carries_the_book_numbers():
    n = CFG.reentry_sessions
    d = frame(["stress"] * 2 + ["calm"] * n)
    tech = pd.DataFrame({"book": 0.12, "benchmark": 0.231}, index=d.index[:3])
    al = reentry_alerts(d, CFG, tech)
    assert "(book 12.0%, benchmark 23.1%)" in al[0].recommendation


def _weights(xlk, rest="XLU"):
    idx = pd.bdate_range("2020-01-01", periods=len(xlk), name="date")
    return pd.DataFrame({"XLK": xlk, rest: 1 - np.asarray(xlk)}, index=idx)


def test_tech_band_fires_outside_the_band_and_rearms_inside_the_clear_level():
    book = _weights([0.27, 0.31, 0.35, 0.29, 0.31, 0.27, 0.35])
    target = _weights([0.25] * 7)
    al = tech_alerts(book, target, CFG, tech_cap=0.25)
    assert positions(book, al) == [1, 6]        # 0.29 is not within +/-3%: no re-arm until 0.27
    assert al[0].values["over_cap"] and al[0].values["deviation"] == pytest.approx(0.06)
    assert "above its 25% cap" in al[0].message


def test_drift_is_one_way_and_has_hysteresis():
    book = _weights([0.25, 0.31, 0.32, 0.27, 0.31])
    target = _weights([0.25] * 5)
    al = drift_alerts(book, target, CFG)
    assert positions(book, al) == [1, 4]
    assert al[0].values["drift"] == pytest.approx(0.06)     # 0.5 * (|+6%| + |-6%|)


def test_stale_input_fires_once_and_says_when_it_resumes():
    x = [1.0] * 5 + [np.nan] * 7 + [2.0, 2.0]
    f = pd.DataFrame({"hy_oas": x, "vix": 1.0}, index=pd.bdate_range("2020-01-01", periods=len(x)))
    assert staleness(f)["hy_oas"].tolist()[4:13] == [0, 1, 2, 3, 4, 5, 6, 7, 0]
    al = stale_alerts(f, CFG)
    assert [(a.kind, f.index.get_loc(a.date)) for a in al] == [("stale_data", 10), ("data_resumed", 12)]
    assert al[0].values == {"series": "hy_oas", "sessions": 6, "last_value_date": f"{f.index[4]:%Y-%m-%d}",
                            "max_sessions": 5}
    assert al[0].id.endswith(":stale_data:hy_oas")


REG = st.sampled_from(["calm", "elevated", "stress", "crisis", None])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(REG, st.floats(0, 100), st.floats(0, 1), st.floats(-1, 1)), min_size=5, max_size=80),
       st.integers(1, 79))
def test_alerts_up_to_t_do_not_depend_on_rows_after_t(rows, cut):
    d = frame([r[0] for r in rows], strength=[r[1] for r in rows], prob=[r[2] for r in rows],
              change=[r[3] for r in rows])
    cut = min(cut, len(d) - 1)
    t = d.index[cut]
    book = pd.DataFrame({"XLK": d["strength"] / 200, "XLU": d["warning_probability"] / 2}, index=d.index)
    target = pd.DataFrame({"XLK": 0.25, "XLU": 0.25}, index=d.index)
    kw = dict(book=book, target=target, benchmark=target)
    cutkw = {k: v.loc[:t] for k, v in kw.items()}
    assert [a.as_dict() for a in evaluate(d.loc[:t], **cutkw)] == [a.as_dict() for a in in_window(evaluate(d, **kw), end=t)]
    full = in_window(evaluate(d, inputs=d[["strength"]]), end=t)
    altered = d.copy()
    altered.iloc[cut + 1:] = altered.iloc[cut + 1:].assign(regime="crisis", strength=0.0, warning_probability=0.99)
    assert [a.as_dict() for a in evaluate(d.loc[:t], inputs=d.loc[:t, ["strength"]])] == [a.as_dict() for a in full]
    assert [a.as_dict() for a in in_window(evaluate(altered), end=t)] == \
           [a.as_dict() for a in in_window(evaluate(d), end=t)]


def test_config_overrides_and_errors(tmp_path):
    p = tmp_path / "alerts.toml"
    p.write_text("[reentry]\nsessions = 3\n[warning]\nthreshold = 0.3\nclear = 0.2\n")
    cfg = AlertConfig.from_toml(p)
    assert cfg.reentry_sessions == 3 and cfg.warning_threshold == 0.3 and cfg.drift_band == 0.05
    p.write_text("[tech]\nband = 0.02\n")
    with pytest.raises(ArgumentError, match="tech.clear"):
        AlertConfig.from_toml(p)
    p.write_text("[reentry]\nsesions = 3\n")
    with pytest.raises(ArgumentError, match="sesions"):
        AlertConfig.from_toml(p)
