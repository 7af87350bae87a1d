"""Trust: verify accepts only a pinned certificate or one issued by a trusted CA, valid at signing
time, with a strong key; keys import refuses weak or out-of-date certificates and an existing key;
damaged key files are called damaged."""
from __future__ import annotations

import datetime as dt
import io
import json
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from openpyxl import load_workbook
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import make_sample_workbook  # noqa: E402

from workbooks import keys as K  # noqa: E402
from workbooks.digest import PLACEHOLDER, seal_package  # noqa: E402
from workbooks.keys import Signer, key_id_of  # noqa: E402
from workbooks.ledger import Ledger, export_payload  # noqa: E402
from workbooks.sign import sign_workbook  # noqa: E402
from workbooks.trust import TrustStore, fingerprint  # noqa: E402
from workbooks.verify import verify_workbook  # noqa: E402

NOW = dt.datetime.now(dt.timezone.utc)


def make_cert(cn="Compliance Signer", key=None, issuer=None, issuer_key=None, ca=True,
              start=NOW - dt.timedelta(days=1), end=NOW + dt.timedelta(days=30)):
    key = key or ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    b = (x509.CertificateBuilder().subject_name(name).issuer_name(issuer.subject if issuer else name)
         .public_key(key.public_key()).serial_number(x509.random_serial_number())
         .not_valid_before(start).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    cert = b.sign(issuer_key or key, hashes.SHA256())
    return Signer(key=key, certificate=cert, chain=[issuer] if issuer else [], key_id=key_id_of(cert))


def _p12(path: Path, s: Signer) -> Path:
    path.write_bytes(pkcs12.serialize_key_and_certificates(b"x", s.key, s.certificate, s.chain or None,
                                                           serialization.NoEncryption()))
    return path


@pytest.fixture()
def setup(tmp_path):
    signer = make_cert()
    store = TrustStore(tmp_path / "trust")
    store.add(signer.certificate)
    book = make_sample_workbook(tmp_path / "book.xlsx")
    info = sign_workbook(book, signer)
    ledger = Ledger(tmp_path / "ledger.sqlite")
    ledger.append("export", "alice", export_payload(info))
    return {"d": tmp_path, "signer": signer, "store": store, "book": book, "ledger": ledger, "info": info}


def test_genuine_record_is_trusted(setup):
    r = verify_workbook(setup["book"], ledger=setup["ledger"], trust=setup["store"])
    assert r["ok"] and r["trusted_signer"], r["problems"]
    assert r["cert_sha256"] == fingerprint(setup["signer"].certificate)
    assert r["signatures"][0]["trusted"] and r["signatures"][0]["signer"] == "Compliance Signer"


def test_forgery_with_another_self_signed_cert_of_the_same_name_fails(setup):
    """Edit a Weights cell, re-seal the digest, re-sign with any certificate named the same, append a
    ledger entry: every integrity check holds, and verify still fails on trust and the fingerprint."""
    d = setup["d"]
    wb = load_workbook(setup["book"])
    wb["Weights"]["B2"] = 0.99
    wb["Audit"]["B1"] = PLACEHOLDER
    buf = io.BytesIO()
    wb.save(buf)
    forged = d / "forged" / "book.xlsx"
    forged.parent.mkdir()
    forged.write_bytes(seal_package(buf.getvalue())[0])
    mallory = make_cert("Compliance Signer")                       # same name, other key
    info = sign_workbook(forged, mallory)
    setup["ledger"].append("export", "alice", export_payload(info))
    r = verify_workbook(forged, ledger=setup["ledger"], trust=setup["store"])
    assert r["embedded_signature"] and r["cms_signature"] and r["content_digest"]
    assert not r["trusted_signer"] and not r["ok"]
    assert any("neither in the trust store nor issued by a trusted CA" in p for p in r["problems"])
    # the forger's ledger entry records the forger's certificate; an entry copying the genuine
    # fingerprint is caught by the comparison with the certificate in the file
    setup["ledger"].append("export", "alice", {**export_payload(info), "cert_sha256": setup["info"].cert_sha256})
    r2 = verify_workbook(forged, ledger=setup["ledger"], trust=setup["store"])
    assert not r2["ledger"] and any("records certificate" in p for p in r2["problems"])


def test_certificate_issued_by_a_trusted_ca_is_accepted_and_a_stranger_is_not(tmp_path):
    ca = make_cert("Org Root CA")
    leaf = make_cert("PM Desk", issuer=ca.certificate, issuer_key=ca.key, ca=False)
    store = TrustStore(tmp_path / "trust")
    store.add(ca.certificate)
    when = NOW
    assert store.check(leaf.certificate, when, leaf.chain).trusted
    assert "issued by trusted CA" in store.check(leaf.certificate, when).how
    other_ca = make_cert("Org Root CA")           # same name as the CA, other key
    fake = make_cert("PM Desk", issuer=other_ca.certificate, issuer_key=other_ca.key, ca=False)
    assert not store.check(fake.certificate, when, fake.chain).trusted


@pytest.mark.parametrize("kind, match", [
    ("expired", "had expired"), ("future", "not yet valid"), ("rsa1024", "RSA key of 1024 bits")])
def test_signature_outside_validity_or_weak_is_not_trusted(tmp_path, kind, match):
    if kind == "expired":
        s = make_cert(start=NOW - dt.timedelta(days=60), end=NOW - dt.timedelta(days=1))
    elif kind == "future":
        s = make_cert(start=NOW + dt.timedelta(days=1), end=NOW + dt.timedelta(days=60))
    else:
        s = make_cert(key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    store = TrustStore(tmp_path / "trust")
    store.folder.mkdir()
    (store.folder / "x.pem").write_bytes(s.certificate.public_bytes(serialization.Encoding.PEM))  # forced in
    decision = store.check(s.certificate, NOW)
    assert not decision.trusted and match in decision.reason
    with pytest.raises(K.SigningKeyError, match=match):
        K.import_p12(_p12(tmp_path / "c.p12", s), None, tmp_path / "keys")


def test_import_refuses_an_existing_key_without_overwrite(tmp_path, monkeypatch):
    monkeypatch.setenv(K.ENV_PASSPHRASE, "pw")
    keys = tmp_path / "keys"
    K.import_p12(_p12(tmp_path / "a.p12", make_cert("A")), None, keys)
    with pytest.raises(Exception, match="already exists.*--overwrite"):
        K.import_p12(_p12(tmp_path / "b.p12", make_cert("B")), None, keys)
    K.import_p12(tmp_path / "b.p12", None, keys, overwrite=True)
    assert K.load_signer(keys).subject == "B"
    assert len(TrustStore(keys / "trust").certificates()) == 2      # both were configured signers


@pytest.mark.parametrize("damage", ["bitflip", "truncate"])
def test_damaged_key_file_is_called_damaged(tmp_path, monkeypatch, damage):
    monkeypatch.setenv(K.ENV_PASSPHRASE, "pw")
    keys = tmp_path / "keys"
    K.init_keys(keys, passphrase="pw")
    p = keys / K.KEY_FILE
    blob = bytearray(p.read_bytes())
    if damage == "bitflip":
        blob[len(blob) // 2] ^= 0x01
    else:
        blob = blob[: len(blob) - 40]
    p.write_bytes(bytes(blob))
    with pytest.raises(K.SigningKeyError, match="damaged"):
        K.load_signer(keys)
    monkeypatch.setenv(K.ENV_PASSPHRASE, "wrong")
    K.init_keys(keys, passphrase="pw", overwrite=True)
    with pytest.raises(K.SigningKeyError, match="passphrase does not decrypt"):
        K.load_signer(keys)                        # an intact file with the wrong passphrase


def test_key_folder_problems_have_one_sentence_messages(tmp_path, monkeypatch):
    monkeypatch.setenv(K.ENV_PASSPHRASE, "pw")
    keys = tmp_path / "keys"
    K.init_keys(keys, passphrase="pw")
    (keys / K.META_FILE).write_text("{}")
    with pytest.raises(K.SigningKeyError, match="damaged key metadata \\(no key_id\\)"):
        K.load_signer(keys)
    (keys / K.KEY_FILE).unlink()
    (keys / K.KEY_FILE).mkdir()
    with pytest.raises(K.SigningKeyError, match="is a folder, not a file"):
        K.load_signer(keys)


def test_cli_trust_add_list_remove_and_init_name(tmp_path, monkeypatch):
    from addin.cli.main import app
    monkeypatch.setenv(K.ENV_PASSPHRASE, "pw")
    runner = CliRunner()
    keys = tmp_path / "keys"
    r = runner.invoke(app, ["keys", "init", "--keys", str(keys), "--name", "Jane Analyst", "--json"])
    assert r.exit_code == 0, r.output
    assert json.loads(r.output)["operator_name"] == "Jane Analyst"
    assert K.operator_identity(keys).startswith("Jane Analyst (login ")
    ca = make_cert("Org Root CA")
    pem = tmp_path / "ca.pem"
    pem.write_bytes(ca.certificate.public_bytes(serialization.Encoding.PEM))
    r = runner.invoke(app, ["keys", "trust", "add", str(pem), "--keys", str(keys), "--json"])
    assert r.exit_code == 0, r.output
    listed = json.loads(runner.invoke(app, ["keys", "trust", "list", "--keys", str(keys), "--json"]).output)
    assert {c["subject"] for c in listed["certificates"]} == {"Rotation trial signer", "Org Root CA"}
    fp = fingerprint(ca.certificate)
    r = runner.invoke(app, ["keys", "trust", "remove", fp[:12], "--keys", str(keys), "--json"])
    assert r.exit_code == 0 and json.loads(r.output)["removed"] == [fp]
    weak = make_cert(key=rsa.generate_private_key(public_exponent=65537, key_size=1024))
    pem.write_bytes(weak.certificate.public_bytes(serialization.Encoding.PEM))
    r = runner.invoke(app, ["keys", "trust", "add", str(pem), "--keys", str(keys)])
    assert r.exit_code == 2 and "RSA key of 1024 bits" in r.output and "Traceback" not in r.output
