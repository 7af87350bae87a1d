"""Test helpers for the signing tests: a sample audit workbook, zip-level cell edits, and a
headless LibreOffice (one per test session) queried over UNO by /usr/bin/python3.

python3-uno is bound to the system interpreter, so the UNO client runs as a subprocess with
/usr/bin/python3; soffice runs with its own throw-away profile (-env:UserInstallation).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import zipfile
from datetime import date, datetime
from pathlib import Path

SYSTEM_PYTHON = "/usr/bin/python3"


# --------------------------------------------------------------------------- sample workbook
def make_sample_workbook(path: Path) -> Path:
    """A small audit-style workbook: two data sheets (strings, ints, floats, a date, a datetime,
    a boolean, a formula, a percent format, an empty styled cell) and an Audit sheet whose cell
    named AuditContentDigest holds the content digest of the other sheets."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.workbook.defined_name import DefinedName

    from workbooks.digest import PLACEHOLDER, seal_package

    wb = Workbook()
    ws = wb.active
    ws.title = "Dashboard"
    ws["A1"] = "Stress index"
    ws["B1"] = 1.2345678901234
    ws["A2"] = "Regime"
    ws["B2"] = "elevated"
    ws["A3"] = "As of"
    ws["B3"] = date(2019, 12, 31)
    ws["A4"] = "Computed"
    ws["B4"] = datetime(2020, 1, 2, 15, 30, 5)
    ws["A5"] = "Rotate"
    ws["B5"] = True
    ws["C1"] = 3
    ws["C2"] = 0.125
    ws["C2"].number_format = "0.00%"
    ws["C3"] = "=SUM(B1,C1:C2)"
    ws["D4"].font = Font(bold=True)          # styled but empty
    w = wb.create_sheet("Weights")
    w.append(["Ticker", "Current", "Target"])
    for i, t in enumerate(["XLK", "XLU", "XLP", "XLV"]):
        w.append([t, 0.1 + i / 100, 0.2 - i / 50])
    w["D2"] = "=C2-B2"
    audit = wb.create_sheet("Audit")
    audit["A1"] = "Content digest"
    audit["A2"] = "Run id"
    audit["B2"] = "run-0001"
    wb.defined_names["AuditContentDigest"] = DefinedName("AuditContentDigest", attr_text="Audit!$B$1")
    audit["B1"] = PLACEHOLDER
    import io
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(seal_package(buf.getvalue())[0])
    return path


# --------------------------------------------------------------------------- zip-level edits
def sheet_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as z:
        return sorted(n for n in z.namelist() if re.match(r"xl/worksheets/sheet\d+\.xml$", n))


