"""Embedded Office XML digital signature of an .xlsx package (ECMA-376 Part 2; [MS-OFFCRYPTO] 2.5.2).

``sign_package(data, signer, when) -> bytes`` returns the package with
``_xmlsignatures/sig1.xml`` (plus ``origin.sigs``, its relationships and content types) added;
``verify_package(data) -> OoxmlCheck`` recomputes every digest and checks the signature value.

The signature is W3C XML-DSig with inclusive C14N and three references in SignedInfo:
``#idPackageObject`` (a Manifest with one Reference per signed part; ``.rels`` parts go through
the OPC RelationshipTransform, then C14N; plus ``mdssi:SignatureTime``), ``#idOfficeObject``
(``SignatureInfoV1``) and ``#idSignedProperties`` (XAdES-EPES: SigningTime, SigningCertificate,
implied signature policy). Not signed, by design: ``[Content_Types].xml``, ``docProps/core.xml``,
``docProps/app.xml``, ``docProps/custom.xml`` and the signature parts themselves.

The zip is patched directly (openpyxl would drop ``_xmlsignatures``), so signing is the very last
step. lxml pitfall: C14N of a sub-element adds a spurious ``xmlns=""``; every digested element is
deep-copied first (the copy carries the namespace declarations in scope that it uses).
"""
from __future__ import annotations

import base64
import copy
import datetime as dt
import hashlib
import io
import posixpath
import zipfile
from dataclasses import dataclass, field
from urllib.parse import quote, unquote

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from lxml import etree

from engine.errors import ArgumentError, DataError

DSIG = "http://www.w3.org/2000/09/xmldsig#"
MDSSI = "http://schemas.openxmlformats.org/package/2006/digital-signature"
XADES = "http://uri.etsi.org/01903/v1.3.2#"
OFFICE = "http://schemas.microsoft.com/office/2006/digsig"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"
RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
ECDSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
REL_TRANSFORM = "http://schemas.openxmlformats.org/package/2006/RelationshipTransform"
OBJECT_TYPE = "http://www.w3.org/2000/09/xmldsig#Object"
SIGNED_PROPS_TYPE = "http://uri.etsi.org/01903#SignedProperties"
ORIGIN_REL = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/origin"
SIGNATURE_REL = "http://schemas.openxmlformats.org/package/2006/relationships/digital-signature/signature"
ORIGIN_CT = "application/vnd.openxmlformats-package.digital-signature-origin"
SIG_CT = "application/vnd.openxmlformats-package.digital-signature-xmlsignature+xml"
RELS_CT = "application/vnd.openxmlformats-package.relationships+xml"
ORIGIN_PART = "_xmlsignatures/origin.sigs"
SIG_PART = "_xmlsignatures/sig1.xml"
ORIGIN_RELS_PART = "_xmlsignatures/_rels/origin.sigs.rels"

UNSIGNED_PARTS = {"[content_types].xml", "docprops/core.xml", "docprops/app.xml", "docprops/custom.xml"}
UNSIGNED_REL_TYPES = {
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
    ORIGIN_REL,
}
TIME_FORMAT = "YYYY-MM-DDThh:mm:ssTZD"


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _sha256_b64(data: bytes) -> str:
    return _b64(hashlib.sha256(data).digest())


def c14n(element) -> bytes:
    """Inclusive C14N (no comments) of ``element`` as a document subset."""
    return etree.tostring(copy.deepcopy(element), method="c14n", exclusive=False, with_comments=False)


# --------------------------------------------------------------------------- package helpers
def is_signed_part(name: str) -> bool:
    low = name.lower()
    return not (name.endswith("/") or low in UNSIGNED_PARTS or low.startswith("_xmlsignatures/"))


