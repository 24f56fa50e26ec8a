"""The ontology: metadata, OWL 2 RL-friendly axioms, and consistency under an OWL DL reasoner."""

from __future__ import annotations

import shutil

import pytest
import rdflib
from conftest import ROOT
from rdflib.namespace import DCTERMS, OWL, RDF, RDFS, SKOS, XSD

DK = "https://w3id.org/dispute-kg/def#"


@pytest.fixture(scope="module")
def onto() -> rdflib.Graph:
    return rdflib.Graph().parse(ROOT / "ontology/dispute.ttl")


def test_metadata(onto):
    o = rdflib.URIRef("https://w3id.org/dispute-kg/def")
    assert (o, RDF.type, OWL.Ontology) in onto
    for p in (OWL.versionIRI, DCTERMS.title, DCTERMS.description, DCTERMS.license, DCTERMS.creator):
        assert onto.value(o, p) is not None, p


def test_every_term_labelled_and_defined(onto):
    terms = {s for s in onto.subjects() if isinstance(s, rdflib.URIRef) and str(s).startswith(DK)}
    assert len(terms) > 100
    for t in terms:
        assert onto.value(t, RDFS.label) is not None and onto.value(t, SKOS.definition) is not None, t


def test_required_classes_exist(onto):
    for name in ["State", "Territory", "Island", "IslandGroup", "Agreement", "Treaty", "PeaceTreaty",
                 "JointDeclaration", "Claim", "Position", "Statement", "Person", "Office", "Organisation",
                 "NewsAgency", "Place", "Event", "Signing", "Negotiation", "PressConference", "Anniversary", "War",
                 "StateSuccession"]:
        assert (rdflib.URIRef(DK + name), RDF.type, OWL.Class) in onto, name


def test_date_ranges_stay_in_the_owl2_datatype_map(onto):
    outside = {XSD.date, XSD.gYear, XSD.gYearMonth}
    assert not [(s, o) for s, o in onto.subject_objects(RDFS.range) if o in outside]


def test_no_owl_sameas_and_no_rl_breaking_constructs(onto):
    # OWL 2 RL forbids e.g. owl:unionOf on the super-class side and existential restrictions as super-classes
    assert not list(onto.triples((None, OWL.sameAs, None)))
    assert not list(onto.triples((None, OWL.someValuesFrom, None)))
    assert not list(onto.triples((None, OWL.unionOf, None)))


def test_consistent_and_all_classes_satisfiable_under_hermit(onto, tmp_path):
    import owlready2

    assert shutil.which("java"), "HermiT runs on Java; install a JRE (the project's machines have OpenJDK 17)"

    path = tmp_path / "dispute.owl"
    onto.serialize(path, format="xml")
    world = owlready2.World()
    ontology = world.get_ontology(path.as_uri()).load()
    with ontology:
        owlready2.sync_reasoner_hermit(world, infer_property_values=False, debug=0)
    assert list(world.inconsistent_classes()) == []
    assert len(list(ontology.classes())) >= 40
