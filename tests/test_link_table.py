"""A table of new entities and what `link` must do with each, against a real `oxigraph serve` loaded with
the shipped snapshot plus made-up items: islands that share their names with rivers, villages, oblasts
and prefectures, and names that differ only in case, in a generic word or in language.

TEST DATA ONLY: items and the two test classes are Q999xxxxxxxx, far outside Wikidata's range. Real
identifiers used: the states of the shipped snapshot (Q17 Japan, Q159 Russia) and the verified classes
island Q23442, archipelago Q33837, village Q532 and prefecture of Japan Q50337 (docs/wikidata-evidence.md).
"""

from __future__ import annotations

import json

import pytest
from conftest import ROOT, run_cli
from hypothesis import given, settings
from hypothesis import strategies as st
from servers import oxigraph_process

from dispute_kg import links as wd

ID = "https://w3id.org/dispute-kg/id/"

ITEMS = """
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix schema: <http://schema.org/> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .

wd:Q99900000901 rdfs:label "river (test class)"@en .
wd:Q99900000902 rdfs:label "oblast (test class)"@en .
wd:Q99900000903 rdfs:label "state (test item)"@en .

# "Moneron" here, "Moneron Island" there
wd:Q99900000101 rdfs:label "Moneron Island"@en ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
# case only
wd:Q99900000102 rdfs:label "tyuleniy"@en ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
# only a Russian label, which our entity has too
wd:Q99900000103 rdfs:label "Островной"@ru ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
# an island, a river and a village of one name
wd:Q99900000104 rdfs:label "Krasny"@en ; schema:description "test island"@en ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
wd:Q99900000105 rdfs:label "Krasny"@en ; schema:description "test river"@en ; wdt:P31 wd:Q99900000901 ;
    wdt:P17 wd:Q159 .
wd:Q99900000106 rdfs:label "Krasny"@en ; schema:description "test village"@en ; wdt:P31 wd:Q532 ; wdt:P17 wd:Q159 .
# only an oblast of that name
wd:Q99900000107 rdfs:label "Sakhalinka Oblast"@en ; wdt:P31 wd:Q99900000902 ; wdt:P17 wd:Q159 .
# a prefecture and an island; the island near Japan
wd:Q99900000108 rdfs:label "Hokuto Prefecture"@en ; wdt:P31 wd:Q50337 ; wdt:P17 wd:Q17 .
wd:Q99900000109 rdfs:label "Hokuto Island"@en ; wdt:P31 wd:Q23442 ; wdt:P625 "Point(139.0 37.5)"^^geo:wktLiteral .
# same name, far away and in another state
wd:Q99900000110 rdfs:label "Lakeisle"@en ; wdt:P31 wd:Q33837 ; wdt:P17 wd:Q99900000903 ;
    wdt:P625 "Point(-69.3 -15.9)"^^geo:wktLiteral .
# same name, nothing around it
wd:Q99900000111 rdfs:label "Quietrock"@en ; wdt:P31 wd:Q23442 .
# two islands of one name in the same state
wd:Q99900000112 rdfs:label "Twinrock"@en ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
wd:Q99900000113 rdfs:label "Twinrock"@en ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q159 .
# an alias in Japanese only
wd:Q99900000114 rdfs:label "Kita-test"@en ; skos:altLabel "北テスト島"@ja ; wdt:P31 wd:Q23442 ; wdt:P17 wd:Q17 .
"""

ENTITIES = """
@prefix dk: <https://w3id.org/dispute-kg/def#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix ter: <https://w3id.org/dispute-kg/id/territory/> .
@prefix st: <https://w3id.org/dispute-kg/id/state/> .
@prefix cl: <https://w3id.org/dispute-kg/id/claim/> .

cl:test-claim a dk:Claim ; rdfs:label "a test claim"@en ;
    dk:claimant st:russian-federation ;
    dk:claimedTerritory ter:t-moneron, ter:t-tyuleniy, ter:t-ostrovnoy,
        ter:t-krasny, ter:t-sakhalinka, ter:t-lakeisle, ter:t-quietrock,
        ter:t-twinrock, ter:t-nowhere .
cl:test-claim-japan a dk:Claim ; rdfs:label "another test claim"@en ;
    dk:claimant st:japan ; dk:claimedTerritory ter:t-hokuto, ter:t-kita .

ter:t-moneron a dk:Island ; rdfs:label "Moneron"@en .
ter:t-tyuleniy a dk:Island ; rdfs:label "Tyuleniy"@en .
ter:t-ostrovnoy a dk:Island ; rdfs:label "Ostrovnoy"@en, "Островной"@ru .
ter:t-krasny a dk:Island ; rdfs:label "Krasny"@en .
ter:t-sakhalinka a dk:Island ; rdfs:label "Sakhalinka"@en .
ter:t-hokuto a dk:Island ; rdfs:label "Hokuto"@en .
ter:t-lakeisle a dk:IslandGroup ; rdfs:label "Lakeisle"@en .
ter:t-quietrock a dk:Island ; rdfs:label "Quietrock"@en .
ter:t-twinrock a dk:Island ; rdfs:label "Twinrock"@en .
ter:t-nowhere a dk:Island ; rdfs:label "Nowhere Reef"@en .
ter:t-kita a dk:Island ; rdfs:label "Kita"@en ; skos:altLabel "北テスト島"@ja .
"""

