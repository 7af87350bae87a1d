"""The trust store: which certificates may sign audit workbooks.

A signature proves only that *someone* holding *a* key signed; the certificate inside the file says
nothing about who. ``verify`` therefore accepts a signature only when its certificate is

- pinned: its SHA-256 fingerprint (of the DER certificate) is in the trust store, or
- issued (directly or through the chain carried in the signature) by a CA certificate in the store,

and every certificate on that path was valid at the signing time recorded in the signature and
uses a strong key (RSA >= 2048 bits, or ECDSA on P-256, P-384 or P-521).

The store is a folder ``trust/`` inside the keys folder holding one PEM file per certificate, named
by its fingerprint. ``rotation keys init`` and ``keys import`` add the configured signer's
certificate; ``rotation keys trust add|list|remove`` manage the rest (the organisation's CA, a
colleague's approval certificate).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from engine.errors import ArgumentError, DataError
from workbooks.atomic import atomic_write_bytes

TRUST_DIR = "trust"
STRONG_CURVES = {"secp256r1", "secp384r1", "secp521r1"}
MIN_RSA_BITS = 2048
MAX_DEPTH = 5


def fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 (hex) of the certificate's DER bytes: what the ledger records and the store pins."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def key_weakness(cert: x509.Certificate) -> str | None:
    """Why the certificate's key is too weak to sign records, or None when it is strong enough."""
    pub = cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        if pub.key_size < MIN_RSA_BITS:
            return f"an RSA key of {pub.key_size} bits (at least {MIN_RSA_BITS} are required)"
        return None
    if isinstance(pub, ec.EllipticCurvePublicKey):
        if pub.curve.name not in STRONG_CURVES:
            return f"an ECDSA key on {pub.curve.name} (P-256, P-384 or P-521 are required)"
        return None
    return f"a {type(pub).__name__} key (RSA or ECDSA are required)"


def validity_problem(cert: x509.Certificate, when: dt.datetime) -> str | None:
    """Why ``cert`` was not valid at ``when`` (aware UTC), or None."""
    if when < cert.not_valid_before_utc:
        return f"was not yet valid at {when:%Y-%m-%d %H:%M} UTC (valid from {cert.not_valid_before_utc:%Y-%m-%d})"
    if when > cert.not_valid_after_utc:
        return f"had expired at {when:%Y-%m-%d %H:%M} UTC (valid until {cert.not_valid_after_utc:%Y-%m-%d})"
    return None


def _name(cert: x509.Certificate) -> str:
    from workbooks.keys import subject_name
    return subject_name(cert)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    if cert.issuer != issuer.subject:
        return False
    try:
        cert.verify_directly_issued_by(issuer)
    except Exception:  # InvalidSignature, ValueError, TypeError for unsupported combinations
        return False
    return True


@dataclass(frozen=True)
class TrustDecision:
    """Outcome of :meth:`TrustStore.check`: ``trusted`` and, when not, the sentence saying why."""
    trusted: bool
    reason: str
    how: str = ""          # "pinned" or "issued by <CA>"


