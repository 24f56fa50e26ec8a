"""A click-free route for the commonest command, `query run`, so running a stored query from a shell
loop costs little more than a bare pyoxigraph query.

Importing click takes about 30 ms here, which is more than a whole bare query process. This parser
accepts only the plain form:

    dispute-kg [--project DIR] [-s|--store SEL] query run NAME [-p NAME=VALUE]... [-f|--format FMT]
               [--limit N] [--timeout S]

Anything else (help, other options, a value it cannot read) returns None and the click CLI handles the
whole command line, with the same output and the same errors. Both routes call the same library code.
"""

from __future__ import annotations

from dataclasses import dataclass, field

DEFAULT_LIMIT = 10000
DEFAULT_TIMEOUT = 30.0


@dataclass
class Plan:
    name: str
    params: list[str] = field(default_factory=list)
    fmt: str = "table"
    limit: int = DEFAULT_LIMIT
    timeout: float = DEFAULT_TIMEOUT
    project: str | None = None
    store: str | None = None


def parse(argv: list[str]) -> Plan | None:
    """The plan for a plain `query run`, or None to let click parse the command line."""
    from .results import WRITERS

    args = list(argv)
    project = store = None
    while args and args[0] in ("--project", "-s", "--store"):
        if len(args) < 2:
            return None
        if args[0] == "--project":
            project = args[1]
        else:
            store = args[1]
        args = args[2:]
    if len(args) < 3 or args[0] != "query" or args[1] != "run" or args[2].startswith("-"):
        return None
    plan = Plan(name=args[2], project=project, store=store)
    rest = args[3:]
    while rest:
        if len(rest) < 2:
            return None
        option, value = rest[0], rest[1]
        rest = rest[2:]
        if option in ("-p", "--param"):
            plan.params.append(value)
        elif option in ("-f", "--format") and value in WRITERS:
            plan.fmt = value
        elif option == "--limit" and value.isdigit() and int(value) >= 1:
            plan.limit = int(value)
        elif option == "--timeout":
            try:
                plan.timeout = float(value)
            except ValueError:
                return None
            if not plan.timeout > 0:
                return None
        else:
            return None
    return plan


def execute(plan: Plan) -> None:
    import sys

    from .catalog import parse_param_pairs
    from .kg import KnowledgeGraph
    from .results import write

    values = parse_param_pairs(plan.params)
    with KnowledgeGraph.open(store=plan.store, project=plan.project) as kg:
        result = kg.run_result(plan.name, values, limit=plan.limit, timeout=plan.timeout)
    write(result, plan.fmt, sys.stdout)
    sys.stdout.flush()
    if result.truncated and plan.fmt != "table":
        print(f"note: stopped after {plan.limit} rows (raise --limit to see more)", file=sys.stderr)
