"""Typed errors of the engine. Depends on nothing.

Every error a user can cause carries enough context to be fixed without a
traceback: the file, line or argument, and what was expected.
"""
from __future__ import annotations


class RotationError(Exception):
    """Base class of every error the product reports to a user."""


class DataError(RotationError):
    """A data file or series failed validation.

    ``file`` and ``line`` point at the offending place (line numbers are 1-based
    and count the header as line 1), ``problem`` says what was expected.
    """

    def __init__(self, problem: str, file: str | None = None, line: int | None = None):
        self.problem = problem
        self.file = file
        self.line = line
        where = ""
        if file:
            where = f"{file}"
            if line is not None:
                where += f", line {line}"
            where += ": "
        super().__init__(f"{where}{problem}")


class NoDataError(RotationError):
    """No market data is available where it was looked for."""


class ArgumentError(RotationError):
    """A function or command argument is out of its domain (names the argument)."""

    def __init__(self, argument: str, problem: str):
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")


class InfeasibleError(RotationError):
    """The allocation limits cannot all hold; ``conflicts`` names them in words."""

    def __init__(self, message: str, conflicts: list[str] | None = None):
        self.conflicts = list(conflicts or [])
        super().__init__(message)


class SolverError(RotationError):
    """The numerical solver failed for a reason other than infeasible limits."""
