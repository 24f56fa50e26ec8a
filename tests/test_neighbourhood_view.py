"""The view validation reads the store through answers every pattern as a plain scan of the store
plus the local triples would: with a node's outgoing edges read once (and a hub's read pattern by
pattern), with nodes nothing cites skipped on backward steps, and with the inferred graph told apart."""

from __future__ import annotations

import itertools
import random

import pyoxigraph as ox

from dispute_kg.rdf.namespaces import ID, INFERRED_GRAPH
from dispute_kg.validation.neighbourhood import View

P = [ox.NamedNode(f"https://w3id.org/dispute-kg/def#p{i}") for i in range(4)]
INFERRED = ox.NamedNode(INFERRED_GRAPH)


def node(i: int) -> ox.NamedNode:
    return ox.NamedNode(f"{ID}thing/{i}")


def graph() -> tuple[ox.Store, list[tuple], list[ox.Quad]]:
    rng = random.Random(5)
    hub = node(0)
    quads = [ox.Quad(hub, P[i % 4], node(1000 + i), ox.NamedNode(f"{ID}file/hub")) for i in range(View.OUT_LIMIT + 40)]
    for _ in range(400):
        s, o = node(rng.randrange(1, 60)), rng.choice([node(rng.randrange(0, 80)), ox.Literal(str(rng.randrange(5)))])
        g = rng.choice([INFERRED, ox.NamedNode(f"{ID}file/a"), ox.DefaultGraph()])
        quads.append(ox.Quad(s, rng.choice(P), o, g))
    quads.append(ox.Quad(node(1), P[0], node(2), INFERRED))  # inferred only
    store = ox.Store()
    store.extend(quads)
    local = [(node(rng.randrange(50, 90)), rng.choice(P), node(rng.randrange(0, 90))) for _ in range(60)]
    return store, local, quads


def test_every_pattern_equals_a_scan():
    store, local, quads = graph()
    view = View(store)
    view.add_local(local)
    everything = {(q.subject, q.predicate, q.object) for q in quads} | set(local)
    terms = [node(i) for i in (0, 1, 2, 55, 70, 89, 1005, 5000)] + [ox.Literal("3")]
    checked = 0
    for s, p, o in itertools.product([None, *terms[:-1]], [None, P[0], P[3]], [None, *terms]):
        if s is None and o is None:
            continue
        want = {t for t in everything if (s is None or t[0] == s) and (p is None or t[1] == p)
                and (o is None or t[2] == o)}
        assert view.match(s, p, o) == want, (s, p, o)
        assert view.exists(s, p, o) == bool(want), (s, p, o)
        checked += bool(want)
    assert checked > 25  # many patterns have answers, from the store, the local triples or both
    for q in [*quads, ox.Quad(node(1), P[1], node(3), ox.DefaultGraph())]:
        t = (q.subject, q.predicate, q.object)
        in_graphs = {x.graph_name for x in quads if (x.subject, x.predicate, x.object) == t}
        assert view.in_store(t) == bool(in_graphs)
        assert view.in_store(t, INFERRED) == (INFERRED in in_graphs)
        assert view.asserted_in_store(t) == bool(in_graphs - {INFERRED})
    assert view.in_store((node(1), P[0], node(2)), INFERRED) and not view.asserted_in_store((node(1), P[0], node(2)))


def test_a_hub_is_read_pattern_by_pattern():
    store, _, quads = graph()
    view = View(store)
    assert len(view.match(node(0), None, None)) == View.OUT_LIMIT + 40
    assert view._out[node(0)] is None  # over the limit: not held in memory
    assert view.match(node(0), P[1], None) == {(q.subject, q.predicate, q.object) for q in quads
                                               if q.subject == node(0) and q.predicate == P[1]}
