"""`dispute-kg serve`: most cases in-process through the WSGI app, a few against a real process
(`python -m dispute_kg serve -p 0`) with SPARQLWrapper and with urllib."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import rdflib
from conftest import run_cli

from dispute_kg.http.server import Settings, call, has_service, make_app, negotiate

CLAIMS = "/api/queries/claims?state=Japan"
SELECT = "SELECT ?s ?label WHERE { ?s a <https://w3id.org/dispute-kg/def#Island> ; " \
         "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label"
CONSTRUCT = "CONSTRUCT { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } WHERE { " \
            "?s a <https://w3id.org/dispute-kg/def#Island> ; <http://www.w3.org/2000/01/rdf-schema#label> ?label }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
TOKEN = "s3cret-token-for-tests"
ISLANDS = ["Iturup", "Kunashir", "Shikotan"]  # typed dk:Island; Habomai is an island group


@pytest.fixture(scope="module")
def app(kg):
    return make_app(kg, Settings(timeout=30, max_rows=100))


def get(app, path: str, **headers: str):
    return call(app, path, headers=headers)


def q(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# -- pure helpers ---------------------------------------------------------------------------------
@pytest.mark.parametrize(("accept", "kind", "writer"), [
    ("*/*", "select", "json"), ("*/*", "graph", "ttl"),
    ("text/csv", "select", "csv"), ("text/tab-separated-values", "select", "tsv"),
    ("application/sparql-results+xml", "select", "xml"), ("application/sparql-results+json", "ask", "json"),
    ("text/turtle;q=0.5, application/n-triples", "graph", "nt"), ("application/ld+json", "graph", "jsonld"),
    ("text/csv, text/turtle;q=0.9", "graph", "ttl"), ("text/html, */*;q=0.1", "select", "json"),
])
def test_negotiate(accept: str, kind: str, writer: str) -> None:
    assert negotiate(accept, kind) == writer


@pytest.mark.parametrize(("text", "expected"), [
    ("SELECT * WHERE { SERVICE <http://x/> { ?s ?p ?o } }", True),
    ("select * where { service silent <http://x/> { ?s ?p ?o } }", True),
    ("SELECT * WHERE { { SELECT * WHERE { OPTIONAL { SERVICE <http://x/> { ?s ?p ?o } } } } }", True),
    ("ASK { FILTER EXISTS { SERVICE <http://x/> { ?s ?p ?o } } }", True),
    ("SELECT * WHERE { SERVIC\\u0045 <http://x/> { ?s ?p ?o } }", True),
    ("PREFIX ex: <urn:ex:> SELECT ?x WHERE { BIND(ex:a AS ?o) FILTER(?o != ex:a\\#) "
     "SERVICE <http://x/> { ?x ?y ?z } }", True),
    ("SELECT * WHERE { ?s ?p 'SERVICE' }", False),
    ("# SERVICE <http://x/>\nSELECT * WHERE { ?s ?p ?o }", False),
    ("SELECT * WHERE { ?s <http://x/SERVICE> ?o }", False),
    ('SELECT * WHERE { ?s ?p """a\nSERVICE""" }', False),
    ("SELECT ?service WHERE { ?service ?p ?o }", False),
    ("PREFIX service: <urn:s:> SELECT * WHERE { ?s service:p ?o }", False),
])
def test_has_service_decides_on_the_parsed_algebra(text: str, expected: bool) -> None:
    """Without the worker sandbox the parse decides; what rdflib cannot parse is refused, never run."""
    from dispute_kg.http.app import HTTPError

    try:
        found = has_service(text)
    except HTTPError as exc:
        assert exc.status == 400
        found = True
    assert found is expected


@pytest.mark.parametrize(("header", "name"), [
    ("localhost", "localhost"), ("localhost:8000", "localhost"), ("LocalHost.:80", "localhost"),
    ("[::1]:8000", "::1"), ("[::1]", "::1"), ("127.0.0.1:1", "127.0.0.1"), ("::1", "::1"),
    ("evil.example:80", "evil.example"),
])
def test_host_name_of_a_host_header(header: str, name: str) -> None:
    from dispute_kg.http.app import host_name

    assert host_name(header) == name


# -- in-process -------------------------------------------------------------------------------------
def test_select_in_every_results_format_parses_back(app) -> None:
    status, headers, body = get(app, "/sparql?query=" + q(SELECT), ACCEPT="application/sparql-results+json")
    assert status == 200 and headers["Content-Type"].startswith("application/sparql-results+json")
    assert [b["label"]["value"] for b in json.loads(body)["results"]["bindings"]] == ISLANDS

    status, headers, body = get(app, "/sparql?query=" + q(SELECT), ACCEPT="application/sparql-results+xml")
    assert status == 200 and headers["Content-Type"].startswith("application/sparql-results+xml")
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert [e.text for e in ET.fromstring(body).findall(".//r:binding[@name='label']/r:literal", ns)] == ISLANDS

    status, headers, body = get(app, "/sparql?query=" + q(SELECT), ACCEPT="text/csv")
    assert status == 200 and headers["Content-Type"].startswith("text/csv")
    assert [r["label"] for r in csv.DictReader(io.StringIO(body.decode()))] == ISLANDS

    status, headers, body = get(app, "/sparql?query=" + q(SELECT), ACCEPT="text/tab-separated-values")
    lines = body.decode().splitlines()
    assert status == 200 and lines[0] == "?s\t?label"
    assert [line.split("\t")[1] for line in lines[1:]] == [f'"{i}"@en' for i in ISLANDS]


@pytest.mark.parametrize(("accept", "fmt"), [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                             ("application/ld+json", "json-ld")])
def test_construct_in_every_rdf_format_parses_back(app, accept: str, fmt: str) -> None:
    status, headers, body = get(app, "/sparql?query=" + q(CONSTRUCT), ACCEPT=accept)
    assert status == 200 and headers["Content-Type"].startswith(accept)
    graph = rdflib.Graph().parse(data=body.decode(), format=fmt)
    assert sorted(str(o) for o in graph.objects()) == ISLANDS


def test_post_forms_of_the_protocol(app) -> None:
    for body, ctype in ((SELECT.encode(), "application/sparql-query"),
                        (urllib.parse.urlencode({"query": SELECT}).encode(), "application/x-www-form-urlencoded")):
        status, _, out = call(app, "/sparql", "POST", body, {"Content-Type": ctype, "Accept": "text/csv"})
        assert status == 200, out
        assert out.decode().count("\r\n") == len(ISLANDS) + 1
    status, _, out = call(app, "/sparql", "POST", b"x", {"Content-Type": "text/plain"})
    assert status == 415
    # the protocol's dataset replaces the union default graph, as in Oxigraph server; an unknown graph is empty
    status, _, out = get(app, "/sparql?query=" + q(SELECT) + "&default-graph-uri=" + q("http://x/g"))
    assert status == 200 and json.loads(out)["results"]["bindings"] == []


INFERRED = "https://w3id.org/dispute-kg/graph/inferred"
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"


def count_of(app, path: str, method: str = "GET", body: bytes = b"", **headers: str) -> int:
    status, _, out = call(app, path, method, body, {"Accept": "application/sparql-results+json", **headers})
    assert status == 200, out
    return int(json.loads(out)["results"]["bindings"][0]["n"]["value"])


def test_dataset_from_the_protocol_or_from_clauses(app) -> None:
    everything = count_of(app, "/sparql?query=" + q(COUNT))
    inferred = count_of(app, "/sparql?query=" + q(COUNT) + "&default-graph-uri=" + q(INFERRED))
    assert 0 < inferred < everything
    from_clause = COUNT.replace("WHERE", f"FROM <{INFERRED}> WHERE")
    assert count_of(app, "/sparql?query=" + q(from_clause)) == inferred
    form = urllib.parse.urlencode({"query": COUNT, "default-graph-uri": INFERRED}).encode()
    assert count_of(app, "/sparql", "POST", form, **{"Content-Type": "application/x-www-form-urlencoded"}) \
        == inferred
    named = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{INFERRED}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    assert count_of(app, "/sparql?query=" + q(named)) == inferred
    # a prefix called `from` is a name, not a dataset clause
    prefixed = "PREFIX from: <urn:from:> SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o FILTER(?p != from:x) }"
    assert count_of(app, "/sparql?query=" + q(prefixed)) == everything


@pytest.mark.parametrize(("fmt", "kind", "media"), [
    ("json", "select", "application/sparql-results+json"), ("xml", "select", "application/sparql-results+xml"),
    ("csv", "select", "text/csv"), ("tsv", "select", "text/tab-separated-values"),
    ("xml", "graph", "application/rdf+xml"), ("rdf+xml", "graph", "application/rdf+xml"),
    ("turtle", "graph", "text/turtle"), ("n3", "graph", "text/turtle"), ("json-ld", "graph", "application/ld+json"),
    ("json", "graph", "application/ld+json"),
])
def test_format_names_clients_send(app, fmt: str, kind: str, media: str) -> None:
    text = SELECT if kind == "select" else CONSTRUCT
    status, headers, body = get(app, f"/sparql?format={q(fmt)}&query=" + q(text))
    assert status == 200 and headers["Content-Type"].startswith(media), body
    if kind == "graph":
        syntax = {"application/rdf+xml": "xml", "text/turtle": "turtle", "application/ld+json": "json-ld"}[media]
        graph = rdflib.Graph().parse(data=body.decode(), format=syntax)
        assert sorted(str(o) for o in graph.objects()) == ISLANDS


def test_construct_as_rdf_xml_by_accept(app) -> None:
    status, headers, body = get(app, "/sparql?query=" + q(CONSTRUCT), ACCEPT="application/rdf+xml")
    assert status == 200 and headers["Content-Type"].startswith("application/rdf+xml")
    assert sorted(str(o) for o in rdflib.Graph().parse(data=body.decode(), format="xml").objects()) == ISLANDS


def test_host_allow_list_and_cors(kg) -> None:
    app = make_app(kg, Settings())
    for host in ("localhost:8000", "127.0.0.1", "[::1]:80", "LOCALHOST."):
        assert get(app, "/api/queries", HOST=host)[0] == 200, host
    status, headers, body = get(app, "/api/queries", HOST="attacker.example")
    assert status == 421 and "--allowed-host" in json.loads(body)["error"]
    assert "Access-Control-Allow-Origin" not in headers
    named = make_app(kg, Settings(allowed_hosts=("localhost", "kg.example.org"), cors=True))
    status, headers, _ = get(named, "/api/queries", HOST="kg.example.org")
    assert status == 200 and headers["Access-Control-Allow-Origin"] == "*"
    status, headers, _ = call(named, "/sparql", "OPTIONS", headers={"Host": "kg.example.org"})
    assert status == 204 and "GET" in headers["Access-Control-Allow-Methods"]


def test_bad_content_length_is_json_400(app) -> None:
    for value in ("-5", "abc", "1e3"):
        status, _, body = call(app, "/sparql", "POST", b"", {"Content-Type": "application/sparql-query",
                                                                 "Content-Length": value})
        assert status == 400 and json.loads(body)["status"] == 400, (value, body)


def test_service_description(app) -> None:
    status, _, body = get(app, "/sparql", ACCEPT="text/turtle")
    assert status == 200
    g = rdflib.Graph().parse(data=body.decode(), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, rdflib.RDF.type, sd.Service) in g
    assert (None, sd.supportedLanguage, sd.SPARQL11Query) in g
    assert (None, sd.supportedLanguage, sd.SPARQL11Update) not in g


def test_stored_query_http_answer_equals_the_cli_answer(app, built_project: Path) -> None:
    for fmt in ("json", "csv", "tsv", "xml"):
        status, _, body = get(app, f"{CLAIMS}&_format={fmt}")
        assert status == 200, body
        cli = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(built_project), "query", "run",
                              "claims", "-p", "state=Japan", "--format", fmt], capture_output=True, timeout=120)
        assert cli.returncode == 0, cli.stderr
        if fmt == "json":
            assert json.loads(body) == json.loads(cli.stdout)
        else:
            assert body == cli.stdout  # byte for byte (CSV has CRLF line ends)


def test_stored_query_errors_are_json_400(app) -> None:
    cases = {
        "/api/queries/claims?state=Atlantis": "nothing",
        "/api/queries/claimz": "did you mean 'claims'",
        "/api/queries/claims?colour=red": "has no parameter 'colour'",
        "/api/queries/agreement-provisions": "needs parameter 'agreement'",
        "/api/queries/timeline?from=yesterday": "expects an xsd:date",
        "/api/queries/claims?_limit=none": "_limit",
        "/api/queries/claims?_timeout=nan": "_timeout",
        "/api/queries/claims?_limit=0": "_limit",
        "/api/queries/claims?_format=pdf": "format 'pdf'",
        "/api/queries/claims?_shape=array": "unknown option",
        "/api/queries/claims?state=Japan&state=Russia": "given twice",
    }
    for path, message in cases.items():
        status, headers, body = get(app, path)
        doc = json.loads(body)
        assert status == 400 and headers["Content-Type"].startswith("application/json"), (path, body)
        assert message in doc["error"] and doc["status"] == 400, (path, doc)


def test_row_cap_is_reported_as_truncated(app) -> None:
    status, headers, body = get(app, "/api/queries/provenance?subject=Shikotan&_limit=2")
    doc = json.loads(body)
    assert status == 200 and len(doc["results"]["bindings"]) == 2
    assert doc["truncated"] is True and headers["Dispute-KG-Truncated"] == "true"
    status, headers, body = get(app, "/api/queries/provenance?subject=Shikotan&_limit=5000")
    assert "truncated" not in json.loads(body) and "Dispute-KG-Truncated" not in headers
    # the server's cap (100 here) wins over a larger _limit
    status, headers, body = get(app, "/sparql?query=" + q("SELECT * WHERE { ?s ?p ?o }") + "&_limit=5000")
    assert len(json.loads(body)["results"]["bindings"]) == 100 and headers["Dispute-KG-Truncated"] == "true"


def test_list_of_queries(app, kg) -> None:
    status, _, body = get(app, "/api/queries")
    listed = json.loads(body)["queries"]
    assert status == 200 and [x["name"] for x in listed] == [x.name for x in kg.queries()]
    claims = next(x for x in listed if x["name"] == "claims")
    assert claims["parameters"][0]["name"] == "state" and claims["url"] == "/api/queries/claims"


def test_openapi_document_validates(app, kg) -> None:
    from openapi_spec_validator import validate

    status, _, body = get(app, "/openapi.json")
    doc = json.loads(body)
    assert status == 200
    validate(doc)
    assert {f"/api/queries/{x.name}" for x in kg.queries()} <= set(doc["paths"])
    params = {p["name"]: p for p in doc["paths"]["/api/queries/agreement-provisions"]["get"]["parameters"]}
    assert params["agreement"]["required"] is True and params["_limit"]["required"] is False


def test_service_clause_is_refused_unless_allowed(kg) -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    query = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{port}/sparql> {{ ?s ?p ?o }} }}"
    status, _, body = get(make_app(kg, Settings()), "/sparql?query=" + q(query))
    assert status == 403 and "SERVICE" in json.loads(body)["error"]
    # allowed: the request is attempted (and fails, as nothing listens there), not refused
    status, _, body = get(make_app(kg, Settings(allow_service=True, timeout=5)), "/sparql?query=" + q(query))
    assert status == 502, body


UPDATES = [
    "INSERT DATA { <https://w3id.org/dispute-kg/id/x> <http://www.w3.org/2000/01/rdf-schema#label> 'x' }",
    "DELETE WHERE { ?s ?p ?o }", "CLEAR ALL", "DROP ALL",
]


@pytest.mark.parametrize("settings", [Settings(), Settings(allow_update=True, update_token=TOKEN)])
def test_sparql_update_is_never_applied_and_points_to_the_additions_endpoint(kg, settings: Settings) -> None:
    app = make_app(kg, settings)
    before = count_of(app, "/sparql?query=" + q(COUNT))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    for update in UPDATES:
        for body, ctype in ((urllib.parse.urlencode({"update": update}).encode(), "application/x-www-form-urlencoded"),
                            (update.encode(), "application/sparql-update")):
            status, _, out = call(app, "/sparql", "POST", body, {"Content-Type": ctype, **auth})
            assert status == 403 and "/api/additions" in json.loads(out)["error"], out
        assert call(app, "/sparql?update=" + q(update))[0] == 405
        # an update sent as a query is a syntax error of the query language, never run
        status, _, out = call(app, "/sparql?query=" + q(update))
        assert status == 400, out
    assert count_of(app, "/sparql?query=" + q(COUNT)) == before


def test_unknown_path_and_method(app) -> None:
    assert get(app, "/nothing")[0] == 404
    status, headers, _ = call(app, "/api/queries", "POST")
    assert status == 405 and headers["Allow"] == "GET, HEAD"


def test_get_option_answers_one_request(built_project: Path) -> None:
    ok = run_cli("--project", str(built_project), "serve", "--get", CLAIMS + "&_format=csv")
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[0].startswith("claim,claimant,claimantLabel")
    bad = run_cli("--project", str(built_project), "serve", "--get", "/api/queries/claims?state=Atlantis")
    assert bad.returncode == 1 and json.loads(bad.stdout)["status"] == 400


def test_allow_update_without_a_token_in_the_environment_is_refused(built_project: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DISPUTE_KG_UPDATE_TOKEN"}
    result = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(built_project), "serve",
                             "--allow-update", "--get", "/"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2 and "DISPUTE_KG_UPDATE_TOKEN" in result.stderr


def test_help_says_why_it_binds_to_loopback() -> None:
    result = run_cli("serve", "--help")
    assert result.returncode == 0
    assert "127.0.0.1" in result.stdout and "only this machine" in result.stdout


# -- a real server process ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def server(built_project: Path):
    """`python -m dispute_kg serve -p 0 --allow-update` on the built project, stopped after."""
    env = {**os.environ, "DISPUTE_KG_UPDATE_TOKEN": TOKEN}
    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(built_project),
                             "serve", "-p", "0", "--timeout", "1", "--allow-update"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = proc.stdout.readline()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", line)
        assert match, line + proc.stderr.read() if proc.poll() is not None else line
        base = f"http://127.0.0.1:{match.group(1)}"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=2) as r:
                    assert r.status == 200
                break
            except OSError:
                assert time.monotonic() < deadline and proc.poll() is None, "serve did not come up"
                time.sleep(0.1)
        yield base
        assert proc.poll() is None, "serve died during the tests"
    finally:
        proc.terminate()
        proc.wait(10)


def test_sparqlwrapper_against_serve(server: str) -> None:
    from SPARQLWrapper import JSON, POST, XML, SPARQLWrapper

    sw = SPARQLWrapper(server + "/sparql")
    sw.setQuery(SELECT)
    sw.setReturnFormat(JSON)
    assert [b["label"]["value"] for b in sw.queryAndConvert()["results"]["bindings"]] == ISLANDS
    sw.setReturnFormat(XML)
    sw.setMethod(POST)
    doc = sw.queryAndConvert()
    assert sorted(n.firstChild.data for n in doc.getElementsByTagName("literal")) == ISLANDS
    sw.setQuery("ASK { ?s a <https://w3id.org/dispute-kg/def#Island> }")
    sw.setReturnFormat(JSON)
    assert sw.queryAndConvert()["boolean"] is True


def test_urllib_stored_query_against_serve_equals_in_process(server: str, app) -> None:
    with urllib.request.urlopen(server + CLAIMS + "&_format=csv", timeout=30) as r:
        assert r.status == 200 and r.headers["Content-Type"].startswith("text/csv")
        body = r.read()
    assert body == get(app, CLAIMS + "&_format=csv")[2]


def test_update_changes_nothing_on_serve(server: str) -> None:
    def n() -> int:
        with urllib.request.urlopen(server + "/sparql?query=" + q(COUNT), timeout=30) as r:
            return int(json.loads(r.read())["results"]["bindings"][0]["n"]["value"])

    before = n()
    update = "DELETE WHERE { ?s ?p ?o }"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": f"bearer {TOKEN}"}):
        req = urllib.request.Request(server + "/sparql", data=update.encode(), method="POST",
                                     headers={"Content-Type": "application/sparql-update", **headers})
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(req, timeout=30)
        assert err.value.code == 403
    assert n() == before > 0


def test_query_over_the_timeout_is_answered_within_the_timeout_plus_one_second(server: str) -> None:
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server + "/sparql?query=" + q(SLOW), timeout=30)
    elapsed = time.monotonic() - started
    assert err.value.code == 503 and "stopped after 1 s" in json.loads(err.value.read())["error"]
    assert elapsed < 1 + 1, elapsed
