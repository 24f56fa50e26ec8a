"""The `dispute-kg` command: one click group, one module per command family.

Commands only parse arguments, call the library and print; every failure becomes one line on stderr
and the exit code `errors` documents (0 ok, 1 check failed, 2 bad input or usage, 3 store or endpoint
unreachable or too slow, 4 internal error), through `errors.report`, as on the click-free route.
"""

from __future__ import annotations

import sys

import click

from ..errors import EXIT_USAGE, report
from .common import DEBUG_FLAGS, Context, cli


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    # Read before click parses, so that an error while parsing can show its traceback too.
    debug = any(a in DEBUG_FLAGS for a in args)
    try:
        cli.main(args=args, prog_name="dispute-kg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        # Click's own errors are all about the command line (a missing or invalid option value).
        exc.show()
        sys.exit(EXIT_USAGE)
    except Exception as exc:
        sys.exit(report(exc, debug=debug))
    except KeyboardInterrupt as exc:
        sys.exit(report(exc))
    sys.exit(0)


__all__ = ["Context", "cli", "main"]
