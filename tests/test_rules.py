"""The scalable reasoner (rules.py: OWL 2 RL rules as SPARQL updates to a fixpoint in Oxigraph) gives
exactly owlrl's closure, after the filtering reasoning.py applies, and finds the same inconsistencies."""

from __future__ import annotations

import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import ROOT

from dispute_kg.project.build import inferred_quads, load_project_quads
from dispute_kg.project.folder import Project
from dispute_kg.rdf.namespaces import DEF, ID, INFERRED_GRAPH
from dispute_kg.reasoning.rules import UnsupportedAxioms, ox_select, read_axioms, rules_closure, updates

sys.path.insert(0, str(ROOT / "bench"))
from synthetic import generate_project


def triples(quads: list[ox.Quad]) -> set[tuple]:
    return {(q.subject, q.predicate, q.object) for q in quads}


def assert_same_closure(quads: list[ox.Quad]) -> int:
    by_owlrl, owlrl_errors = inferred_quads(quads, "owlrl")
    by_rules, rules_errors, _ = rules_closure(quads)
    assert all(q.graph_name == ox.NamedNode(INFERRED_GRAPH) for q in by_rules)
    only_owlrl, only_rules = triples(by_owlrl) - triples(by_rules), triples(by_rules) - triples(by_owlrl)
    assert not only_owlrl and not only_rules, (sorted(map(str, only_owlrl))[:10], sorted(map(str, only_rules))[:10])
    assert len(by_rules) == len(triples(by_rules))  # no duplicates
    assert bool(owlrl_errors) == bool(rules_errors)
    return len(by_rules)


@pytest.fixture(scope="module")
def article_quads() -> list[ox.Quad]:
    return load_project_quads(Project.open(ROOT))


def test_rules_equal_owlrl_on_the_article_graph(article_quads) -> None:
    assert assert_same_closure(article_quads) > 200


def test_rules_equal_owlrl_on_a_10k_synthetic_graph(tmp_path: Path) -> None:
    project = Project.open(generate_project(tmp_path / "synthetic", 10_000))
    quads = load_project_quads(project)
    assert len(quads) >= 10_000
    assert assert_same_closure(quads) > 3000


def test_the_rules_come_from_the_ontology_axioms(article_quads) -> None:
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in article_quads)
    ax = read_axioms(ox_select(store))
    assert ax.unsupported == []
    assert {(DEF + "party"), (DEF + "succeeds")} <= {q for q, _ in ax.chains}
    assert dict(ax.chains)[DEF + "party"] == (DEF + "concludedIn", DEF + "participant")
    assert {DEF + "before", DEF + "after", DEF + "partOf", DEF + "hasPart"} == ax.transitive
    assert (DEF + "voices", DEF + "voicedIn") in ax.inverses and (DEF + "voicedIn", DEF + "voices") in ax.inverses
    assert DEF + "Place" in ax.superclasses[DEF + "Island"]
    assert ax.disjoint and ax.functional
    names = [name for name, _ in updates(ax)]
    assert names[0] == "prp-spo1" and names[-1] == "cax-sco"


def _with(quads: list[ox.Quad], *extra: tuple[str, str, str]) -> list[ox.Quad]:
    g = ox.NamedNode("https://w3id.org/dispute-kg/graph/test")
    return [*quads, *(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o), g) for s, p, o in extra)]


RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


def test_a_member_of_disjoint_classes_is_an_inconsistency_for_both(article_quads) -> None:
    broken = _with(article_quads, (ID + "state/japan", RDF_TYPE, DEF + "Person"))
    _, owlrl_errors = inferred_quads(broken, "owlrl")
    _, rules_errors, _ = rules_closure(broken)
    assert owlrl_errors, "owlrl should find Japan both a state and a person inconsistent"
    assert any("cax-dw" in m and ID + "state/japan" in m for m in rules_errors), rules_errors


def test_two_values_of_a_functional_property_are_reported(article_quads) -> None:
    functional = read_axioms(ox_select(_default_store(article_quads))).functional
    prop = sorted(p for p in functional if p.startswith(DEF))[0]
    broken = _with(article_quads, (ID + "claim/test", prop, ID + "thing/a"), (ID + "claim/test", prop, ID + "thing/b"))
    _, errors, _ = rules_closure(broken)
    assert any(m.startswith("prp-fp") and ID + "claim/test" in m for m in errors), errors


