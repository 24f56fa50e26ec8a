"""The offline snapshot in Wikidata's own vocabulary, regenerated from a live endpoint by CONSTRUCT
queries restricted to the linked items."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import pyoxigraph as ox

from ..errors import BackendUnavailable, InputError
from ..project.folder import Project
from ..project.state import writer_lock
from .client import Endpoint, SnapshotEndpoint
from .common import LINKS_FILE, PREFIXES, RDFS, SCHEMA, SKOS, SNAPSHOT_FILE, WD, WDT, XSD, qid
from .reconcile import load_type_map
from .records import read_links, today, write_atomic

SNAPSHOT_FACTS = ["P17", "P131", "P297", "P298", "P361", "P39", "P571", "P576", "P585", "P625", "P1891", "P2046"]
LANGS = '"en", "ja", "ru"'


def refresh_queries(qids: Iterable[str], compatible: Iterable[str]) -> list[str]:
    """CONSTRUCT queries that rebuild the snapshot for the linked items from a live endpoint."""
    items = " ".join(f"wd:{q}" for q in sorted(set(qids)))
    classes = " ".join(f"wd:{qid(c)}" for c in sorted(set(compatible)))
    facts = "\n  UNION ".join(f"{{ ?item wdt:{p} ?v . BIND (wdt:{p} AS ?p) }}" for p in SNAPSHOT_FACTS)
    return [
        PREFIXES + f"""CONSTRUCT {{ ?item rdfs:label ?l ; skos:altLabel ?a ; schema:description ?d }} WHERE {{
  VALUES ?item {{ {items} }}
  {{ ?item rdfs:label ?l . FILTER (LANG(?l) IN ({LANGS})) }}
  UNION {{ ?item skos:altLabel ?a . FILTER (LANG(?a) IN ({LANGS})) }}
  UNION {{ ?item schema:description ?d . FILTER (LANG(?d) = "en") }}
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?item wdt:P31 ?type . ?type rdfs:label ?tl }} WHERE {{
  VALUES ?item {{ {items} }}
  ?item wdt:P31 ?type .
  OPTIONAL {{ ?type rdfs:label ?tl . FILTER (LANG(?tl) = "en") }}
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?mid wdt:P279 ?super }} WHERE {{
  VALUES ?item {{ {items} }}
  VALUES ?class {{ {classes} }}
  ?item wdt:P31 ?type .
  ?type wdt:P279* ?mid .
  ?mid wdt:P279 ?super .
  ?super wdt:P279* ?class .
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?class rdfs:label ?cl }} WHERE {{
  VALUES ?class {{ {classes} }}
  ?class rdfs:label ?cl . FILTER (LANG(?cl) = "en")
}}""",
        PREFIXES + f"""CONSTRUCT {{ ?item ?p ?v }} WHERE {{
  VALUES ?item {{ {items} }}
  {facts}
}}""",
    ]


SNAPSHOT_HEADER = """# SNAPSHOT of Wikidata (not live data), taken {date} from {source}.
# Written by `dispute-kg wikidata refresh`; it holds the items data/links/wikidata.ttl links to, their
# labels and aliases (English, Japanese, Russian), English descriptions, their wdt:P31 types with the
# wdt:P279 steps up to the classes of data/wikidata/type-map.tsv, and the facts the enrichment queries
# and the linker's context use ({facts}). `dispute-kg link --offline` answers its SPARQL from this file.
"""


def refresh_snapshot(project: Project, endpoint: Endpoint | SnapshotEndpoint, *,
                     output: Path | None = None) -> tuple[Path, int]:
    if isinstance(endpoint, SnapshotEndpoint):
        raise InputError("refusing to rebuild the snapshot from itself: `wikidata refresh` needs a live endpoint",
                         path=SNAPSHOT_FILE.as_posix())
    links = [r for r in read_links(project.root / LINKS_FILE) if not r.pending]
    if not links:
        raise InputError("no links to snapshot: run `dispute-kg link` first", path=LINKS_FILE.as_posix())
    compatible = sorted({c for cs in load_type_map(project).values() for c in cs})
    graph = ox.Store()
    for query in refresh_queries([qid(r.object) for r in links], compatible):
        answer = endpoint.construct(query)
        try:
            graph.load(answer, format=ox.RdfFormat.TURTLE)
        except SyntaxError as exc:
            raise BackendUnavailable(f"the endpoint {endpoint.url} answered a CONSTRUCT query with something that "
                                     f"is not Turtle ({str(exc).splitlines()[0][:120]}); the snapshot is "
                                     "unchanged") from None
    triples = sorted({(q.subject, q.predicate, q.object) for q in graph}, key=lambda t: tuple(str(x) for x in t))
    body = ox.serialize([ox.Triple(*t) for t in triples], format=ox.RdfFormat.TURTLE,
                        prefixes={"wd": WD, "wdt": WDT, "rdfs": RDFS, "skos": SKOS, "schema": SCHEMA,
                                  "xsd": XSD}).decode("utf-8")
    header = SNAPSHOT_HEADER.format(date=today(), source=endpoint.description,
                                    facts=", ".join("wdt:" + p for p in SNAPSHOT_FACTS))
    target = output or project.root / SNAPSHOT_FILE
    with writer_lock(project):
        write_atomic(target, header + "\n" + body)
    return target, len(triples)
