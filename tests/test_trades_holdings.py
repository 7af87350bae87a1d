"""Holdings parser: lots, CASH, NAV check, Excel ranges, and an error naming the line for every bad input."""
from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from engine.errors import DataError
from engine.trades.holdings import parse_rows, read_holdings

GOOD = """ticker,shares,acquired,cost_basis
# a comment line
XLK,100,2019-01-02,5000
XLK,50,2020-03-01,4000

XLU,30
CASH,1000
NAV,23000
"""


def test_lots_cash_and_nav(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(GOOD)
    h = read_holdings(p)
    assert h.shares().to_dict() == {"XLK": 150, "XLU": 30}
    assert h.cash == 1000 and h.nav_check == 23000 and h.nav_line == 8
    lots = h.lots_of("XLK")
    assert [lot.line for lot in lots] == [3, 4]
    assert lots[0].acquired == date(2019, 1, 2) and lots[0].cost_per_share == 50.0
    assert h.lots_of("XLU")[0].cost_basis is None
    prices = pd.Series({"XLK": 126.0, "XLU": 100.0})
    assert h.value(prices) == 150 * 126 + 30 * 100 + 1000          # 22900: within 0.5% of the NAV row
    w = h.weights(prices)
    assert w["XLK"] == pytest.approx(18900 / 22900) and w["XLE"] == 0 and w.sum() == pytest.approx(21900 / 22900)

def test_nav_check_names_the_line(tmp_path):
    p = tmp_path / "h.csv"
    p.write_text(GOOD)
    h = read_holdings(p)
    with pytest.raises(DataError, match=r"h.csv, line 8: NAV 23,000.00 disagrees"):
        h.value(pd.Series({"XLK": 120.0, "XLU": 100.0}))
    assert h.value(pd.Series({"XLK": 126.0, "XLU": 100.0})) == pytest.approx(22900)   # within 0.5%


def test_excel_range_with_dates_and_numbers():
    rows = [["Ticker", "Shares", "Acquired", "Cost Per Share"], ["XLK", 10.0, datetime(2018, 5, 1), 60.0],
            ["XLP", 5, 43101, 50], [None, None, None, None], ["CASH", 250.5, None, None]]
    h = parse_rows(rows, "Sheet1!A1:D5")
    assert h.lots[0].cost_basis == 600.0 and h.lots[1].acquired == date(2018, 1, 1)   # Excel serial 43101
    assert h.cash == 250.5


@pytest.mark.parametrize("body, line, msg", [
    ("XLK,abc\n", 2, "shares 'abc' is not a number"),
    ("XLK,-5\n", 2, "negative"),
    ("XLK,1.5\n", 2, "not a whole number"),
    ("QQQ,5\n", 2, "unknown ticker 'QQQ'"),
    ("XLK,5,2019-01-02,\n", 2, "needs both acquired and its cost basis"),
    ("XLK,5,notadate,100\n", 2, "acquired: expected a date like 2008-10-10"),
    ("XLK,5,03/04/2008,100\n", 2, "acquired: .03/04/2008. is ambiguous"),    # never read as March 4 or April 3
    ("CASH,5\nCASH,6\n", 3, "a second CASH row"),
    ("CASH,-5\n", 2, "negative"),
    ("XLK,5,2019-01-02,100\nXLK,5\n", 3, "lot rows with dates and one without"),
])
def test_errors_name_the_line(tmp_path, body, line, msg):
    p = tmp_path / "bad.csv"
    p.write_text("ticker,shares,acquired,cost_basis\n" + body)
    with pytest.raises(DataError, match=rf"bad.csv, line {line}: .*{msg}"):
        read_holdings(p)


def test_header_errors(tmp_path):
    p = tmp_path / "w.csv"
    p.write_text("ticker,weight\nXLK,0.5\n")
    with pytest.raises(DataError, match="line 1: unknown column 'weight'"):
        read_holdings(p)
    with pytest.raises(DataError, match="does not exist|cannot read"):
        read_holdings(tmp_path / "missing.csv")
