"""Export the graph in a standard RDF syntax, deterministically ordered.

Every syntax is written by pyoxigraph, which keeps each literal's lexical form as stored (rdflib's
Turtle writer does not: it writes `"1"^^xsd:boolean` as a bare `1`, which reads back as an integer).
Quads are sorted so that two exports of the same graph are byte-identical.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from .namespaces import DERIVED_GRAPHS, PREFIXES

# `--format` name -> (pyoxigraph format, whether it keeps graph names)
EXPORT_FORMATS: dict[str, tuple[ox.RdfFormat, bool]] = {
    "ttl": (ox.RdfFormat.TURTLE, False),
    "nt": (ox.RdfFormat.N_TRIPLES, False),
    "jsonld": (ox.RdfFormat.JSON_LD, False),
    "trig": (ox.RdfFormat.TRIG, True),
    "nq": (ox.RdfFormat.N_QUADS, True),
}


def export_graph(kg: Any, fmt: str, *, inferred: bool = False) -> bytes:
    from .convert import terms_to_quad

    rdf_format, named = EXPORT_FORMATS[fmt]
    quads = [terms_to_quad(q) for q in kg.store.quads()
             if inferred or q[3] is None or q[3]["value"] not in DERIVED_GRAPHS]
    if named:
        items: list = sorted(set(quads), key=str)
    else:
        items = sorted({ox.Triple(q.subject, q.predicate, q.object) for q in quads}, key=str)
    prefixes = dict(sorted(PREFIXES.items())) if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.TRIG) else None
    return ox.serialize(items, format=rdf_format, prefixes=prefixes)
