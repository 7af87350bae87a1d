"""The real book: holdings histories, daily book returns by hand, the dashboard (35% tech against its cap)."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from addin.cli.main import app
from engine.data.model import Market
from engine.errors import DataError
from usecases.book import book_returns, book_view, read_history

runner = CliRunner()
DATES = pd.DatetimeIndex(["2020-03-02", "2020-03-03", "2020-03-04"], name="date")


def tiny_market() -> Market:
    px = pd.DataFrame({"XLK": [100.0, 110.0, 99.0], "XLU": [50.0, 50.0, 55.0], "SPY": [200.0, 210.0, 205.0]},
                      index=DATES)
    empty = pd.DataFrame(index=DATES)
    return Market(prices=px, close=px.copy(), volume=empty, stress=empty, reference=pd.DataFrame(), label="hand case")


HISTORY = """date,ticker,shares
2020-03-02,XLK,600
2020-03-02,XLU,800
2020-03-03,XLK,400
2020-03-03,XLU,1000
2020-03-03,CASH,12000
"""


@pytest.fixture
def hand_book(tmp_path):
    f = tmp_path / "history.csv"
    f.write_text(HISTORY)
    m = tiny_market()
    book = book_view(m, f, with_targets=False)
    bench = pd.DataFrame(0.0, index=book.weights.index, columns=book.weights.columns)
    bench[["XLK", "XLU"]] = 0.5
    return m, dataclasses.replace(book, benchmark=bench)


def test_two_day_holdings_history_returns_equal_the_hand_computation(hand_book):
    m, book = hand_book
    assert [s.date().isoformat() for s, _ in book.snapshots] == ["2020-03-02", "2020-03-03"]
    assert book.nav.tolist() == [100000.0, 106000.0, 600 * 0 + 400 * 99 + 1000 * 55 + 12000]
    assert book.weights.loc["2020-03-03", "XLK"] == pytest.approx(44000 / 106000)
    r = book_returns(m, book)
    # day 1: 0.6 x 10% + 0.4 x 0% ; day 2: (400 x -11 + 1000 x 5) / 106000, cash earns nothing (no T-bill series)
    assert r["book"].tolist() == pytest.approx([0.06, 600 / 106000], abs=1e-15)
    assert r["benchmark"].tolist() == pytest.approx([0.05, 0.0], abs=1e-15)
    assert r["spy"].tolist() == pytest.approx([0.05, 205 / 210 - 1])
    assert book.rebalances == list(DATES[:2])


def test_holdings_history_from_a_folder_and_errors(tmp_path):
    d = tmp_path / "h"
    d.mkdir()
    (d / "holdings-2020-03-02.csv").write_text("ticker,shares\nXLK,600\nXLU,800\n")
    (d / "holdings-20200303.csv").write_text("ticker,shares\nXLK,400\nXLU,1000\nCASH,12000\n")
    snaps = read_history(d)
    assert [s.date().isoformat() for s, _ in snaps] == ["2020-03-02", "2020-03-03"]
    assert snaps[1][1].cash == 12000
    (d / "notes.csv").write_text("ticker,shares\n")
    with pytest.raises(DataError, match="no date in the file name"):
        read_history(d)
    bad = tmp_path / "bad.csv"
    bad.write_text("date,ticker,shares\n2020-03-02,XLK,600\nyesterday,XLU,800\n")
    with pytest.raises(DataError, match=r"bad.csv, line 3: date: expected a date like 2008-10-10, got 'yesterday'"):
        read_history(bad)
    late = tmp_path / "late.csv"
    late.write_text("date,ticker,shares\n2020-03-02,XLK,600\n2020-03-02,XLQ,1\n")
    with pytest.raises(DataError, match=r"late.csv, line 3: unknown ticker 'XLQ'"):
        read_history(late)                        # the line number of the whole file, not of the date's group
    future = tmp_path / "future.csv"
    future.write_text("date,ticker,shares\n2020-03-09,XLK,600\n")
    with pytest.raises(DataError, match="after the last session"):
        book_view(tiny_market(), future, with_targets=False)


def holdings_35(market: Market, t: str, nav: float = 2e9) -> str:
    """A book worth ``nav`` at the close of ``t`` with 35% XLK and the rest spread over the sectors."""
    px = market.close.loc[t]
    w = {"XLK": 0.35, "XLF": 0.15, "XLV": 0.10, "XLE": 0.10, "XLI": 0.08, "XLY": 0.08, "XLP": 0.06, "XLU": 0.04,
         "XLB": 0.03}
    rows = [f"{k},{int(nav * v // px[k])}" for k, v in w.items()]
    return "ticker,shares\n" + "\n".join(rows) + f"\nCASH,{nav * 0.01:.0f}\n"


def test_dashboard_on_the_demo_flags_a_35pct_tech_book_against_its_cap(demo, tmp_path):
    f = tmp_path / "h.csv"
    f.write_text(holdings_35(demo, "2015-06-30"))
    r = runner.invoke(app, ["dashboard", "--demo", "--holdings", str(f), "--as-of", "2015-06-30", "--json"])
    assert r.exit_code == 0, r.output
    d = json.loads(r.stdout)
    assert d["tech"]["weight"] == pytest.approx(0.35, abs=2e-4) and d["tech"]["cap"] == 0.25 and d["tech"]["over_cap"]
    assert d["nav"] == pytest.approx(2e9, rel=1e-4)
    assert {w["ticker"] for w in d["weights"]} >= {"XLK", "XLU", "XLP", "XLV"}
    assert d["next_rebalance"]["date"] == "2015-07-31" and d["last_rebalance"] == "2015-06-30"
    assert any(a["kind"] == "tech_band" for a in d["alerts"])
    assert d["stress"]["regime"] in ("calm", "elevated", "stress", "crisis")
    text = runner.invoke(app, ["dashboard", "--demo", "--holdings", str(f), "--as-of", "2015-06-30"])
    assert text.exit_code == 0 and "OVER ITS CAP" in text.stdout and "35.0%" in text.stdout


def test_dashboard_bad_holdings_is_one_sentence_exit_2(tmp_path):
    f = tmp_path / "h.csv"
    f.write_text("ticker,shares\nXLK,-5\n")
    r = runner.invoke(app, ["dashboard", "--demo", "--holdings", str(f), "--json"])
    assert r.exit_code == 2 and "line 2" in json.loads(r.stdout)["error"]


@pytest.mark.realdata
@pytest.mark.slow
def test_dashboard_on_real_data_shows_a_35pct_tech_2bn_book_on_2008_10_10_against_its_cap(real_market, tmp_path):
    from usecases.dashboard import dashboard

    f = tmp_path / "h35.csv"
    f.write_text(holdings_35(real_market, "2008-10-10"))
    d = dashboard(real_market, f, "2008-10-10")
    assert d["tech"]["weight"] == pytest.approx(0.35, abs=1e-4) and d["tech"]["over_cap"] and d["tech"]["cap"] == 0.25
    assert d["nav"] == pytest.approx(2e9, rel=1e-6)
    assert d["stress"]["regime"] == "crisis" and d["stress"]["tech_selloff"]["since"] == "2008-09-17"
    assert d["next_rebalance"]["date"] == "2008-10-31"
    kinds = {a["kind"] for a in d["alerts"]}
    assert {"tech_band", "drift"} <= kinds


def test_two_day_attribution_equals_the_hand_computation(hand_book):
    import math

    from usecases.book_attribution import attribution

    m, book = hand_book
    att = attribution(m, book, DATES[0], DATES[-1])
    # day 1: wp = (.6, .4), wb = (.5, .5), r = (+10%, 0), Rb = 5%: allocation (+.1)(.05) and (-.1)(-.05)
    # day 2: wp = (44/106, 50/106, cash 12/106), r = (-10%, +10%, 0), Rb = 0
    a1 = {"XLK": 0.1 * 0.05, "XLU": -0.1 * -0.05, "CASH": 0.0}
    a2 = {"XLK": (44 / 106 - 0.5) * -0.1, "XLU": (50 / 106 - 0.5) * 0.1, "CASH": 12 / 106 * 0.0}
    r1, b1, r2, b2 = 0.06, 0.05, 0.6 / 106, 0.0
    R, B = (1 + r1) * (1 + r2) - 1, (1 + b1) * (1 + b2) - 1
    k = lambda r, b: (math.log1p(r) - math.log1p(b)) / (r - b)  # noqa: E731
    for s in ("XLK", "XLU", "CASH"):
        linked = a1[s] * k(r1, b1) / k(R, B) + a2[s] * k(r2, b2) / k(R, B)
        assert att["sectors"][s]["allocation"] == pytest.approx(linked, abs=1e-14)
        assert att["sectors"][s]["selection"] == 0.0 and att["sectors"][s]["interaction"] == 0.0
    assert att["active_return"] == pytest.approx(R - B, abs=1e-15)
    assert att["total"] == pytest.approx(R - B, abs=1e-12) and att["sessions"] == 2


def test_transition_tracking_error_so_far(hand_book):
    from usecases.book_attribution import transition_tracking_error, transitions

    m, book = hand_book
    assert transitions(book) == [list(DATES[:2])]             # two steps one session apart: one transition
    rets = book_returns(m, book)
    te = transition_tracking_error(book, rets, DATES[-1])
    active = rets["active"].to_numpy()
    assert te["steps"] == 2 and te["sessions"] == 2
    assert te["tracking_error"] == pytest.approx(np.std(active, ddof=1) * np.sqrt(252))


def test_dashboard_as_of_a_past_date_ignores_later_snapshots(tmp_path):
    from usecases.book import book_view

    f = tmp_path / "history.csv"
    f.write_text(HISTORY)
    m = tiny_market()
    book = book_view(m.asof("2020-03-02"), f, with_targets=False, later="drop")
    assert [s for s, _ in book.snapshots] == [DATES[0]] and book.shares.loc[DATES[0], "XLK"] == 600
    with pytest.raises(DataError, match="after the last session"):
        book_view(m.asof("2020-03-02"), f, with_targets=False)


ORDERS = """parent_id,child_id,date,start,end,ticker,side,shares,limit,strategy,participation,decision_price
P1,P1-1,2020-03-03,09:30,16:00,XLK,sell,200,none,twap,0.01,100
P2,P2-1,2020-03-03,09:30,16:00,XLU,buy,200,none,twap,0.01,50
"""
FILLS = """child_id,time,shares,price,fees
P1-1,2020-03-03 10:00,200,110,10
P2-1,2020-03-03 10:05,200,50,10
"""


def test_history_from_a_starting_book_and_its_fills(tmp_path):
    (tmp_path / "start.csv").write_text("ticker,shares\nXLK,600\nXLU,800\n")
    (tmp_path / "orders.csv").write_text(ORDERS)
    (tmp_path / "fills.csv").write_text(FILLS)
    m = tiny_market()
    book = book_view(m, tmp_path / "start.csv", with_targets=False, fills=tmp_path / "fills.csv",
                     orders=tmp_path / "orders.csv")
    assert book.rebalances == list(DATES[:2])
    assert book.shares.loc[DATES[1], ["XLK", "XLU"]].tolist() == [400, 1000]
    assert book.cash.loc[DATES[1]] == pytest.approx(200 * 110 - 10 - 200 * 50 - 10)
    assert book.nav.loc[DATES[1]] == pytest.approx(400 * 110 + 1000 * 50 + 11980)
    (tmp_path / "fills.csv").write_text(FILLS.replace("P1-1,2020-03-03 10:00,200", "P1-1,2020-03-03 10:00,900"))
    with pytest.raises(DataError, match=r"fills.csv, line 2: this fill sells more XLK than the book holds"):
        book_view(m, tmp_path / "start.csv", with_targets=False, fills=tmp_path / "fills.csv",
                  orders=tmp_path / "orders.csv")
