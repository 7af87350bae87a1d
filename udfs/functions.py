"""Excel worksheet functions of the Sector Rotation add-in (xlwings UDFs).

Each function is a thin face: convert Excel arguments, call the same use case as the command line
(``usecases.signals``, ``usecases.sheet``), convert the result to cells. No computation lives here.

Conventions (docs/ARCHITECTURE.md, "Worksheet functions"):
- tables are dynamic arrays whose first row is the headers (Excel 365 spills them; no ``expand``);
- an error is the text ``#ERROR: <one sentence>`` in the top-left cell, never a traceback: test it
  with ``=LEFT(A1,7)="#ERROR:"`` or ``=ROTATION_ISERROR(A1)``;
- results are cached per data version (the store's signature) and arguments (``udfs.runtime.cached``).
"""
from __future__ import annotations

import xlwings as xw

from udfs import convert
from udfs.runtime import ERROR_PREFIX, cached, cell_errors, current_market

CATEGORY = "Sector Rotation"
AS_OF_DOC = "Date of the reading (a date cell, text like 2008-10-10, or empty for the latest session)."


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@cell_errors
@cached
def BOND_STRESS(as_of=None):
    """Composite bond stress index (standard-deviation units; 0 = average stress) at a date."""
    from usecases import signals

    return signals.bond_stress_value(current_market(), convert.date_arg(as_of))


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@cell_errors
@cached
def BOND_STRESS_DETAIL(as_of=None):
    """One row with headers: date, index, percentile, regime, strength, change_20d, warning_probability, stale inputs."""
    from usecases import sheet

    return convert.table(sheet.stress_detail(current_market(), convert.date_arg(as_of)))


@xw.func(category=CATEGORY)
@xw.arg("from_date", doc="First date of the history (a date cell or text like 2007-01-01; empty: the first session).")
@xw.arg("to_date", doc="Last date of the history (empty: the latest session).")
@xw.arg("columns", doc="Columns to show, as text like \"index, regime\" or a range of names (empty: all of "
                       "index, percentile, regime, strength, change_20d, warning_probability).")
@cell_errors
@cached
def BOND_STRESS_HISTORY(from_date, to_date=None, columns=None):
    """The stress signal per session between two dates: a dynamic array with a header row."""
    from usecases import sheet

    df = sheet.stress_history(current_market(), convert.date_arg(from_date, "from"), convert.date_arg(to_date, "to"),
                              convert.names(columns, "columns"))
    return convert.table(df)


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@cell_errors
@cached
def STRESS_REGIME(as_of=None):
    """Stress regime at a date: calm, elevated, stress or crisis (with hysteresis)."""
    from usecases import sheet

    return sheet.regime(current_market(), convert.date_arg(as_of))


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@cell_errors
@cached
def TECH_WARNING(as_of=None):
    """Probability that a NEW tech selloff starts in 20-60 sessions, and whether one is already running."""
    from usecases import sheet

    return convert.table(sheet.tech_warning(current_market(), convert.date_arg(as_of)))


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@xw.arg("n", doc="How many sectors to list (1 to 11; empty: 3).")
@cell_errors
@cached
def DEFENSIVE_ALTERNATIVES(as_of=None, n=None):
    """Sectors that beat tech in past stress, ranked on evidence only (walk-forward): sector, name, score, t_stat, ci_low, ci_high, strength."""
    from usecases import sheet

    return convert.table(sheet.defensive_table(current_market(), convert.date_arg(as_of),
                                               convert.whole_number(n, "n", 3, 1, 11)))


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc=AS_OF_DOC)
@cell_errors
@cached
def SECTOR_SCORES(as_of=None):
    """Sector x factor scores (standardized), the composite and its rank at a date."""
    from usecases import sheet

    return convert.table(sheet.scores_table(current_market(), convert.date_arg(as_of)))


@xw.func(category=CATEGORY)
@xw.arg("current_weights", ndim=2, doc="Range of ticker, weight rows held now (header optional; fractions or "
                                       "percent adding to 100%; CASH allowed). Empty: hold the benchmark.")
@xw.arg("as_of", doc=AS_OF_DOC)
@xw.arg("limits", ndim=2, doc="Optional range of limit, value rows overriding the defaults, e.g. tech_cap 0.25, "
                              "tracking_error 0.05, turnover 0.30, defensive_floor 0.30.")
