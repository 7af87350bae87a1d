"""Excel worksheet functions of the Sector Rotation add-in (xlwings UDFs).

Each function is a thin face: convert Excel arguments, call the same use case as the command
line, return a value or a short error text. No computation lives here.
"""
from __future__ import annotations

import xlwings as xw

from udfs.runtime import as_of_arg, cell_errors, current_market

CATEGORY = "Sector Rotation"


@xw.func(category=CATEGORY)
@xw.arg("as_of", doc="Date of the reading (a date cell, text like 2008-10-10, or empty for the latest session).")
@cell_errors
def BOND_STRESS(as_of=None):
    """Composite bond stress index (standard-deviation units; 0 = average stress) at a date."""
    from usecases import signals          # imported on first call: loading the add-in stays fast

    return signals.bond_stress_value(current_market(), as_of_arg(as_of))