def content_types(parts: dict[str, bytes]) -> tuple[dict[str, str], dict[str, str]]:
    """(defaults by lower-case extension, overrides by lower-case part name without '/')."""
    if "[Content_Types].xml" not in parts:
        raise DataError("not an Office package: [Content_Types].xml is missing")
    root = etree.fromstring(parts["[Content_Types].xml"])
    defaults = {e.get("Extension", "").lower(): e.get("ContentType", "") for e in root.iter(_q(CT_NS, "Default"))}
    overrides = {e.get("PartName", "").lstrip("/").lower(): e.get("ContentType", "")
                 for e in root.iter(_q(CT_NS, "Override"))}
    return defaults, overrides


def content_type_of(name: str, cts) -> str:
    defaults, overrides = cts
    if name.lower() in overrides:
        return overrides[name.lower()]
    return defaults.get(posixpath.splitext(name)[1].lstrip(".").lower(), "application/octet-stream")


def relationships(data: bytes) -> list[dict]:
    root = etree.fromstring(data)
    return [dict(r.attrib) for r in root.iter(_q(RELS_NS, "Relationship"))]


def signed_source_ids(name: str, data: bytes) -> list[str]:
    """Ids of the relationships of a .rels part that are signed (all but the denylisted types)."""
    return sorted(r["Id"] for r in relationships(data) if r.get("Type") not in UNSIGNED_REL_TYPES and "Id" in r)


def relationship_transform(data: bytes, source_ids) -> bytes:
    """OPC RelationshipTransform then C14N: keep the listed Ids, sort by Id, keep Id/Target/
    TargetMode/Type, add ``TargetMode="Internal"`` when absent."""
    keep = set(source_ids)
    rels = [r for r in relationships(data) if r.get("Id") in keep]
    out = etree.Element(_q(RELS_NS, "Relationships"), nsmap={None: RELS_NS})
    for r in sorted(rels, key=lambda r: r["Id"]):
        e = etree.SubElement(out, _q(RELS_NS, "Relationship"))
        e.set("Id", r["Id"])
        e.set("Target", r.get("Target", ""))
        e.set("TargetMode", r.get("TargetMode", "Internal"))
        e.set("Type", r.get("Type", ""))
    return etree.tostring(out, method="c14n")


def part_uri(name: str, content_type: str) -> str:
    return "/" + quote(name, safe="/._-~") + "?ContentType=" + content_type


def read_package(data: bytes, what: str = "workbook") -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return {i.filename: z.read(i.filename) for i in z.infolist() if not i.is_dir()}
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise DataError(f"{what} is not a readable .xlsx (zip) package: {exc}") from exc


def write_package(parts: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as z:
        order = ["[Content_Types].xml"] + [n for n in parts if n != "[Content_Types].xml"]
        for name in order:
            z.writestr(zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0)), parts[name],
                       compress_type=zipfile.ZIP_DEFLATED)
    return buf.getvalue()


# --------------------------------------------------------------------------- signing
def _add_signature_plumbing(parts: dict[str, bytes]) -> None:
    """origin.sigs, its relationship from the package root, and the content types."""
    rels_root = etree.fromstring(parts["_rels/.rels"])
    ids = {r.get("Id") for r in rels_root}
    n = 1
    while f"rIdSig{n}" in ids:
        n += 1
    rel = etree.SubElement(rels_root, _q(RELS_NS, "Relationship"))
    rel.set("Type", ORIGIN_REL)
    rel.set("Target", ORIGIN_PART)
    rel.set("Id", f"rIdSig{n}")
    parts["_rels/.rels"] = etree.tostring(rels_root, xml_declaration=True, encoding="UTF-8", standalone=True)

    ct = etree.fromstring(parts["[Content_Types].xml"])
    if not any(e.get("Extension", "").lower() == "sigs" for e in ct.iter(_q(CT_NS, "Default"))):
        d = etree.Element(_q(CT_NS, "Default"))
        d.set("Extension", "sigs")
        d.set("ContentType", ORIGIN_CT)
        ct.insert(0, d)
    o = etree.SubElement(ct, _q(CT_NS, "Override"))
    o.set("PartName", "/" + SIG_PART)
    o.set("ContentType", SIG_CT)
    parts["[Content_Types].xml"] = etree.tostring(ct, xml_declaration=True, encoding="UTF-8", standalone=True)

    parts[ORIGIN_PART] = b""
    srels = etree.Element(_q(RELS_NS, "Relationships"), nsmap={None: RELS_NS})
    r = etree.SubElement(srels, _q(RELS_NS, "Relationship"))
    r.set("Type", SIGNATURE_REL)
    r.set("Target", "sig1.xml")
    r.set("Id", "rId1")
    parts[ORIGIN_RELS_PART] = etree.tostring(srels, xml_declaration=True, encoding="UTF-8", standalone=True)


