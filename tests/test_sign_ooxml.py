"""Embedded Office XML signature: structure per ECMA-376 Part 2 / MS-OFFCRYPTO, our verifier,
and LibreOffice (an independent implementation) through UNO."""
from __future__ import annotations

import base64
import hashlib
import io
import sys
import zipfile
from pathlib import Path

import pytest
from lxml import etree

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import (LibreOffice, cell_edits, make_sample_workbook, rewrite_part,  # noqa: E402
                        soffice_available, trial_signer)

from engine.errors import DataError  # noqa: E402
from workbooks import sign_ooxml as S  # noqa: E402
from workbooks.sign import sign_workbook  # noqa: E402

NS = {"ds": S.DSIG, "xd": S.XADES, "mdssi": S.MDSSI, "o": S.OFFICE}


@pytest.fixture(scope="module")
def signed(tmp_path_factory):
    d = tmp_path_factory.mktemp("ooxml")
    signer = trial_signer(d / "keys")
    book = make_sample_workbook(d / "book.xlsx")
    unsigned = book.read_bytes()
    info = sign_workbook(book, signer)
    return {"dir": d, "signer": signer, "book": book, "unsigned": unsigned, "info": info}


def _parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_package_layout(signed):
    parts = _parts(signed["book"])
    rels = etree.fromstring(parts["_rels/.rels"])
    origin = [r for r in rels if r.get("Type") == S.ORIGIN_REL]
    assert [r.get("Target") for r in origin] == ["_xmlsignatures/origin.sigs"]
    assert parts["_xmlsignatures/origin.sigs"] == b""
    orels = etree.fromstring(parts["_xmlsignatures/_rels/origin.sigs.rels"])
    assert [(r.get("Type"), r.get("Target")) for r in orels] == [(S.SIGNATURE_REL, "sig1.xml")]
    ct = parts["[Content_Types].xml"].decode()
    assert 'Extension="sigs"' in ct and S.ORIGIN_CT in ct
    assert 'PartName="/_xmlsignatures/sig1.xml"' in ct and S.SIG_CT in ct
    assert b"\n" not in parts["_rels/.rels"].split(b"?>", 1)[1].strip()      # never pretty-printed


def test_signature_structure(signed):
    root = etree.fromstring(_parts(signed["book"])["_xmlsignatures/sig1.xml"])
    si = root.find("ds:SignedInfo", NS)
    assert si.find("ds:CanonicalizationMethod", NS).get("Algorithm") == S.C14N
    assert si.find("ds:SignatureMethod", NS).get("Algorithm") == S.ECDSA_SHA256
    assert [r.get("URI") for r in si.findall("ds:Reference", NS)] == \
        ["#idPackageObject", "#idOfficeObject", "#idSignedProperties"]
    assert len(base64.b64decode(root.findtext("ds:SignatureValue", namespaces=NS))) == 64   # raw r||s
    info = root.find(".//o:SignatureInfoV1", NS)
    assert info.findtext("o:SignatureType", namespaces=NS) == "1"
    assert info.findtext("o:ManifestHashAlgorithm", namespaces=NS) == S.SHA256
    sp = root.find(".//xd:SignedProperties", NS)
    assert sp.find(".//xd:SignaturePolicyIdentifier/xd:SignaturePolicyImplied", NS) is not None
    assert sp.findtext(".//xd:SigningTime", namespaces=NS) == signed["info"].signed_at
    der = signed["signer"].certificate.public_bytes(__import__("cryptography.hazmat.primitives.serialization",
                                                               fromlist=["Encoding"]).Encoding.DER)
    assert sp.findtext(".//xd:CertDigest/ds:DigestValue", namespaces=NS) == \
        base64.b64encode(hashlib.sha256(der).digest()).decode()
    assert sp.findtext(".//ds:X509SerialNumber", namespaces=NS) == str(signed["signer"].certificate.serial_number)
    assert root.findtext(".//mdssi:SignatureTime/mdssi:Format", namespaces=NS) == "YYYY-MM-DDThh:mm:ssTZD"


def test_manifest_covers_every_part_but_the_unsigned_ones(signed):
    parts = _parts(signed["book"])
    root = etree.fromstring(parts["_xmlsignatures/sig1.xml"])
    refs = root.findall(".//ds:Manifest/ds:Reference", NS)
    names = {r.get("URI").split("?")[0].lstrip("/") for r in refs}
    expected = {n for n in parts if not n.startswith("_xmlsignatures/")} - \
        {"[Content_Types].xml", "docProps/core.xml", "docProps/app.xml"}
    assert names == expected
    for r in refs:
        name = r.get("URI").split("?")[0].lstrip("/")
        digest = r.findtext("ds:DigestValue", namespaces=NS)
        if name.endswith(".rels"):
            ids = [e.get("SourceId") for e in r.iter(f"{{{S.MDSSI}}}RelationshipReference")]
            if name == "_rels/.rels":
                assert ids == ["rId1"]    # core, app and the signature origin are not signed
            assert digest == base64.b64encode(hashlib.sha256(
                S.relationship_transform(parts[name], ids)).digest()).decode()
        else:
            assert digest == base64.b64encode(hashlib.sha256(parts[name]).digest()).decode()


def test_relationship_transform_closed_form():
    rels = (b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
            b'relationships"><Relationship Type="t2" Target="b.xml" Id="rId2"/><Relationship Type="t1" '
            b'Target="http://x/" TargetMode="External" Id="rId1" Extra="z"/><Relationship Type="t3" '
            b'Target="c.xml" Id="rId3"/></Relationships>')
    assert S.relationship_transform(rels, ["rId2", "rId1"]) == (
        b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        b'<Relationship Id="rId1" Target="http://x/" TargetMode="External" Type="t1"></Relationship>'
        b'<Relationship Id="rId2" Target="b.xml" TargetMode="Internal" Type="t2"></Relationship>'
        b'</Relationships>')


