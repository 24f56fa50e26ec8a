"""The one SPARQL HTTP client against real local servers: stdlib stubs that trickle, throttle, answer
HTML or ask for credentials, and a real `oxigraph serve` for real queries."""

from __future__ import annotations

import hashlib
import http.server
import json
import socket
import time
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import run_cli
from servers import oxigraph_serve, stub_server

from dispute_kg.errors import BackendUnavailable, InputError, QueryTimeout
from dispute_kg.rdf.terms import iri, literal
from dispute_kg.stores.base import open_store
from dispute_kg.stores.http_client import Auth, HttpClient, RetryPolicy, SparqlClient

ASK_TRUE = json.dumps({"head": {}, "boolean": True}).encode()
REALM, NONCE = "sparql", "5ccc069c403ebaf9f0171e9517f40e41"


def _digest_ok(header: str, method: str, user: str, password: str) -> bool:
    """The server side of RFC 7616 digest (MD5, qop=auth), written here from the RFC."""
    if not header.startswith("Digest "):
        return False
    fields = {}
    for part in header[7:].split(","):
        key, _, value = part.strip().partition("=")
        fields[key] = value.strip('"')

    def md5(text: str) -> str:
        return hashlib.md5(text.encode()).hexdigest()  # the protocol's hash

    ha1 = md5(f"{user}:{REALM}:{password}")
    ha2 = md5(f"{method}:{fields.get('uri', '')}")
    expected = md5(f"{ha1}:{NONCE}:{fields.get('nc')}:{fields.get('cnonce')}:auth:{ha2}")
    return fields.get("username") == user and fields.get("response") == expected


class Stub(http.server.BaseHTTPRequestHandler):
    """Answers by `mode`: ok, trickle-body, trickle-head, html, 429-then-ok, 503, basic, digest."""

    mode: ClassVar[str] = "ok"
    seen: ClassVar[list[tuple[float, dict[str, str]]]] = []
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self._answer()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._answer()

    def _answer(self) -> None:
        Stub.seen.append((time.monotonic(), dict(self.headers)))
        mode = Stub.mode
        try:
            if mode == "trickle-body":
                self.send_response(200)
                self.send_header("Content-Type", "application/sparql-results+json")
                self.send_header("Content-Length", "40")
                self.end_headers()
                for _ in range(40):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == "trickle-head":
                for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"a" * 40:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.5)
            elif mode == "html":
                self._send(200, b"<!DOCTYPE html><html><body>Welcome to our portal</body></html>", "text/html")
            elif mode == "429-then-ok" and len(Stub.seen) == 1:
                self._send(429, b"slow down", "text/plain", {"Retry-After": "1"})
            elif mode in ("502", "503"):
                self._send(int(mode), b"busy", "text/plain")
            elif mode == "basic" and self.headers.get("Authorization") != "Basic dXNlcjpzM2NyZXQ=":
                self._send(401, b"who?", "text/plain", {"WWW-Authenticate": 'Basic realm="x"'})
            elif mode == "digest" and not _digest_ok(self.headers.get("Authorization", ""), self.command,
                                                      "user", "s3cret"):
                self._send(401, b"who?", "text/plain",
                           {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", '
                                                'algorithm=MD5'})
            else:
                self._send(200, ASK_TRUE, "application/sparql-results+json")
        except OSError:
            pass  # the client hung up, as it should at its deadline

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stub():
    Stub.seen = []
    with stub_server(Stub) as url:

        def start(mode: str) -> str:
            Stub.mode = mode
            return url

        yield start


def client(url: str, **policy) -> SparqlClient:
    return SparqlClient(url, http=HttpClient(RetryPolicy(**{"timeout": 5, "retries": 0, "backoff": 0.01,
                                                            **policy})))


@pytest.mark.parametrize("mode", ["trickle-body", "trickle-head"])
def test_a_trickling_server_cannot_hold_an_attempt_past_its_timeout(stub, mode: str) -> None:
    url = stub(mode)
    started = time.monotonic()
    with pytest.raises(QueryTimeout, match=r"did not answer within 1\.5 s"):
        client(url, timeout=1.5).select("ASK {}")
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 3.0, elapsed  # each byte came within 0.5 s: only a wall clock stops this
    assert socket.getdefaulttimeout() is None  # and nothing process-wide was changed to get there


def test_retry_after_is_honoured_then_the_answer_returned(stub) -> None:
    url = stub("429-then-ok")
    assert client(url, retries=2, backoff=0.01).select("ASK {}")["boolean"] is True
    assert len(Stub.seen) == 2
    assert Stub.seen[1][0] - Stub.seen[0][0] >= 0.95  # waited Retry-After: 1, not the 0.01 s backoff


