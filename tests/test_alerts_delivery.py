"""Alert delivery to a real SMTP server and a real HTTP server on loopback: exactly once across restarts."""
from __future__ import annotations

import json

import keyring
import pytest
from keyring.backend import KeyringBackend
from typer.testing import CliRunner

from alert_servers import PASSWORD, USER, http_server, smtp_server
from addin.cli.main import app
from usecases.delivery import (KEYRING_SERVICE, DeliveryState, LedgerChannel, SmtpChannel, WebhookChannel,
                               deliver)
from workbooks.ledger import Ledger

runner = CliRunner()


def alert(i: int, kind="regime_entered") -> dict:
    return {"id": f"2008-09-{i:02d}:{kind}", "date": f"2008-09-{i:02d}", "kind": kind,
            "message": f"regime entered CRISIS from stress ({i})", "recommendation": "rotate defensively",
            "values": {"index": 3.77, "to": "crisis"}}


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        self.store = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    old = keyring.get_keyring()
    kr = MemoryKeyring()
    keyring.set_keyring(kr)
    yield kr
    keyring.set_keyring(old)


def smtp_channel(port, cafile, lookup=None):
    return SmtpChannel(host="127.0.0.1", port=port, sender="rotation@desk", recipients=("pm@desk",),
                       starttls=True, username=USER, cafile=str(cafile), timeout=10,
                       password_lookup=lookup or (lambda s, u: PASSWORD if (s, u) == (f"{KEYRING_SERVICE}:127.0.0.1", USER) else None))


def test_smtp_and_webhook_receive_each_alert_once_across_restarts(tmp_path):
    with smtp_server(tmp_path) as (inbox, port, ca), http_server() as (posts, url, _):
        state_file = tmp_path / "state.sqlite"
        first = [alert(15), alert(16)]
        rep = deliver(first, [smtp_channel(port, ca), WebhookChannel(url)], DeliveryState(state_file))
        assert rep["failed"] == {} and len(inbox.messages) == 2 and len(posts) == 2
        # a restart: new state object and channels on the same state file, the same alerts plus one new
        rep = deliver(first + [alert(17)], [smtp_channel(port, ca), WebhookChannel(url)], DeliveryState(state_file))
        assert list(rep["delivered"].values()) == [["2008-09-17:regime_entered"]] * 2
        assert [m["X-Rotation-Alert-Id"] for m in inbox.messages] == [a["id"] for a in first + [alert(17)]]
        assert [p["headers"]["Idempotency-Key"] for p in posts] == [a["id"] for a in first + [alert(17)]]
        m = inbox.messages[0]
        assert m["X-Test-Tls"] == "yes" and inbox.logins == [USER] * 3            # STARTTLS then AUTH each time
        assert "regime entered CRISIS" in m["Subject"] and "Recommendation: rotate defensively" in m.get_payload()
        assert posts[0]["json"]["alert"] == first[0]


def test_a_failing_channel_keeps_its_alerts_pending_in_order_and_the_others_proceed(tmp_path):
    with http_server(status=503) as (posts, url, set_status):
        st = DeliveryState(tmp_path / "state.sqlite")
        led = Ledger(tmp_path / "ledger.sqlite")
        rep = deliver([alert(1), alert(2)], [LedgerChannel(led), WebhookChannel(url)], st)
        assert "HTTP 503" in rep["failed"][f"webhook:{url}"] and posts == []
        assert [e.payload["id"] for e in led.find(kind="alert")] == ["2008-09-01:regime_entered", "2008-09-02:regime_entered"]
        set_status(200)
        rep = deliver([alert(1), alert(2)], [LedgerChannel(led), WebhookChannel(url)], st)
        assert rep["failed"] == {} and [p["json"]["alert"]["id"] for p in posts] == [alert(1)["id"], alert(2)["id"]]
        assert len(led.find(kind="alert")) == 2 and led.verify()["ok"]


def test_the_ledger_channel_never_writes_an_alert_twice_even_without_its_state(tmp_path):
    led = Ledger(tmp_path / "ledger.sqlite")
    deliver([alert(3)], [LedgerChannel(led)], DeliveryState(tmp_path / "a.sqlite"))
    deliver([alert(3)], [LedgerChannel(led)], DeliveryState(tmp_path / "lost-and-new.sqlite"))
    assert len(led.find(kind="alert")) == 1


def test_wrong_password_and_missing_password_are_clear_errors(tmp_path):
    with smtp_server(tmp_path) as (inbox, port, ca):
        rep = deliver([alert(4)], [smtp_channel(port, ca, lambda s, u: "wrong")], DeliveryState(tmp_path / "s.sqlite"))
        assert "smtp 127.0.0.1" in next(iter(rep["failed"].values())) and inbox.messages == []
        rep = deliver([alert(4)], [smtp_channel(port, ca, lambda s, u: None)], DeliveryState(tmp_path / "s.sqlite"))
        assert "rotation alerts smtp-password" in next(iter(rep["failed"].values()))


