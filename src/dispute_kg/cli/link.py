"""link (reconcile, --check, accept, reject, import, export) and wikidata refresh."""

from __future__ import annotations

import json
from pathlib import Path

import click

from .common import HTTP_URL, SECONDS, Context, FiniteRange, cli, pass_ctx

_endpoint_option = click.option("--endpoint", type=HTTP_URL, default=None,
                                help="SPARQL endpoint (default: https://query.wikidata.org/sparql).")
_offline_option = click.option("--offline", is_flag=True,
                               help="Answer the same SPARQL from data/wikidata/snapshot.ttl, in-process "
                                    "(never combined with --endpoint; without it nothing falls back to the snapshot).")
_timeout_option = click.option("--timeout", type=SECONDS, default=60.0, show_default=True,
                               help="Seconds each attempt may take, on the wall clock.")
_retries_option = click.option("--retries", type=click.IntRange(0, 20), default=4, show_default=True,
                               help="Further attempts after a 429, a 5xx, a timeout or a refused connection.")
_backoff_option = click.option("--backoff", type=FiniteRange(0, 600), default=2.0, show_default=True,
                               help="First wait between attempts, doubled each time (Retry-After wins).")
_author_option = click.option("--author", default=None, metavar="IRI",
                              help="Who decides: an ORCID (orcid:0000-...), mailto: or https: IRI "
                                   "(default: $DISPUTE_KG_AUTHOR).")
_author_label_option = click.option("--author-label", default="", metavar="NAME", help="The curator's name.")


def _live_options(f):  # type: ignore[no-untyped-def]
    """The options of every subcommand that may ask a live endpoint, in the order --help lists them."""
    for option in reversed((_endpoint_option, _offline_option, _timeout_option, _retries_option, _backoff_option)):
        f = option(f)
    return f


def _log(msg: str) -> None:
    click.echo(f"  {msg}", err=True)


def _open(project, endpoint, offline, timeout=60.0, retries=4, backoff=2.0):
    from .. import links as wd

    return wd.open_endpoint(endpoint, offline, project, timeout=timeout, retries=retries, backoff=backoff, log=_log)


@cli.group(invoke_without_command=True)
@_endpoint_option
@_offline_option
@click.option("--min-score", type=click.IntRange(0, 100), default=80, show_default=True,
              help="Lowest score (0-100) a clear winner needs to become a link (its context must agree too).")
@click.option("--dry-run", is_flag=True, help="Report what would change; write nothing.")
@click.option("--check", "check", is_flag=True,
              help="Check every skos:exactMatch in the graph against its record and the item (exists, type "
                   "compatible, label or alias agrees); exit 1 on a problem.")
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table", show_default=True)
@_timeout_option
@_retries_option
@_backoff_option
@click.pass_context
def link(cctx: click.Context, endpoint: str | None, offline: bool, min_score: int, dry_run: bool, check: bool,
         fmt: str, timeout: float, retries: int, backoff: float) -> None:
    """Reconcile our entities with Wikidata and write data/links/wikidata.ttl.

    Only a clear, type-compatible winner above --min-score whose context agrees becomes a
    skos:exactMatch link; everything else is kept as a pending-review record with its scored
    candidates. The file is replaced atomically and only when every query succeeded. An endpoint that
    cannot be reached stops the command (exit 3); only --offline answers from the snapshot.

    Examples: dispute-kg link --offline --dry-run ; dispute-kg link --offline --check
    """
    if cctx.invoked_subcommand is not None:
        if endpoint or offline or check or dry_run:
            raise click.UsageError("give --endpoint, --offline, --check and --dry-run after the subcommand")
        return
    from .. import links as wd

    ctx: Context = cctx.obj
    project = ctx.project_obj()
    ep = _open(project, endpoint, offline, timeout, retries, backoff)
    if check:
        results = wd.check_links(project, ep)
        if fmt == "json":
            click.echo(json.dumps([{"entity": r.subject, "item": r.item, "ok": r.ok, "problems": r.problems}
                                   for r in results], indent=2, ensure_ascii=False))
        else:
            for r in results:
                state = "PASS" if r.ok else "FAIL"
                click.echo(f"{state} {r.label} -> {wd.qid(r.item)}" + ("" if r.ok else ": " + "; ".join(r.problems)))
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


