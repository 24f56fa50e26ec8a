"""`add` against a remote SPARQL store: the project and the remote store take the addition together,
and a refused or failed add leaves the remote store's triples exactly as they were."""

from __future__ import annotations

import hashlib
import shutil
from contextlib import nullcontext
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, store_dir, tree_hash
from servers import free_port, oxigraph_serve

from dispute_kg.stores.base import open_store

EXAMPLES = ROOT / "docs" / "examples"
POSITION = "https://w3id.org/dispute-kg/id/position/russia-sovereignty-not-negotiable-2021-10-19"


def canonical_quad(quad: tuple) -> str:
    """A quad as text, blank nodes as one label (a store loaded again gives them new ones)."""
    return repr(tuple({"type": "bnode"} if t["type"] == "bnode" else t for t in quad))


def remote_state(selector: str) -> tuple[int, str]:
    """Triple count and a hash of every quad of the remote store."""
    lines = sorted(canonical_quad(q) for q in open_store(selector).quads())
    return len(lines), hashlib.sha256("\n".join(lines).encode()).hexdigest()


@pytest.fixture(params=["oxigraph", "virtuoso"])
def remote_project(request, project_copy: Path, tmp_path: Path):
    """A project with the example source registered, pushed to a real `oxigraph serve` or Virtuoso."""
    shutil.copy(EXAMPLES / "example-wire-2021-10-19.txt", tmp_path / "wire.txt")
    registered = run_cli("--project", str(project_copy), "source", "add", str(tmp_path / "wire.txt"),
                         "--id", "example-wire-2021-10-19", "--title", "Example wire report (invented)",
                         "--published", "2021-10-19", "--publisher", "UrduPoint News")
    assert registered.returncode == 0, registered.stdout + registered.stderr
    if request.param == "virtuoso":  # one server for the session (it takes ~20 s to start), emptied here
        selector = request.getfixturevalue("virtuoso_server")
        store = open_store(selector)
        for graph in store.graphs():
            store.update(f"DROP SILENT GRAPH <{graph}>")
        assert store.count() == 0
        context = nullcontext(selector)
    else:
        context = oxigraph_serve(tmp_path / "server")
    with context as selector:
        pushed = run_cli("--project", str(project_copy), "push", "--to", selector)
        assert pushed.returncode == 0, pushed.stderr
        yield project_copy, selector


def test_add_lands_in_the_remote_store_and_the_project(remote_project):
    project, selector = remote_project
    before, _ = remote_state(selector)
    result = run_cli("--project", str(project), "--store", selector, "add",
                     str(EXAMPLES / "russia-sovereignty-not-negotiable.ttl"), "--agent", "test")
    assert result.returncode == 0, result.stdout + result.stderr
    after, _ = remote_state(selector)
    assert after > before
    store = open_store(selector)
    assert store.query(f"ASK {{ <{POSITION}> ?p ?o }}").boolean is True
    assert list((project / "data" / "assertions").glob("addition-*.ttl"))
    # the remote store now holds what the embedded store holds
    local = run_cli("--project", str(project), "sparql", "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }",
                    "--format", "csv")
    assert local.stdout.splitlines()[1].strip() == str(after)


@pytest.mark.parametrize("example", ["refusal-two-claimants.ttl", "refusal-offsets.ttl", "refusal-unknown-term.ttl"])
def test_a_refused_add_changes_neither_the_remote_store_nor_the_project(remote_project, example):
    project, selector = remote_project
    remote_before, data_before = remote_state(selector), tree_hash(project / "data")
    result = run_cli("--project", str(project), "--store", selector, "add", str(EXAMPLES / example))
    assert result.returncode == 1, result.stdout + result.stderr
    assert remote_state(selector) == remote_before
    assert tree_hash(project / "data") == data_before


