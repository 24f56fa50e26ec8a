"""One compliance suite: every stored query (with its documented example parameters) and every QC check
gives the same rows on `memory:`, `oxigraph:`, a real `oxigraph serve` and a real OpenLink Virtuoso 7 on
127.0.0.1, both loaded with `dispute-kg push`; `check` passes against the remote stores too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli
from servers import oxigraph_serve

from dispute_kg.kg import KnowledgeGraph
from dispute_kg.query.catalog import Catalog
from dispute_kg.stores.base import open_store
from dispute_kg.validation.checks import run_check


@pytest.fixture(scope="session")
def oxigraph_server(tmp_path_factory: pytest.TempPathFactory):
    """`oxigraph serve` on a free loopback port with the union default graph, stopped after the session."""
    with oxigraph_serve(tmp_path_factory.mktemp("oxigraph-server")) as selector:
        yield selector


def pushed(project: Path, selector: str) -> str:
    """`selector`'s store, loaded from the built project with `dispute-kg push` (a real CLI process)."""
    result = run_cli("--project", str(project), "push", "--to", selector)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "every graph's triple count matches" in result.stdout
    return selector


@pytest.fixture(scope="session")
def remote(built_project: Path, oxigraph_server: str) -> str:
    return pushed(built_project, oxigraph_server)


@pytest.fixture(scope="session")
def virtuoso(built_project: Path, virtuoso_server: str) -> str:
    return pushed(built_project, virtuoso_server)


@pytest.fixture(scope="session")
def servers(remote: str, virtuoso: str) -> dict[str, str]:
    return {"sparql": remote, "virtuoso": virtuoso}


@pytest.fixture(scope="session")
def stores(built_project: Path, remote: str, virtuoso: str):
    graphs = {name: KnowledgeGraph.open(sel, project=built_project)
              for name, sel in (("memory", "memory:"), ("oxigraph", None), ("sparql", remote),
                                ("virtuoso", virtuoso))}
    yield graphs
    for kg in graphs.values():
        kg.close()


_NESTED = r'(?:[^()]|\((?:[^()]|\([^()]*\))*\))*?'  # up to two levels of parentheses, e.g. STR(COALESCE(..))
_CONCAT = re.compile(r'GROUP_CONCAT\(' + _NESTED + r'separator\s*=\s*"([^"]*)"\s*\)\s*AS\s+\?(\w+)',
                     re.I | re.S)
# a list joined in a subquery and carried out by a SAMPLE: `(SAMPLE(COALESCE(?list, "")) AS ?column)`
_CARRIED = re.compile(r'SAMPLE\(\s*COALESCE\(\s*\?(\w+)\s*,[^()]*\)\s*\)\s*AS\s+\?(\w+)', re.I)


def canonical(rows: list[dict], text: str = "") -> list[dict]:
    """Rows with blank node labels blanked (each store names them its own way) and GROUP_CONCAT values
    made comparable: their parts sorted (SPARQL leaves the order of an aggregate's values to the engine)
    and their language tag dropped (SPARQL 1.1 makes the result a simple literal, as rdflib does;
    Oxigraph follows SPARQL 1.2 and keeps a tag all the values share)."""
    concat = {var: sep for sep, var in _CONCAT.findall(text)}
    concat.update({outer: concat[inner] for inner, outer in _CARRIED.findall(text) if inner in concat})
    out = []
    for row in rows:
        item = {}
        for k, t in row.items():
            if t["type"] == "bnode":
                t = {"type": "bnode", "value": "_"}
            elif concat.get(k):
                t = {"type": "literal", "value": concat[k].join(sorted(t["value"].split(concat[k])))}
            item[k] = t
        out.append(item)
    return out


CATALOG = Catalog(sorted((Path(__file__).resolve().parent.parent / "queries").glob("*.rq")))
CHECKS = sorted((Path(__file__).resolve().parent.parent / "queries" / "checks").glob("*.rq"))


