"""Whole-share trade lists: properties (never short, cash never negative, integer shares, per-step turnover,
last step's book at the target within one share) and hand cases."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from engine.costs import CostModel
from engine.optimize.limits import Limits
from engine.optimize.multistep import steps_needed
from engine.optimize.transition import transition_path
from engine.trades.tradelist import Market1, TradeOptions, trade_step

TK = ["XLB", "XLE", "XLF", "XLI", "XLK", "XLP", "XLU", "XLV", "XLY"]
MODEL = CostModel(commission_per_share=0.005, half_spread_bps=2.0, impact_eta=0.142)


@st.composite
def books(draw):
    n = draw(st.integers(3, len(TK)))
    tk = TK[:n]
    price = pd.Series(draw(st.lists(st.floats(5, 500), min_size=n, max_size=n)), index=tk)
    held_w = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n))) + 1e-3
    tgt_w = np.array(draw(st.lists(st.floats(0, 1), min_size=n, max_size=n)))
    tgt_w[draw(st.integers(0, n - 1))] += 0.5                      # a nonzero target
    nav = draw(st.floats(1e6, 5e9))
    cash_frac = draw(st.floats(0, 0.2))
    shares = pd.Series(np.floor(held_w / held_w.sum() * (1 - cash_frac) * nav / price.to_numpy()), index=tk).astype(int)
    cash = nav - float((shares * price).sum())
    invested = draw(st.floats(0.9, 1.0))
    target = pd.Series(tgt_w / tgt_w.sum() * invested, index=tk)
    adv = pd.Series(draw(st.lists(st.floats(1e7, 5e9), min_size=n, max_size=n)), index=tk)
    sigma = pd.Series(draw(st.lists(st.floats(0.005, 0.06), min_size=n, max_size=n)), index=tk)
    return shares, cash, target, Market1(price, sigma, adv)


@settings(max_examples=40, deadline=None)
@given(books(), st.sampled_from([1, 100]), st.floats(0, 0.02))
def test_one_step_never_short_cash_never_negative_integer_shares(book, lot, buffer):
    shares, cash, target, mkt = book
    r = trade_step(shares, cash, target, mkt, MODEL, TradeOptions(round_lot=lot, cash_buffer=buffer))
    assert (r.shares_after >= 0).all()
    assert r.cash_after >= buffer * r.nav - 1e-6
    assert r.orders.dtype == np.int64 and (r.orders != 0).all()
    closed = r.shares_after.reindex(r.orders.index) == 0              # a full close may be an odd lot
    assert ((r.orders % lot == 0) | closed).all()
    # the book after = held + orders, and cash after = cash - notional - expected cost (nothing lost)
    held = shares.reindex(r.shares_after.index).fillna(0)
    assert ((r.shares_after - held).reindex(r.orders.index) == r.orders).all()
    p = mkt.price.reindex(r.orders.index)
    assert r.cash_after == pytest.approx(cash - float((r.orders * p).sum()) - float(r.cost.sum()), abs=1e-4)
    assert r.cost.sum() == pytest.approx(float(MODEL.dollars(r.orders * p, p, mkt.sigma_daily[r.orders.index],
                                                             mkt.adv_dollars[r.orders.index]).sum()))


@settings(max_examples=25, deadline=None)
@given(books(), st.floats(0.02, 0.3))
def test_multi_step_path_turnover_per_step_and_last_book_at_target(book, turnover):
    shares, cash, target, mkt = book
    nav = float((shares * mkt.price).sum() + cash)
    current = shares * mkt.price / nav
    need = int(steps_needed(current, target, turnover, None))
    path = transition_path(current, target, need, Limits(turnover=turnover))
    sh, c = shares, cash
    for k in range(1, need + 1):
        r = trade_step(sh, c, path.loc[k, TK[:len(shares)]], mkt, MODEL)
        notional = float((r.orders.abs() * mkt.price.reindex(r.orders.index)).sum())
        step_turn = 0.5 * (notional + abs(r.cash_after - c)) / r.nav
        slack = (float(mkt.price.sum()) + 2 * float(r.cost.sum())) / r.nav      # one share a ticker + the costs
        assert step_turn <= turnover + slack + 1e-9
        assert (r.shares_after >= 0).all() and r.cash_after >= -1e-6
        sh, c = r.shares_after, r.cash_after
    assert ((r.shares_after - r.target_shares).abs() <= 1.0 + 1e-9).all()


def test_hand_case_rounding_cash_and_min_notional():
    price = pd.Series({"XLK": 100.0, "XLU": 50.0, "XLP": 20.0})
    mkt = Market1(price, pd.Series(0.0, index=price.index), pd.Series(np.nan, index=price.index))
    free = CostModel(half_spread_bps=0.0, impact_eta=0.0)
    shares = pd.Series({"XLK": 100, "XLU": 0, "XLP": 0})       # $10,000 of XLK and $1,000 cash: NAV 11,000
    r = trade_step(shares, 1000.0, pd.Series({"XLK": 0.5, "XLU": 0.3, "XLP": 0.2}), mkt, free)
    # targets: 55 XLK, 66 XLU, 110 XLP; every order funded, cash back to 0
    assert r.orders.to_dict() == {"XLK": -45, "XLU": 66, "XLP": 110}
    assert r.cash_after == pytest.approx(11000 - 5500 - 3300 - 2200)
    r2 = trade_step(shares, 1000.0, pd.Series({"XLK": 0.5, "XLU": 0.3, "XLP": 0.2}), mkt, free,
                    TradeOptions(min_notional=2500, round_lot=10))
    assert r2.orders.to_dict() == {"XLK": -40, "XLU": 70}      # XLP's $2,200 order is under the minimum
    assert r2.residual_drift == pytest.approx(0.5 * (abs(6000 / 11000 - 0.5) + abs(3500 / 11000 - 0.3) + 0.2))
    # a buy the cash cannot pay for is cut, never financed by a negative balance
    r3 = trade_step(shares, 1000.0, pd.Series({"XLK": 1.0}), mkt, CostModel(half_spread_bps=100.0, impact_eta=0.0))
    assert r3.orders.to_dict() == {"XLK": 9} and r3.cash_after >= 0