def test_different_from_itself_is_an_inconsistency(article_quads) -> None:
    broken = _with(article_quads, (ID + "state/japan", "http://www.w3.org/2002/07/owl#differentFrom",
                                   ID + "state/japan"))
    _, errors, _ = rules_closure(broken)
    assert any(m.startswith("eq-diff") for m in errors), errors


def test_an_axiom_the_rules_do_not_implement_is_refused_and_auto_falls_back(article_quads) -> None:
    broken = _with(article_quads, (ID + "state/japan", "http://www.w3.org/2002/07/owl#sameAs", ID + "state/nippon"))
    with pytest.raises(UnsupportedAxioms, match="sameAs"):
        rules_closure(broken)
    with pytest.raises(UnsupportedAxioms):
        inferred_quads(broken, "rules")
    inferred, _ = inferred_quads(broken, "auto")  # small graph: owlrl
    assert inferred


def test_build_with_the_rules_reasoner_stores_the_same_graph(project_copy: Path, monkeypatch) -> None:
    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.project.build import build

    project = Project.open(project_copy)
    owlrl_report = build(project, force=True)
    with KnowledgeGraph.open(project=project, auto_build=False) as kg:
        before = sorted(kg.store.quads(), key=str)
    monkeypatch.setenv("DISPUTE_KG_REASONER", "rules")
    rules_report = build(project, force=True)
    with KnowledgeGraph.open(project=project, auto_build=False) as kg:
        after = sorted(kg.store.quads(), key=str)
    assert rules_report.inferred == owlrl_report.inferred and rules_report.graphs == owlrl_report.graphs
    def named(quads: list) -> list:  # blank node labels differ between two parses of the ontology
        return [q for q in quads if all(t["type"] != "bnode" for t in q[:3])]

    assert named(after) == named(before) and len(after) == len(before)
    monkeypatch.setenv("DISPUTE_KG_REASONER", "hermit")
    with pytest.raises(Exception, match="unknown reasoner"):
        build(project, force=True)


def _default_store(quads: list[ox.Quad]) -> ox.Store:
    store = ox.Store()
    store.bulk_extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in quads)
    return store


def test_axioms_come_only_from_the_triples_states_axiom_names(article_quads) -> None:
    """`validate` reuses the axioms read from the ontology for an input in which no triple
    `states_axiom`: the article's data without such triples leaves what read_axioms reads unchanged,
    and each kind of axiom triple is named by states_axiom and changes it."""
    from dispute_kg.reasoning.rules import states_axiom
    from dispute_kg.validation.schema import load_schema

    schema = load_schema(Project.open(ROOT))

    def axioms_with(extra: list[tuple]) -> object:
        store = ox.Store()
        store.extend(schema.ontology_quads)
        store.extend([ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in extra])
        return read_axioms(ox_select(store))

    ontology = set(schema.ontology_triples)
    data = [t for t in triples(article_quads) if t not in ontology and not states_axiom(t[1], t[2])]
    assert len(data) > 1000
    base = axioms_with([])
    assert axioms_with(data) == base
    rdfs, owl = "http://www.w3.org/2000/01/rdf-schema#", "http://www.w3.org/2002/07/owl#"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    new_property, new_class = ID + "property/x", ID + "class/x"
    for s, p, o in [(new_property, rdfs + "subPropertyOf", DEF + "holder"),
                    (new_property, owl + "inverseOf", DEF + "holder"),
                    (new_property, rdfs + "domain", DEF + "Position"),
                    (new_property, rdf_type, owl + "TransitiveProperty"),
                    (new_property, rdf_type, owl + "FunctionalProperty"),
                    (new_class, rdfs + "subClassOf", DEF + "Position"),
                    (new_class, owl + "disjointWith", DEF + "Position"),
                    (new_class, owl + "hasKey", DEF + "Position")]:
        triple = (ox.NamedNode(s), ox.NamedNode(p), ox.NamedNode(o))
        assert states_axiom(triple[1], triple[2]), (p, o)
        assert axioms_with([triple]) != base, (p, o)