def _sub(parent, ns, tag, text=None, **attrs):
    e = etree.SubElement(parent, _q(ns, tag))
    for k, v in attrs.items():
        e.set(k, v)
    if text is not None:
        e.text = text
    return e


def _reference(parent, uri: str, digest: str, transforms=(), ref_type: str | None = None):
    ref = _sub(parent, DSIG, "Reference", **({"Type": ref_type} if ref_type else {}), URI=uri)
    if transforms:
        ts = _sub(ref, DSIG, "Transforms")
        for algo, source_ids in transforms:
            t = _sub(ts, DSIG, "Transform", Algorithm=algo)
            for sid in source_ids or ():
                rr = etree.SubElement(t, _q(MDSSI, "RelationshipReference"), nsmap={"mdssi": MDSSI})
                rr.set("SourceId", sid)
    _sub(ref, DSIG, "DigestMethod", Algorithm=SHA256)
    _sub(ref, DSIG, "DigestValue", digest)
    return ref


def _manifest(obj, parts: dict[str, bytes]) -> None:
    cts = content_types(parts)
    manifest = _sub(obj, DSIG, "Manifest")
    for name in sorted(n for n in parts if is_signed_part(n)):
        ct = content_type_of(name, cts)
        if name.endswith(".rels"):
            ids = signed_source_ids(name, parts[name])
            digest = _sha256_b64(relationship_transform(parts[name], ids))
            _reference(manifest, part_uri(name, ct), digest, transforms=[(REL_TRANSFORM, ids), (C14N, None)])
        else:
            _reference(manifest, part_uri(name, ct), _sha256_b64(parts[name]))


def _signature_info_v1(obj) -> None:
    props = _sub(obj, DSIG, "SignatureProperties")
    prop = _sub(props, DSIG, "SignatureProperty", Id="idOfficeV1Details", Target="#idPackageSignature")
    info = etree.SubElement(prop, _q(OFFICE, "SignatureInfoV1"), nsmap={None: OFFICE})
    for tag, text in [("SetupID", ""), ("SignatureText", ""), ("SignatureImage", ""),
                      ("SignatureComments", "Sector Rotation audit workbook"), ("WindowsVersion", "10.0"),
                      ("OfficeVersion", "16.0"), ("ApplicationVersion", "16.0"), ("Monitors", "1"),
                      ("HorizontalResolution", "1920"), ("VerticalResolution", "1080"), ("ColorDepth", "32"),
                      ("SignatureProviderId", "{00000000-0000-0000-0000-000000000000}"),
                      ("SignatureProviderUrl", ""), ("SignatureProviderDetails", "9"), ("SignatureType", "1"),
                      ("ManifestHashAlgorithm", SHA256)]:
        _sub(info, OFFICE, tag, text or None)


