"""sparql (ad-hoc queries); the stored-query commands live here too."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import InputError
from .common import Context, cli, pass_ctx


@cli.command()
@click.argument("query")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@click.option("--limit", type=int, default=None, help="Stop after this many rows (reported as truncated).")
@click.option("--timeout", type=float, default=30.0, show_default=True, help="Seconds before the query is stopped.")
@click.option("--allow-update", is_flag=True, help="Allow SPARQL Update (refused otherwise).")
@pass_ctx
def sparql(ctx: Context, query: str, fmt: str, limit: int | None, timeout: float, allow_update: bool) -> None:
    """Run an ad-hoc SPARQL query given as text or as @FILE.

    Example: dispute-kg sparql 'SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }'
    """
    text = query
    if query.startswith("@"):
        try:
            text = Path(query[1:]).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read query file: {exc.strerror}", path=query[1:]) from None
    with ctx.open() as kg:
        result = kg.sparql(text, limit=limit, timeout=timeout, allow_update=allow_update)
    if fmt == "json" or result.kind != "select":
        click.echo(json.dumps(result.to_sparql_json(), indent=2))
        return
    from ..namespaces import shorten

    for row in result.rows:
        click.echo("\t".join(shorten(row[v]["value"]) if v in row else "" for v in result.variables))
