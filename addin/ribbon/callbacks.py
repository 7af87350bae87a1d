"""What each button of the "Sector Rotation" tab does, on any :class:`addin.ribbon.workbook.SheetBook`.

Inputs come from workbook-level named ranges (all optional): ``AsOfDate`` (decision date; empty =
latest session), ``CurrentWeights`` (ticker, weight rows), ``Limits`` (limit, value rows),
``Holdings`` (for trades), ``BacktestStrategy`` / ``BacktestFrom`` / ``BacktestTo`` (Run Backtest), ``DataSource`` ("demo", a data folder or a .sqlite store; empty = the same
source as the worksheet functions), ``VerifyPath`` (the workbook Verify checks; empty = the last export
of this session). Each callback calls the same use case as the command line and writes its tables
where the signed export puts them (sheet, anchor, caption and columns of ``workbooks.template.TABLES``).
Errors are one sentence in a message box; progress shows in the status bar.
"""
from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable

from addin.ribbon.workbook import SheetBook
from engine.errors import ArgumentError, RotationError

log = logging.getLogger(__name__)
_last_export: dict[str, str] = {}


def _first(book: SheetBook, name: str) -> Any:
    rows = book.read_range(name)
    return rows[0][0] if rows and rows[0] else None


def _market(book: SheetBook):
    from usecases.context import open_market

    src = _first(book, "DataSource")
    if src is None or (isinstance(src, str) and not src.strip()):
        from udfs.runtime import current_market

        return current_market()
    src = str(src).strip()
    if src.lower() == "demo":
        return open_market(demo=True)
    path = Path(src).expanduser()
    if path.is_dir():
        return open_market(data=path)
    if path.suffix.lower() in (".sqlite", ".db") and path.exists():
        return open_market(store=path)
    raise ArgumentError("DataSource", f"expected demo, a data folder or a .sqlite store, got {src!r}")


def _as_of(book: SheetBook):
    from udfs.convert import date_arg

    return date_arg(_first(book, "AsOfDate"), "AsOfDate")


def _inputs(book: SheetBook):
    from usecases import sheet

    cur = book.read_range("CurrentWeights")
    lim = book.read_range("Limits")
    blank = lambda rows: rows is None or all(c is None for r in rows for c in r)  # noqa: E731
    return (None if blank(cur) else sheet.weights_from_rows(cur, "CurrentWeights"),
            None if blank(lim) else sheet.limits_from_rows(lim, "Limits"))


def _put(book: SheetBook, table: str, df, label: str) -> None:
    """Write ``df`` where the export's template puts table ``table``, with the run's label on row 2."""
    from udfs.convert import cell
    from workbooks.template import TABLES

    spec = TABLES[table]
    book.write_table(spec.sheet, (spec.row, spec.col), list(df.columns),
                     [[cell(v) for v in r] for r in df.itertuples(index=False, name=None)], spec.caption)
    book.write_table(spec.sheet, (2, 1), [label], [])


def refresh_signals(book: SheetBook) -> str:
    """Signals sheet (daily stress signals up to the date) and the Dashboard reading."""
    from usecases import sheet

    market = _market(book)
    book.status("Sector Rotation: computing the stress signal...")
    sig = sheet.signals_frame(market, _as_of(book))
    dash = sheet.dashboard_frame(market, sig["date"].iloc[-1])
    book.clear("Signals")
    _put(book, "Signals", sig, f"{market.label}; as of {sig['date'].iloc[-1].date()}")
    book.write_table("Dashboard", (6, 1), list(dash.columns), [list(r) for r in dash.itertuples(index=False)],
                     "Bond stress reading")
    alerts = sheet.recent_alerts(market, sig["date"].iloc[-1])
    book.write_table("Dashboard", (6 + len(dash) + 3, 1), list(alerts.columns),
                     [[_cell(v) for v in r] for r in alerts.itertuples(index=False, name=None)],
                     "Alerts in the 92 days up to the date (the last quarterly rebalance window)")
    return f"Signals refreshed to {sig['date'].iloc[-1].date()} ({len(sig)} sessions, {len(alerts)} recent alerts)."


