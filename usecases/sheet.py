"""Tables for the spreadsheet faces (worksheet functions and ribbon buttons): one function per question.

Each returns a DataFrame whose columns are the headers the sheet shows (the index, when it carries
meaning, becomes the first column); the faces only convert it to cells. The same functions parse the
ranges a sheet passes in (current weights, limits, user series), so a worksheet function and a ribbon
button reading the same range accept and reject exactly the same input, with the same words.
"""
from __future__ import annotations

import math
from datetime import date, datetime

import numpy as np
import pandas as pd

from engine.data.model import Market
from engine.dates import excel_serial_to_datetime
from engine.errors import ArgumentError
from engine.optimize.limits import Limits
from engine.stress.config import StressConfig
from engine.stress.transform import resolve_inputs
from engine.universe import SECTORS, STRESS_SERIES
from usecases import factors, signals
from usecases.context import decision_date

DETAIL_COLUMNS = ["date", "index", "percentile", "regime", "strength", "change_20d", "warning_probability",
                  "stale_inputs"]
HISTORY_COLUMNS = ["index", "percentile", "regime", "strength", "change_20d", "warning_probability"]
WEIGHT_COLUMNS = ["ticker", "current", "target", "benchmark", "change"]


def stale_inputs(market: Market, t: pd.Timestamp) -> list[str]:
    """Stress inputs of the index whose last observation is before ``t`` (their value at t is carried
    forward or missing), as ``"name (last YYYY-MM-DD)"``; empty when every input is current."""
    used = resolve_inputs(market.stress.loc[:t], StressConfig.default().index).values()
    out = []
    for name in used:
        col = market.stress[name].loc[:t]
        meta = market.meta.get(name)
        last = col.last_valid_index()
        observed = min(last, pd.Timestamp(meta.last)) if meta and meta.last and last is not None else last
        if observed is None or observed < t:
            out.append(f"{name} (last {observed.date() if observed is not None else 'never'})")
    return out


def stress_detail(market: Market, as_of=None) -> pd.DataFrame:
    """One row: the reading at ``as_of`` with the stale inputs (``DETAIL_COLUMNS``)."""
    r = signals.stress_result(market).reading(as_of)
    t = pd.Timestamp(r["as_of"])
    stale = stale_inputs(market, t)
    row = {"date": t, **{k: r[k] for k in DETAIL_COLUMNS[1:-1]}, "stale_inputs": ", ".join(stale) or "none"}
    return pd.DataFrame([row], columns=DETAIL_COLUMNS)


def stress_history(market: Market, start=None, end=None, columns=None) -> pd.DataFrame:
    """One row per session from ``start`` to ``end`` (inclusive): date and ``columns`` (default: all)."""
    cols = list(columns) if columns else HISTORY_COLUMNS
    unknown = [c for c in cols if c not in HISTORY_COLUMNS]
    if unknown:
        raise ArgumentError("columns", f"unknown column {unknown[0]!r}; expected some of {', '.join(HISTORY_COLUMNS)}")
    t0 = decision_date(market, start) if start is not None else None
    t1 = decision_date(market, end) if end is not None else None
    if t0 is not None and t1 is not None and t1 < t0:
        raise ArgumentError("to", f"{t1.date()} is before from {t0.date()}")
    df = signals.history(market, t0, t1)[cols].reset_index()
    if df.empty:
        raise ArgumentError("from", "no session in that window")
    return df


def regime(market: Market, as_of=None) -> str:
    """The stress regime name at ``as_of`` ("n/a" before the index has enough history for one)."""
    return signals.stress_result(market).reading(as_of)["regime"] or "n/a"


def tech_warning(market: Market, as_of=None) -> pd.DataFrame:
    """One row: probability of a NEW tech selloff starting in 20-60 sessions, and whether one is running."""
    r = signals.reading(market, as_of, with_defensive=False)
    s = r["tech_selloff"]
    return pd.DataFrame([{"date": pd.Timestamp(r["as_of"]), "new_selloff_probability": r["warning_probability"],
                          "warning": bool(r["warning"]), "selloff_running": bool(s["in_progress"]),
                          "running_since": pd.Timestamp(s["since"]) if s["since"] else None,
                          "procedure": r["warning_procedure"]["short"]}])


