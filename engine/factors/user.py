"""User factors (a :class:`engine.data.user_factors.FactorPanel`) on the session calendar, cleaned per date.

Point in time: a row is placed at the first session on or after its ``available`` date (its
``published`` date, else its ``date``) and carried forward for at most ``max_age`` sessions; a later
row for the same (factor, sector) replaces it. The value at session t therefore depends only on rows
available by t, and every cleaning step below works on the cross-section of ONE session, so
altering or adding rows published after t leaves every score at t unchanged.

Cleaning of each session's cross-section (sectors with a price that session), in this order:

1. winsorize: ``rule.winsorize = "mad"`` (default) clips at ``median +/- k * 1.4826 * MAD`` (k = 3:
   with 11 sectors only real outliers are touched); ``"quantile"`` clips the ``floor(limits * n)``
   lowest and highest values to the next one in, exactly as ``scipy.stats.mstats.winsorize``;
   ``"none"`` leaves the values as they are;
2. sessions with fewer than ``min_sectors`` values are dropped;
3. z-score: ``(x - mean) / sd`` (population sd) across the sectors;
4. market-cap neutralize (only for a factor whose rows carry caps, and ``rule.neutralize``): OLS of the z-scores on
   ``[1, log(cap)]`` across the sectors with a cap, residuals kept and z-scored again; sectors without
   a cap that session are dropped, and sessions with fewer than ``min_caps`` capped sectors too.

Each factor's frame carries ``attrs["cleaning"]``: the counts of what each step placed, replaced,
clipped and dropped (see :data:`COUNT_KEYS`). The rule (:class:`engine.factors.rule.CleaningRule`) comes
from the stress TOML's ``[user_factors]`` table (:mod:`engine.stress.config`); ``attrs["settings"]`` records it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from engine.factors.rule import WINSOR_RULES, CleaningRule  # noqa: F401  (the rule, re-exported)
from engine.factors.standardize import winsorize_cross_section

COUNT_KEYS = ("rows", "outside_sessions", "replaced_same_session", "cells", "no_price", "winsorized",
              "thin_sessions", "thin_cells", "no_cap", "thin_cap_sessions", "thin_cap_cells", "scored",
              "neutralized")


def winsorize_quantile(frame: pd.DataFrame, limits: float) -> pd.DataFrame:
    """Per row: the ``floor(limits * n)`` lowest (highest) of the n non-NaN values set to the next value
    in, as ``scipy.stats.mstats.winsorize(row, limits=(limits, limits))``; NaN stays NaN."""
    x = frame.to_numpy(dtype=float)
    n = np.isfinite(x).sum(axis=1)
    srt = np.sort(np.where(np.isfinite(x), x, np.inf), axis=1)
    k = np.floor(limits * n).astype(int)
    rows = np.arange(len(x))
    lo = np.where(n > 0, srt[rows, np.minimum(k, np.maximum(n - 1, 0))], -np.inf)
    hi = np.where(n > 0, srt[rows, np.maximum(n - k - 1, 0)], np.inf)
    return pd.DataFrame(np.clip(x, lo[:, None], hi[:, None]), index=frame.index, columns=frame.columns)


def zscore_rows(frame: pd.DataFrame, min_count: int = 3) -> pd.DataFrame:
    """``(x - mean) / sd`` across each row (population sd); rows with fewer than ``min_count`` values or
    no dispersion are NaN."""
    mu = frame.mean(axis=1)
    sd = frame.std(axis=1, ddof=0)
    ok = (frame.notna().sum(axis=1) >= min_count) & (sd > 1e-12 * (1.0 + mu.abs()))
    return frame.sub(mu, axis=0).div(sd.where(ok), axis=0)


def neutralize_rows(y: pd.DataFrame, x: pd.DataFrame, min_count: int = 4) -> pd.DataFrame:
    """Per row, residuals of the OLS of ``y`` on ``[1, x]`` over the columns where both are present
    (NaN elsewhere, and for rows with fewer than ``min_count`` such columns)."""
    m = y.notna() & x.notna()
    yv, xv = y.where(m), x.where(m)
    yc = yv.sub(yv.mean(axis=1), axis=0)
    xc = xv.sub(xv.mean(axis=1), axis=0)
    sxx = (xc * xc).sum(axis=1)
    beta = ((xc * yc).sum(axis=1) / sxx.where(sxx > 1e-12)).fillna(0.0)
    res = yc - xc.mul(beta, axis=0)
    return res.where(m.sum(axis=1) >= min_count, np.nan).where(m)


def _aligned(rows: pd.DataFrame, sessions: pd.DatetimeIndex, sectors: list[str], max_age: int):
    """(values, caps, counts) of one factor's rows on the sessions, carried forward at most max_age."""
    pos = sessions.searchsorted(pd.DatetimeIndex(rows["available"]), side="left")
    inside = (rows["available"].to_numpy() >= sessions[0].to_datetime64()) & (pos < len(sessions)) \
        if len(sessions) else np.zeros(len(rows), bool)
    col = pd.Index(sectors).get_indexer(rows["sector"])
    inside &= col >= 0
    counts = {"rows": int(len(rows)), "outside_sessions": int((~inside).sum())}
    r = rows[inside]
    ids = np.full((len(sessions), len(sectors)), np.nan)
    ids[pos[inside], col[inside]] = np.arange(len(r))        # rows are sorted by availability: the last wins
    counts["replaced_same_session"] = int(len(r) - np.isfinite(ids).sum())
    ids = pd.DataFrame(ids, index=sessions, columns=sectors).ffill(limit=max_age) if max_age else \
        pd.DataFrame(ids, index=sessions, columns=sectors)
    idx = ids.to_numpy()
    ok = np.isfinite(idx)
    take = lambda c: np.where(ok, r[c].to_numpy(float)[np.where(ok, idx, 0).astype(int)], np.nan)  # noqa: E731
    return (pd.DataFrame(take("value"), index=sessions, columns=sectors),
            pd.DataFrame(take("market_cap"), index=sessions, columns=sectors), counts)


