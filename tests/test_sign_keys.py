"""Signing keys: encrypted key file, passphrase in keyring (in-memory backend) or env, clear errors."""
from __future__ import annotations

import json

import keyring
import keyring.backend
import keyring.backends.fail
import keyring.backends.null
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from engine.errors import ArgumentError, RotationError
from workbooks import keys as K


class MemoryKeyring(keyring.backend.KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def mem_keyring(monkeypatch):
    monkeypatch.delenv(K.ENV_PASSPHRASE, raising=False)
    previous = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(previous)


@pytest.fixture
def backend():
    previous = keyring.get_keyring()
    yield lambda kr: keyring.set_keyring(kr)
    keyring.set_keyring(previous)


def test_init_stores_encrypted_key_and_passphrase_in_keyring(tmp_path, mem_keyring):
    path = K.init_keys(tmp_path, subject="Jane PM")
    meta = json.loads((tmp_path / K.META_FILE).read_text())
    secret = mem_keyring.store[(K.SERVICE, f"signing-key-{meta['key_id']}")]
    assert len(secret) >= 32
    blob = path.read_bytes()
    with pytest.raises(ValueError):            # encrypted: no password, no key
        pkcs12.load_key_and_certificates(blob, None)
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(blob, b"wrong")
    signer = K.load_signer(tmp_path)
    assert signer.subject == "Jane PM"
    assert isinstance(signer.key, ec.EllipticCurvePrivateKey) and signer.key.curve.name == "secp256r1"
    assert signer.key_id == meta["key_id"] == K.key_id_of(signer.certificate)
    # the certificate is self-signed and its signature verifies
    cert = signer.certificate
    cert.public_key().verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(hashes.SHA256()))
    pem = x509.load_pem_x509_certificates((tmp_path / K.CERT_FILE).read_bytes())
    assert pem == [cert]
    with pytest.raises(ArgumentError, match="already exists"):
        K.init_keys(tmp_path)


def test_env_passphrase_wins_and_no_keyring_needed(tmp_path, monkeypatch, backend):
    backend(keyring.backends.fail.Keyring())
    monkeypatch.setenv(K.ENV_PASSPHRASE, "correct horse battery staple")
    K.init_keys(tmp_path)
    assert pkcs12.load_key_and_certificates((tmp_path / K.KEY_FILE).read_bytes(),
                                            b"correct horse battery staple")[0] is not None
    assert K.load_signer(tmp_path).subject == "Rotation trial signer"
    monkeypatch.setenv(K.ENV_PASSPHRASE, "wrong")
    with pytest.raises(K.SigningKeyError, match="does not decrypt"):
        K.load_signer(tmp_path)


def test_no_keyring_backend_message_names_env_variable(tmp_path, monkeypatch, backend):
    monkeypatch.delenv(K.ENV_PASSPHRASE, raising=False)
    backend(keyring.backends.fail.Keyring())
    with pytest.raises(RotationError, match="no keyring backend.*ROTATION_SIGNING_PASSPHRASE"):
        K.init_keys(tmp_path)
    K.init_keys(tmp_path, passphrase="given-explicitly")      # explicit passphrase: nothing stored
    with pytest.raises(K.SigningKeyError, match="no keyring backend.*ROTATION_SIGNING_PASSPHRASE"):
        K.load_signer(tmp_path)


def test_null_backend_secret_missing(tmp_path, mem_keyring, backend):
    K.init_keys(tmp_path)
    backend(keyring.backends.null.Keyring())
    with pytest.raises(K.SigningKeyError, match="holds no passphrase.*ROTATION_SIGNING_PASSPHRASE"):
        K.load_signer(tmp_path)


def test_missing_key_and_keys_dir_resolution(tmp_path, monkeypatch, mem_keyring):
    with pytest.raises(K.SigningKeyError, match="rotation keys init"):
        K.load_signer(tmp_path / "empty")
    monkeypatch.setenv(K.ENV_KEYS_DIR, str(tmp_path / "from-env"))
    assert K.resolve_keys_dir() == tmp_path / "from-env"
    assert K.resolve_keys_dir(tmp_path / "arg") == tmp_path / "arg"
    monkeypatch.delenv(K.ENV_KEYS_DIR)
    assert K.resolve_keys_dir().parts[-2:] == ("sector-rotation", "keys")


def _company_p12(tmp_path, password: bytes):
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Root CA")])
    import datetime as dt
    now = dt.datetime.now(dt.timezone.utc)
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(1).not_valid_before(now).not_valid_after(now + dt.timedelta(days=30))
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Acme Asset Management")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(2)
            .not_valid_before(now).not_valid_after(now + dt.timedelta(days=30)).sign(ca_key, hashes.SHA256()))
    p = tmp_path / "company.p12"
    p.write_bytes(pkcs12.serialize_key_and_certificates(b"acme", key, cert, [ca],
                                                        serialization.BestAvailableEncryption(password)))
    return p, ca


def test_import_company_p12_with_chain(tmp_path, mem_keyring):
    p12, ca = _company_p12(tmp_path, b"s3cret")
    with pytest.raises(K.SigningKeyError, match="wrong password"):
        K.import_p12(p12, "nope", tmp_path / "keys")
    K.import_p12(p12, "s3cret", tmp_path / "keys")
    signer = K.load_signer(tmp_path / "keys")
    assert signer.subject == "Acme Asset Management"
    assert isinstance(signer.key, rsa.RSAPrivateKey)
    assert signer.chain == [ca]
    # stored re-encrypted under the product's passphrase, not the company password
    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates((tmp_path / "keys" / K.KEY_FILE).read_bytes(), b"s3cret")


def test_import_rejects_ed25519(tmp_path, mem_keyring):
    from cryptography.hazmat.primitives.asymmetric import ed25519
    import datetime as dt
    key = ed25519.Ed25519PrivateKey.generate()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ed")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(5).not_valid_before(now).not_valid_after(now + dt.timedelta(days=1)).sign(key, None))
    p = tmp_path / "ed.p12"
    p.write_bytes(pkcs12.serialize_key_and_certificates(b"ed", key, cert, None, serialization.NoEncryption()))
    with pytest.raises(K.SigningKeyError, match="RSA or ECDSA"):
        K.import_p12(p, None, tmp_path / "keys")


def test_ensure_signer_makes_a_trial_key_once(tmp_path, mem_keyring):
    s1 = K.ensure_signer(tmp_path / "k")
    s2 = K.ensure_signer(tmp_path / "k")
    assert s1.key_id == s2.key_id and s1.subject == "Rotation trial signer"
    assert len(mem_keyring.store) == 1
