"""The lookup graph (reasoning/lookups.py) equals what the stored queries computed before it: a node's
kind, a type of the node with no narrower type of the same node, and a selection's start through its
selectors, both asked in SPARQL; `add` keeps it equal to a rebuild's; a hand-written lookup is refused."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ARTICLE, ROOT, store_dir
from test_validate import HEAD, expand, position, selection

from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.rdf.namespaces import DEF, LOOKUP_GRAPH
from dispute_kg.reasoning.lookups import KIND, QUOTE_START, kind_changes, kind_quads, lookup_changes, lookup_quads

sys.path.insert(0, str(ROOT / "bench"))
from lookups_ab import old_kind  # the formulation bench/lookups_ab.py times
from synthetic import generate_project

RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SUB = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
EQ = "http://www.w3.org/2002/07/owl#equivalentClass"

# the reference: the most specific types, asked of the store in SPARQL, over any path of subclass and
# equivalence axioms (the build's Python closure is not used)
REFERENCE = f"""SELECT DISTINCT ?x ?c WHERE {{
  GRAPH ?g {{ ?x a ?c }}
  FILTER (?g != <{LOOKUP_GRAPH}> && isIRI(?x) && isIRI(?c))
  FILTER (?c NOT IN (<http://www.w3.org/2002/07/owl#Thing>, <http://www.w3.org/2000/01/rdf-schema#Resource>,
                     <http://www.w3.org/2002/07/owl#NamedIndividual>))
  FILTER NOT EXISTS {{
    GRAPH ?h {{ ?x a ?n }}
    FILTER (?h != <{LOOKUP_GRAPH}> && ?n != ?c)
    ?n (<{SUB}>|<{EQ}>|^<{EQ}>)+ ?c .
    FILTER NOT EXISTS {{ ?c (<{SUB}>|<{EQ}>|^<{EQ}>)+ ?n }}
  }}
}}"""

STARTS = f"""SELECT DISTINCT ?s ?o WHERE {{
  GRAPH ?g {{ ?s <http://www.w3.org/ns/oa#hasSelector> ?sel }}
  GRAPH ?h {{ ?sel <http://www.w3.org/ns/oa#start> ?o }}
  FILTER (?g != <{LOOKUP_GRAPH}> && ?h != <{LOOKUP_GRAPH}> && isIRI(?s))
}}"""


def starts(store: ox.Store) -> set[tuple[str, str]]:
    return {(q.subject.value, str(q.object))
            for q in store.quads_for_pattern(None, ox.NamedNode(QUOTE_START), None, ox.NamedNode(LOOKUP_GRAPH))}


def starts_reference(store: ox.Store) -> set[tuple[str, str]]:
    return {(r["s"].value, str(r["o"])) for r in store.query(STARTS)}


def reference(store: ox.Store) -> set[tuple[str, str]]:
    return {(s["x"].value, s["c"].value) for s in store.query(REFERENCE, use_default_graph_as_union=True)}


def lookup(store: ox.Store) -> set[tuple[str, str]]:
    return {(q.subject.value, q.object.value)
            for q in store.quads_for_pattern(None, ox.NamedNode(KIND), None, ox.NamedNode(LOOKUP_GRAPH))}


def old_text(name: str) -> str:
    """The stored query as it was: its kind read from the types with a NOT EXISTS, its start through
    the selectors."""
    text = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
    if name == "provenance":
        return text.replace("?derivation dk:quoteStart ?start", "?derivation oa:hasSelector/oa:start ?start")
    return old_kind(text, *(("agreement", "Agreement") if name == "agreements" else ("event", "Event")))


def rows(store: ox.Store, text: str) -> list[tuple]:
    return [tuple(str(t) if t is not None else None for t in s)
            for s in store.query(text, use_default_graph_as_union=True)]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = generate_project(tmp_path_factory.mktemp("kinds") / "synthetic", 10_000)
    build(Project.open(root))
    return root


@pytest.mark.parametrize("which", ["shipped", "synthetic"])
def test_the_lookup_graph_holds_the_most_specific_types_and_the_listings_answer_as_before(
        which, built_project, synthetic):
    root = built_project if which == "shipped" else synthetic
    store = ox.Store.read_only(str(store_dir(root)))
    try:
        kinds = lookup(store)
        assert kinds == reference(store)
        # every kind the listings show is there: agreements are treaties or declarations, not just agreements
        agreements = {x for x, c in kinds if c in (DEF + "Treaty", DEF + "PeaceTreaty", DEF + "JointDeclaration")}
        assert agreements and not {x for x, c in kinds if c == DEF + "Agreement"} & agreements
        for name in ("agreements", "timeline"):
            text = (ROOT / "queries" / f"{name}.rq").read_text(encoding="utf-8")
            new, old = rows(store, text), rows(store, old_text(name))
            assert new == old and new, name
            assert any(r[list(store.query(text).variables).index(ox.Variable("kind"))] for r in new)
        found = starts(store)
        assert found == starts_reference(store) and len(found) > 10
        # provenance, ordered on the start, for the five subjects with the most rows
        text = (ROOT / "queries" / "provenance.rq").read_text(encoding="utf-8")
        busiest = [r["x"] for r in store.query(
            "SELECT ?x (COUNT(*) AS ?n) WHERE { ?a ?p ?x . ?a <http://www.w3.org/ns/prov#wasDerivedFrom> ?d "
            "FILTER isIRI(?x) } GROUP BY ?x ORDER BY DESC(?n) ?x LIMIT 5", use_default_graph_as_union=True)]
        for subject in busiest:
            bound = text.replace("WHERE {", f"WHERE {{ VALUES ?_subject_iri {{ {subject} }}", 1)
            new, old = rows(store, bound), rows(store, old_text("provenance").replace(
                "WHERE {", f"WHERE {{ VALUES ?_subject_iri {{ {subject} }}", 1))
            assert new == old and any(r[5] for r in new), subject
    finally:
        del store


def random_graph(rng: random.Random) -> list[ox.Quad]:
    """A random class hierarchy (a DAG, with some equivalences) and nodes typed with every superclass
    of the classes they are given, as the closure types them."""
    classes = [f"{DEF}C{i}" for i in range(rng.randint(2, 9))]
    g = ox.NamedNode("https://w3id.org/dispute-kg/graph/data/a.ttl")
    quads, supers = [], {c: {c} for c in classes}
    for i, c in enumerate(classes[1:], 1):
        for d in rng.sample(classes[:i], rng.randint(0, min(2, i))):
            quads.append(ox.Quad(ox.NamedNode(c), ox.NamedNode(SUB), ox.NamedNode(d), g))
    if rng.random() < 0.3:
        a, b = rng.sample(classes, 2)
        quads.append(ox.Quad(ox.NamedNode(a), ox.NamedNode(EQ), ox.NamedNode(b), g))
    changed = True
    edges = [(q.subject.value, q.object.value) for q in quads]
    edges += [(b, a) for a, p, b in ((q.subject.value, q.predicate.value, q.object.value) for q in quads) if p == EQ]
    while changed:
        changed = False
        for a, b in edges:
            if not supers[b] <= supers[a]:
                supers[a] |= supers[b]
                changed = True
    inferred = ox.NamedNode("https://w3id.org/dispute-kg/graph/inferred")
    for n in range(rng.randint(1, 6)):
        node = ox.NamedNode(f"{DEF}n{n}")
        given = rng.sample(classes, rng.randint(1, min(3, len(classes))))
        for c in given:
            quads.append(ox.Quad(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(c), g))
        for c in set().union(*(supers[c] for c in given)) - set(given):
            quads.append(ox.Quad(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(c), inferred))
    return quads


def test_kinds_equal_the_reference_on_300_random_hierarchies():
    rng = random.Random(18)
    for _ in range(300):
        quads = random_graph(rng)
        store = ox.Store()
        store.extend(quads)
        built = kind_quads(quads)
        assert {(q.subject.value, q.object.value) for q in built} == reference(store)
        # and kept by changes: drop a random typed node's given types, add new ones, compare with a rebuild
        store.extend(built)
        typed = [q for q in quads if q.predicate.value == RDF_TYPE]
        remove = rng.sample(typed, rng.randint(0, min(3, len(typed))))
        node = ox.NamedNode(f"{DEF}n{rng.randint(0, 7)}")
        add = [ox.Quad(node, ox.NamedNode(RDF_TYPE), q.object, q.graph_name) for q in rng.sample(typed, 1)]
        if rng.random() < 0.2:  # the hierarchy itself changes: every kind is found again
            add.append(ox.Quad(typed[0].object, ox.NamedNode(SUB), typed[-1].object, typed[0].graph_name))
        add = [q for q in add if q not in store]
        plus, minus = kind_changes(store, add, remove)
        for q in remove + minus:
            store.remove(q)
        store.extend(add + plus)
        after = [q for q in store if q.graph_name != ox.NamedNode(LOOKUP_GRAPH)]
        assert lookup(store) == {(q.subject.value, q.object.value) for q in kind_quads(after)}


def test_starts_are_kept_through_300_random_changes():
    rng = random.Random(2)
    oa = "http://www.w3.org/ns/oa#"
    g = ox.NamedNode("https://w3id.org/dispute-kg/graph/data/a.ttl")
    for _ in range(300):
        sels = [ox.NamedNode(f"{DEF}s{i}") for i in range(rng.randint(1, 4))]
        selectors = [ox.NamedNode(f"{DEF}q{i}") for i in range(rng.randint(1, 5))]

        def quad(rng=rng, sels=sels, selectors=selectors) -> ox.Quad:
            if rng.random() < 0.5:
                return ox.Quad(rng.choice(sels), ox.NamedNode(oa + "hasSelector"), rng.choice(selectors), g)
            return ox.Quad(rng.choice(selectors), ox.NamedNode(oa + "start"),
                           ox.Literal(str(rng.randint(0, 3)), datatype=ox.NamedNode(
                               "http://www.w3.org/2001/XMLSchema#nonNegativeInteger")), g)

        quads = list({quad() for _ in range(rng.randint(0, 8))})
        store = ox.Store()
        store.extend(quads + lookup_quads(quads))
        remove = rng.sample(quads, rng.randint(0, min(3, len(quads))))
        add = [q for q in {quad() for _ in range(rng.randint(0, 3))} if q not in store]
        plus, minus = lookup_changes(store, add, remove)
        for q in remove + minus:
            store.remove(q)
        store.extend(add + plus)
        after = [q for q in store if q.graph_name != ox.NamedNode(LOOKUP_GRAPH)]
        assert starts(store) == {(q.subject.value, str(q.object)) for q in lookup_quads(after)
                                 if q.predicate.value == QUOTE_START}
        assert starts(store) == starts_reference(store)


def test_an_addition_writes_its_nodes_lookups(built_copy: Path, tmp_path: Path):
    from dispute_kg.project.additions import add

    project = Project.open(built_copy)
    store = ox.Store.read_only(str(store_dir(built_copy)))
    try:
        existing = lookup(store)
    finally:
        del store
    sel, sel_ttl = selection("Japanese government believes")
    path = tmp_path / "good.ttl"
    path.write_text(HEAD + position(derived=f"prov:wasDerivedFrom <{sel}> ;") + sel_ttl, encoding="utf-8")
    report, addition = add(project, [path], agent="test")
    assert addition is not None, report.to_text()
    store = ox.Store.read_only(str(store_dir(built_copy)))
    try:
        after = lookup(store)
        assert after == reference(store)
        found = starts(store)
        assert found == starts_reference(store)
        assert int(project.manifest()["graphs"][LOOKUP_GRAPH]) == len(after) + len(found)
    finally:
        del store
    offset = ox.Literal(str(ARTICLE.find("Japanese government believes")),
                        datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer"))
    assert (sel, str(offset)) in found
    node = "https://w3id.org/dispute-kg/id/position/japan-believes-test"
    # the position, the selection and its selectors, and the history record's addition and agent
    oa = "http://www.w3.org/ns/oa#"
    assert after - existing == {(sel, DEF + "TextSelection"), (node, DEF + "Position"),
                                (sel + "/quote", oa + "TextQuoteSelector"),
                                (sel + "/position", oa + "TextPositionSelector"),
                                (f"https://w3id.org/dispute-kg/id/addition/{addition.id}", DEF + "Addition"),
                                ("https://w3id.org/dispute-kg/id/agent/test", "http://www.w3.org/ns/prov#Agent")}


@pytest.mark.parametrize("triple", ["id:state/japan dk:kind dk:State",
                                    "id:selection/urdupoint-2021-10-18/0-5 dk:quoteStart 0"])
def test_a_hand_written_lookup_is_refused_at_its_line(built_project: Path, tmp_path: Path, triple: str):
    from dispute_kg.validation.pipeline import validate

    path = tmp_path / "lookup.ttl"
    path.write_text(HEAD + expand(f"\n{triple} .\n"), encoding="utf-8")
    report = validate(Project.open(built_project), path)
    assert not report.conforms
    term = triple.split()[1]
    [problem] = [p for p in report.problems if term in p.message]
    assert "written by the build into its lookup graph" in problem.message
    assert problem.line == HEAD.count("\n") + 2
