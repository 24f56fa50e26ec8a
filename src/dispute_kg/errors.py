"""Errors that reach the user, each carrying the exit code DESIGN.md assigns to it.

The CLI turns any of these into a one-line message and its exit code, so library code raises
them with a message that already says what is wrong, where, and what to do.
"""

from __future__ import annotations


class DisputeKGError(Exception):
    """Base class: bad input or usage unless a subclass says otherwise."""

    exit_code = 2


class InputError(DisputeKGError):
    """A file or value the user gave cannot be read or used (exit 2)."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None,
                 column: int | None = None) -> None:
        self.path, self.line, self.column = path, line, column
        where = ""
        if path:
            where = path
            if line is not None:
                where += f":{line}"
                if column is not None:
                    where += f":{column}"
            where += ": "
        super().__init__(where + message)


class CheckFailed(DisputeKGError):
    """A check or validation found violations (exit 1)."""

    exit_code = 1


class QueryTimeout(DisputeKGError):
    """A query ran past its time limit and was stopped (exit 1)."""

    exit_code = 1


class BackendUnavailable(DisputeKGError):
    """A store or endpoint could not be reached or opened (exit 3)."""

    exit_code = 3


class CapabilityError(DisputeKGError):
    """The chosen backend cannot do what was asked (exit 2)."""
