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
from dispute_kg.rdf.namespaces import DEF, ID, with_prefixes

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
         "/timeline", "/map", "/sparql-editor", "/search?q=1956", "/browse", "/browse/Claim", "/ontology",
         "/ontology/Claim"]


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
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body.split("<tbody>", 1)[1].split("</tbody>", 1)[0])
    assert len(rows) == 4
    for island, row in zip(ISLANDS, rows, strict=True):
        assert f'<a href="/entity/territory/{island.lower()}">{island}</a>' in row
    # one claim, four territories: the claim's own values are shown once, spanning its four rows
    assert '<td rowspan="4" data-var="claimant"><a href="/entity/state/japan">Japan</a></td>' in rows[0]
    assert "/entity/state/japan" not in "".join(rows[1:])
    quote = re.search(r'<td rowspan="4" data-var="quote"><a class="quote-link" href="/source/([^"]+)">', rows[0])
    assert quote, rows[0]
    assert quote.group(1) in [x["view"][len("/source/"):] for x in d["quote_spans"]]
    assert ">Kind of claim</th>" in body and ">Name the claimant uses</th>" in body  # the documented labels
    assert d["resolved"] == [{"parameter": "state", "given": "Japan", "iri": "https://w3id.org/dispute-kg/id/state/japan",
                              "label": "Japan"}]
    assert d["cli"] == "dispute-kg query run claims -p state=Japan"
    assert html.escape(d["cli"]) in body
    assert d["downloads"]["csv"] == "/api/queries/claims?state=Japan&_format=csv"
    for fmt in ("csv", "tsv", "json", "xml"):
        assert f'href="/api/queries/claims?state=Japan&amp;_format={fmt}"' in body
    assert html.escape("?claim dk:claimant ?__state_iri") in body  # the SPARQL is shown
    assert 'value="Japan"' in body  # the form keeps what was asked
    status, _, csv = get(app, d["downloads"]["csv"], {"Accept": "*/*"})
    assert status == 200 and csv.count("\r\n") == 5


def test_query_page_heads_its_columns_with_the_documented_labels(app):
    from dispute_kg.query.headers import read_header

    body = page(app, "/query/claims?state=Japan")
    d = data(app, "/query/claims?state=Japan")
    from pathlib import Path

    claims = Path(__file__).resolve().parent.parent / "queries" / "claims.rq"
    header, _ = read_header(claims.read_text(encoding="utf-8"))
    documented = {c["name"]: c for c in header["columns"]}
    assert d["query"]["columns"] == header["columns"]
    variables = d["result"]["head"]["vars"]
    heads = re.findall(r"<th ([^>]*)>(.*?)</th>", body.split("<thead>", 1)[1].split("</thead>", 1)[0])
    # one header per shown column (an IRI and its label are one linked column), each headed by its label
    shown = [v for v in variables if not (v.endswith("Label") and v[:-5] in variables)]
    assert [text_of(t) for _, t in heads] == [documented[v]["label"] for v in shown]
    assert "Kind of claim" in [text_of(t) for _, t in heads]
    assert not {text_of(t) for _, t in heads} & set(variables)  # no raw variable name as header text
    for attrs, _ in heads:
        var = re.search(r'data-var="([^"]+)"', attrs).group(1)
        assert 'scope="col"' in attrs
        # the variable and its description: in the tooltip, and in the list the header points at
        assert f'title="?{var}: {html.escape(documented[var]["description"])}"' in attrs
        assert f'aria-describedby="col-{var}"' in attrs
        assert f'<dd id="col-{var}">{html.escape(documented[var]["description"])}</dd>' in body
    assert "<code>?claimantLabel</code>" in body  # every variable is listed, merged ones too
    assert "4 rows, in 1 group by Claim" in text_of(body)
    # the downloads keep the variable names: they are what programs read
    _, _, csv = get(app, d["downloads"]["csv"], {"Accept": "*/*"})
    assert csv.splitlines()[0] == ",".join(variables)
    _, _, js = get(app, d["downloads"]["json"], {"Accept": "*/*"})
    assert json.loads(js)["head"]["vars"] == variables


