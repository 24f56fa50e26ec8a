"""Materialised answers (`query/views.py`): each listing's answer is written beside its store generation
before the generation is published, and a page of it is read from there. It must be the engine's
answer on that generation, page for page; it must never outlive the data or the query text it was
computed from; and anything it cannot vouch for goes to the engine."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from conftest import run_cli
from test_add import write
from test_validate import GOOD

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.project.additions import add, retract
from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.query import views

PAGES = [(None, None), (1, None), (3, 2), (2, 5), (50, 0), (4, 10_000)]


def engine(kg: KnowledgeGraph, name: str, params: dict | None = None, **page) -> object:
    """The answer with the views file out of the way: what the engine gives on the same store."""
    held, kg.store.views = kg.store.views, None
    try:
        return kg.run_result(name, params or {}, **page)
    finally:
        kg.store.views = held


def listings(kg: KnowledgeGraph) -> list[str]:
    return [q.name for q in kg.queries() if not q.defaults and not any(p.required for p in q.parameters)]


def test_every_listing_is_materialised_and_each_page_is_the_engines(kg) -> None:
    header = views.read_header(kg.store.views)
    assert header is not None
    names = listings(kg)
    assert set(header["queries"]) == set(names) == set(header["texts"]), "every listing has its answer"
    assert {"claims", "statements", "timeline", "positions", "agreements"} <= set(names)
    for name in names:
        whole = engine(kg, name)
        assert header["queries"][name]["rows"] == len(whole.rows)
        for limit, offset in PAGES:
            assert kg.run_result(name, {}, limit=limit, offset=offset) == engine(kg, name, limit=limit,
                                                                                  offset=offset), (name, limit, offset)


def test_listings_are_read_from_the_file_and_filtered_ones_from_the_engine(kg, monkeypatch) -> None:
    calls: list[str] = []

    def counting(method):
        real = getattr(kg.store, method)

        def call(text, *args, **kwargs):
            calls.append(text)
            return real(text, *args, **kwargs)
        return call

    monkeypatch.setattr(kg.store, "query", counting("query"))
    monkeypatch.setattr(kg.store, "query_ordered", counting("query_ordered"))
    claims = kg.run_result("claims", {}, limit=2, offset=1)
    assert calls == [] and len(claims.rows) == 2 and claims.truncated
    japan = kg.run_result("claims", {"state": "Japan"})
    # the label is resolved to an IRI by one query, and the bound text goes to the engine, which leaves the
    # ordering to rdf/ordering.py
    assert len(calls) == 2 and "ORDER BY ?claimantLabel" not in calls[-1] and "VALUES" in calls[-1]
    assert {r["claimantLabel"]["value"] for r in japan.rows} == {"Japan"}


def test_a_volatile_or_runaway_listing_is_left_to_the_engine(built_copy: Path, monkeypatch) -> None:
    (built_copy / "queries" / "runaway.rq").write_text(
        "#+ summary: Every triple against every other, twice\n"
        "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }\n", encoding="utf-8")
    (built_copy / "queries" / "remote.rq").write_text(
        "#+ summary: Asks another host\nSELECT ?x WHERE { BIND (1 AS ?x) SERVICE <http://127.0.0.1:9/sparql> "
        "{ ?a ?b ?c } }\n", encoding="utf-8")
    (built_copy / "queries" / "clock.rq").write_text(
        "#+ summary: Changes by itself\nSELECT ?now WHERE { BIND (NOW() AS ?now) }\n", encoding="utf-8")
    monkeypatch.setenv("DISPUTE_KG_VIEW_SECONDS", "1")
    started = time.monotonic()
    build(Project.open(built_copy))  # the data did not change: the same store, with new views
    assert time.monotonic() - started < 30, "a runaway listing holds the build up only for its time"
    with KnowledgeGraph.open(project=built_copy) as kg:
        header = views.read_header(kg.store.views)
        assert {"runaway", "remote", "clock"} <= set(header["texts"])
        assert not {"runaway", "remote", "clock"} & set(header["queries"])
        assert "claims" in header["queries"]
        assert kg.run_result("clock", {}).rows[0]["now"]["value"] != "", "answered by the engine, now"
        assert not views.stale(kg.store.views, kg.catalog.all()), "left out by design, not stale"


def test_an_answer_over_the_row_cap_is_not_kept(kg, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(views, "MAX_ROWS", 5)
    queries = [kg.catalog.get(name) for name in ("claims", "sources")]
    written = views.materialise(kg.store, *views.plan(queries), tmp_path, point="test")
    assert len(kg.run_result("claims", {}).rows) > 5 >= len(kg.run_result("sources", {}).rows)
    assert written == {"sources": len(kg.run_result("sources", {}).rows)}
    assert views.page(views.view_file(tmp_path), "claims", kg.catalog.get("claims").text, 2, 0) is None


def test_an_addition_and_its_retraction_publish_views_of_their_own_graph(built_copy: Path, tmp_path: Path) -> None:
    project = Project.open(built_copy)
    with KnowledgeGraph.open(project=built_copy) as kg:
        before = kg.run_result("positions", {}).rows
    _, addition = add(project, [write(tmp_path, "good.ttl", GOOD)], agent="views test")
    assert addition is not None
    with KnowledgeGraph.open(project=built_copy) as kg:
        after = kg.run_result("positions", {})
        assert after == engine(kg, "positions")
        assert len(after.rows) > len(before)
        assert any(r["position"]["value"].endswith("japan-believes-test") for r in after.rows)
        for limit, offset in PAGES:
            assert kg.run_result("positions", {}, limit=limit, offset=offset) == engine(
                kg, "positions", limit=limit, offset=offset)
    retract(project, addition.id, agent="views test")
    with KnowledgeGraph.open(project=built_copy) as kg:
        assert kg.run_result("positions", {}).rows == before == engine(kg, "positions").rows


def test_an_edited_query_is_answered_by_the_engine_until_build_materialises_it(built_copy: Path) -> None:
    path = built_copy / "queries" / "claims.rq"
    path.write_text(path.read_text(encoding="utf-8").replace(
        "ORDER BY ?claimantLabel ?claim ?territoryLabel", "ORDER BY DESC(?claimantLabel) ?claim ?territoryLabel"),
        encoding="utf-8")
    with KnowledgeGraph.open(project=built_copy) as kg:
        edited = kg.run_result("claims", {})
        assert edited == engine(kg, "claims")
        labels = [r["claimantLabel"]["value"] for r in edited.rows]
        assert labels == sorted(labels, reverse=True) and len(set(labels)) > 1, "the edited order, not the view's"
    project = Project.open(built_copy)
    before = project.manifest()["generation"]
    build(project)
    assert project.manifest()["generation"] != before, "a new generation carries the new query's answer"
    with KnowledgeGraph.open(project=built_copy) as kg:
        assert views.read_header(kg.store.views)["queries"]["claims"]["text"] == path.read_text(encoding="utf-8")
        assert kg.run_result("claims", {}) == edited
    build(project)
    assert project.manifest()["generation"] != before
    generation = project.manifest()["generation"]
    build(project)
    assert project.manifest()["generation"] == generation, "nothing changed: nothing published"


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_a_damaged_views_file_is_treated_as_absent(built_copy: Path, damage: str) -> None:
    with KnowledgeGraph.open(project=built_copy) as kg:
        whole = engine(kg, "claims")
        path = Path(kg.store.views)
        data = path.read_bytes()
        path.write_bytes({"garbage": b"\x07" * len(data), "truncated": data[: len(data) * 2 // 3],
                          "empty": b""}[damage])
        assert kg.run_result("claims", {}) == whole
        assert kg.run_result("timeline", {}, limit=2, offset=1) == engine(kg, "timeline", limit=2, offset=1)


def test_a_store_named_on_the_command_line_is_not_given_views(built_project: Path) -> None:
    """Only a held, published generation never changes; a store path given by hand may have been written."""
    from dispute_kg.project.state import read_pointer

    name = read_pointer(str(built_project / ".dispute-kg"))
    path = built_project / ".dispute-kg" / "stores" / name / "store"
    with KnowledgeGraph.open(f"oxigraph:{path}", project=built_project) as kg:
        assert getattr(kg.store, "views", None) is None
        assert kg.run_result("claims", {}, limit=2).rows


def test_the_quick_route_pages_from_the_file(built_project: Path) -> None:
    quick = run_cli("query", "run", "claims", "--limit", "2", "--offset", "3", "--format", "csv",
                    cwd=built_project)
    assert quick.returncode == 0, quick.stderr
    with KnowledgeGraph.open(project=built_project) as kg:
        page = engine(kg, "claims", limit=2, offset=3)
    lines = quick.stdout.strip().splitlines()
    assert len(lines) == 3
    assert [line.split(",")[0] for line in lines[1:]] == [r["claim"]["value"] for r in page.rows]


def test_a_build_killed_while_its_listings_are_answered_leaves_nothing_behind(built_copy: Path,
                                                                              tmp_path: Path) -> None:
    """The child that answers the listings ends with the build that started it: it must not write into a
    generation the next writer removes, nor outlive it."""
    import os
    import signal
    import subprocess
    import sys

    from test_state import _wait_for

    from dispute_kg.project.state import read_pointer

    ctl = tmp_path / "ctl"
    ctl.mkdir()
    before = read_pointer(str(built_copy / ".dispute-kg"))
    env = dict(os.environ, DISPUTE_KG_PAUSE_AT="build:views:fsync", DISPUTE_KG_PAUSE_DIR=str(ctl))
    command = [sys.executable, "-m", "dispute_kg", "--project", str(built_copy), "build", "--force"]
    build_proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(lambda: (ctl / "paused").exists() or build_proc.poll() is not None, "the child to pause", 120)
    assert build_proc.poll() is None
    children = subprocess.run(["pgrep", "-P", str(build_proc.pid)], capture_output=True, text=True).stdout.split()
    assert len(children) == 1, children
    child = int(children[0])
    os.kill(build_proc.pid, signal.SIGKILL)
    build_proc.wait()
    (ctl / "resume").touch()  # were it still alive, it would now write its file
    _wait_for(lambda: not Path(f"/proc/{child}").exists()
              or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2], "the child to end", 10)
    stores = built_copy / ".dispute-kg" / "stores"
    assert read_pointer(str(built_copy / ".dispute-kg")) == before
    unpublished = [p for p in stores.iterdir() if p.name != before]
    assert all(not (p / "views.marshal").exists() for p in unpublished), "the child wrote after its build died"
    with KnowledgeGraph.open(project=built_copy) as kg:  # the next command cleans up and reads as before
        assert kg.run_result("claims", {}) == engine(kg, "claims")
    build(Project.open(built_copy))
    assert sorted(p.name for p in stores.iterdir()) == [read_pointer(str(built_copy / ".dispute-kg"))]


def test_a_flipped_byte_anywhere_in_the_file_never_gives_a_wrong_row(built_copy: Path) -> None:
    """Every part read is checked: whichever byte is damaged, each page is the engine's."""
    import random

    rng = random.Random(18)
    with KnowledgeGraph.open(project=built_copy) as kg:
        path = Path(kg.store.views)
        pristine = path.read_bytes()
        asks = [(name, limit, offset) for name in ("claims", "positions", "timeline", "sources")
                for limit, offset in ((3, 0), (2, 70), (None, None))]
        expected = {ask: engine(kg, ask[0], limit=ask[1], offset=ask[2]) for ask in asks}
        for at in rng.sample(range(len(pristine)), 150):
            damaged = bytearray(pristine)
            damaged[at] ^= 1 << rng.randrange(8)
            path.write_bytes(bytes(damaged))
            for ask in asks:
                assert kg.run_result(ask[0], {}, limit=ask[1], offset=ask[2]) == expected[ask], (at, ask)


def test_a_real_http_client_pages_a_listing_as_the_engine_answers_it(built_project: Path) -> None:
    """`dispute-kg serve` in its own process, its workers reading the views file, asked page by page by an
    HTTP client that knows nothing of it: the pages put together are the engine's whole answer."""
    import json
    import urllib.request

    from servers import dispute_kg_serve

    with KnowledgeGraph.open(project=built_project) as kg:
        whole = engine(kg, "positions").rows
    got: list[dict] = []
    with dispute_kg_serve(built_project, "--workers", "1") as base:
        for offset in range(0, len(whole) + 4, 4):
            request = urllib.request.Request(f"{base}/api/queries/positions?_limit=4&_offset={offset}",
                                             headers={"Accept": "application/sparql-results+json",
                                                      "Cache-Control": "no-cache"})
            with urllib.request.urlopen(request, timeout=30) as response:
                got += json.loads(response.read())["results"]["bindings"]
    assert len(whole) > 4 and got == whole
