"""Detached CMS (.p7s): openssl accepts ours and rejects edits; our DER verifier agrees with
openssl, including on signatures openssl made itself."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lo_helpers import make_sample_workbook, trial_signer, write_cert_pem  # noqa: E402

from workbooks.sign import sign_workbook  # noqa: E402
from workbooks.sign_cms import sign_cms, verify_cms  # noqa: E402

needs_openssl = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")


def openssl_verify(p7s: Path, content: Path, ca: Path) -> int:
    return subprocess.run(["openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", str(p7s),
                           "-content", str(content), "-CAfile", str(ca), "-purpose", "any", "-out", "/dev/null"],
                          capture_output=True).returncode


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    d = tmp_path_factory.mktemp("cms")
    signer = trial_signer(d / "keys")
    book = make_sample_workbook(d / "book.xlsx")
    info = sign_workbook(book, signer)
    return {"d": d, "signer": signer, "book": book, "info": info, "ca": d / "keys" / "cert.pem"}


@needs_openssl
def test_openssl_accepts_then_rejects_after_edit(setup, tmp_path):
    assert setup["info"].p7s_path == setup["book"].with_name("book.xlsx.p7s")
    assert openssl_verify(setup["info"].p7s_path, setup["book"], setup["ca"]) == 0
    edited = tmp_path / "book.xlsx"
    data = bytearray(setup["book"].read_bytes())
    data[len(data) // 2] ^= 0x01
    edited.write_bytes(bytes(data))
    assert openssl_verify(setup["info"].p7s_path, edited, setup["ca"]) != 0
    other = trial_signer(tmp_path / "other", subject="Someone else")
    assert openssl_verify(setup["info"].p7s_path, setup["book"], write_cert_pem(other, tmp_path / "o.pem")) != 0


def test_python_verifier(setup):
    p7s = setup["info"].p7s_path.read_bytes()
    data = setup["book"].read_bytes()
    res = verify_cms(p7s, data)
    assert res.valid and res.problems == [] and res.signer == "Test Signer"
    assert res.certificate == setup["signer"].certificate
    assert res.signed_at[:16] == setup["info"].signed_at[:16].replace("Z", "")
    bad = verify_cms(p7s, data + b"\0")
    assert not bad.valid and any("message digest" in p for p in bad.problems)
    # flip a byte inside the signature value (the last bytes of the DER)
    forged = bytearray(p7s)
    forged[-5] ^= 0x01
    assert not verify_cms(bytes(forged), data).valid
    for junk in (b"", b"\x30\x03\x02\x01", p7s[:40], b"hello world"):
        r = verify_cms(junk, data)
        assert not r.valid and r.problems


@needs_openssl
def test_python_verifier_agrees_with_openssl_made_signatures(setup, tmp_path):
    signer = setup["signer"]
    key_pem = tmp_path / "key.pem"
    key_pem.write_bytes(signer.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                 serialization.NoEncryption()))
    cert_pem = write_cert_pem(signer, tmp_path / "cert.pem")
    content = tmp_path / "payload.bin"
    content.write_bytes(bytes(range(256)) * 40)
    p7s = tmp_path / "payload.p7s"
    subprocess.run(["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-md", "sha256", "-in", str(content),
                    "-signer", str(cert_pem), "-inkey", str(key_pem), "-out", str(p7s)], check=True,
                   capture_output=True)
    assert verify_cms(p7s.read_bytes(), content.read_bytes()).valid
    assert not verify_cms(p7s.read_bytes(), content.read_bytes()[:-1]).valid
    # and openssl verifies what our builder makes over the same bytes (RSA signer too)
    rsa_signer = trial_signer(tmp_path, subject="RSA", rsa_key=True)
    ours = tmp_path / "ours.p7s"
    ours.write_bytes(sign_cms(content.read_bytes(), rsa_signer))
    assert openssl_verify(ours, content, write_cert_pem(rsa_signer, tmp_path / "rsa.pem")) == 0
    assert verify_cms(ours.read_bytes(), content.read_bytes()).valid
