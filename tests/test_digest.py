"""content_digest: same digest in memory and after an openpyxl round trip; any edit changes it."""
from __future__ import annotations

import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from openpyxl import Workbook, load_workbook

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import make_sample_workbook  # noqa: E402

from engine.errors import DataError  # noqa: E402
from workbooks.digest import content_digest, iter_canonical, read_audit_digest  # noqa: E402


def _roundtrip(wb: Workbook, tmp_path: Path) -> Workbook:
    p = tmp_path / "rt.xlsx"
    wb.save(p)
    return load_workbook(p)


def test_sample_roundtrip_and_audit_cell(tmp_path):
    p = make_sample_workbook(tmp_path / "s.xlsx")
    wb = load_workbook(p)
    assert read_audit_digest(wb) == content_digest(p) == content_digest(wb)
    assert len(content_digest(p)) == 64


def test_audit_sheet_is_excluded_and_other_sheets_are_not(tmp_path):
    wb = load_workbook(make_sample_workbook(tmp_path / "s.xlsx"))
    d0 = content_digest(wb)
    wb["Audit"]["C9"] = "anything"
    assert content_digest(wb) == d0
    assert content_digest(wb, exclude=()) != d0
    wb["Weights"]["B2"] = 0.1000001
    assert content_digest(wb) != d0


scalars = st.one_of(
    st.integers(min_value=-(2**53), max_value=2**53),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.booleans(),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12)
    .filter(lambda s: not s.startswith("=") and s.strip() == s),
    st.dates(min_value=date(1901, 1, 1), max_value=date(2099, 12, 31)),
    st.datetimes(min_value=datetime(1901, 1, 1), max_value=datetime(2099, 12, 31)),
    st.sampled_from(["=SUM(A1:A3)", "=A1*2", '=IF(A1>0,"up","down")']),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cells=st.dictionaries(st.tuples(st.integers(1, 6), st.integers(1, 4)), scalars, min_size=1, max_size=12),
       fmt=st.sampled_from(["General", "0.00%", "#,##0.00"]))
def test_roundtrip_property(tmp_path, cells, fmt):
    wb = Workbook()
    ws = wb.active
    ws.title = "Data"
    for (r, c), v in cells.items():
        cell = ws.cell(row=r, column=c, value=v)
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            cell.number_format = fmt
    ws.cell(row=8, column=8)  # touched but empty: must not matter
    before = content_digest(wb)
    after = _roundtrip(wb, tmp_path)
    assert list(iter_canonical(after)) == list(iter_canonical(wb))
    assert content_digest(after) == before


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_single_edit_changes_digest(tmp_path, data):
    wb = load_workbook(make_sample_workbook(tmp_path / "s.xlsx"))
    d0 = content_digest(wb)
    sheet = data.draw(st.sampled_from(["Dashboard", "Weights"]))
    ws = wb[sheet]
    coords = sorted(c.coordinate for row in ws.iter_rows() for c in row if c.value is not None)
    coord = data.draw(st.sampled_from(coords))
    old = ws[coord].value
    kind = data.draw(st.sampled_from(["value", "format", "clear"]))
    if kind == "value":
        new = data.draw(scalars.filter(lambda v: type(v) is not type(old) or v != old))
        if isinstance(old, (int, float)) and isinstance(new, (int, float)) and not isinstance(new, bool) \
                and not isinstance(old, bool) and float(new) == float(old):
            new = float(new) + 1.0
        ws[coord] = new
    elif kind == "format":
        ws[coord].number_format = "0.000" if ws[coord].number_format != "0.000" else "0.0"
    else:
        ws[coord] = None
    assert content_digest(wb) != d0


def test_sheet_rename_add_and_order_change_digest(tmp_path):
    p = make_sample_workbook(tmp_path / "s.xlsx")
    d0 = content_digest(p)
    wb = load_workbook(p)
    wb["Weights"].title = "Weights2"
    assert content_digest(wb) != d0
    wb = load_workbook(p)
    wb.create_sheet("Extra")
    assert content_digest(wb) != d0
    wb = load_workbook(p)
    wb.move_sheet("Weights", offset=-1)
    assert content_digest(wb) != d0


def test_times_and_durations_roundtrip(tmp_path):
    wb = Workbook()
    ws = wb.active
    ws["A1"] = time(13, 45, 30)
    ws["A2"] = timedelta(hours=30, minutes=5)
    ws["A3"] = datetime(2020, 2, 29, 23, 59, 59, 999)
    ws["A4"] = 43830.25              # a number shown as a date is read back as a datetime
    ws["A4"].number_format = "yyyy-mm-dd hh:mm"
    ws["A5"] = 0.5
    ws["A5"].number_format = "[h]:mm:ss"
    assert content_digest(_roundtrip(wb, tmp_path)) == content_digest(wb)


def test_missing_name_and_bad_path(tmp_path):
    wb = Workbook()
    assert read_audit_digest(wb) is None
    with pytest.raises(DataError, match="not found"):
        content_digest(tmp_path / "nope.xlsx")
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(DataError, match="bad.xlsx"):
        content_digest(bad)


@pytest.mark.parametrize("value", [datetime(2000, 1, 1, 0, 0, 1, 500), datetime(2019, 12, 31, 23, 59, 59, 999_500),
                                   datetime(1999, 6, 30, 12, 0, 0, 1_500)])
def test_half_millisecond_datetimes_digest_like_their_saved_copy(tmp_path, value):
    """Found by hypothesis: 1.0005 s is written as a 16-digit serial and read back as 1.001 s."""
    wb = Workbook()
    wb.active["A1"] = value
    path = tmp_path / "d.xlsx"
    wb.save(path)
    assert content_digest(wb) == content_digest(load_workbook(path))
