"""add, history and retract: the recorded, reversible changes to a project's assertions."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import Context, cli, pass_ctx
from .fastpath import emit_validation, finish_validation
from .validate import FORMATS


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
    from ..project.additions import add, sparql_mirror

    project = ctx.project_obj()
    mirror = None
    if ctx.store and ctx.store.startswith("sparql:"):
        from ..stores.base import open_store

        # the project's files stay the source of truth; the remote store gets the same quads, journalled
        # first, so a failure or a kill anywhere is undone everywhere by the next command
        mirror = sparql_mirror(open_store(ctx.store, project=project))
    report, addition = add(project, list(files), agent=agent, note=note, strict=strict, mirror=mirror)
    if addition is None:
        emit_validation(report, fmt)
        finish_validation(report)
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
    from ..project.additions import history, recover

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
    from ..project.additions import retract

    project = ctx.project_obj()
    record = retract(project, addition_id, agent=agent, note=note)
    click.echo(f"retracted {addition_id} (record data/history/{record.id}.ttl)")
