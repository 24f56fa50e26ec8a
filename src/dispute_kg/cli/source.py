"""source add|list: registering source texts and listing them."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..rdf.namespaces import shorten
from .common import HTTP_URL, Context, cli, pass_ctx
from .fastpath import emit_validation, finish_validation
from .validate import FORMATS


@cli.group("source")
def source_group() -> None:
    """Register and list source texts."""


@source_group.command("add")
@click.argument("text_file", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="The source's title.")
@click.option("--published", required=True, metavar="YYYY-MM-DD", help="Publication date.")
@click.option("--publisher", required=True, help="Publisher's name (an existing organisation, or created).")
@click.option("--url", type=HTTP_URL, default=None, help="Where the text was taken from.")
@click.option("--id", "slug", default=None, help="Source id (default: the file name, slugified).")
@click.option("--agent", default=None)
@click.option("--note", default=None)
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@pass_ctx
def source_add(ctx: Context, text_file: Path, title: str, published: str, publisher: str, url: str | None,
               slug: str | None, agent: str | None, note: str | None, fmt: str) -> None:
    """Register a source text verbatim (with its SHA-256) so new assertions can cite it.

    Example: dispute-kg source add report.txt --title "..." --published 2021-10-19 --publisher "Kyodo News"
    """
    from ..project.sources import add_source

    project = ctx.project_obj()
    report, addition = add_source(project, text_file, title=title, published=published, publisher=publisher,
                                  url=url, slug=slug, agent=agent, note=note)
    if addition is None:
        emit_validation(report, fmt)
        finish_validation(report)
        return
    click.echo(f"registered {addition.files[0]} as <https://w3id.org/dispute-kg/id/source/"
               f"{Path(addition.files[0]).stem}> ({len(text_file.read_bytes())} bytes, "
               f"sha256 {addition.input_sha256[:12]}...; record data/history/{addition.id}.ttl)")


@source_group.command("list")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def source_list(ctx: Context, fmt: str) -> None:
    """List the registered sources: title, date, publisher, hash, length and how many selections cite them.

    Example: dispute-kg source list
    """
    from ..project.sources import list_sources

    with ctx.open() as kg:
        rows = list_sources(kg.store)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{shorten(r.iri)}  {r.issued}  {r.publisher}  sha256 {r.sha256[:12]}  "
                   f"{r.length} chars  {r.selections} selection(s)\n    {r.title}")