def optimize(book: SheetBook) -> str:
    """Weights sheet: current, target, benchmark, change, active; the transition path; risk figures."""
    from usecases import sheet

    market = _market(book)
    current, limits = _inputs(book)
    book.status("Sector Rotation: scores, risk model and allocation...")
    weights, transition, risk = sheet.allocation_frames(market, _as_of(book), current, limits)
    book.clear("Weights")
    label = f"{market.label}; as of {risk['as_of']}"
    _put(book, "Weights", weights, label)
    _put(book, "Transition", transition, label)
    book.write_table("Weights", (20, 1), ["tracking_error", "turnover", "expected_cost_bps", "binding"],
                     [[risk["tracking_error"], risk["turnover"], risk["expected_cost_bps"], risk["binding"]]],
                     "Risk and cost")
    return f"Target weights as of {risk['as_of']} (regime {risk['regime']}) written to the Weights sheet."


def export_signed(book: SheetBook) -> str:
    """The signed decision workbook (same use case as `rotation export`), saved beside this workbook."""
    from usecases.export import export_decision

    market = _market(book)
    current, limits = _inputs(book)
    book.status("Sector Rotation: building, signing and recording the decision workbook...")
    r = export_decision(market, _as_of(book), book.folder, current, limits, allow_ephemeral_key=market.is_demo)
    _last_export["path"] = r["path"]
    ok = (r["verify"] or {}).get("ok")
    book.write_table("Exports", (6, 1), ["as_of", "path", "sha256", "ledger_seq", "verified"],
                     [[str(r["as_of"]), r["path"], r["sha256"], r["ledger_seq"], bool(ok)]], "Signed exports")
    note = f" {r['note']}" if r.get("note") else ""
    return f"Signed workbook {Path(r['path']).name} written and recorded (ledger #{r['ledger_seq']}); " \
           f"verification {'holds' if ok else 'FAILS'}.{note}"


def verify(book: SheetBook) -> str:
    """Checks a signed workbook as `rotation verify` does: embedded signature, .p7s, trusted signer,
    content digest, ledger entry."""
    from workbooks.verify import verify_workbook

    target = _first(book, "VerifyPath") or _last_export.get("path")
    if not target:
        raise ArgumentError("VerifyPath", "name a cell VerifyPath holding the signed workbook to check, "
                                          "or export one first")
    book.status("Sector Rotation: verifying the signatures...")
    r = verify_workbook(Path(str(target)))
    problems = "; ".join(r["problems"])
    return f"{Path(str(target)).name}: all five checks hold." if r["ok"] else \
        f"{Path(str(target)).name}: verification FAILED ({problems})."


def settings(book: SheetBook) -> str:
    """Settings sheet: the named ranges the buttons read, their current values, and the data source."""
    names = ["AsOfDate", "CurrentWeights", "Limits", "Holdings", "DataSource", "VerifyPath"]
    rows = []
    for n in names:
        v = book.read_range(n)
        rows.append([n, "not defined" if v is None else f"{len(v)} x {len(v[0]) if v else 0} cells"])
    market = _market(book)
    book.clear("Settings")
    book.write_table("Settings", (6, 1), ["named range", "status"], rows, "Inputs the buttons read")
    book.write_table("Settings", (16, 1), ["data", "first", "last", "sessions"],
                     [[market.label, market.first.to_pydatetime(), market.last.to_pydatetime(), len(market.sessions)]],
                     "Data source")
    return f"Settings written; data: {market.label}, {market.first.date()} to {market.last.date()}."


