"""Bond stress index, regimes, early warning, stress-to-sector mapping, rebalancing triggers."""
