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


Step = tuple[str, Callable[[], Any]]


def _shacl_steps(store: Any, shape_files: Sequence[Path], *, embedded: bool) -> tuple[list[Step], Step]:
    """One step per compiled constraint (empty when the shapes do not compile), and the pyshacl step that
    replaces them all if they do not compile or one of them meets what the compiler cannot judge."""
    from .shacl import load_shapes, run_shacl

    shapes = load_shapes(shape_files)
    fallback: Step = ("shacl (pyshacl)", lambda: run_shacl(rdflib_graph(store), shapes).violations)
    inner = getattr(store, "store", None)
    if not embedded or inner is None:
        return [], fallback
    from .shacl_store import Unsupported, check_violations, compile_shapes

    try:
        checks = compile_shapes(shapes)
    except Unsupported:
        return [], fallback
    has_focus: dict[str, bool] = {}
    return [(c.label, lambda c=c: check_violations(inner, c, has_focus)) for c in checks], fallback


def run_steps(steps: list[Step], *, workers: int,
              progress: Callable[[int, int, str], None] | None = None) -> list[Any]:
    """The results of `steps`, in their order, computed by up to `workers` threads.

    Threads, not processes, because the work is Oxigraph evaluating queries, which releases the GIL: two
    threads on two cores finish the build's verdict in about half the wall time. The first exception a
    step raises is raised here, after the steps already running have finished."""
    total = len(steps)
    if workers <= 1:
        out = []
        for i, (label, step) in enumerate(steps):
            out.append(step())
            if progress:
                progress(i + 1, total, label)
        return out
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="verdict") as pool:
        futures = {pool.submit(step): label for label, step in steps}
        done_count = 0
        pending = set(futures)
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                done_count += 1
                if progress:
                    progress(done_count, total, futures[future])
                if future.exception() is not None:
                    for other in pending:
                        other.cancel()
                    raise future.exception()  # type: ignore[misc]
        return [future.result() for future in futures]


def verdict_workers() -> int:
    """Threads for the verdict: $DISPUTE_KG_VERDICT_THREADS, else one per core."""
    import os

    value = os.environ.get("DISPUTE_KG_VERDICT_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else (os.cpu_count() or 1)


def check_store(store: Any, project: Any, *, inconsistencies: list[str], embedded: bool, shacl: bool = True,
                progress: Callable[[int, int, str], None] | None = None,
                workers: int | None = None) -> CheckReport:
    """Run every check on `store`, the built graph of `project`; `inconsistencies` are the OWL 2 RL
    inconsistencies its build (or the store itself) found. `progress(done, total, label)` hears of each
    step as it ends: the QC checks, the vocabulary and link checks, the spans and the SHACL constraints.

    On an embedded store the steps run on `workers` threads (default: one per core); a remote store gets
    one query at a time, as a shared server expects."""
    from .checks import check_standard_terms, check_wikidata_links, run_check
    from .provenance import check_spans

    workers = (workers or verdict_workers()) if embedded else 1
    report = CheckReport()
    shacl_steps, fallback = _shacl_steps(store, project.shape_files, embedded=embedded) if shacl else ([], None)
    # the longest steps first (the QC checks and the span proof each scan the graph), so that the
    # short SHACL constraints fill the other thread instead of leaving one long step running alone at the end
    steps: list[Step] = [(f"check {path.stem}", lambda path=path: run_check(store, path))
                         for path in project.check_files]
    steps += [("check standard-vocabulary-terms", lambda: check_standard_terms(store)),
              ("check wikidata-link-type", lambda: check_wikidata_links(store, project)),
              ("check spans", lambda: check_spans(store))]
    from .shacl_store import Unsupported

    def guarded(step: Callable[[], Any]) -> Callable[[], Any]:
        def run() -> Any:
            try:
                return step()
            except Unsupported as exc:  # one constraint the compiler cannot judge: pyshacl judges them all
                return exc
        return run

    results = run_steps(steps + [(label, guarded(step)) for label, step in shacl_steps], workers=workers,
                        progress=progress)
    report.checks = results[:len(steps) - 1]
    report.spans = results[len(steps) - 1]
    if shacl:
        found = results[len(steps):]
        if any(isinstance(f, Exception) for f in found) or not shacl_steps:
            assert fallback is not None
            report.shacl = sorted(fallback[1]())
        else:
            report.shacl = sorted(v for f in found for v in f)
    report.inconsistencies = list(inconsistencies)
    return report
