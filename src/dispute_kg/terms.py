"""Terms and answers in the SPARQL 1.1 JSON results shape, the one shape every backend returns.

This module imports nothing: it sits on the quick route of `dispute-kg query run`, where each
standard-library import (dataclasses pulls in inspect, typing, re...) costs more than the query.
"""

from __future__ import annotations

# A term in SPARQL 1.1 JSON results form: {"type": "uri"|"literal"|"bnode", "value": ..., ...}
Term = dict[str, str]
# A quad of such terms; the graph is None for the default graph.
QuadTerms = tuple[Term, Term, Term, "Term | None"]

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class Result:
    """A query answer in one shape for every backend: `kind` is "select", "ask" or "graph"."""

    __slots__ = ("boolean", "kind", "rows", "triples", "truncated", "variables")

    def __init__(self, kind: str, variables: list[str] | None = None, rows: list[dict[str, Term]] | None = None,
                 boolean: bool | None = None, triples: list[tuple[Term, Term, Term]] | None = None,
                 truncated: bool = False) -> None:
        self.kind = kind
        self.variables: list[str] = variables if variables is not None else []
        self.rows: list[dict[str, Term]] = rows if rows is not None else []
        self.boolean = boolean
        self.triples: list[tuple[Term, Term, Term]] = triples if triples is not None else []
        self.truncated = truncated

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(getattr(self, a) == getattr(other, a) for a in self.__slots__)

    __hash__ = None  # type: ignore[assignment]  # mutable, like the lists it holds

    def __repr__(self) -> str:
        fields = ", ".join(f"{a}={getattr(self, a)!r}" for a in self.__slots__)
        return f"Result({fields})"

    def to_sparql_json(self) -> dict[str, object]:
        if self.kind == "ask":
            return {"head": {}, "boolean": bool(self.boolean)}
        return {"head": {"vars": list(self.variables)}, "results": {"bindings": self.rows}}


def iri(value: str) -> Term:
    return {"type": "uri", "value": value}


def literal(value: str, datatype: str | None = None, lang: str | None = None) -> Term:
    term = {"type": "literal", "value": value}
    if lang:
        term["xml:lang"] = lang
    elif datatype and datatype != XSD_STRING:
        term["datatype"] = datatype
    return term
