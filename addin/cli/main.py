"""`rotation`: the command line of the sector rotation product.

Commands are registered in ``COMMANDS`` (one line each: name -> ("module:attribute", help)); a
command's module is imported only when that command runs, so ``rotation --help`` imports no
command module, no pandas and no scipy. The attribute is a ``typer.Typer`` (a command group) or a
plain command function.
"""
from __future__ import annotations

import gc
import importlib
import re
import sys

import typer
from typer.core import TyperGroup

_BRACKET = re.compile(r"(?<!\\)\[")

COMMANDS: dict[str, tuple[str, str]] = {
    "data": ("addin.cli.data_cmd:app", "Import vendor files into the local store and inspect it."),
    "signals": ("addin.cli.signals_cmd:app", "Bond stress reading, validation, history, sector mapping, triggers."),
    "demo": ("addin.cli.demo_cmd:demo", "Every stage end to end on the synthetic demo market (or --data)."),
    "factors": ("addin.cli.factors_cmd:app", "Sector factor scores and IC tests."),
    "optimize": ("addin.cli.optimize_cmd:app", "Target weights within risk limits; compare with plain mean-variance."),
    "export": ("addin.cli.export_cmd:export", "Write the signed decision workbook."),
    "template": ("addin.cli.export_cmd:template", "Write the default workbook template to restyle."),
    "verify": ("addin.cli.verify_cmd:verify", "Verify a signed workbook: signatures, digest, ledger entry."),
    "approve": ("addin.cli.approve_cmd:approve", "Add an approver's signature and ledger entry to a signed decision workbook."),
    "keys": ("addin.cli.keys_cmd:app", "Signing keys for audit workbooks."),
    "ledger": ("addin.cli.ledger_cmd:app", "The hash-chained audit ledger."),
    "backtest": ("addin.cli.backtest_cmd:backtest", "Walk-forward backtest of a strategy against its benchmark and SPY."),
    "trades": ("addin.cli.trades_cmd:trades", "Rebalance trade list in whole shares: lots, tax, costs, schedule, orders."),
    "slippage": ("addin.cli.slippage_cmd:slippage", "Implementation shortfall of executed orders from a fills file."),
    "alerts": ("addin.cli.alerts_cmd:app", "Alerts (regime, warning, re-entry, drift, stale data) and their delivery."),
    "dashboard": ("addin.cli.dashboard_cmd:dashboard", "The morning dashboard: book vs benchmark and target, stress, alerts, attribution."),
    "sweep": ("addin.cli.sweep_cmd:sweep", "Parameter sweep of a strategy (local processes or a Dask cluster), with sensitivity, DSR and PBO."),
    "scorecard": ("addin.cli.scorecard_cmd:scorecard", "The success-metrics scorecard out of sample, with intervals and computed verdicts."),
    "research": ("addin.cli.research_cmd:app", "Published experiments re-run beside their claims (exp002)."),
    "addin": ("addin.cli.addin_cmd:app", "Build the Excel add-in (.xlam); run a ribbon button."),
    "calc": ("addin.cli.calc_cmd:app", "Build and install the LibreOffice Calc extension (.oxt): functions, menu, toolbar."),
}


def load_command(name: str):
    """The click command registered as ``name`` (imports its module)."""
    target, help_text = COMMANDS[name]
    module, attr = target.split(":")
    obj = getattr(importlib.import_module(module), attr)
    if isinstance(obj, typer.Typer):
        cmd = typer.main.get_group(obj)          # a group even with one subcommand (`research exp002`)
    else:
        single = typer.Typer(add_completion=False)
        single.command(name)(obj)
        cmd = typer.main.get_command(single)
    cmd.name = name
    if not cmd.help:
        cmd.help = help_text
    literal_brackets(cmd)
    return cmd


def literal_brackets(cmd) -> None:
    """Escape ``[`` in the help texts of ``cmd``, its options and subcommands: typer renders help as rich
    markup, which would swallow ``[limits]`` or ``[smtp]`` as unknown style tags."""
    def esc(text):
        return _BRACKET.sub(r"\\[", text) if text and "[" in text else text
    cmd.help = esc(cmd.help)
    for param in cmd.params:
        if getattr(param, "help", None):
            param.help = esc(param.help)
    for sub in getattr(cmd, "commands", {}).values():
        literal_brackets(sub)


class LazyGroup(TyperGroup):
    """The top-level group: commands from ``COMMANDS``, imported on first use; plain, import-free help."""

    def list_commands(self, ctx) -> list[str]:
        return list(COMMANDS) + [n for n in self.commands if n not in COMMANDS]   # + eagerly registered ones

    def get_command(self, ctx, cmd_name: str):
        if cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)        # registered the eager way (app.command / add_typer)
        if cmd_name not in self.commands:
            self.commands[cmd_name] = load_command(cmd_name)
        return self.commands[cmd_name]

    def format_help(self, ctx, formatter) -> None:
        self.format_usage(ctx, formatter)
        self.format_help_text(ctx, formatter)
        self.format_options(ctx, formatter)

    def format_commands(self, ctx, formatter) -> None:
        rows = [(n, h) for n, (_, h) in COMMANDS.items()]
        rows += [(n, c.get_short_help_str(80)) for n, c in self.commands.items() if n not in COMMANDS]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


app = typer.Typer(name="rotation", cls=LazyGroup, no_args_is_help=True, add_completion=False,
                  pretty_exceptions_enable=False)


@app.callback()
def rotation() -> None:
    """Bond-stress early warning and sector rotation (11 SPDR sector ETFs vs SPY)."""


def main() -> None:
    """Entry point of the ``rotation`` console script: no traceback ever reaches the terminal."""
    try:
        app()
    except SystemExit:
        raise
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last line of defence; commands handle their own errors
        from addin.cli.common import unexpected_message

        sys.stderr.write(f"error: {unexpected_message(exc)}\n")
        sys.exit(2)
    finally:
        gc.freeze()   # the interpreter's collections at exit skip every object alive now (0.05-0.1 s of CPU)


if __name__ == "__main__":
    main()
