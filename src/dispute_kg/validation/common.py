"""What every step of the validation pipeline shares: the vocabularies' namespaces, the few terms
the steps test for, and the triple type with its sort key. It imports no other step, so every step
can import it."""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox

from ..rdf.namespaces import DEF

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
DK_TEXT = ox.NamedNode(DEF + "text")
DK_SOURCE = ox.NamedNode(DEF + "Source")
OWL_SAME_AS = ox.NamedNode(OWL + "sameAs")

WILDCARD = "*"

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Any, Any, Any]


def _triple_key(t: Triple) -> tuple[str, str, str]:
    return (str(t[0]), str(t[1]), str(t[2]))
