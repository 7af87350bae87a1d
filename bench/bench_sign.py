"""Signing benchmarks: sign a demo-sized workbook (embedded signature + .p7s) and verify it.

Targets from issue 5: export + sign under 1.5 s in total (signing is a fraction of it);
verify under 0.5 s. The workbook is demo-sized: ten years of daily signals and weights.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from harness import Row

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

_CACHE: dict = {}


def _prepare() -> dict:
    if _CACHE:
        return _CACHE
    from datetime import date, timedelta

    from openpyxl import Workbook
    from openpyxl.workbook.defined_name import DefinedName

    from lo_helpers import trial_signer
    from workbooks.digest import PLACEHOLDER, seal_package
    from workbooks.ledger import Ledger, export_payload
    from workbooks.sign import sign_workbook

    d = Path(tempfile.mkdtemp(prefix="bench-sign-"))
    os.environ.setdefault("ROTATION_KEYS_DIR", str(d / "trusted-keys"))   # never the user's own trust store
    wb = Workbook()
    ws = wb.active
    ws.title = "Signals"
    ws.append(["date", "index", "percentile", "change_20d", "regime", "strength", "warning_probability"])
    day = date(2010, 1, 4)
    for i in range(2520):
        ws.append([day + timedelta(days=i), i / 1000, (i % 100) / 100, 0.01 * (i % 7), "calm", 0.5, 0.1])
    w = wb.create_sheet("Weights")
    w.append(["date"] + [f"XL{c}" for c in "BCEFIKPRUVY"])
    for i in range(120):
        w.append([day + timedelta(days=30 * i)] + [1 / 11] * 11)
    audit = wb.create_sheet("Audit")
    wb.defined_names["AuditContentDigest"] = DefinedName("AuditContentDigest", attr_text="Audit!$B$1")
    audit["B1"] = PLACEHOLDER
    unsigned = d / "unsigned.xlsx"
    wb.save(unsigned)
    unsigned.write_bytes(seal_package(unsigned.read_bytes())[0])
    signer = trial_signer(d / "keys")
    signed = d / "signed.xlsx"
    shutil.copy(unsigned, signed)
    info = sign_workbook(signed, signer)
    ledger = Ledger(d / "ledger.sqlite")
    ledger.append("export", "bench", export_payload(info))
    _CACHE.update(dir=d, unsigned=unsigned, signed=signed, signer=signer, ledger=ledger,
                  size_kb=os.path.getsize(signed) // 1024)
    return _CACHE


def _fresh_copy():
    c = _prepare()
    target = c["dir"] / "run.xlsx"
    shutil.copy(c["unsigned"], target)
    return target, c["signer"]


def _sign(arg):
    from workbooks.sign import sign_workbook
    path, signer = arg
    sign_workbook(path, signer)


def _verify(_):
    from workbooks.verify import verify_workbook
    c = _prepare()
    r = verify_workbook(c["signed"], ledger=c["ledger"])
    assert r["ok"], r["problems"]


def _load_signer(_):
    from workbooks.keys import load_signer
    os.environ["ROTATION_SIGNING_PASSPHRASE"] = "test-passphrase"
    try:
        load_signer(_prepare()["dir"] / "keys")
    finally:
        os.environ.pop("ROTATION_SIGNING_PASSPHRASE", None)


def _verify_export(_):
    from workbooks.verify import verify_workbook
    c = _prepare()
    target = c["dir"] / "export.xlsx"
    if not target.exists():
        from workbooks.export import export_signed
        from workbooks.ledger import Ledger
        from workbooks.report import example_report
        export_signed(example_report(sessions=5000), target, c["signer"], Ledger(c["dir"] / "export-ledger.sqlite"),
                      verify=False)
    r = verify_workbook(target, ledger=c["dir"] / "export-ledger.sqlite")
    assert r["ok"], r["problems"]


def rows() -> list[Row]:
    return [
        Row("verify: exported 20-year record (all five checks, in process)", _verify_export, target_s=0.6),
        Row("sign: embedded XML-DSig + .p7s (demo-sized workbook)", _sign, target_s=0.3, setup=_fresh_copy),
        Row("sign: load signer (PKCS#12 decrypt)", _load_signer, target_s=0.1, repeat=5),
        Row("verify: signature, .p7s, content digest, ledger", _verify, target_s=0.5),
    ]
