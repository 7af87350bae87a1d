"""The Scorecard sheet of the decision workbook: one row per story metric (rendering only).

``scorecard_frame(card)`` turns what ``usecases.scorecard.scorecard`` returns into the frame the
writer puts in the template's ``Scorecard`` table (index ``metric``); the deflated Sharpe ratio, the
PBO and the number of configurations tried follow as rows of their own, so the sheet carries every
figure of ``rotation scorecard``.
"""
from __future__ import annotations

import pandas as pd

COLUMNS = ("value", "ci_low", "ci_high", "target", "verdict", "definition", "note")


def scorecard_frame(card: dict) -> pd.DataFrame:
    """Index ``metric``; columns ``COLUMNS`` (fractions as fractions; text verdicts)."""
    rows = [{"metric": m["name"], **{k: m.get(k) for k in COLUMNS}} for m in card["metrics"]]
    d = card.get("deflated_sharpe") or {}
    rows += [
        {"metric": "deflated_sharpe", "value": d.get("dsr"), "definition": "Probability that the rotation backtest's "
         "true Sharpe ratio exceeds the best of the configurations tried by luck (Bailey and Lopez de Prado 2014)."},
        {"metric": "pbo", "value": card.get("pbo"), "definition": "Probability of backtest overfitting by "
         "combinatorially symmetric cross-validation (Bailey et al. 2017).", "note": card.get("pbo_note")},
        {"metric": "configs_tried", "value": card.get("configs_tried"),
         "definition": "Configurations of rotation tried, as recorded by rotation sweep (at least the one shown)."},
        {"metric": "window", "value": None, "definition": f"Scored sessions {card.get('from')} to {card.get('to')}, "
         f"{card.get('level', 0.95):.0%} stationary-bootstrap intervals; verdicts computed from interval and target."},
    ]
    df = pd.DataFrame(rows, columns=["metric", *COLUMNS]).set_index("metric").astype(object)
    # missing is an empty cell, never NaN or "" (the content digest is checked on the cells read back)
    return df.where(df.notna() & (df != ""), None)
