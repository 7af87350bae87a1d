"""Exports never destroy a record: an occupied target is refused, --force keeps the old pair as
NAME.superseded-N.xlsx, a failure injected at every step leaves the previous record intact and no
temporary file, a half-finished pair is explained; approvals sign beside the record."""
from __future__ import annotations

import hashlib
import os
import sqlite3

import pytest

from engine.errors import ArgumentError, RotationError
from workbooks import export as ex
from workbooks.approve import approve
from workbooks.keys import init_keys, load_signer
from workbooks.ledger import Ledger
from workbooks.report import example_report
from workbooks.sign import p7s_path_for
from workbooks.trust import TrustStore
from workbooks.verify import verify_workbook


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    d = tmp_path_factory.mktemp("record")
    init_keys(d / "keys", passphrase="pw", subject="Decision Signer")
    init_keys(d / "approver", passphrase="pw", subject="Chief Compliance Officer")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROTATION_SIGNING_PASSPHRASE", "pw")
        signer, approver = load_signer(d / "keys"), load_signer(d / "approver")
    trust = TrustStore(d / "keys" / "trust")
    trust.add(approver.certificate)
    return {"signer": signer, "approver": approver, "trust": trust, "report": example_report(sessions=400)}


def _state(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()
            if p.is_file() and not p.name.startswith("ledger")}


def _export(env, out, led, **kw):
    return ex.export_signed(env["report"], out, env["signer"], led, trust=env["trust"], **kw)


