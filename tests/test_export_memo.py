"""The export computes each stage once on the point-in-time view, without weakening point in time."""
from __future__ import annotations

import pandas as pd
import pytest

import usecases.signals as signals
from usecases.export import build_report

FRAMES = ("prices", "close", "volume", "stress", "reference", "returns")


def test_asof_of_its_own_date_is_the_same_view_and_other_dates_still_cut(real_market):
    t = real_market.session_on_or_before(pd.Timestamp("2008-10-10"))
    pit = real_market.asof(t)
    assert pit.asof(t) is pit                      # idempotent: the memos on the view are reused
    fresh = real_market.asof(t)
    assert fresh is not pit                        # the full market is always cut, never returned as is
    for name in FRAMES:
        pd.testing.assert_frame_equal(getattr(pit, name), getattr(fresh, name))
    earlier = pit.asof(t - pd.Timedelta(days=30))
    assert earlier is not pit and earlier.last < t
    pd.testing.assert_frame_equal(earlier.reference, real_market.asof(t - pd.Timedelta(days=30)).reference)


def test_last_session_of_the_full_market_still_applies_publication_lags(real_market):
    cut = real_market.asof(real_market.last)
    assert cut is not real_market
    lagged = [c for c, lag in real_market.lags.items() if lag and c in real_market.reference.columns]
    if lagged:          # a series published the next morning has no value yet on the last session
        assert cut.reference[lagged].notna().sum().sum() < real_market.reference[lagged].notna().sum().sum()


def test_build_report_runs_the_stress_stage_and_the_ranking_once(real_market, monkeypatch):
    calls = {"compute": 0, "ranking": 0}
    compute, ranking = signals.compute, signals.defensive_ranking

    def counted_compute(*a, **k):
        calls["compute"] += 1
        return compute(*a, **k)

    def counted_ranking(*a, **k):
        calls["ranking"] += 1
        return ranking(*a, **k)

    monkeypatch.setattr(signals, "compute", counted_compute)
    monkeypatch.setattr(signals, "defensive_ranking", counted_ranking)
    report = build_report(real_market, "2008-10-10")
    assert calls == {"compute": 1, "ranking": 1}
    assert report.alerts is not None and report.sectors is not None
    assert report.reading["defensive"]             # the memoized ranking still feeds the reading


@pytest.mark.parametrize("with_ic", [True, False])
def test_scores_without_ic_weights_keep_the_equal_composite(real_market, with_ic):
    from usecases.factors import current_scores

    full = current_scores(real_market, asof="2008-10-10")
    got = current_scores(real_market, asof="2008-10-10", with_ic=with_ic)
    cols = [c for c in full.columns if c != "composite_ic"]
    pd.testing.assert_frame_equal(got[cols], full[cols])
    assert got["composite_ic"].isna().all() != with_ic


def test_a_view_can_still_be_rebuilt_field_by_field(real_market):
    from engine.data.model import Market

    pit = real_market.asof("2008-10-10")
    copy = Market(**{**pit.__dict__, "label": "relabelled"})      # the pattern usecases.context uses
    assert copy.label == "relabelled" and copy.asof(pit.last) is not copy
    pd.testing.assert_frame_equal(copy.asof(pit.last).prices, pit.prices)
