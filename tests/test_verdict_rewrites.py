"""The shapes and QC checks written for speed (joins and MINUS instead of (NOT) EXISTS, VALUES instead of
a path alternative, the distinct subjects before their test) find exactly what their plain formulations
find, on the shipped graph broken so that each of them has something to find."""

from __future__ import annotations

import pyoxigraph as ox
import rdflib
from rdflib.namespace import SH
from test_break_the_graph import add
from test_shacl_store import BROKEN

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.validation.shacl import load_shapes

SHAPES = "https://w3id.org/dispute-kg/shapes#"
ID_SOURCE = "https://w3id.org/dispute-kg/id/source/s"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
PREFIXES = """PREFIX dk: <https://w3id.org/dispute-kg/def#> PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>
"""

# the plain formulations, as the shapes and checks stated them before
PLAIN_TARGETS = {
    "HolderExistedShape": """SELECT DISTINCT ?this WHERE {
        ?this dk:holder ?value .
        { ?this dk:heldDuring|dk:heldBefore|dk:heldAfter ?anchor . ?anchor dk:date ?date .
          BIND (CONCAT("anchored to ", STR(?anchor)) AS ?when) }
        UNION
        { ?this dk:voicedIn ?statement .
          { ?statement dk:date ?date }
          UNION { FILTER NOT EXISTS { ?statement dk:date ?d0 } ?statement dk:venue/dk:date ?date }
          BIND (CONCAT("voiced in ", STR(?statement)) AS ?when) }
        UNION
        { FILTER NOT EXISTS { ?this dk:heldDuring|dk:heldBefore|dk:heldAfter|dk:voicedIn ?any }
          ?this prov:wasDerivedFrom ?selection . ?selection oa:hasSource ?source . ?source dct:issued ?date .
          BIND (CONCAT("reported by ", STR(?source), " as held when it was issued") AS ?when) }
        OPTIONAL { ?value dk:inception ?from }
        OPTIONAL { ?value dk:dissolution ?until }
        FILTER (BOUND(?from) || BOUND(?until))
        BIND (xsd:integer(SUBSTR(STR(?date), 1, 4)) AS ?year)
        FILTER ((BOUND(?from) && ?year < xsd:integer(SUBSTR(STR(?from), 1, 4)))
             || (BOUND(?until) && ?year > xsd:integer(SUBSTR(STR(?until), 1, 4))))
    }""",
    "QuoteSupportsClaimShape": r"""SELECT DISTINCT ?this WHERE {
        { ?this dk:claimant ?value } UNION { ?this dk:claimedTerritory ?value } UNION { ?this dk:citesBasis ?value }
        FILTER EXISTS { ?this prov:wasDerivedFrom ?cited . ?cited oa:hasSelector ?s0 . ?s0 oa:exact ?e0 }
        FILTER NOT EXISTS { ?this dk:deliberateInference ?value }
        FILTER NOT EXISTS {
            ?this prov:wasDerivedFrom ?selection . ?selection oa:hasSelector ?selector . ?selector oa:exact ?exact .
            { ?value rdfs:label|skos:prefLabel|skos:altLabel ?name }
            UNION { ?this dk:statesCoreference ?coreference . ?coreference dk:refersTo ?value ; dk:phrase ?name }
            FILTER (CONTAINS(CONCAT(" ", REPLACE(LCASE(STR(?exact)), "\\W+", " ")),
                             CONCAT(" ", REPLACE(LCASE(STR(?name)), "\\W+", " "))))
        }
    }""",
}
PLAIN_SIGNED = """SELECT ?this WHERE { ?this a dk:Agreement ; dk:agreementStatus dk:Signed .
    FILTER NOT EXISTS { ?event a dk:Signing ; dk:concludes ?this } }"""
