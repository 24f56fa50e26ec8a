"""Every stored query on the shipped graph gives the rows the article supports; hostile parameter
values never change a query, never write, and get a correct answer or a clear refusal."""

from __future__ import annotations

import datetime as dt
import itertools

import pyoxigraph as ox
import pytest
from conftest import ARTICLE, ROOT
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispute_kg.errors import InputError
from dispute_kg.query.binding import ALL_LABELS_QUERY, CLASS_LABEL_QUERY, LABEL_QUERY, run_query
from dispute_kg.query.catalog import Catalog
from dispute_kg.rdf.namespaces import ID

ISLANDS = {"Iturup", "Kunashir", "Shikotan", "Habomai"}  # "Japan lays claims to the Iturup, Kunashir, ..."


def labels(rows, column):
    return [r[column] for r in rows]


def split(value):
    return set(value.split("; ")) if value else set()


# -- claims ------------------------------------------------------------------------------------
def test_claims_of_japan_are_exactly_the_four_islands(kg) -> None:
    rows = kg.run("claims", state="Japan")
    assert sorted(labels(rows, "territoryLabel")) == sorted(ISLANDS)
    for row in rows:
        assert row["claimant"] == ID + "state/japan"
        assert row["basisLabel"] == "1855 bilateral treaty on trade and borders"
        assert row["nameUsed"] == "Northern Territories"
        assert '"Northern Territories,"' in ARTICLE and row["quote"] in ARTICLE
        assert row["quote"].startswith("Japan lays claims to the Iturup, Kunashir, Shikotan and Habomai islands")


def test_claims_without_a_state_include_russias_assertion_of_sovereignty(kg) -> None:
    rows = kg.run("claims")
    assert {(r["claimantLabel"], r["territoryLabel"]) for r in rows} == {
        (s, t) for s in ("Japan", "Russia") for t in ISLANDS}
    russia = [r for r in rows if r["claimantLabel"] == "Russia"]
    assert all(r["basis"] is None and "is undisputed" in r["quote"] for r in russia)


def test_claims_by_the_soviet_union_are_none(kg) -> None:
    assert kg.run("claims", state="USSR") == []


# -- disputed-territories ---------------------------------------------------------------------
def test_disputed_territories_are_the_four_islands_with_both_claimants(kg) -> None:
    rows = kg.run("disputed-territories")
    assert set(labels(rows, "territoryLabel")) == ISLANDS
    for island in ISLANDS:
        claimants = {r["actorLabel"] for r in rows if r["territoryLabel"] == island and r["role"] == "claims"}
        assert claimants == {"Japan", "Russia"}
        # "... the islands, which became part of the USSR after World War 2"
        assert {r["actorLabel"] for r in rows if r["territoryLabel"] == island
                and r["role"] == "received the territory"} == {"Soviet Union"}
    # Okinawa is not disputed between the parties
    assert "Okinawa" not in labels(rows, "territoryLabel")


# -- agreements --------------------------------------------------------------------------------
def test_agreements(kg) -> None:
    rows = {r["agreement"].rsplit("/", 1)[1]: r for r in kg.run("agreements")}
    assert set(rows) == {"1855-treaty-on-trade-and-borders", "1956-soviet-japanese-joint-declaration",
                         "2018-singapore-agreements", "2018-agreement-to-speed-up-negotiations",
                         "japan-russia-peace-treaty"}
    decl = rows["1956-soviet-japanese-joint-declaration"]
    # "the Soviet-Japanese Joint Declaration signed on October 19, 1956"
    assert (decl["date"], decl["precision"], decl["status"]) == (dt.date(1956, 10, 19), "day", "signed")
    assert split(decl["parties"]) == {"Soviet Union", "Japan"}
    assert split(decl["territories"]) == ISLANDS
    assert (rows["1855-treaty-on-trade-and-borders"]["date"], rows["1855-treaty-on-trade-and-borders"]["precision"]
            ) == ("1855", "year")
    # "Subsequent negotiations never resulted in a peace treaty."
    treaty = rows["japan-russia-peace-treaty"]
    assert treaty["status"] == "never concluded" and treaty["date"] is None
    assert rows["2018-singapore-agreements"]["date"] == "2018"
    # ordered by date, undated last
    assert [r["agreement"] for r in kg.run("agreements")][-1].endswith("japan-russia-peace-treaty")


