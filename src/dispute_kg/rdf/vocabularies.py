"""The terms each reused standard vocabulary defines.

The ontology reuses PROV-O, Web Annotation, SKOS, DCMI terms, W3C ORG, Time, RDF, RDFS, OWL, XSD and
schema.org. A misspelt term from one of them (`skos:altLable`, `prov:wasDerivedFromm`) is valid RDF
and would otherwise be stored as a new property that nothing reads: a missing provenance link or
label shows up later, if at all, under the wrong name. So additions and `check` look each term up
here. The lists come from rdflib's closed namespaces (which record each vocabulary's published terms)
and, for Web Annotation, which rdflib does not ship, from the W3C Recommendation of 2017-02-23
(https://www.w3.org/TR/annotation-vocab/), plus terms of its earlier drafts still seen in the wild.
"""

from __future__ import annotations

import difflib
from functools import cache

from .namespaces import PREFIXES

OA = "http://www.w3.org/ns/oa#"
OA_TERMS = frozenset("""
Annotation Choice CssSelector CssStyle DataPositionSelector Direction FragmentSelector HttpRequestState
Motivation RangeSelector ResourceSelection Selector SpecificResource State Style SvgSelector
TextPositionSelector TextQuoteSelector TextualBody TimeState XPathSelector Composite List Independents
annotationService bodyValue cachedSource canonical end exact hasBody hasEndSelector hasPurpose hasScope
hasSelector hasSource hasStartSelector hasState hasTarget motivatedBy prefix processingLanguage refinedBy
renderedVia sourceDate sourceDateEnd sourceDateStart start styleClass styledBy suffix textDirection via
assessing bookmarking classifying commenting describing editing highlighting identifying linking
moderating questioning replying reviewing tagging autoDirection ltrDirection rtlDirection
PreferContainedDescriptions PreferContainedIRIs
""".split())

NAMES = {"rdf": "RDF", "rdfs": "RDF Schema", "owl": "OWL", "xsd": "XML Schema datatypes", "skos": "SKOS",
         "prov": "PROV-O", "oa": "the Web Annotation vocabulary", "dct": "DCMI terms", "org": "W3C ORG",
         "time": "OWL-Time", "schema": "schema.org"}
TIME = "http://www.w3.org/2006/time#"


@cache
def defined_terms() -> dict[str, frozenset[str]]:
    """Namespace IRI -> the local names its vocabulary defines."""
    from rdflib import namespace as ns

    closed = {PREFIXES["rdf"]: ns.RDF, PREFIXES["rdfs"]: ns.RDFS, PREFIXES["owl"]: ns.OWL, PREFIXES["xsd"]: ns.XSD,
              PREFIXES["skos"]: ns.SKOS, PREFIXES["prov"]: ns.PROV, PREFIXES["dct"]: ns.DCTERMS,
              PREFIXES["org"]: ns.ORG, TIME: ns.TIME, PREFIXES["schema"]: ns.SDO}
    terms = {iri: frozenset(vocab.__annotations__) | frozenset(getattr(vocab, "_extras", ()))
             for iri, vocab in closed.items()}
    terms[OA] = OA_TERMS
    return terms


def _prefix(namespace: str) -> str:
    return next((p for p, n in PREFIXES.items() if n == namespace), "time" if namespace == TIME else namespace)


def unknown_term(iri: str, also_known: frozenset[str] | set[str] = frozenset(),
                 terms: dict[str, frozenset[str]] | None = None) -> tuple[str, str, str] | None:
    """For an IRI in one of these vocabularies that the vocabulary does not define: its CURIE, the
    vocabulary's name and a hint naming the closest defined term ("" if none is close). None otherwise.
    `also_known` holds full IRIs to accept anyway (terms the project's own ontology uses); `terms`, the
    lists `defined_terms` returns, read from elsewhere (the compiled schema) to spare importing rdflib."""
    if iri in also_known:
        return None
    for namespace, names in (terms if terms is not None else defined_terms()).items():
        if not iri.startswith(namespace):
            continue
        local = iri[len(namespace):]
        if local in names or (namespace == PREFIXES["rdf"] and local[1:].isdigit() and local[:1] == "_"):
            return None
        prefix = _prefix(namespace)
        close = difflib.get_close_matches(local, sorted(names), n=1, cutoff=0.75)
        if not close:
            lowered = {n.lower(): n for n in names}
            close = [lowered[c] for c in difflib.get_close_matches(local.lower(), sorted(lowered), n=1, cutoff=0.75)]
        hint = f"; did you mean {prefix}:{close[0]}?" if close else ""
        return f"{prefix}:{local}", NAMES.get(prefix, namespace), hint
    return None
