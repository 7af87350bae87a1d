"""`rotation keys ...`: make a trial signing certificate, import a company one, show it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, emit, handle_errors, out

app = typer.Typer(no_args_is_help=True, help="Signing keys for audit workbooks.")

NameOpt = Annotated[Optional[str], typer.Option(
    "--name", help="Your name as the operator, recorded beside the login name in every export.")]
KeysOpt = Annotated[Optional[Path], typer.Option(
    "--keys", help="Keys folder (default: $ROTATION_KEYS_DIR or the user config directory).", file_okay=False)]


def _describe(keys: Path | None) -> dict:
    from workbooks.keys import read_meta, resolve_keys_dir
    meta = read_meta(keys)
    folder = resolve_keys_dir(keys)
    return {"keys_dir": str(folder), "key_file": str(folder / "signer.p12"), "certificate": str(folder / "cert.pem"),
            **meta}


def _render(info: dict) -> None:
    t = Table(title="Signing key", show_header=False)
    for k in ("subject", "key_id", "key_type", "issuer", "serial", "not_after", "keys_dir", "certificate",
              "keyring_service", "keyring_user", "passphrase_in_keyring"):
        if k in info:
            t.add_row(k, str(info[k]))
    out.print(t)


@app.command("init")
def init(keys: KeysOpt = None,
         subject: Annotated[str, typer.Option("--subject", help="Certificate common name.")] = "Rotation trial signer",
         overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing key.")] = False,
         name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """Make a self-signed ECDSA P-256 certificate for trials (key encrypted; passphrase in keyring)."""
    with handle_errors(as_json):
        from workbooks.keys import init_keys
        init_keys(keys, subject=subject, overwrite=overwrite, name=name)
        emit(_describe(keys), as_json, _render)


@app.command("import")
def import_(p12: Annotated[Path, typer.Argument(help="Company certificate with its key (.p12/.pfx).", dir_okay=False)],
            keys: KeysOpt = None,
            password_env: Annotated[str, typer.Option(
                "--password-env", help="Environment variable holding the .p12 password (else prompt).")]
            = "ROTATION_P12_PASSWORD",
            overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing key.")] = False,
            name: NameOpt = None, as_json: JsonOpt = False) -> None:
    """Take a company certificate (PKCS#12); the key is re-encrypted under the product's passphrase."""
    with handle_errors(as_json):
        from workbooks.keys import import_p12
        password = os.environ.get(password_env)
        if password is None:
            password = typer.prompt(f"Password for {p12.name}", hide_input=True, default="", show_default=False,
                                    err=True)
        import_p12(p12, password, keys, overwrite=overwrite, name=name)
        emit(_describe(keys), as_json, _render)


@app.command("show")
def show(keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """Show the signing certificate in use (no secret is printed)."""
    with handle_errors(as_json):
        emit(_describe(keys), as_json, _render)


trust_app = typer.Typer(no_args_is_help=True, help="Certificates whose signatures `rotation verify` accepts.")
app.add_typer(trust_app, name="trust")


def _render_trust(r: dict) -> None:
    t = Table(title=f"Trust store {r['folder']}")
    for c in ("fingerprint", "subject", "CA", "valid until", "key"):
        t.add_column(c, overflow="fold")
    for c in r["certificates"]:
        t.add_row(c["fingerprint"][:32], c["subject"], "yes" if c["ca"] else "no", c["not_after"][:10], c["key"])
    out.print(t)
    for k in ("added", "removed"):
        for fp in r.get(k, []):
            out.print(f"{k}: {fp}", highlight=False)


def _trust_result(keys: Path | None, **extra) -> dict:
    from workbooks.trust import TrustStore
    store = TrustStore.for_keys(keys)
    return {"folder": str(store.folder), "certificates": store.describe(), **extra}


@trust_app.command("add")
def trust_add(cert: Annotated[Path, typer.Argument(help="Certificate(s) to trust (PEM or DER).", dir_okay=False)],
              keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """Trust a signer's certificate (pinned) or the organisation's CA (any certificate it issued)."""
    with handle_errors(as_json):
        from workbooks.trust import TrustStore
        added = TrustStore.for_keys(keys).add_file(cert)
        emit(_trust_result(keys, added=added), as_json, _render_trust)


@trust_app.command("list")
def trust_list(keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """List the trusted certificates (SHA-256 fingerprint, subject, CA or not, validity)."""
    with handle_errors(as_json):
        emit(_trust_result(keys), as_json, _render_trust)


@trust_app.command("remove")
def trust_remove(fingerprint: Annotated[str, typer.Argument(help="SHA-256 fingerprint (8 or more hex digits).")],
                 keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """Stop trusting a certificate."""
    with handle_errors(as_json):
        from workbooks.trust import TrustStore
        removed = TrustStore.for_keys(keys).remove(fingerprint)
        emit(_trust_result(keys, removed=[removed]), as_json, _render_trust)