class TrustStore:
    """The trusted certificates in ``folder`` (one PEM per certificate, named by fingerprint)."""

    def __init__(self, folder: str | os.PathLike, extra: list[x509.Certificate] | None = None):
        self.folder = Path(folder)
        self.extra = list(extra or [])     # trusted in memory only (the demo's ephemeral certificate)

    @classmethod
    def for_keys(cls, keys_dir: str | os.PathLike | None = None) -> "TrustStore":
        """The trust store inside the keys folder (``$ROTATION_KEYS_DIR`` or the user config dir)."""
        from workbooks.keys import resolve_keys_dir
        return cls(resolve_keys_dir(keys_dir) / TRUST_DIR)

    def certificates(self) -> dict[str, x509.Certificate]:
        """Fingerprint -> certificate of every readable PEM in the store."""
        out: dict[str, x509.Certificate] = {fingerprint(c): c for c in self.extra}
        if not self.folder.is_dir():
            return out
        for pem in sorted(self.folder.glob("*.pem")):
            try:
                cert = x509.load_pem_x509_certificate(pem.read_bytes())
            except ValueError as exc:
                raise DataError(f"damaged certificate in the trust store ({exc})", file=str(pem)) from exc
            out[fingerprint(cert)] = cert
        return out

    def add(self, cert: x509.Certificate) -> str:
        """Trust ``cert`` (refused when its key is weak); returns its fingerprint."""
        weak = key_weakness(cert)
        if weak:
            raise ArgumentError("certificate", f"{_name(cert)!r} has {weak}; it cannot be trusted to sign records")
        fp = fingerprint(cert)
        self.folder.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(self.folder / f"{fp}.pem", cert.public_bytes(serialization.Encoding.PEM))
        return fp

    def add_file(self, path: str | os.PathLike) -> list[str]:
        """Trust every certificate in a PEM (or DER) file; returns their fingerprints."""
        src = Path(path)
        if not src.is_file():
            raise ArgumentError("cert", f"certificate file {str(src)!r} not found")
        data = src.read_bytes()
        try:
            certs = x509.load_pem_x509_certificates(data) if b"-----BEGIN" in data else \
                [x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            raise ArgumentError("cert", f"{src} is not a PEM or DER X.509 certificate ({exc})") from exc
        return [self.add(c) for c in certs]

    def remove(self, prefix: str) -> str:
        """Stop trusting the certificate whose fingerprint starts with ``prefix`` (8+ hex digits)."""
        prefix = prefix.lower().replace(":", "")
        if len(prefix) < 8:
            raise ArgumentError("fingerprint", "give at least 8 hex digits of the SHA-256 fingerprint")
        hits = [fp for fp in self.certificates() if fp.startswith(prefix)]
        if len(hits) != 1:
            raise ArgumentError("fingerprint", f"{prefix!r} matches {len(hits)} trusted certificates; expected one")
        (self.folder / f"{hits[0]}.pem").unlink()
        return hits[0]

    def describe(self) -> list[dict]:
        """One dict per trusted certificate (fingerprint, subject, issuer, CA, validity, key)."""
        rows = []
        for fp, c in self.certificates().items():
            rows.append({"fingerprint": fp, "subject": _name(c), "issuer": c.issuer.rfc4514_string(),
                         "ca": _is_ca(c), "not_before": c.not_valid_before_utc.isoformat(),
                         "not_after": c.not_valid_after_utc.isoformat(), "key": type(c.public_key()).__name__})
        return rows

    def check(self, cert: x509.Certificate, when: dt.datetime | None,
              chain: list[x509.Certificate] | None = None) -> TrustDecision:
        """Is ``cert`` trusted for a signature made at ``when``? (see the module doc)."""
        if when is None:
            return TrustDecision(False, "the signature records no signing time")
        trusted = self.certificates()
        if not trusted:
            return TrustDecision(False, f"the trust store {self.folder} is empty: add the signer's certificate or "
                                        "the organisation's CA with `rotation keys trust add`")
        pool = list(chain or []) + list(trusted.values())
        current = cert
        for _depth in range(MAX_DEPTH):
            problem = key_weakness(current)
            if problem:
                return TrustDecision(False, f"certificate {_name(current)!r} has {problem}")
            problem = validity_problem(current, when)
            if problem:
                return TrustDecision(False, f"certificate {_name(current)!r} {problem}")
            if fingerprint(current) in trusted:
                how = "pinned" if current is cert else f"issued by trusted CA {_name(current)!r}"
                return TrustDecision(True, "", how)
            issuer = next((c for c in pool if c is not current and _is_ca(c) and _issued_by(current, c)), None)
            if issuer is None:
                return TrustDecision(False, f"certificate {_name(cert)!r} (SHA-256 {fingerprint(cert)[:16]}...) is "
                                            "neither in the trust store nor issued by a trusted CA")
            current = issuer
        return TrustDecision(False, "the certificate chain is too long")


def parse_time(text: str | None) -> dt.datetime | None:
    """An ISO 8601 signing time (``Z`` or offset) as an aware UTC datetime, or None."""
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc)
