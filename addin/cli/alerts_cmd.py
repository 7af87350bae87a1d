"""`rotation alerts [--from D] [--to D] [--holdings h.csv]`, `rotation alerts watch`, `rotation alerts smtp-password`."""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from addin.cli.common import DataOpt, DemoOpt, JsonOpt, StoreOpt, emit, err, handle_errors, out, print_json, spinner

app = typer.Typer(invoke_without_command=True, no_args_is_help=False)

FromOpt = Annotated[Optional[str], typer.Option("--from", help="First alert date (YYYY-MM-DD).")]
ToOpt = Annotated[Optional[str], typer.Option("--to", help="Last alert date (YYYY-MM-DD).")]
HoldingsOpt = Annotated[Optional[Path], typer.Option(
    "--holdings", help="The book: a holdings CSV, a CSV with a date column, or a folder of dated holdings files "
    "(adds the tech-band and drift rules).")]
ConfigOpt = Annotated[Optional[Path], typer.Option(
    "--config", help="Alert TOML overriding engine/alerts/default.toml ([smtp] and [webhook] tables for delivery).",
    dir_okay=False)]
StressOpt = Annotated[Optional[Path], typer.Option("--stress-config", help="Stress TOML (see `rotation signals`).",
                                                   dir_okay=False)]
LimitsOpt = Annotated[Optional[Path], typer.Option("--limits", help="Limits TOML (the tech cap, targets).",
                                                   dir_okay=False)]


def _settings(config, stress_config, limits):
    from engine.alerts.config import AlertConfig
    from engine.optimize.limits import Limits
    from engine.stress.config import StressConfig

    return (AlertConfig.from_toml(config), StressConfig.from_toml(stress_config) if stress_config else None,
            Limits.from_toml(limits) if limits else Limits())


def _book(market, holdings, lim):
    if holdings is None:
        return None
    from usecases.book import book_view

    return book_view(market, holdings, lim)


def render_alerts(alerts: list[dict]) -> None:
    for a in alerts:
        out.print(f"{a['date']}  [bold]{a['kind']:<14}[/] {a['message']}", highlight=False, markup=True)
        out.print(f"{'':12}-> {a['recommendation']}", highlight=False, markup=False)


@app.callback()
def alerts_cmd(ctx: typer.Context, start: FromOpt = None, end: ToOpt = None, holdings: HoldingsOpt = None,
               config: ConfigOpt = None, stress_config: StressOpt = None, limits: LimitsOpt = None,
               data: DataOpt = None, store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False) -> None:
    """Alerts in a window: regime entered/left, strength moves, warning crossings, re-entry, tech band, drift, stale data."""
    if ctx.invoked_subcommand is not None:
        return
    from usecases.alerts import alert_list
    from usecases.context import open_market

    with handle_errors(as_json):
        cfg, scfg, lim = _settings(config, stress_config, limits)
        with spinner(as_json, "computing the alerts"):
            market = open_market(data=data, store=store, demo=demo)
            rep = alert_list(market, start, end, cfg, scfg, _book(market, holdings, lim), lim)

        def render(r: dict) -> None:
            render_alerts(r["alerts"])
            out.print(f"{r['count']} alerts {r['from'] or 'from the start'} to {r['to'] or 'the last session'}  "
                      f"({r['label']})", highlight=False, markup=False)
        emit(rep, as_json, render)


def _channels(cfg_path, webhook, smtp, mail_from, mail_to, smtp_user, starttls, cafile, ledger, no_ledger, sink):
    import tomllib

    from usecases.delivery import LedgerChannel, SmtpChannel, TerminalChannel, WebhookChannel
    from workbooks.ledger import Ledger

    extra = {}
    if cfg_path is not None:
        with open(cfg_path, "rb") as fh:
            extra = tomllib.load(fh)
    chans = [TerminalChannel(write=sink.append)]
    if not no_ledger:
        chans.append(LedgerChannel(Ledger(ledger)))
    sm = dict(extra.get("smtp", {}))
    if smtp:
        host, _, port = smtp.rpartition(":") if ":" in smtp else (smtp, "", "587")
        sm.update(host=host, port=port)
    if sm:
        from engine.errors import ArgumentError
        try:
            port = int(sm.get("port", 587))
        except ValueError:
            raise ArgumentError("--smtp", f"expected HOST:PORT with a numeric port, got {smtp!r}") from None
        to = tuple(mail_to or sm.get("to", ()))
        if not to:
            raise ArgumentError("--mail-to", "expected at least one recipient for SMTP delivery")
        chans.append(SmtpChannel(host=sm["host"], port=port, sender=mail_from or sm.get("from", "rotation@localhost"),
                                 recipients=to, starttls=sm.get("starttls", True) if starttls is None else starttls,
                                 username=smtp_user or sm.get("username"), cafile=cafile or sm.get("cafile")))
    url = webhook or extra.get("webhook", {}).get("url")
    if url:
        chans.append(WebhookChannel(url))
    return chans