def test_an_ad_hoc_query_is_headed_by_its_variables_made_readable(app):
    body = page(app, "/sparql-editor?query=" + urllib.parse.quote("SELECT ?nameUsed WHERE { ?c dk:nameUsed ?nameUsed }")
                + "&view=table")
    assert '<th scope="col" data-var="nameUsed" title="?nameUsed">name used</th>' in body
    assert 'class="columns"' not in body


def test_the_api_catalogue_carries_the_columns(app):
    _, _, raw = get(app, "/api/queries", {"Accept": "application/json"})
    queries = {q["name"]: q for q in json.loads(raw)["queries"]}
    assert {"name": "claimKind", "label": "Kind of claim",
            "description": "What sort of claim it is, such as a territorial claim or undisputed sovereignty."} \
        in queries["claims"]["columns"]
    for q in queries.values():
        assert all(c["label"] for c in q["columns"]), q["name"]
    _, _, raw = get(app, "/openapi.json", {"Accept": "application/json"})
    assert "- `claimKind`: Kind of claim." in json.loads(raw)["paths"]["/api/queries/claims"]["get"]["description"]


def test_a_positions_quote_links_to_the_span_of_the_statement_that_voiced_it(app):
    body = page(app, "/query/positions?holder=Japan")
    d = data(app, "/query/positions?holder=Japan")
    voiced = [r for r in d["result"]["results"]["bindings"] if "quote" in r]
    assert voiced
    cells = [c for c in re.findall(r'<td[^>]*data-var="quote"[^>]*>(.*?)</td>', body) if c]
    assert len(cells) >= len({r["statement"]["value"] for r in voiced})
    for cell in cells:
        assert re.match(r'<a class="quote-link" href="/source/[^"#]+#span-\d+-\d+">', cell), cell


def test_query_page_reports_a_bad_label_and_escapes_it(app):
    status, _, body = get(app, "/query/claims?state=%3Cscript%3Ealert(1)%3C/script%3E")
    assert status == 400
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body
    status, _, body = get(app, "/query/claims?state=Japn&_format=json")
    assert status == 400 and "candidates: Japan" in json.loads(body)["error"]
    status, _, body = get(app, "/query/nope")
    assert status == 404 and "Not found" in body and "Download" not in body
    assert get(app, "/query/claims?colour=red")[0] == 400


def test_a_query_with_a_provenance_span_links_the_quote_to_the_source(app):
    body = page(app, "/query/provenance?subject=Shikotan")
    assert f'<a class="quote-link" href="/source/{SOURCE}#span-488-570">' in body


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
def test_map_draws_the_islands_north_east_of_hokkaido_over_natural_earth(app):
    from dispute_kg.http.web.basemap import load

    body = page(app, "/map")
    d = data(app, "/map")
    placed = {t["label"]: t for t in d["territories"]}
    assert set(ISLANDS) <= set(placed), d["missing"]
    for island in ISLANDS:
        t = placed[island]
        assert 43 <= t["lat"] <= 45.6 and 145 <= t["lon"] <= 148.9, t
        assert "Natural Earth" in t["source"] or "P625" in t["source"]
        assert t["ring"] is None or len(t["ring"]) >= 3
        assert f'data-entity="{t["entity"]}"' in body
    # the islands lie east of Hokkaido's easternmost point in the base layer (Cape Nosappu, about 145.8 E)
    assert placed["Iturup"]["lon"] > placed["Kunashir"]["lon"] > 145.8
    base = load()
    assert {c["name"] for c in base["countries"]} == {"Japan", "Russia"} and "Natural Earth" in base["source"]["data"]
    assert sum(len(r) for c in base["countries"] for r in c["rings"]) > 1000  # real coastlines, not a sketch
    roles = {c["name"]: c["role"] for c in d["countries"]}
    assert roles == {"Japan": "claimant", "Russia": "holder"}
    assert 'class="land claimant" data-country="Japan"' in body and 'class="land holder" data-country="Russia"' in body
    assert body.count('<path class="land disputed"') == 4
    assert "world-atlas@2.0.2" in body and "public domain" in body
    missing = {m["label"] for m in d["missing"]}
    assert not missing & set(ISLANDS)


