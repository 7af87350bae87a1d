"""Allocation limits: one dataclass with defaults, read from the ``[limits]`` table of a TOML file.

All fractions are of portfolio value; ``tracking_error`` is annualized; ``turnover`` is one-way per
rebalance (0.5 * sum |w - w0|). Unknown keys and out-of-range values raise :class:`ArgumentError`
naming the key.
"""
from __future__ import annotations

import math
import tomllib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from engine.costs import CostModel
from engine.errors import ArgumentError

# key -> (low, high), both inclusive; high None = unbounded
_RANGES: dict[str, tuple[float, float | None]] = {
    "tech_cap": (0.0, 1.0),
    "tracking_error": (0.0, 1.0),
    "turnover": (0.0, 1.0),
    "sector_min": (0.0, 1.0),
    "sector_max": (0.0, 1.0),
    "defensive_floor": (0.0, 1.0),
    "risk_aversion": (0.0, 1e6),
    "cost_bps": (0.0, 1e4),
    "impact_coef": (0.0, 100.0),
    "participation": (0.0, 1.0),
    "liquidity_days": (0.0, 1e4),
    "cash_max": (0.0, 1.0),
    "portfolio_value": (0.0, None),
    "holding_sessions": (1.0, 2520.0),
}


_BOOLS = ("allow_cash", "active_risk")


