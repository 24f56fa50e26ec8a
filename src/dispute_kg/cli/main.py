"""The `dispute-kg` command: one click group, one module per command family.

Commands only parse arguments, call the library and print; errors become one line and the exit
code DESIGN.md assigns (0 ok, 1 check failed, 2 bad input, 3 backend unreachable).
"""

from __future__ import annotations

import sys
import traceback

import click

from ..errors import DisputeKGError
from .common import Context, cli


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    show_traceback = "--traceback" in args
    try:
        cli.main(args=args, prog_name="dispute-kg", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if exc.exit_code == 1 or isinstance(exc, click.UsageError) else exc.exit_code)
    except DisputeKGError as exc:
        if show_traceback:
            traceback.print_exc()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    sys.exit(0)


__all__ = ["Context", "cli", "main"]
