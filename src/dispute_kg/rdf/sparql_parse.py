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
