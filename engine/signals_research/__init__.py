"""Research on the early warning: targets, point-in-time candidate signals, models, nested walk-forward
selection and evaluation against baselines (issue 16)."""
