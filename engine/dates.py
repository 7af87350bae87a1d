"""Parsing the decision date every face passes in (CLI text, Excel cell, Python date)."""
from __future__ import annotations

import pandas as pd

from engine.errors import ArgumentError


def parse_as_of(value, name: str = "as_of") -> pd.Timestamp | None:
    """None for "latest" (None or blank text), else a Timestamp; ArgumentError naming ``name`` otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        t = pd.Timestamp(value)
    except (ValueError, TypeError):
        raise ArgumentError(name, f"expected a date like 2008-10-10, got {value!r}") from None
    if t is pd.NaT:
        raise ArgumentError(name, f"expected a date like 2008-10-10, got {value!r}")
    return t
