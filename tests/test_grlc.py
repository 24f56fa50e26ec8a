"""The queries folder works with grlc, as the stored-query convention promises: grlc's own parser reads
the same parameters from every file, and the queries grlc rewrites (it writes the values into the
text) give the same answers on the built store as `dispute-kg query run` gives with bound terms."""

from __future__ import annotations

import grlc.gquery as gq
import pytest
from conftest import ROOT

from dispute_kg.query.binding import to_term
from dispute_kg.query.catalog import Catalog
from dispute_kg.rdf.terms import Result

ENDPOINT = "http://127.0.0.1:9/sparql"  # grlc wants one; nothing is sent (no `enumerate` decorators)
CATALOG = Catalog(sorted((ROOT / "queries").glob("*.rq")))
# our parameter type -> what grlc's parameter record says: (type, format, datatype)
GRLC_TYPES = {"iri": ("string", "iri", None), "xsd:date": ("string", None, "xsd:date"),
              "integer": ("string", None, "xsd:integer"), "string": ("string", None, None)}


def grlc_metadata(name: str) -> dict:
    return gq.get_metadata(CATALOG.get(name).text, ENDPOINT)


@pytest.mark.parametrize("name", CATALOG.names())
def test_grlc_reads_the_parameters_the_catalogue_declares(name):
    query = CATALOG.get(name)
    metadata = grlc_metadata(name)
    assert metadata["summary"] == query.summary
    found = gq.get_parameters(metadata["query"], ENDPOINT, metadata)
    theirs = {n: (p["required"], p["type"], p.get("format"), p.get("datatype")) for n, p in found.items()}
    ours = {p.name: (p.required, *GRLC_TYPES[p.type]) for p in query.parameters}
    assert theirs == ours


def _rows(result: Result) -> list[tuple]:
    return sorted(tuple(sorted((k, tuple(sorted(v.items()))) for k, v in row.items())) for row in result.rows)


def _cases() -> list[tuple[str, bool]]:
    """Every query with only its required parameters, and again with every example given."""
    cases = [(q.name, False) for q in CATALOG.all()]
    return cases + [(q.name, True) for q in CATALOG.all() if any(not p.required and p.example for p in q.parameters)]


@pytest.mark.parametrize(("name", "all_examples"), _cases())
def test_grlc_rewritten_queries_answer_as_query_run_does(kg, name, all_examples):
    query = CATALOG.get(name)
    given = [p for p in query.parameters if p.example and (p.required or all_examples)]
    # labels in the examples are resolved once, by our binding; grlc is given the IRIs themselves
    values = {p.name: to_term(p, p.example, kg.store)["value"] for p in given}
    ours = kg.run_result(name, values)
    metadata = grlc_metadata(name)
    text = gq.rewrite_query(metadata["query"], gq.get_parameters(metadata["query"], ENDPOINT, metadata), values)
    theirs = kg.store.query(text)
    assert theirs.variables == ours.variables
    assert _rows(theirs) == _rows(ours)
    # a real answer, not two empty ones (positions' examples, before and after 2000-01-01, exclude each other)
    assert ours.rows or (name, all_examples) == ("positions", True)
