"""Real SPARQL servers on free loopback ports, for the tests and the benchmarks: `oxigraph serve` (from
the `oxigraph` PyPI package the test extras install) and OpenLink Virtuoso 7 (Debian's
virtuoso-opensource-7-bin, which `make test` installs)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# -- a real `oxigraph serve` (installed from PyPI by the test extras) on 127.0.0.1 -------------------
OXIGRAPH = Path(os.environ.get("OXIGRAPH_BIN") or shutil.which("oxigraph")
                or Path(sys.executable).with_name("oxigraph"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds} s")


def oxigraph_selector(port: int) -> str:
    base = f"http://127.0.0.1:{port}"
    return f"sparql:{base}/query;update={base}/update;gsp={base}/store"


@contextmanager
def oxigraph_serve(location: Path) -> Iterator[str]:
    """Run `oxigraph serve` with the union default graph on a free port; yield its store selector."""
    with oxigraph_process(location, union=True) as base:
        yield oxigraph_selector(int(base.rsplit(":", 1)[1]))


@contextmanager
def oxigraph_process(location: Path, *, union: bool = False, turtle: tuple[str, ...] = ()) -> Iterator[str]:
    """Run `oxigraph serve` on a free port with each of `turtle` loaded into its default graph; yield its
    base URL (`/query`, `/update` and `/store` are under it)."""
    port = free_port()
    args = [str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}"]
    proc = subprocess.Popen(args + (["--union-default-graph"] if union else []), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/query?query=ASK%7B%7D", proc)
        for text in turtle:
            request = urllib.request.Request(f"{base}/store?default", data=text.encode("utf-8"), method="POST",
                                             headers={"Content-Type": "text/turtle"})
            with urllib.request.urlopen(request, timeout=30) as answer:
                assert answer.status in (200, 201, 204), answer.status
        yield base
    finally:
        proc.terminate()
        proc.wait(10)


# -- a real OpenLink Virtuoso 7 (Debian's virtuoso-opensource-7-bin, installed by `make test`) -------
VIRTUOSO = shutil.which("virtuoso-t") or "/usr/bin/virtuoso-t"
ISQL = shutil.which("isql-vt") or "/usr/bin/isql-vt"
VIRTUOSO_INI = """\
[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
LockFile = {d}/virtuoso.lck
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
ErrorLogLevel = 7
FileExtend = 200
MaxCheckpointRemap = 2000
Striping = 0
TempStorage = TempDatabase

[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
MaxCheckpointRemap = 2000
Striping = 0

[Parameters]
ServerPort = 127.0.0.1:{sql}
ServerThreads = 10
CheckpointInterval = 60
NumberOfBuffers = {buffers}
MaxDirtyBuffers = {dirty}
DirsAllowed = ., {d}
CaseMode = 2
MaxQueryMem = 2G

[HTTPServer]
ServerPort = 127.0.0.1:{http}
ServerRoot = {d}
ServerThreads = 10
MaxClientConnections = 10
KeepAliveTimeout = 10
EnabledDavVSP = 0

[SPARQL]
ResultSetMaxRows = 10000000
MaxQueryCostEstimationTime = 0
MaxQueryExecutionTime = 300
MaxSortedTopRows = 100000
ShortenLongURIs = 1
"""


def virtuoso_selector(port: int) -> str:
    """Queries and updates on /sparql; bulk loads by the Graph Store Protocol on /sparql-graph-crud (its
    SPARQL compiler runs out of memory on an INSERT DATA of a few thousand triples)."""
    base = f"http://127.0.0.1:{port}"
    return f"sparql:{base}/sparql;update={base}/sparql;gsp={base}/sparql-graph-crud"


@contextmanager
def virtuoso_serve(location: Path, *, buffers: int = 170000) -> Iterator[str]:
    """Run Virtuoso 7 with its files in `location` on free loopback ports, open SPARQL Update on its
    /sparql endpoint, and yield its store selector; the server is stopped afterwards."""
    location.mkdir(parents=True, exist_ok=True)
    sql, http = free_port(), free_port()
    ini = location / "virtuoso.ini"
    ini.write_text(VIRTUOSO_INI.format(d=location, sql=sql, http=http, buffers=buffers,
                                       dirty=buffers * 3 // 4))
    proc = subprocess.Popen([VIRTUOSO, "-f", "-c", str(ini)], cwd=location, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{http}/sparql?query=ASK%7B%7D", proc, seconds=90)
        granted = subprocess.run([ISQL, str(sql), "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
                                 capture_output=True, text=True, timeout=60)
        assert granted.returncode == 0, granted.stdout + granted.stderr
        yield virtuoso_selector(http)
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


# -- `dispute-kg serve` as a user starts it, and Debian's Chromium for the browser tests --------------------
CHROMIUM = os.environ.get("DISPUTE_KG_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


@contextmanager
def dispute_kg_serve(project: Path, *options: str, env: dict[str, str] | None = None) -> Iterator[str]:
    """`python -m dispute_kg serve -p 0 OPTIONS` on `project`: it picks a free port and says which; yield its
    base URL, and check on the way out that it is still alive."""
    import re

    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(project), "serve", "-p", "0",
                             *options], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, **(env or {})})
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield f"http://127.0.0.1:{match.group(1)}"
        assert proc.poll() is None, "the server died during the tests"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@contextmanager
def chromium() -> Iterator[object]:
    """Debian's Chromium driven by Playwright (browser downloads are impossible here)."""
    from playwright import sync_api

    if not Path(CHROMIUM).exists():
        raise AssertionError(f"{CHROMIUM} is missing: apt-get install -y chromium (browser downloads are not used)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def serious_axe_violations(page: object) -> list[str]:
    """axe-core's serious and critical violations on the page as loaded now, one line each."""
    from axe_playwright_python.sync_playwright import Axe

    found = []
    for v in Axe().run(page).response["violations"]:
        if v["impact"] in ("serious", "critical"):
            targets = [n["target"] for n in v["nodes"]][:3]
            found.append(f"{v['id']} ({v['impact']}) {targets}")
    return found


@contextmanager
def stub_server(handler: type) -> Iterator[str]:
    """A standard-library HTTP server on a free loopback port, answering with `handler` (a
    BaseHTTPRequestHandler a test writes to misbehave on purpose); yield its `/sparql` URL."""
    import http.server
    import threading

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/sparql"
    finally:
        server.shutdown()
        server.server_close()
