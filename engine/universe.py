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
