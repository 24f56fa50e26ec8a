"""`source add` and `source list`: a new source text registered verbatim with its hash, its publisher
resolved or created, and assertions citing it validated against its text."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import run_cli, store_dir
from test_validate import HEAD, expand, selection, tree_hash

from dispute_kg.errors import InputError
from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.additions import add, history, retract
from dispute_kg.project.folder import Project
from dispute_kg.project.sources import add_source

TEXT = ("Example Wire, 19 October 2021 (EXAMPLE TEXT, NOT A REAL REPORT)\n\n"
        "TOKYO - Japan wants to resolve the territorial issue and conclude a peace treaty with Russia, "
        "Foreign Minister Toshimitsu Motegi said on Tuesday.\n")
SOURCE = "https://w3id.org/dispute-kg/id/source/example-wire"


@pytest.fixture
def built(built_copy: Path) -> Path:
    """A built copy of the shipped project, store included (copied, not rebuilt: faster)."""
    return built_copy


def text_file(tmp: Path, text: str = TEXT, name: str = "example-wire.txt") -> Path:
    path = tmp / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_source_add_stores_text_verbatim_with_hash_and_creates_publisher(built, tmp_path):
    result = run_cli("--project", str(built), "source", "add", str(text_file(tmp_path)), "--title",
                     "Example wire report", "--published", "2021-10-19", "--publisher", "Example Wire",
                     "--url", "https://example.org/wire")
    assert result.returncode == 0, result.stdout + result.stderr
    stored = built / "data" / "sources" / "example-wire.txt"
    assert stored.read_bytes() == TEXT.encode("utf-8")
    meta = (built / "data" / "sources" / "example-wire.ttl").read_text()
    assert hashlib.sha256(TEXT.encode()).hexdigest() in meta
    assert '"2021-10-19"^^xsd:date' in meta and "PREFIX xsd:" in meta
    # the publisher is named in the text, so it is derived from a selection of its first occurrence
    assert "organisation/example-wire" in meta and "selection/example-wire/0-12" in meta
    listing = run_cli("--project", str(built), "source", "list", "--format", "json")
    rows = {r["iri"]: r for r in json.loads(listing.stdout)}
    assert rows[SOURCE]["publisher"] == "Example Wire" and rows[SOURCE]["length"] == len(TEXT)
    with KnowledgeGraph.open(project=built) as kg:
        assert kg.check().passed
    assert Project.open(built).is_fresh()


def test_existing_publisher_is_reused_and_missing_one_is_background(built, tmp_path):
    project = Project.open(built)
    _, first = add_source(project, text_file(tmp_path), title="Example", published="2021-10-19",
                          publisher="urdupoint news")
    assert first is not None
    meta = (built / "data" / "sources" / "example-wire.ttl").read_text()
    assert "organisation/urdupoint-news" in meta and "NewsOrganisation" not in meta
    _, second = add_source(project, text_file(tmp_path, TEXT + "More.\n", "other.txt"), title="Other",
                           published="2021-10-20", publisher="Nowhere Gazette")
    assert second is not None
    meta = (built / "data" / "sources" / "other.ttl").read_text()
    assert "background-knowledge" in meta and "--publisher option" in meta


def test_assertions_can_cite_the_new_source_and_are_checked_against_its_text(built, tmp_path):
    project = Project.open(built)
    assert add_source(project, text_file(tmp_path), title="Example", published="2021-10-19",
                      publisher="Example Wire")[1]
    quote = "Japan wants to resolve the territorial issue and conclude a peace treaty with Russia"
    sel, sel_ttl = selection(quote, source=SOURCE, occurrence=TEXT)
    good = HEAD + sel_ttl + expand(f"""
id:position/japan-wants-resolution-example a dk:Position ; rdfs:label "Japan wants a resolution (example)"@en ;
    prov:wasDerivedFrom <{sel}> ; dk:holder id:state/japan ; dk:stanceKind dk:Intention ;
    dk:stance "resolve the territorial issue and conclude a peace treaty"@en ;
    dk:topic id:issue/northern-territories-dispute .""")
    path = tmp_path / "cites.ttl"
    path.write_text(good.replace(f"oa:start {TEXT.find(quote)}", f"oa:start {TEXT.find(quote) + 2}"))
    report, addition = add(project, [path])
    assert addition is None and any(p.stage == "provenance" for p in report.problems), report.to_text()
    path.write_text(good)
    report, addition = add(project, [path])
    assert addition is not None, report.to_text()


@pytest.mark.parametrize("kwargs,words", [
    ({"published": "19 October 2021"}, "YYYY-MM-DD"),
    ({"publisher": " "}, "--publisher must not be empty"),
    ({"slug": "Bad Id!"}, "lower-case letters"),
    ({"text": b"\x00\xff\xfe binary"}, "UTF-8"),
    ({"text": b"   \n"}, "empty"),
    ({"slug": "urdupoint-2021-10-18"}, "already registered"),
])
def test_bad_source_registrations_are_refused_and_change_nothing(built, tmp_path, kwargs, words):
    args = {"title": "Example", "published": "2021-10-19", "publisher": "Example Wire", "slug": None}
    raw = kwargs.pop("text", TEXT.encode())
    args.update(kwargs)
    path = tmp_path / "src.txt"
    path.write_bytes(raw)
    before = tree_hash(built / "data"), tree_hash(store_dir(built))
    with pytest.raises(InputError, match=words.replace("-", "-")):
        add_source(Project.open(built), path, **args)
    assert (tree_hash(built / "data"), tree_hash(store_dir(built))) == before


def test_same_text_twice_is_refused(built, tmp_path):
    project = Project.open(built)
    assert add_source(project, text_file(tmp_path), title="Example", published="2021-10-19",
                      publisher="Example Wire")[1]
    with pytest.raises(InputError, match="already registered"):
        add_source(project, text_file(tmp_path, name="copy.txt"), title="Again", published="2021-10-19",
                   publisher="Example Wire")


def test_source_registration_can_be_retracted_while_uncited(built, tmp_path):
    project = Project.open(built)
    before = tree_hash(built / "data")
    _, registration = add_source(project, text_file(tmp_path), title="Example", published="2021-10-19",
                                 publisher="Example Wire")
    retract(project, registration.id)
    assert not (built / "data" / "sources" / "example-wire.txt").exists()
    assert [a.retracts for a in history(project)][-1] == registration.id
    shutil.rmtree(built / "data" / "history")
    assert tree_hash(built / "data") == before
