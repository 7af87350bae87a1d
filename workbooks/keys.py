"""Signing keys: a trial self-signed certificate or a company certificate (PKCS#12).

The private key never leaves its file unencrypted: ``signer.p12`` in the keys folder is a
PKCS#12 encrypted with a passphrase; only the passphrase goes into the OS credential store
(keyring service ``sector-rotation``, user ``signing-key-<key id>``). A P-256 key keeps the
secret far below Windows Credential Manager's 2,560-byte limit (only the passphrase is stored
anyway). Beside it: ``signer.json`` (key id, subject, keyring user, the SHA-256 of ``signer.p12`` so
that a damaged key file is called damaged, and the operator's configured name) and ``cert.pem`` (the
certificate and chain, for ``openssl cms -verify -CAfile``). The certificate is also added to the
trust store (:mod:`workbooks.trust`) that ``verify`` accepts signatures from.

``keys import`` refuses a certificate that is expired, not yet valid or weak (RSA below 2048 bits,
ECDSA below P-256), and an existing key without ``overwrite``.

Passphrase lookup when signing: environment variable ``ROTATION_SIGNING_PASSPHRASE`` first,
then keyring. On a machine with no keyring backend (headless server, CI) a
:class:`SigningKeyError` says so and names the environment variable.

Keys folder: argument, else ``ROTATION_KEYS_DIR``, else the platform's user config directory
``sector-rotation/keys``.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from engine.errors import ArgumentError, RotationError
from workbooks.atomic import atomic_write_bytes

log = logging.getLogger(__name__)

SERVICE = "sector-rotation"
ENV_PASSPHRASE = "ROTATION_SIGNING_PASSPHRASE"
ENV_KEYS_DIR = "ROTATION_KEYS_DIR"
KEY_FILE = "signer.p12"
META_FILE = "signer.json"
CERT_FILE = "cert.pem"


class SigningKeyError(RotationError):
    """The signing key or its passphrase is missing or unusable; the message says what to do."""


@dataclass(frozen=True)
class Signer:
    """A private key with its certificate and (possibly empty) chain of issuer certificates."""
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    certificate: x509.Certificate
    chain: list[x509.Certificate] = field(default_factory=list)
    key_id: str = ""

    @property
    def subject(self) -> str:
        """The certificate's common name (or its full subject when it has none)."""
        return subject_name(self.certificate)


def subject_name(cert: x509.Certificate) -> str:
    cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string()


def resolve_keys_dir(path: str | os.PathLike | None = None) -> Path:
    """The keys folder: ``path``, else ``$ROTATION_KEYS_DIR``, else the user config dir."""
    if path:
        return Path(path).expanduser()
    env = os.environ.get(ENV_KEYS_DIR)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_config_dir("sector-rotation", appauthor=False)) / "keys"


def key_id_of(cert: x509.Certificate) -> str:
    """First 16 hex digits of the SHA-256 of the certificate's public key (SubjectPublicKeyInfo)."""
    spki = cert.public_key().public_bytes(serialization.Encoding.DER,
                                          serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).hexdigest()[:16]


def keyring_user(key_id: str) -> str:
    return f"signing-key-{key_id}"


def _no_backend_message(action: str) -> str:
    return (f"cannot {action}: no keyring backend is available on this machine (a headless server or CI). "
            f"Set the environment variable {ENV_PASSPHRASE} to the signing key's passphrase instead.")


def _store_passphrase(key_id: str, passphrase: str) -> None:
    import keyring          # here, not at module top: `rotation verify` never needs keyring (80 ms)
    import keyring.errors

    try:
        keyring.set_password(SERVICE, keyring_user(key_id), passphrase)
    except keyring.errors.NoKeyringError as exc:
        raise SigningKeyError(_no_backend_message("store the signing key's passphrase")) from exc
    except keyring.errors.KeyringError as exc:
        raise SigningKeyError(f"cannot store the signing key's passphrase in keyring: {exc}. "
                              f"Set {ENV_PASSPHRASE} instead.") from exc


def _new_passphrase(given: str | None) -> tuple[str, bool]:
    """(passphrase, must_store_in_keyring)."""
    if given:
        return given, False
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env, False
    return secrets.token_urlsafe(32), True


