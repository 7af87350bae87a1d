"""EXP-002, re-run: the published momentum experiment's grid through our conventions, beside its claims.

The note's figures are embedded below *as the note's claims* (2020-01-01 to 2024-12-31, universe
XLK XLF XLE XLV XLI XLP XLU XLY XLC XLB XLRE TLT, 0.1% costs, benchmark SPY); nothing here is tuned
to them. On data that reaches 2024-12-31 the default window is the note's; on the development data
(ending 2019) it is 2005-01-01 to 2019-12-31, a different period, so the differences then test
whether the note's pattern holds elsewhere, not its arithmetic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.errors import NoDataError

NOTE_WINDOW = ("2020-01-01", "2024-12-31")
DEV_WINDOW = ("2005-01-01", "2019-12-31")
HEADLINE = "momentum 126d 1.25x"

# The note's claims (fractions). Cells: (group, name, params, claimed metrics).
CLAIMS: list[tuple[str, str, dict, dict]] = [
    *[("momentum", f"momentum {n}d 1.25x", {"lookback": n, "leverage": 1.25}, {"cagr": c})
      for n, c in ((118, 0.0768), (120, 0.1033), (122, 0.0654), (124, 0.0588), (128, 0.0892), (130, 0.0615),
                   (132, 0.0826))],
    ("momentum", "momentum 126d 1.25x", {"lookback": 126, "leverage": 1.25},
     {"cagr": 0.1301, "sharpe": 1.712, "max_drawdown": -0.0702, "win_rate_daily": 0.6940}),
    ("momentum", "momentum 134d 1.25x", {"lookback": 134, "leverage": 1.25},
     {"cagr": 0.1243, "sharpe": 1.682, "max_drawdown": -0.0667}),
    *[("vix overlay", f"VIX overlay 134d base {b}x", {"lookback": 134, "leverage": b, "vix_overlay": True}, cl)
      for b, cl in ((1.0, {"cagr": 0.1038}), (1.25, {"cagr": 0.1243}),
                    (1.5, {"cagr": 0.1411, "sharpe": 1.678, "max_drawdown": -0.0798, "avg_leverage": 1.42}),
                    (1.75, {"cagr": 0.1566}), (2.0, {"cagr": 0.1714}))],
    *[("trend filter", f"SPY trend {w}d, 134d 1.25x", {"lookback": 134, "leverage": 1.25, "trend": w}, {"cagr": c})
      for w, c in ((150, 0.0591), (200, 0.1243), (250, 0.1243))],
]
SPY_CLAIM = {"cagr": 0.1434, "sharpe": 0.98, "max_drawdown": -0.245}
SHOWN = ("cagr", "sharpe", "max_drawdown", "win_rate_daily", "avg_leverage", "volatility")


def _sorted_claims():
    order = {"momentum": 0, "vix overlay": 1, "trend filter": 2}
    return sorted(CLAIMS, key=lambda c: (order[c[0]], c[2].get("lookback"), c[2].get("leverage"), c[2].get("trend", 0)))


def default_window(market) -> tuple[str, str, str]:
    """(from, to, why): the note's window when the data reach its end, else the development window."""
    if market.last >= pd.Timestamp(NOTE_WINDOW[1]):
        return (*NOTE_WINDOW, "the note's own window")
    return (*DEV_WINDOW, f"development window: the data end on {market.last.date()}, before the note's 2020-2024")


def exp002(market, start=None, end=None) -> dict:
    """Re-run EXP-002's grid (17 cells, one vectorised pass) beside the note's claims.

    Returns ``{"from", "to", "window_note", "cells": [{"group", "name", "params", "claimed",
    "measured", "difference"}], "spy": {...}, "configs_tried", "best", "deflated_sharpe",
    "headline_deflated_sharpe", "pbo", "lone_spike", "summary", "claims_source"}``. ``difference`` is
    measured minus claimed for each claimed figure.
    """
    from engine.stats.pbo import pbo
    from engine.stats.sharpe import deflated_sharpe_from_returns

    d_from, d_to, why = default_window(market)
    start, end = start or d_from, end or d_to
    why = why if (str(start)[:10], str(end)[:10]) == (d_from, d_to) else "window given by the user"
    cells = _sorted_claims()
    rets, rows, spy_row = _run_cells(market, cells, start, end)
    idx, mat = rets.index, rets.to_numpy()
    best = int(np.nanargmax([r["measured"]["sharpe"] for r in rows]))
    head = [c[1] for c in cells].index(HEADLINE)
    dsr = deflated_sharpe_from_returns(mat, best)
    head_dsr = deflated_sharpe_from_returns(mat, head)
    out = {"from": idx[0].date().isoformat(), "to": idx[-1].date().isoformat(), "window_note": why,
           "claims_source": "EXP-002 note (published figures, 2020-01-01 to 2024-12-31), embedded as claims",
           "cells": rows, "spy": spy_row, "configs_tried": len(cells),
           "best": {"name": rows[best]["name"], "params": rows[best]["params"]},
           "deflated_sharpe": {**dsr, "cell": rows[best]["name"]},
           "headline_deflated_sharpe": {**head_dsr, "cell": HEADLINE},
           "pbo": {k: v for k, v in pbo(mat, n_blocks=_blocks(len(idx))).items() if k != "logits"},
           "lone_spike": _spike(rows)}
    out["summary"] = _summary(out)
    return out


