"""The embedded demo market: deterministic, synthetic, clearly labelled ``DEMO DATA (synthetic)``.

No vendor data is shipped; this generator makes a market with the same series as the real
importers produce and with realistic properties:

- sector volatilities and correlations to SPY near historical ones (tech ~25%/yr, staples ~14%),
  SPY a cap-weighted mix of the sectors; XLRE and XLC start on their real inception dates;
- a latent credit-stress process ``S``: calm most of the time, several stress episodes
  (2000-02, 2007-09, 2011, 2015-16, 2018) plus one credit scare with no equity selloff (2005);
- equity stress ``E`` follows credit stress with a lag of ``LEAD`` sessions, so spreads widen and
  the curve flattens *weeks before* equity drawdowns; VIX is coincident with equities, MOVE and
  spreads lead; tech and financials carry more equity-stress loading, defensives less;
- one tech-only selloff that credit does not anticipate (2014), so no model looks perfect.

Everything is a function of ``seed``: same seed, identical data.
"""
from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd

from engine.data.model import Market, SeriesMeta
from engine.universe import DEMO_LABEL

LEAD = 40  # sessions by which credit stress leads equity stress

# (start of credit widening, sessions to peak, amplitude, sessions of decay)
EPISODES = [
    ("2000-09-01", 60, 2.2, 300),
    ("2005-03-15", 40, 0.8, 60),       # credit scare, little equity damage (E amplitude cut below)
    ("2007-07-02", 60, 2.5, 250),
    ("2008-08-15", 40, 2.0, 160),
    ("2011-06-01", 50, 1.7, 120),
    ("2015-07-15", 50, 1.5, 120),
    ("2018-09-20", 40, 1.2, 70),
]
EQUITY_SHARE = {"2005-03-15": 0.15}  # fraction of the credit episode that reaches equities
TECH_ONLY = ("2014-03-03", 30, 0.9, 60)  # a tech selloff credit does not anticipate

SECTOR_PARAMS = {  # beta to market, idiosyncratic vol (annual), equity-stress loading, cap weight, drift/yr
    "XLB": (1.05, 0.13, 0.16, 0.03, 0.065),
    "XLC": (1.00, 0.11, 0.15, 0.10, 0.070),
    "XLE": (0.95, 0.18, 0.16, 0.06, 0.075),
    "XLF": (1.15, 0.14, 0.24, 0.14, 0.060),
    "XLI": (1.05, 0.09, 0.16, 0.10, 0.075),
    "XLK": (1.10, 0.08, 0.22, 0.20, 0.100),
    "XLP": (0.60, 0.09, 0.04, 0.08, 0.070),
    "XLRE": (0.85, 0.15, 0.12, 0.03, 0.065),
    "XLU": (0.50, 0.13, 0.03, 0.03, 0.065),
    "XLV": (0.75, 0.10, 0.06, 0.13, 0.085),
    "XLY": (1.10, 0.10, 0.18, 0.10, 0.085),
}
INCEPTION = {"XLRE": "2015-10-08", "XLC": "2018-06-19"}
DOLLAR_VOLUME = {"XLB": 3e8, "XLC": 4e8, "XLE": 9e8, "XLF": 1.5e9, "XLI": 6e8, "XLK": 1.2e9, "XLP": 6e8,
                 "XLRE": 2.5e8, "XLU": 7e8, "XLV": 8e8, "XLY": 6e8, "SPY": 2.0e10}


def _bump(n: int, i0: int, rise: int, amp: float, decay: int) -> np.ndarray:
    """A smooth rise over ``rise`` sessions from i0 to amp, then exponential decay."""
    t = np.arange(n) - i0
    up = np.clip(t / rise, 0, 1)
    shape = 0.5 - 0.5 * np.cos(np.pi * up)
    after = np.where(t > rise, np.exp(-(t - rise) / decay), 1.0)
    return amp * np.where(t < 0, 0.0, shape * after)


