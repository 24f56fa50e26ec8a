"""A stored query's ORDER BY applied to its answer in Python, for the embedded store.

Oxigraph compares two IRIs in an ORDER BY by reading both strings back from RocksDB, on every
comparison: at a million triples `entity` answers its 1,675 rows in 127 ms with the engine's ORDER BY
and 53 ms ordered here (bench/query_scale.py measures both). pyoxigraph decodes each term once when it hands the rows
over, so sorting them here costs a few milliseconds.

The order must be the engine's. SPARQL 1.1 (section 15.1) fixes it between kinds (unbound, then blank
nodes, then IRIs, then literals), between IRIs (their strings, code point by code point) and between
literals that `<` compares: simple strings by their strings, numbers by their values. Oxigraph orders
language-tagged strings by string and then tag (a test holds it to that against the engine). Anywhere
else the order is the engine's own choice (a blank node against another, a string against a number
or a date, a simple against a tagged string): when a key column holds such a pair, `rank` gives
up and the caller lets the engine order the answer. Rows whose keys are all equal may come in any
order, as in SPARQL; a sort here keeps the engine's unsorted order among them.

On the quick route of `query run`: imports nothing at module level.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from ..rdf.terms import Term

XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
# the datatypes whose literals compare by value here; the other numeric types (double, float, whose
# NaN is unordered) and every other datatype leave the ordering to the engine
DECIMALS = frozenset(XSD + t for t in (
    "integer", "decimal", "int", "long", "short", "byte", "nonNegativeInteger", "positiveInteger",
    "negativeInteger", "nonPositiveInteger", "unsignedLong", "unsignedInt", "unsignedShort", "unsignedByte"))
_DECIMAL_CHARS = frozenset("0123456789.")

UNBOUND, IRI, LITERAL = 0, 2, 3


class Unordered(Exception):
    """Two values of a key column whose order SPARQL leaves to the engine."""


def _decimal(text: str):  # -> decimal.Decimal
    """The value of an xsd:decimal-family lexical form; Unordered for an ill-typed one (the engine's
    order for it is its own)."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or digits == "." or digits.count(".") > 1 or not set(digits) <= _DECIMAL_CHARS:
        raise Unordered(text)
    from decimal import Decimal

    return Decimal(text)


def _key(term: Term | None, families: set[str]) -> tuple:
    if term is None:
        return (UNBOUND,)
    kind = term["type"]
    if kind == "uri":
        return (IRI, term["value"])
    if kind != "literal":
        raise Unordered(kind)  # a blank node (or a quoted triple): no order SPARQL defines
    if "xml:lang" in term:
        families.add("tagged")
        return (LITERAL, term["value"], term["xml:lang"])
    datatype = term.get("datatype", XSD_STRING)
    if datatype == XSD_STRING:
        families.add("string")
        return (LITERAL, term["value"])
    if datatype in DECIMALS:
        families.add("number")
        return (LITERAL, _decimal(term["value"]))
    raise Unordered(datatype)


def rank(rows: Sequence[dict[str, Term]], keys: Sequence[tuple[str, bool]]) -> list[int] | None:
    """The positions of `rows` in the order of `keys` ((variable, descending) pairs, the first the most
    significant), or None when two values that must be compared are not ordered by SPARQL's rules (see
    the module). A row needs only its key columns.

    A key orders only the rows its predecessors left tied, so an entity's dates and its names, under
    different properties, are never compared (as in the engine, whose comparison stops at the first
    key that differs)."""
    try:
        return _rank(list(range(len(rows))), rows, keys, 0)
    except Unordered:
        return None


def _rank(positions: list[int], rows: Sequence[dict[str, Term]], keys: Sequence[tuple[str, bool]],
          level: int) -> list[int]:
    if level == len(keys) or len(positions) < 2:
        return positions
    variable, descending = keys[level]
    families: set[str] = set()
    column = {i: _key(rows[i].get(variable), families) for i in positions}
    if len(families) > 1:
        raise Unordered(variable)  # e.g. a string against a number: the engine's own order decides
    positions = sorted(positions, key=column.__getitem__, reverse=descending)
    ordered: list[int] = []
    tied = [positions[0]]
    for i in positions[1:]:
        if column[i] != column[tied[0]]:
            ordered += _rank(tied, rows, keys, level + 1)
            tied = []
        tied.append(i)
    return ordered + _rank(tied, rows, keys, level + 1)