def query_cases() -> list[tuple[str, str]]:
    """Each query with its required example parameters, and once more with each optional one's example."""
    cases = []
    for q in CATALOG.all():
        cases.append((q.name, ""))
        cases += [(q.name, p.name) for p in q.parameters if not p.required and p.example]
    return cases


CASES = [pytest.param(name, param, backend, id=f"{name}-{param or 'required'}-{backend}")
         for name, param in query_cases() for backend in ("memory", "sparql", "virtuoso")]


def test_kind_hierarchies_are_no_deeper_than_the_queries_read(stores) -> None:
    """`agreements` and `timeline` find a kind under dk:Agreement or dk:Event without a property path (which
    Virtuoso evaluates wrongly inside OPTIONAL), by sub-class chains of at most three steps: the ontology
    must not grow deeper than that unnoticed."""
    deepest = stores["oxigraph"].sparql(
        "PREFIX dk: <https://w3id.org/dispute-kg/def#> PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
        "SELECT ?c WHERE { VALUES ?root { dk:Agreement dk:Event } "
        "?c rdfs:subClassOf/rdfs:subClassOf/rdfs:subClassOf/rdfs:subClassOf+ ?root }").rows
    assert deepest == []


@pytest.mark.parametrize(("name", "param", "backend"), CASES)
def test_stored_query_gives_the_rows_of_the_embedded_store(stores, name: str, param: str, backend: str) -> None:
    query = CATALOG.get(name)
    params = {p.name: p.example for p in query.parameters if p.required or p.name == param}
    reference = stores["oxigraph"].run_result(name, params, timeout=60)
    assert reference.rows, f"{name} {params} returned no rows on oxigraph: the comparison would prove nothing"
    result = stores[backend].run_result(name, params, timeout=60)
    assert result.variables == reference.variables
    assert canonical(result.rows, query.text) == canonical(reference.rows, query.text), f"{name} {params}"


@pytest.mark.parametrize("path", CHECKS, ids=[p.stem for p in CHECKS])
def test_check_gives_identical_rows_on_every_backend(stores, path: Path) -> None:
    results = {backend: run_check(kg.store, path) for backend, kg in stores.items()}
    for backend, result in results.items():
        assert result.rows == results["oxigraph"].rows, backend
        assert result.passed, f"{path.stem} fails on {backend}: {result.rows[:3]}"


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
def test_every_graph_arrived_with_the_same_triple_count(built_project: Path, servers: dict, server: str) -> None:
    local = open_store(None, project=KnowledgeGraph.open(project=built_project).project, read_only=True)
    target = open_store(servers[server])
    from dispute_kg.project.push import graph_counts

    counts = graph_counts(local)
    assert "https://w3id.org/dispute-kg/graph/inferred" in counts
    assert {g: target.count(g) for g in counts} == counts
    assert target.count() == local.count()
    local.close()


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
def test_check_passes_against_the_remote_store(built_project: Path, servers: dict, server: str) -> None:
    result = run_cli("--project", str(built_project), "--store", servers[server], "check")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PASS owl-consistency: 0 violation(s)" in result.stdout
    assert "PASS functional-property-twice: 0 violation(s)" in result.stdout


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
def test_query_cli_answer_is_the_same_on_the_remote_store(built_project: Path, servers: dict, server: str) -> None:
    args = ("query", "run", "claims", "-p", "state=Japan", "--format", "json")
    local = run_cli("--project", str(built_project), *args)
    far = run_cli("--project", str(built_project), "--store", servers[server], *args)
    assert local.returncode == far.returncode == 0, local.stderr + far.stderr
    assert local.stdout == far.stdout


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
def test_push_twice_replaces_rather_than_duplicates(built_project: Path, servers: dict, server: str) -> None:
    local = open_store(None, project=KnowledgeGraph.open(project=built_project).project, read_only=True)
    expected = local.count()
    local.close()
    result = run_cli("--project", str(built_project), "push", "--to", servers[server], "--batch", "100")
    assert result.returncode == 0, result.stderr
    pushed = re.search(r"pushed (\d+) triples", result.stdout)
    assert pushed and int(pushed.group(1)) == expected, result.stdout
    assert open_store(servers[server]).count() == expected  # a second push left one copy, not two