def defensive_table(market: Market, as_of=None, n: int = 3) -> pd.DataFrame:
    """The ``n`` best alternatives to tech at ``as_of``, ranked on evidence only (walk-forward): sector, name,
    score (mean forward 60-session return vs XLK from sessions in stress), t_stat, ci_low, ci_high, strength."""
    if not 1 <= n <= len(SECTORS):
        raise ArgumentError("n", f"expected a whole number from 1 to {len(SECTORS)}, got {n}")
    t = decision_date(market, as_of)
    rows = signals.defensive_alternatives(market, signals.stress_result(market), t, top=n)
    if not rows:
        raise ArgumentError("as_of", f"too little history on {t.date()} to rank defensive sectors")
    return pd.DataFrame(rows, columns=["sector", "name", "score", "t_stat", "ci_low", "ci_high", "strength"])


def scores_table(market: Market, as_of=None) -> pd.DataFrame:
    """Sector x factor scores, the composite and its rank at ``as_of``."""
    res = signals.stress_result(market)
    df = factors.current_scores(market, res.daily["index"], as_of)
    keep = [c for c in df.columns if c not in ("composite_equal", "composite_ic")]
    return df[keep].reset_index()


def weights_table(market: Market, current: pd.Series | None = None, as_of=None,
                  limits: Limits | None = None) -> pd.DataFrame:
    """ticker, current, target, benchmark, change at ``as_of`` (InfeasibleError says which limits conflict)."""
    from usecases.optimize import optimize_as_of

    r = optimize_as_of(market, as_of, current, limits)
    rows = [{"ticker": tk, "current": r["current"][tk], "target": w, "benchmark": r["benchmark"][tk],
             "change": w - r["current"][tk]} for tk, w in r["weights"].items()]
    return pd.DataFrame(rows, columns=WEIGHT_COLUMNS)


# ---- parsing the ranges a sheet passes in -------------------------------------------------------

def _blank(v) -> bool:
    return v is None or (isinstance(v, str) and not v.strip()) or (isinstance(v, float) and math.isnan(v))


def _number(v, argument: str, row: int, what: str) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ArgumentError(f"{argument} row {row}", f"{what} {v!r} is not a number")
    try:
        x = float(v.strip().rstrip("%")) if isinstance(v, str) else float(v)      # "50%" is 50, as in the CSV reader
    except ValueError:
        raise ArgumentError(f"{argument} row {row}", f"{what} {v!r} is not a number") from None
    if not math.isfinite(x):
        raise ArgumentError(f"{argument} row {row}", f"{what} {v!r} is not a finite number")
    return x


def _rows(rows, argument: str, width: int) -> list[tuple[int, list]]:
    """Non-blank rows (1-based numbers) of a 2-D range, each with at least ``width`` cells."""
    if not isinstance(rows, (list, tuple)) or not all(isinstance(r, (list, tuple)) for r in rows):
        raise ArgumentError(argument, f"expected a range of {width} columns")
    out = []
    for i, r in enumerate(rows, start=1):
        cells = list(r)
        if all(_blank(c) for c in cells):
            continue
        if len(cells) < width:
            raise ArgumentError(f"{argument} row {i}", f"expected {width} columns, got {len(cells)}")
        out.append((i, cells))
    return out


