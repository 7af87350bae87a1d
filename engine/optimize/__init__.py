"""The allocator: cvxpy problem built once, fast re-solves, infeasibility diagnosis, transition paths."""
