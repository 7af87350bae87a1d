"""`rotation`: the command line of the sector rotation product.

Each command group lives in its own module and registers itself here.
"""
from __future__ import annotations

import typer

from addin.cli import (addin_cmd, data_cmd, demo_cmd, export_cmd, factors_cmd, keys_cmd, ledger_cmd, optimize_cmd, signals_cmd,
                       verify_cmd)
from addin.cli import backtest_cmd
from addin.cli import alerts_cmd, dashboard_cmd

app = typer.Typer(
    name="rotation",
    help="Bond-stress early warning and sector rotation (11 SPDR sector ETFs vs SPY).",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(data_cmd.app, name="data", help="Import vendor files into the local store and inspect it.")
app.add_typer(signals_cmd.app, name="signals", help="Bond stress reading, validation, history, sector mapping, triggers.")
app.command("demo")(demo_cmd.demo)
app.add_typer(factors_cmd.app, name="factors", help="Sector factor scores and IC tests.")
app.add_typer(optimize_cmd.app, name="optimize", help="Target weights within risk limits; compare with plain mean-variance.")
app.command("export")(export_cmd.export)
app.command("template")(export_cmd.template)
app.command("verify")(verify_cmd.verify)
app.add_typer(keys_cmd.app, name="keys", help="Signing keys for audit workbooks.")
app.add_typer(ledger_cmd.app, name="ledger", help="The hash-chained audit ledger.")
app.add_typer(addin_cmd.app, name="addin", help="Build the Excel add-in (.xlam); run a ribbon button.")
app.command("backtest")(backtest_cmd.backtest)
app.command("dashboard")(dashboard_cmd.dashboard)
app.add_typer(alerts_cmd.app, name="alerts", help="Alerts (regime, warning, re-entry, drift, stale data) and their delivery.")
app.command("trades")(__import__("addin.cli.trades_cmd", fromlist=["trades"]).trades)
app.command("slippage")(__import__("addin.cli.slippage_cmd", fromlist=["slippage"]).slippage)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
