"""Project state under crashes and races: every writer is all-or-nothing at every rename and fsync,
a build racing an add never loses it, and readers never fail while the project changes under them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox
import pytest
from servers import free_port, wait_until_up
from test_validate import GOOD

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project import state
from dispute_kg.project.additions import add, history
from dispute_kg.project.folder import Project

STAMP = re.compile(rb"\d{8}T\d{6}Z")
WHEN = re.compile(rb"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z")
SOURCE_TEXT = ("Example Wire, 19 October 2021 (EXAMPLE TEXT, NOT A REAL REPORT)\n\n"
               "TOKYO - Japan wants to resolve the territorial issue and conclude a peace treaty with Russia, "
               "Foreign Minister Toshimitsu Motegi said on Tuesday.\n")
GOOD_NODE = "https://w3id.org/dispute-kg/id/position/japan-believes-test"
STATE_ENTRIES = {".gitignore", "lock", "current", "stores", "query-index.marshal", "search.sqlite",
                 "compiled-schema.marshal"}
FAST = {"DISPUTE_KG_REASONER": "rules"}  # the same closure as owlrl (test_rules.py), in a fraction of the time


def norm(data: bytes) -> bytes:
    """Addition ids and record times come from the clock: two runs of one change differ only there."""
    return WHEN.sub(b"WHEN", STAMP.sub(b"STAMP", data))


def snapshot(root: Path) -> tuple[dict[bytes, bytes], frozenset[bytes]]:
    """Every file's bytes under data/ (history included) and the published store's quads."""
    files = {norm(p.relative_to(root).as_posix().encode()): norm(p.read_bytes())
             for p in sorted((root / "data").rglob("*")) if p.is_file()}
    held = state.hold(str(root / ".dispute-kg"))
    assert held is not None, f"{root}: no published store"
    try:
        store = ox.Store.read_only(held.store_path)
        quads = frozenset(norm(str(q).encode()) for q in store
                          if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object)))
        del store
    finally:
        held.release()
    return files, quads


def debris(root: Path) -> list[str]:
    return [str(p.relative_to(root)) for top in (root / "data", root / ".dispute-kg") for p in top.rglob("*")
            if ".tmp-" in p.name]


def cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dispute_kg", "--project", str(root), *args]


def run_with_images(root: Path, args: list[str], work: Path,
                    on_pause: Callable[[str], None] | None = None) -> list[tuple[str, Path]]:
    """Run a command that pauses at every fault point; at each, copy the project as a crash there
    would leave it (the disk as it is at that instant) and call `on_pause` with the point (to record
    what else a crash there would leave, such as a remote store), then let it go on."""
    ctl = work / "ctl"
    ctl.mkdir(parents=True)
    env = dict(os.environ, DISPUTE_KG_PAUSE_AT="*", DISPUTE_KG_PAUSE_DIR=str(ctl), **FAST)
    proc = subprocess.Popen(cli(root, *args), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    images: list[tuple[str, Path]] = []
    paused = ctl / "paused"
    deadline = time.monotonic() + 600
    while time.monotonic() < deadline:
        while not paused.exists() and proc.poll() is None:
            time.sleep(0.005)
        if not paused.exists():
            break
        point = paused.read_text()
        paused.unlink()
        image = work / f"{len(images):03d}"
        for attempt in range(5):  # a store the paused process holds open may still compact in the background
            try:
                shutil.copytree(root, image, symlinks=True)
                break
            except shutil.Error:
                shutil.rmtree(image, ignore_errors=True)
                if attempt == 4:
                    raise
                time.sleep(0.2)
        if on_pause is not None:
            on_pause(point)
        images.append((point, image))
        (ctl / "resume").touch()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, out + err
    return images


def _prepare(op: str, root: Path, tmp: Path) -> list[str]:
    if op == "build":
        marker = root / "data" / "assertions" / "background.ttl"
        marker.write_bytes(marker.read_bytes() + b"\n<https://w3id.org/dispute-kg/id/state/japan> "
                           b"<http://www.w3.org/2000/01/rdf-schema#comment> \"changed before the build\" .\n")
        return ["build", "--force"]
    good = tmp / "good.ttl"
    good.write_text(GOOD, encoding="utf-8")
    if op == "add":
        return ["add", str(good)]
    if op == "retract":
        _, addition = add(Project.open(root), [good])
        assert addition is not None
        return ["retract", addition.id]
    text = tmp / "example-wire.txt"
    text.write_text(SOURCE_TEXT, encoding="utf-8")
    return ["source", "add", str(text), "--title", "Example wire report", "--published", "2021-10-19",
            "--publisher", "Example Wire"]


@pytest.mark.parametrize("op", ["build", "add", "retract", "source-add"])
def test_a_crash_at_any_rename_or_fsync_leaves_the_project_before_or_after(op, built_copy, tmp_path):
    root = built_copy
    args = _prepare(op, root, tmp_path)
    before = snapshot(root)
    images = run_with_images(root, args, tmp_path / "images")
    after = snapshot(root)
    assert before != after
    points = [p for p, _ in images]
    assert any(p.startswith(f"{op.split('-')[0]}:pointer:rename") or ":pointer:rename" in p for p in points), points
    assert any(":fsync" in p for p in points) and any(":rename" in p for p in points), points
    outcomes = []
    for point, image in images:
        state.recover(Project.open(image))
        got = snapshot(image)
        assert got in (before, after), f"crash at {point}: the project is neither as before nor as after"
        outcomes.append("after" if got == after else "before")
        assert not debris(image), f"crash at {point}: {debris(image)}"
        assert not (image / ".dispute-kg" / "journal.json").exists(), point
        extra = set(os.listdir(image / ".dispute-kg")) - STATE_ENTRIES
        assert not extra, f"crash at {point}: left {extra} in .dispute-kg/"
        assert len(list((image / ".dispute-kg" / "stores").iterdir())) == 1, f"crash at {point}: generations left"
        if got == after or op != "build":  # before a build its input was already edited on purpose
            assert Project.open(image).is_fresh(), f"crash at {point}: the store does not match the files"
    # the pointer rename is the commit point: before it every crash rolls back, after it none does
    commit = next(i for i, p in enumerate(points) if re.match(r"^[a-z-]+:pointer:rename#", p))
    expected = ["before"] * (commit + 1) + ["after"] * (len(points) - commit - 1)
    assert outcomes == expected, list(zip(points, outcomes, strict=True))


@pytest.mark.parametrize("point", ["add:file:rename#2", "add:pointer:fsync-dir#1"])
def test_a_killed_add_is_recovered_by_the_next_command(point, built_copy, tmp_path):
    """The same as a real kill: the process exits at the point, the next command recovers."""
    root = built_copy
    good = tmp_path / "good.ttl"
    good.write_text(GOOD, encoding="utf-8")
    before = snapshot(root)
    crashed = subprocess.run(cli(root, "add", str(good)), env=dict(os.environ, DISPUTE_KG_CRASH_AT=point),
                             capture_output=True, text=True, timeout=300)
    assert crashed.returncode == state.CRASH_EXIT, crashed.stdout + crashed.stderr
    assert debris(root) or point.endswith("fsync-dir#1")
    with KnowledgeGraph.open(project=root) as kg:  # a reader finds the journal and recovers first
        present = kg.sparql(f"ASK {{ <{GOOD_NODE}> ?p ?o }}").boolean
    assert not debris(root) and not (root / ".dispute-kg" / "journal.json").exists()
    if point.startswith("add:pointer"):  # published: the addition stands
        assert present and len(history(Project.open(root))) == 1
    else:
        assert not present and snapshot(root) == before


def _wait_for(predicate, what: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _waits_on_lock(pid: int, root: Path) -> bool:
    """Whether process `pid` has the project's writer lock file open (it is blocked in flock on it)."""
    lock = os.path.realpath(root / ".dispute-kg" / "lock")
    try:
        return any(os.path.realpath(f"/proc/{pid}/fd/{fd}") == lock for fd in os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return False


@pytest.mark.parametrize("first", ["add", "build"])
def test_a_build_racing_an_add_never_loses_the_addition(first, built_copy, tmp_path):
    root = built_copy
    good = tmp_path / "good.ttl"
    good.write_text(GOOD, encoding="utf-8")
    ctl = tmp_path / "ctl"
    ctl.mkdir()
    commands = {"add": cli(root, "add", str(good)), "build": cli(root, "build", "--force")}
    pause = {"add": "add:manifest:rename", "build": "build:manifest:rename"}[first]
    env = dict(os.environ, **FAST)
    held = subprocess.Popen(commands[first], env=dict(env, DISPUTE_KG_PAUSE_AT=pause, DISPUTE_KG_PAUSE_DIR=str(ctl)),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: (ctl / "paused").exists() or held.poll() is not None, f"{first} to pause")
    assert held.poll() is None, held.communicate()
    second = "build" if first == "add" else "add"
    racer = subprocess.Popen(commands[second], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _wait_for(lambda: _waits_on_lock(racer.pid, root) or racer.poll() is not None, f"{second} to wait for the lock")
    assert racer.poll() is None, racer.communicate()
    (ctl / "resume").touch()
    for proc in (held, racer):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, out + err
    project = Project.open(root)
    [addition] = history(project)
    assert project.is_fresh()
    with KnowledgeGraph.open(project=root, auto_build=False) as kg:
        graph = f"https://w3id.org/dispute-kg/graph/{addition.files[0]}"
        assert kg.sparql(f"ASK {{ GRAPH <{graph}> {{ <{GOOD_NODE}> ?p ?o }} }}").boolean
    result = subprocess.run(cli(root, "build"), capture_output=True, text=True, env=env, timeout=300)
    assert result.returncode == 0 and "up to date" in result.stdout + result.stderr, result.stdout + result.stderr


# -- readers while the project changes ------------------------------------------------------------

MARKER_FILE = "data/assertions/zz-marker.ttl"
MARKER_QUERY = ("#+ summary: The value of the concurrency test's marker\n"
                "SELECT ?value WHERE { <https://w3id.org/dispute-kg/id/state/japan> "
                "<http://www.w3.org/2000/01/rdf-schema#comment> ?value . FILTER(STRSTARTS(?value, \"marker \")) }\n")
ROUNDS = 50


def _marker(root: Path, k: int) -> None:
    state.write_atomic(root / MARKER_FILE, f'<https://w3id.org/dispute-kg/id/state/japan> '
                       f'<http://www.w3.org/2000/01/rdf-schema#comment> "marker {k}" .\n')


def test_readers_never_fail_and_see_the_graph_before_or_after_each_change(built_copy, tmp_path, monkeypatch):
    """20 readers (`query run`, `check`, the Python API and `serve` over HTTP) while the writer changes
    a data file 50 times, builds, and adds: no read fails, and each answer is a value the file held
    at some moment during that read."""
    for name, value in FAST.items():
        monkeypatch.setenv(name, value)
    root = built_copy
    (root / "queries" / "marker.rq").write_text(MARKER_QUERY, encoding="utf-8")
    _marker(root, 0)
    written = [0]  # the marker values written so far, in order; the file holds written[-1]
    from dispute_kg.project.build import build

    build(Project.open(root))
    baseline_check = subprocess.run(cli(root, "check"), capture_output=True, text=True, timeout=300)
    assert baseline_check.returncode in (0, 1) and "Traceback" not in baseline_check.stderr, baseline_check.stderr

    port = free_port()
    server = subprocess.Popen(cli(root, "serve", "--port", str(port)), stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    failures: list[str] = []
    answers: list[tuple[str, int, int, int, int]] = []  # reader, thread, low, value, high
    done = threading.Event()
    sparql = MARKER_QUERY.splitlines()[1]

    def window(read) -> None:
        low = len(written) - 1
        try:
            value = read()
        except Exception as exc:  # a failed read is what this test counts
            failures.append(f"{read.__name__}: {exc!r}")
            return
        high = len(written) - 1
        answers.append((read.__name__, threading.get_ident(), low, value, high))

    def query_run() -> int:
        proc = subprocess.run(cli(root, "query", "run", "marker", "-f", "csv"), capture_output=True, text=True,
                              timeout=300)
        assert proc.returncode == 0, proc.stderr
        [value] = proc.stdout.splitlines()[1:]
        return written.index(int(value.split()[-1]))

    def python_api() -> int:
        with KnowledgeGraph.open(project=root) as kg:
            [row] = kg.run("marker")
            return written.index(int(row["value"].split()[-1]))

    def http() -> int:
        url = f"http://127.0.0.1:{port}/sparql?" + urllib.parse.urlencode({"query": sparql})
        request = urllib.request.Request(url, headers={"Accept": "application/sparql-results+json"})
        with urllib.request.urlopen(request, timeout=60) as response:
            [row] = json.load(response)["results"]["bindings"]
        return written.index(int(row["value"]["value"].split()[-1]))

    def check() -> int:
        proc = subprocess.run(cli(root, "check"), capture_output=True, text=True, timeout=300)
        assert proc.returncode == baseline_check.returncode and "Traceback" not in proc.stderr, proc.stderr
        return len(written) - 1  # the verdict does not depend on the marker

    def reader(read) -> None:
        while not done.is_set():
            window(read)

    try:
        wait_until_up(f"http://127.0.0.1:{port}/api/queries", server)
        kinds = [query_run] * 8 + [python_api] * 6 + [http] * 5 + [check]
        threads = [threading.Thread(target=reader, args=(kind,), daemon=True) for kind in kinds]
        for t in threads:
            t.start()
        good = tmp_path / "good.ttl"
        good.write_text(GOOD, encoding="utf-8")
        for k in range(1, ROUNDS + 1):
            written.append(k)  # before the file changes: a reader that sees it started no earlier
            _marker(root, k)
            if k % 10 == 0:
                build(Project.open(root))
            if k == ROUNDS // 2:
                assert add(Project.open(root), [good])[1] is not None
            time.sleep(0.2)
        done.set()
        for t in threads:
            t.join(timeout=600)
    finally:
        done.set()
        server.terminate()
        server.wait(timeout=30)
    assert not failures, failures[:10]
    kinds_seen = {name for name, *_ in answers}
    assert kinds_seen == {"query_run", "python_api", "http", "check"}, kinds_seen
    # a command reads the files as they were during the read (rebuilding a stale store first); the server
    # answers from the newest published store, so it may lag the files but never goes back
    wrong = [a for a in answers if not (a[2] - 1 if a[0] != "http" else 0) <= a[3] <= a[4]]
    assert not wrong, wrong[:10]
    last: dict[int, int] = {}
    for name, thread, _, value, _ in answers:
        assert value >= last.get(thread, 0), f"{name} went back to an older graph"
        last[thread] = value
    assert len(answers) >= 100, len(answers)


def test_threads_of_one_process_writing_one_file_never_collide(tmp_path) -> None:
    """Readers in one process refresh the query index at once: each write needs its own temporary file
    (with one per process, a thread's rename found the file another had already renamed)."""
    target = tmp_path / "index.bin"
    errors: list[str] = []

    def writer(i: int) -> None:
        for k in range(200):
            try:
                state.write_atomic(target, f"{i}-{k}".encode() * 500)
            except Exception as exc:  # any failure is the finding
                errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert [p.name for p in tmp_path.iterdir()] == ["index.bin"]  # no temporary file left
    assert target.read_bytes().split(b"-")[0].isdigit()
