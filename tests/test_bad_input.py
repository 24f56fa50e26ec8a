"""A malformed or missing input file stops `build` and `check` with file, line and reason, exit 2,
and leaves the previous store byte-for-byte as it was."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli, tree_hash


def break_file(root: Path, rel: str, old: str | None, new: str) -> None:
    path = root / rel
    if old is None:
        path.write_text(new, encoding="utf-8")
        return
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


CASES = [
    # (file, old text or None to overwrite, new text, expected message fragment)
    ("data/assertions/urdupoint-2021-10-18.ttl", "dk:nameUsed \"Northern Territories\"@en ;",
     "dk:nameUsed \"Northern Territories@en ;", "data/assertions/urdupoint-2021-10-18.ttl:"),
    ("ontology/dispute.ttl", "dk:State a owl:Class ;", "dk:State a owl:Class ;;; ]", "ontology/dispute.ttl:"),
    ("shapes/entities.ttl", "sh:minCount 1 ;", "sh:minCount 1 ;; [", "shapes/entities.ttl:"),
    ("queries/checks/undefined-term.rq", "ORDER BY", "ORDER BY BY {", "queries/checks/undefined-term.rq:"),
    ("data/sources/urdupoint-2021-10-18.txt", "Matsuno said on Monday", "Matsuno said on Tuesday",
     "does not match its recorded SHA-256"),
    ("data/assertions/background.ttl", None, "\x00\x01binary", "data/assertions/background.ttl"),
]


@pytest.mark.parametrize("rel,old,new,message", CASES, ids=[c[0].rsplit("/", 1)[-1] for c in CASES])
@pytest.mark.parametrize("command", ["build", "check"])
def test_bad_file_stops_with_location_and_keeps_store(built_copy, rel, old, new, message, command):
    state = built_copy / ".dispute-kg"
    before = tree_hash(state)
    break_file(built_copy, rel, old, new)
    result = run_cli("--project", str(built_copy), command)
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr, result.stderr
    assert tree_hash(state) == before


def test_syntax_error_names_line_and_column(project_copy):
    path = project_copy / "data/assertions/urdupoint-2021-10-18.ttl"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[20] = "    dk:broken ;;; ."
    path.write_text("\n".join(lines), encoding="utf-8")
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2
    assert "data/assertions/urdupoint-2021-10-18.ttl:21:" in result.stderr, result.stderr


def test_missing_ontology(project_copy):
    (project_copy / "ontology/dispute.ttl").unlink()
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2
    assert "ontology" in result.stderr


def test_missing_source_metadata(project_copy):
    (project_copy / "data/sources/urdupoint-2021-10-18.ttl").unlink()
    result = run_cli("--project", str(project_copy), "build")
    assert result.returncode == 2
    assert "data/sources/urdupoint-2021-10-18.txt: source text has no metadata file" in result.stderr


def test_not_a_project(tmp_path):
    result = run_cli("--project", str(tmp_path), "check")
    assert result.returncode == 2
    assert "is not a dispute-kg project" in result.stderr


def test_traceback_only_on_request(project_copy):
    (project_copy / "ontology/dispute.ttl").write_text("@prefix : <x> . :a :b", encoding="utf-8")
    plain = run_cli("--project", str(project_copy), "build")
    verbose = run_cli("--project", str(project_copy), "--traceback", "build")
    assert "Traceback" not in plain.stderr and "Traceback" in verbose.stderr
    assert plain.returncode == verbose.returncode == 2
