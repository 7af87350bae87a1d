"""Where alerts go: the terminal, the audit ledger, e-mail over SMTP, a webhook; and the record of what
was delivered where, so a restart never sends an alert twice.

Exactly once: each (alert id, channel) pair is recorded in a SQLite state file in the same step that
follows a successful send; a pair already recorded is never sent again. The ledger channel also looks
for the alert's id in the ledger itself, so it cannot write an alert twice even with a lost state file.
What cannot be excluded: a process killed after a server accepted an e-mail or webhook call and before
the state was written would send that one alert again on restart; the message carries the alert id
(``Message-ID``, ``Idempotency-Key``) so the receiver can drop the duplicate.
"""
from __future__ import annotations

import hashlib
import json
import os
import smtplib
import sqlite3
import ssl
import urllib.error
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import EmailMessage
from pathlib import Path
from typing import Callable

import platformdirs

from engine.errors import ArgumentError, DataError, RotationError

ENV_STATE = "ROTATION_ALERTS_STATE"
KEYRING_SERVICE = "sector-rotation-smtp"


class DeliveryError(RotationError):
    """An alert could not be delivered to a channel (it stays pending and is retried next check)."""


def default_state_path() -> Path:
    """``$ROTATION_ALERTS_STATE``, else ``<user data dir>/sector-rotation/alerts-state.sqlite``."""
    env = os.environ.get(ENV_STATE)
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("sector-rotation", appauthor=False)) / "alerts-state.sqlite"


