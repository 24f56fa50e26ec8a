"""A stored query's ORDER BY applied by the layer on the embedded store (`rdf/ordering.py`): the rows
must come in the engine's order wherever SPARQL defines one, and the engine must order whatever the
layer cannot vouch for."""

from __future__ import annotations

import random
from decimal import Decimal
from pathlib import Path

import pyoxigraph as ox
import pytest

from dispute_kg.errors import QueryTimeout
from dispute_kg.kg import KnowledgeGraph
from dispute_kg.query import index
from dispute_kg.query.binding import bind, bound_text
from dispute_kg.rdf.convert import term_from_ox
from dispute_kg.rdf.ordering import rank
from dispute_kg.rdf.sparql_parse import order_clause

XSD = "http://www.w3.org/2001/XMLSchema#"


def comparable(term: dict | None) -> str:
    """What the engine compares: a number's value (1.0 and 1 tie), any other term as it is."""
    if term and term.get("datatype") in (XSD + "integer", XSD + "decimal"):
        return f"number {Decimal(term['value']).normalize()}"
    return repr(term)


def sort_keys(rows: list[dict], keys) -> list[tuple]:
    return [tuple(comparable(row.get(v)) for v, _ in keys) for row in rows]


def same_answer(ours, theirs, keys) -> None:
    """Rows tied on every key may come in any order (as in SPARQL); everything else must match."""
    assert ours.variables == theirs.variables
    assert sorted(map(repr, ours.rows)) == sorted(map(repr, theirs.rows))
    assert sort_keys(ours.rows, keys) == sort_keys(theirs.rows, keys)


def engine_order(kg: KnowledgeGraph, name: str, params: dict):
    """The stored query's bound text, ORDER BY and all, run by the engine itself."""
    query = kg.catalog.get(name)
    return kg.store.query(bound_text(query, bind(query, params, kg.store)))


def example_parameters(query) -> list[dict]:
    required = {p.name: p.example for p in query.parameters if p.required}
    found = [required]
    found += [{**required, p.name: p.example} for p in query.parameters if not p.required and p.example]
    return found


def test_every_stored_query_comes_in_the_engines_order_page_for_page(kg) -> None:
    ordered_here = 0
    views, kg.store.views = kg.store.views, None  # the listings' files would answer without either route
    try:
        for query in kg.queries():
            for params in example_parameters(query):
                theirs = engine_order(kg, query.name, params)
                ours = kg.run_result(query.name, params)
                order = query.ordering()
                if order is None:
                    assert ours == theirs, (query.name, params)
                    continue
                ordered_here += 1
                same_answer(ours, theirs, order[2])
                for limit, offset in [(1, None), (3, 2), (2, len(ours.rows) - 1), (5, len(ours.rows) + 3)]:
                    page = kg.run_result(query.name, params, limit=limit, offset=offset)
                    start = offset or 0
                    assert page.rows == ours.rows[start:start + limit], (query.name, params, limit, offset)
                    assert page.truncated == (len(ours.rows) > start + limit)
    finally:
        kg.store.views = views
    assert ordered_here >= 10, "the shipped queries with an ORDER BY on projected variables"


def random_term(rng: random.Random, family: str):
    text = "".join(rng.choice("aAbZ é字1 _-\U0001F600") for _ in range(rng.randint(0, 3)))
    if family == "iri":
        return ox.NamedNode("http://example.org/" + text.replace(" ", "_"))
    if family == "string":
        return ox.Literal(text)
    if family == "tagged":
        return ox.Literal(text, language=rng.choice(["en", "de", "en-gb"]))
    if family == "number":
        lexical = str(rng.randint(-30, 30)) if rng.random() < 0.5 else f"{rng.randint(-30, 30)}.{rng.randint(0, 9)}"
        return ox.Literal(lexical, datatype=ox.NamedNode(XSD + ("integer" if "." not in lexical else "decimal")))
    return None  # unbound


