"""Links to Wikidata: an endpoint client, reconciliation, link records, re-checks and the snapshot.

Everything talks SPARQL. The live path goes through the package's one SPARQL HTTP client
(`stores.http_client`) to the Wikidata Query Service (or any endpoint given with `--endpoint`); the
offline path runs the very same queries in-process with pyoxigraph over `data/wikidata/snapshot.ttl`,
which is written in Wikidata's own vocabulary.

Links are `skos:exactMatch` (never `owl:sameAs`: the OWL RL closure would copy every Wikidata
triple onto our entity), each with an SSSOM-style record. A wrong link is worse than no link, so
only a clear winner above the score threshold whose context agrees becomes a link; everything else is
kept as a pending-review record with its scored candidates, for a curator to accept or reject.
"""

from __future__ import annotations

from .client import (
    Endpoint,
    RetryPolicy,
    SnapshotEndpoint,
    open_endpoint,
    parse_retry_after,
    user_agent,
)
from .common import DEFAULT_ENDPOINT, LINKS_FILE, SNAPSHOT_FILE, WD, WDT, qid
from .curation import Decision, LinkCheck, apply_decisions, author_iri, check_links, decide, link_state
from .reconcile import (
    Candidate,
    Entity,
    LinkReport,
    Outcome,
    fail_if_problems,
    load_type_map,
    outcome_summary,
    project_entities,
    reconcile,
)
from .records import Record, read_links, render_links, write_atomic
from .snapshot import refresh_snapshot
from .sssom import export_sssom, read_decisions

__all__ = [
    "DEFAULT_ENDPOINT",
    "LINKS_FILE",
    "SNAPSHOT_FILE",
    "WD",
    "WDT",
    "Candidate",
    "Decision",
    "Endpoint",
    "Entity",
    "LinkCheck",
    "LinkReport",
    "Outcome",
    "Record",
    "RetryPolicy",
    "SnapshotEndpoint",
    "apply_decisions",
    "author_iri",
    "check_links",
    "decide",
    "export_sssom",
    "fail_if_problems",
    "link_state",
    "load_type_map",
    "open_endpoint",
    "outcome_summary",
    "parse_retry_after",
    "project_entities",
    "qid",
    "read_decisions",
    "read_links",
    "reconcile",
    "refresh_snapshot",
    "render_links",
    "user_agent",
    "write_atomic"
]
