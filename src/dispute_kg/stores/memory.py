"""An in-process rdflib dataset: for small jobs, tests and as a reference implementation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import rdflib
from pyparsing import ParseException

from ..errors import InputError
from ..rdf.convert import term_from_rdflib, term_to_rdflib
from .base import QuadTerms, Result, Selector, Term
from .oxigraph import run_with_timeout


class MemoryStore:
    name = "memory"
    capabilities = frozenset({"update", "named_graphs"})

    def __init__(self) -> None:
        self.dataset = rdflib.Dataset(default_union=True)

    @classmethod
    def open(cls, selector: Selector, *, project: Any = None, read_only: bool = False) -> MemoryStore:
        # empty: KnowledgeGraph.open fills it with the project's built graph (a backend builds nothing)
        return cls()

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *,
              limit: int | None = None, timeout: float | None = None) -> Result:
        init = {rdflib.Variable(k): term_to_rdflib(v) for k, v in (bindings or {}).items()}

        def work() -> Result:
            try:
                answer = self.dataset.query(sparql, initBindings=init)
            except ParseException as exc:
                raise InputError(f"SPARQL syntax error in query: {exc.msg}", line=exc.lineno,
                                 column=exc.col) from None
            if answer.type == "ASK":
                return Result("ask", boolean=bool(answer.askAnswer))
            if answer.type == "SELECT":
                variables = [str(v) for v in answer.vars]
                rows, truncated = [], False
                for solution in answer:
                    if limit is not None and len(rows) >= limit:
                        truncated = True
                        break
                    rows.append({v: term_from_rdflib(solution[v]) for v in variables
                                 if solution[v] is not None})
                return Result("select", variables=variables, rows=rows, truncated=truncated)
            triples = [tuple(term_from_rdflib(t) for t in triple) for triple in answer]
            truncated = limit is not None and len(triples) > limit
            return Result("graph", triples=triples[:limit] if truncated else triples, truncated=truncated)

        return run_with_timeout(work, timeout)

    def update(self, sparql: str) -> None:
        try:
            self.dataset.update(sparql)
        except ParseException as exc:
            raise InputError(f"SPARQL syntax error in update: {exc.msg}", line=exc.lineno,
                             column=exc.col) from None

    def add_quads(self, quads: Iterable[QuadTerms]) -> None:
        for s, p, o, g in quads:
            ctx = self.dataset.graph(term_to_rdflib(g)) if g else self.dataset.default_graph
            ctx.add((term_to_rdflib(s), term_to_rdflib(p), term_to_rdflib(o)))

    def quads(self) -> Iterator[QuadTerms]:
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            gid = getattr(g, "identifier", g)
            graph = None if gid is None or gid == rdflib.graph.DATASET_DEFAULT_GRAPH_ID else term_from_rdflib(gid)
            yield term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o), graph

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return sum(1 for _ in self.dataset.quads((None, None, None, None)))
        return len(self.dataset.graph(rdflib.URIRef(graph)))

    def close(self) -> None:
        pass