def test_agreements_by_party(kg) -> None:
    assert labels(kg.run("agreements", party="USSR"), "agreementLabel") == ["Soviet-Japanese Joint Declaration"]
    assert set(labels(kg.run("agreements", party="Russia"), "agreementLabel")) == {
        "2018 Singapore agreements", "2018 agreement to speed up peace treaty negotiations",
        "Japan-Russia peace treaty"}
    assert len(kg.run("agreements", party="Japan")) == 5


# -- agreement-provisions ----------------------------------------------------------------------
def test_1956_declaration_provides_for_habomai_and_shikotan_after_a_peace_treaty(kg) -> None:
    rows = kg.run("agreement-provisions", agreement="Soviet-Japanese Joint Declaration")
    provided = [r for r in rows if r["relation"] == "provides for"]
    assert sorted(labels(provided, "territoryLabel")) == ["Habomai", "Shikotan"]
    for r in provided:
        assert r["condition"] == "after the conclusion of a peace treaty"
        assert r["conditionalOnLabel"] == "Japan-Russia peace treaty"
        assert (r["obligedParty"], r["beneficiary"]) == ("Soviet Union", "Japan")
    # "The fate of Kunashir and Iturup was not addressed in the document."
    assert sorted(labels([r for r in rows if r["relation"] == "leaves unaddressed"], "territoryLabel")) == [
        "Iturup", "Kunashir"]
    assert len(rows) == 4
    # alias and CURIE give the same answer
    assert kg.run("agreement-provisions", agreement="Joint Declaration of 1956") == rows
    assert kg.run("agreement-provisions", agreement="id:agreement/1956-soviet-japanese-joint-declaration") == rows


def test_2018_agreement_speeds_up_negotiations(kg) -> None:
    rows = kg.run("agreement-provisions", agreement="id:agreement/2018-agreement-to-speed-up-negotiations")
    assert len(rows) == 1 and rows[0]["territory"] is None
    assert "speed up negotiations on the peace treaty" in rows[0]["provides"]


# -- positions ---------------------------------------------------------------------------------
def test_positions_holders_and_stances(kg) -> None:
    rows = kg.run("positions")
    holders = {r["holderLabel"] for r in rows}
    assert holders == {"Japan", "Japanese government", "Russia", "Soviet Union", "United States", "observers"}
    us = [r for r in rows if r["holderLabel"] == "United States"]
    assert len(us) == 1 and split(us[0]["stanceKind"]) == {"opposition", "threat"}
    assert "Okinawa" in us[0]["stance"]
    for r in rows:
        if r["quote"]:
            assert r["quote"] in ARTICLE and r["speakerLabel"] == "Hirokazu Matsuno"
            assert r["date"] == dt.date(2021, 10, 18) and r["anchor"] == "voiced on"


def test_positions_of_japan_include_its_government(kg) -> None:
    rows = kg.run("positions", holder="Japan")
    assert {r["holderLabel"] for r in rows} == {"Japan", "Japanese government"}
    assert all(r["holder"] != ID + "state/soviet-union" for r in rows)


def test_positions_by_date(kg) -> None:
    # held after the 1956 signing: Japan's "only part of the solution" and the Soviet hope
    before = {r["position"].rsplit("/", 1)[1] for r in kg.run("positions", before="2000-01-01")}
    assert before == {"japan-declaration-only-part-of-solution", "soviet-union-hoped-declaration-ends-dispute"}
    after = kg.run("positions", after="2021-01-01")
    assert after and all(r["date"] == dt.date(2021, 10, 18) for r in after)
    assert kg.run("positions", before="1900-01-01") == []


# -- statements --------------------------------------------------------------------------------
def test_statements_are_matsunos_on_18_october_2021(kg) -> None:
    rows = kg.run("statements", speaker="Matsuno")
    assert len(rows) == 4 and rows == kg.run("statements")
    for r in rows:
        assert r["speakerLabel"] == "Hirokazu Matsuno"
        assert r["office"] == "Chief Cabinet Secretary of Japan"
        assert r["date"] == dt.date(2021, 10, 18) and r["placeLabel"] == "Tokyo"
        assert r["quote"] in ARTICLE
    assert kg.run("statements", speaker="Japan") == []