PLAIN_CHECKS = {
    "entity-without-label": """SELECT DISTINCT ?entity ?property ?value WHERE {
        ?entity ?p ?o .
        FILTER (isIRI(?entity) && STRSTARTS(STR(?entity), "https://w3id.org/dispute-kg/id/")
                && !STRSTARTS(STR(?entity), "https://w3id.org/dispute-kg/id/selection/")
                && !STRSTARTS(STR(?entity), "https://w3id.org/dispute-kg/id/addition/"))
        FILTER NOT EXISTS { ?entity rdfs:label ?label }
        BIND (rdfs:label AS ?property) BIND ("missing" AS ?value)
    }""",
}
EXTRA = [
    # held by a state dissolved in 1917, after a 1956 signing: HolderExistedShape
    "id:position/soviet-union-hoped-declaration-ends-dispute dk:holder id:state/russian-empire .",
    # recorded as signed with no signing event
    'id:agreement/unsigned a dk:Agreement ; rdfs:label "Unsigned"@en ; dk:agreementStatus dk:Signed .',
    # an id/ node with no label
    'id:thing/unlabelled dk:note "x"@en .',
]


def rows(store: ox.Store, sparql: str) -> set[tuple]:
    solutions = store.query(PREFIXES + sparql, use_default_graph_as_union=True)
    names = [v.value for v in solutions.variables]
    return {tuple(str(s[n]) for n in names) for s in solutions}


def target(shapes: rdflib.Graph, name: str) -> str:
    node = shapes.value(rdflib.URIRef(SHAPES + name), SH.target)
    return str(shapes.value(node, SH.select))


def test_fast_formulations_find_what_the_plain_ones_find(project_copy):
    add(project_copy, "\n".join(BROKEN + EXTRA))
    build(Project.open(project_copy), force=True)
    with KnowledgeGraph.open(project=project_copy, auto_build=False) as kg:
        store = kg.store.store
        shapes = load_shapes(kg.project.shape_files)
        for name, plain in PLAIN_TARGETS.items():
            found = rows(store, target(shapes, name))
            assert found, name  # the broken graph gives each something to find
            assert found == rows(store, plain), name
        selects = [str(shapes.value(n, SH.select))
                   for n in shapes.objects(rdflib.URIRef(SHAPES + "AgreementShape"), SH.sparql)]
        fast = [s for s in selects if "dk:Signed" in s]
        assert len(fast) == 1
        joined = "SELECT ?this WHERE { ?this a dk:Agreement . { " + fast[0].replace("$this", "?this") + " } }"
        assert rows(store, joined) == rows(store, PLAIN_SIGNED) != set()
        for name, plain in PLAIN_CHECKS.items():
            text = (kg.project.root / "queries/checks" / f"{name}.rq").read_text(encoding="utf-8")
            found = rows(store, text)
            assert found, name
            assert found == rows(store, plain), name


def test_checks_of_stated_triples_leave_the_derived_graphs_out():
    """A triple in the inferred or lookup graph is no file's statement: the checks on what files state
    (a source's record outside data/sources/, a derived property stated) do not report it; the same
    triple in a file's graph is reported."""
    from pathlib import Path

    from dispute_kg.rdf.namespaces import DEF, GRAPH, INFERRED_GRAPH, LOOKUP_GRAPH
    from dispute_kg.stores.oxigraph import OxigraphStore
    from dispute_kg.validation.checks import run_check

    checks = Path(__file__).resolve().parent.parent / "queries/checks"
    source, derived = ox.NamedNode(ID_SOURCE), ox.NamedNode(DEF + "party")
    base = [ox.Quad(source, ox.NamedNode(RDF_TYPE), ox.NamedNode(DEF + "Source"),
                    ox.NamedNode(GRAPH + "data/sources/s.ttl")),
            ox.Quad(derived, ox.NamedNode(DEF + "derived"), ox.Literal(True), ox.NamedNode(GRAPH + "ontology/d.ttl"))]
    stated = [(source, ox.NamedNode(DEF + "note"), ox.Literal("x")), (source, derived, ox.NamedNode(ID_SOURCE + "x"))]
    for graph, reported in ((INFERRED_GRAPH, False), (LOOKUP_GRAPH, False), (GRAPH + "data/assertions/a.ttl", True)):
        store = ox.Store()
        store.extend(base + [ox.Quad(s, p, o, ox.NamedNode(graph)) for s, p, o in stated])
        for name in ("bookkeeping-outside-its-file", "derived-term-stated"):
            rows = run_check(OxigraphStore(store, None, read_only=True), checks / f"{name}.rq").rows
            assert bool(rows) is reported, (graph, name)
