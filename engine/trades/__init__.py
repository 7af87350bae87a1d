"""Holdings in, trades out: holdings and tax lots, whole-share trade lists, execution schedules,
order files (CSV, FIX 4.4) and implementation shortfall from fills. Pure computation."""
