"""Importers on the real vendor files in ../shared/data."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine.data.formats import detect_format, parse_csv
from engine.errors import DataError
from engine.universe import SECTORS


def test_every_real_series_is_imported_with_its_range(real_market):
    m = real_market
    expected = {  # name: (first, last, rows)
        "SPY": ("1993-01-29", "2019-12-31", 6780), "XLK": ("1998-12-22", "2019-12-31", 5290),
        "XLRE": ("2015-10-08", "2019-12-31", 1065), "XLC": ("2018-06-19", "2019-12-31", 387),
        "HYG": ("2007-04-11", "2019-12-31", 3205), "TLT": ("2002-07-30", "2019-12-31", 4387),
        "hy_oas": ("1996-12-31", "2019-12-31", None), "move": ("2002-11-13", "2019-12-31", 4231),
        "vix_cboe": ("1990-01-02", "2019-12-31", 7556), "stlfsi4": ("1993-12-31", "2019-12-27", 1357),
    }
    for name, (first, last, rows) in expected.items():
        meta = m.meta[name]
        assert (meta.first, meta.last) == (first, last), name
        if rows is not None:
            assert meta.rows == rows, name
    assert set(SECTORS) | {"SPY", "TLT", "IEF", "SHY", "LQD", "HYG"} <= set(m.prices.columns)
    # sessions are SPY's trading days; no duplicates
    assert m.sessions.is_monotonic_increasing and m.sessions.is_unique
    assert len(m.sessions) == 6780


def test_known_values(real_market):
    m = real_market
    # ICE's HY OAS dated 2008-12-15 (21.82) is published the next morning: it sits on 2008-12-16's row
    assert m.stress.loc["2008-12-16", "hy_oas"] == pytest.approx(21.82)
    assert m.lags["hy_oas"] == 1 and m.lags["vix"] == 0
    assert m.prices.loc["2019-12-31", "XLK"] > m.prices.loc["2019-12-30", "XLK"]
    assert m.prices.loc["2019-12-31", "XLK"] == pytest.approx(87.196991)
    assert m.volume.loc["2019-12-31", "XLK"] == 5800900
    assert m.stress.loc["2008-11-20", "vix"] == pytest.approx(80.86)   # VIX record close
    # Cboe VIX and FRED VIXCLS agree (one known vendor discrepancy: 1999-12-31, 24.64 vs 24.76)
    both = m.stress[["vix", "vix_cboe"]].dropna()
    differ = (both["vix"] - both["vix_cboe"]).abs() > 0.011
    assert len(both) > 6000 and differ.sum() == 1 and differ.idxmax() == pd.Timestamp("1999-12-31")


def test_fred_holiday_rows_are_missing_not_errors(shared_data):
    s = parse_csv((shared_data / "fred" / "BAMLH0A0HYM2.csv").read_bytes(), "hy.csv")[0]
    assert s.format == "fred" and s.name == "hy_oas"
    jan1 = s.dates.get_loc(pd.Timestamp("1997-01-01"))
    assert np.isnan(s.fields["value"][jan1])


def test_bounded_fill_is_reported(real_market):
    # Treasury series have no value on bond-market holidays when stocks trade (e.g. Columbus Day)
    assert real_market.fills["dgs10"] > 0
    assert real_market.fills["dgs10"] < 100
    assert not real_market.stress["hy_oas"].loc["1997-01-03":].isna().any()


@pytest.mark.parametrize("header,fmt", [
    ("Date,Open,High,Low,Close,Adj Close,Volume", "yahoo_ohlcv"),
    ("Date,Close", "yahoo_close"),
    ("observation_date,DGS10", "fred"),
    ("DATE,DGS10", "fred"),
    ("DATE,OPEN,HIGH,LOW,CLOSE", "cboe"),
    ("Date,Value", "date_value"),
])
def test_detect_format(header, fmt):
    assert detect_format(header.split(",")) == fmt


def test_legacy_fred_header_and_dot_missing():
    data = b"DATE,BAMLH0A0HYM2\n2020-01-02,3.5\n2020-01-03,.\n2020-01-06,3.6\n"
    s = parse_csv(data, "legacy.csv")[0]
    assert s.name == "hy_oas"
    assert np.isnan(s.fields["value"][1]) and s.fields["value"][2] == 3.6


def test_mapping_names_a_bloomberg_column():
    data = b"Date,LF98OAS Index\n2020-01-02,3.5\n2020-01-03,3.7\n"
    with pytest.raises(DataError, match="unknown format"):
        parse_csv(data, "bbg.csv")
    s = parse_csv(data, "bbg.csv", {"LF98OAS Index": "hy_oas"})[0]
    assert s.name == "hy_oas" and s.format == "mapped"
    assert list(s.fields["value"]) == [3.5, 3.7]


def test_unknown_format_lists_understood_formats():
    with pytest.raises(DataError) as e:
        parse_csv(b"when,what,why\n1,2,3\n", "x.csv")
    msg = str(e.value)
    assert "x.csv, line 1" in msg and "unknown format" in msg
    for fmt in ("yahoo_ohlcv", "yahoo_close", "fred", "cboe", "date_value", "mapped"):
        assert fmt in msg