def _save(folder: Path, key, cert: x509.Certificate, chain: list[x509.Certificate],
          passphrase: str | None, operator_name: str | None = None) -> Path:
    if not isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)):
        raise ArgumentError("key", f"{type(key).__name__} keys cannot sign Office documents; "
                                   "use an ECDSA (P-256/P-384) or RSA certificate")
    folder.mkdir(parents=True, exist_ok=True)
    kid = key_id_of(cert)
    secret, store = _new_passphrase(passphrase)
    if store:
        _store_passphrase(kid, secret)
    blob = pkcs12.serialize_key_and_certificates(
        b"rotation-signer", key, cert, chain or None,
        serialization.BestAvailableEncryption(secret.encode("utf-8")))
    key_path = folder / KEY_FILE
    atomic_write_bytes(key_path, blob)
    os.chmod(key_path, 0o600)
    from workbooks.trust import TrustStore, fingerprint
    TrustStore(folder / "trust").add(cert)
    pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in [cert, *chain])
    atomic_write_bytes(folder / CERT_FILE, pem)
    meta = {"key_id": kid, "subject": subject_name(cert), "keyring_service": SERVICE,
            "keyring_user": keyring_user(kid), "passphrase_in_keyring": store,
            "not_after": cert.not_valid_after_utc.isoformat(), "issuer": cert.issuer.rfc4514_string(),
            "serial": str(cert.serial_number), "key_type": type(key.public_key()).__name__,
            "key_file_sha256": hashlib.sha256(blob).hexdigest(), "cert_sha256": fingerprint(cert)}
    if operator_name and operator_name.strip():
        meta["operator_name"] = operator_name.strip()
    atomic_write_bytes(folder / META_FILE, json.dumps(meta, indent=2).encode("utf-8"))
    log.info("signing key %s stored in %s", kid, folder)
    return key_path


def init_keys(keys_dir: str | os.PathLike | None = None, subject: str = "Rotation trial signer",
              passphrase: str | None = None, days: int = 730, overwrite: bool = False,
              name: str | None = None) -> Path:
    """Make a self-signed ECDSA P-256 certificate for trials; return the path of ``signer.p12``.

    The key is stored encrypted with ``passphrase``, else ``$ROTATION_SIGNING_PASSPHRASE``, else a
    generated passphrase kept in keyring (SigningKeyError when keyring has no backend).
    Refuses to replace an existing key unless ``overwrite``. ``name`` is the operator's name recorded
    beside the login name in every export (default: the certificate subject).
    """
    folder = resolve_keys_dir(keys_dir)
    if (folder / KEY_FILE).exists() and not overwrite:
        raise ArgumentError("--keys", f"a signing key already exists in {folder}; "
                                      "use another folder or overwrite it explicitly")
    if not subject or not subject.strip():
        raise ArgumentError("subject", "must be a non-empty name")
    key = ec.generate_private_key(ec.SECP256R1())
    dn = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject.strip()),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Sector Rotation (trial)")])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(dn).issuer_name(dn)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CODE_SIGNING,
                                                  ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return _save(folder, key, cert, [], passphrase, name)


def _refuse_unusable(src: Path, cert: x509.Certificate) -> None:
    from workbooks.trust import key_weakness, validity_problem
    weak = key_weakness(cert)
    if weak:
        raise SigningKeyError(f"{src}: the certificate has {weak}; records must be signed with a strong key")
    problem = validity_problem(cert, dt.datetime.now(dt.timezone.utc))
    if problem:
        raise SigningKeyError(f"{src}: the certificate {problem}; it cannot sign records")


def import_p12(path: str | os.PathLike, password: str | bytes | None,
               keys_dir: str | os.PathLike | None = None, overwrite: bool = False,
               name: str | None = None) -> Path:
    """Take a company certificate from a PKCS#12 file (key + certificate + chain).

    The key is re-encrypted under the product's passphrase (env or generated into keyring).
    Raises SigningKeyError for a missing file or wrong password, ArgumentError for a key type
    that cannot sign Office documents; refuses an expired, not-yet-valid or weak certificate and an
    existing key unless ``overwrite``. Returns the path of the stored ``signer.p12``.
    """
    src = Path(path)
    if not src.is_file():
        raise SigningKeyError(f"{src}: certificate file not found")
    pw = password.encode("utf-8") if isinstance(password, str) else password
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(src.read_bytes(), pw or None)
    except ValueError as exc:
        raise SigningKeyError(f"{src}: cannot open the PKCS#12 file (wrong password, or not a .p12/.pfx)") from exc
    if key is None or cert is None:
        raise SigningKeyError(f"{src}: the PKCS#12 file must hold a private key and its certificate")
    _refuse_unusable(src, cert)
    folder = resolve_keys_dir(keys_dir)
    if (folder / KEY_FILE).exists() and not overwrite:
        raise ArgumentError("--keys", f"a signing key already exists in {folder}; pass --overwrite to replace it")
    return _save(folder, key, cert, list(chain or []), None, name)


