"""The web pages, in-process through `server.call`: each page's HTML and its `?_format=json` form."""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import urllib.parse

import pytest
from conftest import ARTICLE

from dispute_kg.http.server import call, make_app
from dispute_kg.http.web import install

HTML = {"Accept": "text/html,application/xhtml+xml"}
SOURCE = "urdupoint-2021-10-18"
ISLANDS = ("Habomai", "Iturup", "Kunashir", "Shikotan")


@pytest.fixture(scope="module")
def app(kg):
    return install(make_app(kg))


def get(app, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], str]:
    status, hdrs, body = call(app, path, headers=headers or HTML)
    return status, hdrs, body.decode("utf-8")


def page(app, path: str) -> str:
    status, hdrs, body = get(app, path)
    assert status == 200, body
    assert hdrs["Content-Type"] == "text/html; charset=utf-8"
    return body


def data(app, path: str) -> dict:
    sep = "&" if "?" in path else "?"
    status, hdrs, body = get(app, path + sep + "_format=json")
    assert status == 200, body
    assert hdrs["Content-Type"].startswith("application/json")
    return json.loads(body)


def text_of(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


PAGES = ["/", "/query/claims?state=Japan", "/entity/territory/iturup", f"/source/{SOURCE}", "/sources",
         "/timeline", "/map", "/sparql-editor"]


# -- routing ---------------------------------------------------------------------------------------
def test_pages_come_first_and_the_json_index_stays_reachable(kg):
    app = make_app(kg)
    routes = list(app.routes)
    install(app)  # make_app installed the pages already; a second install changes nothing
    assert app.routes == routes
    patterns = [p.pattern for _, p, _ in app.routes]
    assert patterns.count(r"/\Z") == 2 and patterns.index(r"/\Z") == 0
    status, hdrs, body = get(app, "/")
    assert status == 200 and hdrs["Content-Type"].startswith("text/html")
    for accept in ("application/json", "*/*"):
        status, hdrs, body = get(app, "/", {"Accept": accept})
        if accept == "application/json":
            assert hdrs["Content-Type"].startswith("application/json")
            index = json.loads(body)
            assert (index["sparql"], index["queries"], index["openapi"]) == ("/sparql", "/api/queries",
                                                                           "/openapi.json")
    assert data(app, "/")["read_only"] is True
    status, _, body = get(app, "/api/queries/claims?state=Japan&_format=json", {"Accept": "*/*"})
    assert status == 200 and len(json.loads(body)["results"]["bindings"]) == 4


@pytest.mark.parametrize("path", PAGES)
def test_every_page_is_accessible_html_with_a_json_form(app, path):
    body = page(app, path)
    assert body.startswith("<!doctype html>") and '<html lang="en">' in body
    assert '<a class="skip-link" href="#main">' in body and '<main id="main"' in body
    assert '<nav aria-label="Main">' in body and "<footer" in body
    assert 'rel="stylesheet" href="/static/style.css"' in body and 'src="/static/app.js"' in body
    assert "http://" not in re.sub(r'(href|data-[a-z]+)="[^"]*"', "", body).split("<main", 1)[0]  # no CDN
    assert 'type="application/json" href="' in body  # the JSON form is linked
    _, hdrs, _ = get(app, path)
    assert "script-src 'self'" in hdrs["Content-Security-Policy"]
    assert isinstance(data(app, path), dict)


def test_static_assets_are_served_locally(app):
    for name, ctype in (("style.css", "text/css"), ("app.js", "text/javascript"), ("favicon.svg", "image/svg+xml")):
        status, hdrs, body = get(app, f"/static/{name}")
        assert status == 200 and hdrs["Content-Type"].startswith(ctype) and body
    assert get(app, "/static/missing.css")[0] == 404
    assert get(app, "/static/..%2Fserver.py")[0] == 404


# -- home and stored queries -----------------------------------------------------------------------
def test_home_shows_what_the_graph_holds_and_a_form_per_stored_query(app, kg):
    body = page(app, "/")
    d = data(app, "/")
    assert d["counts"]["claims"] == 2 and d["counts"]["selections"] == 63
    assert d["counts"]["triples_inferred"] > 0
    assert f'<dd>{d["counts"]["assertions"]}</dd>' in body
    source = next(s for s in d["sources"] if s["view"])
    assert source["view"] == f"/source/{SOURCE}" and f'href="/source/{SOURCE}"' in body
    classes = {c["label"]: c for c in d["classes"]}
    assert {e["label"] for e in classes["island"]["entities"]} == {"Iturup", "Kunashir", "Shikotan"}
    assert classes["state"]["count"] == 5
    assert d["last_addition"] is None and "No additions yet" in body
    names = [q.name for q in kg.queries()]
    assert [q["name"] for q in d["stored_queries"]] == names
    for q in kg.queries():
        assert f'data-query="{q.name}"' in body and html.escape(q.summary) in body
        for p in q.parameters:
            assert f'id="q-{q.name}-{p.name}" name="{p.name}"' in body
    # IRI parameters get label suggestions restricted to the parameter's class
    assert re.search(r'id="q-claims-state"[^>]*list="labels-dk-Actor"', body)
    actors = re.search(r'<datalist id="labels-dk-Actor">(.*?)</datalist>', body).group(1)
    assert '<option value="Japan">' in actors and '<option value="USSR">' in actors
    assert '<option value="Iturup">' not in actors
    assert 'type="date"' in body  # xsd:date parameters


def test_query_page_runs_claims_for_japan(app):
    body = page(app, "/query/claims?state=Japan")
    d = data(app, "/query/claims?state=Japan")
    _, _, api = get(app, "/api/queries/claims?state=Japan&_format=json", {"Accept": "*/*"})
    assert d["result"]["results"]["bindings"] == json.loads(api)["results"]["bindings"]
    rows = re.findall(r"<tr>(.*?)</tr>", body.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
    assert len(rows) == 4
    for island, row in zip(ISLANDS, rows, strict=True):
        assert f'<a href="/entity/territory/{island.lower()}">{island}</a>' in row
        assert '<a href="/entity/state/japan">Japan</a>' in row
    assert d["cli"] == "dispute-kg query run claims -p state=Japan"
    assert html.escape(d["cli"]) in body
    assert d["downloads"]["csv"] == "/api/queries/claims?state=Japan&_format=csv"
    for fmt in ("csv", "tsv", "json", "xml"):
        assert f'href="/api/queries/claims?state=Japan&amp;_format={fmt}"' in body
    assert html.escape("?claim a dk:Claim") in body  # the SPARQL is shown
    assert 'value="Japan"' in body  # the form keeps what was asked
    status, _, csv = get(app, d["downloads"]["csv"], {"Accept": "*/*"})
    assert status == 200 and csv.count("\r\n") == 5


def test_query_page_reports_a_bad_label_and_escapes_it(app):
    status, _, body = get(app, "/query/claims?state=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 400
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body
    status, _, body = get(app, "/query/claims?state=Japn&_format=json")
    assert status == 400 and "candidates: Japan" in json.loads(body)["error"]
    assert get(app, "/query/nope")[0] == 400
    assert get(app, "/query/claims?colour=red")[0] == 400


def test_a_query_with_a_provenance_span_links_the_quote_to_the_source(app):
    body = page(app, "/query/provenance?subject=Shikotan")
    assert f'<a href="/source/{SOURCE}#span-488-570">' in body


# -- entity ----------------------------------------------------------------------------------------
def test_iturup_page_shows_claims_with_quotes_from_the_article(app):
    body = page(app, "/entity/territory/iturup")
    d = data(app, "/entity/territory/iturup")
    assert d["label"] == "Iturup" and d["aliases"] == ["Etorofu"]
    assert [t["label"] for t in d["types"]["asserted"]] == ["island"]
    assert "territory" in [t["label"] for t in d["types"]["inferred"]]
    assert re.search(r'class="chip inferred"[^>]*>.*?>territory</a>', body)
    claims = {c["label"]: c for c in d["claims"]}
    assert set(claims) == {"Japan's claim to the Northern Territories",
                           "Russia's assertion of undisputed sovereignty over the islands"}
    japan = claims["Japan's claim to the Northern Territories"]
    assert "claimed territory" in [r["label"] for r in japan["roles"]]
    assert japan["quotes"][0]["view"] == f"/source/{SOURCE}#span-467-678"
    for group in ("claims", "positions", "provisions", "statements"):
        assert d[group], group
        for a in d[group]:
            assert a["quotes"], a["label"]
            for q in a["quotes"]:
                assert ARTICLE[q["start"]:q["end"]] == q["exact"]  # an exact substring, where it says
                assert f'<blockquote>{html.escape(q["exact"])}</blockquote>' in body
                assert f'href="{html.escape(q["view"])}"' in body
            assert html.escape(a["label"]) in body
    assert "1956 declaration: fate of Kunashir and Iturup not addressed" in [p["label"] for p in d["provisions"]]
    # a statement is involved through the position it voices
    [statement] = d["statements"]
    assert statement["iri"].endswith("/statement/2021-10-18-matsuno-press-conference-quote")
    assert [r["label"] for r in statement["roles"]] == ["concerns territory of a position it voices"]
    assert d["wikidata"]["pending"] is True and "Iturup/Etorofu" in d["wikidata"]["comment"]
    assert "Pending review" in body and "Iturup/Etorofu" in body


def test_japan_page_shows_its_wikidata_link_with_the_confidence(app):
    body = page(app, "/entity/state/japan")
    d = data(app, "/entity/state/japan")
    wd = d["wikidata"]
    assert wd["item"] == "http://www.wikidata.org/entity/Q17" and wd["confidence"] == 1.0
    assert '<a href="http://www.wikidata.org/entity/Q17" rel="external noopener">Q17</a>' in body
    assert "<dt>confidence</dt><dd>1.00</dd>" in body
    assert [c["label"] for c in d["claims"]] == ["Japan's claim to the Northern Territories"]
    assert any(r["label"] == "claimant" for r in d["claims"][0]["roles"])
    assert d["mentions"][0]["view"] == f"/source/{SOURCE}#span-467-484"


def test_statements_appear_on_the_speakers_page(app):
    d = data(app, "/entity/person/hirokazu-matsuno")
    assert len(d["statements"]) == 4
    for s in d["statements"]:
        assert all(ARTICLE[q["start"]:q["end"]] == q["exact"] for q in s["quotes"])


def test_unknown_entities_are_404_in_html_and_json(app):
    status, _, body = get(app, "/entity/territory/atlantis")
    assert status == 404 and "id:territory/atlantis" in body and "<main" in body
    status, _, body = get(app, "/entity/territory/atlantis?_format=json")
    assert status == 404 and json.loads(body)["status"] == 404
    status, _, body = get(app, "/entity/%3Cimg%20src=x%3E")
    assert status == 404 and "<img" not in body.split("<main", 1)[1]


# -- source view -----------------------------------------------------------------------------------
def test_source_view_highlights_every_cited_span(app):
    body = page(app, f"/source/{SOURCE}")
    d = data(app, f"/source/{SOURCE}")
    assert d["text"] == ARTICLE and len(d["spans"]) == 63
    for s in d["spans"]:
        assert ARTICLE[s["start"]:s["end"]] == s["exact"]
        assert f'id="span-{s["key"]}"' in body
        marked = re.findall(rf'<mark class="[^"]*\bs-{s["key"]}\b[^"]*"[^>]*>(.*?)</mark>', body, re.S)
        assert html.unescape("".join(marked)) == s["exact"], s["key"]
        assert f'#span-{s["key"]}:target ~ .s-{s["key"]}' in body  # highlighted as a link target without JS
    span = next(s for s in d["spans"] if s["key"] == "467-484")
    assert [a["label"] for a in span["assertions"]] == ["Japan"]
    # nested spans: "Japan lays claims" lies inside the claim's span 467-678
    first = re.search(r'<mark class="([^"]*)"[^>]*>Japan lays claims</mark>', body)
    assert first and {"s-467-484", "s-467-678"} <= set(first.group(1).split())
    tag = re.search(r'<mark [^>]*>Japan lays claims</mark>', body).group(0)
    assert 'tabindex="0"' in tag and "Japan (state)" in html.unescape(tag)
    assert "Japan&#x27;s claim to the Northern Territories" in tag
    # the text is all there, in order, once
    article = body.split('<article class="source-text"', 1)[1].split(">", 1)[1].split("</article>", 1)[0]
    assert text_of(article) == ARTICLE


def test_source_view_marks_uncited_sentences(app, kg):
    d = data(app, f"/source/{SOURCE}")
    assert [s for s in d["sentences"] if s["is_title"]] and d["uncited"] == []
    from dispute_kg.http.web.source import segments

    fake = [{"start": 0, "end": 10, "text": "", "cited_by": [], "is_title": False}]
    segs = segments("Uncited.. and more", [], fake)
    assert segs[0]["sentence"] is fake[0] and segs[1]["sentence"] is None
    from dispute_kg.http.server import App
    from dispute_kg.http.web.source import source_render

    doc = {**d, "sentences": [{**s, "cited_by": []} if s["start"] == 2539 else s for s in d["sentences"]]}
    doc["uncited"] = [s for s in doc["sentences"] if s["start"] == 2539]
    out = source_render(App(kg), doc)
    assert re.search(r'class="cite [^"]*uncited', out) and "In 2018, Japan and Russia agreed" in out


def test_unknown_source_is_404(app):
    assert get(app, "/source/nope")[0] == 404
    assert data(app, "/sources")["sources"][-1]["view"] == f"/source/{SOURCE}"


# -- timeline --------------------------------------------------------------------------------------
def fractional(day: dt.date) -> float:
    start = dt.date(day.year, 1, 1)
    return day.year + (day - start).days / (dt.date(day.year + 1, 1, 1) - start).days


def test_timeline_draws_dates_to_scale_with_their_precision(app):
    body = page(app, "/timeline")
    d = data(app, "/timeline")
    scale = d["scale"]
    t0, t1 = int(scale["start"][:4]), int(scale["end"][:4])
    assert t0 <= 1855 and t1 >= 2022
    events = {e["date"]: e for e in d["events"]}
    assert events["1855"]["precision"] == "year" and events["1956-10-19"]["precision"] == "day"

    def x(day: dt.date) -> float:
        return scale["x0"] + (fractional(day) - t0) / (t1 - t0) * scale["width"]

    e1855, e1956 = events["1855"], events["1956-10-19"]
    assert e1855["x"] == pytest.approx(x(dt.date(1855, 1, 1)), abs=1e-3)
    assert e1855["x_end"] == pytest.approx(x(dt.date(1856, 1, 1)), abs=1e-3)  # a band for the whole year
    assert e1956["x"] == pytest.approx(x(dt.date(1956, 10, 19)), abs=1e-3)
    e2021 = events["2021-10-18"]
    ratio = (e1956["x"] - e1855["x"]) / (e2021["x"] - e1855["x"])
    elapsed = (fractional(dt.date(1956, 10, 19)) - 1855) / (fractional(dt.date(2021, 10, 18)) - 1855)
    assert ratio == pytest.approx(elapsed)
    # the SVG draws exactly those positions, linked to the entity pages
    assert f'<rect class="mark year" x="{e1855["x"]}"' in body and 'data-date="1855" data-precision="year"' in body
    assert f'<circle class="mark day" cx="{e1956["x"]}"' in body
    assert re.search(r'<a href="/entity/agreement/1956-soviet-japanese-joint-declaration" class="event"', body)
    assert "Soviet-Japanese Joint Declaration — 19 October 1956" in body
    assert "1855 bilateral treaty on trade and borders — 1855 (year)" in body
    assert "the islands become part of the USSR" in body  # listed, not drawn: no date
    assert {u["label"] for u in d["undated"]} >= {"the islands become part of the USSR", "World War 2"}


# -- map -------------------------------------------------------------------------------------------
def snapshot_points() -> dict[str, tuple[float, float]]:
    from conftest import ROOT

    text = (ROOT / "data/wikidata/snapshot.ttl").read_text(encoding="utf-8")
    out = {}
    for item, body in re.findall(r"^(wd:Q\d+) (.*?) \.$", text, re.M | re.S):
        m = re.search(r'wdt:P625 "Point\(([-\d.]+) ([-\d.]+)\)"', body)
        if m:
            out["http://www.wikidata.org/entity/" + item[3:]] = (float(m.group(1)), float(m.group(2)))
    return out


def test_map_places_only_what_the_snapshot_has(app):
    body = page(app, "/map")
    d = data(app, "/map")
    snap = snapshot_points()
    assert d["points"], "the snapshot has coordinates for some states"
    for p in d["points"]:
        assert snap[p["wikidata"]] == (p["lon"], p["lat"]), p  # never invented
        pr = d["projection"]
        assert p["x"] == pytest.approx((p["lon"] - pr["west"]) * pr["scale"], abs=0.01)
        assert p["y"] == pytest.approx((pr["north"] - p["lat"]) * pr["scale"], abs=0.01)
        assert f'data-entity="{p["entity"]}"' in body
    japan = next(p for p in d["points"] if p["label"] == "Japan")
    assert "claimant" in japan["roles"] and 'class="place claimant"' in body
    assert next(p for p in d["points"] if p["label"] == "Soviet Union")["roles"] == ["holder"]
    assert 'class="place holder"' in body
    missing = {m["label"]: m for m in d["missing"]}
    for island in ISLANDS:
        assert "PENDING REVIEW" in missing[island]["why"]
    assert "neither a capital (P36) nor a coordinate location" in missing["Russia"]["why"]
    assert "claimant</span>" in body and "holder</span>" in body  # the legend
    assert "No coordinates are invented" in body


# -- SPARQL page -----------------------------------------------------------------------------------
def post(app, path: str, form: dict[str, str]) -> tuple[int, str]:
    status, _, body = call(app, path, "POST", urllib.parse.urlencode(form).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", **HTML})
    return status, body.decode("utf-8")


ISLAND_QUERY = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> SELECT ?island WHERE { "
                "?t a <https://w3id.org/dispute-kg/def#Island> ; rdfs:label ?island } ORDER BY ?island")


def test_sparql_page_posts_to_sparql_and_shows_a_table(app):
    body = page(app, "/sparql-editor")
    assert '<form class="sparql-form" method="post" action="/sparql-editor#results">' in body
    assert 'formaction="/sparql"' in body and '<textarea id="query" name="query"' in body
    for name in ("claims", "timeline", "entity"):
        assert f'href="/sparql-editor?example={name}"' in body
    status, out = post(app, "/sparql-editor", {"query": ISLAND_QUERY})
    assert status == 200
    cells = re.findall(r"<td>(.*?)</td>", out)
    assert cells == ["Iturup", "Kunashir", "Shikotan"]
    status, out = post(app, "/sparql-editor?_format=json", {"query": ISLAND_QUERY})
    direct = json.loads(call(app, "/sparql?query=" + urllib.parse.quote(ISLAND_QUERY))[2])
    assert json.loads(out)["result"] == direct and json.loads(out)["kind"] == "select"
    example = page(app, "/sparql-editor?example=timeline")
    assert html.escape("?event dk:date ?date") in example


def test_sparql_page_keeps_the_endpoints_rules(app):
    # an update is not a query: a syntax error of the query language, never run
    status, out = post(app, "/sparql-editor", {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
    assert status == 400 and 'class="error"' in out
    status, out = post(app, "/sparql-editor", {"query": "SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }"})
    assert status == 403 and "SERVICE" in out
    status, out = post(app, "/sparql-editor", {"query": "SELEKT nonsense"})
    assert status == 400 and 'class="error"' in out
    status, out = post(app, "/sparql-editor", {"query": "ASK { ?s a <https://w3id.org/dispute-kg/def#Claim> }"})
    assert status == 200 and "<strong>yes</strong>" in out
    status, out = post(app, "/sparql-editor", {"query": "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c . "
                                                        "FILTER (?s = <https://w3id.org/dispute-kg/id/state/japan>) }"})
    assert status == 200 and '<a href="/entity/state/japan">id:state/japan</a>' in out
