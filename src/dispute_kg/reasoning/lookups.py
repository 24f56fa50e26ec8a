"""The lookup graph: what the build derives for the stored queries, one seek away, in graph/lookup.

Two lookups a listing would otherwise pay several index seeks a row for:

- **a node's kind** (`dk:kind`), the most specific of its classes. Listings show what each row's node
  is: an agreement's "Treaty", an event's "Meeting". In SPARQL that is a type of the node with no
  narrower type of the same node, a NOT EXISTS over the node's types and their subclasses for every
  row: about eleven index seeks an agreement, 23 of the 56 ms `agreements` took for one party at a
  million triples (bench/query_scale.py). The TBox is small and the closure already holds every type,
  so the kinds are found once here.
- **where a selection's quote starts** (`dk:quoteStart`), its position selector's `oa:start`.
  `provenance` orders a subject's assertions by it; through `oa:hasSelector/oa:start` (two selectors,
  one with a start) it is three seeks a row, most of that query's cost before its page is cut.

Like the inferred graph the lookup graph is derived, never stated: its properties are derived terms
(refused in input), the checks of stated triples leave the graph out, and validation's view of the
store does not see it. Every writer of a generation keeps it equal to `lookup_quads` of its whole graph:
`build` writes it from the closure, `add` rewrites the lookups of the nodes it touches
(`lookup_changes`), and `tests/test_lookups.py` holds both to the SPARQL formulations they replace.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from ..rdf.namespaces import DEF, LOOKUP_GRAPH
from .rules import DROPPED_TYPES, OWL, RDF_TYPE, RDFS, _closure

KIND = DEF + "kind"
QUOTE_START = DEF + "quoteStart"
OA = "http://www.w3.org/ns/oa#"
HAS_SELECTOR, START = OA + "hasSelector", OA + "start"
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
        old = set(store.quads_for_pattern(None, ox.NamedNode(KIND), None, graph))
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


def _starts(quads: Iterable[ox.Quad], selections: set | None = None) -> dict[ox.NamedNode, set]:
    """Each named selection's start offsets, read through its selectors (of `selections` only, if given)."""
    selectors: dict[object, set] = {}
    starts: dict[object, set] = {}
    for q in quads:
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == LOOKUP_GRAPH:
            continue
        p = q.predicate.value
        if p == HAS_SELECTOR and isinstance(q.subject, ox.NamedNode) \
                and (selections is None or q.subject in selections):
            selectors.setdefault(q.subject, set()).add(q.object)
        elif p == START:
            starts.setdefault(q.subject, set()).add(q.object)
    return {s: found for s, sels in selectors.items()
            if (found := set().union(*(starts.get(sel, set()) for sel in sels)))}


def start_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    graph, start = ox.NamedNode(LOOKUP_GRAPH), ox.NamedNode(QUOTE_START)
    return [ox.Quad(s, start, o, graph) for s, found in _starts(quads).items() for o in sorted(found, key=str)]


def lookup_quads(quads: Iterable[ox.Quad]) -> list[ox.Quad]:
    """The lookup graph of a whole graph (its asserted and inferred quads)."""
    quads = quads if isinstance(quads, list | tuple) else list(quads)
    return kind_quads(quads) + start_quads(quads)


def start_changes(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad]) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The dk:quoteStart quads to add and remove for the selections whose selectors or starts change."""
    has_selector = ox.NamedNode(HAS_SELECTOR)
    touched: set = set()
    for q in (*add, *remove):
        if q.predicate.value == HAS_SELECTOR and isinstance(q.subject, ox.NamedNode):
            touched.add(q.subject)
        elif q.predicate.value == START:
            touched |= {s.subject for s in store.quads_for_pattern(None, has_selector, q.subject, None)
                        if isinstance(s.subject, ox.NamedNode)}
            touched |= {a.subject for a in add if a.predicate == has_selector and a.object == q.subject
                        and isinstance(a.subject, ox.NamedNode)}
    if not touched:
        return [], []
    gone = set(remove)
    graph, start = ox.NamedNode(LOOKUP_GRAPH), ox.NamedNode(QUOTE_START)
    added, removed = [], []
    for node in sorted(touched, key=str):
        around = [q for q in store.quads_for_pattern(node, has_selector, None, None) if q not in gone]
        around += [q for q in add if q.subject == node and q.predicate == has_selector]
        for sel in {q.object for q in around}:
            around += [q for q in store.quads_for_pattern(sel, ox.NamedNode(START), None, None) if q not in gone]
            around += [q for q in add if q.subject == sel and q.predicate.value == START]
        new = {ox.Quad(node, start, o, graph) for o in _starts(around, {node}).get(node, set())}
        old = set(store.quads_for_pattern(node, start, None, graph))
        added += sorted(new - old, key=str)
        removed += sorted(old - new, key=str)
    return added, removed


def lookup_changes(store: ox.Store, add: list[ox.Quad], remove: list[ox.Quad]) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """The lookup quads to add and remove when `add` and `remove` are applied to `store`."""
    add, remove = _as_stored(add), _as_stored(remove)
    kinds_add, kinds_remove = kind_changes(store, add, remove)
    starts_add, starts_remove = start_changes(store, add, remove)
    return kinds_add + starts_add, kinds_remove + starts_remove


def _as_stored(quads: list[ox.Quad]) -> list[ox.Quad]:
    """The quads as a store gives them back (Oxigraph stores an xsd:nonNegativeInteger as the
    xsd:integer of the same value), so that they compare equal to what the store holds."""
    store = ox.Store()
    store.extend(quads)
    return list(store)
