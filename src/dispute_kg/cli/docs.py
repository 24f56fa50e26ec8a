"""docs: regenerate (or check) the reference pages under docs/."""

from __future__ import annotations

import click

from ..errors import CheckFailed
from ..project.state import write_atomic
from .common import Context, cli, pass_ctx


@cli.command()
@click.option("--check", is_flag=True, help="Write nothing; exit 1 if a page differs from what would be generated.")
@pass_ctx
def docs(ctx: Context, check: bool) -> None:
    """Generate docs/queries.md, docs/checks.md and docs/cli.md from the queries, checks and commands.

    Example: dispute-kg docs --check
    """
    from .docsgen import pages

    project = ctx.project_obj()
    stale = []
    for path, text in pages(project).items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(project.relpath(path) if path.exists() else str(path))
        if not check:
            write_atomic(path, text, point="docs")
    if check and stale:
        raise CheckFailed(f"stale: {', '.join(stale)} (run `dispute-kg docs`)")
    click.echo(("stale: " if check else "written: ") + ", ".join(stale) if stale else "docs are up to date")
