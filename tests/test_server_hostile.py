"""A hostile client against a real `python -m dispute_kg serve`: requests that try to make the server reach
another host, queries nested until a parser breaks, queries that outrun their time, slow and malformed
requests, a second server on the same port. After each, the server must answer a normal query correctly,
and a loopback listener standing in for an internal service must never see a connection."""

from __future__ import annotations

import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_validate import GOOD

SELECT = ("SELECT ?label WHERE { ?s a <https://w3id.org/dispute-kg/def#Island> ; "
          "<http://www.w3.org/2000/01/rdf-schema#label> ?label } ORDER BY ?label")
ISLANDS = ["Iturup", "Kunashir", "Shikotan"]
TOKEN = "hostile-suite-token"


class Server:
    def __init__(self, proc: subprocess.Popen, port: int, banner: str) -> None:
        self.proc, self.port, self.banner = proc, port, banner

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict[str, str] | None = None,
                timeout: float = 60) -> tuple[int, dict[str, str], bytes]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def islands(self) -> list[str]:
        """The normal query every hostile request is followed by."""
        status, _, body = self.request("GET", "/sparql?query=" + urllib.parse.quote(SELECT),
                                       headers={"Accept": "application/sparql-results+json"})
        assert status == 200, body
        return [b["label"]["value"] for b in json.loads(body)["results"]["bindings"]]


def start(project: Path, *args: str, env: dict[str, str] | None = None) -> Server:
    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(project), "serve", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/sparql", line)
    if not match:
        proc.kill()
        raise AssertionError(line + proc.stderr.read())
    return Server(proc, int(match.group(1)), line)


def stop(server: Server) -> None:
    server.proc.terminate()
    server.proc.wait(20)


