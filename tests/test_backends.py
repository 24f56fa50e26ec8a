"""The remote `sparql:` backend and `push`: selectors, VALUES binding, capabilities, auth, errors."""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_kg.errors import BackendUnavailable, CapabilityError, InputError, QueryTimeout
from dispute_kg.rdf.convert import term_text
from dispute_kg.rdf.terms import iri, literal
from dispute_kg.stores.base import Selector, open_store, parse_selector
from dispute_kg.stores.sparql import SparqlStore, bind_values


# -- selectors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "expected"), [
    ("sparql:http://127.0.0.1:7878/query", Selector("sparql", "http://127.0.0.1:7878/query")),
    ("sparql:http://h/q;update=http://h/u", Selector("sparql", "http://h/q", (("update", "http://h/u"),))),
    ("sparql:https://h/q;update=https://h/u;gsp=https://h/store",
     Selector("sparql", "https://h/q", (("update", "https://h/u"), ("gsp", "https://h/store")))),
    ("sparql:http://h/q?x=1;timeout=5", Selector("sparql", "http://h/q?x=1", (("timeout", "5"),))),
])
def test_parse_sparql_selector(text: str, expected: Selector) -> None:
    assert parse_selector(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("sparql:", "needs a query URL"),
    ("sparql:ftp://h/q", "is not an http:// or https:// URL"),
    ("sparql:http://a>b/q", "is not a valid URL"),
    ("sparql:http://h/q;timeout=0", "above 0"),
    ("sparql:http://h/q;retries=-1", "whole number"),
    ("sparql:http://h/q;user=bob", "unknown sparql: store option 'user'"),
    ("sparql:http://h/q;timeout=soon", "not a number"),
    ("sparql:http://h/q;update", "is not key=value"),
])
def test_bad_sparql_selectors_are_refused(text: str, message: str) -> None:
    with pytest.raises(InputError, match=message):
        open_store(text)


def test_capabilities_follow_the_urls_given() -> None:
    assert open_store("sparql:http://h/q").capabilities == {"named_graphs", "persistent"}
    full = open_store("sparql:http://h/q;update=http://h/u;gsp=http://h/s")
    assert {"update", "graph_store"} <= full.capabilities
    assert "update" not in SparqlStore.open(parse_selector("sparql:http://h/q;update=http://h/u"),
                                            read_only=True).capabilities


def test_a_missing_capability_names_the_backend() -> None:
    store = open_store("sparql:http://127.0.0.1:9/query")
    with pytest.raises(CapabilityError, match="the sparql backend does not support update"):
        store.update("CLEAR ALL")
    with pytest.raises(CapabilityError, match="sparql backend"):
        store.add_quads([(iri("http://x/s"), iri("http://x/p"), literal("o"), None)])


# -- VALUES binding ------------------------------------------------------------------------------------
X = {"x": iri("http://example.org/a")}


@pytest.mark.parametrize(("query", "expected"), [
    ("SELECT ?x WHERE { ?x ?p ?o }", "SELECT ?x WHERE { VALUES (?x) { (<http://example.org/a>) }  ?x ?p ?o }"),
    ("SELECT * { ?x ?p ?o }", "SELECT * { VALUES (?x) { (<http://example.org/a>) }  ?x ?p ?o }"),
    ("ASK { ?x ?p ?o }", "ASK { VALUES (?x) { (<http://example.org/a>) }  ?x ?p ?o }"),
    ("CONSTRUCT { ?x ?p ?o } WHERE { ?x ?p ?o }",
     "CONSTRUCT { ?x ?p ?o } WHERE { VALUES (?x) { (<http://example.org/a>) }  ?x ?p ?o }"),
    ("# WHERE { not this one\nSELECT ?x WHERE { ?x ?p '{' }",
     "# WHERE { not this one\nSELECT ?x WHERE { VALUES (?x) { (<http://example.org/a>) }  ?x ?p '{' }"),
])
def test_values_block_opens_the_outermost_where_group(query: str, expected: str) -> None:
    assert bind_values(query, X) == expected


