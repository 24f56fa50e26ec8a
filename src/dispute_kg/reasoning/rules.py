"""OWL 2 RL entailments as SPARQL updates iterated to a fixpoint inside Oxigraph: the reasoner that scales.

owlrl closes the article graph in about a second but does not close a million triples in ten minutes.
Our ontology needs only a few OWL 2 RL rules on instance data, so they are read from its axioms and
written as one SPARQL update per rule kind, each carrying its axioms in a `VALUES` table:

| OWL 2 RL rule        | axiom                                   | update                                 |
|----------------------|-----------------------------------------|----------------------------------------|
| prp-spo1             | rdfs:subPropertyOf, equivalentProperty  | x p y -> x super(p) y                  |
| prp-inv1/2           | owl:inverseOf                           | x p y -> y q x                         |
| prp-symp             | owl:SymmetricProperty                   | x p y -> y p x                         |
| prp-trp              | owl:TransitiveProperty                  | x p+ y -> x p y                        |
| prp-spo2             | owl:propertyChainAxiom                  | x p1 m1 ... pn y -> x q y              |
| prp-dom, prp-rng     | rdfs:domain, rdfs:range                 | x p y -> x a D, y a R                  |
| cax-sco, cax-eqc     | rdfs:subClassOf, equivalentClass        | x a C -> x a super(C)                  |

The subclass and subproperty hierarchies are closed in Python first (the TBox is small), so most
graphs reach the fixpoint in two or three rounds. Inconsistencies are found by queries over the
closure: a shared member of disjoint classes (cax-dw, cax-adc), two values of a functional or
inverse-functional property (prp-fp, prp-ifp: OWL would equate them; we do not equate nodes, so they
are reported), owl:differentFrom against owl:sameAs or itself (eq-diff), a member of owl:Nothing.

An axiom this module does not implement (a restriction, a class expression, owl:sameAs, keys) is
listed by `unsupported()`; the build then uses owlrl, so an answer is never silently incomplete.
The result is filtered as `reasoning.keep` filters owlrl's, and `tests/test_rules.py` proves both
closures equal on the article graph and on a synthetic graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox

from ..errors import InputError
from ..rdf.namespaces import DEF, ID, INFERRED_GRAPH

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
RDF_TYPE = RDF + "type"
DROPPED_TYPES = {OWL + "Thing", RDFS + "Resource", OWL + "NamedIndividual"}

# Constructs whose OWL 2 RL rules are not implemented here: if the data or ontology uses one, build
# falls back to owlrl. Keyed by predicate (or rdf:type object).
UNSUPPORTED_PREDICATES = {
    OWL + p for p in ("sameAs", "hasKey", "onProperty", "someValuesFrom", "allValuesFrom", "hasValue",
                      "intersectionOf", "unionOf", "complementOf", "oneOf", "maxCardinality",
                      "maxQualifiedCardinality", "hasSelf", "propertyDisjointWith", "sourceIndividual")}
UNSUPPORTED_TYPES = {OWL + t for t in ("Restriction", "IrreflexiveProperty", "AsymmetricProperty",
                                       "AllDisjointProperties", "NegativePropertyAssertion")}

Select = Callable[[str], list[dict[str, str]]]

# What `read_axioms` reads: the predicates of its patterns and the classes it asks members of. A graph
# with no triple using one of them adds no axiom to the ontology's (`states_axiom`).
AXIOM_PREDICATES = frozenset({RDFS + "subClassOf", OWL + "equivalentClass", RDFS + "subPropertyOf",
                              OWL + "equivalentProperty", OWL + "inverseOf", RDFS + "domain", RDFS + "range",
                              OWL + "propertyChainAxiom", RDF + "first", RDF + "rest", OWL + "disjointWith",
                              OWL + "members"}) | UNSUPPORTED_PREDICATES
AXIOM_CLASSES = frozenset({OWL + "SymmetricProperty", OWL + "TransitiveProperty", OWL + "FunctionalProperty",
                           OWL + "InverseFunctionalProperty", OWL + "AllDisjointClasses"}) | UNSUPPORTED_TYPES


def states_axiom(p: ox.NamedNode, o: object) -> bool:
    """Whether a triple with predicate `p` and object `o` can change what `read_axioms` reads."""
    return p.value in AXIOM_PREDICATES or (p.value == RDF_TYPE and isinstance(o, ox.NamedNode)
                                           and o.value in AXIOM_CLASSES)


class UnsupportedAxioms(InputError):
    """The graph uses an OWL construct whose rules are not implemented here (use owlrl)."""


@dataclass
class Axioms:
    """The TBox facts the rules use, as IRIs; hierarchies already closed."""

    superclasses: dict[str, set[str]] = field(default_factory=dict)  # class -> strict superclasses
    superproperties: dict[str, set[str]] = field(default_factory=dict)
    domains: dict[str, set[str]] = field(default_factory=dict)  # property -> classes, closed upward
    ranges: dict[str, set[str]] = field(default_factory=dict)
    inverses: set[tuple[str, str]] = field(default_factory=set)  # both directions
    symmetric: set[str] = field(default_factory=set)
    transitive: set[str] = field(default_factory=set)
    chains: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    functional: set[str] = field(default_factory=set)
    inverse_functional: set[str] = field(default_factory=set)
    disjoint: set[tuple[str, str]] = field(default_factory=set)  # ordered pairs, a < b
    unsupported: list[str] = field(default_factory=list)
    # the SPARQL text written from these axioms (`updates`, `inconsistency_queries`), kept for the next
    # closure with the same axioms (validation closes many small graphs with the ontology's)
    texts: dict[str, list[tuple[str, str]]] = field(default_factory=dict, repr=False, compare=False)

    def text(self, kind: str, write: Callable[[Axioms], list[tuple[str, str]]]) -> list[tuple[str, str]]:
        if kind not in self.texts:
            self.texts[kind] = write(self)
        return self.texts[kind]


def _closure(edges: Iterable[tuple[str, str]]) -> dict[str, set[str]]:
    direct: dict[str, set[str]] = {}
    for a, b in edges:
        if a != b:
            direct.setdefault(a, set()).add(b)
    out: dict[str, set[str]] = {}
    for start in direct:
        seen: set[str] = set()
        todo = list(direct[start])
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo.extend(direct.get(node, ()))
        seen.discard(start)
        out[start] = seen
    return out


def read_axioms(select: Select) -> Axioms:
    """Read the axioms with SPARQL through `select` (rows of {var: value}; IRIs and blank nodes as text)."""
    ax = Axioms()

    def pairs(pattern: str) -> list[tuple[str, str]]:
        return [(r["a"], r["b"]) for r in select(f"SELECT DISTINCT ?a ?b WHERE {{ {pattern} FILTER (isIRI(?a) "
                                                  "&& isIRI(?b)) }")]

    sc = pairs(f"?a <{RDFS}subClassOf> ?b")
    for a, b in pairs(f"?a <{OWL}equivalentClass> ?b"):
        sc += [(a, b), (b, a)]
    ax.superclasses = _closure(sc)
    sp = pairs(f"?a <{RDFS}subPropertyOf> ?b")
    for a, b in pairs(f"?a <{OWL}equivalentProperty> ?b"):
        sp += [(a, b), (b, a)]
    for p, q in pairs(f"?a <{OWL}inverseOf> ?b"):
        ax.inverses |= {(p, q), (q, p)}
    ax.superproperties = _closure(sp)

    def up(classes: set[str]) -> set[str]:
        out = set(classes)
        for c in classes:
            out |= ax.superclasses.get(c, set())
        return out - DROPPED_TYPES

    for target, pred in ((ax.domains, "domain"), (ax.ranges, "range")):
        direct: dict[str, set[str]] = {}
        for p, c in pairs(f"?a <{RDFS}{pred}> ?b"):
            direct.setdefault(p, set()).add(c)
        for p, classes in direct.items():
            target[p] = up(classes)

    def typed(kind: str) -> set[str]:
        return {r["a"] for r in select(f"SELECT DISTINCT ?a WHERE {{ ?a a <{OWL}{kind}> FILTER isIRI(?a) }}")}

    ax.symmetric = typed("SymmetricProperty")
    ax.transitive = typed("TransitiveProperty")
    ax.functional = typed("FunctionalProperty")
    ax.inverse_functional = typed("InverseFunctionalProperty")

    # property chains: follow each rdf:List from its head, in order
    rows = select(f"SELECT ?p ?head ?node ?first ?rest WHERE {{ ?p <{OWL}propertyChainAxiom> ?head . "
                  f"?head <{RDF}rest>* ?node . ?node <{RDF}first> ?first ; <{RDF}rest> ?rest }}")
    lists: dict[tuple[str, str], dict[str, tuple[str, str]]] = {}
    for r in rows:
        lists.setdefault((r["p"], r["head"]), {})[r["node"]] = (r["first"], r["rest"])
    for (p, head), cells in sorted(lists.items()):
        chain, node = [], head
        while node in cells and len(chain) <= len(cells):
            first, node = cells[node]
            chain.append(first)
        ax.chains.append((p, tuple(chain)))

    disjoint = pairs(f"?a <{OWL}disjointWith> ?b")
    rows = select(f"SELECT ?x ?a WHERE {{ ?x a <{OWL}AllDisjointClasses> ; <{OWL}members> ?l . "
                  f"?l <{RDF}rest>*/<{RDF}first> ?a }}")
    members: dict[str, list[str]] = {}
    for r in rows:
        members.setdefault(r["x"], []).append(r["a"])
    for group in members.values():
        disjoint += [(a, b) for a in group for b in group if a != b]
    ax.disjoint = {tuple(sorted(pair)) for pair in disjoint}  # type: ignore[misc]

    preds = " ".join(f"<{p}>" for p in sorted(UNSUPPORTED_PREDICATES))
    types = " ".join(f"<{t}>" for t in sorted(UNSUPPORTED_TYPES))
    found = select(f"SELECT DISTINCT ?a WHERE {{ {{ VALUES ?a {{ {preds} }} ?s ?a ?o }} UNION "
                   f"{{ VALUES ?a {{ {types} }} ?s a ?a }} }}")
    ax.unsupported = sorted(r["a"] for r in found)
    return ax


# -- updates -------------------------------------------------------------------------------------
def _values(names: str, rows: Iterable[tuple[str, ...]]) -> str:
    body = " ".join("(" + " ".join(f"<{v}>" for v in row) + ")" for row in sorted(set(rows)))
    return f"VALUES ({names}) {{ {body} }}"


def _insert(head: str, where: str) -> str:
    """Add `head` to the default graph (so later rules see it) and to the inferred graph, if it is new."""
    return (f"INSERT {{ {head} GRAPH <{INFERRED_GRAPH}> {{ {head} }} }}\n"
            f"WHERE {{ {where} FILTER NOT EXISTS {{ {head} }} }}")


def updates(ax: Axioms) -> list[tuple[str, str]]:
    """(rule name, SPARQL update) in an order that lets one round do most of the work."""
    out: list[tuple[str, str]] = []
    sp = [(p, q) for p, supers in ax.superproperties.items() for q in supers]
    if sp:
        out.append(("prp-spo1", _insert("?x ?q ?y .", f"{_values('?p ?q', sp)} ?x ?p ?y .")))
    if ax.inverses:
        out.append(("prp-inv", _insert("?y ?q ?x .", f"{_values('?p ?q', ax.inverses)} ?x ?p ?y . "
                                       "FILTER (!isLiteral(?y))")))
    if ax.symmetric:
        out.append(("prp-symp", _insert("?y ?p ?x .", f"{_values('?p', [(p,) for p in ax.symmetric])} "
                                        "?x ?p ?y . FILTER (!isLiteral(?y))")))
    for q, chain in ax.chains:
        steps = " . ".join(f"?v{i} <{p}> ?v{i + 1}" for i, p in enumerate(chain))
        out.append((f"prp-spo2 {q}", _insert(f"?v0 <{q}> ?v{len(chain)} .", steps + " .")))
    for p in sorted(ax.transitive):
        out.append((f"prp-trp {p}", _insert(f"?x <{p}> ?y .", f"?x <{p}>/<{p}>+ ?y .")))
    if ax.domains:
        rows = [(p, c) for p, cs in ax.domains.items() for c in cs]
        out.append(("prp-dom", _insert("?x a ?c .", f"{_values('?p ?c', rows)} ?x ?p ?y .")))
    if ax.ranges:
        rows = [(p, c) for p, cs in ax.ranges.items() for c in cs]
        out.append(("prp-rng", _insert("?y a ?c .", f"{_values('?p ?c', rows)} ?x ?p ?y . "
                                       "FILTER (!isLiteral(?y))")))
    sc = [(c, d) for c, supers in ax.superclasses.items() for d in supers if d not in DROPPED_TYPES]
    if sc:
        out.append(("cax-sco", _insert("?x a ?d .", f"{_values('?c ?d', sc)} ?x a ?c .")))
    return out


def inconsistency_queries(ax: Axioms) -> list[tuple[str, str]]:
    """(rule, SELECT ?x ?a ?b ?rule) queries over a closed graph; any row is an inconsistency."""
    out = []
    if ax.disjoint:
        out.append(("cax-dw", f"SELECT DISTINCT ?x ?a ?b WHERE {{ {_values('?a ?b', ax.disjoint)} ?x a ?a , ?b }}"))
    for rule, props, pattern in (("prp-fp", ax.functional, "?x ?p ?a , ?b ."),
                                 ("prp-ifp", ax.inverse_functional, "?a ?p ?x . ?b ?p ?x .")):
        if props:
            out.append((rule, f"SELECT DISTINCT ?x ?p ?a ?b WHERE {{ {_values('?p', [(p,) for p in props])} "
                              f"{pattern} FILTER (!sameTerm(?a, ?b) && STR(?a) <= STR(?b)) }}"))
    out.append(("eq-diff", f"SELECT DISTINCT ?x ?a WHERE {{ {{ ?x <{OWL}differentFrom> ?x BIND (?x AS ?a) }} UNION "
                           f"{{ ?x <{OWL}differentFrom> ?a . {{ ?x <{OWL}sameAs> ?a }} UNION "
                           f"{{ ?a <{OWL}sameAs> ?x }} }} }}"))
    out.append(("cls-nothing2", f"SELECT DISTINCT ?x WHERE {{ ?x a <{OWL}Nothing> }}"))
    return out


def _message(rule: str, row: dict[str, str]) -> str:
    x, p = row.get("x", ""), row.get("p", "")
    a, b = sorted((row.get("a", ""), row.get("b", "")))
    if rule == "cax-dw":
        return f"cax-dw: <{x}> is a member of the disjoint classes <{a}> and <{b}>"
    if rule == "prp-fp":
        return (f"prp-fp: <{x}> has two values of the functional property <{p}>: {a} and {b} "
                "(OWL would make them the same individual; dispute-kg never equates nodes)")
    if rule == "prp-ifp":
        return f"prp-ifp: {a} and {b} share the value <{x}> of the inverse-functional property <{p}>"
    if rule == "eq-diff":
        return f"eq-diff: <{x}> is declared both different from and the same as <{a}>"
    return f"cls-nothing2: <{x}> is a member of owl:Nothing"


def check_inconsistencies(select: Select, ax: Axioms) -> list[str]:
    messages = []
    for rule, query in ax.text("inconsistencies", inconsistency_queries):
        messages += [_message(rule, row) for row in select(query)]
    return sorted(set(messages))


# -- running inside Oxigraph -----------------------------------------------------------------------
def _ox_value(term: object) -> str:
    if isinstance(term, ox.Literal):
        if term.language:
            return f'"{term.value}"@{term.language}'
        return f'"{term.value}"^^<{term.datatype.value}>'
    return term.value  # type: ignore[attr-defined]


def ox_select(store: ox.Store, **kwargs: object) -> Select:
    def select(query: str) -> list[dict[str, str]]:
        solutions = store.query(query, **kwargs)
        names = [v.value for v in solutions.variables]
        return [{n: _ox_value(s[n]) for n in names if s[n] is not None} for s in solutions]

    return select


@dataclass
class RulesReport:
    rounds: int = 0
    seconds: float = 0.0
    per_rule: dict[str, float] = field(default_factory=dict)


def close(store: ox.Store, ax: Axioms, max_rounds: int = 100,
          progress: Callable[[str], None] | None = None) -> RulesReport:
    """Apply the rules to `store` (asserted triples in its default graph) until nothing new is derived.
    New triples go to the default graph and to the inferred graph."""
    report = RulesReport()
    started = time.monotonic()
    rules = ax.text("updates", updates)
    inferred = ox.NamedNode(INFERRED_GRAPH)

    def size() -> int:
        return sum(1 for _ in store.quads_for_pattern(None, None, None, inferred))

    before = -1
    while report.rounds < max_rounds:
        report.rounds += 1
        for name, text in rules:
            t = time.monotonic()
            store.update(text)
            report.per_rule[name] = report.per_rule.get(name, 0.0) + time.monotonic() - t
        now = size()
        if progress:
            progress(f"rules round {report.rounds}: {now} inferred triples")
        if now == before:
            break
        before = now
    else:
        raise RuntimeError(f"OWL 2 RL rules did not reach a fixpoint in {max_rounds} rounds")
    report.seconds = time.monotonic() - started
    return report


def keep(s: object, p: object, o: object) -> bool:
    """`reasoning.keep` on pyoxigraph terms: new facts about our instances only."""
    if not isinstance(s, ox.NamedNode) or not s.value.startswith(ID) or s.value.startswith(DEF):
        return False
    if p.value == OWL + "sameAs" and s == o:  # type: ignore[attr-defined]
        return False
    return not (p.value == RDF_TYPE and isinstance(o, ox.NamedNode) and o.value in DROPPED_TYPES)  # type: ignore


def rules_closure(quads: Iterable[ox.Quad], progress: Callable[[str], None] | None = None
                  ) -> tuple[list[ox.Quad], list[str], Axioms]:
    """The kept entailments of `quads` in the inferred graph, the inconsistencies, and the axioms used."""
    store = ox.Store()
    default = ox.DefaultGraph()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, default) for q in quads)
    return close_store(store, progress)


def close_store(store: ox.Store, progress: Callable[[str], None] | None = None, axioms: Axioms | None = None
                ) -> tuple[list[ox.Quad], list[str], Axioms]:
    """`rules_closure` on a store whose default graph already holds the asserted triples (it is closed in
    place); `axioms` when the caller has read them from these triples already, else they are read here."""
    select = ox_select(store)
    ax = axioms if axioms is not None else read_axioms(select)
    if ax.unsupported:
        raise UnsupportedAxioms("the rules reasoner does not implement " + ", ".join(ax.unsupported)
                                + "; use the owlrl reasoner (DISPUTE_KG_REASONER=owlrl)")
    close(store, ax, progress=progress)
    inferred = ox.NamedNode(INFERRED_GRAPH)
    out = [q for q in store.quads_for_pattern(None, None, None, inferred) if keep(q.subject, q.predicate, q.object)]
    out.sort(key=lambda q: (q.subject.value, q.predicate.value, str(q.object)))
    return out, check_inconsistencies(select, ax), ax


def store_select(store: object) -> Select:
    """A `Select` over any backend (`store.Store`), for checking a remote store's consistency."""
    def select(query: str) -> list[dict[str, str]]:
        rows = store.query(query).rows  # type: ignore[attr-defined]
        out = []
        for row in rows:
            item = {}
            for k, t in row.items():
                if t["type"] == "literal":
                    dt = t.get("datatype", "http://www.w3.org/2001/XMLSchema#string")
                    item[k] = f'"{t["value"]}"@{t["xml:lang"]}' if "xml:lang" in t else f'"{t["value"]}"^^<{dt}>'
                else:
                    item[k] = t["value"]
            out.append(item)
        return out

    return select


def find_inconsistencies(store: object) -> list[str]:
    """The inconsistency queries run on a store that holds the asserted and the inferred graphs."""
    select = store_select(store)
    return check_inconsistencies(select, read_axioms(select))