def read_meta(keys_dir: str | os.PathLike | None = None) -> dict:
    """The ``signer.json`` metadata (key id, subject, keyring user, validity)."""
    folder = resolve_keys_dir(keys_dir)
    meta_path = folder / META_FILE
    for p in (folder / KEY_FILE, meta_path):
        if p.exists() and not p.is_file():
            raise SigningKeyError(f"{p} is a folder, not a file: move it away and run `rotation keys init` "
                                  "or `rotation keys import cert.p12`")
    if not (folder / KEY_FILE).exists() or not meta_path.exists():
        raise SigningKeyError(f"no signing key in {folder}: run `rotation keys init` (trial certificate) "
                              f"or `rotation keys import cert.p12`, or point --keys/{ENV_KEYS_DIR} at the keys folder")
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SigningKeyError(f"{meta_path}: damaged key metadata (not JSON: {exc})") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("key_id"), str) or not meta["key_id"]:
        raise SigningKeyError(f"{meta_path}: damaged key metadata (no key_id); run `rotation keys init --overwrite` "
                              "or `rotation keys import cert.p12 --overwrite`")
    return meta


def _passphrase(meta: dict) -> str:
    env = os.environ.get(ENV_PASSPHRASE)
    if env:
        return env
    user = meta.get("keyring_user") or keyring_user(meta["key_id"])
    import keyring
    import keyring.errors

    try:
        secret = keyring.get_password(SERVICE, user)
    except keyring.errors.NoKeyringError as exc:
        raise SigningKeyError(_no_backend_message("read the signing key's passphrase")) from exc
    except keyring.errors.KeyringError as exc:
        raise SigningKeyError(f"cannot read the signing key's passphrase from keyring: {exc}. "
                              f"Set {ENV_PASSPHRASE} instead.") from exc
    if secret is None:
        raise SigningKeyError(f"keyring holds no passphrase for {SERVICE}/{user}: set {ENV_PASSPHRASE} "
                              "to the passphrase, or make a new key with `rotation keys init`")
    return secret


def load_signer(keys_dir: str | os.PathLike | None = None) -> Signer:
    """Decrypt the stored key and return the Signer (key, certificate, chain, key id).

    Raises SigningKeyError when the key is missing, the passphrase cannot be found (no keyring
    backend, nothing stored) or does not decrypt the key.
    """
    folder = resolve_keys_dir(keys_dir)
    meta = read_meta(folder)
    blob = (folder / KEY_FILE).read_bytes()
    recorded = meta.get("key_file_sha256")
    if (recorded and hashlib.sha256(blob).hexdigest() != recorded) or not _looks_complete(blob):
        raise SigningKeyError(f"{folder / KEY_FILE}: the key file is damaged (its bytes differ from those stored "
                              "by `rotation keys init/import`); restore it from a backup or make a new key")
    secret = _passphrase(meta)
    try:
        key, cert, chain = pkcs12.load_key_and_certificates(blob, secret.encode("utf-8"))
    except ValueError as exc:
        raise SigningKeyError(f"{folder / KEY_FILE}: the passphrase does not decrypt the signing key "
                              f"(check {ENV_PASSPHRASE} or the keyring entry)") from exc
    if key is None or cert is None:
        raise SigningKeyError(f"{folder / KEY_FILE}: holds no private key and certificate")
    return Signer(key=key, certificate=cert, chain=list(chain or []), key_id=key_id_of(cert))


def _looks_complete(blob: bytes) -> bool:
    """True when ``blob`` is one complete DER SEQUENCE (a truncated or padded file is not)."""
    if len(blob) < 4 or blob[0] != 0x30:
        return False
    n = blob[1]
    if n < 0x80:
        return 2 + n == len(blob)
    k = n & 0x7F
    if k == 0 or k > 4 or len(blob) < 2 + k:
        return False
    return 2 + k + int.from_bytes(blob[2:2 + k], "big") == len(blob)


def operator_identity(keys_dir: str | os.PathLike | None = None) -> str:
    """``"Configured Name (login)"`` when ``keys init --name`` recorded a name, else the login name."""
    from workbooks.ledger import current_operator
    login = current_operator()
    try:
        name = read_meta(keys_dir).get("operator_name")
    except SigningKeyError:
        name = None
    return f"{name} (login {login})" if name and name != login else login


def ensure_signer(keys_dir: str | os.PathLike | None = None, subject: str = "Rotation trial signer") -> Signer:
    """The stored signer, or (first run, no key yet) a new trial certificate made by
    :func:`init_keys`, then loaded. For `rotation demo`/`export` on a fresh machine."""
    folder = resolve_keys_dir(keys_dir)
    if not (folder / KEY_FILE).exists():
        log.info("no signing key in %s: making a trial certificate", folder)
        init_keys(folder, subject=subject)
    return load_signer(folder)