def _run_cells(market, cells, start, end) -> tuple[pd.DataFrame, list[dict], dict]:
    """Daily returns (sessions x cells), the cell rows and the SPY row, through the sweep's task."""
    from engine.research.summary import summarize
    from usecases.sweep_tasks import evaluate_chunk, reference_returns

    refs = reference_returns(market, start, end)
    got = evaluate_chunk(market, "momentum", [c[2] for c in cells], start, end, refs)
    bad = [g["error"] for g in got if g["error"]]
    if bad:
        raise NoDataError(f"EXP-002 could not run between {start} and {end}: {bad[0]}")
    rets = pd.concat([g["returns"] for g in got], axis=1, keys=range(len(cells)))
    if len(rets) < 60:
        raise NoDataError(f"only {len(rets)} sessions between {start} and {end}: too few to re-run EXP-002")
    rows = [_cell(c, {k: g["metrics"].get(k) for k in SHOWN}) for c, g in zip(cells, got)]
    idx = rets.index
    opening = market.sessions[market.sessions.get_loc(idx[0]) - 1]
    s = summarize(refs["spy"].reindex(idx).fillna(0.0).to_numpy()[:, None], calendar_days=(idx[-1] - opening).days)
    spy_row = _cell(("benchmark", "SPY buy and hold", {}, SPY_CLAIM), {k: float(s[k][0]) for k in SHOWN})
    return rets, rows, spy_row


def _blocks(n: int) -> int:
    return int(min(16, max(2, (n // 60) // 2 * 2)))


def _cell(claim, measured: dict) -> dict:
    group, name, params, claimed = claim
    diff = {k: measured[k] - v for k, v in claimed.items() if measured.get(k) is not None}
    return {"group": group, "name": name, "params": params, "claimed": claimed, "measured": measured,
            "difference": diff}


def _spike(rows: list[dict]) -> dict:
    """The note's 126-day cell against its 124- and 128-day neighbours (CAGR), claimed and measured."""
    by = {r["params"]["lookback"]: r for r in rows if r["group"] == "momentum"}
    claimed = by[126]["claimed"]["cagr"] - (by[124]["claimed"]["cagr"] + by[128]["claimed"]["cagr"]) / 2
    measured = by[126]["measured"]["cagr"] - (by[124]["measured"]["cagr"] + by[128]["measured"]["cagr"]) / 2
    cagr = [by[k]["measured"]["cagr"] for k in sorted(by)]
    return {"claimed_excess_over_neighbours": claimed, "measured_excess_over_neighbours": measured,
            "measured_cagr_range": [min(cagr), max(cagr)], "claimed_cagr_range": [0.0588, 0.1301]}


def _summary(out: dict) -> str:
    h = next(r for r in out["cells"] if r["name"] == HEADLINE)
    d = out["headline_deflated_sharpe"]
    sp = out["lone_spike"]
    same = out["window_note"] == "the note's own window"
    period = "on the note's own window" if same else f"on {out['from']} to {out['to']} ({out['window_note']})"
    return (f"{HEADLINE}: measured CAGR {h['measured']['cagr']:.2%}, Sharpe {h['measured']['sharpe']:.2f}, max drawdown "
            f"{h['measured']['max_drawdown']:.2%} {period}, against the note's claimed 13.01%, 1.71 and -7.02%. "
            f"Across 118-134 days the measured CAGR ranges {sp['measured_cagr_range'][0]:.2%} to "
            f"{sp['measured_cagr_range'][1]:.2%} (claimed 5.88% to 13.01%); 126 days beats the mean of 124 and 128 by "
            f"{sp['measured_excess_over_neighbours']:+.2%} (claimed {sp['claimed_excess_over_neighbours']:+.2%}). "
            f"Deflated Sharpe of the headline cell for {out['configs_tried']} configurations: {d['dsr']:.2f} "
            f"(probability its true Sharpe beats the best of {out['configs_tried']} worthless trials); "
            f"PBO over the grid {out['pbo']['pbo']:.2f}. SPY over the same sessions: CAGR {out['spy']['measured']['cagr']:.2%}, "
            f"Sharpe {out['spy']['measured']['sharpe']:.2f}.")
