"""The names the extractor knows: every label and alias of the project's graph, in every language, and
the Wikidata snapshot's labels, each with the kind of thing it names.

It is read from the project's files (ontology, data/) into an in-memory Oxigraph store, so `extract`
needs no build and sees exactly what the next `add` will validate against.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from ..project.folder import Project
from ..rdf.namespaces import DEF, ID

# the kinds the rules and the review page know, most specific group first
KIND_GROUPS = ["State", "Government", "Person", "Group", "Office", "Territory", "Place", "Agreement",
               "Organisation", "Issue", "Event"]
WD = "http://www.wikidata.org/entity/"

LABELS = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?e ?name ?p WHERE {
  VALUES ?p { rdfs:label skos:altLabel skos:prefLabel }
  ?e ?p ?name . FILTER(isLiteral(?name) && isIRI(?e))
}"""
TYPES = """
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?e ?t WHERE { ?e a ?t . FILTER(isIRI(?t)) }"""
SUPER = f"""
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?c ?g WHERE {{ ?c rdfs:subClassOf* ?g . FILTER(STRSTARTS(STR(?c), STR(<{DEF}>))) }}"""
LINKS = """
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?e ?w WHERE { ?e skos:exactMatch ?w }"""
WD_TYPES = """
PREFIX wdt: <http://www.wikidata.org/prop/direct/>
SELECT ?e ?t WHERE { ?e wdt:P31 ?t }"""
GOV_OF = f"SELECT ?g ?s WHERE {{ ?g <{DEF}governmentOf> ?s }}"


@dataclass
class Entry:
    """One named thing: our entity (`known`) or a Wikidata item we have not linked (`wikidata` only)."""

    iri: str
    kind: str  # the most specific dk: class local name, or "" when the kind is unknown
    group: str  # one of KIND_GROUPS, or ""
    names: list[str] = field(default_factory=list)
    known: bool = True
    wikidata: str = ""


@dataclass
class Gazetteer:
    entries: dict[str, Entry]
    government_of: dict[str, str]  # government IRI -> state IRI

    def by_name(self, name: str) -> list[Entry]:
        key = name.casefold()
        return [e for e in self.entries.values() if any(n.casefold() == key for n in e.names)]

    def phrases(self) -> list[tuple[str, str]]:
        """(name, entry IRI) pairs for the phrase matcher."""
        return [(n, e.iri) for e in self.entries.values() for n in e.names]


def _v(term: ox.Term) -> str:
    return term.value


def load(project: Project) -> Gazetteer:
    store = ox.Store()
    for path in [*project.ontology_files, *project.data_files]:
        if path.suffix == ".ttl":
            store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE, base_iri=path.as_uri())
    groups: dict[str, str] = {}
    for row in store.query(SUPER):
        c, g = _v(row["c"])[len(DEF):], _v(row["g"])
        g = g[len(DEF):] if g.startswith(DEF) else ""
        if g in KIND_GROUPS and (c not in groups or KIND_GROUPS.index(g) < KIND_GROUPS.index(groups[c])):
            groups[c] = g
    types: dict[str, set[str]] = {}
    for row in store.query(TYPES):
        types.setdefault(_v(row["e"]), set()).add(_v(row["t"]))
    linked = {_v(r["w"]): _v(r["e"]) for r in store.query(LINKS) if _v(r["w"]).startswith(WD)}
    type_map = _type_map(project.root / "data" / "wikidata" / "type-map.tsv")
    wd_types: dict[str, set[str]] = {}
    for row in store.query(WD_TYPES):
        wd_types.setdefault(_v(row["e"]), set()).add("wd:" + _v(row["t"])[len(WD):])
    class_items = {"http://www.wikidata.org/entity/" + t[3:] for ts in wd_types.values() for t in ts}
    entries: dict[str, Entry] = {}
    for row in store.query(LABELS):
        e, name = _v(row["e"]), _v(row["name"])
        if e.startswith(ID) and not e.startswith(ID + "selection/") and not e.startswith(ID + "source/"):
            kind = _most_specific([t[len(DEF):] for t in types.get(e, ()) if t.startswith(DEF)], groups)
            entry = entries.setdefault(e, Entry(e, kind, groups.get(kind, "")))
        elif e.startswith(WD) and e not in class_items:
            if e in linked:  # our entity already carries the names that matter; the item's label joins it
                entry = entries.setdefault(linked[e], Entry(linked[e], "", ""))
            else:
                ours = type_map.get_all(wd_types.get(e, set()))
                kind = _most_specific(ours, groups)
                entry = entries.setdefault(e, Entry(e, kind, groups.get(kind, ""), known=False, wikidata=e))
        else:
            continue
        if name not in entry.names:
            entry.names.append(name)
    for e, entry in entries.items():
        if not entry.kind and e in types:
            entry.kind = _most_specific([t[len(DEF):] for t in types[e] if t.startswith(DEF)], groups)
            entry.group = groups.get(entry.kind, "")
    for w, e in linked.items():
        if e in entries:
            entries[e].wikidata = w
    gov = {_v(r["g"]): _v(r["s"]) for r in store.query(GOV_OF)}
    return Gazetteer(entries, gov)


def _most_specific(classes: list[str], groups: dict[str, str]) -> str:
    classes = [c for c in classes if c in groups]
    if not classes:
        return ""
    # a class is more specific than another if the other is among its groups' ancestors; ranking by group
    # order then by name length gives Island before Territory, JointDeclaration before Agreement
    return sorted(classes, key=lambda c: (KIND_GROUPS.index(groups[c]), -len(c), c))[0]


class _TypeMap:
    def __init__(self, rows: list[tuple[str, str]]) -> None:
        self.rows = rows

    def get_all(self, wd_classes: set[str]) -> list[str]:
        return [ours for ours, wd in self.rows if wd in wd_classes]


def _type_map(path: Path) -> _TypeMap:
    if not path.exists():
        return _TypeMap([])
    with path.open(encoding="utf-8") as fh:
        rows = [(r["our_class"].removeprefix("dk:"), r["wikidata_class"]) for r in
                csv.DictReader((line for line in fh if not line.startswith("#")), delimiter="\t")]
    return _TypeMap(rows)
