"""The export's slow reference implementations, kept for tests: each fast path of issue 11 item 8 must give
exactly what these give (tests/test_export_speed_identity.py, tests/test_fastsave.py)."""
from __future__ import annotations

import numpy as np


def reference_fill_column(ws, row0, col, series, kind, body):
    """The writer's column fill before its fast paths: openpyxl's Cell constructor and the value setter
    (through writer._set) for every cell."""
    from openpyxl.cell.cell import Cell

    import workbooks.writer as writer

    for i, v in enumerate(series.tolist()):
        cell = Cell(ws, row=row0 + i, column=col, style_array=body)
        writer._set(cell, writer._py(v, kind))
        ws._cells[(row0 + i, col)] = cell


def reference_draws(x, statistic, rng, block, reps):
    """The bootstrap's replications one call at a time: stationary_indices, then the statistic."""
    from engine.stats.bootstrap import stationary_indices

    return np.array([statistic(x[stationary_indices(rng, len(x), block)]) for _ in range(reps)], dtype=float)
