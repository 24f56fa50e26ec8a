"""Errors that reach the user, each carrying the exit code it ends the command with.

Exit codes, for scripts (docs/cli.md lists them too):

    0  ok
    1  a check or validation failed (the data is wrong, the command worked)
    2  bad input or usage: an option value, a file, a query or a parameter that cannot be used
    3  a store or endpoint unreachable, or it did not answer within the time limit
    4  an internal error (a bug): one line saying so; `--debug` shows the traceback

The CLI turns any of these into a one-line message and its exit code, so library code raises
them with a message that already says what is wrong, where, and what to do. This module imports
nothing at load time: it is on the quick route of `dispute-kg query run`.
"""

from __future__ import annotations

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_UNAVAILABLE, EXIT_INTERNAL = 0, 1, 2, 3, 4
DEBUG_ENV = "DISPUTE_KG_DEBUG"


class DisputeKGError(Exception):
    """Base class: bad input or usage unless a subclass says otherwise.

    `unapplied` is True on the error of an update request the server certainly did not act on (it was
    never sent, or the server answered it with an error), so nothing needs undoing."""

    exit_code = EXIT_USAGE
    unapplied = False


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

    exit_code = EXIT_FAILED


class BackendUnavailable(DisputeKGError):
    """A store or endpoint could not be reached or opened, or answered with something unreadable (exit 3)."""

    exit_code = EXIT_UNAVAILABLE


class QueryTimeout(BackendUnavailable):
    """A query ran past its time limit and was stopped (exit 3: the store did not answer in time; a
    timeout says nothing about the data, so it is never exit 1)."""


class CapabilityError(DisputeKGError):
    """The chosen backend cannot do what was asked (exit 2)."""


def report(exc: BaseException, *, debug: bool = False) -> int:
    """Print `exc` to stderr as the CLI does and return the exit code it ends the command with.

    Both command-line routes (click and the click-free `query run`) end here, so they print the same
    line and exit with the same code for the same failure."""
    import os
    import sys

    debug = debug or bool(os.environ.get(DEBUG_ENV))
    if isinstance(exc, KeyboardInterrupt):
        return 130
    if isinstance(exc, BrokenPipeError):
        # The reader went away (`| head`): stop quietly; point stdout at /dev/null so that Python's
        # flush at exit does not raise again.
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except OSError:
            pass
        return EXIT_FAILED
    if debug:
        import traceback

        traceback.print_exception(exc)
    if isinstance(exc, DisputeKGError):
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    summary = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
    print(f"Error: internal error ({summary}). This is a bug; run again with --debug to see the traceback.",
          file=sys.stderr)
    return EXIT_INTERNAL