def solutions(answer) -> list[dict]:
    return [{v.value: term_from_ox(s[v]) for v in answer.variables if s[v] is not None} for s in answer]


@pytest.mark.parametrize("seed", range(12))
def test_rank_orders_as_the_engine_does(seed: int) -> None:
    rng = random.Random(seed)
    # one literal family per column, mixed with IRIs and unbound values, as the layer allows
    families = {column: rng.choice(["iri", "string", "tagged", "number"]) for column in "ab"}
    store = ox.Store()
    for i in range(300):
        row = ox.NamedNode(f"http://example.org/row/{i}")
        store.add(ox.Quad(row, ox.NamedNode("http://example.org/is"), ox.Literal("row")))
        for column, family in families.items():
            value = random_term(rng, rng.choice([family, family, "iri", None]))
            if value is not None:
                store.add(ox.Quad(row, ox.NamedNode(f"http://example.org/{column}"), value))
    where = ("{ ?row <http://example.org/is> ?is OPTIONAL { ?row <http://example.org/a> ?a } "
             "OPTIONAL { ?row <http://example.org/b> ?b } }")
    for keys in [(("a", False), ("b", False)), (("a", True), ("b", False)), (("b", False), ("a", True)),
                 (("b", True), ("a", True))]:
        order = " ".join(f"DESC(?{v})" if d else f"?{v}" for v, d in keys)
        theirs = solutions(store.query(f"SELECT ?row ?a ?b WHERE {where} ORDER BY {order}"))
        mine = solutions(store.query(f"SELECT ?row ?a ?b WHERE {where}"))
        positions = rank(mine, keys)
        assert positions is not None, families
        assert sort_keys([mine[i] for i in positions], keys) == sort_keys(theirs, keys), (seed, keys, families)


def term(kind: str, value: str = "x") -> dict:
    if kind == "iri":
        return {"type": "uri", "value": "http://example.org/" + value}
    if kind == "bnode":
        return {"type": "bnode", "value": value}
    if kind == "tagged":
        return {"type": "literal", "value": value, "xml:lang": "en"}
    if kind in ("integer", "date", "double"):
        return {"type": "literal", "value": {"integer": "3", "date": "2020-01-01", "double": "1.5"}[kind],
                "datatype": XSD + kind}
    return {"type": "literal", "value": value}


@pytest.mark.parametrize("pair", [("string", "integer"), ("string", "tagged"), ("bnode", "bnode"),
                                  ("date", "date"), ("double", "double"), ("integer", "tagged")])
def test_pairs_sparql_leaves_unordered_go_to_the_engine(pair: tuple[str, str]) -> None:
    rows = [{"k": term(pair[0], "a")}, {"k": term(pair[1], "b")}]
    assert rank(rows, [("k", False)]) is None
    # compared only when the keys before them tie: under different first keys they never meet
    rows = [{"p": term("iri", "p1"), **rows[0]}, {"p": term("iri", "p2"), **rows[1]}]
    assert rank(rows, [("p", False), ("k", False)]) == [0, 1]
    assert rank(rows, [("p", True), ("k", False)]) == [1, 0]


def test_an_ill_typed_number_is_left_to_the_engine() -> None:
    rows = [{"k": {"type": "literal", "value": v, "datatype": XSD + "integer"}} for v in ("2", "NaN")]
    assert rank(rows, [("k", False)]) is None
    rows = [{"k": {"type": "literal", "value": v, "datatype": XSD + "integer"}} for v in ("10", "+9", "-1.5")]
    assert rank(rows, [("k", False)]) == [2, 1, 0]


