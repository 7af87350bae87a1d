"""The one strict date parser (engine.dates): ISO text, Excel datetimes and serials; everything else refused."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.utils.datetime import from_excel

from engine.dates import MAX_SERIAL, parse_date, parse_range, sessions_after
from engine.errors import ArgumentError


@pytest.mark.parametrize("text", ["10.06.2008", "03/04/2008", "04-03-2008", "3/4/08"])
def test_ambiguous_day_month_text_is_refused_with_both_iso_readings(text):
    with pytest.raises(ArgumentError) as e:
        parse_date(text)
    msg = str(e.value)
    assert "ambiguous" in msg and "YYYY-MM-DD" in msg
    if text == "10.06.2008":
        assert "2008-06-10" in msg and "2008-10-06" in msg
    if text == "03/04/2008":
        assert "2008-04-03" in msg and "2008-03-04" in msg


def test_unambiguous_non_iso_text_is_refused_with_its_iso_form():
    with pytest.raises(ArgumentError, match="2008-04-13"):
        parse_date("13/04/2008")


@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", MAX_SERIAL, datetime(9999, 12, 31), date(1, 1, 1)])
def test_dates_pandas_cannot_represent_are_clean_errors(value):
    with pytest.raises(ArgumentError, match="outside the dates"):
        parse_date(value)


def test_future_dates_are_errors_and_today_is_not():
    with pytest.raises(ArgumentError, match="in the future"):
        parse_date("2030-01-01" if pd.Timestamp.now().year < 2030 else "2260-01-01")
    today = pd.Timestamp.now(tz="UTC").tz_localize(None).normalize()
    assert parse_date(today.date().isoformat()) == today


@pytest.mark.parametrize("serial", [1, 2, 59, 61, 39731, 39731.5, 43830, 100000])
def test_excel_serials_agree_with_openpyxl(serial):
    assert parse_date(serial, allow_future=True) == pd.Timestamp(from_excel(serial))


@pytest.mark.parametrize("bad", [0, -1, 60, MAX_SERIAL + 1, float("nan"), float("inf"), True])
def test_out_of_range_serials_are_refused(bad):
    with pytest.raises(ArgumentError):
        parse_date(bad)


def test_blank_is_latest_and_range_order_is_checked():
    assert parse_date(None) is None and parse_date("  ") is None
    with pytest.raises(ArgumentError, match="--from 2009-12-31 is after --to 2007-01-01"):
        parse_range("2009-12-31", "2007-01-01")


@settings(max_examples=400, deadline=None)
@given(st.dates(min_value=date(1678, 1, 1), max_value=date(2262, 1, 1)))
def test_iso_round_trip(d):
    assert parse_date(d.isoformat(), allow_future=True) == pd.Timestamp(d)
    assert parse_date(datetime(d.year, d.month, d.day), allow_future=True) == pd.Timestamp(d)


@settings(max_examples=800, deadline=None)
@given(st.text(alphabet="0123456789-./ T:", min_size=1, max_size=16))
def test_fuzzed_text_is_its_own_iso_date_or_refused(text):
    """The bug: 590 of 40,000 fuzzed texts returned another date's value. Now a text either names
    exactly the date it is parsed as (ISO) or is refused."""
    try:
        t = parse_date(text, allow_future=True)
    except ArgumentError:
        return
    if t is None:
        assert not text.strip()
        return
    s = text.strip()
    assert s[:10] == t.date().isoformat()


def test_sessions_after_counts_weekdays():
    last = pd.Timestamp("2019-12-31")                  # a Tuesday
    assert sessions_after(last, last) == 0
    assert sessions_after(last, pd.Timestamp("2020-01-03")) == 3
    assert sessions_after(last, pd.Timestamp("2020-01-05")) == 3
    assert sessions_after(last, last + timedelta(days=7)) == 5


@settings(max_examples=500, deadline=None)
@given(st.one_of(st.text(alphabet="0123456789-./ ", min_size=6, max_size=12),
                 st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 3_000_000)))
def test_cell_arguments_are_their_own_date_or_refused(value):
    """The worksheet path (udfs.runtime.as_of_arg): a text names the date it returns, a number is
    Excel's serial for it (openpyxl agrees), anything else is an ArgumentError, never another date."""
    from udfs.runtime import as_of_arg

    try:
        t = as_of_arg(value)
    except ArgumentError:
        return
    if isinstance(value, str):
        assert value.strip()[:10] == t.date().isoformat()
    else:
        assert t == pd.Timestamp(from_excel(value))
