"""The decision workbook's Alerts sheet: the alerts that preceded the decision, covered by the content digest."""
from __future__ import annotations

import io

import pandas as pd

from usecases.alerts import compute_alerts, preceding_alerts
from usecases.export import build_report
from workbooks.digest import content_digest
from workbooks.writer import render


def _saved_digest(wb) -> str:
    """The content digest of the workbook as it would be saved (the digest reads the saved package)."""
    buf = io.BytesIO()
    wb.save(buf)
    return content_digest(buf.getvalue())


def test_alerts_sheet_lists_the_alerts_before_the_decision_and_is_sealed(demo):
    t = pd.Timestamp("2012-06-29")
    report = build_report(demo, t)
    expected = [a for a in compute_alerts(demo) if t - pd.Timedelta(days=92) <= a.date <= t]
    assert report.alerts["date"].tolist() == [f"{a.date:%Y-%m-%d}" for a in expected] and len(expected) > 0
    wb = render(report)
    names = wb.sheetnames
    assert names.index("Alerts") == names.index("Audit") - 1
    ws = wb["Alerts"]
    assert [c.value for c in ws[4]][:5] == ["date", "kind", "message", "recommendation", "values"]
    assert ws.cell(row=5, column=3).value == expected[0].message
    assert ws.max_row == 4 + len(expected)
    before = _saved_digest(wb)
    ws.cell(row=5, column=3).value = "edited"
    assert _saved_digest(wb) != before                    # the Alerts sheet is part of the sealed content


def test_preceding_alerts_uses_data_up_to_the_decision_only(demo):
    t = pd.Timestamp("2012-06-29")
    assert preceding_alerts(demo, t).equals(preceding_alerts(demo.asof(t), t))
    assert (pd.to_datetime(preceding_alerts(demo, t)["date"]) <= t).all()
