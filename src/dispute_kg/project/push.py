"""Copy a built graph to another store, graph by graph and in batches, then prove it arrived.

`dispute-kg push --to sparql:http://127.0.0.1:7878/query;update=...;gsp=...` sends every named graph
of the embedded store (one per project file, and the inferred graph) and the default graph, if any.
Each graph is replaced on the target (dropped first), so pushing twice gives the same store. A graph
that holds blank nodes goes in one request, because an endpoint gives each request's blank node
labels fresh identities. Afterwards the triple count of every graph is compared with the source's.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..errors import CapabilityError, CheckFailed
from ..rdf.terms import QuadTerms
from ..stores.base import Store, require

DEFAULT_BATCH = 5000
DEFAULT_GRAPH = ""  # key for the default graph in counts


@dataclass
class PushReport:
    graphs: dict[str, int] = field(default_factory=dict)  # graph IRI ("" = default graph) -> triples sent
    target_counts: dict[str, int] = field(default_factory=dict)
    batches: int = 0
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.graphs.values())

    @property
    def mismatches(self) -> dict[str, tuple[int, int]]:
        return {g: (n, self.target_counts.get(g, -1)) for g, n in self.graphs.items()
                if self.target_counts.get(g) != n}


def source_graphs(source: Store) -> Iterator[tuple[str, Iterator[QuadTerms]]]:
    """(graph IRI or "", its quads) for every graph of the source, read one graph at a time."""
    import pyoxigraph as ox

    from ..rdf.convert import quad_to_terms

    inner = getattr(source, "store", None)
    if isinstance(inner, ox.Store):  # the embedded store: read graph by graph, never all at once
        names = sorted(g.value for g in inner.named_graphs())
        if next(iter(inner.quads_for_pattern(None, None, None, ox.DefaultGraph())), None) is not None:
            yield DEFAULT_GRAPH, (quad_to_terms(q) for q in inner.quads_for_pattern(None, None, None,
                                                                                      ox.DefaultGraph()))
        for name in names:
            yield name, (quad_to_terms(q) for q in inner.quads_for_pattern(None, None, None, ox.NamedNode(name)))
        return
    grouped: dict[str, list[QuadTerms]] = {}
    for q in source.quads():
        grouped.setdefault(q[3]["value"] if q[3] else DEFAULT_GRAPH, []).append(q)
    for name in sorted(grouped):
        yield name, iter(grouped[name])


def graph_counts(source: Store) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name, quads in source_graphs(source):
        counts[name] = sum(1 for _ in quads)
    return counts


def _drop(target: Store, graph: str) -> None:
    from ..rdf.convert import term_text
    from ..rdf.terms import iri

    target.update("DROP SILENT DEFAULT" if graph == DEFAULT_GRAPH else f"DROP SILENT GRAPH {term_text(iri(graph))}")


def _target_count(target: Store, graph: str) -> int:
    if graph != DEFAULT_GRAPH:
        return target.count(graph)
    rows = target.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER NOT EXISTS { GRAPH ?g { ?s ?p ?o } } }").rows
    return int(rows[0]["n"]["value"]) if rows else 0


def push(source: Store, target: Store, *, batch: int = DEFAULT_BATCH,
         progress: Callable[[int, int], None] | None = None) -> PushReport:
    """Copy every graph of `source` to `target` in batches; `progress(sent, total)` after each batch.

    Raises CheckFailed when a graph's triple count on the target differs from the source's afterwards.
    """
    import time

    try:
        require(target, "update")
    except CapabilityError:
        raise CapabilityError(f"cannot push to the {target.name} backend: it is read-only here "
                              "(give the endpoint's update URL, e.g. sparql:QUERY_URL;update=UPDATE_URL)") from None
    started = time.monotonic()
    report = PushReport()
    expected = graph_counts(source)
    total = sum(expected.values())
    sent = 0
    for name, quads in source_graphs(source):
        _drop(target, name)
        items = list(quads)
        has_bnode = any(t["type"] == "bnode" for q in items for t in q[:3])
        step = len(items) if has_bnode else batch
        for start in range(0, len(items), max(step, 1)):
            chunk = items[start:start + step]
            target.add_quads(chunk)
            report.batches += 1
            sent += len(chunk)
            if progress:
                progress(sent, total)
        report.graphs[name] = len(items)
    flush = getattr(target, "flush", None)
    if flush:
        flush()
    report.target_counts = {name: _target_count(target, name) for name in report.graphs}
    report.seconds = time.monotonic() - started
    if report.mismatches:
        detail = "; ".join(f"{g or 'default graph'}: sent {a}, target has {b}" for g, (a, b) in
                           sorted(report.mismatches.items()))
        raise CheckFailed(f"push did not arrive intact: {detail}")
    return report
