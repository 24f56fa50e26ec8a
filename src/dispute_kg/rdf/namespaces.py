"""IRIs the project mints and the graph names the store uses; plain strings, no rdflib import."""

from __future__ import annotations

DEF = "https://w3id.org/dispute-kg/def#"
ONTOLOGY_IRI = "https://w3id.org/dispute-kg/def"
ID = "https://w3id.org/dispute-kg/id/"
GRAPH = "https://w3id.org/dispute-kg/graph/"
INFERRED_GRAPH = GRAPH + "inferred"
# derived at build (each node's kind and each selection's start, reasoning/lookups.py, read by the
# stored queries): like the inferred graph, written by no file, so the checks on what files state
# leave it out
LOOKUP_GRAPH = GRAPH + "lookup"
DERIVED_GRAPHS = frozenset({INFERRED_GRAPH, LOOKUP_GRAPH})
BACKGROUND_SOURCE = ID + "source/background-knowledge"

PREFIXES: dict[str, str] = {
    "dct": "http://purl.org/dc/terms/",
    "dk": DEF,
    "oa": "http://www.w3.org/ns/oa#",
    "org": "http://www.w3.org/ns/org#",
    "owl": "http://www.w3.org/2002/07/owl#",
    "prov": "http://www.w3.org/ns/prov#",
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "rdfs": "http://www.w3.org/2000/01/rdf-schema#",
    "schema": "http://schema.org/",
    "sh": "http://www.w3.org/ns/shacl#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def file_graph(relpath: str) -> str:
    """The named graph that holds one repository file, so a file can be replaced or retracted alone."""
    return GRAPH + relpath


def source_iri(stem: str) -> str:
    return f"{ID}source/{stem}"


def shorten(iri: str) -> str:
    """Readable form for tables and messages: `id:state/japan`, `dk:Claim`."""
    if iri.startswith(ID):
        return "id:" + iri[len(ID):]
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(iri) > len(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


# Prefixes an ad-hoc query may use without declaring them (the SPARQL page, `dispute-kg sparql`).
# `id:` is here and not in PREFIXES, which also names the prefixes written into Turtle files.
QUERY_PREFIXES: dict[str, str] = {**PREFIXES, "id": ID}


def with_prefixes(query: str) -> str:
    """`query` with the project's prefixes declared in front of it, on its first line.

    SPARQL lets a prologue declare a prefix again (the later declaration wins), so a query that
    declares its own `dk:` keeps its meaning, and nothing in the query text needs to be inspected.
    The declarations share the query's first line, so a parser's line numbers stay those of the
    text the user wrote."""
    declared = " ".join(f"PREFIX {name}: <{iri}>" for name, iri in sorted(QUERY_PREFIXES.items()))
    return f"{declared} {query}"