@app.command("watch")
def watch_cmd(
    every: Annotated[float, typer.Option("--every", help="Minutes between checks of the store.", min=0.0)] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="Check once and exit (for cron).")] = False,
    import_from: Annotated[Optional[Path], typer.Option("--import-from", help="Import this folder before each check.", file_okay=False)] = None,
    since: Annotated[Optional[str], typer.Option("--since", help="Deliver alerts dated on or after this date (default: the last session at the first start).")] = None,
    state: Annotated[Optional[Path], typer.Option("--state", help="Delivery state file (default: $ROTATION_ALERTS_STATE or the user data dir).", dir_okay=False)] = None,
    ledger: Annotated[Optional[Path], typer.Option("--ledger", help="Audit ledger (default: $ROTATION_LEDGER).", dir_okay=False)] = None,
    no_ledger: Annotated[bool, typer.Option("--no-ledger", help="Do not record alerts in the ledger.")] = False,
    webhook: Annotated[Optional[str], typer.Option("--webhook", help="POST each alert as JSON to this URL.")] = None,
    smtp: Annotated[Optional[str], typer.Option("--smtp", help="SMTP server HOST:PORT (or [smtp] host/port in --config).")] = None,
    mail_from: Annotated[Optional[str], typer.Option("--mail-from", help="Sender address.")] = None,
    mail_to: Annotated[Optional[list[str]], typer.Option("--mail-to", help="Recipient (repeatable).")] = None,
    smtp_user: Annotated[Optional[str], typer.Option("--smtp-user", help="SMTP login (password in the keyring).")] = None,
    starttls: Annotated[Optional[bool], typer.Option("--starttls/--no-starttls", help="Upgrade with STARTTLS (default on).")] = None,
    cafile: Annotated[Optional[Path], typer.Option("--cafile", help="CA bundle for the SMTP server's certificate.", dir_okay=False)] = None,
    holdings: HoldingsOpt = None, config: ConfigOpt = None, stress_config: StressOpt = None, limits: LimitsOpt = None,
    store: StoreOpt = None, demo: DemoOpt = False, as_json: JsonOpt = False,
) -> None:
    """Check after each data import (polling every N minutes) and deliver new alerts once: terminal, ledger, SMTP, webhook."""
    from usecases import alerts_watch
    from usecases.context import import_folders, open_market
    from usecases.delivery import DeliveryState

    with handle_errors(as_json):
        cfg, scfg, lim = _settings(config, stress_config, limits)
        sink: list[str] = []
        chans = _channels(config, webhook, smtp, mail_from, mail_to, smtp_user, starttls,
                          str(cafile) if cafile else None, ledger, no_ledger, sink)
        st = DeliveryState(state)
        load = lambda: open_market(store=store, demo=demo)  # noqa: E731
        version = (lambda: "demo") if demo else (lambda: alerts_watch.store_version(store))
        before = (lambda: import_folders([import_from], store)) if import_from else (lambda: None)

        def check(market):
            return alerts_watch.check_once(market, chans, st, since, cfg, scfg, _book(market, holdings, lim), lim)

        def report(r: dict) -> None:
            if as_json:
                sys.stdout.write(json.dumps(r) + "\n") if not once else print_json(r)
                sys.stdout.flush()
            else:
                for line in sink:
                    out.print(line, highlight=False, markup=False)
                failed = "; ".join(f"{k}: {v}" for k, v in r["failed"].items())
                err.print(f"checked {r['last_session']} ({r['label']}): {len(r['alerts'])} new alert(s) since "
                          f"{r['since']}" + (f"; NOT delivered: {failed}" if failed else ""), highlight=False, markup=False)
            sink.clear()
        try:
            alerts_watch.watch(load, version, check, every * 60.0, cycles=1 if once else None, on_report=report,
                               before=before)
        except KeyboardInterrupt:
            err.print("watch stopped", highlight=False)


@app.command("smtp-password")
def smtp_password(host: Annotated[str, typer.Option("--host", help="SMTP server.")],
                  user: Annotated[str, typer.Option("--user", help="SMTP login.")]) -> None:
    """Store the SMTP password of USER at HOST in the OS keyring (prompted, not echoed)."""
    from engine.errors import RotationError
    from usecases.delivery import KEYRING_SERVICE

    with handle_errors(False):
        pw = typer.prompt("SMTP password", hide_input=True)
        import keyring
        try:
            keyring.set_password(f"{KEYRING_SERVICE}:{host}", user, pw)
        except Exception as exc:
            raise RotationError(f"the keyring cannot store the password ({exc})") from None
        out.print(f"stored the password of {user} at {host} in the keyring", highlight=False, markup=False)
