"""Paging a stored query's answer (`limit` + `offset`): the pages, read one after another, are the
answer itself, on every route (Python, the command line, the JSON API) and every embedded backend; a query
that cannot be paged says so instead of skipping rows on its own."""

from __future__ import annotations

import json

import pytest
from conftest import run_cli

from dispute_kg.errors import InputError
from dispute_kg.http.app import Settings, call
from dispute_kg.http.server import make_app
from dispute_kg.kg import KnowledgeGraph
from dispute_kg.query.binding import paged_text

PAGE = 3


def pages(kg: KnowledgeGraph, name: str, params: dict[str, str], size: int) -> list[dict]:
    rows: list[dict] = []
    offset = 0
    while True:
        page = kg.run_result(name, params, limit=size, offset=offset)
        rows += page.rows
        assert len(page.rows) <= size
        if not page.truncated:
            # the last page is the one the engine had no further row for
            assert kg.run_result(name, params, limit=size, offset=offset + size).rows == []
            return rows
        assert len(page.rows) == size
        offset += size


def example(query) -> dict[str, str]:
    return {p.name: p.example for p in query.parameters if p.required and p.example}


def test_every_stored_query_read_page_by_page_is_its_whole_answer(kg) -> None:
    for query in kg.queries():
        params = example(query)
        whole = kg.run_result(query.name, params).rows
        assert pages(kg, query.name, params, PAGE) == whole, query.name
    # and an answer of more than one page was among them (claims of every state: 8 rows)
    assert len(kg.run_result("claims", {}, limit=PAGE).rows) == PAGE
    assert kg.run_result("claims", {}, limit=PAGE).truncated


def test_a_page_past_the_end_is_empty_and_not_truncated(kg) -> None:
    whole = kg.run_result("claims", {}).rows
    past = kg.run_result("claims", {}, limit=5, offset=len(whole))
    assert past.rows == [] and not past.truncated
    last = kg.run_result("claims", {}, limit=5, offset=len(whole) - 2)
    assert last.rows == whole[-2:] and not last.truncated


def test_rdflib_pages_like_oxigraph(built_project) -> None:
    with KnowledgeGraph.open(project=built_project) as ox_kg, \
            KnowledgeGraph.open("memory:", project=built_project) as mem:
        for name in ("claims", "statements", "timeline"):
            assert ([r for r in ox_kg.run_result(name, {}, limit=2, offset=3).rows]
                    == [r for r in mem.run_result(name, {}, limit=2, offset=3).rows]), name


@pytest.mark.parametrize("text, why", [
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 5", "its own LIMIT"),
    ("SELECT * WHERE { ?s ?p ?o } OFFSET 1", "its own LIMIT"),
    ("SELECT * WHERE { ?s ?p ?o } VALUES ?s { <urn:x> }", "trailing VALUES"),
    ("ASK { ?s ?p ?o }", "only a SELECT"),
])
def test_a_query_with_its_own_slice_is_refused_an_offset(text: str, why: str) -> None:
    with pytest.raises(InputError, match=why):
        paged_text(text, 10, 20)
    assert paged_text(text, 10, 0) == text  # a first page is cut as it is read: nothing to refuse


@pytest.mark.parametrize("text", [
    "SELECT * WHERE { ?s ?p ?o } # LIMIT 5",
    'SELECT * WHERE { ?s ?p "LIMIT 5" }',
    "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 5 } VALUES ?s { <urn:x> } }",
    "SELECT * WHERE { ?s ?p ?o }\n# VALUES ?s { 1 }",
])
def test_words_in_comments_strings_and_subqueries_do_not_decide(text: str) -> None:
    paged = paged_text(text, 10, 20)
    assert paged.startswith(text) and paged.endswith("LIMIT 11\nOFFSET 20\n")


def test_the_command_line_pages(built_project) -> None:
    with KnowledgeGraph.open(project=built_project) as kg:
        whole = kg.run_result("claims", {}).rows
    out = run_cli("--project", str(built_project), "query", "run", "claims", "--limit", "2", "--offset", "3",
                  "--format", "json")
    assert out.returncode == 0, out.stderr
    bindings = json.loads(out.stdout)["results"]["bindings"]
    assert [b["territory"]["value"] for b in bindings] == [r["territory"]["value"] for r in whole[3:5]]
    bad = run_cli("--project", str(built_project), "query", "run", "claims", "--offset", "-1")
    assert bad.returncode == 2 and "offset" in bad.stderr.lower() and "Traceback" not in bad.stderr


def test_the_api_pages_and_refuses_a_bad_offset(kg) -> None:
    app = make_app(kg, Settings(timeout=30, max_rows=100))
    accept = {"Accept": "application/sparql-results+json"}
    whole = [r["territory"]["value"] for r in kg.run_result("claims", {}).rows]
    status, _, body = call(app, "/api/queries/claims?_limit=2&_offset=4", headers=accept)
    assert status == 200, body
    assert [b["territory"]["value"] for b in json.loads(body)["results"]["bindings"]] == whole[4:6]
    for bad in ("-1", "x", "1.5", "99999999999", "٣"):
        status, headers, body = call(app, f"/api/queries/claims?_offset={bad}", headers=accept)
        assert status == 400 and headers["Content-Type"].startswith("application/json"), bad
        assert "_offset" in json.loads(body)["error"]
    status, _, body = call(app, "/openapi.json")
    options = json.loads(body)["paths"]["/api/queries/claims"]["get"]["parameters"]
    assert any(o["name"] == "_offset" for o in options)


def test_a_query_page_shows_one_page_and_links_the_next(kg) -> None:
    import html
    import re

    app = make_app(kg, Settings(timeout=30, max_rows=3))  # pages of 3 rows: claims (8 rows) has three
    whole = [r["claim"]["value"] for r in kg.run_result("claims", {}).rows]
    status, _, body = call(app, "/query/claims?_format=json")
    data = json.loads(body)
    assert status == 200 and data["page"] == {"offset": 0, "size": 3, "rows": 3, "more": True}
    assert [b["claim"]["value"] for b in data["result"]["results"]["bindings"]] == whole[:3]
    status, _, page = call(app, "/query/claims")
    text = page.decode()
    nexts = re.findall(r'rel="next" href="([^"]+)"', text)
    assert status == 200 and "Rows 1–3" in text and 'rel="prev"' not in text and len(nexts) == 1
    # following the links walks the whole answer, and the last page has no next link
    seen, href = [], html.unescape(nexts[0])
    while href:
        path = href.split("#")[0]
        status, _, page = call(app, path.replace("/query/claims?", "/query/claims?_format=json&"))
        seen += [b["claim"]["value"] for b in json.loads(page)["result"]["results"]["bindings"]]
        status, _, page = call(app, path)
        assert 'rel="prev"' in page.decode()
        found = re.findall(r'rel="next" href="([^"]+)"', page.decode())
        href = html.unescape(found[0]) if found else ""
    assert seen == whole[3:]
    status, _, _ = call(app, "/query/claims?_offset=minus")
    assert status == 400