@pytest.mark.parametrize(("text", "clause", "keys"), [
    ("SELECT ?a WHERE { ?a ?b ?c } ORDER BY DESC(?a) ?a", "ORDER BY DESC(?a) ?a", (("a", True), ("a", False))),
    ("PREFIX order: <http://x/> SELECT ?a WHERE { ?a order:by ?c } ORDER BY ?a # ORDER BY ?c\n",
     "ORDER BY ?a # ORDER BY ?c\n", (("a", False),)),
    ("SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a VALUES ?a { <http://x/y> }", "ORDER BY ?a ", (("a", False),)),
    ("SELECT ?a (COUNT(*) AS ?n) WHERE { ?a ?b ?c } GROUP BY ?a HAVING (COUNT(*) > 1) ORDER BY ?n",
     "ORDER BY ?n", (("n", False),)),
    ("SELECT ?a WHERE { { SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 1 } } ORDER BY ?a", "ORDER BY ?a",
     (("a", False),)),
])
def test_the_order_clause_is_found_where_the_parser_says(text: str, clause: str, keys: tuple) -> None:
    found = order_clause(text)
    assert found is not None
    start, end, got = found
    assert text[start:end] == clause and got == keys


@pytest.mark.parametrize("text", [
    "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a LIMIT 3",  # its own slice: the engine pages it
    "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?b",  # a key it does not project
    "SELECT ?a WHERE { ?a ?b ?c } ORDER BY STR(?a)",  # an expression
    "SELECT ?a WHERE { ?a ?b ?c }",
    "ASK { ?a ?b ?c }",
    "SELECT ?a WHERE { ?a ?b \"} ORDER BY ?a\" }",  # the words are in a string
    "SELECT ?a WHERE { ?a ?b ?c } ORDER BY ?a ?",  # broken: the engine reports it
])
def test_no_order_clause_the_layer_cannot_apply(text: str) -> None:
    assert order_clause(text) is None


def test_the_query_index_keeps_each_querys_order(kg) -> None:
    for query in kg.queries():
        decoded = index._decode(index._encode(query))
        assert decoded.ordering() == query.ordering() and decoded == query


MIXED = """#+ summary: Every name and every date, in one column
SELECT ?value WHERE {
  { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?value } UNION { ?s <https://w3id.org/dispute-kg/def#date> ?value }
}
ORDER BY ?value
"""


def test_a_column_the_layer_cannot_order_is_ordered_by_the_engine(built_copy: Path, monkeypatch) -> None:
    (built_copy / "queries" / "mixed.rq").write_text(MIXED, encoding="utf-8")
    with KnowledgeGraph.open(project=built_copy) as kg:
        kg.store.views = None
        sent: list[str] = []
        real = kg.store.query
        monkeypatch.setattr(kg.store, "query", lambda text, *a, **k: sent.append(text) or real(text, *a, **k))
        ours = kg.run_result("mixed", {})
        theirs = engine_order(kg, "mixed", {})
        assert ours == theirs and len(ours.rows) > 10
        kinds = {"datatype" in row["value"] for row in ours.rows}
        assert kinds == {True, False}, "dates and strings meet in the column"
        assert "ORDER BY ?value" in sent[0], "the layer gave up and the engine ordered it"


def test_a_timeout_names_the_users_limit_on_either_route(kg) -> None:
    """`entity` is ordered here and `agreements` (expression keys) by the engine. A query on the shipped
    graph takes about a millisecond, so on a loaded machine one may finish before the waiting thread is
    scheduled: the timeout must fire on most tries, and always say the limit given."""
    for name, params in (("entity", {"id": "Iturup"}), ("agreements", {"party": "Japan"})):
        stopped = []
        for _ in range(20):
            try:
                kg.run_result(name, params, timeout=1e-6)
            except QueryTimeout as exc:
                stopped.append(str(exc))
        assert len(stopped) >= 10, name
        assert set(stopped) == {"query stopped after 1e-06 s (raise --timeout to allow longer)"}, name


