"""Wikidata links that arrive as data rather than through `dispute-kg link`: each must pass the same
type check `link` applies (the type map, data/wikidata/type-map.tsv, against the snapshot the build
loads from data/wikidata/snapshot.ttl). An item the snapshot does not hold is unknown, and an
unknown item is never accepted: `link` records it as pending review with an SSSOM record instead.

The rule is decided here; the type map and the Wikidata namespaces come from the links package."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ..project.folder import Project
from ..rdf.namespaces import shorten
from ..stores.base import Store

SKOS = "http://www.w3.org/2004/02/skos/core#"
MAPPING_PROPERTIES = tuple(SKOS + p for p in ("exactMatch", "closeMatch", "broadMatch", "narrowMatch",
                                              "relatedMatch"))
LINKS_GRAPH_PREFIX = "https://w3id.org/dispute-kg/graph/data/links/"


@dataclass(frozen=True)
class LinkProblem:
    entity: str
    property: str
    item: str
    message: str


def judge_links(project: Project, store: Store, links: Iterable[tuple[str, str, str, frozenset[str]]]
                ) -> list[LinkProblem]:
    """(entity, property, item IRI, the entity's classes with their superclasses) -> the links refused."""
    from ..links import WD, WDT, load_type_map, qid
    from ..rdf.terms import iri

    links = [x for x in links if x[2].startswith(WD)]
    if not links:
        return []
    type_map = load_type_map(project)
    problems = []
    for entity, prop, item, classes in sorted(links):
        compatible = sorted({c for cls in classes for c in type_map.get(cls, [])})
        rows = store.query(f"SELECT ?item ?type WHERE {{ {{ ?item ?p ?o }} OPTIONAL {{ ?item <{WDT}P31> ?type }} }}",
                           {"item": iri(item)}).rows
        types = sorted({qid(r["type"]["value"]) for r in rows if "type" in r})
        if not rows:
            message = (f"{qid(item)} is not in the Wikidata snapshot, so its type cannot be checked: an unknown item "
                       "is never accepted; `dispute-kg link` records it as pending review")
        elif not compatible:
            message = (f"{shorten(entity)} is of no class that data/wikidata/type-map.tsv maps to Wikidata "
                       f"({', '.join(sorted(shorten(c) for c in classes)) or 'no class'}), so it is never linked "
                       "without review; use `dispute-kg link`, which keeps it pending")
        else:
            values = " ".join(f"<{c}>" for c in compatible)
            ok = store.query(f"SELECT ?item ?c WHERE {{ ?item <{WDT}P31>/<{WDT}P279>* ?c "
                             f"VALUES ?c {{ {values} }} }} LIMIT 1", {"item": iri(item)}).rows
            if ok:
                continue
            message = (f"{qid(item)} is the wrong kind of thing: an instance of {', '.join(types) or 'nothing'} "
                       f"(wdt:P31), none of them a {', '.join(qid(c) for c in compatible)} that "
                       "data/wikidata/type-map.tsv requires for its class")
        problems.append(LinkProblem(entity, prop, item, message))
    return problems


STATED_LINKS = f"""SELECT DISTINCT ?entity ?property ?item WHERE {{
  GRAPH ?g {{ ?entity ?property ?item }}
  FILTER (?property IN ({", ".join(f"<{p}>" for p in MAPPING_PROPERTIES)}))
  FILTER (STRSTARTS(STR(?item), "http://www.wikidata.org/entity/"))
  FILTER (!STRSTARTS(STR(?g), "{LINKS_GRAPH_PREFIX}")
          && ?g NOT IN (<https://w3id.org/dispute-kg/graph/inferred>, <https://w3id.org/dispute-kg/graph/lookup>))
}} ORDER BY ?entity ?item"""


def stated_link_problems(project: Project, store: Store) -> list[LinkProblem]:
    """Links stated in assertion files (those `link` writes, under data/links/, carry their own records
    and are re-checked by `dispute-kg link --check`)."""
    from ..rdf.terms import iri

    links = []
    for row in store.query(STATED_LINKS).rows:
        entity = row["entity"]["value"]
        classes = frozenset(r["c"]["value"] for r in store.query(
            "SELECT ?e ?c WHERE { ?e a ?c }", {"e": iri(entity)}).rows)
        links.append((entity, row["property"]["value"], row["item"]["value"], classes))
    return judge_links(project, store, links)
