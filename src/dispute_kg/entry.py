"""The `dispute-kg` entry point: the click-free route for a plain `query run` or `validate`, click for the rest.

Both routes end in `errors.report`, so a failure prints the same line and exits with the same code.
"""

from __future__ import annotations

import sys


def main() -> None:
    from .cli.fastpath import execute, parse

    plan = parse(sys.argv[1:])
    if plan is None:
        from .cli.main import main as cli_main

        cli_main()
        return
    try:
        execute(plan)
    except (Exception, KeyboardInterrupt) as exc:
        from .errors import report

        sys.exit(report(exc))
    sys.exit(0)
