"""verify_workbook and `rotation verify`: all checks hold on a fresh signed workbook; every
single-cell edit in the sheet XML, any sheet change, a missing .p7s or ledger entry is caught."""
from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import cell_edits, make_sample_workbook, rewrite_part, sheet_parts, trial_signer  # noqa: E402

from engine.errors import DataError  # noqa: E402
from workbooks.digest import PLACEHOLDER, seal_package  # noqa: E402
from workbooks.ledger import Ledger, export_payload  # noqa: E402
from workbooks.sign import sign_workbook  # noqa: E402
from workbooks.verify import CHECKS, verify_workbook  # noqa: E402

runner = CliRunner()


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    d = tmp_path_factory.mktemp("verify")
    signer = trial_signer(d / "keys")
    book = make_sample_workbook(d / "book.xlsx")
    info = sign_workbook(book, signer)
    ledger = Ledger(d / "ledger.sqlite")
    ledger.append("decision", "alice", {"as_of": "2019-12-31"})
    ledger.append("export", "alice", export_payload(info, run_id="run-0001"))
    return {"d": d, "book": book, "info": info, "ledger": ledger, "signer": signer}


def _copy_with_p7s(signed, dst: Path, data: bytes | None = None) -> Path:
    dst.write_bytes(data if data is not None else signed["book"].read_bytes())
    dst.with_name(dst.name + ".p7s").write_bytes(signed["info"].p7s_path.read_bytes())
    return dst


def test_all_checks_hold(signed):
    r = verify_workbook(signed["book"], ledger=signed["ledger"])
    assert r["ok"] and all(r[k] is True for k in CHECKS), r["problems"]
    assert r["problems"] == [] and r["signer"] == "Test Signer" and r["signed_at"] == signed["info"].signed_at
    assert r["sha256"] == signed["info"].sha256
    assert verify_workbook(signed["book"], ledger=signed["d"] / "ledger.sqlite")["ok"]   # a path works too


def test_every_single_cell_edit_is_detected(signed, tmp_path):
    edits = list(cell_edits(signed["book"]))
    assert len(edits) >= 20   # every value-bearing cell of every sheet, the Audit sheet included
    seen = set()
    for part, coord, data in edits:
        target = tmp_path / "t.xlsx"
        rewrite_part(signed["book"], target, part, data)
        _copy_with_p7s(signed, target, target.read_bytes())
        r = verify_workbook(target, ledger=signed["ledger"])
        assert not r["ok"], (part, coord)
        assert not r["embedded_signature"] and not r["cms_signature"] and not r["ledger"], (part, coord)
        seen.add(part)
        if not part.endswith(sheet_parts(signed["book"])[-1].rsplit("/", 1)[1]):   # not the Audit sheet
            assert not r["content_digest"], (part, coord)
    assert seen == set(sheet_parts(signed["book"]))


def test_resave_with_recomputed_digest_is_caught(signed, tmp_path):
    wb = load_workbook(signed["book"])
    wb["Weights"]["B2"] = 0.5
    wb["Audit"]["B1"] = PLACEHOLDER              # a careful forger re-seals the digest too
    target = tmp_path / "forged.xlsx"
    wb.save(target)
    target.write_bytes(seal_package(target.read_bytes())[0])
    _copy_with_p7s(signed, target, target.read_bytes())
    r = verify_workbook(target, ledger=signed["ledger"])
    assert r["content_digest"] and not r["embedded_signature"] and not r["cms_signature"] and not r["ledger"]
    assert not r["ok"]


def test_sheet_rename_in_package_is_caught(signed, tmp_path):
    with zipfile.ZipFile(signed["book"]) as z:
        wbxml = z.read("xl/workbook.xml")
    target = tmp_path / "renamed.xlsx"
    rewrite_part(signed["book"], target, "xl/workbook.xml", wbxml.replace(b'name="Weights"', b'name="Weight"'))
    _copy_with_p7s(signed, target, target.read_bytes())
    r = verify_workbook(target, ledger=signed["ledger"])
    assert not r["embedded_signature"] and not r["content_digest"] and not r["ok"]


def test_missing_p7s_and_missing_ledger_entry(signed, tmp_path):
    target = tmp_path / "book.xlsx"            # same name, other folder: only the .p7s is missing
    target.write_bytes(signed["book"].read_bytes())
    r = verify_workbook(target, ledger=signed["ledger"])
    assert r["embedded_signature"] and r["content_digest"] and r["ledger"] and not r["cms_signature"]
    assert any(".p7s not found" in p for p in r["problems"])
    _copy_with_p7s(signed, target)
    other = Ledger(tmp_path / "other.sqlite")
    other.append("export", "bob", {"file_sha256": "0" * 64})
    r = verify_workbook(target, ledger=other)
    assert not r["ledger"] and r["embedded_signature"] and r["cms_signature"]
    r = verify_workbook(target, ledger=tmp_path / "absent.sqlite")
    assert not r["ledger"] and any("no ledger" in p for p in r["problems"])
    assert not (tmp_path / "absent.sqlite").exists()
    with pytest.raises(DataError, match="not found"):
        verify_workbook(tmp_path / "nothing.xlsx")


