"""The `dispute-kg` entry point: the click-free route for a plain `query run`, click for the rest."""

from __future__ import annotations

import sys


def main() -> None:
    from .cli.fastpath import execute, parse

    plan = parse(sys.argv[1:])
    if plan is None:
        from .cli.main import main as cli_main

        cli_main()
        return
    from .errors import DisputeKGError

    try:
        execute(plan)
    except DisputeKGError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly with status 1, as the click route does.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(1)
    sys.exit(0)