def _xades(obj, cert: x509.Certificate, when: str) -> None:
    qp = etree.SubElement(obj, _q(XADES, "QualifyingProperties"), nsmap={"xd": XADES})
    qp.set("Target", "#idPackageSignature")
    sp = _sub(qp, XADES, "SignedProperties", Id="idSignedProperties")
    ssp = _sub(sp, XADES, "SignedSignatureProperties")
    _sub(ssp, XADES, "SigningTime", when)
    c = _sub(_sub(ssp, XADES, "SigningCertificate"), XADES, "Cert")
    cd = _sub(c, XADES, "CertDigest")
    _sub(cd, DSIG, "DigestMethod", Algorithm=SHA256)
    _sub(cd, DSIG, "DigestValue", _sha256_b64(cert.public_bytes(serialization.Encoding.DER)))
    iss = _sub(c, XADES, "IssuerSerial")
    _sub(iss, DSIG, "X509IssuerName", cert.issuer.rfc4514_string())
    _sub(iss, DSIG, "X509SerialNumber", str(cert.serial_number))
    _sub(_sub(ssp, XADES, "SignaturePolicyIdentifier"), XADES, "SignaturePolicyImplied")


def _by_id(root, ident: str):
    found = root.xpath("//*[@Id=$i]", i=ident)
    return found[0] if len(found) == 1 else None


def _sign_bytes(key, data: bytes) -> tuple[str, bytes]:
    if isinstance(key, ec.EllipticCurvePrivateKey):
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
        size = (key.curve.key_size + 7) // 8
        return ECDSA_SHA256, r.to_bytes(size, "big") + s.to_bytes(size, "big")
    if isinstance(key, rsa.RSAPrivateKey):
        return RSA_SHA256, key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    raise ArgumentError("signer", f"{type(key).__name__} keys cannot sign Office documents")


def xml_time(when: dt.datetime) -> str:
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_package(data: bytes, signer, when: dt.datetime | None = None) -> bytes:
    """Return the bytes of the package ``data`` with an embedded Office XML signature by
    ``signer`` (a :class:`workbooks.keys.Signer`) at ``when`` (UTC, default now).

    Raises DataError for a package that is not an Office zip or is already signed.
    """
    parts = read_package(data)
    if any(n.lower().startswith("_xmlsignatures/") for n in parts):
        raise DataError("the workbook is already signed (it has _xmlsignatures); sign a freshly written file")
    if "_rels/.rels" not in parts:
        raise DataError("not an Office package: _rels/.rels is missing")
    when_s = xml_time(when or dt.datetime.now(dt.timezone.utc))
    method = ECDSA_SHA256 if isinstance(signer.key, ec.EllipticCurvePrivateKey) else RSA_SHA256
    _add_signature_plumbing(parts)

    root = etree.Element(_q(DSIG, "Signature"), nsmap={None: DSIG})
    root.set("Id", "idPackageSignature")
    si = _sub(root, DSIG, "SignedInfo")
    _sub(si, DSIG, "CanonicalizationMethod", Algorithm=C14N)
    _sub(si, DSIG, "SignatureMethod", Algorithm=method)
    _sub(root, DSIG, "SignatureValue", "")
    x509data = _sub(_sub(root, DSIG, "KeyInfo"), DSIG, "X509Data")
    for cert in [signer.certificate, *signer.chain]:
        _sub(x509data, DSIG, "X509Certificate", _b64(cert.public_bytes(serialization.Encoding.DER)))
    pkg = _sub(root, DSIG, "Object", Id="idPackageObject")
    _manifest(pkg, parts)
    props = _sub(pkg, DSIG, "SignatureProperties")
    prop = _sub(props, DSIG, "SignatureProperty", Id="idSignatureTime", Target="#idPackageSignature")
    st = etree.SubElement(prop, _q(MDSSI, "SignatureTime"), nsmap={"mdssi": MDSSI})
    _sub(st, MDSSI, "Format", TIME_FORMAT)
    _sub(st, MDSSI, "Value", when_s)
    _signature_info_v1(_sub(root, DSIG, "Object", Id="idOfficeObject"))
    _xades(_sub(root, DSIG, "Object"), signer.certificate, when_s)

    # digest what a verifier will parse: serialize, parse back, then fill SignedInfo
    root = etree.fromstring(etree.tostring(root))
    si = root.find(_q(DSIG, "SignedInfo"))
    for uri, rtype, transforms in [("#idPackageObject", OBJECT_TYPE, ()), ("#idOfficeObject", OBJECT_TYPE, ()),
                                   ("#idSignedProperties", SIGNED_PROPS_TYPE, [(C14N, None)])]:
        _reference(si, uri, _sha256_b64(c14n(_by_id(root, uri[1:]))), transforms=transforms, ref_type=rtype)
    _, value = _sign_bytes(signer.key, c14n(si))
    root.find(_q(DSIG, "SignatureValue")).text = _b64(value)
    parts[SIG_PART] = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=False)
    return write_package(parts)


