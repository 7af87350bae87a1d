"""Tax lots by hand: three tickers, two lots each; FIFO, HIFO and min-tax; wash sales inside and outside 30 days."""
from __future__ import annotations

from datetime import date

import pytest

from engine.errors import ArgumentError
from engine.trades.holdings import Lot
from engine.trades.tax import TaxSettings, is_long_term, select_lots, summarize, wash_sales

SOLD = date(2020, 6, 15)
PRICE = {"XLK": 100.0, "XLU": 50.0, "XLP": 20.0}
LOTS = {
    # XLK: a long-term gain lot (cost 80) and a short-term loss lot (cost 120)
    "XLK": [Lot("XLK", 100, date(2018, 1, 10), 8000.0, 1), Lot("XLK", 100, date(2020, 3, 1), 12000.0, 2)],
    # XLU: bought on the anniversary a year ago (short term, cost 40) and the day before (long term, cost 38)
    "XLU": [Lot("XLU", 200, date(2019, 6, 15), 8000.0, 3), Lot("XLU", 200, date(2019, 6, 14), 7600.0, 4)],
    # XLP: a long-term loss lot (cost 24) and a short-term gain lot (cost 10)
    "XLP": [Lot("XLP", 500, date(2017, 5, 1), 12000.0, 5), Lot("XLP", 500, date(2020, 5, 1), 5000.0, 6)],
}
SELL = {"XLK": 150, "XLU": 250, "XLP": 600}


def run(method):
    s = TaxSettings(short_term_rate=0.37, long_term_rate=0.20, lot_method=method)
    sales = []
    for tk, q in SELL.items():
        sales += select_lots(LOTS[tk], q, PRICE[tk], SOLD, s)
    return sales, summarize(sales, s)


def picks(sales):
    return [(s.ticker, s.line, s.shares) for s in sales]


def test_long_term_is_more_than_one_year_from_the_day_after_purchase():
    assert not is_long_term(date(2019, 6, 15), date(2020, 6, 15))      # the anniversary: still short
    assert is_long_term(date(2019, 6, 15), date(2020, 6, 16))
    assert is_long_term(date(2019, 6, 14), date(2020, 6, 15))


def test_fifo_by_hand():
    sales, t = run("fifo")
    assert picks(sales) == [("XLK", 1, 100), ("XLK", 2, 50), ("XLU", 4, 200), ("XLU", 3, 50), ("XLP", 5, 500), ("XLP", 6, 100)]
    # ST: -1000 + 500 + 1000 = 500; LT: 2000 + 2400 - 2000 = 2400; tax .37*500 + .2*2400
    assert (t.short, t.long) == pytest.approx((500.0, 2400.0))
    assert t.estimated_tax == pytest.approx(665.0)


def test_hifo_by_hand():
    sales, t = run("hifo")
    assert picks(sales) == [("XLK", 2, 100), ("XLK", 1, 50), ("XLU", 3, 200), ("XLU", 4, 50), ("XLP", 5, 500), ("XLP", 6, 100)]
    # ST: -2000 + 2000 + 1000 = 1000; LT: 1000 + 600 - 2000 = -400; net: .37 * (1000 - 400)
    assert (t.short, t.long) == pytest.approx((1000.0, -400.0))
    assert t.estimated_tax == pytest.approx(222.0)


def test_min_tax_by_hand_beats_both():
    sales, t = run("min_tax")
    assert picks(sales) == [("XLK", 2, 100), ("XLK", 1, 50), ("XLU", 4, 200), ("XLU", 3, 50), ("XLP", 5, 500), ("XLP", 6, 100)]
    # ST: -2000 + 500 + 1000 = -500; LT: 1000 + 2400 - 2000 = 1400; net: .2 * (1400 - 500)
    assert (t.short, t.long) == pytest.approx((-500.0, 1400.0))
    assert t.estimated_tax == pytest.approx(180.0)
    assert t.estimated_tax < run("hifo")[1].estimated_tax < run("fifo")[1].estimated_tax


def test_never_sells_more_than_held():
    with pytest.raises(ArgumentError, match="never short"):
        select_lots(LOTS["XLK"], 201, 100.0, SOLD, TaxSettings())


def test_wash_sale_inside_30_days_with_the_disallowed_amount():
    sales, _ = run("hifo")                        # sells 100 XLK of lot 2 at a loss of 20 a share
    w = wash_sales(sales, [("XLK", date(2020, 7, 10), 40)], TaxSettings())     # 25 days after
    assert len(w) == 1 and w[0].ticker == "XLK" and w[0].replacement_shares == 40
    assert w[0].loss == pytest.approx(-2000.0) and w[0].disallowed == pytest.approx(800.0)
    before = wash_sales(sales, [("XLK", date(2020, 5, 16), 500)], TaxSettings())  # 30 days before: inside
    assert before[0].disallowed == pytest.approx(2000.0)
    # the XLP long-term loss (lot 5) is also caught by an XLP purchase
    assert wash_sales(sales, [("XLP", date(2020, 6, 20), 100)], TaxSettings())[0].disallowed == pytest.approx(400.0)


def test_no_wash_sale_outside_30_days_or_for_other_tickers():
    sales, _ = run("hifo")
    assert wash_sales(sales, [("XLK", date(2020, 7, 16), 40)], TaxSettings()) == []     # 31 days after
    assert wash_sales(sales, [("XLK", date(2020, 5, 15), 40)], TaxSettings()) == []     # 31 days before
    assert wash_sales(sales, [("XLV", date(2020, 6, 20), 40)], TaxSettings()) == []     # not identical
    grouped = TaxSettings(identical=(("XLK", "VGT"),))
    assert wash_sales(sales, [("VGT", date(2020, 6, 20), 40)], grouped)[0].disallowed == pytest.approx(800.0)


def test_tax_toml(tmp_path):
    p = tmp_path / "tax.toml"
    p.write_text('[tax]\nshort_term_rate = 0.4\nlong_term_rate = 0.15\nlot_method = "min-tax"\n'
                 'identical = [["SPY", "IVV", "VOO"]]\n')
    s = TaxSettings.from_toml(p)
    assert s.lot_method == "min_tax" and s.group_of("IVV") == {"SPY", "IVV", "VOO"}
    p.write_text('[tax]\nlot_method = "lifo"\n')
    with pytest.raises(ArgumentError, match=r"\[tax\]: lot_method: expected one of fifo, hifo, min_tax"):
        TaxSettings.from_toml(p)
    p.write_text('[tax]\nrate = 0.3\n')
    with pytest.raises(ArgumentError, match="unknown key"):
        TaxSettings.from_toml(p)
