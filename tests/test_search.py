"""The search index (`query.search`): what it finds first, that hostile input is only ever words, and
that build, add and retract keep it fresh (as does a store changed behind its back)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from test_validate import GOOD

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.additions import add, retract
from dispute_kg.project.folder import Project
from dispute_kg.query.search import fts_query, grouped, index_path, search
from dispute_kg.rdf.namespaces import ID

FIRST = [("Etorofu", "territory/iturup"), ("Kunashiri", "territory/kunashir"),
         ("1956", "agreement/1956-soviet-japanese-joint-declaration"),
         ("Northern Territories", "territory/northern-territories"),
         ("USSR", "state/soviet-union"), ("matsuno", "person/hirokazu-matsuno"), ("ETOROFU", "territory/iturup"),
         ("Joint Declaration", "agreement/1956-soviet-japanese-joint-declaration")]


@pytest.mark.parametrize(("text", "entity"), FIRST)
def test_the_right_entity_comes_first(kg, text, entity):
    hits = search(kg, text)
    assert hits, text
    assert hits[0].entity == ID + entity, [(h.label, h.kind_label, h.field) for h in hits[:5]]


def test_quotes_are_searched_and_results_are_grouped_by_kind(kg):
    hits = search(kg, "bequeathed to future generations")  # words only in a cited quote
    assert hits and all(h.field in ("quote", "text") for h in hits)
    assert "[bequeathed]" in hits[0].snippet
    groups = grouped(search(kg, "1956"))
    kinds = [g["kind"] for g in groups]
    assert len(kinds) == len(set(kinds)) and len(groups) > 2
    assert sum(len(g["hits"]) for g in groups) == len(search(kg, "1956"))


@pytest.mark.parametrize(("text", "expected"), [
    ("", ""), ("   ", ""), ("1956", '"1956"*'), ('Etorofu OR "x', '"Etorofu"* "OR"* "x"*'),
    ("text:abc NEAR(a b)", '"textabc"* "NEARa"* "b"*'), ("*", ""), ("^foo -bar", '"foo"* "bar"*'),
    ("Kuril'skiye", "\"Kuril'skiye\"*"), ("Итуруп", '"Итуруп"*'),
])
def test_user_text_becomes_quoted_prefix_terms(text, expected):
    assert fts_query(text) == expected


@pytest.mark.parametrize("text", ['"', "AND", "NOT NOT", "col:", "(((", "a\x00b", "' OR 1=1 --", "x" * 5000,
                                  "NEAR(", "^", "{a b}"])
def test_hostile_input_is_only_words(kg, text):
    search(kg, text)  # never an FTS5 syntax error, never SQL


def test_an_index_is_rebuilt_when_the_store_changed_behind_its_back(built_copy: Path):
    project = Project.open(built_copy)
    path = index_path(project)
    assert path.exists(), "build writes the index"
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = 'stale' WHERE key = 'stamp'")
    db.execute("DELETE FROM doc")
    db.commit()
    db.close()
    with KnowledgeGraph.open(project=built_copy) as kg:
        assert search(kg, "Etorofu")[0].entity == ID + "territory/iturup"


def test_searches_during_rebuilds_always_see_a_whole_index(built_copy: Path):
    """Readers open the file the atomic rename left; a rebuild never shows them a half-written index."""
    import threading

    from dispute_kg.query.search import refresh

    project = Project.open(built_copy)
    errors: list[str] = []
    stop = threading.Event()

    def rebuild() -> None:
        while not stop.is_set():
            refresh(project)

    with KnowledgeGraph.open(project=built_copy) as kg:
        writer = threading.Thread(target=rebuild)
        writer.start()
        try:
            for _ in range(40):
                hits = search(kg, "Etorofu")
                if not hits or hits[0].entity != ID + "territory/iturup":
                    errors.append(repr(hits[:1]))
        finally:
            stop.set()
            writer.join()
    assert errors == []
    assert not list(index_path(project).parent.glob("search.tmp-*")), "no temporary index left behind"


def test_add_and_retract_keep_the_index_fresh(built_copy: Path, tmp_path: Path):
    project = Project.open(built_copy)
    ttl = GOOD.replace("Japan: a test position", "Japan: a zanzibarian test position")
    path = tmp_path / "a.ttl"
    path.write_text(ttl, encoding="utf-8")
    _, addition = add(project, [path], agent="test")
    with sqlite3.connect(index_path(project)) as db:
        found = db.execute("SELECT iri FROM doc WHERE doc MATCH 'zanzibarian'").fetchall()
    assert found == [(ID + "position/japan-believes-test",)]
    retract(project, addition.id, agent="test")
    with sqlite3.connect(index_path(project)) as db:
        assert db.execute("SELECT iri FROM doc WHERE doc MATCH 'zanzibarian'").fetchall() == []


def index_rows(project: Project) -> tuple[list, list, list]:
    with sqlite3.connect(index_path(project)) as db:
        return (sorted(db.execute("SELECT * FROM entity").fetchall()),
                sorted(db.execute("SELECT text, iri, field, lang FROM doc").fetchall()),
                db.execute("SELECT value FROM meta").fetchall())


@pytest.mark.parametrize("ttl", [GOOD.replace("Japan: a test position", "Japan: a zanzibarian test position")],
                         ids=["position"])
def test_an_addition_updates_the_index_to_what_a_full_rebuild_gives(built_copy: Path, tmp_path: Path,
                                                                   monkeypatch, ttl: str):
    """Only the entities an addition touches are read again; the index must be the full rebuild's, row for
    row, and a full rebuild must not have been what made it."""
    from dispute_kg.query import search as search_module

    project = Project.open(built_copy)
    path = tmp_path / "a.ttl"
    path.write_text(ttl, encoding="utf-8")
    reads: list[list[str] | None] = []
    real = search_module.fill
    monkeypatch.setattr(search_module, "fill", lambda db, sparql, only=None: (reads.append(only),
                                                                               real(db, sparql, only))[1])
    _, addition = add(project, [path], agent="test")
    assert addition is not None
    assert reads and all(only is not None for only in reads), "the addition rebuilt the whole index"
    touched = sorted(iri for only in reads for iri in only)
    assert ID + "position/japan-believes-test" in touched and len(touched) < 40, touched
    incremental = index_rows(project)
    search_module.refresh(project)  # the full rebuild, from the same store
    assert index_rows(project) == incremental
    assert ID + "position/japan-believes-test" in {row[1] for row in incremental[1] if "zanzibarian" in row[0]}


def test_an_index_of_another_generation_is_rebuilt_not_updated(built_copy: Path, tmp_path: Path) -> None:
    from dispute_kg.query import search as search_module

    project = Project.open(built_copy)
    with sqlite3.connect(index_path(project)) as db:
        db.execute("UPDATE meta SET value = 'another generation' WHERE key = 'stamp'")
        db.execute("DELETE FROM doc")  # what an update of this index would keep
    path = tmp_path / "a.ttl"
    path.write_text(GOOD, encoding="utf-8")
    add(project, [path], agent="test")
    rows = index_rows(project)
    search_module.refresh(project)
    assert index_rows(project) == rows and rows[1], "a full rebuild, with every entity's rows"


def test_a_change_to_a_selection_rereads_the_entities_that_cite_it() -> None:
    from dispute_kg.query.search import affected

    class Store:
        def __init__(self) -> None:
            self.texts: list[str] = []

        def __call__(self, text: str):
            self.texts.append(text)
            from dispute_kg.rdf.terms import Result

            return Result("select", ["entity"], [{"entity": {"type": "uri", "value": ID + "claim/x"}}])

    import pyoxigraph as ox

    sel = ox.NamedNode(ID + "selection/s/1-2/quote")
    exact = ox.NamedNode("http://www.w3.org/ns/oa#exact")
    store = Store()
    assert affected([ox.Quad(sel, exact, ox.Literal("q"))], store) == [ID + "claim/x"]
    assert "oa:hasSelector ?changed" in store.texts[0] and f"<{sel.value}>" in store.texts[0]
    blank = ox.Quad(ox.BlankNode(), exact, ox.Literal("q"))
    assert affected([blank], store) is None, "a blank node: a full rebuild"
    vocabulary = ox.Quad(ox.NamedNode("https://w3id.org/dispute-kg/def#Claim"),
                         ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label"), ox.Literal("Claim"))
    assert affected([vocabulary], store) is None, "a kind's label: a full rebuild"


def test_a_remote_store_gets_an_index_in_memory(built_project: Path):
    with KnowledgeGraph.open("memory:", project=built_project) as kg:
        assert search(kg, "Etorofu")[0].entity == ID + "territory/iturup"