def test_second_export_is_refused_and_force_supersedes(env, tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "book.xlsx"
    first = _export(env, out, led)
    with pytest.raises(ArgumentError, match="already holds a signed record; pass --force"):
        _export(env, out, led)
    second = _export(env, out, led, force=True)
    assert second.superseded == tmp_path / "book.superseded-1.xlsx" and second.verify["ok"], second.verify["problems"]
    old = verify_workbook(second.superseded, ledger=led, trust=env["trust"])
    assert old["ok"] and old["sha256"] == first.sha256, old["problems"]
    entry = led.find(kind="export", file_sha256=second.sha256)[0]
    assert entry.payload["supersedes"] == {"file": "book.superseded-1.xlsx", "sha256": first.sha256}
    assert entry.payload["ledger_anchor"].startswith(f"{first.ledger_seq}:")
    assert sorted(_state(tmp_path)) == ["book.superseded-1.xlsx", "book.superseded-1.xlsx.p7s",
                                        "book.xlsx", "book.xlsx.p7s"]


@pytest.mark.parametrize("step", ex.STEPS)
def test_failure_at_each_step_keeps_the_previous_record(env, tmp_path, monkeypatch, step):
    led = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "book.xlsx"
    _export(env, out, led)
    before = _state(tmp_path)

    def crash(name):
        if name == step:
            raise RotationError(f"injected failure at {name}")
    monkeypatch.setattr(ex, "_step", crash)
    with pytest.raises(RotationError, match="injected"):
        _export(env, out, led, force=True)
    assert _state(tmp_path) == before                        # same files, same bytes, no temp file
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    r = verify_workbook(out, ledger=led, trust=env["trust"])
    assert r["ok"], r["problems"]
    aborted = led.find(kind="export-aborted")
    assert bool(aborted) == (ex.STEPS.index(step) > ex.STEPS.index("ledger"))
    assert led.verify()["ok"]


def test_killed_between_the_renames_is_explained_and_cleaned_up(env, tmp_path, monkeypatch):
    """A crash (no cleanup) after the new .p7s is in place: the old record survives under its
    superseded name, verify names the interrupted export, and the next export removes the temp file."""
    led = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "book.xlsx"
    first = _export(env, out, led)

    class Killed(BaseException):
        pass

    def kill(name):
        if name == "rename_workbook":
            raise Killed()
    monkeypatch.setattr(ex, "_step", kill)
    monkeypatch.setattr(ex, "_rollback", lambda *a, **k: None)       # a killed process cleans nothing
    monkeypatch.setattr(Ledger, "append", _append_unless_aborted(Ledger.append))
    with pytest.raises(Killed):
        _export(env, out, led, force=True)
    r = verify_workbook(out, ledger=led, trust=env["trust"])
    assert not r["ok"] and any("interrupted export" in p and "book.superseded-1.xlsx" in p for p in r["problems"])
    kept = verify_workbook(tmp_path / "book.superseded-1.xlsx", ledger=led, trust=env["trust"])
    assert kept["ok"] and kept["sha256"] == first.sha256
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.undo()
    _export(env, tmp_path / "book.xlsx", led, force=True)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def _append_unless_aborted(real):
    def append(self, kind, operator, payload):
        if kind == "export-aborted":
            raise AssertionError("a killed process appends nothing")
        return real(self, kind, operator, payload)
    return append


def test_workbook_anchor_catches_a_ledger_cut_below_it(env, tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    for i in range(3):
        led.append("decision", "alice", {"i": i})
    res = _export(env, tmp_path / "book.xlsx", led)
    assert res.verify["ok"] and res.verify["ledger_anchor"] == "3"
    con = sqlite3.connect(led.path)               # cut everything and rebuild a consistent chain
    con.execute("DELETE FROM entries")
    con.execute("DELETE FROM sqlite_sequence")
    con.commit()
    con.close()
    forged = Ledger(led.path)
    forged.append("export", "alice", {"file_sha256": res.sha256, "file": res.path.name})
    assert forged.verify()["ok"]
    r = verify_workbook(res.path, ledger=forged, trust=env["trust"])
    assert not r["ledger"] and any("anchor refers to entry 3" in p for p in r["problems"])


def test_approval_adds_a_signature_and_keeps_the_decision_valid(env, tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    res = _export(env, tmp_path / "book.xlsx", led)
    before = res.path.read_bytes()
    rec = approve(res.path, env["approver"], led, role="approved", operator="cco")
    assert res.path.read_bytes() == before and rec["path"].endswith("book.xlsx.approved-1.p7s")
    r = verify_workbook(res.path, ledger=led, trust=env["trust"])
    assert r["ok"], r["problems"]
    roles = [(s["role"], s["signer"], s["valid"], s["trusted"]) for s in r["signatures"]]
    assert roles == [("decision", "Decision Signer", True, True), ("approved", "Chief Compliance Officer", True, True)]
    assert led.find(kind="approval")[0].payload["file_sha256"] == res.sha256
    os.remove(led.path)                          # an approval no ledger records is reported
    Ledger(led.path).append("export", "x", {"file_sha256": res.sha256, "file": "book.xlsx"})
    r2 = verify_workbook(res.path, ledger=led.path, trust=env["trust"])
    assert not r2["ok"] and any("no approval entry" in p for p in r2["problems"])
    with pytest.raises(ArgumentError, match="not a recorded export"):
        approve(p7s_path_for(res.path), env["approver"], led)


def test_pdf_without_libreoffice_is_one_clear_sentence_and_writes_nothing(env, tmp_path, monkeypatch):
    from workbooks.pdf import PdfUnavailable
    monkeypatch.setenv("ROTATION_SOFFICE", str(tmp_path / "no-soffice"))
    led = Ledger(tmp_path / "ledger.sqlite")
    with pytest.raises(PdfUnavailable, match="--pdf needs LibreOffice"):
        _export(env, tmp_path / "book.xlsx", led, pdf=True)
    assert _state(tmp_path) == {} and not led.find(kind="export")


def test_cli_approve_then_verify_lists_both_signers(env, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from addin.cli.main import app
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "pw")
    led = Ledger(tmp_path / "ledger.sqlite")
    res = _export(env, tmp_path / "book.xlsx", led)
    approver_keys = env["trust"].folder.parent.parent / "approver"
    runner = CliRunner()
    r = runner.invoke(app, ["approve", str(res.path), "--role", "reviewed", "--keys", str(approver_keys),
                            "--ledger", str(led.path), "--json"])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["verify", str(res.path), "--keys", str(env["trust"].folder.parent),
                            "--ledger", str(led.path)])
    assert r.exit_code == 0, r.output
    assert "decision: Decision Signer" in r.output and "reviewed: Chief Compliance Officer" in r.output
    assert "all checks hold" in r.output
