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


def reference_regress(market, result, h, benchmark, last):
    """engine.stress.sectors._regress as it was: each sector's rows joined with pandas and NaN rows dropped."""
    import pandas as pd

    from engine.stress.sectors import _sectors, forward_excess, hac_ols

    d = result.daily
    fx = forward_excess(market.prices.reindex(d.index), h, benchmark)
    if last is not None:
        fx = fx.iloc[: max(last - h + 1, 0)]
    out = []
    for s in _sectors(market.prices, benchmark):
        frame = pd.concat([fx[s].rename("y"), d["index"], d["change_20d"]], axis=1, join="inner").dropna()
        if len(frame) < 4 * h + 10:
            continue
        x = np.column_stack([np.ones(len(frame)), frame["index"], frame["change_20d"]])
        yv = frame["y"].to_numpy()
        beta, se, t = hac_ols(yv, x, lags=h)
        resid = yv - x @ beta
        r2 = 1.0 - resid.var() / yv.var() if yv.var() > 0 else np.nan
        out.append({"sector": s, "horizon": h, "alpha": beta[0], "beta_level": beta[1],
                    "t_level": t[1], "beta_change": beta[2], "t_change": t[2], "n": len(frame), "r2": r2})
    return out


def reference_frame(columns, index=None):
    """engine.data.assemble._frame before the fast placement: pandas' union of the columns' dates, then
    reindexed to ``index``, sorted by column name."""
    import pandas as pd

    df = pd.DataFrame(columns) if columns else pd.DataFrame(index=index if index is not None else pd.DatetimeIndex([]))
    if index is not None:
        df = df.reindex(index)
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    return df.sort_index(axis=1).astype(float)
