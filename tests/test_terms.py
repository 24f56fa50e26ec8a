"""The one term layer: every conversion keeps a literal's lexical form, and all of them agree."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import pyoxigraph as ox
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_kg.rdf import convert
from dispute_kg.rdf.terms import Result, iri, literal
from dispute_kg.stores.memory import MemoryStore

XSD = "http://www.w3.org/2001/XMLSchema#"
ONE = literal("01", XSD + "integer")  # not the canonical "1": must stay "01" everywhere
TERMS = [ONE, literal("2021-10-18T00:00:00Z", XSD + "dateTime"), literal("+1.50", XSD + "decimal"),
         literal("TRUE", XSD + "boolean"), literal("x", lang="ja"), literal('a "quote"\nand \\ \x07'),
         iri("https://w3id.org/dispute-kg/id/territory/iturup"), {"type": "bnode", "value": "b0"}]


@pytest.mark.parametrize("term", TERMS, ids=lambda t: t["value"][:12])
def test_every_conversion_round_trips_unchanged(term) -> None:
    assert convert.term_from_ox(convert.term_to_ox(term)) == term
    assert convert.term_from_rdflib(convert.term_to_rdflib(term)) == term
    ox_term = convert.term_to_ox(term)
    assert convert.rdflib_to_ox(convert.ox_to_rdflib(ox_term)) == ox_term
    assert convert.term_to_rdflib(term) == convert.ox_to_rdflib(ox_term)  # both routes to rdflib agree
    assert convert.term_from_json(json.loads(json.dumps(term))) == term
    parsed = next(iter(ox.parse(f"<http://s> <http://p> {convert.term_text(term)} .".encode(),
                                format=ox.RdfFormat.N_TRIPLES)))
    assert convert.term_from_ox(parsed.object) == term


def test_sparql_json_from_other_servers_comes_in_one_shape() -> None:
    assert convert.term_from_json({"type": "typed-literal", "value": "01", "datatype": XSD + "integer"}) == ONE
    assert convert.term_from_json({"type": "literal", "value": "x", "datatype": XSD + "string"}) == literal("x")
    assert convert.term_from_json({"type": "literal", "value": "x", "xml:lang": "ja",
                                   "datatype": "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"}) \
        == literal("x", lang="ja")
    # Virtuoso writes every xsd:boolean as 1 or 0; Oxigraph and rdflib answer with the canonical forms
    for sent, canonical in (("1", "true"), ("0", "false"), ("true", "true"), ("false", "false")):
        assert convert.term_from_json({"type": "typed-literal", "value": sent, "datatype": XSD + "boolean"}) \
            == literal(canonical, XSD + "boolean")
    assert convert.term_from_json({"type": "literal", "value": "1", "datatype": XSD + "integer"}) \
        == literal("1", XSD + "integer")
    for bad in ({"type": "uri"}, {"value": "x"}, {"type": "triple", "value": "x"}, {"type": "uri", "value": 3}):
        with pytest.raises((KeyError, TypeError, ValueError)):
            convert.term_from_json(bad)


def test_the_rdflib_graph_for_shacl_keeps_the_lexical_form() -> None:
    """What SHACL sees in `validate` (files -> pyoxigraph -> rdflib) is the file's literal, not rdflib's
    canonical one (rdflib normalises by default: Literal("01", datatype=xsd:integer) is "1")."""
    quads = list(ox.parse(b'<http://s> <http://p> "01"^^<http://www.w3.org/2001/XMLSchema#integer> .',
                          format=ox.RdfFormat.N_TRIPLES))
    graph = convert.quads_to_graph(quads)
    (obj,) = graph.objects()
    assert str(obj) == "01" and obj.value == 1
    assert convert.graph_to_quads(graph, "http://g")[0].object.value == "01"


def test_the_memory_store_keeps_the_lexical_form_in_and_out() -> None:
    store = MemoryStore()
    store.add_quads([(iri("http://s"), iri("http://p"), ONE, None)])
    assert store.query("SELECT ?o WHERE { ?s ?p ?o }").rows == [{"o": ONE}]
    assert store.query("SELECT ?s WHERE { ?s ?p ?o }", {"o": ONE}).rows == [{"s": iri("http://s")}]
    assert [q[2] for q in store.quads()] == [ONE]


def test_the_embedded_store_stores_numbers_by_value() -> None:
    """Oxigraph keeps xsd numbers as numbers, so "01"^^xsd:integer is read back as "1" from the embedded
    store and from `oxigraph serve`: a property of that store, not of the conversions (which never
    change a lexical form). Kept here so that a change in it is noticed."""
    store = ox.Store()
    store.add(convert.terms_to_quad((iri("http://s"), iri("http://p"), ONE, None)))
    assert convert.quad_to_terms(next(iter(store)))[2] == literal("1", XSD + "integer")


def test_writers_write_terms_through_the_one_layer() -> None:
    from dispute_kg.query.results import write

    result = Result("select", variables=["o"], rows=[{"o": t} for t in TERMS])
    tsv = io.StringIO()
    write(result, "tsv", tsv)
    assert tsv.getvalue().splitlines()[1:] == [convert.term_text(t) for t in TERMS]
    xml = io.StringIO()
    write(result, "xml", xml)
    parsed = ox.parse_query_results(xml.getvalue().encode(), format=ox.QueryResultsFormat.XML)
    assert [convert.term_from_ox(s["o"]) for s in parsed] == TERMS
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert ET.fromstring(xml.getvalue().replace("\x07", "")).find(".//r:literal", ns).text == "01"
    graph = Result("graph", triples=[(iri("http://s"), iri("http://p"), t) for t in TERMS])
    nt = io.StringIO()
    write(graph, "nt", nt)
    back = [convert.term_from_ox(t.object) for t in ox.parse(nt.getvalue().encode(), format=ox.RdfFormat.N_TRIPLES)]
    assert back == TERMS
    ttl = io.StringIO()
    write(graph, "ttl", ttl)
    back = [convert.term_from_ox(t.object) for t in ox.parse(ttl.getvalue().encode(), format=ox.RdfFormat.TURTLE)]
    def named(terms: list) -> list[str]:
        return sorted(json.dumps(t, sort_keys=True) for t in terms if t["type"] != "bnode")

    assert named(back) == named(TERMS) and len(back) == len(TERMS)  # a blank node's label is the writer's


@settings(max_examples=300, deadline=None)
@given(value=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40),
       kind=st.sampled_from(["plain", "lang", "integer", "custom"]))
def test_any_literal_survives_every_conversion(value: str, kind: str) -> None:
    given_term = {"plain": literal(value), "lang": literal(value, lang="en-GB"),
                  "integer": literal(value, XSD + "integer"), "custom": literal(value, "http://example.org/dt")}[kind]
    term = {**given_term, "xml:lang": "en-gb"} if kind == "lang" else given_term  # tags are lower case
    assert convert.term_from_json(given_term) == term
    assert convert.term_from_rdflib(convert.term_to_rdflib(given_term)) == term
    assert convert.term_from_ox(convert.term_to_ox(given_term)) == term
    ox_term = convert.term_to_ox(term)
    assert convert.term_from_ox(ox_term) == term
    assert convert.term_from_rdflib(convert.ox_to_rdflib(ox_term)) == term
    assert convert.term_from_ox(convert.rdflib_to_ox(convert.term_to_rdflib(term))) == term
    nt = convert.ntriples([(iri("http://s"), iri("http://p"), term)])
    assert convert.term_from_ox(next(iter(ox.parse(nt, format=ox.RdfFormat.N_TRIPLES))).object) == term
