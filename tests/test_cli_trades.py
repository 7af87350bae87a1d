"""The issue's "done when" on ../shared/data: a $2B book with 35% XLK on 2008-10-10 gives a trade list,
a 5-day VWAP schedule under 10% of ADV every day, lot choices and FIX orders; the 5%-per-step path
reaches the 25% tech cap; `rotation slippage` reports a fills file's shortfall; `rotation export
--holdings` records the holdings hash; `rotation optimize --steps 8` no longer fails at 5% per step."""
from __future__ import annotations

import hashlib
import json

import exchange_calendars as xc
import pandas as pd
import pytest
import simplefix
from typer.testing import CliRunner

from addin.cli.main import app
from engine.optimize.limits import Limits

runner = CliRunner()
NAV = 2e9
W35 = {"XLB": 3, "XLE": 12, "XLF": 12, "XLI": 10, "XLK": 35, "XLP": 6, "XLU": 5, "XLV": 10, "XLY": 6}


@pytest.fixture(scope="module")
def real_store(shared_data, tmp_path_factory):
    store = tmp_path_factory.mktemp("store") / "s.sqlite"
    assert runner.invoke(app, ["data", "import", str(shared_data), "--store", str(store)]).exit_code == 0
    return str(store)


@pytest.fixture(scope="module")
def market(real_store):
    from engine.data.store import Store

    return Store(real_store).load()


@pytest.fixture(scope="module")
def holdings(market, tmp_path_factory):
    """$2B, 35% XLK, two lots a ticker (2006 at 1.3x today's close, 2008-09-22 at 1.1x), 1% cash."""
    px = market.close.loc["2008-10-10"]
    lines = ["ticker,shares,acquired,cost_basis"]
    for t, pct in W35.items():
        sh = int(NAV * pct / 100 / px[t])
        a = sh // 2
        lines += [f"{t},{a},2006-03-15,{a * px[t] * 1.3:.2f}", f"{t},{sh - a},2008-09-22,{(sh - a) * px[t] * 1.1:.2f}"]
    lines.append(f"CASH,{NAV * 0.01:.0f}")
    p = tmp_path_factory.mktemp("h") / "h35.csv"
    p.write_text("\n".join(lines) + "\n")
    return p


@pytest.fixture(scope="module")
def trades_run(real_store, holdings, tmp_path_factory):
    d = tmp_path_factory.mktemp("out")
    r = runner.invoke(app, ["trades", "--holdings", str(holdings), "--store", real_store, "--as-of", "2008-10-10",
                            "--turnover", "0.05", "--schedule", "vwap", "--days", "5", "--participation", "0.1",
                            "--orders", str(d / "o.csv"), "--fix", str(d / "o.fix"), "--json"])
    assert r.exit_code == 0, r.output[-3000:]
    return json.loads(r.stdout), d


def test_done_when_trade_list_vwap_schedule_lots_and_fix(trades_run, market):
    r, d = trades_run
    for k in ("as_of", "nav", "orders", "cash_after", "weights_after", "residual_drift", "realized_gains",
              "estimated_tax", "wash_sales", "steps", "schedule"):
        assert k in r
    assert r["as_of"] == "2008-10-10" and r["nav"] == pytest.approx(NAV, rel=1e-6)
    for o in r["orders"]:
        assert {"ticker", "side", "shares", "notional", "expected_cost_bps", "lots"} <= set(o)
        assert isinstance(o["shares"], int) and o["shares"] > 0 and o["expected_cost_bps"] > 0
    xlk = next(o for o in r["orders"] if o["ticker"] == "XLK")
    assert xlk["side"] == "sell" and sum(lot["shares"] for lot in xlk["lots"]) == xlk["shares"]
    assert xlk["lots"][0]["acquired"] == "2006-03-15" and xlk["lots"][0]["term"] == "long"      # FIFO, long term
    assert r["realized_gains"]["long"] < 0 and r["estimated_tax"] == 0.0                        # sold at a loss
    # the 2008-09-22 lots were bought within 30 days before the loss sale: wash-sale warnings
    assert any(w["ticker"] == "XLK" and w["replacement_date"] == "2008-09-22" for w in r["wash_sales"])
    assert r["cash_after"] >= 0
    # the schedule: 5 NYSE sessions after the decision, every day under 10% of the 63-session ADV
    sched = pd.DataFrame(r["schedule"])
    adv = market.volume.loc[:"2008-10-10"].iloc[-63:].mean()
    per_day = sched.groupby(["ticker", "date"])["shares"].sum()
    for (tk, _), q in per_day.items():
        assert q <= 0.10 * adv[tk] + 1e-6
    days = sorted(sched["date"].unique())
    cal = xc.get_calendar("XNYS")
    assert days[0] == "2008-10-13" and len(days) == 5 and all(cal.is_session(pd.Timestamp(x)) for x in days)
    assert sched.groupby("parent_id")["shares"].sum().sum() == sum(o["shares"] for o in r["orders"])
    # FIX: one NewOrderSingle per child, parsed back by simplefix
    parser = simplefix.FixParser()
    parser.append_buffer((d / "o.fix").read_bytes().replace(b"\n", b""))
    n = 0
    while (m := parser.get_message()) is not None:
        n += 1
        assert m.get(35) == b"D" and m.get(847) == b"1"
    assert n == len(sched)


