"""Excel worksheet functions of the Sector Rotation add-in (xlwings UDFs).

The functions themselves live in ``udfs.family`` (face-neutral, shared with the LibreOffice Calc
add-in); this module only registers each one with xlwings: a thin wrapper with the same name,
signature and docstring, its category, and each argument's documentation and ``ndim`` from
``udfs.family.SPECS``. No computation lives here.

Conventions (docs/ARCHITECTURE.md, "Worksheet functions"):
- tables are dynamic arrays whose first row is the headers (Excel 365 spills them; no ``expand``);
- an error is the text ``#ERROR: <one sentence>`` in the top-left cell, never a traceback: test it
  with ``=LEFT(A1,7)="#ERROR:"`` or ``=ROTATION_ISERROR(A1)``;
- results are cached per data version (the store's signature) and arguments (``udfs.runtime.cached``).
"""
from __future__ import annotations

import functools

import xlwings as xw

from udfs import family
from udfs.family import AS_OF_DOC, CATEGORY, SPECS  # noqa: F401  (re-exported for the add-in build)


def _register(name: str):
    """The xlwings UDF for ``udfs.family.<name>``: a fresh wrapper (so a reload re-registers cleanly)."""
    fn = getattr(family, name)

    @functools.wraps(fn)
    def udf(*args, **kwargs):
        return fn(*args, **kwargs)

    udf.__module__ = __name__
    for arg in reversed(SPECS[name].args):
        udf = xw.arg(arg.name, ndim=2, doc=arg.doc)(udf) if arg.range else xw.arg(arg.name, doc=arg.doc)(udf)
    return xw.func(category=CATEGORY)(udf)


BOND_STRESS = _register("BOND_STRESS")
BOND_STRESS_DETAIL = _register("BOND_STRESS_DETAIL")
BOND_STRESS_HISTORY = _register("BOND_STRESS_HISTORY")
STRESS_REGIME = _register("STRESS_REGIME")
TECH_WARNING = _register("TECH_WARNING")
DEFENSIVE_ALTERNATIVES = _register("DEFENSIVE_ALTERNATIVES")
SECTOR_SCORES = _register("SECTOR_SCORES")
OPTIMAL_WEIGHTS = _register("OPTIMAL_WEIGHTS")
BOND_STRESS_FROM = _register("BOND_STRESS_FROM")
ROTATION_ISERROR = _register("ROTATION_ISERROR")
REBALANCE_TRADES = _register("REBALANCE_TRADES")
BACKTEST_STATS = _register("BACKTEST_STATS")
ALERTS = _register("ALERTS")
