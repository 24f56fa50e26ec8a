"""What the shapes read: the step sequences each shape follows from its focus node. Forwards they
say which triples a focus node's validation needs; backwards, which focus nodes a changed triple
can affect (pipeline step 5)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from .common import RDF, WILDCARD

Step = tuple[str, bool]  # (predicate IRI or WILDCARD, forwards?)


class ShapePaths:
    """The paths each shape reads from its focus node, from sh:path expressions, nested shapes and
    the triple patterns of SHACL-SPARQL constraints and targets, as sequences of steps.

    Forwards they say which triples a focus node's validation reads; backwards, which focus nodes a
    changed triple can affect. A variable predicate (`?p`) ends a sequence: in our shapes it reaches
    ontology terms, which additions may not change (the input rules refuse it)."""

    def __init__(self, shapes: Any) -> None:
        import rdflib
        from rdflib.namespace import SH as RSH

        self.g = shapes
        self.RSH = RSH
        self.rdflib = rdflib
        self.prefix_text = self._prefixes()
        self.targets: list[tuple[Any, dict]] = []  # (shape, target description)
        self.sequences: dict[Any, set[tuple[Step, ...]]] = {}
        for shape in set(shapes.subjects(rdflib.RDF.type, RSH.NodeShape)) | set(
                shapes.subjects(RSH.targetClass, None)) | set(shapes.subjects(RSH.target, None)):
            target = self._targets(shape)
            if not any(target.values()):
                continue
            seqs = set(self._node_shape(shape, (), 0))
            for query in target["sparql"]:
                seqs |= set(self._sparql(query))
            self.sequences[shape] = {s for s in seqs if s}
            self.targets.append((shape, target))
        self._index()

    def _index(self) -> None:
        self.all_sequences = set().union(*self.sequences.values()) if self.sequences else set()
        # index: predicate -> prefixes (sequences before a step on that predicate), with direction
        self.by_predicate: dict[str, set[tuple[tuple[Step, ...], bool]]] = {}
        for seq in self.all_sequences:
            for i, (pred, fwd) in enumerate(seq):
                self.by_predicate.setdefault(pred, set()).add((seq[:i], fwd))
        self.tries = {shape: _trie(seqs) for shape, seqs in self.sequences.items()}
        self.max_depth = max((len(s) for s in self.all_sequences), default=0)
        self.objects_of = sorted({p for _, target in self.targets for p in target["objects_of"]})

    def to_data(self) -> list:
        """The targets and sequences as plain lists (shapes named by their IRI or blank node label),
        for the compiled schema the build stores; `from_data` rebuilds the indexes from them."""
        return [[_name(shape), target, sorted(self.sequences[shape])] for shape, target in self.targets]

    @classmethod
    def from_data(cls, data: list) -> ShapePaths:
        self = cls.__new__(cls)
        self.targets, self.sequences = [], {}
        for shape, target, seqs in data:
            self.targets.append((shape, target))
            self.sequences[shape] = {tuple((pred, fwd) for pred, fwd in seq) for seq in seqs}
        self._index()
        return self

    def _prefixes(self) -> str:
        RSH = self.RSH
        out = []
        for decl in self.g.objects(None, RSH.declare):
            prefix = self.g.value(decl, RSH.prefix)
            ns = self.g.value(decl, RSH.namespace)
            if prefix is not None and ns is not None:
                out.append(f"PREFIX {prefix}: <{ns}>")
        return "\n".join(sorted(set(out))) + "\n"

    def _targets(self, shape: Any) -> dict:
        RSH = self.RSH
        g = self.g
        return {
            "class": [str(c) for c in g.objects(shape, RSH.targetClass)]
                     + ([str(shape)] if (shape, self.rdflib.RDF.type, self.rdflib.OWL.Class) in g
                        or (shape, self.rdflib.RDF.type, self.rdflib.RDFS.Class) in g else []),
            "subjects_of": [str(p) for p in g.objects(shape, RSH.targetSubjectsOf)],
            "objects_of": [str(p) for p in g.objects(shape, RSH.targetObjectsOf)],
            "node": [str(n) for n in g.objects(shape, RSH.targetNode)],
            "sparql": [str(g.value(t, RSH.select)) for t in g.objects(shape, RSH.target)
                       if g.value(t, RSH.select) is not None],
        }

    def _path(self, path: Any, depth: int = 0) -> list[tuple[Step, ...]]:
        rdflib, RSH, g = self.rdflib, self.RSH, self.g
        if isinstance(path, rdflib.URIRef):
            return [((str(path), True),)]
        inverse = g.value(path, RSH.inversePath)
        if inverse is not None:
            return [tuple((p, not f) for p, f in reversed(seq)) for seq in self._path(inverse, depth)]
        alt = g.value(path, RSH.alternativePath)
        if alt is not None:
            return [s for item in rdflib.collection.Collection(g, alt) for s in self._path(item, depth)]
        for kind in (RSH.zeroOrMorePath, RSH.oneOrMorePath, RSH.zeroOrOnePath):
            inner = g.value(path, kind)
            if inner is not None:
                base = self._path(inner, depth)
                out: list[tuple[Step, ...]] = [()] if kind != RSH.oneOrMorePath else []
                layer = [()]
                for _ in range(3):  # bounded unrolling; none of our shapes repeats a path
                    layer = [a + b for a in layer for b in base]
                    out.extend(layer)
                return out
        if (path, rdflib.RDF.first, None) in g:
            seqs: list[tuple[Step, ...]] = [()]
            for item in rdflib.collection.Collection(g, path):
                seqs = [a + b for a in seqs for b in self._path(item, depth)]
            return seqs
        return []

    def _node_shape(self, shape: Any, prefix: tuple[Step, ...], depth: int) -> Iterator[tuple[Step, ...]]:
        """Sequences read when `shape` is applied to the node reached by `prefix`."""
        RSH, g = self.RSH, self.g
        if depth > 6:
            return
        yield (*prefix, (RDF + "type", True))
        yield from self._value_constraints(shape, prefix, depth)
        for prop in g.objects(shape, RSH.property):
            path = g.value(prop, RSH.path)
            if path is None:
                continue
            for seq in self._path(path):
                yield prefix + seq
                yield prefix + seq + ((RDF + "type", True),)
                yield from self._value_constraints(prop, prefix + seq, depth)
        for sparql in g.objects(shape, RSH.sparql):
            select = g.value(sparql, RSH.select)
            if select is not None:
                for seq in self._sparql(str(select)):
                    yield prefix + seq
        for cmp in (RSH.equals, RSH.disjoint, RSH.lessThan, RSH.lessThanOrEquals):
            for p in g.objects(shape, cmp):
                yield (*prefix, (str(p), True))

    def _value_constraints(self, shape: Any, prefix: tuple[Step, ...], depth: int) -> Iterator[tuple[Step, ...]]:
        rdflib, RSH, g = self.rdflib, self.RSH, self.g
        nested: list[Any] = []
        for kind in (RSH.node, RSH.qualifiedValueShape, RSH["not"]):
            nested.extend(g.objects(shape, kind))
        for kind in (RSH["or"], RSH["and"], RSH.xone):
            for lst in g.objects(shape, kind):
                nested.extend(rdflib.collection.Collection(g, lst))
        for inner in nested:
            yield from self._node_shape(inner, prefix, depth + 1)

    def _sparql(self, select: str) -> list[tuple[Step, ...]]:
        """Simple paths from $this through the query's triple patterns (variables as nodes)."""
        from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
        from rdflib.plugins.sparql import prepareQuery
        from rdflib.term import Variable

        query = prepareQuery(self.prefix_text + select)
        edges: list[tuple[Any, tuple[Step, ...], Any]] = []

        def path_seqs(p: Any) -> list[tuple[Step, ...]]:
            if isinstance(p, Variable):
                return [((WILDCARD, True),)]
            if isinstance(p, InvPath):
                return [tuple((q, not f) for q, f in reversed(s)) for s in path_seqs(p.arg)]
            if isinstance(p, SequencePath):
                seqs: list[tuple[Step, ...]] = [()]
                for part in p.args:
                    seqs = [a + b for a in seqs for b in path_seqs(part)]
                return seqs
            if isinstance(p, AlternativePath):
                return [s for part in p.args for s in path_seqs(part)]
            if isinstance(p, MulPath):
                base = path_seqs(p.path)
                return [s for s in base] + [a + b for a in base for b in base]
            return [((str(p), True),)]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                triples = node.get("triples")
                if isinstance(triples, list):
                    for t in triples:
                        if isinstance(t, tuple | list) and len(t) == 3:
                            for seq in path_seqs(t[1]):
                                edges.append((t[0], seq, t[2]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list | tuple):
                for value in node:
                    walk(value)
            elif hasattr(node, "__dict__") and not isinstance(node, str):
                walk(vars(node))

        walk(query.algebra)
        this = Variable("this")
        out: list[tuple[Step, ...]] = []

        def dfs(term: Any, seq: tuple[Step, ...], seen: frozenset) -> None:
            for s, steps, o in edges:
                for here, there, forward in ((s, o, True), (o, s, False)):
                    if here != term or there in seen:
                        continue
                    oriented = steps if forward else tuple((q, not f) for q, f in reversed(steps))
                    new = seq + oriented
                    out.append(new)
                    if WILDCARD in (q for q, _ in oriented) or not isinstance(there, Variable):
                        continue  # a variable predicate reaches ontology terms; constants are fixed
                    dfs(there, new, seen | {there})

        dfs(this, (), frozenset({this}))
        return out

    def shapes_for(self, types: set[str], out_preds: set[str], in_preds: set[str], node: str,
                   superclasses: dict[str, set[str]]) -> list[Any]:
        """Shapes that may target a node with these types and edges (SPARQL targets always may)."""
        classes = set()
        for t in types:
            classes |= superclasses.get(t, {t})
        hits = []
        for shape, target in self.targets:
            if (set(target["class"]) & classes or set(target["subjects_of"]) & out_preds
                    or set(target["objects_of"]) & in_preds or node in target["node"] or target["sparql"]):
                hits.append(shape)
        return hits


def _name(shape: Any) -> str:
    return str(shape) if type(shape).__name__ != "BNode" else "_:" + str(shape)


def _trie(seqs: Iterable[tuple[Step, ...]]) -> dict:
    root: dict = {}
    for seq in seqs:
        node = root
        for step in seq:
            node = node.setdefault(step, {})
    return root
