"""Shared fixtures: the shipped project, copies of it to break on purpose, and a CLI runner."""

from __future__ import annotations

import hashlib
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

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "data" / "sources" / "urdupoint-2021-10-18.txt").read_text(encoding="utf-8")
PROJECT_DIRS = ("ontology", "data", "shapes", "queries", "docs")


def copy_project(dest: Path) -> Path:
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the shipped project, shared read-only by the tests that only query it."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    root = copy_project(tmp_path_factory.mktemp("shipped"))
    build(Project.open(root))
    return root


@pytest.fixture(scope="session")
def kg(built_project: Path):
    from dispute_kg.kg import KnowledgeGraph

    with KnowledgeGraph.open(project=built_project) as graph:
        yield graph


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the shipped project that tests copy (store included) instead of rebuilding."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    root = copy_project(tmp_path_factory.mktemp("template") / "project")
    build(Project.open(root))
    return root


@pytest.fixture
def built_copy(built_template: Path, tmp_path: Path) -> Path:
    """A fresh built copy of the shipped project that a test may change."""
    root = tmp_path / "built"
    shutil.copytree(built_template, root)
    return root


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh, unbuilt copy of the shipped project that a test may change."""
    return copy_project(tmp_path / "project")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m dispute_kg` in a real process, as a user would."""
    return subprocess.run([sys.executable, "-m", "dispute_kg", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)


def tree_hash(folder: Path) -> str:
    """One digest of every file's path and bytes under `folder`: equal digests mean nothing changed."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


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
    port = free_port()
    proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                             "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc)
        yield oxigraph_selector(port)
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
    base = f"http://127.0.0.1:{port}/sparql"
    return f"sparql:{base};update={base}"


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


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Virtuoso for the session's tests that only read or that restore what they change."""
    with virtuoso_serve(tmp_path_factory.mktemp("virtuoso")) as selector:
        yield selector
