"""A node's kind, the most specific of its classes, written by the build into the lookup graph.

Listings show what each row's node is: an agreement's "Treaty", an event's "Meeting". In SPARQL that
is a type of the node with no narrower type of the same node, a NOT EXISTS over the node's types and
their subclasses for every row: about eleven index seeks an agreement, 23 of the 56 ms `agreements`
took for one party at a million triples (bench/query_scale.py). The TBox is small and the closure
already holds every type, so the build finds the kinds once here and stores `?node dk:kind ?class` in
the lookup graph (LOOKUP_GRAPH), which the stored queries read with one seek. Like the inferred graph
it is derived, never stated: `dk:kind` is a derived term (refused in input), the checks of stated
triples leave the graph out, and validation's view of the store does not see it.

Every writer of a generation keeps the graph equal to `kind_quads` of its whole graph: `build` writes
it from the closure, `add` rewrites the kinds of the nodes whose types it changes (`kind_changes`),
and `tests/test_kinds.py` holds both to the SPARQL formulation they replace.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..rdf.namespaces import DEF, LOOKUP_GRAPH
from .rules import DROPPED_TYPES, OWL, RDF_TYPE, RDFS, _closure

KIND = DEF + "kind"
TBOX_PREDICATES = frozenset({RDFS + "subClassOf", OWL + "equivalentClass"})


def superclasses(quads: Iterable[ox.Quad]) -> dict[str, set[str]]:
    """Each named class's superclasses by rdfs:subClassOf and owl:equivalentClass, transitively."""
    edges: list[tuple[str, str]] = []
    for q in quads:
        p = q.predicate.value
        if p in TBOX_PREDICATES and isinstance(q.subject, ox.NamedNode) and isinstance(q.object, ox.NamedNode):
            edges.append((q.subject.value, q.object.value))
            if p == OWL + "equivalentClass":
                edges.append((q.object.value, q.subject.value))
    return _closure(edges)


def most_specific(types: Iterable[str], supers: dict[str, set[str]]) -> set[str]:
    """The types none of whose other types is strictly narrower (equivalent classes are all kept)."""
    candidates = set(types) - DROPPED_TYPES
    return {t for t in candidates
            if not any(t in supers.get(u, ()) and u not in supers.get(t, ()) for u in candidates if u != t)}


def _typed(quads: Iterable[ox.Quad]) -> dict[ox.NamedNode, set[str]]:
    """The named classes of each named node. A blank node has no kind: additions cannot hold one, and
    the SPARQL update that keeps the graph could not name it to remove it."""
    types: dict[ox.NamedNode, set[str]] = {}
    for q in quads:
        if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode) \
                and isinstance(q.subject, ox.NamedNode) \
                and not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == LOOKUP_GRAPH):
            types.setdefault(q.subject, set()).add(q.object.value)
    return types


def kind_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The lookup graph of a whole graph (asserted and inferred quads, iterated twice)."""
    quads = quads if isinstance(quads, list | tuple) else list(quads)
    supers = superclasses(quads)
    graph, kind = ox.NamedNode(LOOKUP_GRAPH), ox.NamedNode(KIND)
    return [ox.Quad(node, kind, ox.NamedNode(c), graph)
            for node, types in _typed(quads).items() for c in sorted(most_specific(types, supers))]


def kind_changes(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad]) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The lookup quads to add and remove when `add` and `remove` are applied to `store`.

    Only the nodes whose types change are looked at, unless the class hierarchy itself changes: then
    every kind is computed again."""
    graph = ox.NamedNode(LOOKUP_GRAPH)
    if any(q.predicate.value in TBOX_PREDICATES for q in (*add, *remove)):
        gone = {q for q in remove}
        after = [q for q in store if q not in gone and q.graph_name != graph] + add
        new = set(kind_quads(after))
        old = set(store.quads_for_pattern(None, None, None, graph))
        return sorted(new - old, key=str), sorted(old - new, key=str)
    touched = {q.subject for q in (*add, *remove)
               if q.predicate.value == RDF_TYPE and isinstance(q.subject, ox.NamedNode)}
    if not touched:
        return [], []
    supers = superclasses(q for p in TBOX_PREDICATES
                          for q in store.quads_for_pattern(None, ox.NamedNode(p), None, None))
    rdf_type, kind = ox.NamedNode(RDF_TYPE), ox.NamedNode(KIND)
    gone = set(remove)
    plus: dict[object, list[ox.Quad]] = {}
    for q in add:
        if q.predicate == rdf_type:
            plus.setdefault(q.subject, []).append(q)
    added, removed = [], []
    for node in sorted(touched, key=str):
        quads = [q for q in store.quads_for_pattern(node, rdf_type, None, None) if q not in gone]
        new = {ox.Quad(node, kind, ox.NamedNode(c), graph)
               for c in most_specific(_typed([*quads, *plus.get(node, [])]).get(node, set()), supers)}
        old = set(store.quads_for_pattern(node, kind, None, graph))
        added += sorted(new - old, key=str)
        removed += sorted(old - new, key=str)
    return added, removed