# -- SPARQL page -----------------------------------------------------------------------------------
def post(app, path: str, form: dict[str, str]) -> tuple[int, str]:
    status, _, body = call(app, path, "POST", urllib.parse.urlencode(form).encode(),
                           {"Content-Type": "application/x-www-form-urlencoded", **HTML})
    return status, body.decode("utf-8")


ISLAND_QUERY = ("SELECT ?island WHERE { "
                "?t a dk:Island ; rdfs:label ?island . FILTER (?island != \"Habomai\") } ORDER BY ?island")


def test_sparql_page_runs_a_query_with_predeclared_prefixes_and_shares_it_by_get(app):
    body = page(app, "/sparql-editor")
    assert '<form class="sparql-form" id="sparql-form" method="get" action="/sparql-editor#results">' in body
    assert '<textarea id="query" name="query"' in body and "/static/yasgui.min.js" in body
    for name in ("claims", "timeline", "entity"):
        assert f'href="/sparql-editor?example={name}"' in body
    shared = "/sparql-editor?" + urllib.parse.urlencode({"query": ISLAND_QUERY})
    out = page(app, shared)
    cells = re.findall(r'<td data-var="island">(.*?)</td>', out)
    assert cells == ["Iturup", "Kunashir", "Shikotan"]
    link = re.search(r'id="share-link" href="([^"]+)"', out).group(1)
    again = page(app, html.unescape(link))
    assert re.findall(r'<td data-var="island">(.*?)</td>', again) == cells  # the link reproduces the run
    status, posted = post(app, "/sparql-editor", {"query": ISLAND_QUERY})  # POST still works
    assert status == 200 and re.findall(r'<td data-var="island">(.*?)</td>', posted) == cells
    d = data(app, shared)
    direct = json.loads(call(app, "/sparql?query=" + urllib.parse.quote(with_prefixes(ISLAND_QUERY)))[2])
    assert d["result"] == direct and d["kind"] == "select" and d["prefixes"]["dk"] == DEF
    example = page(app, "/sparql-editor?example=timeline")
    assert html.escape("?event dk:date ?date") in example
    own = "PREFIX dk: <http://example.org/other#> SELECT (COUNT(*) AS ?n) WHERE { ?s a dk:Claim }"
    assert data(app, "/sparql-editor?" + urllib.parse.urlencode({"query": own}))["result"]["results"][
        "bindings"][0]["n"]["value"] == "0"  # a query's own PREFIX wins over the predeclared one


def test_sparql_page_charts_a_result(app):
    q = ("SELECT ?kind (COUNT(?s) AS ?n) WHERE { ?s a ?kind . FILTER (?kind IN (dk:Claim, dk:Statement)) } "
         "GROUP BY ?kind")
    d = data(app, "/sparql-editor?" + urllib.parse.urlencode({"query": q, "view": "chart"}))
    bars = {b["label"]: b["value"] for b in d["chart"]["bars"]}
    n = {r["kind"]["value"]: float(r["n"]["value"]) for r in d["result"]["results"]["bindings"]}
    assert bars == n and d["chart"]["measure"] == "n"
    body = page(app, "/sparql-editor?" + urllib.parse.urlencode({"query": q, "view": "chart"}))
    assert body.count('<rect class="bar"') == 2 and 'aria-current="page">Chart</a>' in body
    assert get(app, "/sparql-editor?" + urllib.parse.urlencode({"query": q, "view": "pie"}))[0] == 400


