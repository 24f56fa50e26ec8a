"""SHACL compiled to queries run inside the store must report exactly what pyshacl reports over an
rdflib copy of the same graph: on the shipped graph, and on a copy broken in many ways at once."""

from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib
from test_break_the_graph import ARTICLE_TTL, ID, MORE, add, replace

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.validation.shacl import load_shapes, run_shacl
from dispute_kg.validation.shacl_store import Unsupported, compile_shapes, run_shacl_in_store
from dispute_kg.validation.verdict import check_store

# Every broken input of test_break_the_graph at once, plus a few more the shapes catch. Left out: an
# `oa:start "467"` string, which pyshacl's rdflib compares with integers where SPARQL (and Oxigraph)
# raise a type error; both still report the node through the datatype constraint.
BROKEN = [turtle for shape, turtle, _, _ in MORE if shape != "PositionSelectorShape"] + [
    "id:event/1956-signing-of-joint-declaration dk:signatory id:territory/iturup .",
    "id:claim/japan-northern-territories dk:claimantt id:state/japan .",
    'id:position/unsourced a dk:Position ; rdfs:label "unsourced"@en ; dk:holder id:state/japan ; '
    'dk:stanceKind dk:Belief ; dk:stance "something"@en .',
    "id:event/1956-signing-of-joint-declaration dk:signatory id:state/russian-empire .",
    "id:claim/japan-northern-territories dk:citesBasis id:agreement/treaty-of-nowhere .",
    'id:event/negotiations-after-1956 dk:date "1950"^^xsd:gYear .',
    'id:state/japan rdfs:label "Nippon"@en , "Nihon"@EN ; <http://www.w3.org/2004/02/skos/core#altLabel> 42 .',
    f'<{ID}selection/urdupoint-2021-10-18/467-484/quote> <http://www.w3.org/ns/oa#suffix> "XYZ" .',
]


def both(root) -> tuple[list, list]:
    with KnowledgeGraph.open(project=root, auto_build=False) as kg:
        shapes = load_shapes(kg.project.shape_files)
        return run_shacl_in_store(kg.store.store, shapes), run_shacl(kg.rdflib_graph(), shapes).violations


def test_shipped_graph_same_verdict(built_project):
    in_store, reference = both(built_project)
    assert in_store == reference == []


def test_broken_graph_same_violations(project_copy):
    add(project_copy, "\n".join(BROKEN))
    replace(project_copy, ARTICLE_TTL, 'rdfs:label "Kunashir"@en ;', "")
    replace(project_copy, ARTICLE_TTL, 'dk:date "1956-10-19"^^xsd:date', 'dk:date "October 19, 1956"')
    replace(project_copy, ARTICLE_TTL, "oa:end 484", "oa:end 485")
    build(Project.open(project_copy), force=True)
    in_store, reference = both(project_copy)
    assert len(reference) > 40  # the input really breaks many shapes
    assert in_store == reference
    # the build's verdict on two threads finds what one thread finds, in the same order
    with KnowledgeGraph.open(project=project_copy, auto_build=False) as kg:
        one, two = (check_store(kg.store, kg.project, inconsistencies=[], embedded=True, workers=n) for n in (1, 2))
    assert sorted(two.shacl) == sorted(in_store) and len(two.shacl) == len(in_store)
    assert (one.shacl, one.checks, one.spans) == (two.shacl, two.checks, two.spans)
    assert any(not c.passed for c in two.checks) and two.spans and not two.passed


def test_ill_typed_literal_fails_its_datatype(project_copy):
    # the right datatype IRI on a lexical form that is no date: pyshacl cannot compare with such a
    # literal (its SPARQL constraints stop with a ValidationFailure), so this one is checked alone
    add(project_copy, 'id:event/return-of-okinawa dk:date "1972-13-45"^^xsd:date .')
    build(Project.open(project_copy), force=True)
    with KnowledgeGraph.open(project=project_copy, auto_build=False) as kg:
        found = run_shacl_in_store(kg.store.store, load_shapes(kg.project.shape_files))
    assert [(v.focus, v.value) for v in found] == [(ID + "event/return-of-okinawa", "1972-13-45")]
    assert "xsd:date, xsd:gYearMonth or xsd:gYear" in found[0].message


def test_unknown_component_is_refused_not_skipped(tmp_path):
    shapes = rdflib.Graph().parse(data="""
        @prefix sh: <http://www.w3.org/ns/shacl#> . @prefix ex: <http://example.org/> .
        ex:S a sh:NodeShape ; sh:targetClass ex:C ;
            sh:property [ sh:path ex:p ; sh:lessThan ex:q ; sh:message "less" ] .""", format="turtle")
    with pytest.raises(Unsupported):
        compile_shapes(shapes)
    store = ox.Store()
    with pytest.raises(Unsupported):
        run_shacl_in_store(store, shapes)
