"""A table of tampering kinds on an exported decision workbook, each detected by the check that
should catch it (see workbooks/verify.py): what a reader sees by the content digest (and the
embedded signature), what the embedded signature leaves out by design (docProps, content types, the
zip container, trailing bytes) by the detached .p7s, a swapped .p7s by the CMS check and a renamed
file by the ledger."""
from __future__ import annotations

import io
import re
import shutil
import zipfile

import pytest

from workbooks import export as ex
from workbooks.digest import package_digest
from workbooks.keys import init_keys, load_signer
from workbooks.ledger import Ledger
from workbooks.report import example_report
from workbooks.sign import p7s_path_for
from workbooks.trust import TrustStore
from workbooks.verify import verify_workbook


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    d = tmp_path_factory.mktemp("tamper")
    init_keys(d / "keys", passphrase="pw")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ROTATION_SIGNING_PASSPHRASE", "pw")
        signer = load_signer(d / "keys")
    led = Ledger(d / "ledger.sqlite")
    trust = TrustStore(d / "keys" / "trust")
    report = example_report(sessions=400)
    a = ex.export_signed(report, d / "book.xlsx", signer, led, trust=trust)
    other = d / "other"
    other.mkdir()
    b = ex.export_signed(report, other / "book.xlsx", signer, led, trust=trust)
    assert a.verify["ok"] and b.verify["ok"]
    return {"d": d, "book": a.path, "other": b.path, "ledger": led, "trust": trust}


def _parts(path):
    with zipfile.ZipFile(path) as z:
        return [(i, z.read(i.filename)) for i in z.infolist()]


def _rezip(parts, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for info, data in parts:
            info.compress_type = compression
            z.writestr(info, data)
    return buf.getvalue()


def _edit(path, name, fn) -> bytes:
    parts = _parts(path)
    hits = 0
    out = []
    for info, data in parts:
        if info.filename == name:
            new = fn(data)
            assert new != data, f"the edit of {name} changed nothing"
            data, hits = new, hits + 1
        out.append((info, data))
    assert hits == 1, name
    return _rezip(out)


def _sheet(path, title):
    with zipfile.ZipFile(path) as z:
        wbx = z.read("xl/workbook.xml").decode()
        rels = z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet [^>]*name="{title}"[^>]*r:id="(rId\d+)"', wbx) or \
        re.search(rf'<sheet [^>]*r:id="(rId\d+)"[^>]*name="{title}"', wbx)
    target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or \
        re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
    return "xl/" + target.group(1).lstrip("/").removeprefix("xl/")


def _first(pattern, repl):
    def fn(data: bytes) -> bytes:
        return re.sub(pattern, repl, data, count=1)
    return fn


def _cases(book):
    weights, audit = _sheet(book, "Weights"), _sheet(book, "Audit")
    return {
        # what a reader sees: content digest (and the embedded signature: every such part is signed)
        "cell": (weights, _first(rb"<v>(0\.\d+)</v>", rb"<v>0.5</v>"), "content"),
        "formula": (weights, _first(rb"<c r=\"C7\"([^>]*)><v>", rb'<c r="C7"\1><f>0.5</f><v>'), "content"),
        "number format": ("xl/styles.xml", _first(rb'formatCode="0.0%"', rb'formatCode="0%"'), "content"),
        "defined name": ("xl/workbook.xml", _first(rb"(<definedName name=\"StressIndex\"[^>]*>)[^<]+",
                                                    rb"\1'Dashboard'!$B$7"), "content"),
        "chart": ("xl/charts/chart1.xml", _first(rb"Bond stress index and regime", rb"Bond stress (smoothed)"),
                  "content"),
        "table": ("xl/tables/table1.xml", _first(rb'name="Target"', rb'name="Targets"'), "content"),
        "Audit cell": (audit, _first(rb'(<c r="B6"[^>]*><is><t>)[^<]+', rb"\1run-forged"), "content"),
        # left out of the embedded signature by design: the detached .p7s catches them
        "docProps": ("docProps/core.xml", _first(rb">openpyxl<", rb">mallory<"), "cms"),
        "content types": ("[Content_Types].xml", _first(rb"<Default ", rb'<Default Extension="bin" '
                                                        rb'ContentType="application/octet-stream"/><Default '), "cms"),
    }


@pytest.mark.parametrize("kind", ["cell", "formula", "number format", "defined name", "chart", "table",
                                  "Audit cell", "docProps", "content types"])
def test_part_edits(record, tmp_path, kind):
    part, fn, layer = _cases(record["book"])[kind]
    target = tmp_path / "book.xlsx"
    target.write_bytes(_edit(record["book"], part, fn))
    shutil.copy(p7s_path_for(record["book"]), p7s_path_for(target))
    r = verify_workbook(target, ledger=record["ledger"], trust=record["trust"])
    assert not r["ok"] and not r["cms_signature"] and not r["ledger"]
    if layer == "content":
        assert not r["content_digest"] and not r["embedded_signature"], r["problems"]
        stored, actual = package_digest(target.read_bytes())
        assert stored != actual
    else:                     # the reader-visible content is intact; only the exact bytes changed
        assert r["content_digest"] and r["trusted_signer"], r["problems"]


@pytest.mark.parametrize("kind", ["re-zip", "trailing bytes"])
def test_container_changes_are_caught_by_the_p7s(record, tmp_path, kind):
    target = tmp_path / "book.xlsx"
    if kind == "re-zip":
        target.write_bytes(_rezip(_parts(record["book"]), zipfile.ZIP_STORED))
    else:
        target.write_bytes(record["book"].read_bytes() + b"\0" * 16)
    shutil.copy(p7s_path_for(record["book"]), p7s_path_for(target))
    r = verify_workbook(target, ledger=record["ledger"], trust=record["trust"])
    assert r["embedded_signature"] and r["content_digest"], r["problems"]
    assert not r["cms_signature"] and not r["ok"]


def test_swapped_p7s(record, tmp_path):
    target = tmp_path / "book.xlsx"
    shutil.copy(record["book"], target)
    shutil.copy(p7s_path_for(record["other"]), p7s_path_for(target))      # a genuine .p7s of another record
    r = verify_workbook(target, ledger=record["ledger"], trust=record["trust"])
    assert r["embedded_signature"] and r["content_digest"] and r["ledger"]
    assert not r["cms_signature"] and not r["ok"]
    assert any("message digest mismatch" in p for p in r["problems"])


def test_renamed_file(record, tmp_path):
    target = tmp_path / "book-final.xlsx"
    shutil.copy(record["book"], target)
    shutil.copy(p7s_path_for(record["book"]), p7s_path_for(target))
    r = verify_workbook(target, ledger=record["ledger"], trust=record["trust"])
    assert r["embedded_signature"] and r["cms_signature"] and r["content_digest"] and r["trusted_signer"]
    assert not r["ledger"] and not r["ok"] and any("(renamed)" in p for p in r["problems"])