def weights_from_rows(rows, argument: str = "current_weights") -> pd.Series:
    """Current weights from a range of ``ticker, weight`` rows (header optional; fractions or percent).

    Same rules as the CSV reader (``usecases.optimize.read_weights_csv``): known tickers or CASH, long
    only, adding up to 100%; errors name the argument and the row."""
    out: dict[str, float] = {}
    for i, (tk, w) in ((i, r[:2]) for i, r in _rows(rows, argument, 2)):
        if not out and isinstance(tk, str) and tk.strip().lower() in ("ticker", "sector", "symbol"):
            continue
        name = str(tk).strip().upper() if isinstance(tk, str) else None
        if name not in SECTORS and name != "CASH":
            raise ArgumentError(f"{argument} row {i}", f"unknown ticker {tk!r}; expected one of {', '.join(SECTORS)} or CASH")
        x = _number(w, argument, i, "weight")
        if x < 0:
            raise ArgumentError(f"{argument} row {i}", f"weight {x:g} is negative (long only)")
        if name in out:
            raise ArgumentError(f"{argument} row {i}", f"{name} appears twice")
        out[name] = x
    if not out:
        raise ArgumentError(argument, "no ticker,weight rows")
    w = pd.Series(out, dtype=float)
    if w.sum() > 1.5:
        w = w / 100.0
    if not 0.98 <= w.sum() <= 1.02:
        raise ArgumentError(argument, f"weights sum to {w.sum():.2%}; expected 100%")
    return w.drop("CASH", errors="ignore").reindex(list(SECTORS)).fillna(0.0)


def limits_from_rows(rows, argument: str = "limits") -> Limits:
    """Limits from a range of ``name, value`` rows (header optional); unknown names and bad values raise."""
    table: dict = {}
    for i, (k, v) in ((i, r[:2]) for i, r in _rows(rows, argument, 2)):
        if not table and isinstance(k, str) and k.strip().lower() in ("limit", "name", "key"):
            continue
        if not isinstance(k, str) or not k.strip():
            raise ArgumentError(f"{argument} row {i}", f"expected a limit name, got {k!r}")
        table[k.strip().lower()] = v if isinstance(v, bool) else _number(v, argument, i, k.strip())
    return Limits.from_mapping(table, source=argument)


def _date_cell(v, argument: str, row: int) -> pd.Timestamp:
    t = None
    if isinstance(v, (datetime, date)):
        t = pd.Timestamp(v)
    elif isinstance(v, (int, float)) and not isinstance(v, bool):      # an Excel date number (engine.dates)
        try:
            t = pd.Timestamp(excel_serial_to_datetime(v, f"{argument} row {row}"))
        except pd.errors.OutOfBoundsDatetime:
            pass
    elif isinstance(v, str):
        try:
            t = pd.Timestamp(v.strip())
        except (ValueError, TypeError, OverflowError):
            pass
    if t is None or t is pd.NaT or not pd.Timestamp.min < t < pd.Timestamp.max:
        raise ArgumentError(f"{argument} row {row}", f"expected a date between 1678 and 2261, got {v!r}")
    return t


def series_frame(dates, columns: dict[str, list]) -> pd.DataFrame:
    """A (dates x series) frame from columns of sheet cells. A first row of text in every column is a
    header and skipped; blank or non-numeric value cells are missing. Dates must be strictly increasing."""
    unknown = [n for n in columns if n not in STRESS_SERIES]
    if unknown:
        raise ArgumentError("series", f"unknown series {unknown[0]!r}; expected names like {', '.join(STRESS_SERIES[:6])}")
    d = list(dates)
    skip = 1 if d and isinstance(d[0], str) and not _looks_like_date(d[0]) else 0
    idx, keep = [], []
    for i, v in enumerate(d[skip:], start=skip + 1):
        if _blank(v):
            continue
        idx.append(_date_cell(v, "dates", i))
        keep.append(i - 1)
    if len(idx) < 2:
        raise ArgumentError("dates", "expected a column of at least two dates")
    steps = np.diff(np.array(idx, dtype="datetime64[ns]")).astype(np.int64)
    if (steps <= 0).any():
        j = int(np.argmax(steps <= 0))
        raise ArgumentError(f"dates row {keep[j + 1] + 1}", f"{idx[j + 1].date()} does not come after {idx[j].date()}")
    data = {}
    for name, col in columns.items():
        if len(col) < len(d):
            raise ArgumentError(name, f"has {len(col)} rows; the dates have {len(d)}")
        data[name] = [float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else np.nan
                      for c in (col[k] for k in keep)]
    df = pd.DataFrame(data, index=pd.DatetimeIndex(idx, name="date"))
    return df.replace([np.inf, -np.inf], np.nan)


