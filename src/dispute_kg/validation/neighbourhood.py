"""Steps 3 to 5 of the pipeline: a view over the built store plus the input and its entailments;
the input's new OWL 2 RL entailments, closed over the input and its nodes' edges only (rules.py,
the build's SPARQL-rules reasoner, when the result is consistent; otherwise owlrl, whose equality
semantics then decide which nodes a refusal reports; DISPUTE_KG_REASONER=owlrl forces owlrl); the
focus nodes a change affects, found along the shapes' paths read backwards; and the data each focus
node's shapes read, fetched from the store along the same paths read forwards."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

import pyoxigraph as ox

from ..rdf.namespaces import DEF, ID, INFERRED_GRAPH, LOOKUP_GRAPH
from .common import OWL, OWL_SAME_AS, RDF_TYPE, RDFS, WILDCARD, Triple, _triple_key
from .schema import Schema

_MISSING = object()
_LOOKUP = ox.NamedNode(LOOKUP_GRAPH)


class View:
    """The built store plus local triples (the input and its entailments), read by triple pattern.

    The walks ask a store of a million triples a few thousand small questions, so each is answered
    with as few index reads as possible: a node's outgoing edges are read once (one range of the
    subject index, up to OUT_LIMIT of them) and every later pattern with that subject is answered
    from them; whether a node is anyone's object is asked once, so the backward steps from a node
    the input introduces never reach the store. The store does not change while a validation reads
    it; the local triples change only by add_local."""

    OUT_LIMIT = 256  # a hub with more outgoing edges is read pattern by pattern instead

    def __init__(self, store: ox.Store | None) -> None:
        self.store = store
        self._local: set[Triple] = set()
        self._local_s: dict[Any, set[Triple]] = {}
        self._local_o: dict[Any, set[Triple]] = {}
        self._memo: dict[tuple[Any, Any, Any], frozenset[Triple]] = {}
        self._out: dict[Any, list[ox.Quad] | None] = {}
        self._object: dict[Any, bool] = {}

    def add_local(self, triples: Iterable[Triple]) -> None:
        for t in triples:
            if t not in self._local:
                self._local.add(t)
                self._local_s.setdefault(t[0], set()).add(t)
                self._local_o.setdefault(t[2], set()).add(t)
        self._memo.clear()

    # -- the store ---------------------------------------------------------------------------
    def _out_quads(self, s: Any) -> list[ox.Quad] | None:
        """Every quad with subject `s` in the store, or None when there are more than OUT_LIMIT."""
        found = self._out.get(s, _MISSING)
        if found is _MISSING:
            found = []
            for q in self.store.quads_for_pattern(s, None, None, None):  # type: ignore[union-attr]
                if q.graph_name == _LOOKUP:
                    continue
                found.append(q)
                if len(found) > self.OUT_LIMIT:
                    found = None
                    break
            self._out[s] = found
        return found  # type: ignore[return-value]

    def _is_object(self, o: Any) -> bool:
        found = self._object.get(o)
        if found is None:
            found = self._object[o] = next(_seen(self.store.quads_for_pattern(None, None, o, None)),  # type: ignore
                                           None) is not None
        return found

    def _store_quads(self, s: Any, p: Any, o: Any, graph: Any = None) -> Iterable[ox.Quad]:
        if self.store is None or isinstance(s, ox.Literal):
            return ()
        if s is not None:
            quads = self._out_quads(s)
            if quads is not None:
                return [q for q in quads if (p is None or q.predicate == p) and (o is None or q.object == o)
                        and (graph is None or q.graph_name == graph)]
        elif o is not None and not self._is_object(o):
            return ()
        return _seen(self.store.quads_for_pattern(s, p, o, graph))

    # -- store and local triples -------------------------------------------------------------
    def _local_match(self, s: Any, p: Any, o: Any) -> Iterable[Triple]:
        pool: Iterable[Triple] = (self._local_s.get(s, ()) if s is not None
                                  else self._local_o.get(o, ()) if o is not None else self._local)
        return [t for t in pool if (p is None or t[1] == p) and (o is None or t[2] == o)
                and (s is None or t[0] == s)]

    def match(self, s: Any = None, p: Any = None, o: Any = None) -> frozenset[Triple]:
        key = (s, p, o)
        found = self._memo.get(key)
        if found is None:
            out = {(q.subject, q.predicate, q.object) for q in self._store_quads(s, p, o)}
            out.update(self._local_match(s, p, o))
            found = self._memo[key] = frozenset(out)
        return found

    def exists(self, s: Any = None, p: Any = None, o: Any = None) -> bool:
        """Whether the store or the local triples hold a triple matching the pattern."""
        if next(iter(self._store_quads(s, p, o)), None) is not None:
            return True
        return bool(self._local_match(s, p, o))

    def in_store(self, t: Triple, graph: Any = None) -> bool:
        return next(iter(self._store_quads(t[0], t[1], t[2], graph)), None) is not None

    def asserted_in_store(self, t: Triple) -> bool:
        return any(not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == INFERRED_GRAPH)
                   for q in self._store_quads(t[0], t[1], t[2]))


def _seen(quads: Iterable[ox.Quad]) -> Iterator[ox.Quad]:
    """The quads validation sees: not the lookup graph, which the build derives from the closure for
    the stored queries (reasoning/lookups.py) and which the full validation it must equal does not hold."""
    return (q for q in quads if q.graph_name != _LOOKUP)


def _is_node(t: Any) -> bool:
    return isinstance(t, ox.NamedNode | ox.BlankNode)


def _is_data_node(t: Any) -> bool:
    return isinstance(t, ox.NamedNode) and not t.value.startswith(DEF) and t.value.startswith(ID)


def _superclasses(schema: Schema) -> dict[str, set[str]]:
    if hasattr(schema, "_super"):
        return schema._super  # type: ignore[attr-defined]
    sub: dict[str, set[str]] = {}
    for s, p, o in schema.ontology_triples:
        if p.value == RDFS + "subClassOf" and isinstance(o, ox.NamedNode):
            sub.setdefault(s.value, set()).add(o.value)
    closure: dict[str, set[str]] = {}

    def up(c: str, seen: set[str]) -> set[str]:
        out = {c}
        for parent in sub.get(c, ()):
            if parent not in seen:
                out |= up(parent, seen | {parent})
        return out

    for c in set(sub) | {o for v in sub.values() for o in v}:
        closure[c] = up(c, {c})
    schema._super = closure  # type: ignore[attr-defined]
    return closure


def local_closure(schema: Schema, view: View, delta_triples: list[Triple]) -> tuple[list[Triple], list[str]]:
    """The new OWL 2 RL entailments of the input: owlrl over ontology + input + its nodes' edges."""
    expanded: set[Any] = set()
    widened: set[Any] = set()
    graph_triples: set[Triple] = set(delta_triples)
    frontier = {t for s, _, o in delta_triples for t in (s, o) if _is_node(t) and not str(t).startswith(f"<{DEF}")}
    inferred: set[Triple] = set()
    errors: list[str] = []
    same_pairs: set[tuple[Any, Any]] = set()
    reasoner = os.environ.get("DISPUTE_KG_REASONER", "auto")
    if reasoner != "owlrl":
        fast = _rules_closure(schema, view, frontier, graph_triples)
        if fast is not None:
            return fast, []
    import rdflib  # owlrl's route only

    from ..rdf.convert import ox_to_rdflib as to_rdflib
    from ..rdf.convert import rdflib_to_ox as to_oxigraph
    from ..reasoning.closure import ERROR_NS, keep

    for _round in range(4):
        for node in frontier - expanded:
            graph_triples |= view.match(node, None, None)
            expanded.add(node)
        g = rdflib.Graph()
        for t in schema.reasoning_graph:
            g.add(t)
        for s, p, o in graph_triples:
            g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        before = set(g)
        import owlrl

        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(g)
        errors = sorted(str(text) for m in g.subjects(rdflib.RDF.type, rdflib.URIRef(ERROR_NS + "ErrorMessage"))
                        for text in g.objects(m, rdflib.URIRef(ERROR_NS + "error")))
        added = [t for t in g if t not in before]
        new = [t for t in added if keep(t)]
        inferred = {(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in new
                    if not isinstance(o, rdflib.BNode)}
        inferred = {t for t in inferred if t not in graph_triples and not view.in_store(t)}
        # equality spreads every edge of the merged nodes (also of equated vocabulary terms, such as two
        # values of a functional property pointing at concepts): widen to them and close again
        same_pairs = {(to_oxigraph(s), to_oxigraph(o)) for s, p, o in added
                      if p == rdflib.OWL.sameAs and s != o and isinstance(s, rdflib.URIRef)
                      and isinstance(o, rdflib.URIRef)}
        same = {t for pair in same_pairs for t in pair}
        grow = same - widened
        if not grow:
            break
        for node in grow:
            graph_triples |= view.match(None, None, node)
        widened |= grow
        frontier = grow
    errors += [f"would make {a.value} and {b.value} the same individual (owl:sameAs), because a functional "
               "property would have both as values" for a, b in sorted(same_pairs, key=lambda x: (x[0].value,
                                                                                              x[1].value))
               if a.value < b.value]
    return sorted(inferred, key=_triple_key), errors


def _rules_closure(schema: Schema, view: View, frontier: set[Any], graph_triples: set[Triple]) -> list[Triple] | None:
    """The same entailments from rules.py (SPARQL rules in an in-memory Oxigraph: ~50x faster than
    owlrl here), or None when it cannot stand in for owlrl: an axiom it does not implement, or any
    inconsistency (two values of a functional property: owlrl then equates them, and only owlrl's
    result says which nodes that breaks), so refusals keep owlrl's exact semantics."""
    try:
        from ..reasoning.rules import UnsupportedAxioms, close_store, states_axiom
    except ImportError:  # rules.py is the build's scalable reasoner; without it, owlrl does the work
        return None

    local = set(graph_triples)
    for node in frontier:
        local |= view.match(node, None, None)
    if any(p == OWL_SAME_AS or p.value == OWL + "differentFrom" for _, p, _ in local):
        return None
    default = ox.DefaultGraph()
    store = ox.Store()
    store.extend(schema.ontology_quads)
    store.extend([ox.Quad(s, p, o, default) for s, p, o in local])
    # the ontology's axioms, read once per schema, unless the data states an axiom of its own
    axioms = None if any(states_axiom(p, o) for _, p, o in local) else schema.rule_axioms
    try:
        out, inconsistencies, _ = close_store(store, axioms=axioms)
    except UnsupportedAxioms:
        return None
    if inconsistencies:
        return None
    new = {(q.subject, q.predicate, q.object) for q in out}
    return sorted((t for t in new if t not in local and not view.in_store(t)), key=_triple_key)


def affected_focus_nodes(schema: Schema, view: View, changed: Iterable[Triple]) -> set[Any]:
    """Every node whose shapes can read a changed triple: the changed triples' subjects and objects,
    and the nodes that reach them along the shapes' paths (walked backwards)."""
    paths = schema.shape_paths
    focus: set[Any] = set()
    # many changed triples share a node and many paths share their last steps: each (node, steps)
    # walk is made once
    reached: dict[tuple[Any, tuple], frozenset[Any]] = {}

    def back(start: Any, prefix: tuple) -> frozenset[Any]:
        """The nodes from which `prefix` leads to `start` (its last step walked first)."""
        if not prefix:
            return frozenset((start,))
        key = (start, prefix)
        found = reached.get(key)
        if found is None:
            q, fwd = prefix[0]
            qn = ox.NamedNode(q)
            nxt: set[Any] = set()
            for n in back(start, prefix[1:]):
                if fwd:
                    nxt.update(x for x, _, _ in view.match(None, qn, n))
                elif _is_node(n):
                    nxt.update(y for _, _, y in view.match(n, qn, None) if _is_node(y))
            found = reached[key] = frozenset(nxt)
        return found

    walks: set[tuple[Any, tuple]] = set()
    for s, p, o in changed:
        for t in (s, o):
            if _is_data_node(t):
                focus.add(t)
        for pred in (p.value, WILDCARD):
            for prefix, forward in paths.by_predicate.get(pred, ()):
                start = s if forward else o
                if _is_node(start):
                    walks.add((start, prefix))
    for start, prefix in walks:
        focus.update(n for n in back(start, prefix) if _is_data_node(n))
    return focus


def gather(schema: Schema, view: View, focus: set[Any]) -> set[Triple]:
    """The triples the focus nodes' shapes read: along every path of every shape that may target
    each node, with the types of every node reached and the focus nodes' own edges."""
    paths = schema.shape_paths
    supers = _superclasses(schema)
    out: set[Triple] = set()
    typed: set[Any] = set()

    def types_of(n: Any) -> None:
        if n in typed or not _is_node(n):
            return
        typed.add(n)
        out.update(view.match(n, RDF_TYPE, None))

    for f in focus:
        own = view.match(f, None, None)
        out |= own
        # only the predicates of sh:targetObjectsOf decide which shapes target a node by its incoming
        # edges; a node such as a state has thousands of other incoming edges, which need not be read
        incoming = {p for p in paths.objects_of if view.exists(None, ox.NamedNode(p), f)}
        types = {o.value for _, p, o in own if p == RDF_TYPE and isinstance(o, ox.NamedNode)}
        for _, _, o in own:
            types_of(o)
        typed.add(f)
        shapes = paths.shapes_for(types, {p.value for _, p, _ in own}, incoming,
                                  f.value if isinstance(f, ox.NamedNode) else "", supers)
        memo: set[tuple[int, Any]] = set()
        for shape in shapes:
            _walk(view, paths.tries[shape], {f}, out, types_of, memo)
    return out


def _walk(view: View, trie: dict, nodes: set[Any], out: set[Triple], types_of: Any, memo: set) -> None:
    for (pred, fwd), child in trie.items():
        key = (id(child), pred, fwd, frozenset(nodes))
        if key in memo:
            continue
        memo.add(key)
        nxt: set[Any] = set()
        p = None if pred == WILDCARD else ox.NamedNode(pred)
        for n in nodes:
            if not _is_node(n):
                continue
            if fwd:
                found = view.match(n, p, None)
                out |= found
                nxt |= {o for _, _, o in found}
            else:
                found = view.match(None, p, n)
                out |= found
                nxt |= {s for s, _, _ in found}
        for n in nxt:
            types_of(n)
        if child and nxt:
            _walk(view, child, nxt, out, types_of, memo)
