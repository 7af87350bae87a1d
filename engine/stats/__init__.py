"""Statistics for honest scorecards: bootstrap intervals, multiple-testing corrections, verdicts.

Pure functions on numpy arrays; no I/O, no faces.
"""
