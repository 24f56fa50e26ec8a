"""Reconciliation candidates for new things: pending records, never a link.

For each new entity, the graph's entities and the Wikidata snapshot's items whose names are close to its
label (difflib ratio), of a compatible kind. `dispute-kg link` is still the only way a link is made.
"""

from __future__ import annotations

import difflib
from typing import Any

from .candidates import Candidate
from .gazetteer import Gazetteer
from .rules import GROUP_OF


def pending(candidates: list[Candidate], gaz: Gazetteer, cutoff: float = 0.75) -> list[dict[str, Any]]:
    out = []
    for c in candidates:
        if c.kind != "entity" or not c.label:
            continue
        group = GROUP_OF.get(c.type, c.type)
        matches = []
        for e in gaz.entries.values():
            if e.group and e.group != group:
                continue
            score = max((difflib.SequenceMatcher(None, c.label.casefold(), n.casefold()).ratio() for n in e.names),
                        default=0.0)
            if score >= cutoff:
                matches.append({"target": e.wikidata or e.iri, "score": round(score, 2),
                                "names": e.names[:3], "in_graph": e.known})
        if matches:
            out.append({"entity": c.node, "label": c.label, "status": "pending",
                        "candidates": sorted(matches, key=lambda m: -m["score"])[:5]})
    return out