@pytest.fixture(scope="module")
def demo_tail():
    """The demo market's alerts and the date of the third-last one."""
    from usecases.alerts import compute_alerts
    from usecases.context import open_market

    alerts = compute_alerts(open_market(demo=True))
    return alerts, alerts[-3].date.date().isoformat()


def test_cli_watch_delivers_a_new_alert_once_to_loopback_smtp_webhook_and_ledger(tmp_path, demo_tail, memory_keyring):
    alerts, since = demo_tail
    expected = [a.id for a in alerts if a.date.date().isoformat() >= since]
    memory_keyring.set_password(f"{KEYRING_SERVICE}:127.0.0.1", USER, PASSWORD)
    with smtp_server(tmp_path) as (inbox, port, ca), http_server() as (posts, url, _):
        args = ["alerts", "watch", "--demo", "--once", "--since", since, "--state", str(tmp_path / "st.sqlite"),
                "--ledger", str(tmp_path / "led.sqlite"), "--smtp", f"127.0.0.1:{port}", "--smtp-user", USER,
                "--mail-to", "pm@desk", "--cafile", str(ca), "--webhook", url, "--json"]
        r1 = runner.invoke(app, args)
        assert r1.exit_code == 0, r1.output
        out1 = json.loads(r1.stdout)
        assert [a["id"] for a in out1["alerts"]] == expected and out1["failed"] == {}
        r2 = runner.invoke(app, args)                      # a restart: nothing new, nothing sent again
        out2 = json.loads(r2.stdout)
        assert r2.exit_code == 0 and out2["alerts"] == [] and set(out2["delivered"].values()) == {0}
    assert [m["X-Rotation-Alert-Id"] for m in inbox.messages] == expected
    assert [p["json"]["alert"]["id"] for p in posts] == expected
    assert [e.payload["id"] for e in Ledger(tmp_path / "led.sqlite").find(kind="alert")] == expected


def test_watch_after_an_import_delivers_only_the_new_alerts(tmp_path, demo_tail):
    from usecases.alerts_watch import check_once
    from usecases.context import open_market

    alerts, since = demo_tail
    market = open_market(demo=True)
    cut = alerts[-1].date - __import__("pandas").Timedelta(days=1)
    led = Ledger(tmp_path / "led.sqlite")
    st = DeliveryState(tmp_path / "st.sqlite")
    early = check_once(market.asof(cut), [LedgerChannel(led)], st, since=since)
    assert [a["id"] for a in early["alerts"]] == [a.id for a in alerts[-3:-1]]
    late = check_once(market, [LedgerChannel(led)], DeliveryState(tmp_path / "st.sqlite"))   # stored since
    assert late["since"] == since and [a["id"] for a in late["alerts"]] == [alerts[-1].id]


def test_watch_loop_checks_on_start_and_after_each_import_only():
    from usecases.alerts_watch import watch

    versions = iter(["v1", "v1", "v2", "v2", "v3"])
    checked, slept, imports = [], [], []
    n = watch(load=lambda: "market", version=lambda: next(versions), check=lambda m: {"m": m},
              every_s=60.0, cycles=5, on_report=checked.append, sleep=slept.append, before=lambda: imports.append(1))
    assert n == 3 and len(checked) == 3 and slept == [60.0] * 4 and len(imports) == 5


def test_store_version_changes_only_when_an_import_changes_data(tmp_path):
    from usecases.alerts_watch import store_version
    from usecases.context import import_folders

    folder = tmp_path / "feed"
    folder.mkdir()
    (folder / "VIXCLS.csv").write_text("observation_date,VIXCLS\n2020-01-02,12.5\n2020-01-03,14.0\n")
    store = tmp_path / "s.sqlite"
    import_folders([folder], store)
    v1 = store_version(store)
    import_folders([folder], store)
    assert store_version(store) == v1                     # same files: no new check
    (folder / "VIXCLS.csv").write_text("observation_date,VIXCLS\n2020-01-02,12.5\n2020-01-03,14.0\n2020-01-06,13.0\n")
    import_folders([folder], store)
    assert store_version(store) != v1


def test_smtp_password_is_stored_in_the_keyring(memory_keyring):
    r = runner.invoke(app, ["alerts", "smtp-password", "--host", "mail.desk", "--user", USER], input="pw-123\n")
    assert r.exit_code == 0, r.output
    assert memory_keyring.get_password(f"{KEYRING_SERVICE}:mail.desk", USER) == "pw-123"


def test_bad_webhook_url_is_one_sentence_exit_2(tmp_path):
    r = runner.invoke(app, ["alerts", "watch", "--demo", "--once", "--state", str(tmp_path / "s.sqlite"),
                            "--no-ledger", "--webhook", "ftp://x", "--json"])
    assert r.exit_code == 2 and "--webhook" in json.loads(r.stdout)["error"]
