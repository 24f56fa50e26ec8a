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