def test_c14n_of_subelement_has_no_spurious_default_namespace():
    root = etree.fromstring(b'<a xmlns="urn:x"><b Id="i"><c/></b></a>')
    assert S.c14n(root[0]) == b'<b xmlns="urn:x" Id="i"><c></c></b>'


def test_verify_valid_and_unsigned_parts_and_rezip(signed):
    data = signed["book"].read_bytes()
    res = S.verify_package(data)
    assert res.valid and res.present and res.problems == []
    assert res.signer == "Test Signer" and res.signed_at == signed["info"].signed_at
    # core properties are not signed; a re-zip with another compression keeps the signature valid
    parts = _parts(signed["book"])
    parts["docProps/core.xml"] = parts["docProps/core.xml"].replace(b"openpyxl", b"somebody")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for n in reversed(list(parts)):
            z.writestr(n, parts[n])
    assert S.verify_package(buf.getvalue()).valid
    assert not S.verify_package(signed["unsigned"]).present


@pytest.mark.parametrize("mutate, needle", [
    (lambda p: p.__setitem__("xl/workbook.xml", p["xl/workbook.xml"].replace(b'name="Weights"', b'name="W"')),
     "xl/workbook.xml"),
    (lambda p: p.__setitem__("xl/extra.xml", b"<x/>"), "not covered"),
    (lambda p: p.pop("xl/styles.xml"), "missing"),
    (lambda p: p.__setitem__("_xmlsignatures/sig1.xml", p["_xmlsignatures/sig1.xml"].replace(
        b"<SignatureComments>Sector", b"<SignatureComments>Other")), "#idOfficeObject"),
    (lambda p: p.__setitem__("xl/_rels/workbook.xml.rels", p["xl/_rels/workbook.xml.rels"].replace(
        b'sheet1.xml"', b'sheet2.xml"')), "workbook.xml.rels"),
])
def test_tampering_is_detected(signed, mutate, needle):
    parts = _parts(signed["book"])
    mutate(parts)
    res = S.verify_package(S.write_package(parts))
    assert not res.valid
    assert any(needle in p for p in res.problems), res.problems


def test_forged_signature_value_and_swapped_certificate(signed, tmp_path):
    parts = _parts(signed["book"])
    root = etree.fromstring(parts["_xmlsignatures/sig1.xml"])
    sv = root.find("ds:SignatureValue", NS)
    raw = bytearray(base64.b64decode(sv.text))
    raw[5] ^= 1
    sv.text = base64.b64encode(bytes(raw)).decode()
    parts["_xmlsignatures/sig1.xml"] = etree.tostring(root)
    res = S.verify_package(S.write_package(parts))
    assert not res.valid and any("signature value" in p for p in res.problems)
    # an attacker re-signs the edited package with their own key: valid XML-DSig, but the XAdES
    # certificate digest is bound too, so swapping only KeyInfo fails
    other = trial_signer(tmp_path / "other", subject="Mallory")
    parts = _parts(signed["book"])
    root = etree.fromstring(parts["_xmlsignatures/sig1.xml"])
    from cryptography.hazmat.primitives.serialization import Encoding
    root.find(".//ds:X509Certificate", NS).text = base64.b64encode(
        other.certificate.public_bytes(Encoding.DER)).decode()
    parts["_xmlsignatures/sig1.xml"] = etree.tostring(root)
    res = S.verify_package(S.write_package(parts))
    assert not res.valid


def test_rsa_signer_and_already_signed(signed, tmp_path):
    book = make_sample_workbook(tmp_path / "rsa.xlsx")
    rsa_signer = trial_signer(tmp_path, subject="RSA Signer", rsa_key=True)
    data = S.sign_package(book.read_bytes(), rsa_signer)
    res = S.verify_package(data)
    assert res.valid and res.signer == "RSA Signer"
    with pytest.raises(DataError, match="already signed"):
        S.sign_package(data, rsa_signer)
    with pytest.raises(DataError, match="zip"):
        S.sign_package(b"not a zip", rsa_signer)


# --------------------------------------------------------------------------- LibreOffice
@pytest.fixture(scope="module")
def libreoffice():
    if not soffice_available():
        pytest.skip("LibreOffice with python3-uno is not installed")
    lo = LibreOffice()
    yield lo
    lo.close()


@pytest.mark.libreoffice
def test_libreoffice_reports_valid_then_invalid_after_cell_edit(signed, libreoffice, tmp_path):
    book = signed["book"]
    rsa_book = make_sample_workbook(tmp_path / "rsa.xlsx")
    sign_workbook(rsa_book, trial_signer(tmp_path, subject="RSA Signer", rsa_key=True))
    part, coord, edited = next(cell_edits(book))
    tampered = tmp_path / "tampered.xlsx"
    rewrite_part(book, tampered, part, edited)
    unsigned = tmp_path / "unsigned.xlsx"
    unsigned.write_bytes(signed["unsigned"])
    ok, ok_rsa, bad, none = libreoffice.verify([book, rsa_book, tampered, unsigned])
    # With a ZipFormat storage, SignatureIsValid already includes LibreOffice's check that every
    # stream is signed (checkIfAllFilesAreSigned); PartialDocumentSignature is then the ODF-only
    # "OOo 3.2 signature" flag and says nothing about an OOXML package, so it is not asserted.
    assert len(ok) == 1 and ok[0]["valid"], ok
    assert "CN=Test Signer" in ok[0]["signer"]
    assert len(ok_rsa) == 1 and ok_rsa[0]["valid"], ok_rsa
    assert len(bad) == 1 and not bad[0]["valid"], (coord, bad)
    assert none == []
