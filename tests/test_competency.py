"""The competency questions of the foundation issue, answered from the shipped graph with SPARQL.

Expected values are taken from the article's words (checked to occur in the text), not from output.
"""

from __future__ import annotations

import pytest
from conftest import ARTICLE

P = """PREFIX dk: <https://w3id.org/dispute-kg/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX org: <http://www.w3.org/ns/org#>
"""


def values(kg, query: str, var: str) -> list[str]:
    return [row[var]["value"] for row in kg.sparql(P + query).rows if var in row]


def labels(kg, query: str, var: str = "label") -> set[str]:
    return set(values(kg, query, var))


@pytest.mark.parametrize("word", ["Iturup", "Kunashir", "Shikotan", "Habomai", "Kuril Islands", "Northern Territories",
                                  "1855", "October 19, 1956", "Chief Cabinet Secretary Hirokazu Matsuno",
                                  "press conference in Tokyo", "18th October, 2021", "undisputed"])
def test_expected_values_are_the_articles_words(word):
    assert word in ARTICLE


def test_territories_japan_claims_are_exactly_the_four_islands(kg):
    got = labels(kg, """SELECT ?label WHERE { ?c a dk:Claim ; dk:claimant ?japan ; dk:claimKind dk:TerritorialClaim ;
        dk:claimedTerritory ?t . ?japan rdfs:label "Japan"@en . ?t rdfs:label ?label }""")
    assert got == {"Iturup", "Kunashir", "Shikotan", "Habomai"}


def test_the_claimed_islands_belong_to_the_kuril_chain(kg):
    got = labels(kg, """SELECT DISTINCT ?label WHERE { ?c dk:claimedTerritory ?t . ?t dk:partOf ?chain .
        ?chain rdfs:label ?label }""")
    # "in Russia's Kuril Islands chain", "which Tokyo refer to as its Northern Territories"
    assert got == {"Kuril Islands", "Northern Territories"}


def test_the_name_japan_uses_for_them(kg):
    assert values(kg, "SELECT ?n WHERE { ?c a dk:Claim ; dk:nameUsed ?n }", "n") == ["Northern Territories"]


def test_who_asserts_undisputed_sovereignty(kg):
    got = labels(kg, """SELECT ?label WHERE { ?c dk:claimKind dk:UndisputedSovereignty ; dk:claimant ?s .
        ?s rdfs:label ?label }""")
    assert got == {"Russia"}


def test_basis_japan_cites(kg):
    rows = kg.sparql(P + """SELECT ?label ?subject ?year WHERE {
        ?c dk:claimant/rdfs:label "Japan"@en ; dk:citesBasis ?a .
        ?a rdfs:label ?label ; dk:subjectMatter ?subject . ?e dk:concludes ?a ; dk:date ?year }""").rows
    assert [(r["label"]["value"], r["subject"]["value"], r["year"]["value"]) for r in rows] == [
        ("1855 bilateral treaty on trade and borders", "trade and borders", "1855")]
    assert rows[0]["year"]["datatype"].endswith("#gYear")


def test_1956_declaration_signing_date_and_parties(kg):
    rows = kg.sparql(P + """SELECT ?date (GROUP_CONCAT(?party; separator="|") AS ?parties) WHERE {
        ?d a dk:JointDeclaration ; dk:concludedIn ?s . ?s a dk:Signing ; dk:date ?date .
        ?d dk:party/rdfs:label ?party } GROUP BY ?date""").rows
    assert len(rows) == 1
    assert rows[0]["date"]["value"] == "1956-10-19"
    assert rows[0]["date"]["datatype"].endswith("#date")
    assert set(rows[0]["parties"]["value"].split("|")) == {"Soviet Union", "Japan"}