def _looks_like_date(s: str) -> bool:
    try:
        pd.Timestamp(s)
        return True
    except (ValueError, TypeError):
        return False


def stress_from_series(dates, columns: dict[str, list]) -> pd.DataFrame:
    """``BOND_STRESS_FROM``: the index computed point in time from the user's own series."""
    from engine.stress.from_series import index_from_series

    df = series_frame(dates, columns)
    out = index_from_series(df)
    if out["index"].notna().sum() == 0:
        raise ArgumentError("dates", f"{len(df)} rows are too few: the index needs "
                            f"{StressConfig.default().index.min_history} rows of history before its first value")
    return out.reset_index()


# ---- sheets the ribbon writes (laid out like the signed export's) ---------------------------------

SIGNAL_SHEET_COLUMNS = ["date", "index", "percentile", "change_20d", "regime", "strength", "warning_probability"]


def signals_frame(market: Market, as_of=None) -> pd.DataFrame:
    """The export's Signals table: every session from the first reading to ``as_of``, percentile as a fraction."""
    t = decision_date(market, as_of)
    daily = signals.stress_result(market).daily
    first = daily["index"].first_valid_index()
    if first is None or first > t:
        raise ArgumentError("as_of", f"no stress reading on or before {t.date()}")
    out = daily.loc[first:t, SIGNAL_SHEET_COLUMNS[1:]].copy()
    out["percentile"] = out["percentile"] / 100.0
    out.index.name = "date"
    return out.reset_index()


def dashboard_frame(market: Market, as_of=None) -> pd.DataFrame:
    """The reading in words and numbers (measure, value) for the Dashboard sheet."""
    r = signals.reading(market, as_of)
    s = r["tech_selloff"]
    t = pd.Timestamp(r["as_of"])
    rows = [("as of", r["as_of"]), ("stress index (sd)", r["index"]), ("percentile", r["percentile"] / 100.0),
            ("regime", r["regime"]), ("signal strength (0-100)", r["strength"]), ("change over 20 sessions", r["change_20d"]),
            ("probability of a new tech selloff in 20-60 sessions", r["warning_probability"]),
            ("tech selloff running", f"since {s['since']}" if s["in_progress"] else "no"),
            ("best vs tech in past stress (evidence)", ", ".join(f"{d['sector']} ({d['strength']})" for d in r["defensive"])
             or "none ranked yet"),
            ("defensive tilt", _tilt_words(r.get("defensive_tilt"))),
            ("stale inputs", ", ".join(stale_inputs(market, t)) or "none"), ("data", r["label"])]
    return pd.DataFrame(rows, columns=["measure", "value"])


