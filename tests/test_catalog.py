"""The catalogue: headers, parameter typing, binding to terms and label resolution."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import ROOT

from dispute_kg.errors import InputError
from dispute_kg.query.binding import Parameter, bind, parse_variable, resolve_label, to_term
from dispute_kg.query.catalog import Catalog, load_query, parameter_variables, python_value, render_docs
from dispute_kg.query.headers import read_header
from dispute_kg.rdf.namespaces import ID

CONTRACT = {"claims", "disputed-territories", "agreements", "agreement-provisions", "positions", "statements",
            "timeline", "provenance", "sources", "entity"}
CATALOG = Catalog(sorted((ROOT / "queries").glob("*.rq")))


def test_catalogue_has_the_contract_queries() -> None:
    assert CONTRACT <= set(CATALOG.names())


@pytest.mark.parametrize("name", sorted(CONTRACT))
def test_every_query_has_a_complete_header(name: str) -> None:
    q = CATALOG.get(name)
    header, _ = read_header(q.text)
    assert {"summary", "description", "tags", "defaults", "parameters"} <= set(header)
    assert q.summary and q.description and q.tags
    assert "ORDER BY" in q.text
    for p in q.parameters:
        assert p.type in ("iri", "xsd:date", "string", "integer")
        assert p.example, f"{name}: parameter {p.name} has no example"
        assert p.variable in parameter_variables(q.text)


@pytest.mark.parametrize(("name", "params"), [
    ("claims", {"state": False}), ("agreements", {"party": False}), ("agreement-provisions", {"agreement": True}),
    ("positions", {"holder": False, "before": False, "after": False}), ("statements", {"speaker": False}),
    ("timeline", {"from": False, "to": False}), ("provenance", {"subject": True}), ("entity", {"id": True}),
    ("sources", {}), ("disputed-territories", {}),
])
def test_parameters_are_as_the_issue_says(name: str, params: dict[str, bool]) -> None:
    assert {p.name: p.required for p in CATALOG.get(name).parameters} == params


def test_grlc_variable_convention() -> None:
    assert parse_variable("_state_iri") == ("state", "iri", True)
    assert parse_variable("__before_xsd_date") == ("before", "xsd:date", False)
    assert parse_variable("__n_xsd_integer") == ("n", "integer", False)
    assert parse_variable("_name") == ("name", "string", True)


def test_parameter_variables_skip_comments_strings_and_iris() -> None:
    text = '# ?_nope_iri\nSELECT * WHERE { ?s <http://x/?_no> "?_nor" . FILTER(?s = ?_yes_iri) }'
    assert parameter_variables(text) == ["_yes_iri"]


def test_declared_and_used_parameters_must_agree(tmp_path: Path) -> None:
    path = tmp_path / "bad.rq"
    path.write_text("#+ summary: x\n#+ parameters:\n#+   - name: state\n#+     type: xsd:date\n"
                    "SELECT ?s ?_state_iri WHERE { ?s ?p ?_state_iri } ORDER BY ?s\n", encoding="utf-8")
    with pytest.raises(InputError, match="state"):
        load_query(path)


def test_unknown_query_name_suggests_the_closest() -> None:
    with pytest.raises(InputError, match="did you mean 'claims'"):
        CATALOG.get("claim")
    with pytest.raises(InputError, match="did you mean 'agreement-provisions'"):
        CATALOG.get("agreement-provision")


def test_missing_required_parameter_is_named_with_an_example() -> None:
    with pytest.raises(InputError) as err:
        bind(CATALOG.get("agreement-provisions"), {})
    assert "'agreement'" in str(err.value) and "dispute-kg query run agreement-provisions -p agreement=" in str(
        err.value)


def test_unknown_parameter_is_refused() -> None:
    with pytest.raises(InputError, match=r"no parameter 'country'.*state"):
        bind(CATALOG.get("claims"), {"country": "Japan"})


@pytest.mark.parametrize("value", ["yesterday", "2021-13-01", "2021-02-30", "18/10/2021", "2021", ""])
def test_a_wrongly_typed_date_names_the_parameter_and_the_type(value: str) -> None:
    with pytest.raises(InputError, match=r"'before' expects an xsd:date"):
        bind(CATALOG.get("positions"), {"before": value})


def test_dates_become_typed_literals() -> None:
    p = Parameter("before", "xsd:date", False, "__before_xsd_date")
    expected = {"type": "literal", "value": "2018-01-01", "datatype": "http://www.w3.org/2001/XMLSchema#date"}
    assert to_term(p, "2018-01-01") == expected
    assert to_term(p, dt.date(2018, 1, 1)) == expected


def test_integers_are_checked() -> None:
    p = Parameter("n", "integer", False, "__n_xsd_integer")
    assert to_term(p, "42")["value"] == "42"
    with pytest.raises(InputError, match="'n' expects an integer"):
        to_term(p, "4 2")


@pytest.mark.parametrize(("value", "expected"), [
    ("Japan", "state/japan"), ("japan", "state/japan"), ("JAPAN", "state/japan"),
    ("USSR", "state/soviet-union"), ("Soviet Union", "state/soviet-union"), ("Moscow", "state/soviet-union"),
    ("Russia", "state/russian-federation"), ("Russian Federation", "state/russian-federation"),
    ("id:state/japan", "state/japan"), (ID + "state/japan", "state/japan"),
])
def test_iri_parameters_take_iris_curies_labels_and_aliases(kg, value: str, expected: str) -> None:
    param = CATALOG.get("claims").parameter("state")
    assert to_term(param, value, kg.store) == {"type": "uri", "value": ID + expected}


def test_exact_label_wins_over_alias(kg) -> None:
    # "Tokyo" is the label of the city and an alias of the Japanese government.
    param = Parameter("subject", "iri", True, "_subject_iri")
    assert to_term(param, "Tokyo", kg.store)["value"] == ID + "place/tokyo"
    assert to_term(param, "Etorofu", kg.store)["value"] == ID + "territory/iturup"


def test_unknown_label_lists_candidates(kg) -> None:
    param = CATALOG.get("claims").parameter("state")
    with pytest.raises(InputError, match="candidates: Japan"):
        to_term(param, "Japn", kg.store)


def test_ambiguous_label_lists_the_candidates() -> None:
    from dispute_kg.stores.oxigraph import OxigraphStore

    store = OxigraphStore.in_memory()
    label = {"type": "uri", "value": "http://www.w3.org/2000/01/rdf-schema#label"}
    store.add_quads([({"type": "uri", "value": ID + "state/georgia"}, label, {"type": "literal", "value": "Georgia"},
                      None),
                     ({"type": "uri", "value": ID + "territory/georgia"}, label,
                      {"type": "literal", "value": "Georgia"}, None)])
    param = Parameter("subject", "iri", True, "_subject_iri")
    with pytest.raises(InputError, match=r"ambiguous.*id:state/georgia, id:territory/georgia"):
        resolve_label(store, param, "georgia")


@pytest.mark.parametrize("value", ["http://x/a b", "https://x/<y>", 'https://x/"', "id:state/{x}"])
def test_malformed_iris_are_refused(value: str) -> None:
    with pytest.raises(InputError, match="not a valid IRI"):
        to_term(Parameter("state", "iri", False, "__state_iri"), value)


def test_python_values() -> None:
    xsd = "http://www.w3.org/2001/XMLSchema#"
    assert python_value({"type": "literal", "value": "1956-10-19", "datatype": xsd + "date"}) == dt.date(1956, 10, 19)
    assert python_value({"type": "literal", "value": "1855", "datatype": xsd + "gYear"}) == "1855"
    assert python_value({"type": "literal", "value": "55", "datatype": xsd + "integer"}) == 55
    assert python_value({"type": "uri", "value": ID + "state/japan"}) == ID + "state/japan"
    assert python_value(None) is None


def test_kg_queries_lists_the_catalogue(kg) -> None:
    assert CONTRACT <= {q.name for q in kg.queries()}


def test_docs_queries_md_is_up_to_date() -> None:
    """Fails when a query header changed and docs/queries.md was not regenerated (`dispute-kg query docs`)."""
    assert (ROOT / "docs" / "queries.md").read_text(encoding="utf-8") == render_docs(CATALOG)