# -- attacking `order_clause`: generated queries whose words could mislead a scan of the text ------------
def generated_query(rng: random.Random) -> tuple[str, bool]:
    """A SELECT over `?s ?p ?o` built from parts that put ORDER, BY, LIMIT and VALUES where a scan of the
    text could take them for the clause; and whether the layer may order it (keys all projected
    variables, no LIMIT/OFFSET of its own)."""
    prefix = rng.choice(["", "PREFIX order: <http://example.org/> ", "PREFIX limit: <http://example.org/> "])
    projected = rng.sample(["s", "p", "o"], rng.randint(1, 3))
    noise = rng.choice(["", ' FILTER (STR(?o) != "} ORDER BY ?s LIMIT 1")', " # ORDER BY ?p\n",
                        " OPTIONAL { ?s order:by ?order }" if "order:" in prefix else "",
                        " { SELECT ?s WHERE { ?s ?p2 ?o2 } ORDER BY ?s LIMIT 3 }"])
    keys = [(rng.choice(["s", "p", "o", "order"]), rng.random() < 0.3) for _ in range(rng.randint(1, 3))]
    expression = rng.random() < 0.15
    written = " ".join(("DESC" if d else "ASC") + f"(?{v})" if d or rng.random() < 0.3 else f"?{v}"
                       for v, d in keys)
    if expression:
        written += " STR(?s)"
    own_slice = rng.choice(["", "", " LIMIT 5", " OFFSET 1", " LIMIT 2 OFFSET 1"])
    values = rng.choice(["", "", ' VALUES ?o { "a" "b" "c" }'])
    text = (f"{prefix}SELECT {' '.join('?' + v for v in projected)} WHERE {{ ?s ?p ?o .{noise} }} "
            f"ORDER BY {written}{own_slice}{values}")
    layer_may = not expression and not own_slice and all(v in projected for v, _ in keys)
    return text, layer_may


def test_generated_queries_are_ordered_by_the_layer_only_as_the_engine_would() -> None:
    rng = random.Random(2026)
    store = ox.Store()
    for i in range(40):
        s = ox.NamedNode(f"http://example.org/s{i % 7}")
        store.add(ox.Quad(s, ox.NamedNode(f"http://example.org/p{i % 3}"), ox.Literal(rng.choice("abc"))))
        store.add(ox.Quad(s, ox.NamedNode("http://example.org/by"), ox.NamedNode(f"http://example.org/x{i % 5}")))
    taken = 0
    for _ in range(400):
        text, layer_may = generated_query(rng)
        found = order_clause(text)
        assert (found is not None) == layer_may, text
        if found is None:
            continue
        taken += 1
        start, end, keys = found
        theirs = solutions(store.query(text))
        mine = solutions(store.query(text[:start] + "\n" + text[end:]))
        positions = rank(mine, keys)
        assert positions is not None
        ordered = [mine[i] for i in positions]
        assert sorted(map(repr, ordered)) == sorted(map(repr, theirs)), text
        assert sort_keys(ordered, keys) == sort_keys(theirs, keys), text
    assert taken >= 30  # of 400: the rest the layer rightly leaves to the engine


FULL_ROUTE = """
import sys
from dispute_kg.kg import KnowledgeGraph
with KnowledgeGraph.open(project=sys.argv[1]) as kg:
    kg.run_result("entity", {"id": "Iturup"}, limit=2)
    query = kg.catalog.get("entity")
    print(query.ordering() is not None, "rdflib.plugins.sparql.parser" in sys.modules)
"""


def test_the_full_route_reads_each_querys_order_from_the_index(built_copy: Path) -> None:
    """A stored query the build indexed needs no rdflib parse (about 0.3 s of imports) on its first
    run through the API or the server; an edited one is parsed, and ordered all the same."""
    import subprocess
    import sys

    def run() -> str:
        done = subprocess.run([sys.executable, "-c", FULL_ROUTE, str(built_copy)], capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()

    assert run() == ["True", "False"]
    entity = built_copy / "queries" / "entity.rq"
    entity.write_text(entity.read_text(encoding="utf-8") + "\n# edited since the build\n", encoding="utf-8")
    assert run() == ["True", "True"]