HOSTILE = ['"', "'", '"""', "}", "{", "} ; DROP ALL ; {", "\n", ">", "<", "Japan\n} DROP ALL {",
           "Japan'; DROP ALL; #", "http://x/> } ; DROP ALL ; { <", "id:state/japan> } DROP ALL {", "\\",
           "\u202e", "日本", "2018-01-01\" } DROP ALL { \"", "https://w3id.org/dispute-kg/id/state/ünïcödé"]


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_parameter_values_never_change_the_remote_store(stores, value: str, server: str) -> None:
    from dispute_kg.errors import InputError

    remote_kg = stores[server]
    before = remote_kg.store.count()
    for name, param in (("claims", "state"), ("timeline", "from"), ("positions", "before")):
        try:
            rows = remote_kg.run_result(name, {param: value}).rows
        except InputError:
            continue  # refused as a value: nothing was sent
        # no hostile value names a state, or is a date: an answer with rows means the value changed the query
        assert rows == [], (name, value, rows[:1])
    assert remote_kg.store.count() == before


def test_check_finds_an_inconsistency_on_the_remote_store(project_copy: Path, tmp_path: Path) -> None:
    """Japan typed a person too (State and Person are disjoint): `check` on the remote store fails."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    extra = project_copy / "data" / "assertions" / "broken.ttl"
    extra.write_text("<https://w3id.org/dispute-kg/id/state/japan> a <https://w3id.org/dispute-kg/def#Person> .\n")
    report = build(Project.open(project_copy))
    assert report.inconsistencies
    with oxigraph_serve(tmp_path / "server") as selector:
        pushed = run_cli("--project", str(project_copy), "push", "--to", selector)
        assert pushed.returncode == 0, pushed.stderr
        result = run_cli("--project", str(project_copy), "--store", selector, "check")
        assert result.returncode == 1, result.stdout + result.stderr
        assert "FAIL owl-consistency: 1 violation(s)" in result.stdout
        assert "cax-dw: <https://w3id.org/dispute-kg/id/state/japan>" in result.stdout


@pytest.mark.parametrize("server", ["sparql", "virtuoso"])
def test_a_source_text_longer_than_a_graph_store_sniffs_is_loaded_whole(servers: dict[str, str], server: str) -> None:
    """A literal of 80 KB (a long source's full text) on one N-Triples line: Virtuoso's graph store refuses such a
    body as text/plain, so the backend sends that triple by SPARQL Update; every triple arrives, the literal whole."""
    from dispute_kg.rdf.terms import iri, literal

    graph = "https://w3id.org/dispute-kg/graph/test/long-text.txt"
    text = "".join(f"Island {i} lies in unit {i}. " for i in range(3000))
    assert len(text) > 80_000
    subject = iri("https://w3id.org/dispute-kg/id/source/long")
    quads = [(subject, iri("https://w3id.org/dispute-kg/def#text"), literal(text), iri(graph))]
    quads += [(iri(f"https://w3id.org/dispute-kg/id/x/{i}"), iri("http://www.w3.org/2000/01/rdf-schema#label"),
               literal(f"x {i}"), iri(graph)) for i in range(3)]
    store = open_store(servers[server])
    try:
        store.add_quads(quads)
        rows = store.query(f"SELECT (STRLEN(?t) AS ?n) (COUNT(*) AS ?all) WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o "
                           f"OPTIONAL {{ ?s <https://w3id.org/dispute-kg/def#text> ?t }} }} }} GROUP BY ?t "
                           "ORDER BY DESC(?n)").rows
        assert int(rows[0]["n"]["value"]) == len(text)
        assert sum(int(r["all"]["value"]) for r in rows) == 4
    finally:
        store.update(f"DROP SILENT GRAPH <{graph}>")
        store.close()
