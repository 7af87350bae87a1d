"""Signed export end to end with a trial key: verify holds, ledger records it, failures leave no file."""
from __future__ import annotations

import dataclasses

import pytest

from engine.errors import ArgumentError, RotationError
from workbooks import export as ex
from workbooks.digest import content_digest, read_audit_digest
from workbooks.ledger import Ledger
from workbooks.report import example_report


@pytest.fixture(scope="module")
def signer(tmp_path_factory):
    from workbooks.keys import init_keys, load_signer

    keys = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as mp:          # no environment change outlives this fixture
        mp.setenv("ROTATION_SIGNING_PASSPHRASE", "trial-passphrase")
        init_keys(keys_dir=keys, passphrase="trial-passphrase")
        signer = load_signer(keys_dir=keys)
    from workbooks.trust import TrustStore
    TrustStore.for_keys().add(signer.certificate)      # the session's isolated trust store
    return signer


@pytest.fixture(scope="module")
def report():
    return example_report(sessions=1500)


def test_export_signed_verifies_and_is_in_the_ledger(report, signer, tmp_path, monkeypatch):
    monkeypatch.setenv("ROTATION_SIGNING_PASSPHRASE", "trial-passphrase")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "decision.xlsx"
    res = ex.export_signed(report, out, signer, ledger)
    assert res.path == out and out.is_file() and res.p7s.is_file()
    assert res.verify["ok"], res.verify["problems"]
    for key in ("embedded_signature", "cms_signature", "trusted_signer", "content_digest", "ledger"):
        assert res.verify[key] is True
    import hashlib
    assert res.sha256 == hashlib.sha256(out.read_bytes()).hexdigest()
    assert res.content_digest == read_audit_digest(out) == content_digest(out)
    entry, = ledger.find(kind="export", file_sha256=res.sha256)
    assert entry.seq == res.ledger_seq
    p = entry.payload
    assert p["file"] == "decision.xlsx" and p["run_id"] == report.run_id and p["as_of"] == report.as_of.isoformat()
    assert p["content_digest"] == res.content_digest and p["inputs"] == [list(x) for x in report.inputs]
    assert p["cert_sha256"] == res.verify["cert_sha256"] and p["ledger_anchor"] == "0:" + "0" * 64
    assert p["data_rows_sha256"] == report.data_rows_sha256
    assert p["target_weights"] == pytest.approx(report.target_weights())
    assert sorted(x.name for x in tmp_path.iterdir()) == ["decision.xlsx", "decision.xlsx.p7s", "ledger.sqlite"]


@pytest.mark.parametrize("where", ["sign_bytes", "append", "commit"])
def test_failure_midway_leaves_no_file(report, signer, tmp_path, monkeypatch, where):
    ledger = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "decision.xlsx"

    def boom(*a, **k):
        raise RotationError(f"injected failure in {where}")

    if where == "sign_bytes":
        monkeypatch.setattr(ex, "sign_bytes", boom)
    elif where == "append":
        monkeypatch.setattr(Ledger, "append", boom)
    else:  # the .p7s is in place, the workbook rename fails
        real = ex.atomic.commit

        def second_fails(tmp, path):
            if str(path) == str(out):
                assert (tmp_path / "decision.xlsx.p7s").is_file()  # the .p7s went first
                boom()
            return real(tmp, path)
        monkeypatch.setattr(ex.atomic, "commit", second_fails)
    with pytest.raises(RotationError, match="injected"):
        ex.export_signed(report, out, signer, ledger)
    left = sorted(x.name for x in tmp_path.iterdir() if not x.name.startswith("ledger.sqlite"))
    assert left == [], left


def test_bad_target_is_a_clear_error(report, signer, tmp_path):
    with pytest.raises(ArgumentError, match="out_path"):
        ex.export_signed(report, tmp_path / "nope" / "a.xlsx", signer, Ledger(tmp_path / "l.sqlite"))
    with pytest.raises(ArgumentError, match="out_path"):
        ex.export_signed(report, tmp_path / "a.pdf", signer, Ledger(tmp_path / "l.sqlite"))


def test_edit_after_export_is_detected(report, signer, tmp_path):
    from openpyxl import load_workbook

    from workbooks.verify import verify_workbook

    ledger = Ledger(tmp_path / "ledger.sqlite")
    out = tmp_path / "d.xlsx"
    small = dataclasses.replace(report, signals=report.signals.iloc[-100:])
    ex.export_signed(small, out, signer, ledger, verify=False)
    wb = load_workbook(out)
    wb["Dashboard"]["B6"] = 0.01
    wb.save(out)
    res = verify_workbook(out, ledger=ledger)
    assert not res["ok"] and res["content_digest"] is False