# --------------------------------------------------------------------------- verification
@dataclass
class OoxmlCheck:
    """Outcome of checking the embedded signature; ``problems`` are sentences for people."""
    present: bool = False
    valid: bool = False
    signer: str | None = None
    signed_at: str | None = None
    certificate: x509.Certificate | None = None
    problems: list[str] = field(default_factory=list)


def _signature_parts(parts: dict[str, bytes]) -> list[str]:
    rels = parts.get("_rels/.rels")
    if rels is None:
        return []
    origins = [r["Target"].lstrip("/") for r in relationships(rels) if r.get("Type") == ORIGIN_REL]
    found = []
    for origin in origins:
        folder, base = posixpath.split(origin)
        orels = parts.get(posixpath.join(folder, "_rels", base + ".rels"))
        if orels is None:
            continue
        for r in relationships(orels):
            if r.get("Type") == SIGNATURE_REL:
                target = r["Target"]
                found.append(target.lstrip("/") if target.startswith("/") else posixpath.normpath(
                    posixpath.join(folder, target)))
    return found


def _verify_value(cert: x509.Certificate, method: str, value: bytes, data: bytes) -> None:
    pub = cert.public_key()
    if method == ECDSA_SHA256 and isinstance(pub, ec.EllipticCurvePublicKey):
        size = (pub.curve.key_size + 7) // 8
        if len(value) != 2 * size:
            raise InvalidSignature()
        sig = encode_dss_signature(int.from_bytes(value[:size], "big"), int.from_bytes(value[size:], "big"))
        pub.verify(sig, data, ec.ECDSA(hashes.SHA256()))
    elif method == RSA_SHA256 and isinstance(pub, rsa.RSAPublicKey):
        pub.verify(value, data, padding.PKCS1v15(), hashes.SHA256())
    else:
        raise InvalidSignature()


def _check_manifest(manifest, parts, problems: list[str]) -> None:
    cts = content_types(parts)
    covered: dict[str, set[str] | None] = {}
    for ref in manifest.findall(_q(DSIG, "Reference")):
        uri = ref.get("URI", "")
        name = unquote(uri.split("?", 1)[0]).lstrip("/")
        expected = ref.findtext(f"{_q(DSIG, 'DigestValue')}", "").strip()
        algos = [t.get("Algorithm") for t in ref.iter(_q(DSIG, "Transform"))]
        if ref.find(_q(DSIG, "DigestMethod")).get("Algorithm") != SHA256:
            problems.append(f"part {name}: unsupported digest method")
            continue
        if name not in parts:
            problems.append(f"signed part {name} is missing from the package")
            continue
        if REL_TRANSFORM in algos:
            ids = [e.get("SourceId") for e in ref.iter(_q(MDSSI, "RelationshipReference"))]
            actual = _sha256_b64(relationship_transform(parts[name], ids))
            covered[name] = set(ids)
        else:
            actual = _sha256_b64(parts[name])
            covered[name] = None
        if actual != expected:
            problems.append(f"part {name} was changed after signing (digest mismatch)")
        ct = uri.split("?ContentType=", 1)[1] if "?ContentType=" in uri else None
        if ct is not None and ct != content_type_of(name, cts):
            problems.append(f"part {name}: content type changed after signing")
    for name in parts:
        if is_signed_part(name) and name not in covered:
            problems.append(f"part {name} is not covered by the signature (added after signing)")
        elif name.endswith(".rels") and name in covered and covered[name] is not None:
            missing = set(signed_source_ids(name, parts[name])) - covered[name]
            if missing:
                problems.append(f"relationships {sorted(missing)} in {name} were added after signing")


