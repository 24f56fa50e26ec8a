"""OWL 2 RL closure with owlrl, kept to the entailments a user of this graph can see.

owlrl also derives `owl:Thing` typings, reflexive `owl:sameAs` and facts about the vocabulary
itself; those add thousands of triples and no answers, so only new triples about our own
instances and terms are kept. Inconsistencies owlrl finds are returned as messages.
"""

from __future__ import annotations

from dataclasses import dataclass

import rdflib
from rdflib.namespace import OWL, RDF

from ..rdf.namespaces import DEF, ID

ERROR_NS = "http://www.daml.org/2002/03/agents/agent-ont#"


@dataclass
class Closure:
    inferred: rdflib.Graph
    inconsistencies: list[str]


def keep(triple: tuple) -> bool:
    s, p, o = triple
    if not isinstance(s, rdflib.URIRef) or not (str(s).startswith(ID) or str(s).startswith(DEF)):
        return False
    if p == OWL.sameAs and s == o:
        return False
    if p == RDF.type and o in (OWL.Thing, rdflib.RDFS.Resource, OWL.NamedIndividual):
        return False
    if str(s).startswith(DEF):
        # facts about our terms (sub-property closure and the like) belong to the ontology
        return False
    return True


def owl_rl_closure(asserted: rdflib.Graph) -> Closure:
    """Return the new triples the OWL 2 RL closure of `asserted` adds, and any inconsistencies."""
    import owlrl

    graph = rdflib.Graph()
    for t in asserted:
        graph.add(t)
    before = set(graph)
    owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False,
                           datatype_axioms=False).expand(graph)
    errors: list[str] = []
    for message in graph.subjects(RDF.type, rdflib.URIRef(ERROR_NS + "ErrorMessage")):
        for text in graph.objects(message, rdflib.URIRef(ERROR_NS + "error")):
            errors.append(str(text))
    inferred = rdflib.Graph()
    for t in graph:
        if t not in before and keep(t):
            inferred.add(t)
    return Closure(inferred, sorted(errors))
