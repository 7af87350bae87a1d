"""Issue 11 item 8: the export's fast paths change no number and no byte of the decision workbook.

Each test builds the same decision twice, once as the export runs and once through the slow reference
implementations (tests/speed_references.py: the bootstrap one draw at a time, table cells through openpyxl's
constructor and value setter), and compares the packages part by part (docProps, which hold the save time,
aside). The reference is computed here, in the test, not stored."""
from __future__ import annotations

import dataclasses
import io
import zipfile

import pandas as pd
import pytest

import engine.stats.bootstrap as bootstrap
import usecases.signals as signals
import workbooks.writer as writer
from speed_references import reference_draws, reference_fill_column
from usecases.export import build_report


def _parts(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {n: z.read(n) for n in z.namelist() if not n.startswith("docProps/")}


def _fresh(market):
    """The same market as a fresh export process sees it: the use-case memos (stress stage, ranking)
    forgotten (the allocator starts from a fresh solver at every call already)."""
    signals._results.pop(market, None)
    signals._rankings.pop(market, None)
    return market


def _both(market, as_of, monkeypatch):
    fast = build_report(_fresh(market), as_of)
    with monkeypatch.context() as m:
        m.setattr(bootstrap, "_draws", reference_draws)
        m.setattr(writer, "_fill_column", reference_fill_column)
        slow = build_report(_fresh(market), as_of)
        slow = dataclasses.replace(slow, run_id=fast.run_id, created_utc=fast.created_utc)
        slow_parts = _parts(writer.render_bytes(slow))
    return fast, slow, _parts(writer.render_bytes(fast)), slow_parts


@pytest.mark.parametrize("as_of", ["2012-06-29", None])
def test_demo_export_is_identical_to_the_reference_computation(as_of, monkeypatch):
    from usecases.context import open_market

    fast, slow, a, b = _both(open_market(demo=True), as_of, monkeypatch)
    assert fast.reading["defensive"], "the demo must exercise the defensive evidence (bootstrap intervals)"
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name
    pd.testing.assert_frame_equal(fast.sectors, slow.sectors)


def test_real_data_export_is_identical_to_the_reference_computation(real_market, monkeypatch):
    fast, _, a, b = _both(real_market, "2008-10-10", monkeypatch)
    assert fast.reading["defensive"] and fast.reading["defensive_tilt"]["evidence"]["ci_low"] is not None
    assert a.keys() == b.keys()
    for name in a:
        assert a[name] == b[name], name


def test_the_sector_sheet_is_the_regression_table_of_the_sectors_report(real_market):
    """build_report takes only the regressions of signals.sectors_report (the use case of `rotation
    signals sectors`); the frame must be the one built from that report."""
    t = pd.Timestamp("2008-10-10")
    report = build_report(real_market, t)
    pit = real_market.asof(real_market.session_on_or_before(t))
    expected = pd.DataFrame(signals.sectors_report(pit)["regressions"])
    pd.testing.assert_frame_equal(report.sectors, expected)


def test_the_collector_is_paused_during_an_export_and_restored_after(tmp_path, monkeypatch):
    import gc

    from usecases.context import open_market
    from usecases.export import export_decision
    from usecases.gcpause import paused_gc

    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "test-passphrase")
    seen = []
    real = build_report

    def spy(*a, **k):
        seen.append(gc.isenabled())
        return real(*a, **k)

    monkeypatch.setattr("usecases.export.build_report", spy)
    assert gc.isenabled()
    export_decision(open_market(demo=True), out=tmp_path / "d.xlsx", keys_dir=tmp_path / "keys",
                    ledger=tmp_path / "ledger.sqlite", allow_ephemeral_key=True)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()          # a caller that had it off keeps it off
    finally:
        gc.enable()
    with pytest.raises(ZeroDivisionError):
        with paused_gc():
            1 / 0
    assert gc.isenabled()                  # restored when the block fails


@pytest.mark.parametrize("last", [None, 3000, 130])
def test_sector_regressions_equal_the_pandas_join(real_market, last):
    """The regressions' rows chosen with numpy masks equal the old inner join + dropna, bit for bit, on the
    whole sample, a head of it, and a head too short for any sector."""
    import engine.stress.sectors as sectors
    from speed_references import reference_regress

    res = signals.stress_result(real_market)
    for h in (20, 60):
        got = sectors._regress(real_market, res, h, "SPY", last)
        want = reference_regress(real_market, res, h, "SPY", last)
        assert got == want if want else got == []
        assert all(type(a["n"]) is int for a in got)


def test_an_export_validates_the_warning_once(monkeypatch):
    """The reading's verdict (no selection record: the logistic model's own validation) and the Early
    Warning sheet rest on one walk-forward validation, not two (0.35 s of CPU each on real data)."""
    from usecases.context import open_market

    calls = []
    real = signals.validate
    monkeypatch.setattr(signals, "validate", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setenv("ROTATION_SERIAL", "1")     # in this process (tests/test_parallel.py: in the child)
    report = build_report(_fresh(open_market(demo=True)), "2012-06-29")
    assert "original stress-index logistic model" in report.early_warning["verdict"]   # no record: that model
    assert len(calls) == 1
