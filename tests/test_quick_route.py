"""The quick route of `query run`: the query index `build` writes, when it is trusted and when not,
and that the quick and full routes give the same answers, errors and exit codes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import tree_hash
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.query.catalog import Catalog
from dispute_kg.query.index import INDEX_NAME, lookup, refresh

# Modules the quick route must not load: each costs milliseconds, together more than the query.
HEAVY = {"dataclasses", "typing", "re", "json", "hashlib", "pathlib", "textwrap", "threading", "click",
         "rdflib", "pyshacl", "owlrl", "SPARQLWrapper", "dispute_kg.kg", "dispute_kg.query.catalog",
         "dispute_kg.project.folder", "dispute_kg.stores.base", "dispute_kg.project.build"}


def run_traced(project: Path, *args: str) -> tuple[subprocess.CompletedProcess, set[str], str]:
    """Run `dispute-kg --project P ARGS` with -X importtime: (process, modules imported, stderr
    without the import lines)."""
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dispute_kg", "--project", str(project),
                           *args], capture_output=True, text=True, timeout=300)
    imported, rest = set(), []
    for line in proc.stderr.splitlines(keepends=True):
        if line.startswith("import time:"):
            imported.add(line.split("|")[-1].strip())
        else:
            rest.append(line)
    return proc, imported, "".join(rest)


def index(root: Path) -> Path:
    return root / ".dispute-kg" / INDEX_NAME


def test_the_quick_route_loads_only_pyoxigraph_and_light_modules(built_project):
    proc, imported, stderr = run_traced(built_project, "query", "run", "claims", "-p", "state=Japan")
    assert proc.returncode == 0, stderr
    assert "pyoxigraph" in imported and "dispute_kg.query.index" in imported
    assert not imported & HEAVY, sorted(imported & HEAVY)
    territories = {line.split()[1] for line in proc.stdout.splitlines() if line.startswith("territoryLabel")}
    assert territories == {"Habomai", "Shikotan", "Kunashir", "Iturup"}


def test_the_index_holds_every_stored_query_as_the_catalogue_reads_it(built_copy):
    catalog = Catalog(Project.open(built_copy).query_files)
    for name in catalog.names():
        found = lookup(str(built_copy), name)
        assert found is not None, name
        query, held = found
        held.release()
        assert query == catalog.get(name)
        assert held.store_path == str(Project.open(built_copy).store_path)
    assert lookup(str(built_copy), "no-such-query") is None


def test_a_second_build_leaves_the_index_byte_for_byte(built_copy):
    before = tree_hash(built_copy / ".dispute-kg")
    build(Project.open(built_copy))
    assert tree_hash(built_copy / ".dispute-kg") == before


def _touch(path: Path) -> None:
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))


def _new_file(path: Path) -> None:
    path.write_text("# nothing yet\n", encoding="utf-8")


STALE = {
    "a data file touched": lambda r: _touch(r / "data" / "assertions" / "urdupoint-2021-10-18.ttl"),
    "an ontology file touched": lambda r: _touch(r / "ontology" / "dispute.ttl"),
    "a source text touched": lambda r: _touch(r / "data" / "sources" / "urdupoint-2021-10-18.txt"),
    "a check added": lambda r: (r / "queries" / "checks" / "zz-new.rq").write_text("ASK {}\n"),
    "a stored query edited": lambda r: (r / "queries" / "claims.rq").write_text(
        (r / "queries" / "claims.rq").read_text() + "\n# edited\n"),
    "a stored query added": lambda r: _new_file(r / "queries" / "new.rq"),
    "a data file added": lambda r: _new_file(r / "data" / "assertions" / "new.ttl"),
    "a data folder added": lambda r: (r / "data" / "more").mkdir(),
    "a shape file removed": lambda r: next((r / "shapes").glob("*.ttl")).unlink(),
    "a folder added deep in data": lambda r: (r / "data" / "links" / "deeper").mkdir(),
    "another generation published": lambda r: (r / ".dispute-kg" / "current").write_text("99999999\n"),
    "an add under way": lambda r: (r / ".dispute-kg" / "journal.json").write_text("{}"),
    "the store gone": lambda r: shutil.rmtree(Project.open(r).store_path.parent),
    "the index garbled": lambda r: index(r).write_bytes(b"\x00garbage" * 10),
    "the index truncated": lambda r: index(r).write_bytes(index(r).read_bytes()[:100]),
    "the index emptied": lambda r: index(r).write_bytes(b""),
}


@pytest.mark.parametrize("change", sorted(STALE))
def test_the_index_is_not_trusted_after(built_copy, change):
    found = lookup(str(built_copy), "claims")
    assert found is not None
    found[1].release()
    STALE[change](built_copy)
    assert lookup(str(built_copy), "claims") is None


CASES = [
    ["query", "run", "claims", "-p", "state=Japan"],
    ["query", "run", "claims", "-p", "state=japan", "-f", "csv"],
    ["query", "run", "claims", "-p", "state=id:state/japan", "-f", "tsv"],
    ["query", "run", "claims", "-p", "state=https://w3id.org/dispute-kg/id/state/russia", "-f", "json"],
    ["query", "run", "disputed-territories", "-f", "xml"],
    ["query", "run", "agreements", "-p", "party=USSR"],
    ["query", "run", "agreement-provisions", "-p", "agreement=Soviet-Japanese Joint Declaration"],
    ["query", "run", "positions", "-p", "holder=Japan", "-p", "after=2000-01-01"],
    ["query", "run", "statements"],
    ["query", "run", "timeline", "-p", "from=1950-01-01", "-p", "to=2000-12-31"],
    ["query", "run", "timeline", "--limit", "2", "-f", "csv"],
    ["query", "run", "provenance", "-p", "subject=Shikotan"],
    ["query", "run", "sources"],
    ["query", "run", "entity", "-p", "id=Etorofu", "-f", "nt"],
    ["query", "run", "entity", "-p", "id=Japan", "-f", "table"],
    # refusals: each must read the same on both routes
    ["query", "run", "claims", "-p", "state=Narnia"],
    ["query", "run", "claims", "-p", "state=Habomai"],
    ["query", "run", "claims", "-p", "state=<x> } ; DROP ALL ; {"],
    ["query", "run", "claims", "-p", "nation=Japan"],
    ["query", "run", "positions", "-p", "before=yesterday"],
    ["query", "run", "positions", "-p", "before=2021-02-30"],
    ["query", "run", "agreement-provisions"],
    ["query", "run", "entity", "-p", "id=Japan", "-f", "csv"],
    ["query", "run", "claims", "-f", "ttl"],
]


def test_quick_and_full_routes_answer_alike(built_copy):
    """Each command line first on the quick route, then with the index removed (the full route)."""
    for args in CASES:
        assert index(built_copy).exists()
        quick, imported, quick_err = run_traced(built_copy, *args)
        assert "dispute_kg.kg" not in imported, f"{args} left the quick route"
        index(built_copy).unlink()
        full, imported, full_err = run_traced(built_copy, *args)
        assert "dispute_kg.kg" in imported, args
        assert (quick.returncode, quick.stdout, quick_err) == (full.returncode, full.stdout, full_err), args
        assert quick.returncode in (0, 2) and (quick.returncode == 0) == (not quick_err.startswith("Error")), args
        # the full route found the store fresh and wrote the index again for the next run
        assert lookup(str(built_copy), args[2]) is not None


@pytest.mark.parametrize("pairs", [["state"], ["state=Japan", "state=Russia"], ["=Japan"]])
def test_malformed_pairs_are_refused_before_any_store_is_opened(built_project, pairs):
    args = [a for pair in pairs for a in ("-p", pair)]
    proc, imported, err = run_traced(built_project, "query", "run", "claims", *args)
    assert proc.returncode == 2 and err.startswith("Error: ") and err.count("\n") == 1
    assert "pyoxigraph" not in imported and "dispute_kg.kg" not in imported
    slow = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(built_project), "-v", "query", "run",
                           "claims", *args], capture_output=True, text=True, timeout=300)
    assert (slow.returncode, slow.stderr) == (proc.returncode, err)


def test_an_edited_query_is_read_from_its_file_then_indexed(built_copy):
    path = built_copy / "queries" / "sources.rq"
    text = path.read_text(encoding="utf-8")
    assert "SELECT " in text
    path.write_text(text.replace("SELECT ", 'SELECT ("edited" AS ?marker) ', 1), encoding="utf-8")
    first, imported, err = run_traced(built_copy, "query", "run", "sources", "-f", "csv")
    assert first.returncode == 0, err
    assert "dispute_kg.kg" in imported and first.stdout.splitlines()[0].startswith("marker,")
    second, imported, err = run_traced(built_copy, "query", "run", "sources", "-f", "csv")
    assert "dispute_kg.kg" not in imported and second.stdout == first.stdout


def test_new_data_is_seen_at_once_and_the_store_rebuilt(built_copy):
    """A file added under data/ changes no recorded file, only its folder: the index must not be
    trusted, the store is rebuilt, and the new alias resolves."""
    (built_copy / "data" / "assertions" / "alias.ttl").write_text(
        '<https://w3id.org/dispute-kg/id/state/japan> '
        '<http://www.w3.org/2004/02/skos/core#altLabel> "Nippon"@en .\n', encoding="utf-8")
    proc, imported, err = run_traced(built_copy, "query", "run", "claims", "-p", "state=Nippon", "-f", "csv")
    assert proc.returncode == 0, err
    assert "dispute_kg.project.build" in imported
    assert len(proc.stdout.splitlines()) == 5  # the header and the four islands
    proc, imported, err = run_traced(built_copy, "query", "run", "claims", "-p", "state=Nippon", "-f", "csv")
    assert "dispute_kg.kg" not in imported and len(proc.stdout.splitlines()) == 5


def test_add_leaves_an_index_that_shows_the_addition(built_copy, tmp_path):
    from test_validate import GOOD

    from dispute_kg.project.additions import add

    path = tmp_path / "good.ttl"
    path.write_text(GOOD, encoding="utf-8")
    _, addition = add(Project.open(built_copy), [path])
    assert addition is not None
    assert lookup(str(built_copy), "positions") is not None
    proc, imported, err = run_traced(built_copy, "query", "run", "positions", "-p", "holder=Japan", "-f", "csv")
    assert proc.returncode == 0, err
    assert "dispute_kg.kg" not in imported and "the issue must be settled" in proc.stdout


def test_a_query_past_its_timeout_is_stopped_on_the_quick_route(built_copy, monkeypatch):
    monkeypatch.setenv("DISPUTE_KG_VIEW_SECONDS", "1")  # the build leaves this listing to the engine after 1 s
    (built_copy / "queries" / "slow.rq").write_text(
        "#+ summary: every triple against every other, twice\n"
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n", encoding="utf-8")
    build(Project.open(built_copy))
    assert lookup(str(built_copy), "slow") is not None
    started = time.monotonic()
    proc, imported, err = run_traced(built_copy, "query", "run", "slow", "--timeout", "0.5")
    assert time.monotonic() - started < 30
    assert proc.returncode == 3 and "dispute_kg.kg" not in imported
    assert err == "Error: query stopped after 0.5 s (raise --timeout to allow longer)\n"


def test_refresh_leaves_no_index_for_a_store_that_does_not_match(built_copy):
    _touch(built_copy / "ontology" / "dispute.ttl")
    assert refresh(Project.open(built_copy)) is False
    assert not index(built_copy).exists()


def test_the_fast_parser_knows_every_output_format():
    from dispute_kg.cli.fastpath import parse
    from dispute_kg.query.results import WRITERS

    for name in WRITERS:
        plan = parse(["query", "run", "sources", "-f", name])
        assert plan is not None and plan.fmt == name
    assert parse(["query", "run", "sources", "-f", "yaml"]) is None  # click refuses it, with the choices


CELL = st.lists(st.text(alphabet="xé字-", min_size=1, max_size=25), max_size=10).map(" ".join)


@settings(max_examples=500, deadline=None)
@given(text=CELL, width=st.integers(min_value=1, max_value=30))
def test_table_wrapping_matches_textwrap(text, width):
    from dispute_kg.query.results import wrap

    expected = [line.rstrip(" ") for line in
                textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False)] or [""]
    assert wrap(text, width) == expected