def test_slippage_reports_the_shortfall_of_a_fills_file(trades_run):
    _, d = trades_run
    orders = pd.read_csv(d / "o.csv")
    rows, expected, paper = ["child_id,time,shares,price,fees,arrival_price"], 0.0, 0.0
    for pid, g in orders.groupby("parent_id", sort=False):
        c = g.iloc[0]                                          # only the first child of each parent fills
        s = 1 if c["side"] == "buy" else -1
        pdx = c["decision_price"]
        fill, arrival = pdx * (1 + s * 0.002), pdx * (1 + s * 0.001)
        rows.append(f"{c['child_id']},{c['date']} {c['start']},{c['shares']},{fill},1.5,{arrival}")
        q = g["shares"].sum()
        # delay + impact = s * X * (fill - decision); the unfilled rest at the last fill price; fees
        expected += s * c["shares"] * (fill - pdx) + s * (q - c["shares"]) * (fill - pdx) + 1.5
        paper += q * pdx
    (d / "fills.csv").write_text("\n".join(rows) + "\n")
    r = runner.invoke(app, ["slippage", "--orders", str(d / "o.csv"), "--fills", str(d / "fills.csv"), "--json"])
    assert r.exit_code == 0, r.output[-2000:]
    res = json.loads(r.stdout)
    assert res["total"]["shortfall_dollars"] == pytest.approx(expected, rel=1e-9)
    assert res["total"]["shortfall_bps"] == pytest.approx(1e4 * expected / paper, rel=1e-9)
    for o in res["orders"]:           # s (fill - arrival) / arrival: 10 bp against the side, over 1 +/- 0.001
        assert o["slippage_arrival_bps"] == pytest.approx(10 / (1.001 if o["side"] == "buy" else 0.999), rel=1e-6)
    assert any("end price" in n for n in res["notes"])
    bad = runner.invoke(app, ["slippage", "--orders", str(d / "o.csv"), "--fills", str(d / "nope.csv"), "--json"])
    assert bad.exit_code == 2 and "cannot read fills file" in json.loads(bad.stdout)["error"]


@pytest.mark.slow
def test_five_percent_steps_reach_the_tech_cap(market, holdings):
    from usecases.trades import rebalance_trades

    first = rebalance_trades(market, holdings, "2008-10-10", Limits(turnover=0.05), steps="auto")
    need = min(row["steps"] for row in first["steps_tradeoff"])
    r = rebalance_trades(market, holdings, "2008-10-10", Limits(turnover=0.05), steps=need, all_steps=True)
    assert [s["step"] for s in r["steps"]] == list(range(1, need + 1))
    px = market.close.loc["2008-10-10"]
    for s in r["steps"]:
        cost = sum(o["expected_cost"] for o in s["orders"])
        assert s["turnover"] <= 0.05 + (px[list(W35)].sum() + 2 * cost) / r["nav"] + 1e-9
        assert s["cash_after"] >= 0
    assert r["weights_after"]["XLK"] <= 0.25 + px["XLK"] / r["nav"]
    assert r["target_weights"]["XLK"] <= 0.25 + 1e-6
    dates = [s["date"] for s in r["steps"]]
    assert dates == sorted(dates) and len(set(dates)) == need          # each step after the previous one


def test_optimize_eight_steps_of_five_percent(real_store, tmp_path):
    cur = tmp_path / "w35.csv"
    w = dict(W35, XLY=7)
    cur.write_text("ticker,weight\n" + "\n".join(f"{k},{v}" for k, v in w.items()) + "\n")
    r = runner.invoke(app, ["optimize", "--store", real_store, "--as-of", "2008-10-10", "--current", str(cur),
                            "--turnover", "0.05", "--steps", "8", "--json"])
    assert r.exit_code == 0, r.output[-2000:]
    res = json.loads(r.stdout)
    assert res["weights"]["XLK"] <= 0.25 + 1e-6 and res["transition_note"].startswith("target reached in 8")
    assert all(row["turnover"] <= 0.05 + 1e-9 for row in res["transition"])
    one = json.loads(runner.invoke(app, ["optimize", "--store", real_store, "--as-of", "2008-10-10", "--current",
                                         str(cur), "--turnover", "0.05", "--steps", "1", "--json"]).stdout)
    assert "they hold after 2 rebalances" in one["transition_note"] and one["transition"][1]["turnover"] <= 0.05 + 1e-9


@pytest.mark.slow
def test_export_with_holdings_records_the_hash(real_store, holdings, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "a passphrase for tests only")
    out = tmp_path / "book.xlsx"
    r = runner.invoke(app, ["export", "--store", real_store, "--as-of", "2008-10-10", "--holdings", str(holdings),
                            "--out", str(out), "--json"])
    assert r.exit_code == 0, r.output[-2000:]
    res = json.loads(r.stdout)
    sha = hashlib.sha256(holdings.read_bytes()).hexdigest()
    assert res["verify"]["ok"] and res["inputs"][f"holdings: {holdings.name}"] == sha
    wb = load_workbook(out)
    assert {"Trades", "Execution"} <= set(wb.sheetnames)
    audit = [[c.value for c in row] for row in wb["Audit"].iter_rows(min_row=20)]
    assert [f"holdings: {holdings.name}", sha] in [row[:2] for row in audit]
    assert runner.invoke(app, ["verify", str(out), "--json"]).exit_code == 0
