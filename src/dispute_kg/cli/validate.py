"""validate: check new assertions against the current graph, changing nothing."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Context, cli, pass_ctx
from .fastpath import emit_validation, finish_validation

FORMATS = click.Choice(["text", "json", "ttl"])


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
    from ..kg import KnowledgeGraph
    from ..project.folder import Project

    project: Project = ctx.project_obj()
    with KnowledgeGraph.open(project=project) as kg:  # builds if stale; holds the store generation it reads
        report = kg.validate(list(files), strict=strict)
    emit_validation(report, fmt)
    finish_validation(report)
