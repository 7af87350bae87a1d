"""Detached CMS/PKCS#7 signature (``BOOK.xlsx.p7s``) over the exact bytes of a file.

Made with cryptography's ``PKCS7SignatureBuilder`` (SHA-256, DER, detached, binary), so anyone
can check it without this product::

    openssl cms -verify -binary -inform DER -in BOOK.xlsx.p7s -content BOOK.xlsx -CAfile cert.pem -purpose any

cryptography has no CMS verifier, so :func:`verify_cms` reads the DER itself (a small TLV
reader): it finds the signer's certificate by issuer and serial number, checks the signed
``messageDigest`` attribute against the SHA-256 of the content, and verifies the signature over
the DER of the signed attributes with the certificate's public key. Trust in the certificate
(a CA chain) is not decided here.
"""
from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.serialization import pkcs7

OID_SIGNED_DATA = "1.2.840.113549.1.7.2"
OID_MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
OID_SIGNING_TIME = "1.2.840.113549.1.9.5"
DIGESTS = {"2.16.840.1.101.3.4.2.1": hashes.SHA256, "2.16.840.1.101.3.4.2.2": hashes.SHA384,
           "2.16.840.1.101.3.4.2.3": hashes.SHA512}


def sign_cms(data: bytes, signer) -> bytes:
    """DER detached CMS SignedData over ``data`` by ``signer`` (key, certificate, chain)."""
    builder = pkcs7.PKCS7SignatureBuilder().set_data(data).add_signer(
        signer.certificate, signer.key, hashes.SHA256())
    for cert in signer.chain:
        builder = builder.add_certificate(cert)
    return builder.sign(serialization.Encoding.DER,
                        [pkcs7.PKCS7Options.DetachedSignature, pkcs7.PKCS7Options.Binary])


# --------------------------------------------------------------------------- DER reading
class _Der(ValueError):
    pass


def _tlv(buf: bytes, pos: int) -> tuple[int, int, int, int]:
    """(tag, header_start, content_start, end) of the TLV at ``pos``."""
    if pos + 2 > len(buf):
        raise _Der("truncated")
    tag = buf[pos]
    if tag & 0x1F == 0x1F:
        raise _Der("high tag numbers are not used in CMS")
    n = buf[pos + 1]
    i = pos + 2
    if n & 0x80:
        k = n & 0x7F
        if k == 0 or k > 4:
            raise _Der("indefinite or oversized length (BER is not accepted)")
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    if i + n > len(buf):
        raise _Der("length beyond the end")
    return tag, pos, i, i + n


def _children(buf: bytes, start: int, end: int) -> list[tuple[int, int, int, int]]:
    out, pos = [], start
    while pos < end:
        t = _tlv(buf, pos)
        out.append(t)
        pos = t[3]
    return out


