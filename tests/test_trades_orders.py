"""Order CSV round trip and FIX 4.4 NewOrderSingle: required tags, BodyLength and CheckSum checked by hand,
and every message parsed back by simplefix."""
from __future__ import annotations

import re
from datetime import datetime, timezone

import pandas as pd
import pytest
import simplefix

from engine.errors import DataError
from engine.trades.orders import fix_messages, read_orders_csv, write_fix, write_orders_csv
from engine.trades.schedule import ScheduleOptions, schedule_orders

SOH = b"\x01"
REQUIRED_HEADER = [b"8", b"9", b"35", b"49", b"56", b"34", b"52"]
REQUIRED_BODY = [b"11", b"55", b"54", b"60", b"38", b"40"]


@pytest.fixture()
def children():
    parents = pd.DataFrame([{"parent_id": "S1-001", "ticker": "XLK", "side": "sell", "shares": 30_000},
                            {"parent_id": "S1-002", "ticker": "XLU", "side": "buy", "shares": 12_345, "limit": 26.5}])
    ch, _ = schedule_orders(parents, "2008-11-24", 2, pd.Series({"XLK": 1e7, "XLU": 5e6}), ScheduleOptions("vwap"))
    return ch


def fields(raw: bytes) -> list[tuple[bytes, bytes]]:
    assert raw.endswith(SOH)
    return [tuple(f.split(b"=", 1)) for f in raw[:-1].split(SOH)]


def test_fix_required_tags_body_length_checksum(children):
    sent = datetime(2008, 11, 25, 14, 0, tzinfo=timezone.utc)
    msgs = fix_messages(children, "PMDESK", "ALGOBROKER", participation=0.1, sending_time=sent)
    assert len(msgs) == len(children)
    for raw, child in zip(msgs, children.itertuples(index=False)):
        f = fields(raw)
        tags = [t for t, _ in f]
        assert tags[:3] == [b"8", b"9", b"35"] and tags[-1] == b"10"          # order of the standard header/trailer
        assert all(t in tags for t in REQUIRED_HEADER + REQUIRED_BODY)
        d = dict(f)
        assert d[b"8"] == b"FIX.4.4" and d[b"35"] == b"D" and d[b"49"] == b"PMDESK" and d[b"56"] == b"ALGOBROKER"
        # BodyLength: bytes after the 9= field up to and including the SOH before 10=
        start = raw.index(SOH, raw.index(b"9=")) + 1
        end = raw.rindex(b"10=")
        assert int(d[b"9"]) == end - start
        assert d[b"10"] == b"%03d" % (sum(raw[:end]) % 256)
        assert d[b"55"] == child.ticker.encode() and int(d[b"38"]) == child.shares
        assert d[b"54"] == (b"1" if child.side == "buy" else b"2")
        assert d[b"847"] == b"1" and d[b"849"] == b"0.1"                        # VWAP, participation rate
        if pd.notna(child.limit):
            assert d[b"40"] == b"2" and d[b"44"] == b"26.5000"
        else:
            assert d[b"40"] == b"1" and b"44" not in d
        # the child's bucket as UTC: 09:30 New York in November = 14:30 UTC
        assert re.fullmatch(rb"\d{8}-\d\d:\d\d:\d\d\.000", d[b"168"])


def test_fix_parses_back_with_simplefix(children, tmp_path):
    path = write_fix(fix_messages(children, participation=0.1), tmp_path / "o.fix")
    parser = simplefix.FixParser()
    parser.append_buffer(path.read_bytes().replace(b"\n", b""))
    n = 0
    while (m := parser.get_message()) is not None:
        assert m.get(35) == b"D" and m.get(11) == children["child_id"].iloc[n].encode()
        n += 1
    assert n == len(children)
    first = fields(path.read_bytes().split(b"\n")[0])
    assert dict(first)[b"168"] == b"20081125-14:30:00.000" and dict(first)[b"126"] == b"20081125-15:00:00.000"


def test_twap_children_carry_no_fix44_strategy():
    parents = pd.DataFrame([{"parent_id": "P", "ticker": "XLK", "side": "buy", "shares": 1300}])
    ch, _ = schedule_orders(parents, "2019-03-01", 1, pd.Series({"XLK": 1e7}), ScheduleOptions("twap"))
    d = dict(fields(fix_messages(ch)[0]))
    assert b"847" not in d and b"849" not in d


def test_order_csv_round_trip_and_errors(children, tmp_path):
    p = write_orders_csv(children, pd.Series({"XLK": 15.9, "XLU": 25.76}), tmp_path / "o.csv")
    back = read_orders_csv(p)
    assert back["shares"].sum() == children["shares"].sum() and list(back["child_id"]) == list(children["child_id"])
    assert back.loc[back["ticker"] == "XLU", "limit"].eq(26.5).all() and back.loc[back["ticker"] == "XLK", "limit"].isna().all()
    lines = p.read_text().splitlines()
    lines[3] = lines[3].replace(",sell,", ",short,")
    p.write_text("\n".join(lines))
    with pytest.raises(DataError, match="line 4: side must be buy or sell"):
        read_orders_csv(p)
