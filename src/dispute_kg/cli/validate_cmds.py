"""validate, add, history, retract and source add|list."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..namespaces import shorten
from .common import Context, cli, pass_ctx

FORMATS = click.Choice(["text", "json", "ttl"])


def _emit(report, fmt: str) -> None:
    if fmt == "json":
        click.echo(report.to_json())
    elif fmt == "ttl":
        click.echo(report.to_turtle(), nl=False)
    else:
        click.echo(report.to_text(), nl=False)


def _finish(report) -> None:
    """Exit 1 on violations, 2 on unreadable input (the report itself went to stdout)."""
    from ..errors import CheckFailed, InputError

    if report.exit_code == 2:
        first = next((p for p in report.problems if p.stage == "parse"), None)
        where = f"{first.where()}: " if first and first.where() else ""
        raise InputError(where + (first.message if first else "unreadable input"))
    if report.exit_code:
        raise CheckFailed(f"refused: {len(report.errors)} violation(s)"
                          + (f", {len(report.warnings)} warning(s) (--strict)" if report.strict else ""))


@cli.command("validate")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True,
              help="text for people, json, or ttl (the SHACL validation report graph).")
@click.option("--strict", is_flag=True, help="Refuse on warnings (sh:Warning) too.")
@pass_ctx
def validate_cmd(ctx: Context, files: tuple[Path, ...], fmt: str, strict: bool) -> None:
    """Check new assertions (Turtle, N-Triples, TriG, JSON-LD) against the current graph; change nothing.

    Exit 0 if they conform, 1 on violations, 2 if an input cannot be read.

    Example: dispute-kg validate new-position.ttl
    """
    from ..additions import ensure_built
    from ..validate import validate

    project = ctx.project_obj()
    ensure_built(project)
    report = validate(project, list(files), strict=strict)
    _emit(report, fmt)
    _finish(report)


@cli.command("add")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--agent", default=None, help="Who is adding (default: $DISPUTE_KG_AGENT or the user name).")
@click.option("--note", default=None, help="Why, for reviewers; stored in the addition's record.")
@click.option("--format", "fmt", type=FORMATS, default="text", show_default=True)
@click.option("--strict", is_flag=True, help="Refuse on warnings (sh:Warning) too.")
@pass_ctx
def add_cmd(ctx: Context, files: tuple[Path, ...], agent: str | None, note: str | None, fmt: str,
            strict: bool) -> None:
    """Validate the files and, only if they conform, add them to the graph in one atomic step.

    The new triples land in data/assertions/addition-<id>.ttl with a record in data/history/<id>.ttl,
    and the store is updated in one transaction. A refusal changes nothing.

    Example: dispute-kg add new-position.ttl --agent "A. Reviewer" --note "from the 2021-10-19 report"
    """
    from ..additions import add, sparql_mirror

    project = ctx.project_obj()
    mirror = None
    if ctx.store and ctx.store.startswith("sparql:"):
        from ..store import open_store

        # the project's files stay the source of truth; the remote store gets the same quads first,
        # in one SPARQL Update request, so a failure there leaves both unchanged
        mirror = sparql_mirror(open_store(ctx.store, project=project))
    report, addition = add(project, list(files), agent=agent, note=note, strict=strict, mirror=mirror)
    if addition is None:
        _emit(report, fmt)
        _finish(report)
        return
    if fmt == "json":
        data = json.loads(report.to_json())
        data["addition"] = addition.to_dict()
        click.echo(json.dumps(data, indent=2, sort_keys=True))
    elif fmt == "ttl":
        click.echo(report.to_turtle(), nl=False)
    else:
        click.echo(report.to_text(), nl=False)
        click.echo(f"added {addition.id}: {addition.triples} triple(s) -> {addition.files[0]} "
                   f"(record data/history/{addition.id}.ttl)")


@cli.command("history")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def history_cmd(ctx: Context, fmt: str) -> None:
    """List additions and retractions, oldest first.

    Example: dispute-kg history
    """
    from ..additions import history, recover

    project = ctx.project_obj()
    recover(project)
    records = history(project)
    if fmt == "json":
        click.echo(json.dumps([a.to_dict() for a in records], indent=2))
        return
    if not records:
        click.echo("no additions yet")
        return
    for a in records:
        if a.retracts:
            what = f"retracts {a.retracts}"
        else:
            what = f"{a.triples} triple(s) in {', '.join(a.files)}"
            if a.retracted_by:
                what += f"  [retracted by {a.retracted_by}]"
        click.echo(f"{a.id}  {a.time}  {a.agent}  {what}" + (f"  -- {a.note}" if a.note else ""))


@cli.command("retract")
@click.argument("addition_id")
@click.option("--agent", default=None, help="Who is retracting.")
@click.option("--note", default=None, help="Why; stored in the retraction's record.")
@pass_ctx
def retract_cmd(ctx: Context, addition_id: str, agent: str | None, note: str | None) -> None:
    """Remove exactly what one addition added, record the retraction, and rebuild the store.

    Refused, with nothing changed, if the graph without it would fail its checks.

    Example: dispute-kg retract 20261126T221500Z-1a2b3c4d --note "wrong source"
    """
    from ..additions import retract

    project = ctx.project_obj()
    record = retract(project, addition_id, agent=agent, note=note)
    click.echo(f"retracted {addition_id} (record data/history/{record.id}.ttl)")


@cli.group("source")
def source_group() -> None:
    """Register and list source texts."""


@source_group.command("add")
@click.argument("text_file", type=click.Path(path_type=Path))
@click.option("--title", required=True, help="The source's title.")
@click.option("--published", required=True, metavar="YYYY-MM-DD", help="Publication date.")
@click.option("--publisher", required=True, help="Publisher's name (an existing organisation, or created).")
@click.option("--url", default=None, help="Where the text was taken from.")
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
    from ..sources import add_source

    project = ctx.project_obj()
    report, addition = add_source(project, text_file, title=title, published=published, publisher=publisher,
                                  url=url, slug=slug, agent=agent, note=note)
    if addition is None:
        _emit(report, fmt)
        _finish(report)
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
    from ..sources import list_sources

    with ctx.open() as kg:
        rows = list_sources(kg.store)
    if fmt == "json":
        click.echo(json.dumps([r.to_dict() for r in rows], indent=2))
        return
    for r in rows:
        click.echo(f"{shorten(r.iri)}  {r.issued}  {r.publisher}  sha256 {r.sha256[:12]}  "
                   f"{r.length} chars  {r.selections} selection(s)\n    {r.title}")
