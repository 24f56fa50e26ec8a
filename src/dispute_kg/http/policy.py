"""What a query may make the server do, decided on structure rather than text.

Federation: the query workers run in a sandbox whose processes cannot open an internet socket
(`sandbox.deny_network`), so a SERVICE clause or anything else in the engine that would reach another host
fails inside the engine, whatever the query text looks like; the engine's `PermissionError` becomes a 403.
Where no sandbox applies (an in-process app, or a `sparql:` store whose worker must reach its endpoint),
`refuse_service` decides on rdflib's parse of the query, and refuses what rdflib cannot parse.

Updates never reach the engine over HTTP: the protocol's update operation is answered with a pointer to the
additions endpoint, which validates and records (see `server.additions_view`), so LOAD and every other
update form are refused by the operation, not by reading the text.
"""

from __future__ import annotations

import functools
from typing import Any

from ..rdf.sparql_parse import SERVICE, algebra, holds, parse_query
from .app import HTTPError

SERVICE_REFUSED = ("SERVICE clauses are refused: this server sends no request to other hosts "
                   "(start it with --allow-service to allow federation)")


def _algebra(text: str, purpose: str) -> Any:
    try:
        return algebra(text)
    except RecursionError:
        raise HTTPError(400, "the query is nested too deeply to check") from None
    except Exception as exc:
        raise HTTPError(400, f"cannot check this query for {purpose}: {type(exc).__name__}: {exc}") from None


@functools.lru_cache(maxsize=512)
def has_service(text: str) -> bool:
    """Whether rdflib's algebra of the query has a SERVICE pattern; `HTTPError` 400 if rdflib cannot parse it
    (without a sandbox an unparsed query is not run: the engine's parser could read it differently)."""
    return holds(_algebra(text, "SERVICE clauses"), SERVICE)


def refuse_service(text: str) -> None:
    if has_service(text):
        raise HTTPError(403, SERVICE_REFUSED)


@functools.lru_cache(maxsize=512)
def _dataset_clause(text: str) -> bool:
    try:
        parsed = parse_query(text)[1]
    except Exception:  # RecursionError, ParseException: the engine reports its own error, or runs it
        return False
    clauses = parsed.get("datasetClause") if "datasetClause" in parsed else None
    return bool(clauses) and not isinstance(clauses, str)


def names_dataset(text: str) -> bool:
    """Whether the query has FROM or FROM NAMED. A query without the letters `from` (or a \\u escape that
    could spell them) cannot have one, which spares the parse for almost every query; any other query is
    parsed and decided on its parse tree."""
    lowered = text.lower()
    if "from" not in lowered and "\\u" not in lowered:
        return False
    return _dataset_clause(text)
