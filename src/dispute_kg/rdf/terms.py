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


class Record:
    """A plain value class: subclasses name their fields in `_FIELDS` and get equality and a readable
    repr from them. What dataclasses would give, without the ~10 ms its import costs the quick route."""

    __slots__ = ()
    _FIELDS: tuple[str, ...] = ()

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in self._FIELDS)

    __hash__ = None  # type: ignore[assignment]  # mutable unless a subclass says otherwise

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{f}={getattr(self, f)!r}" for f in self._FIELDS) + ")"


class Result(Record):
    """A query answer in one shape for every backend: `kind` is "select", "ask" or "graph"."""

    __slots__ = ("boolean", "kind", "rows", "triples", "truncated", "variables")
    _FIELDS = ("kind", "variables", "rows", "boolean", "triples", "truncated")

    def __init__(self, kind: str, variables: list[str] | None = None, rows: list[dict[str, Term]] | None = None,
                 boolean: bool | None = None, triples: list[tuple[Term, Term, Term]] | None = None,
                 truncated: bool = False) -> None:
        self.kind = kind
        self.variables: list[str] = variables if variables is not None else []
        self.rows: list[dict[str, Term]] = rows if rows is not None else []
        self.boolean = boolean
        self.triples: list[tuple[Term, Term, Term]] = triples if triples is not None else []
        self.truncated = truncated

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


def check_http_url(url: str) -> str:
    """`url` if it is an absolute http(s) URL with a host and a valid IRI (pyoxigraph's RFC 3987
    parser decides), else ValueError saying why: such a URL can be both requested and stored as an IRI."""
    from urllib.parse import urlsplit

    import pyoxigraph

    try:
        pyoxigraph.NamedNode(url)
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError as exc:
        raise ValueError(f"{url!r} is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"{url!r} is not an http:// or https:// URL")
    if not host:
        raise ValueError(f"{url!r} has no host")
    return url
