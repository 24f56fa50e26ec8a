"""push: copy the built graph to another store and prove it arrived."""

from __future__ import annotations

import sys

import click

from .common import Context, cli, pass_ctx


@cli.command()
@click.option("--to", "target", required=True, metavar="SELECTOR",
              help="Where to copy the graph: sparql:QUERY_URL;update=URL[;gsp=URL], oxigraph:PATH or memory:.")
@click.option("--batch", type=click.IntRange(min=1), default=5000, show_default=True,
              help="Triples per request.")
@pass_ctx
def push(ctx: Context, target: str, batch: int) -> None:
    """Copy the built graph (every named graph, the inferred one included) to another store.

    Each graph is replaced on the target and sent in batches; afterwards the triple count of every
    graph is compared with the source's (exit 1 if one differs). Credentials for a remote endpoint are
    read from DISPUTE_KG_SPARQL_TOKEN or DISPUTE_KG_SPARQL_USER/DISPUTE_KG_SPARQL_PASSWORD.

    Example: dispute-kg push --to 'sparql:http://127.0.0.1:7878/query;update=http://127.0.0.1:7878/update;gsp=http://127.0.0.1:7878/store'
    """
    from ..project.push import graph_counts
    from ..project.push import push as do_push
    from ..stores.base import open_store, parse_selector

    selector = parse_selector(target)
    with ctx.open() as kg:
        dest = open_store(selector, project=None if selector.scheme == "memory" else kg.project)
        try:
            total = sum(graph_counts(kg.store).values())
            if sys.stderr.isatty():
                with click.progressbar(length=total, label="pushing", file=sys.stderr) as bar:
                    state = {"sent": 0}

                    def progress(sent: int, _total: int) -> None:
                        bar.update(sent - state["sent"])
                        state["sent"] = sent

                    report = do_push(kg.store, dest, batch=batch, progress=progress)
            else:
                report = do_push(kg.store, dest, batch=batch)
        finally:
            dest.close()
    click.echo(f"pushed {report.total} triples in {len(report.graphs)} graphs ({report.batches} batches, "
               f"{report.seconds:.1f} s); every graph's triple count matches on {selector.scheme}:")