class DeliveryState:
    """Which alert went to which channel, and settings of the watch (``since``), in SQLite."""

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path).expanduser() if path else default_state_path()

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            con = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            con.execute("PRAGMA journal_mode=WAL")
            con.execute("CREATE TABLE IF NOT EXISTS delivered (alert_id TEXT NOT NULL, channel TEXT NOT NULL, "
                        "at TEXT NOT NULL, PRIMARY KEY (alert_id, channel))")
            con.execute("CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        except (sqlite3.Error, OSError) as exc:
            raise DataError(f"cannot open the alert delivery state ({exc})", file=str(self.path)) from None
        return con

    def delivered(self, channel: str) -> set[str]:
        with closing(self._connect()) as con:
            return {r[0] for r in con.execute("SELECT alert_id FROM delivered WHERE channel=?", (channel,))}

    def mark(self, alert_id: str, channel: str) -> None:
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as con:
            con.execute("INSERT OR IGNORE INTO delivered VALUES (?,?,?)", (alert_id, channel, now))

    def get(self, key: str) -> str | None:
        with closing(self._connect()) as con:
            row = con.execute("SELECT value FROM settings WHERE key=?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        with closing(self._connect()) as con:
            con.execute("INSERT OR REPLACE INTO settings VALUES (?,?)", (key, value))


def subject_line(alert: dict) -> str:
    return f"[rotation] {alert['date']} {alert['kind']}: {alert['message']}"[:200]


def body_text(alert: dict, label: str = "") -> str:
    lines = [f"{alert['date']}  {alert['kind']}", "", alert["message"], "", f"Recommendation: {alert['recommendation']}",
             "", "Values:", json.dumps(alert["values"], indent=2, sort_keys=True), "", f"Alert id: {alert['id']}"]
    if label:
        lines.append(f"Data: {label}")
    return "\n".join(lines) + "\n"


@dataclass
class TerminalChannel:
    """Prints each alert with ``write`` (one line plus the recommendation)."""

    write: Callable[[str], None] = print
    name: str = "terminal"

    def send(self, alert: dict, label: str = "") -> None:
        self.write(f"{alert['date']}  {alert['kind']:<14} {alert['message']}\n{'':12}-> {alert['recommendation']}")


@dataclass
class LedgerChannel:
    """Appends each alert as a ledger entry of kind ``alert`` (payload: the alert and the data label)."""

    ledger: object
    name: str = "ledger"

    def send(self, alert: dict, label: str = "") -> None:
        if self.ledger.find(kind="alert", id=alert["id"]):
            return                                   # already in the audit trail
        self.ledger.append("alert", None, {**alert, "data_label": label})


@dataclass
class SmtpChannel:
    """E-mail over SMTP. ``starttls`` upgrades the connection (``cafile`` adds a private CA); with a
    ``username`` the password comes from the keyring (service ``sector-rotation-smtp:HOST``), looked up
    when the first mail is sent."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    starttls: bool = True
    username: str | None = None
    cafile: str | None = None
    timeout: float = 20.0
    password_lookup: Callable[[str, str], str | None] | None = None

    @property
    def name(self) -> str:
        return f"smtp:{self.host}:{self.port}:{','.join(sorted(self.recipients))}"

    def _password(self) -> str:
        lookup = self.password_lookup
        if lookup is None:
            import keyring
            lookup = keyring.get_password
        try:
            pw = lookup(f"{KEYRING_SERVICE}:{self.host}", self.username)
        except Exception as exc:                      # keyring backends raise their own errors
            raise DeliveryError(f"smtp: cannot read the password of {self.username} from the keyring ({exc})") from None
        if not pw:
            raise DeliveryError(f"smtp: no password for {self.username} at {self.host} in the keyring; store it with "
                                f"`rotation alerts smtp-password --host {self.host} --user {self.username}`")
        return pw

    def send(self, alert: dict, label: str = "") -> None:
        msg = EmailMessage()
        msg["Subject"], msg["From"], msg["To"] = subject_line(alert), self.sender, ", ".join(self.recipients)
        digest = hashlib.sha256(f"{alert['id']}|{self.name}".encode()).hexdigest()[:32]
        msg["Message-ID"] = f"<{digest}@sector-rotation.alerts>"
        msg["X-Rotation-Alert-Id"] = alert["id"]
        msg.set_content(body_text(alert, label))
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
                if self.starttls:
                    smtp.starttls(context=ssl.create_default_context(cafile=self.cafile))
                if self.username:
                    smtp.login(self.username, self._password())
                smtp.send_message(msg)
        except (OSError, smtplib.SMTPException, ssl.SSLError) as exc:
            raise DeliveryError(f"smtp {self.host}:{self.port}: {exc}") from None


@dataclass
class WebhookChannel:
    """POSTs the alert as JSON (``{"alert": {...}, "label": ...}``) with an ``Idempotency-Key`` header;
    any 2xx answer is a delivery."""

    url: str
    timeout: float = 10.0
    headers: dict = field(default_factory=dict)

    def __post_init__(self):
        if not self.url.lower().startswith(("http://", "https://")):
            raise ArgumentError("--webhook", f"expected an http:// or https:// URL, got {self.url!r}")

    @property
    def name(self) -> str:
        return f"webhook:{self.url}"

    def send(self, alert: dict, label: str = "") -> None:
        body = json.dumps({"alert": alert, "label": label}).encode()
        req = urllib.request.Request(self.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Idempotency-Key": alert["id"], **self.headers})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                status = resp.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"webhook {self.url}: HTTP {exc.code}") from None
        except (OSError, urllib.error.URLError) as exc:
            raise DeliveryError(f"webhook {self.url}: {exc}") from None
        if not 200 <= status < 300:
            raise DeliveryError(f"webhook {self.url}: HTTP {status}")


def deliver(alerts: list[dict], channels: list, state: DeliveryState, label: str = "") -> dict:
    """Send every alert not yet recorded for a channel, in date order, recording each success at once.
    A channel that fails stops for this round (its remaining alerts stay pending, in order); the others
    go on. Returns ``{"delivered": {channel: [ids]}, "failed": {channel: message}}``."""
    report: dict = {"delivered": {}, "failed": {}}
    for ch in channels:
        done = state.delivered(ch.name)
        sent = report["delivered"].setdefault(ch.name, [])
        for a in alerts:
            if a["id"] in done:
                continue
            try:
                ch.send(a, label)
            except RotationError as exc:
                report["failed"][ch.name] = str(exc)
                break
            state.mark(a["id"], ch.name)
            sent.append(a["id"])
    return report
