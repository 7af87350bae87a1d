"""The investable universe and the canonical names of every series.

Canonical names are what the rest of the engine uses; vendor identifiers
(FRED ids, file stems) are mapped here once.
"""
from __future__ import annotations

SECTORS: dict[str, str] = {
    "XLB": "Materials",
    "XLC": "Communication Services",
    "XLE": "Energy",
    "XLF": "Financials",
    "XLI": "Industrials",
    "XLK": "Technology",
    "XLP": "Consumer Staples",
    "XLRE": "Real Estate",
    "XLU": "Utilities",
    "XLV": "Health Care",
    "XLY": "Consumer Discretionary",
}
BENCHMARK = "SPY"
TECH = "XLK"
DEFENSIVE = ("XLU", "XLP", "XLV")
BOND_ETFS = ("TLT", "IEF", "SHY", "LQD", "HYG")
PRICE_TICKERS = tuple(SECTORS) + (BENCHMARK,) + BOND_ETFS

# Vendor id (FRED series id, Cboe/ICE file stem) -> canonical stress/reference name.
VENDOR_ALIASES: dict[str, str] = {
    "BAMLH0A0HYM2": "hy_oas",
    "BAMLC0A0CM": "ig_oas",
    "BAMLC0A4CBBB": "bbb_oas",
    "BAMLC0A1CAAA": "aaa_oas",
    "T10Y2Y": "t10y2y",
    "T10Y3M": "t10y3m",
    "DGS10": "dgs10",
    "DGS2": "dgs2",
    "DGS30": "dgs30",
    "DGS3MO": "dgs3mo",
    "TEDRATE": "ted",
    "T10YIE": "t10yie",
    "VIXCLS": "vix",
    "VIX_HISTORY": "vix_cboe",
    "MOVE": "move",
    "STLFSI4": "stlfsi4",
    "NFCI": "nfci",
    "ANFCI": "anfci",
    "USRECD": "usrecd",
}

# Daily bond-stress inputs, aligned to sessions (units: percent for spreads and yields, index points for MOVE/VIX).
STRESS_SERIES = (
    "hy_oas", "ig_oas", "bbb_oas", "aaa_oas", "t10y2y", "t10y3m",
    "dgs10", "dgs2", "dgs30", "dgs3mo", "ted", "t10yie", "vix", "move",
)
# Published indices and indicators kept on their own (often weekly) dates, never aligned or filled.
REFERENCE_SERIES = ("stlfsi4", "nfci", "anfci", "usrecd")

DEMO_LABEL = "DEMO DATA (synthetic)"

# Availability lags, in sessions: a value dated d is first known at the close of the session `lag`
# sessions after d (0 = known at d's close). Point in time means a reading at t sees a series only
# up to its last value available at t. Override per series in the mapping file's [lags] table.
AVAILABILITY_LAGS: dict[str, int] = {
    # ICE BofA option-adjusted spreads on FRED: posted the morning after their date.
    "hy_oas": 1, "ig_oas": 1, "bbb_oas": 1, "aaa_oas": 1,
    # Treasury yields and spreads (Federal Reserve H.15 via FRED) and FRED's derived series: next morning.
    "t10y2y": 1, "t10y3m": 1, "dgs10": 1, "dgs2": 1, "dgs30": 1, "dgs3mo": 1, "ted": 1, "t10yie": 1,
    # Cboe VIX and ICE MOVE: index closes, known at the close.
    "vix": 0, "vix_cboe": 0, "move": 0,
    # Weekly indices dated Friday: STLFSI4 is released the next Thursday, NFCI/ANFCI the next Wednesday.
    "stlfsi4": 4, "nfci": 3, "anfci": 3,
    # NBER recession dates are announced many months later: descriptive use only.
    "usrecd": 250,
}
DEFAULT_LAG = 0        # prices (exchange closes) and any series not in the table


def availability_lag(name: str, overrides: dict[str, int] | None = None) -> int:
    """Sessions after its date at whose close a value of ``name`` is known (table, then overrides)."""
    if overrides and name in overrides:
        return int(overrides[name])
    return AVAILABILITY_LAGS.get(name, DEFAULT_LAG)


def known_series(extra=()) -> set[str]:
    """Every canonical series name the importers accept (plus ``extra``, e.g. mapping targets)."""
    return set(PRICE_TICKERS) | set(VENDOR_ALIASES.values()) | set(STRESS_SERIES) | set(REFERENCE_SERIES) | set(extra)
