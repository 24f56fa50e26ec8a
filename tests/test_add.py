"""`add`, `history` and `retract`: atomic, recorded, serialised by a lock, and recoverable after a
crash at any point."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import run_cli, store_dir
from test_validate import GOOD, HEAD, SEL, expand, position, tree_hash

from dispute_kg.errors import CheckFailed, InputError
from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.additions import add, history, retract
from dispute_kg.project.build import build
from dispute_kg.project.folder import Project


def store_quads(root: Path) -> set[str]:
    """The store's quads without blank nodes (whose labels differ between any two parses)."""
    store = ox.Store.read_only(str(store_dir(root)))
    try:
        return {str(q) for q in store if not any(isinstance(t, ox.BlankNode) for t in (q.subject, q.object))}
    finally:
        del store


def rebuilt_quads(root: Path, tmp: Path) -> set[str]:
    copy = tmp / "rebuilt"
    for name in ("ontology", "data", "shapes", "queries"):
        import shutil

        shutil.copytree(root / name, copy / name)
    build(Project.open(copy), force=True)
    return store_quads(copy)


def checks_pass(root: Path) -> bool:
    with KnowledgeGraph.open(project=root) as kg:
        return kg.check().passed


@pytest.fixture
def built(built_copy: Path) -> Path:
    """A built copy of the shipped project, store included (copied, not rebuilt: faster)."""
    return built_copy


def write(tmp: Path, name: str, text: str) -> Path:
    path = tmp / name
    path.write_text(text, encoding="utf-8")
    return path


def test_add_commits_files_record_and_store_like_a_rebuild(built, tmp_path):
    project = Project.open(built)
    report, addition = add(project, [write(tmp_path, "good.ttl", GOOD)], agent="Ada Reviewer", note="a test")
    assert addition is not None, report.to_text()
    assert project.is_fresh(), "the manifest must be fresh again: the next command must not rebuild"
    assertions = built / addition.files[0]
    assert assertions.name == f"addition-{addition.id}.ttl" and assertions.parent.name == "assertions"
    record = (built / "data" / "history" / f"{addition.id}.ttl").read_text()
    for words in ("dk:Addition", "dk:addedBy", "dk:inputSha256", "prov:startedAtTime", '"a test"',
                  f"graph/{addition.files[0]}", '"Ada Reviewer"'):
        assert words in record, record
    # only what was new is stored: the selection already existed in the article's file
    assert report.duplicates and addition.triples == len(report.new_triples) < report.triples
    # deterministic: serialising the same triples again gives the same bytes
    from dispute_kg.project.additions import _serialise

    assert _serialise(sorted(report.new_triples, key=lambda t: tuple(map(str, t))),
                      assertions.read_text().split("PREFIX", 1)[0]) == assertions.read_bytes()
    assert store_quads(built) == rebuilt_quads(built, tmp_path)
    assert checks_pass(built)
    [entry] = history(project)
    assert entry.id == addition.id and entry.agent == "Ada Reviewer" and entry.note == "a test"


def test_adding_the_same_again_is_a_refused_duplicate(built, tmp_path):
    project = Project.open(built)
    path = write(tmp_path, "good.ttl", GOOD)
    assert add(project, [path])[1] is not None
    before = tree_hash(built / "data"), tree_hash(store_dir(built))
    report, addition = add(project, [path])
    assert addition is None and any("nothing new" in p.message for p in report.problems)
    assert (tree_hash(built / "data"), tree_hash(store_dir(built))) == before


def test_retract_removes_exactly_one_addition_and_is_recorded(built, tmp_path):
    project = Project.open(built)
    before = store_quads(built)
    _, first = add(project, [write(tmp_path, "a.ttl", GOOD)], agent="a")
    second_ttl = HEAD + position("japan-hopes-test", kind="dk:Hope")
    _, second = add(project, [write(tmp_path, "b.ttl", second_ttl)], agent="b")
    assert first and second
    record = retract(project, first.id, agent="c", note="wrong reading")
    assert not (built / first.files[0]).exists() and (built / second.files[0]).exists()
    entries = {a.id: a for a in history(project)}
    assert entries[first.id].retracted_by == record.id and entries[record.id].retracts == first.id
    assert checks_pass(built)
    assert store_quads(built) == rebuilt_quads(built, tmp_path)
    left = store_quads(built) - before
    assert left and all(w in q for q in left for w in [""]) and all(
        "history" in q or "japan-hopes-test" in q or "/agent/" in q or "/addition/" in q for q in left), left
    with pytest.raises(InputError, match="already retracted"):
        retract(project, first.id)
    with pytest.raises(InputError, match="no addition"):
        retract(project, "20990101T000000Z-00000000")
    result = run_cli("--project", str(built), "history")
    assert result.returncode == 0 and f"retracts {first.id}" in result.stdout


def test_retract_is_refused_when_a_later_addition_relies_on_it(built, tmp_path):
    project = Project.open(built)
    _, first = add(project, [write(tmp_path, "a.ttl", GOOD)])
    extra = HEAD + expand('id:position/japan-believes-test dk:note "relies on the first addition"@en .')
    _, second = add(project, [write(tmp_path, "b.ttl", extra)])
    assert first and second
    before = tree_hash(built / "data")
    with pytest.raises(CheckFailed, match="would break the graph"):
        retract(project, first.id)
    assert tree_hash(built / "data") == before
    assert checks_pass(built)


def test_two_adds_at_once_are_serialised_and_both_land(built, tmp_path):
    a = write(tmp_path, "a.ttl", GOOD)
    b = write(tmp_path, "b.ttl", HEAD + position("japan-hopes-test", kind="dk:Hope",
                                                  derived=f"prov:wasDerivedFrom <{SEL}> ;"))
    procs = [subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(built), "add", str(p)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for p in (a, b)]
    outs = [p.communicate(timeout=120) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    project = Project.open(built)
    assert len(history(project)) == 2
    assert project.is_fresh() and checks_pass(built)


def test_python_api_add(built, tmp_path):
    import rdflib

    with KnowledgeGraph.open(project=built) as kg:
        report, addition = kg.add(rdflib.Graph().parse(data=GOOD, format="turtle"), agent="api")
        assert addition is not None, report.to_text()
        rows = kg.sparql("ASK { <https://w3id.org/dispute-kg/id/position/japan-believes-test> ?p ?o }")
        assert rows.boolean


def test_cli_add_reports_the_addition(built, tmp_path):
    path = write(tmp_path, "good.ttl", GOOD)
    result = run_cli("--project", str(built), "add", str(path), "--agent", "cli", "--note", "via the CLI")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: CONFORMS" in result.stdout and "added " in result.stdout
    bad = write(tmp_path, "bad.ttl", GOOD.replace("dk:stanceKind", "dk:stanceKnd"))
    refused = run_cli("--project", str(built), "add", str(bad))
    assert refused.returncode == 1 and "did you mean dk:stanceKind" in refused.stdout