def _oid(buf: bytes, t) -> str:
    if t[0] != 0x06:
        raise _Der("expected an OID")
    raw = buf[t[2]:t[3]]
    first = raw[0]
    parts = [min(first // 40, 2), first - 40 * min(first // 40, 2)]
    val = 0
    for b in raw[1:]:
        val = (val << 7) | (b & 0x7F)
        if not b & 0x80:
            parts.append(val)
            val = 0
    return ".".join(map(str, parts))


@dataclass
class CmsCheck:
    """Outcome of checking a detached CMS signature."""
    valid: bool = False
    signer: str | None = None
    signed_at: str | None = None
    certificate: x509.Certificate | None = None
    problems: list[str] = field(default_factory=list)


def _time(buf: bytes, t) -> str | None:
    text = buf[t[2]:t[3]].decode("ascii")
    try:
        if t[0] == 0x17:  # UTCTime YYMMDDHHMMSSZ
            when = dt.datetime.strptime(text, "%y%m%d%H%M%SZ")
        else:
            when = dt.datetime.strptime(text, "%Y%m%d%H%M%SZ")
    except ValueError:
        return None
    return when.replace(tzinfo=dt.timezone.utc).isoformat()


def verify_cms(p7s: bytes, content: bytes) -> CmsCheck:
    """Check a DER detached CMS signature ``p7s`` over ``content``; never raises for a bad one."""
    res = CmsCheck()
    try:
        _verify(p7s, content, res)
    except (_Der, IndexError, ValueError, UnicodeDecodeError) as exc:
        res.problems.append(f"the .p7s is not a readable DER CMS signature ({exc})")
    res.valid = not res.problems and res.certificate is not None
    return res


def _verify(b: bytes, content: bytes, res: CmsCheck) -> None:
    ci = _tlv(b, 0)
    ct, sd0 = _children(b, ci[2], ci[3])[:2]
    if _oid(b, ct) != OID_SIGNED_DATA or sd0[0] != 0xA0:
        raise _Der("not a CMS SignedData")
    sd = _tlv(b, sd0[2])
    items = _children(b, sd[2], sd[3])
    encap = items[2]
    if any(c[0] == 0xA0 for c in _children(b, encap[2], encap[3])):
        res.problems.append("the .p7s embeds its content; a detached signature is expected")
    certs = []
    for it in items[3:]:
        if it[0] == 0xA0:
            certs = [x509.load_der_x509_certificate(b[c[1]:c[3]]) for c in _children(b, it[2], it[3])]
    signer_infos = _children(b, items[-1][2], items[-1][3])
    if len(signer_infos) != 1:
        res.problems.append(f"the .p7s has {len(signer_infos)} signers; one is expected")
        if not signer_infos:
            return
    si = _children(b, signer_infos[0][2], signer_infos[0][3])
    sid, digest_alg = si[1], si[2]
    if sid[0] != 0x30:
        raise _Der("signer identified by key id; issuer and serial expected")
    issuer, serial = _children(b, sid[2], sid[3])
    issuer_der, serial_n = b[issuer[1]:issuer[3]], int.from_bytes(b[serial[2]:serial[3]], "big", signed=True)
    cert = next((c for c in certs if c.serial_number == serial_n and c.issuer.public_bytes() == issuer_der), None)
    if cert is None:
        res.problems.append("the signer's certificate is not included in the .p7s")
        return
    res.certificate = cert
    from workbooks.keys import subject_name
    res.signer = subject_name(cert)
    halg = DIGESTS.get(_oid(b, _children(b, digest_alg[2], digest_alg[3])[0]))
    if halg is None:
        res.problems.append("unsupported digest algorithm in the .p7s")
        return
    attrs = next((x for x in si[3:] if x[0] == 0xA0), None)
    if attrs is None:
        res.problems.append("the .p7s has no signed attributes")
        return
    sig = next(x for x in si[3:] if x[0] == 0x04)
    h = hashes.Hash(halg())
    h.update(content)
    digest = h.finalize()
    md = None
    for a in _children(b, attrs[2], attrs[3]):
        oid_t, values = _children(b, a[2], a[3])
        vals = _children(b, values[2], values[3])
        oid = _oid(b, oid_t)
        if oid == OID_MESSAGE_DIGEST:
            md = b[vals[0][2]:vals[0][3]]
        elif oid == OID_SIGNING_TIME:
            res.signed_at = _time(b, vals[0])
    if md != digest:
        res.problems.append("the file's bytes differ from what the .p7s signed (message digest mismatch)")
    signed = b"\x31" + b[attrs[1] + 1:attrs[3]]
    value = b[sig[2]:sig[3]]
    pub = cert.public_key()
    try:
        if isinstance(pub, ec.EllipticCurvePublicKey):
            pub.verify(value, signed, ec.ECDSA(halg()))
        elif isinstance(pub, rsa.RSAPublicKey):
            pub.verify(value, signed, padding.PKCS1v15(), halg())
        else:
            res.problems.append("unsupported key type in the .p7s signer certificate")
    except InvalidSignature:
        res.problems.append("the .p7s signature value does not verify with the signer's certificate")


def file_sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
