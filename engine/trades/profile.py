"""Intraday volume profiles: the share of a full session's volume traded in each 30-minute slot.

The default is a stylised U shape for US equities (heavier open, lighter midday, heaviest last
half hour, which includes the closing auction: about 9% of US traded value in 2024). It is an
assumption, not a fit to ETF data (no public ETF curve was found); pass a profile file of your
own. Layout (CSV, header ``start,weight``; one row per 30-minute slot from the open; weights
are normalised)::

    start,weight
    09:30,0.12
    10:00,0.085
    ...
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np

from engine.errors import DataError

SLOT_MINUTES = 30
DEFAULT_U = np.array([0.12, 0.085, 0.07, 0.06, 0.055, 0.05, 0.05, 0.05, 0.055, 0.06, 0.07, 0.09, 0.185])


def read_profile(path: str | Path) -> np.ndarray:
    """Slot weights (normalised) from a ``start,weight`` CSV; DataError naming the line otherwise."""
    p = Path(path)
    try:
        rows = list(csv.reader(io.StringIO(p.read_text(encoding="utf-8-sig"))))
    except OSError as exc:
        raise DataError(f"cannot read volume profile: {exc.strerror or exc}", str(p)) from None
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["start", "weight"]:
        raise DataError("expected the header start,weight", str(p), 1)
    out, expect = [], 9 * 60 + 30
    for line, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        try:
            hh, mm = r[0].strip().split(":")
            start = int(hh) * 60 + int(mm)
            wt = float(r[1])
        except (ValueError, IndexError):
            raise DataError("expected HH:MM,weight", str(p), line) from None
        if start != expect:
            raise DataError(f"slot starts at {r[0].strip()}; expected {expect // 60:02d}:{expect % 60:02d} "
                            "(consecutive 30-minute slots from 09:30)", str(p), line)
        if not wt >= 0:
            raise DataError(f"weight {wt:g} is negative", str(p), line)
        out.append(wt)
        expect += SLOT_MINUTES
    a = np.array(out, dtype=float)
    if a.size == 0 or a.sum() <= 0:
        raise DataError("the profile has no positive weight", str(p))
    return a / a.sum()


def bucket_weights(profile: np.ndarray, session_minutes: int, bucket_minutes: int = 30) -> np.ndarray:
    """Expected share of a FULL session's volume in each bucket of a session of ``session_minutes``
    (an early close keeps its closing auction: the last slot's weight goes to the last bucket)."""
    prof = np.asarray(profile, dtype=float)
    per_min = np.repeat(prof / SLOT_MINUTES, SLOT_MINUTES)
    full = per_min.size
    n_b = -(-session_minutes // bucket_minutes)
    w = np.array([per_min[i * bucket_minutes:min((i + 1) * bucket_minutes, session_minutes, full)].sum()
                  for i in range(n_b)])
    if session_minutes < full:
        w[-1] += prof[-1]
    return w
