"""link (reconcile, --check, export) and wikidata refresh."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import COUNT, HTTP_URL, SECONDS, Context, cli, pass_ctx

_endpoint_option = click.option("--endpoint", type=HTTP_URL, default=None,
                                help="SPARQL endpoint (default: https://query.wikidata.org/sparql).")
_offline_option = click.option("--offline", is_flag=True,
                               help="Answer the same SPARQL from data/wikidata/snapshot.ttl, in-process.")
_timeout_option = click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
                               help="Seconds to wait for one answer.")
_retries_option = click.option("--retries", type=COUNT, default=4, show_default=True,
                               help="Further attempts after a 429, a 5xx, a timeout or a refused connection.")
_backoff_option = click.option("--backoff", type=click.FloatRange(min=0), default=2.0, show_default=True,
                               help="First wait between attempts, doubled each time (Retry-After wins).")


def _log(msg: str) -> None:
    click.echo(f"  {msg}", err=True)


@cli.group(invoke_without_command=True)
@_endpoint_option
@_offline_option
@click.option("--min-score", type=click.IntRange(0, 100), default=80, show_default=True,
              help="Lowest score (0-100) a clear winner needs to become a link.")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--check", "check", is_flag=True,
              help="Re-check every existing link (item exists, type compatible, label matches); exit 1 on a problem.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_timeout_option
@_retries_option
@_backoff_option
@click.pass_context
def link(cctx: click.Context, endpoint: str | None, offline: bool, min_score: int, dry_run: bool, check: bool,
         fmt: str, timeout: float, retries: int, backoff: float) -> None:
    """Reconcile our entities with Wikidata and write data/links/wikidata.ttl.

    Only a clear, type-compatible winner above --min-score becomes a skos:exactMatch link; ambiguity
    and misses are reported and kept as pending-review records. The file is replaced atomically and
    only when every query succeeded.

    Examples: dispute-kg link --offline --dry-run ; dispute-kg link --check ; dispute-kg link export --format sssom
    """
    if cctx.invoked_subcommand is not None:
        return
    from .. import links as wd

    ctx: Context = cctx.obj
    project = ctx.project_obj()
    ep = wd.open_endpoint(endpoint, offline, project, timeout=timeout, retries=retries, backoff=backoff, log=_log)
    if check:
        results = wd.check_links(project, ep)
        if fmt == "json":
            click.echo(json.dumps([{"entity": r.record.subject, "item": r.record.object, "ok": r.ok,
                                    "problems": r.problems} for r in results], indent=2))
        else:
            for r in results:
                state = "PASS" if r.ok else "FAIL"
                click.echo(f"{state} {r.record.subject_label} -> {wd.qid(r.record.object)}"
                           + ("" if r.ok else ": " + "; ".join(r.problems)))
            click.echo(f"{sum(r.ok for r in results)} of {len(results)} link(s) pass ({ep.description})")
        wd.fail_if_problems(results)
        return
    report = wd.reconcile(project, ep, min_score=min_score, dry_run=dry_run)
    if fmt == "json":
        click.echo(json.dumps(report.to_dict(), indent=2, ensure_ascii=False))
        return
    for o in report.outcomes:
        click.echo(f"{o.status:15} {o.entity.label}: {o.reason}")
    counts = ", ".join(f"{n} {k}" for k, n in sorted(wd.outcome_summary(report).items()))
    if dry_run:
        state = "would change" if report.changed else "unchanged"
    else:
        state = "written" if report.written else "unchanged"
    click.echo(f"{counts}; {wd.LINKS_FILE.as_posix()} {state} ({ep.description})")


@link.command("export")
@click.option("--format", "fmt", type=click.Choice(["sssom"]), default="sssom", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--links-only", is_flag=True, help="Leave out pending-review records.")
@pass_ctx
def export(ctx: Context, fmt: str, output: Path | None, links_only: bool) -> None:
    """Write the link records as SSSOM TSV.

    Example: dispute-kg link export --format sssom -o wikidata.sssom.tsv
    """
    from .. import links as wd

    project = ctx.project_obj()
    text = wd.export_sssom(wd.read_links(project.root / wd.LINKS_FILE), include_pending=not links_only)
    if output:
        wd.write_atomic(output, text)
    else:
        click.echo(text, nl=False)


@cli.group()
def wikidata() -> None:
    """The offline Wikidata snapshot."""


@wikidata.command()
@_endpoint_option
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write here instead of data/wikidata/snapshot.ttl.")
@_timeout_option
@_retries_option
@_backoff_option
@pass_ctx
def refresh(ctx: Context, endpoint: str | None, output: Path | None, timeout: float, retries: int,
            backoff: float) -> None:
    """Regenerate data/wikidata/snapshot.ttl from a live endpoint with CONSTRUCT queries.

    Run it online; the file says in its header that it is a snapshot and when it was taken.

    Example: dispute-kg wikidata refresh
    """
    from .. import links as wd

    project = ctx.project_obj()
    ep = wd.open_endpoint(endpoint, False, project, timeout=timeout, retries=retries, backoff=backoff, log=_log)
    path, n = wd.refresh_snapshot(project, ep, output=output)
    click.echo(f"snapshot written: {path} ({n} triples from {ep.description})")