def test_broken_ledger_chain_fails_ledger_check(signed, tmp_path):
    import shutil
    import sqlite3
    lp = tmp_path / "l.sqlite"
    shutil.copy(signed["d"] / "ledger.sqlite", lp)
    con = sqlite3.connect(lp)
    con.execute("UPDATE entries SET operator='mallory' WHERE seq=1")
    con.commit()
    con.close()
    r = verify_workbook(signed["book"], ledger=lp)
    assert not r["ledger"] and r["embedded_signature"] and not r["ok"]


def test_unsigned_workbook(tmp_path):
    book = make_sample_workbook(tmp_path / "plain.xlsx")
    r = verify_workbook(book, ledger=tmp_path / "none.sqlite")
    assert r["content_digest"] and not r["embedded_signature"] and not r["cms_signature"] and not r["ok"]


# --------------------------------------------------------------------------- CLI
def test_cli_verify_json_and_exit_codes(signed, tmp_path):
    from addin.cli.verify_cmd import app
    ledger = str(signed["d"] / "ledger.sqlite")
    res = runner.invoke(app, [str(signed["book"]), "--ledger", ledger, "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert {k: data[k] for k in CHECKS} == {k: True for k in CHECKS}
    assert data["signer"] == "Test Signer"
    part, coord, edited = next(cell_edits(signed["book"]))
    bad = tmp_path / "bad.xlsx"
    rewrite_part(signed["book"], bad, part, edited)
    res = runner.invoke(app, [str(bad), "--ledger", ledger, "--json"])
    assert res.exit_code == 1 and json.loads(res.stdout)["embedded_signature"] is False
    res = runner.invoke(app, [str(bad), "--ledger", ledger])
    assert res.exit_code == 1 and "FAILED" in res.stdout and "Embedded Office signature" in res.stdout
    res = runner.invoke(app, [str(tmp_path / "missing.xlsx"), "--json"])
    assert res.exit_code == 2 and "not found" in json.loads(res.stdout)["error"]


def test_cli_ledger_show_and_verify(signed, tmp_path):
    import shutil
    import sqlite3

    from addin.cli.ledger_cmd import app
    lp = tmp_path / "l.sqlite"
    shutil.copy(signed["d"] / "ledger.sqlite", lp)
    res = runner.invoke(app, ["verify", "--ledger", str(lp), "--json"])
    assert res.exit_code == 0 and json.loads(res.stdout)["ok"] is True
    res = runner.invoke(app, ["show", "--ledger", str(lp), "--json"])
    assert res.exit_code == 0
    assert [e["kind"] for e in json.loads(res.stdout)["entries"]] == ["decision", "export"]
    con = sqlite3.connect(lp)
    con.execute("UPDATE entries SET payload='{\"as_of\":\"2020-01-01\"}' WHERE seq=1")
    con.commit()
    con.close()
    res = runner.invoke(app, ["verify", "--ledger", str(lp)])
    assert res.exit_code == 1 and "INVALID" in res.stdout
    res = runner.invoke(app, ["verify", "--ledger", str(tmp_path / "none.sqlite"), "--json"])
    assert res.exit_code == 2 and "no ledger" in json.loads(res.stdout)["error"]


def test_cli_keys(tmp_path, monkeypatch):
    from addin.cli.keys_cmd import app
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "cli-test-pass")
    keys = tmp_path / "keys"
    res = runner.invoke(app, ["init", "--keys", str(keys), "--subject", "CLI Signer", "--json"])
    assert res.exit_code == 0, res.output
    info = json.loads(res.stdout)
    assert info["subject"] == "CLI Signer" and (keys / "signer.p12").exists()
    assert "cli-test-pass" not in res.stdout
    res = runner.invoke(app, ["show", "--keys", str(keys)])
    assert res.exit_code == 0 and "CLI Signer" in res.stdout
    res = runner.invoke(app, ["init", "--keys", str(keys), "--json"])
    assert res.exit_code == 2 and "already exists" in json.loads(res.stdout)["error"]
    res = runner.invoke(app, ["show", "--keys", str(tmp_path / "nokeys"), "--json"])
    assert res.exit_code == 2 and "rotation keys init" in json.loads(res.stdout)["error"]
    # import a p12 with the password from the environment
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12

    from workbooks.keys import load_signer
    s = load_signer(keys)
    p12 = tmp_path / "c.p12"
    p12.write_bytes(pkcs12.serialize_key_and_certificates(b"c", s.key, s.certificate, None,
                                                          serialization.BestAvailableEncryption(b"pw12")))
    monkeypatch.setenv("ROTATION_P12_PASSWORD", "pw12")
    res = runner.invoke(app, ["import", str(p12), "--keys", str(tmp_path / "k2"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["key_id"] == s.key_id