# -- timeline ----------------------------------------------------------------------------------
def test_timeline_runs_from_1855_to_18_october_2021(kg) -> None:
    rows = kg.run("timeline")
    assert (rows[0]["date"], rows[0]["precision"]) == ("1855", "year")
    assert (rows[-1]["date"], rows[-1]["precision"]) == (dt.date(2021, 10, 18), "day")
    assert [str(r["date"])[:4] for r in rows] == ["1855", "1956", "2018", "2018", "2021"]
    assert rows[1]["agreementLabel"] == "Soviet-Japanese Joint Declaration" and rows[1]["precision"] == "day"


def test_timeline_range(kg) -> None:
    assert [str(r["date"]) for r in kg.run("timeline", **{"from": "1900-01-01", "to": "2018-06-30"})] == [
        "1956-10-19", "2018", "2018"]
    assert [str(r["date"]) for r in kg.run("timeline", **{"from": "2018-12-31"})] == ["2018", "2018", "2021-10-18"]
    assert kg.run("timeline", to="1800-01-01") == []


# -- provenance --------------------------------------------------------------------------------
def test_provenance_gives_exact_spans_of_the_article(kg) -> None:
    rows = kg.run("provenance", subject="Shikotan")
    assert rows
    assertions = {r["assertion"].rsplit("/", 2)[-2] for r in rows}
    assert {"claim", "provision", "territory"} <= assertions
    for r in rows:
        if r["exact"] is not None:
            assert ARTICLE[r["start"]:r["end"]] == r["exact"]
            assert r["source"] == ID + "source/urdupoint-2021-10-18"
    transfer = [r for r in rows if r["assertion"].endswith("1956-consider-transfer-of-habomai-and-shikotan")]
    assert any("transferring the Habomai and Shikotan islands" in r["exact"] for r in transfer)


def test_provenance_of_background_knowledge(kg) -> None:
    rows = kg.run("provenance", subject="Russian Empire")
    assert any(r["source"] == ID + "source/background-knowledge" and r["exact"] is None for r in rows)


# -- sources -----------------------------------------------------------------------------------
def test_sources(kg) -> None:
    import hashlib

    import rdflib

    rows = {r["source"]: r for r in kg.run("sources")}
    article = rows[ID + "source/urdupoint-2021-10-18"]
    assert article["sha256"] == hashlib.sha256(
        (ROOT / "data/sources/urdupoint-2021-10-18.txt").read_bytes()).hexdigest()
    assert article["publisher"] == "UrduPoint News" and article["issued"] == dt.date(2021, 10, 18)
    # count, independently: nodes in the assertion files derived from a selection of the article
    g = rdflib.Graph()
    for path in sorted((ROOT / "data").rglob("*.ttl")):
        g.parse(path)
    prov = rdflib.Namespace("http://www.w3.org/ns/prov#")
    oa = rdflib.Namespace("http://www.w3.org/ns/oa#")
    src = rdflib.URIRef(ID + "source/urdupoint-2021-10-18")
    expected = {s for s, o in g.subject_objects(prov.wasDerivedFrom) if (o, oa.hasSource, src) in g}
    assert article["assertions"] == len(expected)
    assert ID + "source/background-knowledge" in rows


# -- entity ------------------------------------------------------------------------------------
def test_entity_view_of_iturup(kg) -> None:
    rows = kg.run("entity", id="Etorofu")
    out = {(r["property"].rsplit("#", 1)[-1].rsplit("/", 1)[-1], r["value"]) for r in rows
           if r["direction"] == "out"}
    assert ("label", "Iturup") in out and ("altLabel", "Etorofu") in out
    types = {r["value"].rsplit("#", 1)[-1]: r["inferred"] for r in rows
             if r["direction"] == "out" and r["property"].endswith("#type")}
    assert types["Island"] is False and types["Place"] is True  # asserted and inferred
    incoming = {r["value"] for r in rows if r["direction"] == "in"}
    assert ID + "claim/japan-northern-territories" in incoming
    assert ID + "provision/1956-kunashir-and-iturup-not-addressed" in incoming


