"""Ledger anchors: a truncated tail (counter reset too) or a rewritten, re-hashed tail passes the chain
check alone but fails against an anchor kept outside; a damaged ledger file is one clear sentence."""
from __future__ import annotations

import json
import sqlite3

import pytest
from typer.testing import CliRunner

from engine.errors import ArgumentError, DataError
from workbooks.ledger import GENESIS, Ledger, canonical_json, entry_hash, parse_anchor

runner = CliRunner()


def _ledger(tmp_path, n=5) -> Ledger:
    led = Ledger(tmp_path / "ledger.sqlite")
    for i in range(n):
        led.append("export", "alice", {"i": i})
    return led


def _truncate_and_reset(led: Ledger, keep: int) -> None:
    con = sqlite3.connect(led.path)
    con.execute("DELETE FROM entries WHERE seq > ?", (keep,))
    con.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = 'entries'", (keep,))
    con.commit()
    con.close()


def _rewrite_last(led: Ledger) -> None:
    """Edit the newest entry's payload and re-hash it: the chain stays internally consistent."""
    con = sqlite3.connect(led.path)
    seq, time, op, kind, prev = con.execute(
        "SELECT seq, time, operator, kind, prev_hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
    body = canonical_json({"i": 999})
    con.execute("UPDATE entries SET payload = ?, hash = ? WHERE seq = ?",
                (body, entry_hash(prev, seq, time, op, kind, body), seq))
    con.commit()
    con.close()


def test_anchor_is_the_head(tmp_path):
    led = _ledger(tmp_path)
    a = led.anchor()
    assert a["seq"] == 5 and a["hash"] == led.head() and a["anchor"] == f"5:{led.head()}"
    assert parse_anchor(a["anchor"]) == (5, led.head())
    assert led.verify(anchors=[parse_anchor(a["anchor"])])["ok"]
    assert Ledger(tmp_path / "empty.sqlite").anchor()["anchor"] == f"0:{GENESIS}"


def test_truncation_with_counter_reset_needs_the_anchor(tmp_path):
    led = _ledger(tmp_path)
    anchor = parse_anchor(led.anchor()["anchor"])
    _truncate_and_reset(led, 3)
    assert led.verify()["ok"]                    # undetectable without an outside anchor (documented)
    r = led.verify(anchors=[anchor])
    assert not r["ok"] and "ends at entry 3 but an anchor refers to entry 5" in r["problems"][0]


def test_tail_rewrite_needs_the_anchor(tmp_path):
    led = _ledger(tmp_path)
    anchor = parse_anchor(led.anchor()["anchor"])
    _rewrite_last(led)
    assert led.verify()["ok"]
    r = led.verify(anchors=[anchor])
    assert not r["ok"] and "entry 5 differs from the anchor" in r["problems"][0]


def test_an_older_anchor_still_proves_its_prefix(tmp_path):
    led = _ledger(tmp_path, 3)
    old = parse_anchor(led.anchor()["anchor"])
    led.append("export", "bob", {"i": 3})
    assert led.verify(anchors=[old])["ok"]        # appending is fine
    con = sqlite3.connect(led.path)
    con.execute("UPDATE entries SET operator = 'mallory' WHERE seq = 2")
    con.commit()
    con.close()
    assert not led.verify(anchors=[old])["ok"]


def test_emptied_ledger_is_caught_by_an_anchor_and_warned_about_without(tmp_path):
    led = _ledger(tmp_path, 2)
    anchor = parse_anchor(led.anchor()["anchor"])
    _truncate_and_reset(led, 0)
    plain = led.verify()
    assert plain["ok"] and plain["entries"] == 0 and "empty" in plain["warnings"][0]
    assert not led.verify(anchors=[anchor])["ok"]


def test_bad_anchor_text():
    for bad in ("5", "x:" + "a" * 64, "5:abc", "5:" + "g" * 64):
        with pytest.raises(ArgumentError, match="SEQ:HASH"):
            parse_anchor(bad)


def test_corrupted_ledger_file_is_one_sentence(tmp_path):
    led = _ledger(tmp_path, 30)
    data = bytearray(led.path.read_bytes())
    for i in range(4096, min(len(data), 12288)):
        data[i] = 0xAA                          # smash the table pages, keep the header
    led.path.write_bytes(bytes(data))
    for suffix in ("-wal", "-shm"):
        led.path.with_name(led.path.name + suffix).unlink(missing_ok=True)
    with pytest.raises(DataError, match="ledger"):
        Ledger(led.path).verify()
    from addin.cli.main import app
    r = runner.invoke(app, ["ledger", "verify", "--ledger", str(led.path)])
    assert r.exit_code == 2 and "Traceback" not in r.output and "ledger" in r.output


def test_cli_anchor_and_verify_with_anchor(tmp_path):
    from addin.cli.main import app
    led = _ledger(tmp_path)
    r = runner.invoke(app, ["ledger", "anchor", "--ledger", str(led.path), "--json"])
    assert r.exit_code == 0, r.output
    anchor = json.loads(r.output)["anchor"]
    ok = runner.invoke(app, ["ledger", "verify", "--ledger", str(led.path), "--anchor", anchor])
    assert ok.exit_code == 0 and "1 anchor(s) hold" in ok.output
    _truncate_and_reset(led, 4)
    bad = runner.invoke(app, ["ledger", "verify", "--ledger", str(led.path), "--anchor", anchor])
    assert bad.exit_code == 1 and "INVALID" in bad.output
