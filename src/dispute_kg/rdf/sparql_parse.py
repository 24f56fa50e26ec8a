"""rdflib's SPARQL parser, one thread at a time, for decisions that must follow the query's structure.

rdflib's parser (pyparsing, with its packrat cache) is not safe to run from several threads at once:
concurrent parses of valid queries fail at random, so every caller in the package parses through here.
"""

from __future__ import annotations

import functools
import threading
from typing import Any

PARSING = threading.Lock()


def parse_query(text: str) -> Any:
    """rdflib's parse tree of the query (`ParseException` or `RecursionError` on a text it refuses)."""
    from rdflib.plugins.sparql.parser import parseQuery

    with PARSING:
        return parseQuery(text)


def algebra(text: str) -> Any:
    """rdflib's algebra of the query (the parser's own errors on a text it refuses)."""
    from rdflib.plugins.sparql.algebra import translateQuery

    tree = parse_query(text)
    with PARSING:  # translation reads the parser's results; kept in turn with the parses
        return translateQuery(tree).algebra


SERVICE = frozenset({"ServiceGraphPattern"})
# what makes an answer depend on more than the data: the clock, randomness, fresh blank nodes, other hosts
VOLATILE = SERVICE | {"Builtin_NOW", "Builtin_RAND", "Builtin_UUID", "Builtin_STRUUID", "Builtin_BNODE"}


def holds(node: Any, names: frozenset[str]) -> bool:
    """Whether an rdflib algebra tree holds a node named in `names` (sub-selects and EXISTS included)."""
    seen: set[int] = set()
    stack = [node]
    while stack:  # no recursion: a deeply nested query must not exhaust the stack here
        node = stack.pop()
        if id(node) in seen:
            continue
        seen.add(id(node))
        if getattr(node, "name", None) in names:
            return True
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list | tuple):
            stack.extend(node)
    return False


@functools.lru_cache(maxsize=512)
def volatile(text: str) -> bool:
    """Whether the answer may differ between two runs on the same data (NOW, RAND, UUID, STRUUID, BNODE,
    SERVICE), on rdflib's algebra; a query rdflib cannot parse counts as volatile."""
    try:
        return holds(algebra(text), VOLATILE)
    except Exception:  # ParseException, RecursionError: not known to be safe to keep
        return True


@functools.lru_cache(maxsize=256)
def has_own_slice(text: str) -> bool | None:
    """Whether the query ends with its own LIMIT/OFFSET or a trailing VALUES block; None for an ASK
    query (a page means nothing to it) or a text rdflib cannot parse."""
    try:
        tree = parse_query(text)[1]
    except Exception:  # ParseException, RecursionError: the engine will report its own error
        return None
    if tree.name == "AskQuery":
        return None
    return "limitoffset" in tree or "valuesClause" in tree


OrderKeys = tuple[tuple[str, bool], ...]  # (projected variable, descending) in the clause's order


@functools.lru_cache(maxsize=256)
def order_clause(text: str) -> tuple[int, int, OrderKeys] | None:
    """Where a SELECT query's own ORDER BY clause lies in `text` (start, end) and its keys, when every key
    is a variable the query projects and the query has no LIMIT/OFFSET of its own; else None.

    The clause's place is proposed from the text's tokens (the `ORDER` word after the WHERE group, up to a
    LIMIT, OFFSET, VALUES or the end) and accepted only when rdflib's algebra of the text without it is
    the algebra of the query with its ordering step removed: the parser, not the tokens, decides."""
    from .sparqltext import tokens

    start = end = None
    depth = 0
    closed = False  # whether a group has closed: solution modifiers follow the WHERE group
    for kind, value, pos in tokens(text):
        if kind != "word":
            depth += 1 if value == "{" else -1
            closed = closed or depth == 0
            continue
        if depth or not closed or (pos and text[pos - 1] in "?$:"):
            continue  # inside or before the WHERE group, a variable, or the local part of a prefixed name
        word = value.upper()
        if start is None and word == "ORDER":
            start = pos
        elif start is not None and word in ("LIMIT", "OFFSET", "VALUES"):
            end = pos
            break
    if start is None:
        return None
    end = len(text) if end is None else end
    try:
        ordered = algebra(text)
        unordered = algebra(text[:start] + "\n" + text[end:])
    except Exception:  # ParseException, RecursionError: the engine reports its own error
        return None
    if getattr(ordered, "name", None) != "SelectQuery":
        return None
    parent = ordered
    while getattr(parent.p, "name", None) in ("Distinct", "Reduced"):
        parent = parent.p
    project = parent.p
    if getattr(project, "name", None) != "Project" or getattr(project.p, "name", None) != "OrderBy":
        return None  # a Slice (own LIMIT/OFFSET) on top, or no ordering step right under the projection
    projected = {str(v) for v in project["PV"]}
    keys = []
    for condition in project.p["expr"]:
        expr = getattr(condition, "expr", condition) if getattr(condition, "name", None) == "OrderCondition" \
            else condition
        if type(expr).__name__ != "Variable" or str(expr) not in projected:
            return None  # an expression or an unprojected variable: only the engine can order on it
        keys.append((str(expr), getattr(condition, "order", None) == "DESC"))
    project["p"] = project.p.p  # the same tree with its ordering step removed ...
    if not _same(ordered, unordered):  # ... must be what the text without the clause means
        return None
    return start, end, tuple(keys)


def _same(a: Any, b: Any) -> bool:
    """Structural equality of two rdflib algebra trees, node names included (a CompValue's dict
    equality ignores its name)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y) or getattr(x, "name", None) != getattr(y, "name", None):
            return False
        if isinstance(x, dict):
            if x.keys() != y.keys():
                return False
            stack.extend((x[k], y[k]) for k in x)
        elif isinstance(x, list | tuple):
            if len(x) != len(y):
                return False
            stack.extend(zip(x, y, strict=True))
        elif x != y:
            return False
    return True