def test_bindings_that_cannot_be_sent_are_refused() -> None:
    with pytest.raises(InputError, match="no WHERE group"):
        bind_values("DESCRIBE <http://x/>", X)
    with pytest.raises(InputError, match="blank node"):
        bind_values("SELECT * { ?x ?p ?o }", {"x": {"type": "bnode", "value": "b0"}})
    with pytest.raises(InputError, match="not a SPARQL variable"):
        bind_values("SELECT * { ?x ?p ?o }", {"x) {} DROP ALL": iri("http://x/")})
    for bad in ("http://x/> } DROP ALL { <", "http://x/ y", "", "http://x/\n"):
        with pytest.raises(InputError, match="as an IRI"):
            term_text(iri(bad))
    with pytest.raises(InputError, match="language tag"):
        term_text({"type": "literal", "value": "x", "xml:lang": "en} DROP ALL {"})


@settings(max_examples=200, deadline=None)
@given(value=st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=80),
       kind=st.sampled_from(["plain", "lang", "date", "custom"]))
def test_any_literal_is_bound_as_one_term_that_round_trips(value: str, kind: str) -> None:
    term = {"plain": literal(value), "lang": literal(value, lang="ja"),
            "date": literal(value, "http://www.w3.org/2001/XMLSchema#date"),
            "custom": literal(value, "http://example.org/type#x")}[kind]
    query = bind_values("SELECT ?x (COUNT(*) AS ?n) WHERE { } GROUP BY ?x", {"x": term})
    rows = list(ox.Store().query(query))
    assert len(rows) == 1 and int(rows[0]["n"].value) == 1
    got = rows[0]["x"]
    assert got.value == value
    if kind == "lang":
        assert got.language == "ja"


# -- a scripted endpoint: records requests, answers as told ----------------------------------------------
class Endpoint:
    def __init__(self) -> None:
        self.requests: list[dict] = []
        self.status, self.delay = 200, 0.0
        self.body = json.dumps({"head": {"vars": ["x"]}, "results": {"bindings": [
            {"x": {"type": "literal", "value": "1", "datatype": "http://www.w3.org/2001/XMLSchema#string"}},
            {"x": {"type": "typed-literal", "value": "2", "datatype": "http://www.w3.org/2001/XMLSchema#integer"}},
            {"x": {"type": "literal", "value": "drei", "xml:lang": "de"}}]}}).encode()
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                endpoint.requests.append({"method": self.command, "path": self.path, "headers": dict(self.headers),
                                          "body": self.rfile.read(length).decode() if length else ""})
                time.sleep(endpoint.delay)
                self.send_response(endpoint.status)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.end_headers()
                self.wfile.write(endpoint.body)

            do_GET = do_POST = _answer

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def endpoint():
    e = Endpoint()
    yield e
    e.server.shutdown()
    e.server.server_close()