@cell_errors
@cached
def OPTIMAL_WEIGHTS(current_weights, as_of=None, limits=None):
    """Target weights within the limits: ticker, current, target, benchmark, change (infeasible limits: the diagnosis)."""
    from usecases import sheet

    blank = current_weights is None or all(c is None for r in current_weights for c in r)
    cur = None if blank else sheet.weights_from_rows(current_weights, "current_weights")
    lim = None if limits is None or all(c is None for r in limits for c in r) else sheet.limits_from_rows(limits)
    return convert.table(sheet.weights_table(current_market(), cur, convert.date_arg(as_of), lim))


@xw.func(category=CATEGORY)
@xw.arg("dates", ndim=2, doc="One-column range of dates (oldest first; a header cell is allowed).")
@xw.arg("hy_oas", ndim=2, doc="One-column range of the high-yield OAS in percent, same rows as dates.")
@xw.arg("ig_oas", ndim=2, doc="One-column range of the investment-grade OAS in percent, same rows as dates.")
@xw.arg("vix", ndim=2, doc="One-column range of the VIX close, same rows as dates.")
@xw.arg("more_series", ndim=2, doc="More one-column ranges, each headed by its series name: t10y3m, t10y2y, move, ted, "
                                   "bbb_oas (same rows as dates).")
@cell_errors
@cached
def BOND_STRESS_FROM(dates, hy_oas, ig_oas, vix, *more_series):
    """The stress index computed point in time from your own series (e.g. BDH): date, index, percentile, change_20d, regime, strength."""
    from usecases import sheet

    cols = {"hy_oas": convert.column(hy_oas, "hy_oas"), "ig_oas": convert.column(ig_oas, "ig_oas"),
            "vix": convert.column(vix, "vix")}
    for i, extra in enumerate(more_series, start=1):
        name, cells = convert.named_column(extra, f"more_series {i}")
        cols[name] = cells
    return convert.table(sheet.stress_from_series(convert.column(dates, "dates"), cols))


@xw.func(category=CATEGORY)
@xw.arg("value", doc="A cell (or the top-left cell of a result) of a Sector Rotation function.")
def ROTATION_ISERROR(value=None):
    """TRUE when a Sector Rotation function returned an error text (#ERROR: ...), else FALSE."""
    while isinstance(value, (list, tuple)) and value:
        value = value[0]
    return isinstance(value, str) and value.startswith(ERROR_PREFIX)


@xw.func(category=CATEGORY)
@xw.arg("holdings", ndim=2, doc="Holdings range: header ticker, shares[, acquired, cost_basis]; one row per lot; "
                                "CASH and NAV rows allowed.")
@xw.arg("as_of", doc="Decision date (a date cell, text like 2008-10-10, or empty for the latest session).")
@xw.arg("step", doc="Trade to this step of the transition path (1 = the first rebalance; empty: 1).")
@cell_errors
@cached
def REBALANCE_TRADES(holdings, as_of=None, step=None):
    """Rebalance orders in whole shares from the holdings to a step of the transition: ticker, side, shares, notional, expected cost (bps)."""
    from usecases import sheet

    return convert.table(sheet.trades_table(current_market(), holdings, convert.date_arg(as_of),
                                            convert.whole_number(step, "step", 1, 1, 100)))


@xw.func(category=CATEGORY)
@xw.arg("strategy", doc="Strategy: rotation, rotation-nosignal, mean-variance, momentum, equal, benchmark or spy.")
@xw.arg("from_date", doc="First date of the backtest (empty: 2005-01-01).")
@xw.arg("to_date", doc="Last date (empty: the latest session).")
@xw.arg("params", ndim=2, doc="Optional range of parameter, value rows: lookback, top, leverage, vix_overlay, "
                              "schedule, every, min_gap, lag, cost_bps, capital, financing_spread_bps.")
@cell_errors
@cached
def BACKTEST_STATS(strategy, from_date=None, to_date=None, params=None):
    """Walk-forward backtest after costs (the `rotation backtest` numbers): metric, value."""
    from usecases import sheet

    if not isinstance(strategy, str) or not strategy.strip():
        from engine.errors import ArgumentError

        raise ArgumentError("strategy", f"expected a strategy name such as rotation, got {strategy!r}")
    blank = params is None or all(c is None for r in params for c in r)
    return convert.table(sheet.backtest_stats(current_market(), strategy, convert.date_arg(from_date, "from"),
                                              convert.date_arg(to_date, "to"),
                                              None if blank else sheet.params_from_rows(params)))


@xw.func(category=CATEGORY)
@xw.arg("since", doc="Alerts dated on or after this date (empty: the whole history).")
@cell_errors
@cached
def ALERTS(since=None):
    """Monitoring alerts (regime changes, re-entry, warning crossings, stale inputs): kind, date, message."""
    from usecases import sheet

    return convert.table(sheet.alerts_table(current_market(), convert.date_arg(since, "since")))
