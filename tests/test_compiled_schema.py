"""The compiled schema `build` writes for `validate`, and the click-free `validate` route.

The file must give the schema compiling gives (never a stale one), the shapes compiled to queries
narrowed to focus nodes must find what pyshacl finds with `focus_nodes`, and both command routes
must print the same report and exit with the same code."""

from __future__ import annotations

import json
from pathlib import Path

import pyoxigraph as ox
import pytest
from conftest import copy_project, run_cli
from test_validate import GOOD, HEAD, SEL_TTL, _bad_cases, expand, position

from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.validation import schema as schema_module
from dispute_kg.validation.pipeline import validate
from dispute_kg.validation.schema import COMPILED_NAME, load_schema, schema_key

NOTE_SHAPE = """
@prefix dk: <https://w3id.org/dispute-kg/def#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dksh: <https://w3id.org/dispute-kg/shapes#> .
dksh:PositionNoteRule a sh:NodeShape ; sh:targetClass dk:Position ;
    sh:property [ sh:path dk:note ; sh:minCount 1 ; sh:message "a new position needs a dk:note" ] .
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("compiled") / "project")
    build(Project.open(root))
    return root


def _comparable(data: dict) -> dict:
    """The compiled data without blank node labels, which each parse of the ontology draws anew."""
    triples = [tuple(t) for t in (ox.parse(data["ontology"], format=ox.RdfFormat.N_TRIPLES))]
    named = sorted(str(t) for t in triples if not any(isinstance(x, ox.BlankNode) for x in t))
    return {**{k: v for k, v in data.items() if k != "ontology"}, "ontology": (len(triples), named)}


def test_build_writes_the_schema_validate_reads(project):
    p = Project.open(project)
    stored = schema_module._read_compiled(p, schema_key(p))
    assert stored is not None, "build did not write a compiled schema matching the files"
    assert stored["checks"], "the project's shapes compile to queries"
    assert _comparable(stored) == _comparable(schema_module._compile(p, schema_key(p)))  # compiled afresh


def test_a_changed_shape_is_never_read_from_a_stale_file(project, tmp_path):
    root = copy_project(tmp_path / "project")
    shutil_copy_state(project, root)
    p = Project.open(root)
    good = tmp_path / "good.ttl"
    good.write_text(GOOD, encoding="utf-8")
    assert validate(p, [good]).conforms
    old = (p.state_dir / COMPILED_NAME).read_bytes()

    (root / "shapes" / "zz-note.ttl").write_text(NOTE_SHAPE, encoding="utf-8")
    schema_module._SCHEMA.clear()
    refused = validate(p, [good])  # no rebuild: the stored file no longer matches the shapes
    assert not refused.conforms
    assert any(x.message == "a new position needs a dk:note" for x in refused.problems)
    assert (p.state_dir / COMPILED_NAME).read_bytes() == old, "validate must not write"

    (p.state_dir / COMPILED_NAME).write_bytes(b"\x00not marshal")
    schema_module._SCHEMA.clear()
    assert not validate(p, [good]).conforms  # a damaged file is compiled around, not trusted


def shutil_copy_state(src: Path, dest: Path) -> None:
    import shutil

    shutil.copytree(src / ".dispute-kg", dest / ".dispute-kg")


CASES = [c for c in _bad_cases() if c[3] in ("shacl", "consistency", "provenance")]


@pytest.mark.parametrize(("name", "file_name", "content", "stage", "words"), CASES, ids=[c[0] for c in CASES])
def test_compiled_shapes_on_focus_nodes_equal_pyshacl(project, tmp_path, monkeypatch, name, file_name, content,
                                                      stage, words):
    path = tmp_path / file_name
    path.write_text(content, encoding="utf-8")
    p = Project.open(project)
    compiled = validate(p, [path])
    assert load_schema(p).focus_checks is not None
    monkeypatch.setattr(load_schema(p), "focus_checks", None)  # pyshacl with focus_nodes instead
    reference = validate(p, [path])
    assert compiled.problems == reference.problems
    assert compiled.focus_nodes == reference.focus_nodes and compiled.conforms == reference.conforms
    assert any(words in x.message for x in compiled.problems), [x.message for x in compiled.problems]


def test_both_command_routes_print_the_same_report(project, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(HEAD + position(kind="dk:Signed") + SEL_TTL + expand(
        "id:claim/japan-northern-territories dk:claimant id:state/united-states ."), encoding="utf-8")
    for fmt in ("text", "json", "ttl"):
        quick = run_cli("--project", str(project), "validate", "--format", fmt, str(bad))
        full = run_cli("--project", str(project), "validate", f"--format={fmt}", str(bad))  # click parses this
        assert quick.returncode == full.returncode == 1, quick.stderr + full.stderr
        assert quick.stderr == full.stderr
        if fmt == "json":
            a, b = json.loads(quick.stdout), json.loads(full.stdout)
            a.pop("seconds"), b.pop("seconds")
            assert a == b and not a["conforms"]
        elif fmt == "text":
            assert quick.stdout.splitlines()[:-2] == full.stdout.splitlines()[:-2]  # the last lines time it
        else:
            import rdflib
            from rdflib.compare import isomorphic

            assert isomorphic(rdflib.Graph().parse(data=quick.stdout, format="turtle"),
                              rdflib.Graph().parse(data=full.stdout, format="turtle"))
    missing = run_cli("--project", str(project), "validate", str(tmp_path / "nowhere.ttl"))
    assert missing.returncode == 2 and "nowhere.ttl" in missing.stderr and "Traceback" not in missing.stderr
    helped = run_cli("--project", str(project), "validate", "--help")
    assert helped.returncode == 0 and "--strict" in helped.stdout
    usage = run_cli("--project", str(project), "validate", "--format", "xml", str(bad))
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
