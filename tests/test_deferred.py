"""A page's OPTIONAL lookups made for its own rows (`sparql_parse.deferred_lookups`, `query_ordered`):
taken only where a row of the query without the block stands for the rows the block gives it, and then
the same answer, page for page, as the engine's own ORDER BY."""

from __future__ import annotations

import random

import pyoxigraph as ox
import pytest
from test_ordering import same_answer, solutions

from dispute_kg.rdf.sparql_parse import deferred_lookups, order_clause
from dispute_kg.rdf.terms import Result
from dispute_kg.stores.oxigraph import OxigraphStore

EX = "PREFIX ex: <http://example.org/>\n"
BASE = "?s ex:is ?kind . "


def unordered(text: str):
    start, end, keys = order_clause(text)
    return text[:start] + "\n" + text[end:], keys


def deferred(text: str):
    body, keys = unordered(text)
    return deferred_lookups(body, keys)


@pytest.mark.parametrize("query, values", [
    (f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} }} ORDER BY ?s", ["l"]),
    (f"SELECT DISTINCT ?kind ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} }} ORDER BY ?kind", ["l"]),
    (f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:a/ex:label ?l }} }} ORDER BY ?s", ["l"]),
    (f"SELECT ?s ?l ?m WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} OPTIONAL {{ ?s ex:m ?m }} }} ORDER BY ?s",
     ["l", "m"]),
    # OPTIONAL in a comment or a string, or a prefix named optional, does not mislead the proposal
    (f"PREFIX optional: <http://example.org/o#>\nSELECT ?s ?l WHERE {{ {BASE} # OPTIONAL {{ ?s ex:x ?l }}\n"
     f"FILTER (?kind != \"OPTIONAL {{ ?s ex:y ?l }}\") OPTIONAL {{ ?s optional:label ?l }} }} ORDER BY ?s", ["l"]),
])
def test_lookups_the_page_can_make_alone_are_deferred(query: str, values: list[str]) -> None:
    found = deferred(EX + query)
    assert found is not None
    assert [v for _, v, _ in found[3]] == values


@pytest.mark.parametrize("query", [
    # a FILTER inside: the block may drop a value, not a row
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l FILTER (?l != \"x\") }} }} ORDER BY ?s",
    # the value is a key, or read elsewhere
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} }} ORDER BY ?l",
    f"SELECT ?s ?l ?n WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} BIND (STRLEN(?l) AS ?n) }} ORDER BY ?s",
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} FILTER (!BOUND(?l) || ?l != \"x\") }} ORDER BY ?s",
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} OPTIONAL {{ ?l ex:more ?x }} }} ORDER BY ?s",
    # the value is not projected, or the subject may be unbound when the block is joined
    f"SELECT ?s WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} }} ORDER BY ?s",
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:a ?t }} OPTIONAL {{ ?t ex:label ?l }} }} ORDER BY ?s",
    # more variables than a subject and a value; a nested group; the same block twice
    f"SELECT ?s ?l WHERE {{ {BASE} OPTIONAL {{ ?s ex:label ?l . ?s ex:other ?o }} }} ORDER BY ?s",
    f"SELECT ?s ?l WHERE {{ {BASE} {{ OPTIONAL {{ ?s ex:label ?l }} }} }} ORDER BY ?s",
    f"SELECT ?s ?l WHERE {{ {{ {BASE} OPTIONAL {{ ?s ex:label ?l }} }} UNION "
    f"{{ ?s ex:was ?kind OPTIONAL {{ ?s ex:label ?l }} }} }} ORDER BY ?s",
])
def test_lookups_that_change_the_rows_stay_in_the_query(query: str) -> None:
    assert deferred(EX + query) is None


def data(rng: random.Random) -> ox.Store:
    """Nodes of a few kinds with none, one or several labels and notes, some sharing them."""
    store = ox.Store()
    ex = "http://example.org/"
    for i in range(60):
        s = ox.NamedNode(f"{ex}n{i}")
        store.add(ox.Quad(s, ox.NamedNode(ex + "is"), ox.Literal(rng.choice("abc")), ox.NamedNode(ex + "g")))
        for _ in range(rng.choice([0, 1, 1, 2])):
            store.add(ox.Quad(s, ox.NamedNode(ex + "label"), ox.Literal(rng.choice("xyzw")), ox.NamedNode(ex + "g")))
        for _ in range(rng.choice([0, 1, 3])):
            store.add(ox.Quad(s, ox.NamedNode(ex + "note"), ox.Literal(str(rng.randint(0, 4))),
                              ox.NamedNode(ex + rng.choice("gh"))))
    return store


def test_generated_queries_give_the_engines_answer_page_for_page() -> None:
    rng = random.Random(18)
    taken = 0
    for _ in range(120):
        store = data(rng)
        layer = OxigraphStore(store, None, False)
        distinct = rng.choice(["", "DISTINCT "])
        projected = rng.sample(["s", "kind", "l", "n"], rng.randint(2, 4))
        keys = [k for k in rng.sample(["s", "kind"], 2) if k in projected] or [projected[0]]
        blocks = [b for b in ("OPTIONAL { ?s ex:label ?l }", "OPTIONAL { ?s ex:note ?n }") if rng.random() < 0.8]
        written = " ".join(("DESC" if rng.random() < 0.3 else "") + f"(?{k})" for k in keys)
        text = (f"{EX}SELECT {distinct}{' '.join('?' + v for v in projected)} WHERE {{ ?s ex:is ?kind . "
                f"{' '.join(blocks)} }} ORDER BY {written}")
        found = deferred(text)
        if found is None:
            continue
        taken += 1
        body, order = unordered(text)
        for block in found[0]:
            body = body.replace(block, "", 1)
        reduced = body[:found[1]] + found[2] + body[found[1]:]
        answer = store.query(text, use_default_graph_as_union=True)
        variables = [v.value for v in answer.variables]
        theirs = Result("select", variables=variables, rows=solutions(answer))

        def page(first: int, last: int, reduced=reduced, order=order, found=found, layer=layer):
            return layer.query_ordered(reduced, order, first, last, cap=10_000, lookups=found[3], columns=found[4],
                                       distinct=found[5], prologue=found[6])

        whole = page(0, 10_000)
        assert whole is not None, text
        same_answer(whole, theirs, order)
        for first, size in [(0, 1), (0, 7), (5, 9), (len(theirs.rows) - 2, 5), (len(theirs.rows) + 1, 3)]:
            first = max(first, 0)
            part = page(first, first + size)
            assert part.rows == whole.rows[first:first + size], (text, first, size)
            assert part.truncated == (len(whole.rows) > first + size)
    assert taken >= 60


def test_a_blank_node_subject_leaves_the_page_to_the_engine() -> None:
    store = ox.Store()
    ex = "http://example.org/"
    node = ox.BlankNode()
    store.add(ox.Quad(node, ox.NamedNode(ex + "is"), ox.Literal("a")))
    store.add(ox.Quad(node, ox.NamedNode(ex + "label"), ox.Literal("x")))
    text = f"{EX}SELECT ?s ?kind ?l WHERE {{ ?s ex:is ?kind OPTIONAL {{ ?s ex:label ?l }} }} ORDER BY ?kind"
    found = deferred(text)
    body, order = unordered(text)
    body = body.replace(found[0][0], "", 1)
    assert OxigraphStore(store, None, False).query_ordered(
        body, order, 0, 5, cap=100, lookups=found[3], columns=found[4], distinct=found[5], prologue=found[6]) is None
