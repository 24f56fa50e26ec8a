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


def remote_state(selector: str) -> tuple[int, str]:
    """Triple count and a hash of every quad of the remote store."""
    store = open_store(selector)
    lines = sorted(repr(q) for q in store.quads())
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


def test_a_failed_remote_update_changes_nothing_anywhere(remote_project):
    project, selector = remote_project
    query_url = selector.split(";")[0]
    broken = f"{query_url};update=http://127.0.0.1:{free_port()}/update"  # nobody listens there
    remote_before, data_before = remote_state(selector), tree_hash(project / "data")
    store_before = tree_hash(store_dir(project))
    result = run_cli("--project", str(project), "--store", broken, "add",
                     str(EXAMPLES / "russia-sovereignty-not-negotiable.ttl"))
    assert result.returncode == 3, result.stdout + result.stderr
    assert remote_state(selector) == remote_before
    assert tree_hash(project / "data") == data_before
    assert tree_hash(store_dir(project)) == store_before
