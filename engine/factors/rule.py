"""How user factors are cleaned (:mod:`engine.factors.user`): the settings, their validation and their
words. No pandas here: the stress configuration (``[user_factors]`` of the stress TOML,
:mod:`engine.stress.config`) builds it when a command starts."""
from __future__ import annotations

from dataclasses import asdict, dataclass

from engine.errors import ArgumentError

WINSOR_RULES = ("mad", "quantile", "none")


@dataclass(frozen=True)
class CleaningRule:
    """How user factors are cleaned (:mod:`engine.factors.user`); the defaults are what every face uses
    unless the stress TOML's ``[user_factors]`` table says otherwise.

    ``winsorize``: "mad" (median +/- ``mad_k`` x 1.4826 x MAD), "quantile" (``limits`` in each tail, as
    scipy.stats.mstats.winsorize) or "none"; ``min_sectors``: fewest sectors a session needs to be
    z-scored; ``neutralize``: market-cap neutrality for factors whose rows carry caps, with at least
    ``min_caps`` capped sectors; ``max_age``: sessions a value stays usable after its publication.
    """

    winsorize: str = "mad"
    mad_k: float = 3.0
    limits: float = 0.05
    min_sectors: int = 3
    neutralize: bool = True
    min_caps: int = 4
    max_age: int = 66          # sessions a value stays usable (a quarter and a few days)

    def __post_init__(self):
        _check(self)

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        w = {"mad": f"winsorize at median +/- {self.mad_k:g} x 1.4826 x MAD",
             "quantile": (f"winsorize the lowest and highest floor({self.limits:g} x n) values "
                          "(scipy.stats.mstats.winsorize)"),
             "none": "no winsorization"}[self.winsorize]
        neutral = (f"where caps are given, residuals of OLS on log market cap (at least {self.min_caps} capped "
                   "sectors), z-scored again" if self.neutralize else "no market-cap neutralization")
        return (f"per session: {w}; drop sessions with fewer than {self.min_sectors} sectors; z-score; {neutral}; "
                f"a value is usable from its publication for {self.max_age} sessions")


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _whole(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _check(r: CleaningRule) -> None:
    """ArgumentError naming the setting whose value is out of its domain."""
    if r.winsorize not in WINSOR_RULES:
        raise ArgumentError("winsorize", f"expected one of {', '.join(WINSOR_RULES)}, got {r.winsorize!r}")
    if not _number(r.mad_k) or not r.mad_k > 0:
        raise ArgumentError("mad_k", f"expected a positive number of MADs, got {r.mad_k!r}")
    if not _number(r.limits) or not 0 <= r.limits < 0.5:
        raise ArgumentError("limits", f"expected a fraction in [0, 0.5), got {r.limits!r}")
    for key in ("min_sectors", "min_caps"):
        v = getattr(r, key)
        if not _whole(v) or v < 3:
            raise ArgumentError(key, f"expected a whole number of sectors >= 3, got {v!r}")
    if not _whole(r.max_age) or r.max_age < 0:
        raise ArgumentError("max_age", f"expected a whole number of sessions >= 0, got {r.max_age!r}")
    if not isinstance(r.neutralize, bool):
        raise ArgumentError("neutralize", f"expected true or false, got {r.neutralize!r}")
