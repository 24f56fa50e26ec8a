"""A stored query's parameter is one value for the whole query, so it is bound in every subquery group
that uses it as well as in the outermost one: the same answer, read from the parameter's own nodes
instead of grouping the whole graph first (bench/query_scale.py measures what that saves at 1M)."""

from __future__ import annotations

import copy

from dispute_kg.query.binding import bind, bound_text, run_bound
from dispute_kg.rdf.sparqltext import subquery_groups

NESTED = """PREFIX dk: <https://w3id.org/dispute-kg/def#>
# a comment with { SELECT ?__p WHERE { ?x ?y ?__p } }
SELECT ?a (COUNT(*) AS ?n) WHERE {
  ?a dk:p ?__p .
  FILTER EXISTS { ?a dk:q ?__p }
  { SELECT ?a WHERE { ?a dk:r "not { SELECT ?__p }" . { SELECT ?a ?b WHERE { ?a dk:s ?__p ; dk:t ?__q } } } }
  OPTIONAL { SELECT ?a WHERE { ?a dk:u $__q } GROUP BY ?a }
  { SELECT ?select WHERE { ?select dk:v ?other } }
} GROUP BY ?a
"""


def test_groups_are_the_subqueries_that_use_a_parameter_themselves():
    found = subquery_groups(NESTED, {"__p", "__q"})
    braces = [NESTED.index("{", NESTED.index(marker)) for marker in
              ("SELECT ?a ?b WHERE", "SELECT ?a WHERE { ?a dk:u")]
    # the outer SELECT (bound at its WHERE), the middle subquery (no parameter of its own, the string and
    # comment do not count), FILTER EXISTS (a group of the outer query, not a subquery) and ?select are not
    assert found == [(braces[0], ("__p", "__q")), (braces[1], ("__q",))]
    assert subquery_groups(NESTED, {"__none"}) == []


def test_binding_in_subqueries_gives_the_same_answer(kg):
    """Every stored query with parameters, with each example value: binding the subqueries too changes
    the evaluation, never the rows."""
    checked = 0
    for name in kg.catalog.names():
        query = kg.catalog.get(name)
        params = {p.name: p.example for p in query.parameters if p.example}
        if not query.inner_at or not params:
            continue
        outer_only = copy.copy(query)
        outer_only.inner_at = ()
        for given in [params] + [{k: v} for k, v in params.items()]:
            bindings = bind(query, given, kg.store)
            text = bound_text(query, bindings)
            inner = {v for _, names in query.inner_at for v in names} & set(bindings)
            assert (text.count("VALUES") > bound_text(outer_only, bindings).count("VALUES")) == bool(inner)
            rows = run_bound(kg.store, query, text).rows
            assert rows == run_bound(kg.store, outer_only, bound_text(outer_only, bindings)).rows
            checked += bool(rows)
    assert checked  # the examples select something, so the equality is not between empty answers
