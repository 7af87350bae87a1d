"""Alert rules on the stress signal, the book and the data (pure, point in time).

Each rule walks its input series forward in time and keeps a small state (armed / fired), so an
alert dated t depends on values up to t only and fires once per crossing, with hysteresis.
``engine.alerts.rules.evaluate`` runs every rule; thresholds are in ``default.toml``.
"""
