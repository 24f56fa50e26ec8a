"""Stored queries rewritten so that a filter given is read from the index (the parameter in a triple
pattern, bound in the subqueries too) answer exactly what their plain formulations, a FILTER after the
whole graph's rows, answer: on the shipped graph, for every value the filter can take and with the
other filters on and off."""

from __future__ import annotations

from pathlib import Path

from dispute_kg.query.binding import run_query
from dispute_kg.query.catalog import load_query

# positions.rq as it stood before the rewrite: the holder tested by a FILTER on every position's row
PLAIN_POSITIONS = r"""
PREFIX dk: <https://w3id.org/dispute-kg/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX xsd: <http://www.w3.org/2001/XMLSchema#>

SELECT ?position ?holder ?holderLabel ?stanceKind ?stance
       (GROUP_CONCAT(DISTINCT STR(COALESCE(?topicLabel, "")); separator="; ") AS ?topics)
       ?date ?anchor ?statement ?speakerLabel ?quote
WHERE {
  ?position a dk:Position ; dk:holder ?holder ; dk:stance ?stance .
  ?holder rdfs:label ?holderLabel .
  OPTIONAL { ?holder dk:governmentOf ?holderState }
  FILTER (COALESCE(STR(?__holder_iri), "") = "" || ?holder = ?__holder_iri || ?holderState = ?__holder_iri)
  OPTIONAL {
    SELECT ?position (GROUP_CONCAT(DISTINCT STR(?kindLabel); separator="; ") AS ?stanceKind) WHERE {
      ?position a dk:Position ; dk:stanceKind ?k . ?k rdfs:label ?kindLabel .
    } GROUP BY ?position
  }
  OPTIONAL { ?position dk:topic ?topic . ?topic rdfs:label ?topicLabel }
  OPTIONAL {
    ?position dk:voicedIn ?statement .
    ?statement dk:quote ?quote ; dk:speaker ?speaker ; dk:venue ?venue .
    ?speaker rdfs:label ?speakerLabel .
    ?venue dk:date ?voicedDate .
  }
  OPTIONAL { ?position dk:heldAfter/dk:date ?afterDate }
  OPTIONAL { ?position dk:heldBefore/dk:date ?beforeDate }
  OPTIONAL { ?position dk:heldDuring/dk:date ?duringDate }
  BIND (COALESCE(?voicedDate, ?afterDate, ?beforeDate, ?duringDate) AS ?date)
  BIND (IF(BOUND(?voicedDate), "voiced on", IF(BOUND(?afterDate), "held after",
        IF(BOUND(?beforeDate), "held before", IF(BOUND(?duringDate), "held during", ?unbound)))) AS ?anchor)
  BIND (IF(DATATYPE(?date) = xsd:gYear, CONCAT(STR(?date), "-01-01"),
        IF(DATATYPE(?date) = xsd:gYearMonth, CONCAT(STR(?date), "-01"), STR(?date))) AS ?periodStart)
  BIND (IF(DATATYPE(?date) = xsd:gYear, CONCAT(STR(?date), "-12-31"),
        IF(DATATYPE(?date) = xsd:gYearMonth, CONCAT(STR(?date), "-31"), STR(?date))) AS ?periodEnd)
  FILTER (COALESCE(STR(?__before_xsd_date), "") = "" || (BOUND(?date) && ?periodEnd < STR(?__before_xsd_date)))
  FILTER (COALESCE(STR(?__after_xsd_date), "") = "" || (BOUND(?date) && ?periodStart > STR(?__after_xsd_date)))
}
GROUP BY ?position ?holder ?holderLabel ?stanceKind ?stance ?date ?anchor ?statement ?speakerLabel ?quote
ORDER BY ?holderLabel ?position ?statement
"""

HOLDERS = """PREFIX dk: <https://w3id.org/dispute-kg/def#>
SELECT DISTINCT ?s WHERE { { ?p dk:holder ?s } UNION { ?g dk:governmentOf ?s } UNION { ?s a dk:State } } ORDER BY ?s"""


def plain(query, body: str, tmp: Path):
    """`query` with its header and `body` as its SPARQL."""
    header = "".join(line for line in query.text.splitlines(keepends=True) if line.startswith("#+"))
    path = tmp / f"{query.name}.rq"
    path.write_text(header + body.lstrip(), encoding="utf-8")
    return load_query(path)


def test_positions_filtered_by_index_answers_as_the_filter_did(kg, tmp_path):
    fast = kg.catalog.get("positions")
    slow = plain(fast, PLAIN_POSITIONS, tmp_path)
    assert fast.text != slow.text and fast.inner_at and not slow.inner_at
    holders = [row["s"]["value"] for row in kg.store.query(HOLDERS).rows]
    governments = [h for h in holders if "/government/" in h]
    assert governments and len(holders) > len(governments)  # both kinds of holder are tried
    seen = 0
    for holder in [None, *holders]:
        for dates in ({}, {"before": "2000-01-01"}, {"after": "1950-01-01"}):
            params = dict(dates, **({"holder": holder} if holder else {}))
            got = run_query(kg.store, fast, params).rows
            assert got == run_query(kg.store, slow, params).rows, params
            seen += len(got)
    assert seen > 20
