"""Constants and small helpers shared by the Wikidata modules: vocabularies, file locations, QIDs."""

from __future__ import annotations

from pathlib import Path

from ..rdf.namespaces import ID

DEFAULT_ENDPOINT = "https://query.wikidata.org/sparql"
CONTACT_URL = "https://w3id.org/dispute-kg"
WD = "http://www.wikidata.org/entity/"
WDT = "http://www.wikidata.org/prop/direct/"
SSSOM = "https://w3id.org/sssom/"
SEMAPV = "https://w3id.org/semapv/vocab/"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SCHEMA = "http://schema.org/"
XSD = "http://www.w3.org/2001/XMLSchema#"
EXACT_MATCH = SKOS + "exactMatch"
NO_TERM_FOUND = SSSOM + "NoTermFound"
MAPPING_BASE = ID + "mapping/wikidata/"
LINKS_FILE = Path("data/links/wikidata.ttl")
SNAPSHOT_FILE = Path("data/wikidata/snapshot.ttl")
TYPE_MAP_FILE = Path("data/wikidata/type-map.tsv")
EVIDENCE_DOC = "docs/wikidata-evidence.md"
OFFLINE = "offline snapshot data/wikidata/snapshot.ttl"
TOOL = "dispute-kg link"

PREFIXES = f"""PREFIX wd: <{WD}>
PREFIX wdt: <{WDT}>
PREFIX rdfs: <{RDFS}>
PREFIX skos: <{SKOS}>
PREFIX schema: <{SCHEMA}>
"""


def tool_version() -> str:
    from .. import __version__

    return str(__version__)



def qid(iri: str) -> str:
    return iri[len(WD):] if iri.startswith(WD) else iri


# -- endpoints ------------------------------------------------------------------------------
