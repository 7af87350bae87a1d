"""`rotation keys ...`: make a trial signing certificate, import a company one, show it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.table import Table

from addin.cli.common import JsonOpt, emit, handle_errors, out

app = typer.Typer(no_args_is_help=True, help="Signing keys for audit workbooks.")

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
         as_json: JsonOpt = False) -> None:
    """Make a self-signed ECDSA P-256 certificate for trials (key encrypted; passphrase in keyring)."""
    with handle_errors(as_json):
        from workbooks.keys import init_keys
        init_keys(keys, subject=subject, overwrite=overwrite)
        emit(_describe(keys), as_json, _render)


@app.command("import")
def import_(p12: Annotated[Path, typer.Argument(help="Company certificate with its key (.p12/.pfx).", dir_okay=False)],
            keys: KeysOpt = None,
            password_env: Annotated[str, typer.Option(
                "--password-env", help="Environment variable holding the .p12 password (else prompt).")]
            = "ROTATION_P12_PASSWORD",
            as_json: JsonOpt = False) -> None:
    """Take a company certificate (PKCS#12); the key is re-encrypted under the product's passphrase."""
    with handle_errors(as_json):
        from workbooks.keys import import_p12
        password = os.environ.get(password_env)
        if password is None:
            password = typer.prompt(f"Password for {p12.name}", hide_input=True, default="", show_default=False,
                                    err=True)
        import_p12(p12, password, keys)
        emit(_describe(keys), as_json, _render)


@app.command("show")
def show(keys: KeysOpt = None, as_json: JsonOpt = False) -> None:
    """Show the signing certificate in use (no secret is printed)."""
    with handle_errors(as_json):
        emit(_describe(keys), as_json, _render)
