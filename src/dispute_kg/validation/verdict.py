"""The verdict of `dispute-kg check` on a built graph in any store: SHACL, the QC checks, the span
proof and OWL consistency, gathered into one `CheckReport`.

It lives below the project layer so that `retract` can judge a new store generation before publishing
it, with the same code `KnowledgeGraph.check` runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class CheckReport:
    """Everything `dispute-kg check` found; `passed` is the verdict."""

    shacl: list[Any] = field(default_factory=list)  # shacl.Violation
    checks: list[Any] = field(default_factory=list)  # checks.CheckResult
    spans: list[Any] = field(default_factory=list)  # provenance.SpanProblem
    inconsistencies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (not [v for v in self.shacl if v.severity == "Violation"] and all(c.passed for c in self.checks)
                and not self.spans and not self.inconsistencies)

    def problems(self) -> list[str]:
        """One line per failure, for messages that list them."""
        out = [v.line() for v in self.shacl if v.severity == "Violation"]
        out += [f"{c.name}: {len(c.rows)} row(s)" for c in self.checks if not c.passed]
        out += [f"{p.selection}: {p.message}" for p in self.spans]
        return out + list(self.inconsistencies)


def rdflib_graph(store: Any) -> Any:
    """The store's triples (every graph) as an rdflib graph, for pyshacl; lexical forms kept."""
    import rdflib

    from ..rdf.convert import term_to_rdflib

    graph = rdflib.Graph()
    add = graph.add
    for s, p, o, _ in store.quads():
        add((term_to_rdflib(s), term_to_rdflib(p), term_to_rdflib(o)))
    return graph


def shacl_violations(store: Any, shape_files: Sequence[Path], *, embedded: bool,
                     progress: Callable[..., Any] | None = None) -> list[Any]:
    """SHACL as queries inside an embedded Oxigraph store (`shacl_store`); pyshacl over an rdflib copy of
    the graph on other backends, or when a shape uses a feature the compiler lacks."""
    from .shacl import load_shapes, run_shacl

    shapes = load_shapes(shape_files)
    inner = getattr(store, "store", None)
    if embedded and inner is not None:
        from .shacl_store import Unsupported, run_shacl_in_store

        try:
            return run_shacl_in_store(inner, shapes, progress)
        except Unsupported:
            pass
    return run_shacl(rdflib_graph(store), shapes).violations


def check_store(store: Any, project: Any, *, inconsistencies: list[str], embedded: bool, shacl: bool = True,
                progress: Callable[[int, int, str], None] | None = None) -> CheckReport:
    """Run every check on `store`, the built graph of `project`; `inconsistencies` are the OWL 2 RL
    inconsistencies its build (or the store itself) found. `progress(done, total, label)` hears of each
    step: the SHACL constraints one by one, then the QC checks, the vocabulary and link checks and the spans."""
    from .checks import check_standard_terms, check_wikidata_links, run_check
    from .provenance import check_spans

    report = CheckReport()
    if shacl:
        report.shacl = shacl_violations(store, project.shape_files, embedded=embedded, progress=progress)
    steps: list[tuple[str, Callable[[], Any]]] = [
        (f"check {path.stem}", lambda path=path: run_check(store, path)) for path in project.check_files]
    steps += [("check standard-vocabulary-terms", lambda: check_standard_terms(store)),
              ("check wikidata-link-type", lambda: check_wikidata_links(store, project))]
    for i, (label, step) in enumerate(steps):
        if progress:
            progress(i, len(steps) + 1, label)
        report.checks.append(step())
    if progress:
        progress(len(steps), len(steps) + 1, "check spans")
    report.spans = check_spans(store)
    if progress:
        progress(len(steps) + 1, len(steps) + 1, "checks done")
    report.inconsistencies = list(inconsistencies)
    return report