def _decide(ctx: Context, decisions, author, author_label, endpoint, offline, dry_run=False,
            timeout=60.0, retries=4, backoff=2.0) -> None:
    from .. import links as wd

    project = ctx.project_obj()
    lines = wd.decide(project, decisions, author,
                      lambda: _open(project, endpoint, offline, timeout, retries, backoff),
                      author_label=author_label, dry_run=dry_run)
    for line in lines:
        click.echo(line)


@link.command("accept")
@click.argument("entity")
@click.argument("item", metavar="QID")
@_author_option
@_author_label_option
@click.option("--note", default="", help="Why (kept in the record).")
@_live_options
@pass_ctx
def accept(ctx: Context, entity: str, item: str, author: str | None, author_label: str, note: str,
           endpoint: str | None, offline: bool, timeout: float, retries: int, backoff: float) -> None:
    """Link ENTITY to a Wikidata item, after the checks of `link --check` pass for it.

    Recorded with the curator (author_id), the date and semapv:ManualMappingCuration; later automatic
    runs never change it.

    Example: dispute-kg link accept state/japan Q17 --offline --author orcid:0000-0002-1825-0097
    """
    from .. import links as wd

    _decide(ctx, [wd.Decision(entity, item, False, note)], author, author_label, endpoint, offline,
            timeout=timeout, retries=retries, backoff=backoff)


@link.command("reject")
@click.argument("entity")
@click.argument("item", metavar="QID")
@_author_option
@_author_label_option
@click.option("--note", default="", help="Why (kept in the record).")
@pass_ctx
def reject(ctx: Context, entity: str, item: str, author: str | None, author_label: str, note: str) -> None:
    """Record that ENTITY is not the Wikidata item QID; an existing link to it is removed.

    Later automatic runs never propose that item for this entity again.

    Example: dispute-kg link reject territory/okinawa Q766445 --author orcid:0000-0002-1825-0097
    """
    from .. import links as wd

    _decide(ctx, [wd.Decision(entity, item, True, note)], author, author_label, None, False)


@link.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@_author_option
@_author_label_option
@click.option("--dry-run", is_flag=True, help="Verify every decision; write nothing.")
@_live_options
@pass_ctx
def import_(ctx: Context, file: Path, author: str | None, author_label: str, dry_run: bool, endpoint: str | None,
            offline: bool, timeout: float, retries: int, backoff: float) -> None:
    """Apply a curator's decisions from an SSSOM TSV file, all or nothing.

    Rows justified by semapv:ManualMappingCuration are decisions: with predicate_modifier Not a
    rejection, without it an accepted link (verified as `link accept` does). Other rows are left alone.
    A row's author_id wins over --author.

    Example: dispute-kg link import reviewed.sssom.tsv --offline --author orcid:0000-0002-1825-0097
    """
    from .. import links as wd

    decisions, others = wd.read_decisions(file)
    if not decisions:
        click.echo(f"no manual decisions in {file} ({others} other row(s) left alone)")
        return
    _decide(ctx, [wd.Decision(d.subject, d.object, d.reject, d.comment, d.author_id) for d in decisions], author,
            author_label, endpoint, offline, dry_run, timeout, retries, backoff)
    click.echo(f"{len(decisions)} decision(s) {'verified' if dry_run else 'applied'}; {others} other row(s) left alone")


@link.command("export")
@click.option("--format", "fmt", type=click.Choice(["sssom"]), default="sssom", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write to this file instead of standard output.")
@click.option("--links-only", is_flag=True, help="Leave out pending-review records, candidates and rejections.")
@pass_ctx
def export(ctx: Context, fmt: str, output: Path | None, links_only: bool) -> None:
    """Write the link records as SSSOM TSV (links, pending records, candidates, rejections).

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

    Run it online: an endpoint that cannot be reached, or that answers with something other than
    RDF, stops it with exit 3 and the snapshot unchanged. The file says in its header that it is a
    snapshot and when it was taken.

    Example: dispute-kg wikidata refresh
    """
    from .. import links as wd

    project = ctx.project_obj()
    ep = wd.open_endpoint(endpoint, False, project, timeout=timeout, retries=retries, backoff=backoff, log=_log)
    ep.hint = "; the snapshot is unchanged (refresh needs a live endpoint)"
    path, n = wd.refresh_snapshot(project, ep, output=output)
    click.echo(f"snapshot written: {path} ({n} triples from {ep.description})")