def test_an_update_is_not_repeated_after_a_failure_the_server_may_have_acted_on(stub) -> None:
    url = stub("503")
    sc = SparqlClient(url, url, http=HttpClient(RetryPolicy(timeout=5, retries=2, backoff=0.01)))
    with pytest.raises(BackendUnavailable, match="HTTP 503"):
        sc.update("INSERT DATA { <http://a> <http://b> <http://c> }")
    assert len(Stub.seen) == 3  # 503 says the server did not act: repeating is safe
    Stub.seen.clear()
    Stub.mode = "502"  # a gateway error: the update may have been applied behind it
    with pytest.raises(BackendUnavailable, match="HTTP 502"):
        sc.update("INSERT DATA { <http://a> <http://b> <http://c> }")
    assert len(Stub.seen) == 1
    Stub.seen.clear()
    with pytest.raises(BackendUnavailable, match=r"HTTP 502.*3 attempts"):
        sc.select("ASK {}")  # a query is repeated
    assert len(Stub.seen) == 3


def test_html_instead_of_results_is_one_line_exit_3(stub, built_project: Path) -> None:
    url = stub("html")
    with pytest.raises(BackendUnavailable, match=r"answered HTTP 200 with text/html, not SPARQL JSON results"):
        client(url).select("ASK {}")
    res = run_cli("--project", str(built_project), "-s", f"sparql:{url}", "query", "run", "sources")
    assert res.returncode == 3, res.stderr
    assert res.stderr.count("\n") == 1 and "text/html" in res.stderr and "Traceback" not in res.stderr


def test_a_trickling_endpoint_ends_the_cli_with_exit_3(stub, built_project: Path) -> None:
    url = stub("trickle-body")
    started = time.monotonic()
    res = run_cli("--project", str(built_project), "-s", f"sparql:{url}", "query", "run", "sources",
                  "--timeout", "1")
    assert res.returncode == 3, res.stderr
    assert "did not answer within 1 s" in res.stderr and res.stderr.count("\n") == 1
    assert time.monotonic() - started < 15


def test_basic_auth_from_the_environment(stub, monkeypatch) -> None:
    url = stub("basic")
    with pytest.raises(BackendUnavailable, match="DISPUTE_KG_SPARQL_USER"):
        client(url).select("ASK {}")
    monkeypatch.setenv("DISPUTE_KG_SPARQL_USER", "user")
    monkeypatch.setenv("DISPUTE_KG_SPARQL_PASSWORD", "s3cret")
    assert open_store(f"sparql:{url}").query("ASK {}").boolean is True


def test_digest_auth_answers_the_challenge(stub) -> None:
    url = stub("digest")
    sc = SparqlClient(url, http=HttpClient(RetryPolicy(timeout=5, retries=0), auth=Auth("user", "s3cret")))
    assert sc.select("ASK {}")["boolean"] is True
    assert Stub.seen[-1][1]["Authorization"].startswith("Digest ")
    wrong = SparqlClient(url, http=HttpClient(RetryPolicy(timeout=5, retries=0), auth=Auth("user", "nope")))
    with pytest.raises(BackendUnavailable, match="HTTP 401"):
        wrong.select("ASK {}")


def test_user_agent_is_descriptive_and_sent_once(stub) -> None:
    url = stub("ok")
    client(url).select("ASK {}")
    headers = Stub.seen[0][1]
    agent = [v for k, v in headers.items() if k.lower() == "user-agent"]
    assert len(agent) == 1 and agent[0].startswith("dispute-kg/") and "https://w3id.org/dispute-kg" in agent[0]


def test_nothing_answers_exit_3_and_bad_policies_are_refused() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnavailable, match="cannot reach"):
        client(f"http://127.0.0.1:{port}/q").select("ASK {}")
    for bad in ({"timeout": 0}, {"retries": -1}, {"backoff": -1}):
        with pytest.raises(InputError):
            RetryPolicy(**bad)


def test_real_endpoint_keeps_lexical_forms_and_binds_terms(tmp_path: Path) -> None:
    """Against `oxigraph serve`: write with INSERT DATA (N-Triples by pyoxigraph), read back unchanged."""
    with oxigraph_serve(tmp_path / "srv") as selector:
        store = open_store(selector)
        # a datatype Oxigraph stores as text (it stores xsd numbers by value: "01"^^xsd:integer comes back "1")
        one = {"type": "literal", "value": "01", "datatype": "http://example.org/code"}
        odd = literal('quote " backslash \\ newline \n tab \t bell \x07', lang="en")
        store.add_quads([(iri("http://ex/a"), iri("http://ex/p"), one, iri("http://ex/g")),
                         (iri("http://ex/a"), iri("http://ex/q"), odd, iri("http://ex/g"))])
        rows = store.query("SELECT ?p ?o WHERE { ?s ?p ?o } ORDER BY ?p").rows
        assert rows == [{"p": iri("http://ex/p"), "o": one}, {"p": iri("http://ex/q"), "o": odd}]
        bound = store.query("SELECT ?s WHERE { ?s ?p ?o }", {"o": one}).rows
        assert bound == [{"s": iri("http://ex/a")}]
        assert store.query("SELECT ?s WHERE { ?s ?p ?o }", {"o": literal("1", one["datatype"])}).rows == []
