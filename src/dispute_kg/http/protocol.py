"""SPARQL 1.1 Protocol details: which writer answers a request (Accept header or `format=`), and the
rendering of a `Result` into a response body. Pure functions: the query workers call them, so a result
is serialised where it was computed and only bytes cross to the HTTP process.
"""

from __future__ import annotations

import io
import json
from typing import Any

from ..query.results import WRITERS, write
from .app import HTTPError

# media type -> writer name
MEDIA_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
    "text/turtle": "ttl", "application/x-turtle": "ttl", "text/n3": "ttl", "text/rdf+n3": "ttl",
    "application/n-triples": "nt", "text/plain": "nt",
    "application/ld+json": "jsonld", "application/rdf+xml": "rdfxml",
}
DEFAULT_WRITER = {"select": "json", "ask": "json", "graph": "ttl"}
# `format=` names that clients send (SPARQLWrapper sends json, xml, n3, turtle, rdf+xml, json-ld, csv, tsv)
# and what they mean for each kind of result: `xml` and `json` name a different syntax for a graph
FORMAT_NAMES: dict[str, dict[str, str]] = {
    "json": {"select": "json", "ask": "json", "graph": "jsonld"},
    "xml": {"select": "xml", "ask": "xml", "graph": "rdfxml"},
    "csv": {"select": "csv", "ask": "csv"}, "tsv": {"select": "tsv", "ask": "tsv"},
    "turtle": {"graph": "ttl"}, "ttl": {"graph": "ttl"}, "n3": {"graph": "ttl"},
    "nt": {"graph": "nt"}, "ntriples": {"graph": "nt"}, "n-triples": {"graph": "nt"},
    "rdf+xml": {"graph": "rdfxml"}, "rdfxml": {"graph": "rdfxml"}, "rdf": {"graph": "rdfxml"},
    "json-ld": {"graph": "jsonld"}, "jsonld": {"graph": "jsonld"},
    "srj": {"select": "json", "ask": "json"}, "srx": {"select": "xml", "ask": "xml"},
}


def negotiate(accept: str, kind: str) -> str:
    """The writer for `kind` ("select", "ask", "graph") the Accept header prefers; 406 if none fits."""
    offers: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.lower().startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media:
            offers.append((q, -i, media.lower()))
    for q, _, media in sorted(offers, reverse=True):
        if q <= 0:
            continue
        if media == "*/*" or media.endswith("/*"):
            return DEFAULT_WRITER[kind]
        name = MEDIA_TYPES.get(media)
        if name and kind in WRITERS[name].kinds:
            return name
    fits = sorted({m for m, n in MEDIA_TYPES.items() if kind in WRITERS[n].kinds})
    raise HTTPError(406, f"cannot answer this query as {accept!r}; acceptable: {', '.join(fits)}")


def choose_writer(kind: str, explicit: str | None, accept: str) -> str:
    """`format=` (a name or a media type) when given, else the Accept header."""
    if not explicit:
        return negotiate(accept, kind)
    key = explicit.strip().lower()
    by_kind = FORMAT_NAMES.get(key)
    name = by_kind.get(kind) if by_kind else MEDIA_TYPES.get(key)
    if name is None and key in WRITERS and key != "table":
        name = key
    if name is None or kind not in WRITERS[name].kinds:
        fits = sorted(k for k, v in FORMAT_NAMES.items() if kind in v)
        raise HTTPError(400, f"format {explicit!r} does not fit this {kind} query; use one of: {', '.join(fits)}")
    return name


def render(result: Any, fmt: str, *, json_api: bool = False) -> tuple[int, str, bytes, list[tuple[str, str]]]:
    """(status, content type, body, headers) for a result; `json_api` marks a capped JSON answer inline
    (`"truncated": true`, as the stored-query API documents); every answer marks it in a header."""
    headers = [("Dispute-KG-Truncated", "true")] if result.truncated else []
    media = WRITERS[fmt].media_type + "; charset=utf-8"
    if fmt == "json":  # compact, by the C encoder: the indented writer costs more than the query here
        doc = result.to_sparql_json()
        if json_api and result.truncated and result.kind == "select":
            doc["truncated"] = True
        return 200, media, json.dumps(doc, ensure_ascii=False).encode("utf-8") + b"\n", headers
    out = io.StringIO()
    write(result, fmt, out)
    return 200, media, out.getvalue().encode("utf-8"), headers
