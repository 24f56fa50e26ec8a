"""A click-free route for the commonest commands, `query run` and `validate`, so running a stored query
from a shell loop costs little more than a bare pyoxigraph query, and checking an input file before
adding it takes well under a second.

Importing click takes about 30 ms here, more than a whole bare query process. This parser accepts
only the plain form:

    dispute-kg [--project DIR] [-s|--store SEL] query run NAME [-p NAME=VALUE]... [-f|--format FMT]
               [--limit N] [--offset N] [--timeout S]

Anything else (help, other options, a value it cannot read) returns None and the click CLI handles the
whole command line, with the same output and the same errors. Both routes call the same library code.

On the default embedded store, `execute` first tries the quick route: the query index that `build`
writes (`quickindex`) vouches that the store matches its files and holds the query already parsed,
so only pyoxigraph and the import-free modules of this package are loaded. When the index cannot
vouch, the full route (`KnowledgeGraph`) runs, rebuilding the store if its files changed.
"""

from __future__ import annotations

from ..rdf.terms import Record

DEFAULT_LIMIT = 10000
DEFAULT_TIMEOUT = 30.0

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ..rdf.terms import Result


class Plan(Record):
    """What a plain `query run` command line asks for."""

    __slots__ = ("fmt", "limit", "name", "offset", "params", "project", "store", "timeout")
    _FIELDS = ("name", "params", "fmt", "limit", "offset", "timeout", "project", "store")

    def __init__(self, name: str, params: list[str] | None = None, fmt: str = "table",
                 limit: int = DEFAULT_LIMIT, timeout: float = DEFAULT_TIMEOUT, project: str | None = None,
                 store: str | None = None, offset: int = 0) -> None:
        self.name, self.params, self.fmt = name, params if params is not None else [], fmt
        self.limit, self.timeout, self.project, self.store = limit, timeout, project, store
        self.offset = offset


class ValidatePlan(Record):
    """What a plain `validate` command line asks for."""

    __slots__ = ("files", "fmt", "project", "strict")
    _FIELDS = ("files", "fmt", "strict", "project")

    def __init__(self, files: list[str], fmt: str = "text", strict: bool = False,
                 project: str | None = None) -> None:
        self.files, self.fmt, self.strict, self.project = files, fmt, strict, project


VALIDATE_FORMATS = ("text", "json", "ttl")


def parse(argv: list[str]) -> Plan | ValidatePlan | None:
    """The plan for a plain `query run` or `validate`, or None to let click parse the command line."""
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
    if args and args[0] == "validate":
        return None if store is not None else _parse_validate(args[1:], project)
    if len(args) < 3 or args[0] != "query" or args[1] != "run" or args[2].startswith("-"):
        return None
    from ..query.results import WRITERS  # light, and `execute` needs it anyway

    plan = Plan(args[2], project=project, store=store)
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
        elif option == "--limit" and value.isascii() and value.isdigit() and int(value) >= 1:
            plan.limit = int(value)
        elif option == "--offset" and value.isascii() and value.isdigit():
            plan.offset = int(value)
        elif option == "--timeout":
            try:
                plan.timeout = float(value)
            except ValueError:
                return None
            if not 0 < plan.timeout < float("inf"):
                return None  # click refuses it, with the usage line
        else:
            return None
    return plan


def _parse_validate(args: list[str], project: str | None) -> ValidatePlan | None:
    """`validate FILE... [--format text|json|ttl] [--strict]`; anything else (help, `--`, an option
    it does not know, no file) goes to click."""
    plan = ValidatePlan([], project=project)
    rest = list(args)
    while rest:
        arg = rest.pop(0)
        if arg == "--strict":
            plan.strict = True
        elif arg == "--format":
            if not rest or rest[0] not in VALIDATE_FORMATS:
                return None
            plan.fmt = rest.pop(0)
        elif arg.startswith("-") or not arg:
            return None
        else:
            plan.files.append(arg)
    return plan if plan.files else None


def emit_validation(report: Any, fmt: str) -> None:
    """Print a validation report (both routes of `validate`)."""
    import sys

    text = report.to_json() + "\n" if fmt == "json" else report.to_turtle() if fmt == "ttl" else report.to_text()
    sys.stdout.write(text)
    sys.stdout.flush()


def finish_validation(report: Any) -> None:
    """Exit 1 on violations, 2 on unreadable input (the report itself went to stdout)."""
    from ..errors import CheckFailed, InputError

    if report.exit_code == 2:
        first = next((p for p in report.problems if p.stage == "parse"), None)
        where = f"{first.where()}: " if first and first.where() else ""
        raise InputError(where + (first.message if first else "unreadable input"))
    if report.exit_code:
        raise CheckFailed(f"refused: {len(report.errors)} violation(s)"
                          + (f", {len(report.warnings)} warning(s) (--strict)" if report.strict else ""))


def validate(plan: ValidatePlan) -> None:
    from pathlib import Path

    from ..kg import KnowledgeGraph
    from ..project.folder import Project

    project = Project.open(plan.project)
    with KnowledgeGraph.open(project=project) as kg:  # builds if stale; holds the store generation it reads
        report = kg.validate([Path(f) for f in plan.files], strict=plan.strict)
    emit_validation(report, plan.fmt)
    finish_validation(report)


def quick_result(plan: Plan, values: dict[str, str]) -> Result | None:
    """The answer from the quick route, or None when the query index cannot vouch for the store."""
    if plan.store is not None:
        return None
    import os

    from ..query.binding import run_query
    from ..query.index import lookup

    root = os.path.realpath(plan.project if plan.project is not None
                            else os.environ.get("DISPUTE_KG_PROJECT", "."))
    found = lookup(root, plan.name)
    if found is None:
        return None
    query, held = found
    from ..stores.oxigraph import OxigraphStore

    try:
        store = OxigraphStore.at(held.store_path, read_only=True)
        store.views = held.views_path
        try:
            return run_query(store, query, values, limit=plan.limit, offset=plan.offset, timeout=plan.timeout)
        finally:
            store.close()
    finally:
        held.release()


def execute(plan: Plan | ValidatePlan) -> None:
    import sys

    if isinstance(plan, ValidatePlan):
        validate(plan)
        return

    from ..query.binding import parse_param_pairs
    from ..query.results import write

    values = parse_param_pairs(plan.params)
    result = quick_result(plan, values)
    if result is None:
        from ..kg import KnowledgeGraph

        with KnowledgeGraph.open(store=plan.store, project=plan.project) as kg:
            result = kg.run_result(plan.name, values, limit=plan.limit, offset=plan.offset, timeout=plan.timeout)
    write(result, plan.fmt, sys.stdout)
    sys.stdout.flush()
    if result.truncated and plan.fmt != "table":
        print(f"note: stopped after {plan.limit} rows (raise --limit to see more)", file=sys.stderr)
