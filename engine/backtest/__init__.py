"""Walk-forward backtests: a book of shares and cash marked at every close, policies that decide from
``market.asof(t)``, schedules, leverage and financing, metrics and Brinson-Fachler attribution."""
