"""Execution schedules: the participation cap holds every session, holidays are skipped, early closes are
shorter, child orders add up to the parent; the NYSE calendar is exchange-calendars'."""
from __future__ import annotations

import exchange_calendars as xc
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.trades.profile import DEFAULT_U, bucket_weights, read_profile
from engine.trades.schedule import ScheduleOptions, schedule_orders, split_integer
from engine.errors import DataError

XNYS = xc.get_calendar("XNYS")


@settings(max_examples=40, deadline=None)
@given(st.floats(0.001, 2.0), st.floats(1e5, 5e7), st.sampled_from(["twap", "vwap"]),
       st.floats(0.01, 0.25), st.integers(1, 8), st.sampled_from(["2008-11-20", "2008-12-19", "2019-06-28"]))
def test_cap_holds_every_session_and_shares_add_up(fill, adv, strategy, cap, days, start):
    q = max(1, int(fill * cap * adv * days))                          # up to twice what the window holds
    parents = pd.DataFrame([{"parent_id": "P1", "ticker": "XLK", "side": "sell", "shares": q}])
    ch, needed = schedule_orders(parents, start, days, pd.Series({"XLK": adv}),
                                 ScheduleOptions(strategy=strategy, participation=cap))
    assert ch["shares"].sum() == q and (ch["shares"] > 0).all()
    per_day = ch.groupby("date")["shares"].sum()
    assert (per_day <= cap * adv + 1e-6).all()                       # never above the cap of ADV
    assert all(XNYS.is_session(pd.Timestamp(d)) for d in per_day.index)
    assert needed["P1"] >= days or per_day.size <= days
    if q <= 0.5 * cap * adv:                                         # fits easily: stays inside the window
        assert per_day.size <= days


def test_thanksgiving_week_skips_the_holiday_and_closes_early():
    parents = pd.DataFrame([{"parent_id": "P", "ticker": "XLU", "side": "buy", "shares": 100_000}])
    ch, _ = schedule_orders(parents, "2008-11-24", 4, pd.Series({"XLU": 10_000_000}))
    days = sorted(ch["date"].unique())
    assert [str(d) for d in days] == ["2008-11-25", "2008-11-26", "2008-11-28", "2008-12-01"]   # 27th: holiday
    half = ch[ch["date"].astype(str) == "2008-11-28"]
    assert half["end"].max() == "13:00" and len(half) == 7                  # early close at 13:00
    full = ch[ch["date"].astype(str) == "2008-11-25"]
    assert len(full) == 13 and full["start"].min() == "09:30" and full["end"].max() == "16:00"
    # VWAP: a half day gets its share of expected volume (first 7 slots plus the closing auction)
    share = bucket_weights(DEFAULT_U, 210).sum()
    assert half["shares"].sum() / full["shares"].sum() == pytest.approx(share, rel=1e-3)


def test_over_the_cap_extends_the_schedule_at_the_cap():
    parents = pd.DataFrame([{"parent_id": "P", "ticker": "XLK", "side": "sell", "shares": 5_500_000}])
    ch, needed = schedule_orders(parents, "2019-03-01", 5, pd.Series({"XLK": 10_000_000}))
    per_day = ch.groupby("date")["shares"].sum()
    assert needed["P"] == 6 and len(per_day) == 6
    assert (per_day.iloc[:5] == 1_000_000).all() and per_day.iloc[5] == 500_000


def test_twap_is_flat_vwap_follows_the_profile():
    parents = pd.DataFrame([{"parent_id": "P", "ticker": "XLK", "side": "buy", "shares": 13_000}])
    tw, _ = schedule_orders(parents, "2019-03-01", 1, pd.Series({"XLK": 1e7}), ScheduleOptions("twap"))
    assert (tw["shares"] == 1000).all()
    vw, _ = schedule_orders(parents, "2019-03-01", 1, pd.Series({"XLK": 1e7}), ScheduleOptions("vwap"))
    assert vw["shares"].iloc[-1] == round(13_000 * DEFAULT_U[-1]) and vw["shares"].iloc[0] > vw["shares"].iloc[5]


def test_split_integer_caps_and_total():
    out = split_integer(10, np.array([1.0, 1.0, 1.0]), np.array([2.0, 10.0, 10.0]))
    assert out.sum() == 10 and out[0] == 2 and abs(out[1] - out[2]) <= 1


def test_profile_file(tmp_path):
    p = tmp_path / "prof.csv"
    p.write_text("start,weight\n09:30,2\n10:00,1\n10:30,1\n")
    assert read_profile(p).tolist() == [0.5, 0.25, 0.25]
    p.write_text("start,weight\n09:30,2\n10:30,1\n")
    with pytest.raises(DataError, match="line 3: slot starts at 10:30; expected 10:00"):
        read_profile(p)