def generate_trades(book: SheetBook) -> str:
    """Trades sheet (the export's Trades table: orders per step) and the Execution sheet (child orders),
    from the Holdings range, by the same use case as `rotation trades` (``usecases.trades``)."""
    import pandas as pd

    from usecases.trades import rebalance_trades

    market = _market(book)
    holdings = book.read_range("Holdings")
    if holdings is None or all(c is None for r in holdings for c in r):
        raise ArgumentError("Holdings", "name a range Holdings with ticker, shares[, acquired, cost_basis] rows")
    _, limits = _inputs(book)
    book.status("Sector Rotation: trade list, tax lots and execution schedule...")
    r = rebalance_trades(market, holdings, _as_of(book), limits)
    cols = ["step", "ticker", "side", "shares", "price", "notional", "expected_cost", "expected_cost_bps",
            "first_date", "last_date", "sessions", "max_day_participation"]
    orders = pd.DataFrame(r["orders"], columns=cols)
    sched = pd.DataFrame(r["schedule"])
    label = f"{market.label}; as of {r.get('as_of', '')}"
    book.clear("Trades")
    _put(book, "Trades", orders, label)
    book.clear("Execution")
    book.write_table("Execution", (6, 1), [str(c) for c in sched.columns],
                     [[_cell(v) for v in row] for row in sched.itertuples(index=False, name=None)], "Child orders")
    return (f"{len(orders)} orders ({len(sched)} child orders) written to the Trades and Execution sheets; "
            f"estimated tax {r['estimated_tax']:,.0f}; {r['transition_note']}")


def run_backtest(book: SheetBook) -> str:
    """Backtest and Scorecard sheets from ``usecases.backtest.run_backtest`` (the `rotation backtest` numbers):
    strategy from the range BacktestStrategy (default rotation), window from BacktestFrom/BacktestTo."""
    import pandas as pd

    from usecases.backtest import run_backtest as backtest

    market = _market(book)
    strategy = str(_first(book, "BacktestStrategy") or "rotation").strip().lower()
    kw = {}
    for name, key in (("BacktestFrom", "start"), ("BacktestTo", "end")):
        v = _first(book, name)
        if v is not None:
            from udfs.convert import date_arg

            kw[key] = pd.Timestamp(date_arg(v, name))
    book.status(f"Sector Rotation: backtesting {strategy} (walk-forward, after costs)...")
    res = backtest(market, strategy, **kw)
    d = res.daily()
    curve = pd.DataFrame({"date": d.index, "portfolio": d["nav"] / res.run.config.capital,
                          "benchmark": (1 + d["benchmark_return"]).cumprod()})
    r = res.to_dict()
    score = pd.DataFrame([(k, v) for k, v in r["metrics"].items()], columns=["metric", "value"])
    label = f"{market.label}; {strategy} {r['from']} to {r['to']}"
    book.clear("Backtest")
    _put(book, "Backtest", curve, label)
    book.clear("Scorecard")
    _put(book, "Scorecard", score, label)
    return (f"{strategy}: total return {r['metrics']['total_return']:.1%}, Sharpe {r['metrics']['sharpe']:.2f}, "
            f"max drawdown {r['metrics']['max_drawdown']:.1%} ({r['from']} to {r['to']}, after costs).")


def _cell(v):
    from udfs.convert import cell

    return cell(v)


ACTIONS: dict[str, Callable[[SheetBook], str]] = {
    "RefreshSignals": refresh_signals, "Optimize": optimize, "GenerateTrades": generate_trades,
    "RunBacktest": run_backtest, "ExportSigned": export_signed, "Verify": verify, "Settings": settings,
}


def run(action: str, book: SheetBook) -> bool:
    """Run one button's action on ``book``: its outcome (or the error, in one sentence) in a message.
    Returns True when the action succeeded."""
    fn = ACTIONS.get(action)
    try:
        if fn is None:
            raise ArgumentError("action", f"unknown button {action!r}; expected one of {', '.join(ACTIONS)}")
        book.message(fn(book))
        return True
    except RotationError as exc:
        book.message(f"Error: {exc}")
    except Exception as exc:                   # never a traceback in front of the user; the log has it
        log.exception("ribbon action %s failed", action)
        book.message(f"Error: internal error ({type(exc).__name__}: {exc}); see the log.")
    finally:
        book.status(None)
    return False