def clean_factor(values: pd.DataFrame, caps: pd.DataFrame | None, rule: CleaningRule) -> tuple[pd.DataFrame, dict]:
    """Steps 1-4 of the module docstring on one factor (sessions x sectors); returns (scores, counts)."""
    c: dict = {}
    n0 = int(values.notna().sum().sum())
    w = (winsorize_cross_section(values, rule.mad_k) if rule.winsorize == "mad"
         else winsorize_quantile(values, rule.limits) if rule.winsorize == "quantile" else values)
    c["winsorized"] = int((values.notna() & (w != values)).sum().sum())
    thin = w.notna().sum(axis=1).between(1, rule.min_sectors - 1)
    c["thin_sessions"], c["thin_cells"] = int(thin.sum()), int(w[thin].notna().sum().sum())
    z = zscore_rows(w.where(~thin, np.nan), rule.min_sectors)
    c["no_cap"] = c["thin_cap_sessions"] = c["thin_cap_cells"] = 0
    c["neutralized"] = rule.neutralize and caps is not None and bool(caps.notna().any().any())
    if c["neutralized"]:
        logcap = np.log(caps)
        c["no_cap"] = int((z.notna() & logcap.isna()).sum().sum())
        have = (z.notna() & logcap.notna()).sum(axis=1)
        few = have.between(1, rule.min_caps - 1)
        c["thin_cap_sessions"], c["thin_cap_cells"] = int(few.sum()), int(have[few].sum())
        z = zscore_rows(neutralize_rows(z, logcap, rule.min_caps), rule.min_caps)
    c["scored"] = int(z.notna().sum().sum())
    c["cells_in"] = n0
    return z, c


def user_factor_panel(panel, sessions: pd.DatetimeIndex, sectors: list[str], present: pd.DataFrame | None = None,
                      rule: CleaningRule | None = None) -> dict[str, pd.DataFrame]:
    """``{factor: DataFrame (session x sector)}`` of cleaned user factor scores; ``present`` (session x
    sector booleans) drops sectors without a price that session. ``attrs["cleaning"]`` holds the counts,
    ``attrs["source"]`` the file."""
    rule = rule or CleaningRule()
    out = {}
    for name, rows in panel.rows.groupby("factor", sort=True):
        values, caps, counts = _aligned(rows, sessions, sectors, rule.max_age)
        counts["cells"] = int(values.notna().sum().sum())
        if present is not None:
            keep = present.reindex(index=sessions, columns=sectors, fill_value=False).to_numpy(bool)
            counts["no_price"] = int((values.notna().to_numpy() & ~keep).sum())
            values, caps = values.where(keep), caps.where(keep)
        else:
            counts["no_price"] = 0
        scores, more = clean_factor(values, caps if rows["market_cap"].notna().any() else None, rule)
        counts.update(more)
        scores.attrs.update({"cleaning": counts, "source": panel.source, "rule": rule.describe(),
                             "settings": rule.to_dict()})
        out[str(name)] = scores
    return out