class Listener:
    """A loopback TCP listener counting every connection it accepts."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.connections += 1
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/sparql-results+json\r\n"
                         b"Content-Length: 52\r\n\r\n{\"head\":{\"vars\":[\"x\"]},\"results\":{\"bindings\":[]}}")
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join(2)
        self.sock.close()


@pytest.fixture(scope="module")
def listener() -> Iterator[Listener]:
    lst = Listener()
    yield lst
    lst.close()


@pytest.fixture(scope="module")
def served(built_project: Path) -> Iterator[Server]:
    server = start(built_project, "-p", "0", "--timeout", "2", "--workers", "2", "--request-timeout", "2",
                   "--idle-timeout", "4", "--allow-update", env={"DISPUTE_KG_UPDATE_TOKEN": TOKEN})
    try:
        assert server.islands() == ISLANDS
        yield server
        assert server.proc.poll() is None, "the server died"
    finally:
        stop(server)


# -- outbound requests ------------------------------------------------------------------------------
def bypass_queries(url: str) -> list[str]:
    """Queries that would reach `url` if SERVICE (or anything else) were evaluated."""
    host_port = url.removeprefix("http://").rstrip("/")
    triple = "{ ?x ?y ?z }"
    return [
        f"SELECT * WHERE {{ SERVICE <{url}> {triple} }}",
        f"select * where {{ service silent <{url}> {triple} }}",
        f"PREFIX ex: <urn:ex:> SELECT ?x WHERE {{ BIND(ex:a AS ?o) FILTER(?o != ex:a\\#) SERVICE <{url}> {triple} }}",
        f"PREFIX ex: <urn:ex:> SELECT ?x WHERE {{ BIND(ex:a AS ?o) FILTER(?o != ex:a\\') SERVICE <{url}> {triple} }}",
        f"SELECT * WHERE {{ SERVIC\\u0045 <{url}> {triple} }}",
        f"SELECT * WHERE {{ \\u0053ERVICE <{url}> {triple} }}",
        f"SELECT * WHERE {{ SERVICE <http\\u003A//{host_port}/> {triple} }}",
        f"SELECT * WHERE {{ SERVICE # a comment }}\n <{url}> {triple} }}",
        f"SELECT * WHERE {{ FILTER(\"}}\" != \"{{\") SERVICE <{url}> {triple} }}",
        f"SELECT * WHERE {{ ?s ?p '''SERVICE''' . SERVICE <{url}> {triple} }}",
        f"PREFIX s: <{url}> SELECT * WHERE {{ SERVICE s: {triple} }}",
        f"BASE <{url}> SELECT * WHERE {{ SERVICE <> {triple} }}",
        f"SELECT * WHERE {{ {{ {{ {{ SERVICE <{url}> {triple} }} }} }} }}",
        f"SELECT * WHERE {{ {{ SELECT * WHERE {{ SERVICE <{url}> {triple} }} }} }}",
        f"SELECT * WHERE {{ ?s ?p ?o OPTIONAL {{ SERVICE <{url}> {triple} }} }} LIMIT 1",
        f"SELECT * WHERE {{ {{ ?s ?p ?o }} UNION {{ SERVICE <{url}> {triple} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?s ?p ?o MINUS {{ SERVICE <{url}> {triple} }} }} LIMIT 1",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{url}> {triple} }} }} LIMIT 1",
        f"SELECT * WHERE {{ BIND(<{url}> AS ?endpoint) SERVICE ?endpoint {triple} }}",
        f"ASK {{ SERVICE <{url}> {triple} }}",
        f"CONSTRUCT {{ ?x ?y ?z }} WHERE {{ SERVICE <{url}> {triple} }}",
        f"DESCRIBE ?x WHERE {{ SERVICE <{url}> {triple} }}",
        f"SELECT * FROM <{url}> WHERE {{ ?s ?p ?o }}",
        f"SELECT * WHERE {{ GRAPH <{url}> {{ ?s ?p ?o }} }}",
        f"SELECT (IRI(\"{url}\") AS ?i) WHERE {{}}",
    ]


def update_forms(url: str) -> list[str]:
    g = "<urn:g>"
    return [
        f"LOAD <{url}>", f"LOAD SILENT <{url}> INTO GRAPH {g}", f"load <http\\u003A//{url[7:]}>",
        "INSERT DATA { <urn:a> <urn:b> <urn:c> }", "DELETE DATA { <urn:a> <urn:b> <urn:c> }",
        "DELETE WHERE { ?s ?p ?o }", f"INSERT {{ ?x ?y ?z }} WHERE {{ SERVICE <{url}> {{ ?x ?y ?z }} }}",
        f"WITH {g} DELETE {{ ?s ?p ?o }} INSERT {{ ?s ?p 1 }} WHERE {{ ?s ?p ?o }}",
        f"DELETE {{ ?s ?p ?o }} USING <{url}> WHERE {{ ?s ?p ?o }}",
        "CLEAR ALL", "CLEAR DEFAULT", f"CLEAR GRAPH {g}", "DROP ALL", f"DROP SILENT GRAPH {g}",
        f"CREATE GRAPH {g}", f"ADD DEFAULT TO {g}", f"MOVE DEFAULT TO {g}", f"COPY DEFAULT TO {g}",
        f"PREFIX x: <urn:x:> LOAD <{url}> ; CLEAR ALL",
    ]


def routes(text: str) -> list[tuple[str, str, bytes | None, dict[str, str]]]:
    """Every way a query or an update reaches the server."""
    quoted = urllib.parse.quote(text, safe="")
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    return [
        ("GET", "/sparql?query=" + quoted, None, {}),
        ("POST", "/sparql", text.encode(), {"Content-Type": "application/sparql-query"}),
        ("POST", "/sparql", urllib.parse.urlencode({"query": text}).encode(), form),
        ("POST", "/sparql", text.encode(), {"Content-Type": "application/sparql-update",
                                            "Authorization": f"Bearer {TOKEN}"}),
        ("POST", "/sparql", urllib.parse.urlencode({"update": text}).encode(),
         {**form, "Authorization": f"Bearer {TOKEN}"}),
        ("GET", "/sparql-editor?query=" + quoted, None, {}),
        ("POST", "/sparql-editor", urllib.parse.urlencode({"query": text}).encode(), form),
        ("GET", "/api/queries/claims?state=" + quoted, None, {}),
        ("GET", "/query/claims?state=" + quoted, None, {}),
        ("GET", "/entity/" + quoted, None, {}),
    ]


def test_no_request_reaches_another_host_by_any_route(served: Server, listener: Listener) -> None:
    url = f"http://127.0.0.1:{listener.port}/"
    answered: dict[int, int] = {}
    for text in [*bypass_queries(url), *update_forms(url)]:
        for method, path, body, headers in routes(text):
            status, response_headers, out = served.request(method, path, body, headers)
            answered[status] = answered.get(status, 0) + 1
            assert status < 500, (text, path, status, out[:300])
            if path.startswith(("/sparql?", "/api/")) or path == "/sparql":
                assert response_headers["Content-Type"].startswith(("application/json", "application/sparql",
                                                                    "text/turtle")), (text, path)
        assert listener.connections == 0, text
    assert served.islands() == ISLANDS
    assert listener.connections == 0
    assert answered.get(403, 0) > 50, answered  # refusals, not only syntax errors
    assert "workers cannot open network sockets" in served.banner


def test_the_listener_would_see_federation_when_allowed(built_project: Path, listener: Listener) -> None:
    """The same listener does see a SERVICE request from a server started with --allow-service."""
    server = start(built_project, "-p", "0", "--workers", "1", "--allow-service")
    try:
        before = listener.connections
        text = f"SELECT * WHERE {{ SERVICE <http://127.0.0.1:{listener.port}/> {{ ?x ?y ?z }} }}"
        status, _, body = server.request("GET", "/sparql?query=" + urllib.parse.quote(text))
        assert listener.connections == before + 1, (status, body)
        listener.connections = before
    finally:
        stop(server)


@pytest.mark.parametrize("text", [
    "SELECT ?service WHERE { ?service a <https://w3id.org/dispute-kg/def#Island> } ORDER BY ?service LIMIT 1",
    "PREFIX service: <https://w3id.org/dispute-kg/def#> SELECT ?s WHERE { ?s a service:Island } LIMIT 1",
    "PREFIX insert: <https://w3id.org/dispute-kg/def#> SELECT ?s WHERE { ?s a insert:Island } LIMIT 1",
    "PREFIX with: <https://w3id.org/dispute-kg/def#> SELECT ?s WHERE { ?s a with:Island } LIMIT 1",
    "PREFIX load: <https://w3id.org/dispute-kg/def#> SELECT ?s WHERE { ?s a load:Island } LIMIT 1",
])
def test_ordinary_names_are_not_keywords(served: Server, text: str) -> None:
    status, _, body = served.request("GET", "/sparql?query=" + urllib.parse.quote(text),
                                     headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    assert len(json.loads(body)["results"]["bindings"]) == 1


# -- nesting ----------------------------------------------------------------------------------------
def nested(kind: str, depth: int) -> str:
    if kind == "braces":
        return "SELECT * WHERE " + "{ " * depth + "?s ?p ?o " + "} " * depth + "LIMIT 1"
    if kind == "parentheses":
        return "SELECT * WHERE { ?s ?p ?o FILTER(" + "(" * depth + "1" + ")" * depth + ") } LIMIT 1"
    if kind == "sub-selects":
        return "SELECT * WHERE { " + "{ SELECT * WHERE " * depth + "{ ?s ?p ?o }" + " }" * depth + " } LIMIT 1"
    return "SELECT * WHERE { ?s ?p ?o " + "OPTIONAL { ?s ?p ?o " * depth + "}" * depth + " } LIMIT 1"


@pytest.mark.parametrize("kind", ["braces", "parentheses", "sub-selects", "optionals"])
def test_deep_nesting_never_takes_the_server_down(served: Server, kind: str) -> None:
    for depth in (10, 100, 1000, 10000):
        text = nested(kind, depth)
        status, headers, body = served.request("POST", "/sparql", text.encode(),
                                               {"Content-Type": "application/sparql-query"})
        assert headers["Content-Type"].startswith(("application/json", "application/sparql-results+json")), body
        if status != 200:  # a crashed worker (500), the time limit (503) or a refusal (400), in JSON
            assert status in (400, 500, 503) and json.loads(body)["status"] == status, (depth, body[:300])
        assert served.islands() == ISLANDS, (kind, depth)
        if depth <= 100:
            assert status == 200, (kind, depth, body[:300])
    # the same through GET and through the SPARQL page
    text = nested(kind, 10000)
    status, _, body = served.request("POST", "/sparql-editor", urllib.parse.urlencode({"query": text}).encode(),
                                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert status < 600 and served.islands() == ISLANDS


def test_a_crash_is_noticed_by_no_other_request(served: Server) -> None:
    """Normal queries from four clients all succeed while workers crash on deep nesting beside them."""
    failures: list[str] = []
    done = threading.Event()

    def normal() -> None:
        while not done.is_set():
            try:
                labels = served.islands()
            except AssertionError as exc:
                failures.append(str(exc)[:200])
                continue
            if labels != ISLANDS:
                failures.append(repr(labels))

    clients = [threading.Thread(target=normal) for _ in range(4)]
    for t in clients:
        t.start()
    try:
        for _ in range(3):
            status, _, body = served.request("POST", "/sparql", nested("braces", 10000).encode(),
                                             {"Content-Type": "application/sparql-query"})
            assert status in (400, 500) and json.loads(body)["status"] == status
    finally:
        done.set()
        for t in clients:
            t.join(60)
    assert failures == []


# -- time and memory --------------------------------------------------------------------------------
def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def usage(pids: list[int]) -> tuple[float, int]:
    """CPU seconds used so far and resident bytes now, summed over `pids` that are still alive."""
    ticks, rss = 0, 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{pid}/statm") as f:
                rss += int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except OSError:
            continue
        if fields[0] != "Z":
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK"), rss


def test_timeout_ends_the_work_and_frees_the_memory(served: Server) -> None:
    served.islands()
    before_pids = descendants(served.proc.pid)
    _, baseline_rss = usage(before_pids)
    runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
    started = time.monotonic()
    status, _, body = served.request("GET", "/sparql?_timeout=1&query=" + urllib.parse.quote(runaway))
    assert status == 503 and "stopped after 1 s" in json.loads(body)["error"]
    answered = time.monotonic()
    time.sleep(2)  # the 503 plus 2 s
    pids = descendants(served.proc.pid)
    cpu0, rss = usage(pids)
    time.sleep(1)
    cpu1, _ = usage(pids)
    assert cpu1 - cpu0 < 0.3, f"the workers used {cpu1 - cpu0:.2f} s of CPU in the second after (nothing runs)"
    assert rss < baseline_rss * 1.3 + 64 * 2**20, (rss, baseline_rss)
    assert set(pids) != set(before_pids), "the worker that ran the query was not replaced"
    assert answered - started < 1 + 2
    assert served.islands() == ISLANDS


def test_memory_cap_ends_a_runaway_worker(built_project: Path) -> None:
    server = start(built_project, "-p", "0", "--timeout", "60", "--workers", "1", "--worker-memory", "128")
    try:
        runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
        status, _, body = server.request("GET", "/sparql?query=" + urllib.parse.quote(runaway), timeout=120)
        assert status in (500, 503) and json.loads(body)["status"] == status, body[:300]
        assert server.islands() == ISLANDS
    finally:
        stop(server)


# -- HTTP -------------------------------------------------------------------------------------------
def test_keep_alive_serves_many_requests_on_one_connection(served: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    conn.connect()
    sock = conn.sock
    for _ in range(5):
        conn.request("GET", "/api/queries/claims?state=Japan&_limit=1")
        response = conn.getresponse()
        assert response.status == 200 and response.version == 11
        response.read()
    assert conn.sock is sock
    conn.close()


def test_slow_header_clients_hold_no_thread_and_are_cut_off(served: Server) -> None:
    slow = []
    for _ in range(300):
        s = socket.create_connection(("127.0.0.1", served.port))
        s.sendall(b"GET /sparql?query=ASK%7B%7D HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
        slow.append(s)
    try:
        assert served.islands() == ISLANDS  # answered while 300 requests are still arriving
        deadline = time.monotonic() + 15
        for s in slow:  # cut off after --request-timeout (2 s) without completing their request
            s.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                assert s.recv(1024) == b""
            except ConnectionResetError:
                pass
    finally:
        for s in slow:
            s.close()


def raw(served: Server, data: bytes) -> tuple[int, bytes]:
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as s:
        s.sendall(data)
        chunks = []
        while True:
            try:
                chunk = s.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    return int(head.split()[1]), body


def test_malformed_requests_get_json_errors(served: Server) -> None:
    cases = [
        b"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: -5\r\nConnection: close\r\n\r\n",
        b"GET /sparql?query=" + b"A" * 40000 + b" HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n",
        b"GET /sparql HTTP/1.1\r\nHost: localhost\r\nX-Big: " + b"b" * 40000 + b"\r\nConnection: close\r\n\r\n",
        b"POST /sparql HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/sparql-query\r\n"
        b"Content-Length: 99999999\r\nConnection: close\r\n\r\n",
        b"GET /sparql HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    ]
    for data in cases:
        status, body = raw(served, data)
        assert 400 <= status < 500 and json.loads(body)["status"] == status, (data[:80], status, body[:200])
    assert served.islands() == ISLANDS


def test_chunked_body(served: Server) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", served.port, timeout=30)
    parts = [SELECT[:20].encode(), SELECT[20:].encode()]
    conn.request("POST", "/sparql", body=iter(parts), encode_chunked=True,
                 headers={"Content-Type": "application/sparql-query", "Accept": "text/csv"})
    response = conn.getresponse()
    assert response.status == 200
    assert response.read().decode().split("\r\n")[1:4] == ISLANDS
    conn.close()


def responses(data: bytes) -> list[tuple[int, dict[str, str], bytes]]:
    """The responses in `data`, one after another (each with a Content-Length, as this server sends them)."""
    out = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        out.append((int(lines[0].split()[1]), headers, rest[:length]))
        data = rest[length:]
    return out


def test_pipelined_requests_are_answered_in_order(served: Server) -> None:
    """Kept answers (made on the listener's loop), runs (on request threads) and errors, pipelined on one
    connection, come back in the order asked."""
    kept = "/api/queries/claims?state=Japan&_limit=2"
    assert served.request("GET", kept)[0] == 200  # now kept
    asks = [("GET", kept, ""), ("GET", "/sparql?query=" + urllib.parse.quote(SELECT), "Accept: text/csv\r\n"),
            ("GET", kept, ""), ("GET", kept, "Cache-Control: no-cache\r\n"), ("GET", "/api/queries/no-such", ""),
            ("HEAD", kept, "Connection: close\r\n")]
    data = b"".join(f"{m} {p} HTTP/1.1\r\nHost: localhost\r\n{h}\r\n".encode() for m, p, h in asks)
    with socket.create_connection(("127.0.0.1", served.port), timeout=30) as s:
        s.sendall(data)
        received = b""
        while chunk := s.recv(65536):
            received += chunk
    got = []
    for i, (status, headers, body) in enumerate(responses(received)):
        got.append((status, headers.get("cache-status")))
        if i == 1:
            assert body.decode().split("\r\n")[1:4] == ISLANDS
        if i in (0, 2, 3):
            assert len(json.loads(body)["results"]["bindings"]) == 2
    assert got == [(200, "dispute-kg; hit"), (200, None), (200, "dispute-kg; hit"),
                   (200, "dispute-kg; fwd=bypass; stored"), (400, None), (200, "dispute-kg; hit")]


def test_a_kept_answer_does_not_wait_for_busy_request_threads(built_project: Path) -> None:
    """With one request thread, held by a query that runs until its time limit, a repeat of a kept answer
    is still answered, while that query runs."""
    server = start(built_project, "-p", "0", "--threads", "1", "--workers", "2", "--timeout", "4")
    try:
        kept = "/api/queries/claims?state=Japan"
        assert server.request("GET", kept)[0] == 200
        runaway = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"
        outcome: list[int] = []
        slow = threading.Thread(target=lambda: outcome.append(
            server.request("GET", "/sparql?query=" + urllib.parse.quote(runaway))[0]))
        slow.start()
        time.sleep(1)  # the runaway has the one request thread now
        status, headers, _ = server.request("GET", kept)
        assert slow.is_alive(), "the kept answer came only after the runaway query ended"
        assert status == 200 and headers["Cache-Status"] == "dispute-kg; hit"
        slow.join(30)
        assert outcome and outcome[0] in (500, 503)  # stopped by its time limit or its memory cap
        assert server.islands() == ISLANDS
    finally:
        stop(server)


def test_sparqlwrapper_with_its_defaults(served: Server) -> None:
    import rdflib
    from SPARQLWrapper import SPARQLWrapper

    endpoint = f"http://127.0.0.1:{served.port}/sparql"
    island = "<https://w3id.org/dispute-kg/def#Island>"
    label = "<http://www.w3.org/2000/01/rdf-schema#label>"
    sw = SPARQLWrapper(endpoint)
    sw.setQuery(SELECT)
    doc = sw.queryAndConvert()  # XML results by default
    assert [n.firstChild.data for n in doc.getElementsByTagName("literal")] == ISLANDS
    sw.setQuery(f"ASK {{ ?s a {island} }}")
    assert sw.queryAndConvert().getElementsByTagName("boolean")[0].firstChild.data == "true"
    sw.setQuery(f"CONSTRUCT {{ ?s {label} ?l }} WHERE {{ ?s a {island} ; {label} ?l }}")
    graph = sw.queryAndConvert()  # RDF/XML by default, parsed into an rdflib Graph
    assert isinstance(graph, rdflib.Graph) and sorted(str(o) for o in graph.objects()) == ISLANDS
    sw.setQuery("DESCRIBE <https://w3id.org/dispute-kg/id/territory/iturup>")
    graph = sw.queryAndConvert()
    assert rdflib.Literal("Iturup", lang="en") in set(graph.objects())


def test_port_in_use_and_bad_host_are_one_line_errors(served: Server, built_project: Path) -> None:
    for args, code in ((("-p", str(served.port)), 3), (("--host", "no-such-host.invalid", "-p", "0"), 2)):
        result = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(built_project), "serve",
                                 *args], capture_output=True, text=True, timeout=120)
        assert result.returncode == code, result.stderr
        assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert served.islands() == ISLANDS


# -- additions over HTTP ----------------------------------------------------------------------------
def test_additions_go_through_validation_and_history(built_copy: Path) -> None:
    server = start(built_copy, "-p", "0", "--workers", "1", "--allow-update",
                   env={"DISPUTE_KG_UPDATE_TOKEN": TOKEN})
    try:
        ask = ("ASK { <https://w3id.org/dispute-kg/id/position/japan-believes-test> ?p ?o }")
        path = "/sparql?query=" + urllib.parse.quote(ask)

        def present() -> bool:
            status, _, body = server.request("GET", path, headers={"Accept": "application/sparql-results+json"})
            assert status == 200, body
            return json.loads(body)["boolean"]

        assert present() is False
        ttl = {"Content-Type": "text/turtle"}
        status, _, body = server.request("POST", "/api/additions", GOOD.encode(), ttl)
        assert status == 401, body
        status, _, body = server.request("POST", "/api/additions", GOOD.encode(), {**ttl, "Authorization": "Bearer x"})
        assert status == 403, body
        files_before = sorted(p.name for p in (built_copy / "data" / "assertions").iterdir())
        bad = GOOD.replace("dk:stanceKind", "dk:stanceKnd")
        status, _, body = server.request("POST", "/api/additions", bad.encode(),
                                         {**ttl, "Authorization": f"bearer {TOKEN}"})
        assert status == 422 and json.loads(body)["conforms"] is False, body[:500]
        assert sorted(p.name for p in (built_copy / "data" / "assertions").iterdir()) == files_before
        assert present() is False
        status, _, body = server.request("POST", "/api/additions?note=from+a+test", GOOD.encode(),
                                         {**ttl, "Authorization": f"BEARER {TOKEN}"})
        doc = json.loads(body)
        assert status == 201 and doc["conforms"] is True, body[:500]
        added = doc["addition"]["id"]
        assert (built_copy / "data" / "assertions" / f"addition-{added}.ttl").exists()
        assert (built_copy / "data" / "history" / f"{added}.ttl").exists()
        deadline = time.monotonic() + 20
        while not present():  # the workers reopen the store after an addition
            assert time.monotonic() < deadline, "the addition is not visible to queries"
            time.sleep(0.2)
    finally:
        stop(server)
