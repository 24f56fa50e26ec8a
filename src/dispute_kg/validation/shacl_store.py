"""SHACL run as SPARQL inside the store: each constraint of each shape becomes one query that finds
all its violations at once, so a million-triple graph is validated where it is indexed instead of
being copied into rdflib for pyshacl (which does not finish at that size).

Only what the shapes of this project use is compiled: targets (class, subjects-of, objects-of,
node, SPARQL targets), property shapes with an IRI path and the Core components below, and
SHACL-SPARQL constraints. A shape using anything else raises `Unsupported`, and the caller falls
back to pyshacl, so a new kind of rule is never silently skipped. Each violation is reported as
pyshacl reports it (one result per focus node, component and value node; the same focus, message,
path, value, severity and shape), and tests/test_shacl_store.py holds the two equal.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pyoxigraph as ox
import rdflib
from rdflib import RDF
from rdflib.collection import Collection
from rdflib.namespace import OWL, RDFS, SH, XSD

from .shacl_checks import FOCUS_CLASS, FOCUS_GRAPH, Check, Unsupported, Violation, check_violations, run_checks

__all__ = ["Check", "Unsupported", "check_violations", "compile_shapes", "run_checks", "run_shacl_in_store"]

RDF_LANGSTRING = str(RDF.langString)
_IGNORED = {SH.name, SH.description, SH.order, SH.group, SH.defaultValue, rdflib.RDFS.comment,
            rdflib.RDFS.label, RDF.type, SH.message, SH.severity, SH.prefixes, SH.declare}
# XSD datatypes whose lexical form SPARQL can check by casting (an ill-typed literal fails sh:datatype)
_CASTABLE = {"integer", "decimal", "double", "float", "boolean", "date", "dateTime", "time", "gYear",
             "gYearMonth"}
_TARGETS = {SH.targetClass, SH.targetSubjectsOf, SH.targetObjectsOf, SH.targetNode, SH.target}


def _nt(term: rdflib.term.Node) -> str:
    if isinstance(term, rdflib.URIRef):
        return f"<{term}>"
    if isinstance(term, rdflib.Literal):
        return term.n3()
    raise Unsupported(f"blank node {term} where a constant is expected")


def _one(shapes: rdflib.Graph, node: rdflib.term.Node, prop: rdflib.URIRef) -> rdflib.term.Node | None:
    values = list(shapes.objects(node, prop))
    if len(values) > 1:
        raise Unsupported(f"{node} has more than one {prop}")
    return values[0] if values else None


def _list(shapes: rdflib.Graph, node: rdflib.term.Node) -> list[rdflib.term.Node]:
    return list(Collection(shapes, node))


def _prefixes(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    lines = []
    for holder in shapes.objects(node, SH.prefixes):
        for decl in shapes.objects(holder, SH.declare):
            prefix, ns = _one(shapes, decl, SH.prefix), _one(shapes, decl, SH.namespace)
            if prefix is not None and ns is not None:
                lines.append(f"PREFIX {prefix}: <{ns}>")
    return "\n".join(sorted(set(lines)))


def _severity(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    sev = _one(shapes, node, SH.severity)
    return str(sev).rsplit("#", 1)[-1] if sev is not None else "Violation"


def _message(shapes: rdflib.Graph, node: rdflib.term.Node) -> str:
    msgs = list(shapes.objects(node, SH.message))
    if len(msgs) != 1:
        raise Unsupported(f"{node} needs exactly one sh:message (pyshacl's default messages are not compiled)")
    return str(msgs[0])


def _targets(shapes: rdflib.Graph, shape: rdflib.term.Node) -> list[str]:
    """Group patterns binding ?this to the shape's focus nodes (the store holds the OWL 2 RL closure,
    so `a C` already includes the instances of C's subclasses, as pyshacl's rdfs:subClassOf* does)."""
    out = []
    for c in shapes.objects(shape, SH.targetClass):
        out.append(f"?this a {_nt(c)} .")
    for p in shapes.objects(shape, SH.targetSubjectsOf):
        out.append(f"?this {_nt(p)} ?targetObject .")
    for p in shapes.objects(shape, SH.targetObjectsOf):
        out.append(f"?targetSubject {_nt(p)} ?this .")
    for n in shapes.objects(shape, SH.targetNode):
        out.append(f"VALUES ?this {{ {_nt(n)} }}")
    for t in shapes.objects(shape, SH.target):
        select = _one(shapes, t, SH.select)
        if (t, RDF.type, SH.SPARQLTarget) not in shapes or select is None:
            raise Unsupported(f"target {t} is not a SPARQL target")
        out.append(f"{{ {select} }}")
    return out


def _condition(shapes: rdflib.Graph, node: rdflib.term.Node, v: str) -> str:
    """A SPARQL expression true when value `v` conforms to the value-only shape `node`."""
    parts = []
    for p, o in shapes.predicate_objects(node):
        if p in _IGNORED:
            continue
        parts.append(_component(shapes, p, o, v))
    return "(" + " && ".join(parts) + ")" if parts else "true"


def _component(shapes: rdflib.Graph, p: rdflib.term.Node, o: rdflib.term.Node, v: str) -> str:
    """One value-type Core component as a conformance expression on `v` (errors count as failing)."""
    if p == SH["class"]:
        return f"EXISTS {{ {v} a {_nt(o)} }}"
    if p == SH.datatype:
        if str(o) == RDF_LANGSTRING:
            return f"(isLiteral({v}) && LANG({v}) != \"\")"
        same = f"(isLiteral({v}) && DATATYPE({v}) = {_nt(o)})"
        if str(o).removeprefix(str(XSD)) in _CASTABLE:  # and well formed, as pyshacl requires
            return f"({same} && COALESCE(isLiteral({_nt(o)}(STR({v}))), false))"
        return same
    if p == SH.nodeKind:
        kinds = {SH.IRI: f"isIRI({v})", SH.Literal: f"isLiteral({v})", SH.BlankNode: f"isBlank({v})",
                 SH.BlankNodeOrIRI: f"!isLiteral({v})", SH.BlankNodeOrLiteral: f"!isIRI({v})",
                 SH.IRIOrLiteral: f"!isBlank({v})"}
        if o not in kinds:
            raise Unsupported(f"sh:nodeKind {o}")
        return kinds[o]
    if p == SH["in"]:
        members = [f"sameTerm({v}, {_nt(x)})" for x in _list(shapes, o)]
        return "(" + " || ".join(members) + ")" if members else "false"
    if p == SH.hasValue:
        return f"sameTerm({v}, {_nt(o)})"
    if p == SH["or"]:
        return "(" + " || ".join(_condition(shapes, x, v) for x in _list(shapes, o)) + ")"
    if p == SH["and"]:
        return "(" + " && ".join(_condition(shapes, x, v) for x in _list(shapes, o)) + ")"
    if p == SH["not"]:
        return f"!{_condition(shapes, o, v)}"
    if p == SH.minLength:
        return f"(!isBlank({v}) && STRLEN(STR({v})) >= {int(o)})"
    if p == SH.maxLength:
        return f"(!isBlank({v}) && STRLEN(STR({v})) <= {int(o)})"
    if p == SH.pattern:
        return f"(!isBlank({v}) && REGEX(STR({v}), {_nt(rdflib.Literal(str(o)))}))"
    comparisons = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
    if p in comparisons:
        return f"COALESCE({v} {comparisons[p]} {_nt(o)}, false)"
    raise Unsupported(f"constraint {p}")


def _property_checks(shapes: rdflib.Graph, shape: rdflib.term.Node, prop: rdflib.term.Node,
                     target: str, prefixes: str) -> Iterator[Check]:
    path = _one(shapes, prop, SH.path)
    if not isinstance(path, rdflib.URIRef):
        raise Unsupported(f"property shape {prop} has a path that is not one IRI")
    if _one(shapes, prop, SH.deactivated) is not None or _one(shapes, prop, SH.flags) is not None:
        raise Unsupported(f"property shape {prop} uses sh:deactivated or sh:flags")
    message, severity, p = _message(shapes, prop), _severity(shapes, prop), _nt(path)
    shape_name = str(prop) if isinstance(prop, rdflib.URIRef) else ""

    def check(label: str, sparql: str, kind: str, **bounds: int | None) -> Check:
        return Check(label, sparql, kind, message, str(path), severity, shape_name, **bounds)

    head = f"{prefixes}\nSELECT"
    qualified = _one(shapes, prop, SH.qualifiedValueShape)
    # The components of one property shape share its message, so their violations differ only in how
    # many there are: the counts (sh:minCount, sh:maxCount) are found by one query, and the value
    # conditions by another that counts the components each value fails; a shape's constraints thus
    # read the graph twice rather than once per component. The counts are taken over every subject
    # (a node's count does not depend on the targets) and joined to the targets: a third cheaper than
    # counting inside the targets.
    counts: dict[str, int] = {}
    conditions: list[str] = []
    for comp, obj in shapes.predicate_objects(prop):
        if comp in _IGNORED or comp in (SH.path, SH.qualifiedValueShape, SH.qualifiedMinCount,
                                        SH.qualifiedMaxCount):
            continue
        label = f"{shape} {path.n3()} {comp.n3()}"
        if comp == SH.minCount:
            if int(obj) > 0:
                counts["low"] = int(obj)
        elif comp == SH.maxCount:
            counts["high"] = int(obj)
        elif comp == SH.uniqueLang:
            if not bool(obj.toPython()):
                continue
            sparql = (f"{head} ?this ?lang WHERE {{ {target} "
                      f"?this {p} ?v . FILTER (isLiteral(?v) && LANG(?v) != \"\") BIND (LCASE(LANG(?v)) AS ?lang) }} "
                      f"GROUP BY ?this ?lang HAVING (COUNT(DISTINCT ?v) > 1)")
            yield check(label, sparql, "focus")
        else:
            conditions.append(_component(shapes, comp, obj, "?v"))
    if counts:
        tests = [f"?count < {counts['low']}"] if "low" in counts else []
        tests += [f"?count > {counts['high']}"] if "high" in counts else []
        sparql = (f"{head} ?this ?count WHERE {{ {target} OPTIONAL {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) "
                  f"WHERE {{ ?this {p} ?v }} GROUP BY ?this }} "
                  f"BIND (COALESCE(?n, 0) AS ?count) FILTER ({' || '.join(tests)}) }}")
        yield check(f"{shape} {path.n3()} sh:minCount/sh:maxCount", sparql, "qualified",
                    low=counts.get("low"), high=counts.get("high"))
    if conditions:
        failed = " + ".join(f"IF(COALESCE({c}, false), 0, 1)" for c in conditions)
        sparql = (f"{head} DISTINCT ?this ?v ?failed WHERE {{ {target} "
                  f"?this {p} ?v . BIND (({failed}) AS ?failed) FILTER (?failed > 0) }}")
        yield check(f"{shape} {path.n3()} values", sparql, "values")
    if qualified is not None:
        if _one(shapes, prop, SH.qualifiedValueShapesDisjoint) is not None:
            raise Unsupported("sh:qualifiedValueShapesDisjoint")
        cond = _condition(shapes, qualified, "?v")
        low, high = _one(shapes, prop, SH.qualifiedMinCount), _one(shapes, prop, SH.qualifiedMaxCount)
        tests = [f"?count < {int(low)}"] if low is not None else []
        tests += [f"?count > {int(high)}"] if high is not None else []
        if tests:  # one query for both bounds: one result per bound broken, as pyshacl reports them
            sparql = (f"{head} ?this ?count WHERE {{ {target} OPTIONAL {{ SELECT ?this (COUNT(DISTINCT ?v) AS ?n) "
                      f"WHERE {{ ?this {p} ?v . FILTER (COALESCE({cond}, false)) }} GROUP BY ?this }} "
                      f"BIND (COALESCE(?n, 0) AS ?count) FILTER ({' || '.join(tests)}) }}")
            yield check(f"{shape} {path.n3()} sh:qualifiedValueShape", sparql, "qualified",
                        low=None if low is None else int(low), high=None if high is None else int(high))


def _sparql_checks(shapes: rdflib.Graph, shape: rdflib.term.Node, node: rdflib.term.Node,
                   target: str) -> Iterator[Check]:
    select = _one(shapes, node, SH.select)
    if select is None or _one(shapes, node, SH.deactivated) is not None:
        raise Unsupported(f"SPARQL constraint {node} without sh:select, or deactivated")
    if list(shapes.objects(shape, SH.message)):
        raise Unsupported(f"{shape} has its own sh:message beside a SPARQL constraint's")
    message, severity = _message(shapes, node), _severity(shapes, shape)
    prefixes = _prefixes(shapes, node)
    # the constraint's own SELECT, its $this joined with the shape's targets (pyshacl pre-binds it)
    sparql = f"{prefixes}\nSELECT * WHERE {{ {target} {{ {select} }} }}"
    shape_name = str(shape) if isinstance(shape, rdflib.URIRef) else ""
    yield Check(f"{shape} sh:sparql", sparql, "sparql", message, "", severity, shape_name)


def compile_shapes(shapes: rdflib.Graph, *, focus_only: bool = False) -> list[Check]:
    """Every constraint of every shape that has targets, as one query each.

    With `focus_only`, each shape's targets are narrowed to the nodes typed FOCUS_CLASS in the named
    graph FOCUS_GRAPH, as pyshacl's `focus_nodes` narrows them; the queries then read the data from the
    default graph alone (run them without the union default graph), where the focus list is invisible."""
    checks: list[Check] = []
    nodes = {s for t in _TARGETS for s in shapes.subjects(t, None)}
    for shape in sorted(nodes, key=str):
        if _one(shapes, shape, SH.deactivated) is not None:
            raise Unsupported(f"{shape} uses sh:deactivated")
        if (shape, RDF.type, RDFS.Class) in shapes or (shape, RDF.type, OWL.Class) in shapes:
            raise Unsupported(f"{shape} is also a class (an implicit class target)")
        if (shape, SH.path, None) in shapes:
            raise Unsupported(f"{shape} is a property shape with targets")
        declared = [_prefixes(shapes, n) for n in [shape, *shapes.objects(shape, SH.sparql),
                                                    *shapes.objects(shape, SH.target)]]
        prefix_text = "\n".join(sorted({line for d in declared for line in d.split("\n") if line}))
        # pyshacl validates each focus node once, however many targets select it
        focus = f"GRAPH <{FOCUS_GRAPH}> {{ ?this a <{FOCUS_CLASS}> }} " if focus_only else ""
        target = "{ SELECT DISTINCT ?this WHERE { " + focus + " UNION ".join(
            "{ " + t + " }" for t in _targets(shapes, shape)) + " } }"
        for p, o in shapes.predicate_objects(shape):
            if p in _IGNORED or p in _TARGETS:
                continue
            if p == SH.property:
                found = list(_property_checks(shapes, shape, o, target, prefix_text))
            elif p == SH.sparql:
                found = list(_sparql_checks(shapes, shape, o, target))
                for c in found:
                    c.sparql = prefix_text + "\n" + c.sparql
            else:
                raise Unsupported(f"{shape} uses {p} on the node shape")
            for c in found:
                c.target, c.prefixes = target, prefix_text
            checks.extend(found)
    return checks


def run_shacl_in_store(store: ox.Store, shapes: rdflib.Graph,
                       progress: Callable[[int, int, str], None] | None = None) -> list[Violation]:
    """Every violation of `shapes` in `store` (its union graph, which holds the OWL 2 RL closure)."""
    return run_checks(store, compile_shapes(shapes), progress=progress)
