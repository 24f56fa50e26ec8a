"""An in-process rdflib dataset: for small jobs, tests and as a reference implementation."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import rdflib
from pyparsing import ParseException

from ..errors import InputError
from .base import QuadTerms, Result, Selector, Term
from .oxigraph import run_with_timeout

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def node_to_json(term: Any) -> Term:
    if isinstance(term, rdflib.URIRef):
        return {"type": "uri", "value": str(term)}
    if isinstance(term, rdflib.BNode):
        return {"type": "bnode", "value": str(term)}
    out = {"type": "literal", "value": str(term)}
    if term.language:
        out["xml:lang"] = term.language
    elif term.datatype is not None and str(term.datatype) != XSD_STRING:
        out["datatype"] = str(term.datatype)
    return out


def json_to_node(term: Term) -> Any:
    if term["type"] == "uri":
        return rdflib.URIRef(term["value"])
    if term["type"] == "bnode":
        return rdflib.BNode(term["value"])
    # normalize=False keeps the lexical form as stored ("...T00:00:00Z" stays as it is), as Oxigraph does
    if "xml:lang" in term:
        return rdflib.Literal(term["value"], lang=term["xml:lang"], normalize=False)
    if term.get("datatype"):
        return rdflib.Literal(term["value"], datatype=rdflib.URIRef(term["datatype"]), normalize=False)
    return rdflib.Literal(term["value"], normalize=False)


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
        init = {rdflib.Variable(k): json_to_node(v) for k, v in (bindings or {}).items()}

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
                    rows.append({v: node_to_json(solution[v]) for v in variables
                                 if solution[v] is not None})
                return Result("select", variables=variables, rows=rows, truncated=truncated)
            triples = [tuple(node_to_json(t) for t in triple) for triple in answer]
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
            ctx = self.dataset.graph(json_to_node(g)) if g else self.dataset.default_graph
            ctx.add((json_to_node(s), json_to_node(p), json_to_node(o)))

    def quads(self) -> Iterator[QuadTerms]:
        for s, p, o, g in self.dataset.quads((None, None, None, None)):
            gid = getattr(g, "identifier", g)
            graph = None if gid is None or gid == rdflib.graph.DATASET_DEFAULT_GRAPH_ID else node_to_json(gid)
            yield node_to_json(s), node_to_json(p), node_to_json(o), graph

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return sum(1 for _ in self.dataset.quads((None, None, None, None)))
        return len(self.dataset.graph(rdflib.URIRef(graph)))

    def close(self) -> None:
        pass
