"""The ontology and the shapes, read once per process (cached by their content's hash): what every
validation reads besides the input and the store."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from ..project.folder import Project
from ..rdf.namespaces import DEF
from .common import OWL, RDFS, RDFS_LABEL, SKOS, Triple
from .shape_paths import ShapePaths


@dataclass
class Schema:
    ontology_triples: list[Triple]  # ox triples of the ontology files
    reasoning_graph: Any  # rdflib graph: the ontology without annotations, for owlrl
    defined_terms: set[str]  # dk: terms with an rdfs:label
    shapes: Any  # rdflib graph of the shapes
    shape_paths: ShapePaths
    used_terms: frozenset[str] = frozenset()  # every IRI the ontology mentions, from any vocabulary
    derived_terms: frozenset[str] = frozenset()  # properties marked dk:derived: the reasoner's, never stated


_SCHEMA: dict[str, Schema] = {}
ANNOTATIONS = {RDFS + "label", RDFS + "comment", SKOS + "definition", SKOS + "prefLabel", SKOS + "altLabel",
               SKOS + "note", OWL + "versionInfo", OWL + "versionIRI", DEF + "derived"}


def load_schema(project: Project) -> Schema:
    import rdflib

    from ..rdf.convert import ox_to_rdflib as to_rdflib
    from ..rdf.files import read_quads
    from .shacl import load_shapes

    h = hashlib.sha256()
    for path in [*project.ontology_files, *project.shape_files]:
        h.update(project.relpath(path).encode() + b"\0" + path.read_bytes())
    key = h.hexdigest()
    if key in _SCHEMA:
        return _SCHEMA[key]
    triples: list[Triple] = []
    for path in project.ontology_files:
        for q in read_quads(path, None, display=project.relpath(path)):
            triples.append((q.subject, q.predicate, q.object))
    reasoning = rdflib.Graph()
    for s, p, o in triples:
        if p.value in ANNOTATIONS or p.value.startswith("http://purl.org/dc/terms/"):
            continue
        reasoning.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    defined = {s.value for s, p, _ in triples if p == RDFS_LABEL and isinstance(s, ox.NamedNode)
               and s.value.startswith(DEF)}
    shapes = load_shapes(project.shape_files)
    used = frozenset(t.value for triple in triples for t in triple if isinstance(t, ox.NamedNode))
    derived = frozenset(s.value for s, p, o in triples if p.value == DEF + "derived" and isinstance(o, ox.Literal)
                        and o.value in ("true", "1"))
    schema = Schema(triples, reasoning, defined, shapes, ShapePaths(shapes), used, derived)
    _SCHEMA[key] = schema
    return schema