# entity -> (expected outcome, the item linked or the candidates kept)
TABLE = {
    "territory/t-moneron": ("linked", ["Q99900000101"]),  # generic word "Island" set aside
    "territory/t-tyuleniy": ("linked", ["Q99900000102"]),  # case set aside
    "territory/t-ostrovnoy": ("linked", ["Q99900000103"]),  # found by its Russian label
    "territory/t-krasny": ("linked", ["Q99900000104"]),  # the island, not the river or the village
    "territory/t-sakhalinka": ("none", []),  # only an oblast has the name: no candidate of a fitting type
    "territory/t-hokuto": ("linked", ["Q99900000109"]),  # the island near Japan, not the prefecture
    "territory/t-lakeisle": ("candidates", ["Q99900000110"]),  # far away, another state: context conflicts
    "territory/t-quietrock": ("candidates", ["Q99900000111"]),  # nothing confirms it: context unknown
    "territory/t-twinrock": ("candidates", ["Q99900000112", "Q99900000113"]),  # two equal: ambiguous
    "territory/t-nowhere": ("none", []),  # no item of that name
    "territory/t-kita": ("linked", ["Q99900000114"]),  # a Japanese alias on both sides
}


@pytest.fixture(scope="module")
def endpoint_url(tmp_path_factory):
    snapshot = (ROOT / wd.SNAPSHOT_FILE).read_text(encoding="utf-8")
    with oxigraph_process(tmp_path_factory.mktemp("ox"), turtle=(snapshot, ITEMS)) as base:
        yield base + "/query"


def test_every_row_of_the_table_holds(endpoint_url, project_copy):
    (project_copy / "data" / "assertions" / "test-islands.ttl").write_text(ENTITIES, encoding="utf-8")
    res = run_cli("--project", str(project_copy), "link", "--endpoint", endpoint_url, "--format", "json")
    assert res.returncode == 0, res.stderr
    outcomes = {o["entity"][len(ID):]: o for o in json.loads(res.stdout)["outcomes"]}
    records = {r.subject[len(ID):]: r for r in wd.read_links(project_copy / wd.LINKS_FILE)}
    got = {}
    for slug in TABLE:
        rec = records[slug]
        if not rec.pending:
            got[slug] = ("linked", [wd.qid(rec.object)])
        elif rec.candidates:
            got[slug] = ("candidates", sorted(wd.qid(c.object) for c in rec.candidates))
        else:
            got[slug] = ("none", [])
    assert got == TABLE, {s: outcomes[s]["reason"] for s in TABLE if got[s] != TABLE[s]}
    # each outcome says why, in the words a curator needs
    assert "ambiguous" in outcomes["territory/t-twinrock"]["reason"]
    assert "conflicts" in outcomes["territory/t-lakeisle"]["reason"]
    assert "unknown" in outcomes["territory/t-quietrock"]["reason"]
    assert "none of a compatible type" in outcomes["territory/t-sakhalinka"]["reason"]
    assert {c["id"] for c in outcomes["territory/t-krasny"]["rejected_on_type"]} == {"Q99900000105", "Q99900000106"}
    assert {c["id"] for c in outcomes["territory/t-hokuto"]["rejected_on_type"]} == {"Q99900000108"}
    # and the shipped links are still there, unchanged
    shipped = {r.subject: r.object for r in wd.read_links(ROOT / wd.LINKS_FILE) if not r.pending}
    assert {ID + s: r.object for s, r in records.items() if not r.pending and s in
            {k[len(ID):] for k in shipped}} == shipped


@pytest.mark.parametrize("ours, theirs, agree", [
    ("Moneron", "Moneron Island", True),
    ("Tyuleniy", "tyuleniy", True),
    ("Habomai", "Habomai Islands", True),
    ("Sakhalin", "Sakhalin Oblast", True),
    ("Okinawa", "Okinawa Prefecture", True),  # names agree; the type map is what tells them apart
    ("Kunashir", "Kunashiri", True),
    ("São Tomé", "Sao Tome", True),
    ("Iturup", "Итуруп", False),  # another script: only a label in that language can match
    ("Shikotan", "Shakotan", False),
    ("Japan", "United States", False),
    ("Island", "Island of Man", False),
])
def test_name_agreement(ours, theirs, agree):
    from dispute_kg.links.names import NAME_AGREES, similarity

    assert (similarity([ours], [theirs])[0] >= NAME_AGREES) is agree


def test_lookup_variants_stay_exact_literals():
    from dispute_kg.links.names import Name, variants

    spelled = {(n.text, n.lang) for n in variants([Name("Moneron Island", "en"), Name("Итуруп", "ru")])}
    assert {("Moneron", "en"), ("moneron island", "ja"), ("Moneron Islands", "ru"), ("Итуруп", "ru")} <= spelled
    assert all(lang in ("en", "ja", "ru") for _, lang in spelled)


@settings(max_examples=150, deadline=None)
@given(st.text(min_size=1, max_size=40).filter(lambda t: t.strip()))
def test_any_name_is_looked_up_as_itself(name):
    """Whatever a label holds (quotes, braces, backslashes, control characters, other scripts), the
    lookup sends it as a literal: it finds the item with exactly that label, and nothing breaks the query."""
    import pyoxigraph as ox

    from dispute_kg.links.names import Name, core, fold
    from dispute_kg.links.reconcile import lookup_query

    store = ox.Store()
    item = ox.NamedNode(wd.WD + "Q99900000001")
    label = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
    store.add(ox.Quad(item, label, ox.Literal(name, language="en")))
    rows = list(store.query(lookup_query([Name(name, "en")])))
    assert [r["item"] for r in rows] == [item]
    assert isinstance(fold(name), str) and isinstance(core(name), str)