def test_results_are_normalised_and_short_queries_use_get(endpoint, monkeypatch) -> None:
    for name in ("DISPUTE_KG_SPARQL_TOKEN", "DISPUTE_KG_SPARQL_USER", "DISPUTE_KG_SPARQL_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    store = open_store(f"sparql:{endpoint.url}/query")
    result = store.query("SELECT ?x WHERE { ?s ?p ?x }", limit=2)
    assert result.rows == [{"x": {"type": "literal", "value": "1"}},
                           {"x": {"type": "literal", "value": "2",
                                  "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]
    assert result.truncated is True
    request = endpoint.requests[-1]
    assert request["method"] == "GET" and "Authorization" not in request["headers"]
    # negotiation by Accept only: no format=/output= parameter that some servers obey over Accept
    assert set(urllib.parse.parse_qs(urllib.parse.urlsplit(request["path"]).query)) == {"query"}
    assert request["headers"]["Accept"] == "application/sparql-results+json"
    assert "dispute-kg" in request["headers"]["User-Agent"]
    long_query = "SELECT ?x WHERE { ?s ?p ?x }" + " " * 2000 + "# long"
    store.query(long_query)
    request = endpoint.requests[-1]
    assert request["method"] == "POST"
    assert urllib.parse.parse_qs(request["body"])["query"] == [long_query]


def test_bearer_and_basic_auth_come_from_the_environment(endpoint, monkeypatch) -> None:
    store = open_store(f"sparql:{endpoint.url}/query")
    monkeypatch.setenv("DISPUTE_KG_SPARQL_USER", "ann")
    monkeypatch.setenv("DISPUTE_KG_SPARQL_PASSWORD", "pa:ss")
    store.query("ASK {}")
    assert endpoint.requests[-1]["headers"]["Authorization"] == "Basic " + base64.b64encode(b"ann:pa:ss").decode()
    monkeypatch.setenv("DISPUTE_KG_SPARQL_TOKEN", "tok")
    store.query("ASK {}")
    assert endpoint.requests[-1]["headers"]["Authorization"] == "Bearer tok"


@pytest.mark.parametrize(("status", "error", "message"), [
    (400, InputError, "malformed"), (401, BackendUnavailable, "DISPUTE_KG_SPARQL_TOKEN"),
    (403, BackendUnavailable, "DISPUTE_KG_SPARQL_TOKEN"), (500, BackendUnavailable, "HTTP 500"),
    (503, BackendUnavailable, "HTTP 503"), (504, QueryTimeout, "stopped the query"),
    (404, BackendUnavailable, "HTTP 404"),
])
def test_http_errors_become_the_package_errors(endpoint, status: int, error: type, message: str) -> None:
    endpoint.status, endpoint.body = status, b"no"
    with pytest.raises(error, match=message) as caught:
        open_store(f"sparql:{endpoint.url}/query;retries=0").query("SELECT * WHERE { ?s ?p ?o }")
    assert "?query=" not in str(caught.value)  # the endpoint's address, not the whole request


def test_a_slow_endpoint_times_out(endpoint) -> None:
    endpoint.delay = 3
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match="did not answer within 1 s"):
        open_store(f"sparql:{endpoint.url}/query").query("ASK {}", timeout=1)
    assert time.monotonic() - started < 2.5


def test_an_unreachable_endpoint_exits_3(built_project: Path) -> None:
    with pytest.raises(BackendUnavailable, match="cannot reach SPARQL endpoint"):
        open_store("sparql:http://127.0.0.1:9/query").query("ASK {}")
    result = run_cli("--project", str(built_project), "--store", "sparql:http://127.0.0.1:9/query",
                     "query", "run", "sources")
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith("Error: cannot reach SPARQL endpoint http://127.0.0.1:9/query")


# -- push --------------------------------------------------------------------------------------------
def test_push_copies_every_graph_and_verifies_counts(kg, tmp_path: Path) -> None:
    from dispute_kg.project.push import graph_counts, push

    target = open_store(f"oxigraph:{tmp_path / 'copy'}")
    seen: list[tuple[int, int]] = []
    report = push(kg.store, target, batch=500, progress=lambda sent, total: seen.append((sent, total)))
    counts = graph_counts(kg.store)
    assert report.graphs == counts == report.target_counts
    assert "https://w3id.org/dispute-kg/graph/inferred" in counts
    assert seen[-1] == (sum(counts.values()), sum(counts.values())) and len(seen) == report.batches > len(counts)
    again = push(kg.store, target)  # replaces each graph, never duplicates
    assert again.target_counts == counts and target.count() == kg.store.count()
    target.close()


def test_push_to_a_read_only_endpoint_is_refused(built_project: Path) -> None:
    result = run_cli("--project", str(built_project), "push", "--to", "sparql:http://127.0.0.1:9/query")
    assert result.returncode == 2
    assert "sparql backend" in result.stderr and "update=" in result.stderr