def test_1956_provision_islands_and_condition(kg):
    rows = kg.sparql(P + """SELECT ?island ?obliged ?beneficiary ?condition ?treaty WHERE {
        ?p dk:provisionOf ?d ; dk:provisionKind dk:ConsiderTransfer ; dk:provisionTerritory/rdfs:label ?island ;
           dk:obligedParty/rdfs:label ?obliged ; dk:beneficiary/rdfs:label ?beneficiary ; dk:condition ?condition ;
           dk:conditionalOn ?t . ?t a dk:PeaceTreaty ; rdfs:label ?treaty . ?d a dk:JointDeclaration }""").rows
    assert {r["island"]["value"] for r in rows} == {"Habomai", "Shikotan"}
    assert {(r["obliged"]["value"], r["beneficiary"]["value"], r["condition"]["value"]) for r in rows} == {
        ("Soviet Union", "Japan", "after the conclusion of a peace treaty")}
    assert "after the conclusion of a peace treaty" in ARTICLE


def test_1956_declaration_leaves_kunashir_and_iturup_unaddressed(kg):
    got = labels(kg, "SELECT ?label WHERE { ?p dk:leavesUnaddressed/rdfs:label ?label }")
    assert got == {"Kunashir", "Iturup"}


def test_who_made_the_2021_statements_in_what_office_where_and_when(kg):
    rows = kg.sparql(P + """SELECT DISTINCT ?speaker ?office ?place ?date WHERE {
        ?s a dk:Statement ; dk:speaker/rdfs:label ?speaker ; dk:speakerOffice ?o ; dk:venue ?v .
        ?o rdfs:label ?office . ?v dk:place/rdfs:label ?place ; dk:date ?date }""").rows
    assert [(r["speaker"]["value"], r["office"]["value"], r["place"]["value"], r["date"]["value"]) for r in rows] == [
        ("Hirokazu Matsuno", "Chief Cabinet Secretary of Japan", "Tokyo", "2021-10-18")]
    count = kg.sparql(P + "SELECT (COUNT(*) AS ?n) WHERE { ?s a dk:Statement }").rows[0]["n"]["value"]
    assert int(count) == 4  # two reported ("said on Monday", "He stressed") and two quoted passages


def test_the_peace_treaty_was_never_concluded(kg):
    rows = kg.sparql(P + """SELECT ?t ?signing WHERE { ?t a dk:PeaceTreaty ; dk:agreementStatus dk:NeverConcluded .
        OPTIONAL { ?signing dk:concludes ?t } }""").rows
    assert len(rows) == 1 and "signing" not in rows[0]
    assert "the treaty was never signed" in ARTICLE


def test_views_are_positions_held_by_someone(kg):
    holders = labels(kg, "SELECT DISTINCT ?label WHERE { ?p a dk:Position ; dk:holder/rdfs:label ?label }")
    assert holders == {"Japanese government", "Japan", "Russia", "Soviet Union", "United States", "observers"}


def test_undated_event_is_placed_relative_to_world_war_2(kg):
    rows = kg.sparql(P + """SELECT ?date ?war WHERE {
        ?e a dk:TerritorialChange ; dk:toState/rdfs:label "Soviet Union"@en ;
        dk:after/rdfs:label ?war . OPTIONAL { ?e dk:date ?date } }""").rows
    assert [r["war"]["value"] for r in rows] == ["World War 2"] and "date" not in rows[0]


def test_states_are_distinct_over_time_and_linked_by_succession(kg):
    rows = kg.sparql(P + """SELECT ?a ?b WHERE { ?x dk:succeeds ?y . ?x rdfs:label ?a . ?y rdfs:label ?b }
        ORDER BY ?a""").rows
    assert [(r["a"]["value"], r["b"]["value"]) for r in rows] == [("Russia", "Soviet Union"),
                                                                   ("Soviet Union", "Russian Empire")]


def test_background_knowledge_is_kept_apart(kg):
    rows = kg.sparql(P + """SELECT ?g WHERE {
        GRAPH ?g { ?e dk:participant ?s . ?s rdfs:label "Russian Empire"@en } }""")
    assert {r["g"]["value"] for r in rows.rows} == {
        "https://w3id.org/dispute-kg/graph/data/assertions/background.ttl"}
