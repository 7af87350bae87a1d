"""Implementation shortfall of a crafted fills file against the hand computation (Perold's parts)."""
from __future__ import annotations

import pytest

from engine.errors import DataError
from engine.trades.orders import ORDER_COLUMNS, read_orders_csv
from engine.trades.shortfall import implementation_shortfall, read_fills

ORDERS = [
    ["P1", "P1-a", "2019-03-04", "09:30", "10:00", "XLK", "buy", "500", "none", "vwap", "0.01", "100.0"],
    ["P1", "P1-b", "2019-03-04", "10:00", "10:30", "XLK", "buy", "500", "none", "vwap", "0.01", "100.0"],
    ["P2", "P2-a", "2019-03-04", "09:30", "10:00", "XLU", "sell", "500", "none", "vwap", "0.01", "50.0"],
]
FILLS = """child_id,ticker,time,shares,price,fees,arrival_price,interval_vwap,end_price
P1-a,,2019-03-04 09:40,300,101,3,100.5,100.8,
P1-a,,2019-03-04 09:55,200,101.5,2,,,
P1-b,,2019-03-04 10:15,200,102,2,,,103
,XLU,2019-03-04 09:45,500,49.5,1,49.8,,
"""


@pytest.fixture()
def files(tmp_path):
    o = tmp_path / "orders.csv"
    o.write_text(",".join(ORDER_COLUMNS) + "\n" + "\n".join(",".join(r) for r in ORDERS) + "\n")
    f = tmp_path / "fills.csv"
    f.write_text(FILLS)
    return o, f


def test_shortfall_equals_the_hand_computation(files):
    o, f = files
    r = implementation_shortfall(read_orders_csv(o), read_fills(f))
    p1, p2 = r["orders"]
    # P1: buy 1000 at decision 100; 700 filled at 71000/700; arrival 100.5; end 103 for the 300 unfilled
    avg = 71000 / 700
    assert p1["fill_price"] == pytest.approx(avg)
    assert p1["delay_dollars"] == pytest.approx(700 * 0.5)                 # 350
    assert p1["impact_dollars"] == pytest.approx(71000 - 700 * 100.5)      # 650
    assert p1["opportunity_dollars"] == pytest.approx(300 * 3.0)           # 900
    assert p1["fees_dollars"] == pytest.approx(7.0)
    assert p1["shortfall_dollars"] == pytest.approx(1907.0) and p1["shortfall_bps"] == pytest.approx(190.7)
    assert p1["slippage_arrival_bps"] == pytest.approx(1e4 * (avg - 100.5) / 100.5)
    assert p1["slippage_vwap_bps"] == pytest.approx(1e4 * (avg - 100.8) / 100.8)
    assert p1["progress"] == pytest.approx(0.7)
    assert p1["scheduled_by_last_fill"] == 500 and p1["progress_vs_schedule"] == pytest.approx(1.4)
    # P2: sell 500 at 50, all filled at 49.5, arrival 49.8: delay 100, impact 150, fees 1
    assert (p2["delay_dollars"], p2["impact_dollars"], p2["opportunity_dollars"]) == pytest.approx((100.0, 150.0, 0.0))
    assert p2["shortfall_bps"] == pytest.approx(1e4 * 251 / 25000)
    assert r["total"]["shortfall_dollars"] == pytest.approx(2158.0)
    assert r["total"]["shortfall_bps"] == pytest.approx(1e4 * 2158 / 125000)
    assert r["sectors"]["Technology"]["shortfall_dollars"] == pytest.approx(1907.0)
    parts = sum(r["total"][f"{k}_dollars"] for k in ("delay", "impact", "opportunity", "fees"))
    assert parts == pytest.approx(r["total"]["shortfall_dollars"])


def test_fills_errors_name_the_line(files, tmp_path):
    o, f = files
    f.write_text(FILLS + "P9-z,,2019-03-04 10:00,1,100,0,,,\n")
    with pytest.raises(DataError, match="line 6: child_id 'P9-z' is not in the orders file"):
        implementation_shortfall(read_orders_csv(o), read_fills(f), str(f))
    f.write_text(FILLS.replace("49.5,1", "abc,1"))
    with pytest.raises(DataError, match="line 5: price 'abc' is not a number"):
        read_fills(f)
    f.write_text(FILLS + ",XLU,2019-03-04 10:00,1,49,0,,,\n")
    with pytest.raises(DataError, match="exceed the order's 500 shares"):
        implementation_shortfall(read_orders_csv(o), read_fills(f), str(f))


def test_fill_and_order_dates_are_read_strictly(files, tmp_path):
    """A fill time or an order date in day/month text is refused (never read as another day)."""
    o, _ = files
    fills = tmp_path / "fills.csv"
    fills.write_text("child_id,ticker,time,shares,price,fees\nP1-a,,03/04/2019 09:40,300,101,3\n")
    with pytest.raises(DataError, match=r"fills.csv, line 2: time: expected a date like 2008-10-10, got '03/04/2019 09:40'"):
        read_fills(fills)
    text = o.read_text().splitlines()
    head, first = text[0].split(","), text[1].split(",")
    first[head.index("date")] = "03/04/2019"
    bad = tmp_path / "orders.csv"
    bad.write_text("\n".join([text[0], ",".join(first)]) + "\n")
    with pytest.raises(DataError, match=r"orders.csv, line 2: date: '03/04/2019' is ambiguous"):
        read_orders_csv(bad)