# -- hostile values ------------------------------------------------------------------------------
CATALOG = Catalog(sorted((ROOT / "queries").glob("*.rq")))
CASES = [(q.name, p.name) for q in CATALOG.all() for p in q.parameters]
HOSTILE = st.one_of(
    st.sampled_from(['"', "'", '"""', "}", "{", "} ; DROP ALL ; {", "\n", ">", "<", "Japan\n} DROP ALL {",
                     "Japan'; DROP ALL; #", "http://x/> } ; DROP ALL ; { <", "id:state/japan> } DROP ALL {",
                     "?__state_iri", "$x", "\\", "\u202e", "日本", "Ωμέγα", "\x00", "a" * 5000,
                     "2018-01-01\" } DROP ALL { \"", "https://w3id.org/dispute-kg/id/state/ünïcödé"]),
    st.text(min_size=0, max_size=60),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=2000),
)


def split_blocks(text: str, segments: list[str]) -> list[str] | None:
    """The blocks that make `text` out of `segments` joined by one block each, or None if it is not so."""
    if len(segments) == 1:
        return [] if text == segments[0] else None
    if not text.startswith(segments[0]):
        return None
    rest, start = text[len(segments[0]):], 0
    while (end := rest.find(segments[1], start)) >= 0:
        found = split_blocks(rest[end:], segments[1:])
        if found is not None:
            return [rest[:end], *found]
        start = end + 1
    return None


def assert_only_values_inserted(query, original: str, text: str, value: str, param_name: str,
                                given_names: set[str]) -> None:
    """`text` is the stored query with one block inserted just inside its WHERE brace (and inside the
    brace of each subquery that uses a parameter given, `given_names`), and each block, evaluated on its
    own, binds only the query's parameter variables, in one row: no value escaped the term it is written
    in. A value given as a full IRI or a date is bound as exactly that."""
    given = {p.variable for p in query.parameters if p.name in given_names}
    points = sorted({query.where_at, *(at for at, names in query.inner_at if given & set(names))})
    cuts = [0, *(at + 1 for at in points), len(original)]
    blocks = split_blocks(text, [original[a:b] for a, b in itertools.pairwise(cuts)])
    assert blocks and len(text) > len(original), text
    param = query.parameter(param_name)
    for block in blocks:
        solutions = ox.Store().query(f"SELECT * WHERE {{{block}}}")
        names = {v.value for v in solutions.variables}
        rows = list(solutions)
        assert len(rows) == 1 and names <= {p.variable for p in query.parameters}, block
        if param.variable not in names:
            continue
        term = rows[0][param.variable]
        if param.type == "xsd:date":
            assert term == ox.Literal(value, datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))
        elif param.type == "iri" and value.startswith(("http://", "https://")):
            assert term == ox.NamedNode(value)
    assert param.variable in {v.value for v in ox.Store().query(f"SELECT * WHERE {{{blocks[0]}}}").variables}


class Spy:
    """A store wrapper that records every query text it is given."""

    def __init__(self, store) -> None:
        self.store, self.texts = store, []

    def query(self, sparql, bindings=None, **kw):
        self.texts.append(sparql)
        return self.store.query(sparql, bindings, **kw)


@pytest.mark.parametrize(("query_name", "param_name"), CASES)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                 HealthCheck.too_slow])
@given(value=HOSTILE)
def test_hostile_values_never_change_a_query_nor_write(kg, query_name, param_name, value) -> None:
    query = CATALOG.get(query_name)
    original = (ROOT / "queries" / f"{query_name}.rq").read_text(encoding="utf-8")
    before = kg.store.count()
    spy = Spy(kg.store)
    params = {p.name: p.example for p in query.parameters if p.required}
    params[param_name] = value
    try:
        result = run_query(spy, query, params)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc).split(": ", 1)[0]
        result = None
    assert query.text == original
    for text in spy.texts:
        if text in (original, LABEL_QUERY, CLASS_LABEL_QUERY, ALL_LABELS_QUERY):
            continue
        assert_only_values_inserted(query, original, text, value if param_name in params else None, param_name,
                                    set(params))
    assert kg.store.count() == before
    if result is not None:
        # Only IRI parameters accept such values (as an IRI that names nothing here): nothing matches.
        assert query.parameter(param_name).type == "iri"
        assert result.rows == [], f"{query_name} -p {param_name}={value!r} matched {result.rows[:1]}"
