"""build, check, coverage and export."""

from __future__ import annotations

import json
import sys

import click

from ..errors import CheckFailed
from ..rdf.export import EXPORT_FORMATS
from ..rdf.namespaces import shorten
from .common import Context, cli, pass_ctx


@cli.command()
@click.option("--force", is_flag=True, help="Rebuild even if no input file changed.")
@pass_ctx
def build(ctx: Context, force: bool) -> None:
    """Load ontology, sources, assertions and links into the embedded store, reason and validate.

    The store is rebuilt only when an input file changed; a malformed file stops the build with its
    file, line and reason and leaves the previous store as it was.

    Example: dispute-kg build
    """
    from ..kg import KnowledgeGraph
    from ..project.build import build as do_build

    project = ctx.project_obj()
    progress = (lambda msg: click.echo(f"  reading {msg}", err=True)) if sys.stderr.isatty() else None
    verdicts = []

    def judge(report) -> None:
        # runs inside the build, beside the search index's rebuild, on the graph the build keeps in memory
        state = "built" if report.rebuilt else "up to date"
        click.echo(f"store {state}: {report.asserted} asserted + {report.inferred} inferred triples "
                   f"in {len(report.graphs)} graphs ({report.seconds:.1f} s)")
        with KnowledgeGraph.open(project=project, auto_build=False) as kg:
            verdicts.append(kg.check(progress=_progress_bar() if sys.stderr.isatty() else None,
                                     graph=report.graph))

    do_build(project, force=force, progress=progress, keep_graph=False, alongside=judge)
    result = verdicts[0]
    failures = _print_check(result, quiet=True)
    verdict = "PASS" if result.passed else f"FAIL ({failures} failing check(s); run `dispute-kg check`)"
    click.echo("verdict: " + verdict)
    if not result.passed:
        raise CheckFailed("the built graph does not pass its checks")


def _progress_bar():
    """A one-line bar on stderr for each part of the verdict: the SHACL constraints run in the store,
    then the QC checks and the span check."""
    def show(done: int, total: int, label: str) -> None:
        width = 30
        filled = width * done // max(total, 1)
        part = "shacl" if label.startswith("http") or not label else label.split(" ", 1)[0]
        click.echo(f"\r  verdict {part:<7}[{'#' * filled}{'.' * (width - filled)}] {done}/{total}", err=True,
                   nl=False)
        if done >= total:
            click.echo("", err=True)
    return show


def _print_check(report, quiet: bool = False) -> int:
    failures = 0
    errors = [v for v in report.shacl if v.severity == "Violation"]
    warnings = [v for v in report.shacl if v.severity != "Violation"]
    lines: list[str] = []
    if errors:
        failures += 1
        lines.append(f"FAIL shacl: {len(errors)} violation(s)")
        lines.extend("  " + v.line() for v in errors)
    else:
        lines.append("PASS shacl: 0 violation(s)" + (f", {len(warnings)} warning(s)" if warnings else ""))
    lines.extend("  warning: " + v.line() for v in warnings)
    for check in report.checks:
        if check.passed:
            lines.append(f"PASS {check.name}: 0 violation(s)")
        else:
            failures += 1
            lines.append(f"FAIL {check.name}: {len(check.rows)} violation(s)")
            for row in check.rows:
                cells = [shorten(row[k]["value"]) if k in row else "" for k in ("entity", "property", "value")]
                lines.append("  " + "  ".join(cells))
    if report.spans:
        failures += 1
        lines.append(f"FAIL provenance: {len(report.spans)} violation(s)")
        lines.extend(f"  {shorten(p.selection)}: {p.message}" for p in report.spans)
    else:
        lines.append("PASS provenance: 0 violation(s)")
    if report.inconsistencies:
        failures += 1
        lines.append(f"FAIL owl-consistency: {len(report.inconsistencies)} violation(s)")
        lines.extend("  " + m for m in report.inconsistencies)
    else:
        lines.append("PASS owl-consistency: 0 violation(s)")
    if not quiet:
        for line in lines:
            click.echo(line)
    else:
        for line in lines:
            if line.startswith("FAIL") or line.startswith("  "):
                click.echo(line)
    return failures


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def check(ctx: Context, fmt: str) -> None:
    """Run SHACL, the QC checks, the span provenance check and OWL consistency.

    Prints `PASS name: 0 violation(s)` or `FAIL name: N violation(s)` with the located rows, and
    exits 1 if anything failed.

    Example: dispute-kg check
    """
    with ctx.open() as kg:
        report = kg.check()
    if fmt == "json":
        click.echo(json.dumps({
            "passed": report.passed,
            "shacl": [v.to_dict() for v in report.shacl],
            "checks": [{"name": c.name, "summary": c.summary, "rows": c.rows} for c in report.checks],
            "provenance": [{"selection": p.selection, "message": p.message} for p in report.spans],
            "inconsistencies": report.inconsistencies,
        }, indent=2))
    else:
        _print_check(report)
    if not report.passed:
        raise CheckFailed("checks failed")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True)
@pass_ctx
def coverage(ctx: Context, fmt: str) -> None:
    """List each sentence of each source with the assertions citing it; exit 1 if a sentence is uncited.

    Title lines are listed but need no citation.

    Example: dispute-kg coverage
    """
    with ctx.open() as kg:
        rows = kg.coverage()
    uncited = [r for r in rows if not r.cited_by and not r.is_title]
    if fmt == "json":
        click.echo(json.dumps([{"source": r.source, "start": r.start, "end": r.end, "text": r.text,
                                "cited_by": r.cited_by, "title": r.is_title} for r in rows], indent=2))
    else:
        for r in rows:
            mark = "title" if r.is_title else ("ok" if r.cited_by else "UNCITED")
            snippet = r.text if len(r.text) <= 70 else r.text[:67] + "..."
            click.echo(f"[{mark}] {shorten(r.source)} {r.start}-{r.end}: {snippet}")
            for node in r.cited_by:
                click.echo(f"      {shorten(node)}")
        click.echo(f"{len(rows)} sentence(s), {len(uncited)} uncited")
    if uncited:
        raise CheckFailed(f"{len(uncited)} sentence(s) are cited by no assertion")


@cli.command()
@click.option("--format", "fmt", type=click.Choice(sorted(EXPORT_FORMATS)), default="ttl", show_default=True)
@click.option("--inferred/--no-inferred", default=False, help="Include the OWL 2 RL entailments.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write here instead of stdout.")
@pass_ctx
def export(ctx: Context, fmt: str, inferred: bool, output: str | None) -> None:
    """Write the graph (asserted, optionally with inferred triples) in an RDF format.

    Example: dispute-kg export --format nt --inferred -o graph.nt
    """
    from ..rdf.export import export_graph

    with ctx.open() as kg:
        data = export_graph(kg, fmt, inferred=inferred)
    if output:
        from ..project.state import write_atomic

        try:
            write_atomic(output, data, point="output")
        except OSError as exc:
            from ..errors import InputError

            raise InputError(f"cannot write: {exc.strerror}", path=output) from None
    else:
        sys.stdout.buffer.write(data)