@dataclass(frozen=True)
class Limits:
    """Risk, trading and cost limits of the allocator.

    - ``tech_cap``: maximum weight of XLK.
    - ``tracking_error``: maximum ex-ante annualized tracking error against the benchmark weights.
      ``math.inf`` switches the limit off.
    - ``turnover``: maximum one-way turnover per rebalance, 0.5 * sum_i |w_i - w0_i|.
    - ``sector_min`` / ``sector_max``: per-sector bounds (sectors that do not exist yet are held at 0).
    - ``defensive_floor``: minimum XLU + XLP + XLV weight, applied only in stress/crisis regimes.
    - ``risk_aversion``: gamma in mu'w - gamma * risk (annualized units).
    - ``active_risk``: the risk term is the ACTIVE variance (w-b)'Σ(w-b) against the benchmark (a
      benchmark-relative manager's objective; default), or with ``false`` the total variance w'Σw
      (classic mean-variance, which pulls every portfolio toward minimum variance whatever the signal).
    - ``cost_bps``: linear cost (half spread + commission) in basis points of traded value.
    - ``impact_coef``: Y in the square-root law (see :mod:`engine.optimize.costs`).
    - ``costs``: a full :class:`engine.costs.CostModel` (the ``[costs]`` TOML table); when given it
      replaces ``cost_bps``/``impact_coef``. :meth:`cost_model` is the one model every part charges.
    - ``holding_sessions``: sessions a rebalance is held (21 = monthly). The objective charges the
      one-off trading cost amortized over this holding period, on the same annual scale as the
      expected return and the risk: mu'w - gamma risk - cost * 252 / holding_sessions.
    - ``participation``, ``liquidity_days``: a trade is at most participation * ADV * days (dollars).
    - ``allow_cash`` / ``cash_max``: optional cash (zero return, zero risk).
    - ``portfolio_value``: dollars, converts ADV to weight units for the liquidity and impact terms.
    """

    tech_cap: float = 0.25
    tracking_error: float = 0.05
    turnover: float = 0.30
    sector_min: float = 0.0
    sector_max: float = 0.35
    defensive_floor: float = 0.30
    risk_aversion: float = 2.0
    cost_bps: float = 5.0
    impact_coef: float = 0.6
    participation: float = 0.10
    liquidity_days: float = 5.0
    allow_cash: bool = False
    cash_max: float = 0.0
    portfolio_value: float = 1e9
    active_risk: bool = True
    holding_sessions: float = 21.0
    costs: CostModel | None = None

    def __post_init__(self) -> None:
        for key, (lo, hi) in _RANGES.items():
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, (int, float)) or math.isnan(v):
                raise ArgumentError(key, f"expected a number, got {v!r}")
            if key == "tracking_error" and math.isinf(v):
                continue
            if v < lo or (hi is not None and v > hi) or math.isinf(v):
                rng = f"between {lo} and {hi}" if hi is not None else f"at least {lo} and finite"
                raise ArgumentError(key, f"expected {rng}, got {v}")
        if self.portfolio_value <= 0:
            raise ArgumentError("portfolio_value", f"expected a positive dollar amount, got {self.portfolio_value}")
        for key in _BOOLS:
            if not isinstance(getattr(self, key), bool):
                raise ArgumentError(key, f"expected true or false, got {getattr(self, key)!r}")
        if self.costs is not None and not isinstance(self.costs, CostModel):
            raise ArgumentError("costs", f"expected a CostModel, got {type(self.costs).__name__}")
        if self.sector_min > self.sector_max:
            raise ArgumentError("sector_min", f"sector_min {self.sector_min} exceeds sector_max {self.sector_max}")

    @property
    def effective_cash_max(self) -> float:
        """Cash upper bound actually used: ``cash_max`` if cash is allowed, else 0."""
        return self.cash_max if self.allow_cash else 0.0

    def cost_model(self) -> CostModel:
        """The transaction-cost model of these limits: ``costs`` if given, else half spread ``cost_bps``
        and square-root impact with Y = ``impact_coef`` (no commission)."""
        if self.costs is not None:
            return self.costs
        return CostModel(half_spread_bps=self.cost_bps, impact_eta=self.impact_coef, impact_exponent=0.5)

    @property
    def cost_scale(self) -> float:
        """Weight of the one-off cost in the annualized objective: 252 / holding_sessions."""
        return 252.0 / self.holding_sessions

    def with_(self, **changes) -> "Limits":
        """A copy with some limits changed (validated like the constructor; unknown names raise)."""
        known = {f.name for f in fields(self)}
        for k in changes:
            if k not in known:
                raise ArgumentError(k, f"unknown limit; known limits are {', '.join(sorted(known))}")
        return replace(self, **changes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["costs"] = self.cost_model().to_dict()
        return d

    @classmethod
    def from_mapping(cls, table: dict, source: str = "limits") -> "Limits":
        """Build from a plain mapping (e.g. the parsed ``[limits]`` table); unknown keys raise."""
        known = {f.name: f for f in fields(cls)}
        kwargs = {}
        for k, v in table.items():
            if k == "costs":
                kwargs[k] = CostModel.from_mapping(v, source=f"{source}: costs")
                continue
            if k not in known:
                raise ArgumentError(f"{source}: {k}", f"unknown key; known keys are {', '.join(sorted(known))}")
            if k in _BOOLS:
                if not isinstance(v, bool):
                    raise ArgumentError(f"{source}: {k}", f"expected true or false, got {v!r}")
            elif isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ArgumentError(f"{source}: {k}", f"expected a number, got {v!r}")
            kwargs[k] = v if k in _BOOLS else float(v)
        try:
            return cls(**kwargs)
        except ArgumentError as e:
            raise ArgumentError(f"{source}: {e.argument}", e.problem) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "Limits":
        """Read the ``[limits]`` table of a TOML file; missing keys keep their defaults.

        Raises ArgumentError naming the file and key for unknown keys, wrong types or values out of range,
        and for a file that is missing, unreadable or not TOML.
        """
        p = Path(path)
        try:
            doc = tomllib.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ArgumentError("--config", f"file {p} does not exist") from None
        except (OSError, UnicodeDecodeError) as e:
            raise ArgumentError("--config", f"cannot read {p}: {e}") from None
        except tomllib.TOMLDecodeError as e:
            raise ArgumentError("--config", f"{p} is not valid TOML: {e}") from None
        if "limits" not in doc or not isinstance(doc["limits"], dict):
            raise ArgumentError("--config", f"{p} has no [limits] table")
        lim = cls.from_mapping(doc["limits"], source=f"{p} [limits]")
        if "costs" in doc:
            lim = lim.with_(costs=CostModel.from_mapping(doc["costs"], source=f"{p} [costs]"))
        return lim
