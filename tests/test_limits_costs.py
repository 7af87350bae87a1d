"""Limits carry the one CostModel: [costs] TOML table, defaults equal to the old cost_bps/impact_coef, the
holding-period amortization in the objective."""
from __future__ import annotations

import pytest

from engine.costs import CostModel
from engine.errors import ArgumentError
from engine.optimize.limits import Limits


def test_default_cost_model_is_the_old_one():
    cm = Limits().cost_model()
    assert (cm.half_spread_bps, cm.impact_eta, cm.impact_exponent, cm.commission_bps) == (5.0, 0.6, 0.5, 0.0)
    assert Limits(holding_sessions=63).cost_scale == pytest.approx(4.0)


def test_costs_table_from_toml(tmp_path):
    f = tmp_path / "l.toml"
    f.write_text("[limits]\nturnover = 0.2\n[costs]\ncommission_per_share = 0.005\nimpact_exponent = 0.6\n")
    lim = Limits.from_toml(f)
    assert lim.cost_model() == CostModel(commission_per_share=0.005, impact_exponent=0.6)
    assert lim.to_dict()["costs"]["impact_exponent"] == 0.6
    f.write_text("[limits]\n[costs]\nspread = 1\n")
    with pytest.raises(ArgumentError, match=r"\[costs\].*spread"):
        Limits.from_toml(f)