def test_cli_sparql_predeclares_the_prefixes(built_project):
    from conftest import run_cli

    result = run_cli("--project", str(built_project), "sparql", "--format", "csv",
                     "SELECT ?l WHERE { id:state\\/japan rdfs:label ?l }")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["l", "Japan"]
    bad = run_cli("--project", str(built_project), "sparql", "SELECT ?l WHERE {\n ?x ?y \n}")
    assert bad.returncode == 2 and ":3:" in bad.stderr + bad.stdout  # line numbers are the user's


# -- search, browse, ontology ------------------------------------------------------------------------
@pytest.mark.parametrize(("q", "first"), [("Etorofu", "territory/iturup"),
                                           ("1956", "agreement/1956-soviet-japanese-joint-declaration"),
                                           ("Northern Territories", "territory/northern-territories")])
def test_search_page_finds_the_right_entity_first(app, q, first):
    d = data(app, "/search?" + urllib.parse.urlencode({"q": q}))
    assert d["first"]["entity"] == ID + first
    body = page(app, "/search?" + urllib.parse.urlencode({"q": q}))
    assert re.search(r'class="hit-title" href="([^"]+)"', body).group(1) == "/entity/" + first
    assert f'value="{html.escape(q)}"' in body  # the header box keeps the query


def test_every_page_has_the_search_box(app):
    for path in PAGES:
        assert '<form class="site-search" role="search" aria-label="Site" method="get" action="/search">' in page(
            app, path)


def test_search_escapes_what_it_echoes(app):
    body = page(app, "/search?q=%3Cscript%3Ealert(1)%3C/script%3E")
    assert "<script>alert" not in body and "&lt;script&gt;alert(1)" in body


def test_browse_lists_classes_and_a_class_page_sorts_filters_and_downloads(app):
    classes = {c["local"]: c for c in data(app, "/browse")["classes"]}
    assert classes["Position"]["count"] >= 8 and classes["Claim"]["count"] == 2
    d = data(app, "/browse/Position")
    assert d["total"] == classes["Position"]["count"]
    facets = {f["key"]: f for f in d["facets"]}
    japan = next(v for v in facets["holder"]["values"] if v["value"] == ID + "state/japan")
    filtered = data(app, "/browse/Position?holder=" + urllib.parse.quote(ID + "state/japan"))
    assert filtered["count"] == japan["count"] and all(
        any(v["value"] == ID + "state/japan" for v in r["values"]["holder"]) for r in filtered["rows"])
    labels = [r["label"] for r in data(app, "/browse/Position")["rows"]]
    assert labels == sorted(labels, key=str.casefold)
    down = [r["label"] for r in data(app, "/browse/Position?_desc=1")["rows"]]
    assert down == labels[::-1]
    by_holder = data(app, "/browse/Position?_sort=holder")["rows"]
    keys = [r["values"]["holder"][0]["label"].casefold() for r in by_holder if r["values"]["holder"]]
    assert keys == sorted(keys)
    status, hdrs, csv = get(app, "/browse/Position?_format=csv&holder=" + urllib.parse.quote(ID + "state/japan"))
    assert status == 200 and hdrs["Content-Type"].startswith("text/csv")
    assert len(csv.strip().splitlines()) == japan["count"] + 1
    body = page(app, "/browse/Position")
    assert 'aria-sort="ascending"' in body and "_format=csv" in body and 'class="facet"' in body
    assert get(app, "/browse/Position?_sort=nope")[0] == 400 and get(app, "/browse/Position?nope=1")[0] == 400
    assert get(app, "/browse/NoSuchClass")[0] == 404