def rewrite_part(src: Path, dst: Path, part: str, new_bytes: bytes) -> None:
    """Copy the package ``src`` to ``dst`` replacing one part's bytes (everything else as is)."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = new_bytes if info.filename == part else zin.read(info.filename)
            zout.writestr(info, data)


def cell_edits(path: Path, select=None):
    """Yield (part, coordinate, edited_part_bytes): one edit per value-bearing cell of every
    worksheet, made in the sheet XML (a formula text, an inline string or a <v> value changed).
    ``select(part, coordinate)``, when given, is asked first so that large sheets can be sampled
    without building an edited copy of the part for every cell."""
    with zipfile.ZipFile(path) as z:
        for part in sheet_parts(path):
            xml = z.read(part).decode("utf-8")
            for m in re.finditer(r'<c r="([A-Z]+\d+)"[^>]*?(?:/>|>(.*?)</c>)', xml):
                coord, inner = m.group(1), m.group(2)
                if not inner or (select is not None and not select(part, coord)):
                    continue
                fm = re.search(r"<f>(.*?)</f>", inner)
                tm = re.search(r"(<t[^>]*>)(.*?)</t>", inner)
                vm = re.search(r"<v>(.*?)</v>", inner)
                if fm:
                    new_inner = inner.replace(fm.group(0), f"<f>{fm.group(1)}+1</f>", 1)
                elif tm:
                    new_inner = inner.replace(tm.group(0), f"{tm.group(1)}{tm.group(2)}x</t>", 1)
                elif vm:
                    old = vm.group(1)
                    if old in ("0", "1") and 't="b"' in m.group(0):
                        new = "1" if old == "0" else "0"
                    elif 't="s"' in m.group(0):
                        new = str(int(old) + 1) if int(old) == 0 else "0"
                    else:
                        new = repr(float(old) + 1.0)
                    new_inner = inner.replace(vm.group(0), f"<v>{new}</v>", 1)
                else:
                    continue
                start, end = m.span()
                cell_xml = m.group(0).replace(inner, new_inner, 1)
                yield part, coord, (xml[:start] + cell_xml + xml[end:]).encode("utf-8")


# --------------------------------------------------------------------------- LibreOffice
def soffice_available() -> bool:
    if not shutil.which("soffice") or not os.path.exists(SYSTEM_PYTHON):
        return False
    r = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True)
    return r.returncode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


UNO_VERIFY_SCRIPT = r'''
import json, sys, time
import uno
from com.sun.star.beans import PropertyValue

port, paths = int(sys.argv[1]), sys.argv[2:]
local = uno.getComponentContext()
resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
deadline = time.time() + 60
while True:
    try:
        ctx = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
        break
    except Exception:
        if time.time() > deadline:
            raise
        time.sleep(0.3)
smgr = ctx.ServiceManager
factory = smgr.createInstanceWithContext("com.sun.star.embed.StorageFactory", ctx)
dds = smgr.createInstanceWithContext("com.sun.star.security.DocumentDigitalSignatures", ctx)
out = []
for p in paths:
    url = uno.systemPathToFileUrl(p)
    fmt = PropertyValue()
    fmt.Name, fmt.Value = "StorageFormat", "ZipFormat"
    props = uno.Any("[]com.sun.star.beans.PropertyValue", (fmt,))
    storage = uno.invoke(factory, "createInstanceWithArguments", ((url, 1, props),))  # 1 = ElementModes.READ
    infos = dds.verifyDocumentContentSignatures(storage, None)
    out.append([{"valid": bool(i.SignatureIsValid), "certificate_status": int(i.CertificateStatus),
                 "partial": bool(getattr(i, "PartialDocumentSignature", False)),
                 "signer": i.Signer.SubjectName if i.Signer else None} for i in infos])
    storage.dispose()
print(json.dumps(out))
'''


class LibreOffice:
    """One headless soffice with a private profile; ``verify(paths)`` asks it over UNO."""

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="rotation-lo-"))
        self.port = _free_port()
        profile = (self.tmp / "profile").as_uri()
        self.proc = subprocess.Popen(
            ["soffice", "--headless", "--invisible", "--nologo", "--norestore", "--nodefault",
             f"-env:UserInstallation={profile}",
             f"--accept=socket,host=127.0.0.1,port={self.port};urp;StarOffice.ComponentContext"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.script = self.tmp / "uno_verify.py"
        self.script.write_text(UNO_VERIFY_SCRIPT)

    def verify(self, paths: list[Path]) -> list[list[dict]]:
        """For each package, the list of signatures LibreOffice finds (valid, certificate_status, signer)."""
        r = subprocess.run([SYSTEM_PYTHON, str(self.script), str(self.port), *map(str, paths)],
                           capture_output=True, text=True, timeout=120)
        if r.returncode != 0:
            raise RuntimeError(f"UNO client failed: {r.stderr[-2000:]}")
        return json.loads(r.stdout.strip().splitlines()[-1])

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --------------------------------------------------------------------------- signers
def trial_signer(folder: Path, subject: str = "Test Signer", rsa_key: bool = False):
    """A Signer made by init_keys (explicit passphrase, no keyring); ``rsa_key`` swaps in an
    RSA-2048 self-signed certificate instead of the default P-256 one."""
    import datetime as dt

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import NameOID

    from workbooks.keys import Signer, init_keys, key_id_of

    if rsa_key:
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)])
        now = dt.datetime.now(dt.timezone.utc)
        cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
                .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=30))
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(key, hashes.SHA256()))
        trust_default(cert)
        return Signer(key=key, certificate=cert, chain=[], key_id=key_id_of(cert))
    init_keys(folder, subject=subject, passphrase="test-passphrase")
    key, cert, chain = pkcs12.load_key_and_certificates((folder / "signer.p12").read_bytes(), b"test-passphrase")
    trust_default(cert)
    return Signer(key=key, certificate=cert, chain=list(chain or []), key_id=key_id_of(cert))


def trust_default(cert) -> None:
    """Add ``cert`` to the trust store of the test session's keys folder ($ROTATION_KEYS_DIR)."""
    import os

    from workbooks.trust import TrustStore
    assert os.environ.get("ROTATION_KEYS_DIR"), "tests must run with an isolated ROTATION_KEYS_DIR"
    TrustStore.for_keys().add(cert)


def write_cert_pem(signer, path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    path.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    return path
