"""extract: a draft of candidate assertions from a registered source, for review before `add`."""

from __future__ import annotations

from pathlib import Path

import click

from .common import Context, cli, pass_ctx


@cli.command("extract")
@click.argument("source_id")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Where to write the draft (default: drafts/SOURCE_ID.ttl, with a .json beside it).")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "ttl"]), default="text", show_default=True,
              help="What to print: a summary, the candidates as JSON, or the draft's Turtle.")
@click.option("--force", is_flag=True, help="Overwrite a draft that was edited since `extract` wrote it.")
@pass_ctx
def extract_cmd(ctx: Context, source_id: str, output: Path | None, fmt: str, force: bool) -> None:
    """Propose candidate assertions (mentions, statements, positions, claims, events) from a registered
    source, with computed selectors, the rule that proposed each and a confidence. Nothing enters the graph:
    the draft is written under drafts/; keep the correct candidates and pass the file to `add`, or review it
    in the browser (`serve --allow-update`, page /review/SOURCE_ID). Rejected candidates are not proposed again.

    Example: dispute-kg extract urdupoint-2021-10-18
    """
    import json

    from ..extract import extract, write_draft

    project = ctx.project_obj()
    draft = extract(project, source_id)
    path = write_draft(project, draft, output, force=force)
    if fmt == "json":
        click.echo(json.dumps(draft.to_dict(), indent=1, ensure_ascii=False))
        return
    if fmt == "ttl":
        click.echo(draft.turtle(), nl=False)
        return
    counts: dict[str, int] = {}
    for c in draft.candidates:
        counts[c.kind] = counts.get(c.kind, 0) + 1
    summary = ", ".join(f"{n} {k}(s)" for k, n in sorted(counts.items()))
    shown = path.relative_to(project.root) if path.is_relative_to(project.root) else path
    click.echo(f"wrote {shown}: {len(draft.candidates)} candidate(s): {summary}"
               + (f"; {draft.rejected} rejected earlier, not proposed" if draft.rejected else "")
               + (f"; {len(draft.reconciliation)} pending reconciliation record(s)" if draft.reconciliation else ""))
