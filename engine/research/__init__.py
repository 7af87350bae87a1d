"""Research tools: vectorised parameter sweeps and the re-run of published experiments."""