def test_type_badges_link_to_our_ontology_pages(app):
    body = page(app, "/entity/territory/iturup")
    assert '<a href="/ontology/Island">island</a>' in body
    d = data(app, "/ontology/Island")
    assert d["kind"] == "class" and d["definition"]
    assert any(o["iri"] == DEF + "Territory" for o in d["related"]["super"])
    claim = data(app, "/ontology/Claim")
    assert "claims" in [q["name"] for q in claim["queries"]]
    assert claim["shapes"], "a shape targets dk:Claim"
    prop = data(app, "/ontology/claimant")
    assert prop["kind"] == "object property" and any(o["iri"] == DEF + "Claim" for o in prop["related"]["domain"])
    assert get(app, "/ontology/NoSuchTerm")[0] == 404
    assert len(data(app, "/ontology")["terms"]) > 40


# -- what a careless user types --------------------------------------------------------------------
def test_unknown_paths_get_an_html_404_and_pasted_iris_redirect(app):
    for path in ("/entity/", "/no/such/page", "/query/nope"):
        status, hdrs, body = get(app, path)
        assert status == 404 and hdrs["Content-Type"].startswith("text/html") and 'role="alert"' in body, path
        assert "Download" not in body
    status, hdrs, _ = get(app, "/entity/https://w3id.org/dispute-kg/id/state/japan")
    assert status == 301 and hdrs["Location"] == "/entity/state/japan"
    assert get(app, "/sparql", {"Accept": "*/*"})[0] == 200 and get(app, "/api/queries")[0] == 200  # API paths
    status, hdrs, _ = get(app, "/no/such/page?_format=json")
    assert status == 404 and hdrs["Content-Type"].startswith("application/json")


def test_query_page_says_how_it_read_a_label(app):
    body = page(app, "/query/claims?state=USSR")
    assert re.search(r"<strong>USSR</strong> read as <a href=\"/entity/state/soviet-union\">Soviet Union</a>", body)
    assert 'aria-current="page"' not in body.split("</nav>", 1)[0]  # a query page is not "Home"


def test_a_states_page_gathers_its_governments_and_officials_positions(app):
    d = data(app, "/entity/state/japan")
    _, _, api = get(app, "/api/queries/positions?holder=Japan&_format=json", {"Accept": "*/*"})
    held = {r["position"]["value"] for r in json.loads(api)["results"]["bindings"]}
    shown = {a["iri"] for a in d["claims"] + d["positions"]}
    assert held <= shown, held - shown
    assert len(d["statements"]) >= 4  # the Chief Cabinet Secretary's, made in office
    assert {a["how"] for a in d["acting_for_it"]} == {"its government", "an office of its government"}


def test_sparql_page_keeps_the_endpoints_rules(app):
    # an update is not a query: a syntax error of the query language, never run
    status, out = post(app, "/sparql-editor", {"query": "INSERT DATA { <urn:a> <urn:b> <urn:c> }"})
    assert status == 400 and 'class="error"' in out
    status, out = post(app, "/sparql-editor", {"query": "SELECT * { SERVICE <http://example.org/> { ?s ?p ?o } }"})
    # in-process there is no sandboxed worker: rdflib's parse decides, and a query it cannot read (its
    # grammar trips on a '#' IRI before SERVICE on one line, as the predeclared prefixes are) is refused too
    assert status in (400, 403) and "SERVICE" in out
    status, out = post(app, "/sparql-editor", {"query": "SELEKT nonsense"})
    assert status == 400 and 'class="error"' in out
    status, out = post(app, "/sparql-editor", {"query": "ASK { ?s a <https://w3id.org/dispute-kg/def#Claim> }"})
    assert status == 200 and "<strong>yes</strong>" in out
    status, out = post(app, "/sparql-editor", {"query": "CONSTRUCT { ?s a ?c } WHERE { ?s a ?c . "
                                                        "FILTER (?s = <https://w3id.org/dispute-kg/id/state/japan>) }"})
    assert status == 200 and '<a href="/entity/state/japan">id:state/japan</a>' in out
