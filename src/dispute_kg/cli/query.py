"""`query list|show|run|docs` (the stored-query catalogue) and `sparql` (ad-hoc queries).

Only click, the catalogue and the result writers are imported here: rdflib, pyshacl and owlrl stay
off the query path (an RDF output format imports rdflib when it is asked for).
"""

from __future__ import annotations

import io
import sys
from contextlib import contextmanager
from pathlib import Path

import click

from ..errors import InputError
from ..project.state import write_atomic
from ..query.results import WRITERS
from .common import SECONDS, Context, cli, pass_ctx

DEFAULT_LIMIT = 10000
DEFAULT_TIMEOUT = 30.0

format_option = click.option(
    "-f", "--format", "fmt", type=click.Choice(list(WRITERS)), default="table", show_default=True,
    help="Output format: table, SPARQL results as csv/tsv/json/xml, or RDF as ttl/nt/jsonld.")
limit_option = click.option("--limit", type=click.IntRange(min=1), default=DEFAULT_LIMIT, show_default=True,
                            help="Stop after this many rows (the output says it was truncated).")
offset_option = click.option("--offset", type=click.IntRange(min=0), default=0, show_default=True,
                             help="Skip this many rows first: with --limit, one page of the answer in its order.")
timeout_option = click.option("--timeout", type=SECONDS, default=DEFAULT_TIMEOUT,
                              show_default=True, help="Seconds before the query is stopped (exit 1).")
output_option = click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
                             help="Write to this file instead of stdout.")


@contextmanager
def _sink(output: Path | None):
    if output is None:
        yield sys.stdout
        sys.stdout.flush()
        return
    buffer = io.StringIO(newline="")
    yield buffer
    try:
        write_atomic(output, buffer.getvalue(), point="output")
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", path=str(output)) from None


def _emit(result, fmt: str, output: Path | None, limit: int | None) -> None:
    from ..query.results import write

    with _sink(output) as out:
        write(result, fmt, out)
    if result.truncated and fmt != "table":
        click.echo(f"note: stopped after {limit} rows (raise --limit to see more)", err=True)


def _catalog(ctx: Context):
    from ..query.index import catalog

    return catalog(ctx.project_obj())


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    from ..query.binding import parse_param_pairs

    return parse_param_pairs(pairs)


@cli.group()
def query() -> None:
    """Stored, parameterised SPARQL queries (queries/*.rq).

    Example: dispute-kg query run claims -p state=Japan
    """


@query.command("list")
@click.option("-f", "--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@pass_ctx
def list_queries(ctx: Context, fmt: str) -> None:
    """List the stored queries: name, summary and parameters (* = required).

    Example: dispute-kg query list
    """
    queries = _catalog(ctx).all()
    if fmt == "json":
        import json

        click.echo(json.dumps([{"name": q.name, "summary": q.summary, "tags": list(q.tags),
                                "parameters": [{"name": p.name, "type": p.type, "required": p.required,
                                                "example": p.example} for p in q.parameters],
                                "columns": [{"name": c.name, "label": c.label, "description": c.description}
                                            for c in q.columns]}
                               for q in queries], indent=2))
        return
    import textwrap

    for q in queries:
        params = " ".join(f"{p.name}{'*' if p.required else ''}" for p in q.parameters)
        click.echo(f"{q.name}" + (f"  [{params}]" if params else ""))
        click.echo(textwrap.fill(q.summary, 78, initial_indent="    ", subsequent_indent="    "))


@query.command("show")
@click.argument("name")
@pass_ctx
def show_query(ctx: Context, name: str) -> None:
    """Show a stored query: its header, its parameters, its documented columns and its SPARQL.

    Example: dispute-kg query show agreement-provisions
    """
    q = _catalog(ctx).get(name)
    click.echo(f"name:        {q.name}\nfile:        {q.file}\nsummary:     {q.summary}")
    if q.description:
        click.echo(f"description: {q.description}")
    if q.tags:
        click.echo(f"tags:        {', '.join(q.tags)}")
    if q.parameters:
        click.echo("parameters:")
        for p in q.parameters:
            need = "required" if p.required else "optional"
            click.echo(f"  {p.name} ({p.type}, {need}, ?{p.variable})" + (f": {p.description}" if p.description
                                                                         else ""))
            if p.example:
                click.echo(f"      example: {p.usage()}")
    if q.columns:
        click.echo("columns:     (label: description; downloads name a column by its variable)")
        width = max(len(c.name) for c in q.columns) + 1
        for c in q.columns:
            click.echo(f"  ?{c.name:<{width}} {c.label}" + (f": {c.description}" if c.description else ""))
    click.echo(f"example:     {q.example_command()}\n")
    click.echo(q.text.rstrip("\n"))


@query.command("run")
@click.argument("name")
@click.option("-p", "--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter value; an IRI parameter also takes id:..., a label or an alias. Repeatable.")
@format_option
@limit_option
@offset_option
@timeout_option
@output_option
@pass_ctx
def run_query(ctx: Context, name: str, params: tuple[str, ...], fmt: str, limit: int, offset: int, timeout: float,
              output: Path | None) -> None:
    """Run a stored query with its parameters bound as RDF terms (never spliced into the text).

    Example: dispute-kg query run claims -p state=Japan --format csv
    """
    values = _params(params)
    with ctx.open() as kg:
        result = kg.run_result(name, values, limit=limit, offset=offset, timeout=timeout)
    _emit(result, fmt, output, limit)


@query.command("docs")
@click.option("--check", is_flag=True, help="Exit 1 if the file is not what the headers generate.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write (default: docs/queries.md in the project).")
@pass_ctx
def query_docs(ctx: Context, check: bool, output: Path | None) -> None:
    """Generate docs/queries.md from the stored queries' headers.

    Example: dispute-kg query docs --check
    """
    from ..errors import CheckFailed
    from ..query.catalog import render_docs

    project = ctx.project_obj()
    target = output or project.root / "docs" / "queries.md"
    text = render_docs(_catalog(ctx))
    if check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            raise CheckFailed(f"{target} is stale: run `dispute-kg query docs` to regenerate it")
        click.echo(f"{target} is up to date")
        return
    write_atomic(target, text, point="docs")
    click.echo(f"wrote {target}")


@cli.command()
@click.argument("query_text", metavar="QUERY|@FILE")
@format_option
@limit_option
@timeout_option
@output_option
@click.option("--allow-update", is_flag=True, help="Allow SPARQL Update (refused otherwise).")
@pass_ctx
def sparql(ctx: Context, query_text: str, fmt: str, limit: int, timeout: float, output: Path | None,
           allow_update: bool) -> None:
    """Run an ad-hoc SPARQL query given as text or as @FILE.

    Example: dispute-kg sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
    """
    from ..query.binding import located
    from ..rdf.namespaces import with_prefixes

    text, label = query_text, "query"
    if query_text.startswith("@"):
        label = query_text[1:]
        try:
            text = Path(label).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read query file: {exc.strerror}", path=label) from None
    with ctx.open() as kg:
        try:
            result = kg.sparql(with_prefixes(text), limit=limit, timeout=timeout, allow_update=allow_update)
        except InputError as exc:
            if "syntax error" in str(exc):
                raise located(exc, label) from None
            raise
    _emit(result, fmt, output, limit)