@pytest.mark.parametrize("failure", ["unreachable", "refused"])
def test_a_failed_remote_update_changes_nothing_anywhere(remote_project, failure):
    """The update never reaches the store (nobody listens), or the server refuses it (HTTP 404): nothing
    changes anywhere, and no journal is left for the next command to undo."""
    project, selector = remote_project
    query_url = selector.split(";")[0]
    if failure == "unreachable":
        broken = f"{query_url};update=http://127.0.0.1:{free_port()}/update"
    else:
        broken = f"{query_url};update={query_url.split(':', 1)[1].rsplit('/', 1)[0]}/no-such-endpoint"
    remote_before, data_before = remote_state(selector), tree_hash(project / "data")
    store_before = tree_hash(store_dir(project))
    result = run_cli("--project", str(project), "--store", broken, "add",
                     str(EXAMPLES / "russia-sovereignty-not-negotiable.ttl"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert remote_state(selector) == remote_before
    assert tree_hash(project / "data") == data_before
    assert tree_hash(store_dir(project)) == store_before
    assert not (project / ".dispute-kg" / "journal.json").exists()


def remote_quads(selector: str) -> list:
    return list(open_store(selector).quads())


def restore_remote(selector: str, quads: list) -> None:
    """Put the remote store back to `quads` by deleting and inserting only the quads that differ (the
    addition's): Virtuoso does not load its own answers back unchanged (it rewrites WKT literals)."""
    from dispute_kg.rdf.convert import term_text

    store = open_store(selector)
    current = {canonical_quad(q): q for q in store.quads()}
    wanted = {canonical_quad(q): q for q in quads}
    for keys, operation in ((current.keys() - wanted.keys(), "DELETE DATA"), (wanted.keys() - current.keys(),
                                                                            "INSERT DATA")):
        source = current if operation == "DELETE DATA" else wanted
        assert not any(t["type"] == "bnode" for k in keys for t in source[k]), "an addition has no blank nodes"
        by_graph: dict[str, list[str]] = {}  # one operation per graph, as RemoteMirror.undo sends them
        for q in (source[k] for k in sorted(keys)):
            by_graph.setdefault(term_text(q[3]), []).append(" ".join(term_text(t) for t in q[:3]) + " .")
        for g, lines in sorted(by_graph.items()):
            store.update(f"{operation} {{ GRAPH {g} {{ {' '.join(lines)} }} }}")


def test_an_add_killed_at_any_point_is_undone_or_completed_everywhere(remote_project, tmp_path):
    """Pause `add --store REMOTE` at every fault point (journal, remote update, files, fsyncs, the pointer)
    and take the project as a kill there would leave it, with the remote store as it was at that instant.
    Recovery of each image (what the next command does) leaves the remote store's quads, the project's
    files and its embedded store all as before the add, or all as after it: never a mix."""
    from test_state import run_with_images, snapshot

    from dispute_kg.project import state
    from dispute_kg.project.folder import Project

    project, selector = remote_project
    before = (remote_state(selector), snapshot(project))
    remote_at: dict[str, tuple[tuple[int, str], list]] = {}  # pause point -> the remote store at that instant

    def at_pause(point: str) -> None:
        seen = remote_state(selector)
        remote_at[point] = (seen, next((q for s, q in remote_at.values() if s == seen), None)
                            or remote_quads(selector))

    args = ["--store", selector, "add", str(EXAMPLES / "russia-sovereignty-not-negotiable.ttl")]
    images = run_with_images(project, args, tmp_path / "images", on_pause=at_pause)
    after = (remote_state(selector), snapshot(project))
    assert before != after and before[0] != after[0]
    points = [p for p, _ in images]
    assert any(p.startswith("add:remote:update#") for p in points), points
    assert any(p.startswith("add:remote:updated#") for p in points), points
    assert remote_at[next(p for p in points if p.startswith("add:remote:update#"))][0] == before[0]
    assert remote_at[next(p for p in points if p.startswith("add:remote:updated#"))][0] == after[0]
    outcomes = []
    for point, image in images:
        wanted, quads = remote_at[point]
        if remote_state(selector) != wanted:
            restore_remote(selector, quads)
            assert remote_state(selector) == wanted
        state.recover(Project.open(image))
        got = (remote_state(selector), snapshot(image))
        assert got in (before, after), f"killed at {point}: the remote store, files and store are not all " \
                                       "as before or all as after the add"
        outcomes.append("after" if got == after else "before")
        assert not (image / ".dispute-kg" / "journal.json").exists(), point
    # the pointer rename is the commit point, as for an add without a remote store
    commit = next(i for i, p in enumerate(points) if p.startswith("add:pointer:rename#"))
    assert outcomes == ["before"] * (commit + 1) + ["after"] * (len(points) - commit - 1), \
        list(zip(points, outcomes, strict=True))


@pytest.mark.parametrize("point", ["add:remote:updated", "add:file:rename#2"])
def test_the_next_command_undoes_a_killed_remote_add_and_says_so(remote_project, point):
    """A real kill (the process exits at the point) after the remote store took the addition: the next
    command rolls the remote store back with the project, and tells the user on stderr."""
    from test_state import snapshot

    project, selector = remote_project
    before = (remote_state(selector), snapshot(project))
    killed = run_cli("--project", str(project), "--store", selector, "add",
                     str(EXAMPLES / "russia-sovereignty-not-negotiable.ttl"), env={"DISPUTE_KG_CRASH_AT": point})
    assert killed.returncode == 97, killed.stdout + killed.stderr
    assert remote_state(selector) != before[0]  # the remote store took it before the kill
    result = run_cli("--project", str(project), "history")
    assert result.returncode == 0, result.stderr
    assert "rolled back an interrupted add" in result.stderr, result.stderr
    assert selector.split(";")[0] in result.stderr, result.stderr
    records = result.stdout.splitlines()  # the source's registration only: the addition is gone
    assert len(records) == 1 and "registered source" in records[0], result.stdout
    assert (remote_state(selector), snapshot(project)) == before


def test_a_remote_store_down_during_recovery_keeps_the_journal_until_it_is_back(built_copy, tmp_path):
    """Killed after the remote update, and the remote store is down when the next command recovers: the
    project is rolled back, the command exits 3 saying so and keeps the journal; once the store is back,
    the next command undoes the remote update too."""
    import subprocess

    from servers import OXIGRAPH, oxigraph_selector, wait_until_up
    from test_state import snapshot
    from test_validate import GOOD

    port, location = free_port(), tmp_path / "server"

    def start() -> subprocess.Popen:
        proc = subprocess.Popen([str(OXIGRAPH), "serve", "--location", str(location), "--bind", f"127.0.0.1:{port}",
                                 "--union-default-graph"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until_up(f"http://127.0.0.1:{port}/query?query=ASK%7B%7D", proc)
        return proc

    selector = oxigraph_selector(port)
    good = tmp_path / "good.ttl"
    good.write_text(GOOD, encoding="utf-8")
    server = start()
    try:
        assert run_cli("--project", str(built_copy), "push", "--to", selector).returncode == 0
        before = (remote_state(selector), snapshot(built_copy))
        killed = run_cli("--project", str(built_copy), "--store", selector, "add", str(good),
                         env={"DISPUTE_KG_CRASH_AT": "add:remote:updated"})
        assert killed.returncode == 97, killed.stdout + killed.stderr
        server.terminate()
        server.wait(10)
        down = run_cli("--project", str(built_copy), "history")
        assert down.returncode == 3, down.stdout + down.stderr
        assert "next command tries the remote store again" in down.stderr, down.stderr
        assert (built_copy / ".dispute-kg" / "journal.json").exists()
        assert snapshot(built_copy) == before[1]  # the project itself is already as before
        server = start()
        assert remote_state(selector) != before[0]
        back = run_cli("--project", str(built_copy), "history")
        assert back.returncode == 0, back.stderr
        assert "rolled back an interrupted add" in back.stderr, back.stderr
        assert not (built_copy / ".dispute-kg" / "journal.json").exists()
        assert (remote_state(selector), snapshot(built_copy)) == before
    finally:
        server.terminate()
        server.wait(10)
