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


# -- terms as SPARQL text: for a VALUES block that binds a stored query's parameters ---------------
_IRI_FORBIDDEN = frozenset('<>"{}|^`\\')
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape_string(value: str) -> str:
    return "".join(_ESCAPES.get(ch) or (f"\\u{ord(ch):04X}" if ord(ch) < 0x20 or ord(ch) == 0x7F else ch)
                   for ch in value)


def _is_name(text: str, extra: str = "") -> bool:
    return bool(text) and all(c.isascii() and (c.isalnum() or c == "_" or c in extra) for c in text)


def iri_text(value: str) -> str:
    """`<value>`, refusing an IRI with a character IRIREF may not contain (SPARQL 1.1 rule 139)."""
    if not value or any(c <= " " or c in _IRI_FORBIDDEN for c in value):
        from ..errors import InputError

        raise InputError(f"cannot send {value!r} as an IRI: it contains a character IRIs may not contain")
    return f"<{value}>"


def term_text(term: Term) -> str:
    """One term in SPARQL/N-Triples syntax, refusing anything that could not round-trip, so that a
    value can never end the term it is written in."""
    from ..errors import InputError

    kind = term.get("type")
    if kind == "uri":
        return iri_text(term["value"])
    if kind == "bnode":
        label = term["value"]
        if not (_is_name(label[:1]) and _is_name(label, "_.-")):
            raise InputError(f"cannot send blank node label {label!r}")
        return f"_:{label}"
    if kind in ("literal", "typed-literal"):
        text = f'"{_escape_string(term["value"])}"'
        lang = term.get("xml:lang")
        if lang:
            head, *rest = lang.split("-")
            if not (head.isascii() and head.isalpha() and all(_is_name(p) and "_" not in p for p in rest)):
                raise InputError(f"{lang!r} is not a language tag")
            return f"{text}@{lang}"
        if term.get("datatype") and term["datatype"] != XSD_STRING:
            return f"{text}^^{iri_text(term['datatype'])}"
        return text
    raise InputError(f"cannot send a term of type {kind!r}")


def values_block(bindings: dict[str, Term]) -> str:
    """`VALUES (?a ?b) { (<x> "y") }`: one row of bindings."""
    from ..errors import InputError

    for name in bindings:
        if not _is_name(name):
            raise InputError(f"{name!r} is not a SPARQL variable name")
    row = " ".join(term_text(bindings[n]) for n in bindings)
    return f"VALUES ({' '.join('?' + n for n in bindings)}) {{ ({row}) }}"


def insert_values(sparql: str, where_at: int, bindings: dict[str, Term]) -> str:
    """The query with a VALUES block of `bindings` just inside the `{` at offset `where_at` (the
    outermost WHERE group, found by `sparqltext.where_brace`). No newline is added, so a syntax error
    is still reported at its line in the stored file."""
    return f"{sparql[:where_at + 1]} {values_block(bindings)} {sparql[where_at + 1:]}"