def allocation_frames(market: Market, as_of=None, current: pd.Series | None = None,
                      limits: Limits | None = None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """(Weights table, Transition table, risk figures) as the export lays them out, from ``optimize_as_of``."""
    from usecases.optimize import optimize_as_of

    r = optimize_as_of(market, as_of, current, limits)
    w = pd.DataFrame({"ticker": list(r["weights"]), "sector": [SECTORS[t] for t in r["weights"]],
                      "current": [r["current"][t] for t in r["weights"]], "target": list(r["weights"].values()),
                      "benchmark": [r["benchmark"][t] for t in r["weights"]]})
    w["change"] = w["target"] - w["current"]
    w["active"] = w["target"] - w["benchmark"]
    path = pd.DataFrame(r["transition"])
    transition = path[["step"] + [c for c in SECTORS if c in path.columns]].copy()
    transition["cost"] = path["cost_bps"]
    risk = {"as_of": r["as_of"], "regime": r["regime"], "tracking_error": r["tracking_error"],
            "turnover": r["turnover"], "expected_cost_bps": r["expected_cost_bps"],
            "binding": "; ".join(r["binding_text"]) or "none"}
    return w, transition, risk


# ---- trades, backtest and alerts (the use cases of issues 10, 9 and 12) --------------------------

TRADE_COLUMNS = ["ticker", "side", "shares", "notional", "expected_cost_bps"]


def trades_table(market: Market, holdings_rows, as_of=None, step: int = 1) -> pd.DataFrame:
    """``REBALANCE_TRADES``: orders in whole shares from the holdings range to step ``step`` of the path."""
    from usecases.trades import rebalance_trades

    r = rebalance_trades(market, holdings_rows, as_of, step=step)
    return pd.DataFrame([{c: o[c] for c in TRADE_COLUMNS} for o in r["orders"]], columns=TRADE_COLUMNS)


def params_from_rows(rows, argument: str = "params") -> dict:
    """Backtest parameters from ``name, value`` rows (header optional); the use case names unknown ones."""
    out: dict = {}
    for i, (k, v) in ((i, r[:2]) for i, r in _rows(rows, argument, 2)):
        if not out and isinstance(k, str) and k.strip().lower() in ("parameter", "name", "param"):
            continue
        if not isinstance(k, str) or not k.strip():
            raise ArgumentError(f"{argument} row {i}", f"expected a parameter name, got {k!r}")
        if isinstance(v, float) and not math.isfinite(v):
            raise ArgumentError(f"{argument} row {i}", f"{k.strip()} {v!r} is not a finite number")
        out[k.strip().lower()] = int(v) if isinstance(v, float) and v.is_integer() and k.strip().lower() in (
            "lookback", "top", "every", "min_gap", "lag") else v
    return out


def backtest_stats(market: Market, strategy: str, start=None, end=None, params: dict | None = None) -> pd.DataFrame:
    """``BACKTEST_STATS``: metric, value of ``usecases.backtest.run_backtest`` (the `rotation backtest` numbers)."""
    from usecases.backtest import run_backtest

    kw = dict(params or {})
    from engine.dates import parse_as_of

    for key, value, arg in (("start", start, "from"), ("end", end, "to")):
        t = parse_as_of(value, arg)
        if t is not None:
            kw[key] = t               # "from D": the use case's own rule (first decision the session before D)
    r = run_backtest(market, str(strategy).strip().lower(), **kw).to_dict()
    rows = [("strategy", r["strategy"]), ("from", r["from"]), ("to", r["to"])]
    rows += [(k, v) for k, v in r["metrics"].items()]
    rows += [("rebalances", r["rebalances"]), ("failed_rebalances", len(r["failed_rebalances"]))]
    rows += [("note", n) for n in r["notes"]]
    return pd.DataFrame(rows, columns=["metric", "value"])


def alerts_table(market: Market, since=None) -> pd.DataFrame:
    """``ALERTS``: the monitoring alerts dated on or after ``since`` (kind, date, message)."""
    from usecases.alerts import alert_list

    r = alert_list(market, since)
    return pd.DataFrame([{"kind": a["kind"], "date": pd.Timestamp(a["date"]), "message": a["message"]}
                         for a in r["alerts"]], columns=["kind", "date", "message"])


def recent_alerts(market: Market, as_of, days: int = 92) -> pd.DataFrame:
    """Alerts in the ``days`` calendar days up to ``as_of`` computed on ``market.asof(as_of)``, as the decision
    workbook lists them (``usecases.alerts.preceding_alerts``): date, kind, message, recommendation."""
    from usecases.alerts import preceding_alerts

    df = preceding_alerts(market, as_of, days)
    out = df[["date", "kind", "message", "recommendation"]].copy()
    out["date"] = pd.to_datetime(out["date"])
    return out


def _tilt_words(tilt: dict | None) -> str:
    """:func:`engine.stress.defensive.tilt_words` (imported when a sheet shows the reading)."""
    from engine.stress.defensive import tilt_words

    return tilt_words(tilt)