def verify_package(data: bytes) -> OoxmlCheck:
    """Check the embedded signature of a package: every manifest digest, every SignedInfo
    reference, the signature value against the certificate in the signature, and that every
    signable part is covered. Never raises for a bad signature: ``problems`` says what failed."""
    res = OoxmlCheck()
    try:
        parts = read_package(data)
    except DataError as exc:
        res.problems.append(str(exc))
        return res
    names = _signature_parts(parts)
    if not names:
        res.problems.append("the workbook has no embedded digital signature")
        return res
    res.present = True
    if len(names) > 1:
        res.problems.append(f"the workbook holds {len(names)} signatures; only one is expected")
    name = names[0]
    if name not in parts:
        res.problems.append(f"signature part {name} is missing")
        return res
    try:
        root = etree.fromstring(parts[name])
    except etree.XMLSyntaxError as exc:
        res.problems.append(f"signature part {name} is not well-formed XML ({exc})")
        return res
    problems = res.problems
    try:
        si = root.find(_q(DSIG, "SignedInfo"))
        cert_b64 = root.findtext(f"{_q(DSIG, 'KeyInfo')}/{_q(DSIG, 'X509Data')}/{_q(DSIG, 'X509Certificate')}")
        cert = x509.load_der_x509_certificate(base64.b64decode(cert_b64))
        res.certificate = cert
        from workbooks.keys import subject_name
        res.signer = subject_name(cert)
        res.signed_at = root.findtext(f".//{_q(XADES, 'SigningTime')}") or root.findtext(f".//{_q(MDSSI, 'Value')}")
        if si.find(_q(DSIG, "CanonicalizationMethod")).get("Algorithm") != C14N:
            problems.append("unsupported canonicalization method")
        method = si.find(_q(DSIG, "SignatureMethod")).get("Algorithm")
        value = base64.b64decode(root.findtext(_q(DSIG, "SignatureValue"), "").strip())
        try:
            _verify_value(cert, method, value, c14n(si))
        except InvalidSignature:
            problems.append("the signature value does not verify with the signer's certificate")
        referenced = set()
        for ref in si.findall(_q(DSIG, "Reference")):
            uri = ref.get("URI", "")
            target = _by_id(root, uri[1:]) if uri.startswith("#") else None
            algos = [t.get("Algorithm") for t in ref.iter(_q(DSIG, "Transform"))]
            if target is None or any(a != C14N for a in algos):
                problems.append(f"signed reference {uri!r} cannot be resolved")
                continue
            referenced.add(uri[1:])
            if _sha256_b64(c14n(target)) != ref.findtext(_q(DSIG, "DigestValue"), "").strip():
                problems.append(f"signed object {uri} was changed (digest mismatch)")
        manifest = root.find(f"{_q(DSIG, 'Object')}/{_q(DSIG, 'Manifest')}")
        if manifest is None or manifest.getparent().get("Id") not in referenced:
            problems.append("the package manifest is missing or not covered by the signature")
        else:
            _check_manifest(manifest, parts, problems)
        props = root.find(f".//{_q(XADES, 'SignedProperties')}")
        if props is None or props.get("Id") not in referenced:
            problems.append("the XAdES signed properties are missing or not signed")
        else:
            cd = props.findtext(f".//{_q(XADES, 'CertDigest')}/{_q(DSIG, 'DigestValue')}", "").strip()
            if cd != _sha256_b64(cert.public_bytes(serialization.Encoding.DER)):
                problems.append("the XAdES signing certificate does not match the certificate in the signature")
    except (AttributeError, TypeError, ValueError) as exc:
        problems.append(f"the embedded signature is malformed ({exc})")
    res.valid = not problems
    return res