def _ou(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    from scipy.signal import lfilter          # imported here: scipy.signal costs 0.5 s at startup

    e = rng.standard_normal(n) * sd * np.sqrt(1 - phi**2)
    return lfilter([1.0], [1.0, -phi], e)


def demo_market(seed: int = 7, start: str = "1999-01-04", end: str = "2019-12-31") -> Market:
    """The deterministic synthetic demo market (label ``DEMO DATA (synthetic)``)."""
    rng = np.random.default_rng(seed)
    days = pd.bdate_range(start, end, name="date")
    fixed_holidays = (days.month == 1) & (days.day == 1) | (days.month == 7) & (days.day == 4) | \
        (days.month == 12) & (days.day == 25)
    days = days[~fixed_holidays]
    n = len(days)
    pos = {d: days.searchsorted(pd.Timestamp(d)) for d, *_ in EPISODES}

    credit = np.zeros(n)
    equity = np.zeros(n)
    for d, rise, amp, decay in EPISODES:
        credit += _bump(n, pos[d], rise, amp, decay)
        equity += EQUITY_SHARE.get(d, 1.0) * _bump(n, pos[d] + LEAD, rise, amp, decay)
    S = credit + 0.18 * _ou(rng, n, 0.995, 1.0) + 0.05 * _ou(rng, n, 0.9, 1.0)
    E = np.clip(equity + 0.12 * _ou(rng, n, 0.99, 1.0), 0, None)
    tech_only = _bump(n, days.searchsorted(pd.Timestamp(TECH_ONLY[0])), *TECH_ONLY[1:])

    # Equity: market factor with stress-dependent volatility; prices carry -loading * E in log level.
    vol_mult = 1.0 + 0.55 * E
    m = rng.standard_normal(n) * 0.13 / np.sqrt(252) * vol_mult
    dE = np.diff(E, prepend=0.0)
    rets = {}
    for tk, (beta, ivol, load, _, drift) in SECTOR_PARAMS.items():
        idio = rng.standard_normal(n) * ivol / np.sqrt(252) * (1 + 0.3 * E)
        r = drift / 252 + beta * m + idio - load * dE
        if tk == "XLK":
            r = r - 0.20 * np.diff(tech_only, prepend=0.0)
        rets[tk] = r
    R = pd.DataFrame(rets, index=days)
    for tk, d in INCEPTION.items():
        R.loc[R.index < pd.Timestamp(d), tk] = np.nan
    w = pd.Series({k: v[3] for k, v in SECTOR_PARAMS.items()})
    avail = R.notna().astype(float) * w
    spy_r = (R.fillna(0.0) * avail).sum(axis=1) / avail.sum(axis=1)
    R["SPY"] = spy_r

    # Rates and spreads (percent).
    years = np.arange(n) / 252.0
    dgs10 = np.clip(5.6 - 0.17 * years + 0.6 * _ou(rng, n, 0.998, 1.0) - 0.5 * E / 4, 0.5, None)
    lead_S = np.concatenate([S[40:], np.full(40, S[-1])])  # the curve flattens ahead of credit stress
    t10y2y = 1.1 + 0.5 * _ou(rng, n, 0.998, 1.0) - 0.55 * lead_S + 0.45 * np.clip(E - 1, 0, None) ** 1.2
    t10y3m = t10y2y + 0.25 + 0.15 * _ou(rng, n, 0.98, 1.0)
    dgs2 = np.clip(dgs10 - t10y2y, 0.05, None)
    dgs3mo = np.clip(dgs10 - t10y3m, 0.01, None)
    dgs30 = dgs10 + 0.35 + 0.1 * _ou(rng, n, 0.99, 1.0)
    Sp = np.clip(S, -0.5, None)
    hy = 3.0 + 1.0 * Sp + 0.55 * Sp**2 + 0.12 * _ou(rng, n, 0.97, 1.0)
    ig = 0.95 + 0.33 * Sp + 0.10 * Sp**2 + 0.03 * _ou(rng, n, 0.97, 1.0)
    stress = pd.DataFrame({
        "hy_oas": np.round(np.clip(hy, 2.3, None), 2),
        "ig_oas": np.round(np.clip(ig, 0.6, None), 2),
        "bbb_oas": np.round(np.clip(ig * 1.35, 0.8, None), 2),
        "aaa_oas": np.round(np.clip(ig * 0.55, 0.3, None), 2),
        "t10y2y": np.round(t10y2y, 2), "t10y3m": np.round(t10y3m, 2),
        "dgs10": np.round(dgs10, 2), "dgs2": np.round(dgs2, 2), "dgs30": np.round(dgs30, 2),
        "dgs3mo": np.round(dgs3mo, 2),
        "ted": np.round(np.clip(0.25 + 0.35 * Sp + 0.05 * _ou(rng, n, 0.95, 1.0), 0.08, None), 2),
        "t10yie": np.round(2.1 + 0.2 * _ou(rng, n, 0.995, 1.0) - 0.25 * Sp, 2),
        "vix": np.round(np.clip(12.5 + 5.5 * E + 1.6 * E**2 + 2.0 * _ou(rng, n, 0.95, 1.0), 9.0, None), 2),
        "move": np.round(np.clip(72 + 22 * Sp + 6 * _ou(rng, n, 0.97, 1.0), 45, None), 2),
    }, index=days)
    stress.loc[stress.index < pd.Timestamp("2002-11-13"), "move"] = np.nan
    stress.loc[stress.index < pd.Timestamp("2003-01-02"), "t10yie"] = np.nan

    # Bond ETFs from yield and spread changes (duration approximations) plus carry.
    def bond(yld: np.ndarray, duration: float, start_d: str) -> np.ndarray:
        r = -duration * np.diff(yld, prepend=yld[0]) / 100 + yld / 100 / 252
        r[days < pd.Timestamp(start_d)] = np.nan
        return r
    R["TLT"] = bond(stress["dgs30"].to_numpy(), 17.0, "2002-07-30")
    R["IEF"] = bond(stress["dgs10"].to_numpy(), 7.5, "2002-07-30")
    R["SHY"] = bond(stress["dgs2"].to_numpy(), 1.9, "2002-07-30")
    R["LQD"] = bond((stress["dgs10"] + stress["ig_oas"]).to_numpy(), 8.5, "2002-07-30")
    R["HYG"] = bond((stress["dgs10"] + stress["hy_oas"]).to_numpy(), 4.0, "2007-04-11") - 0.02 / 252

    growth = np.exp(np.log1p(R.fillna(0.0)).cumsum())
    first_price = {"SPY": 90.0}
    prices = (growth / growth.where(R.notna()).bfill().iloc[0]) * 25.0
    prices["SPY"] = growth["SPY"] * first_price["SPY"]
    prices = prices.where(R.notna() | (R.index == R.index[0])[:, None]).round(4)
    for tk, d in INCEPTION.items():
        prices.loc[prices.index < pd.Timestamp(d), tk] = np.nan
    for tk in ("TLT", "IEF", "SHY", "LQD"):
        prices.loc[prices.index < pd.Timestamp("2002-07-30"), tk] = np.nan
    prices.loc[prices.index < pd.Timestamp("2007-04-11"), "HYG"] = np.nan
    prices.index.name = "date"

    # Raw close: adjusted close grossed up by a ~2% dividend yield still to be paid out.
    remaining = (years[-1] - years)[:, None]
    close = (prices * np.power(1.02, remaining)).round(4)
    vol_tickers = list(DOLLAR_VOLUME)
    dv = pd.DataFrame({tk: DOLLAR_VOLUME[tk] * (1 + 0.6 * E) * np.exp(0.25 * rng.standard_normal(n) - 0.03)
                       for tk in vol_tickers}, index=days)
    volume = (dv / close[vol_tickers]).round(0)

    weekly = days[days.day_of_week == 4]
    wi = days.get_indexer(weekly)
    reference = pd.DataFrame({
        "stlfsi4": np.round(-0.9 + 0.75 * S[wi] + 0.25 * E[wi] + 0.15 * rng.standard_normal(len(wi)), 4),
        "nfci": np.round(-0.6 + 0.35 * S[wi] + 0.08 * rng.standard_normal(len(wi)), 4),
    }, index=weekly)
    reference["anfci"] = np.round(reference["nfci"] - 0.1, 4)
    rec = ((days >= "2001-03-01") & (days <= "2001-11-30")) | ((days >= "2007-12-01") & (days <= "2009-06-30"))
    reference = reference.reindex(days.union(weekly))
    reference["usrecd"] = rec.astype(float)
    reference.index.name = "date"

    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    meta = {}
    for frame in (prices, stress):
        for c in frame.columns:
            s = frame[c].dropna()
            meta[c] = SeriesMeta(c, f"synthetic (seed={seed})", "demo", str(s.index[0].date()),
                                 str(s.index[-1].date()), int(len(s)), now)
    return Market(prices=prices.astype(float), close=close.astype(float), volume=volume.astype(float),
                  stress=stress.astype(float), reference=reference.astype(float), meta=meta, fills={},
                  label=DEMO_LABEL)
