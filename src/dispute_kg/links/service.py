"""A W3C Reconciliation Service (API version 0.2, the latest published) over the graph's own entities,
so OpenRefine or any other client can match a column of place, state or agreement names to dispute-kg.

Entity ids are paths under the identifier space `https://w3id.org/dispute-kg/id/` (`territory/iturup`);
type and property ids are local names in the schema space `https://w3id.org/dispute-kg/def#`
(`Island`, `partOf`); full IRIs are accepted too. Names are matched as the linker matches Wikidata
labels (`names.fold`/`names.core` with rapidfuzz), in every language the graph gives.

The index is read once per service from the store with a few SELECT queries and kept in memory; the
graph is small and read-only while served, so a batch of queries costs no store round trips.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

from rapidfuzz import fuzz, process

from ..errors import InputError
from ..rdf.namespaces import DEF, ID
from .names import core, fold

VERSIONS = ["0.2"]
MAX_BATCH = 100
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MATCH_SCORE = 95.0  # a candidate this good, and clearly ahead of the next, is a `match`
DEFAULT_TYPES = ["State", "Territory", "Agreement", "Person", "Office", "Place"]

RDFS = "http://www.w3.org/2000/01/rdf-schema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"

_ENTITIES = f"""PREFIX rdfs: <{RDFS}> PREFIX skos: <{SKOS}>
SELECT DISTINCT ?e ?how ?name WHERE {{
  GRAPH ?g {{ ?e ?p ?name }}
  VALUES (?p ?how) {{ (rdfs:label "label") (skos:altLabel "alias") (skos:prefLabel "label")
                     (skos:definition "description") }}
  FILTER (isIRI(?e) && STRSTARTS(STR(?e), "{ID}"))
}}"""
_TYPES = f"""SELECT DISTINCT ?e ?t WHERE {{
  GRAPH ?g {{ ?e a ?t }}
  FILTER (isIRI(?e) && STRSTARTS(STR(?e), "{ID}") && STRSTARTS(STR(?t), "{DEF}"))
}}"""
_SCHEMA = f"""PREFIX rdfs: <{RDFS}> PREFIX skos: <{SKOS}> PREFIX owl: <http://www.w3.org/2002/07/owl#>
SELECT DISTINCT ?x ?kind ?label ?definition ?super WHERE {{
  GRAPH ?g {{ ?x a ?kind }}
  VALUES ?kind {{ owl:Class owl:ObjectProperty owl:DatatypeProperty }}
  FILTER (STRSTARTS(STR(?x), "{DEF}"))
  OPTIONAL {{ GRAPH ?g1 {{ ?x rdfs:label ?label }} FILTER (LANG(?label) IN ("en", "")) }}
  OPTIONAL {{ GRAPH ?g2 {{ ?x skos:definition ?definition }} }}
  OPTIONAL {{ GRAPH ?g3 {{ ?x rdfs:subClassOf ?super }} FILTER (STRSTARTS(STR(?super), "{DEF}")) }}
}}"""
_VALUES = f"""SELECT DISTINCT ?e ?p ?v WHERE {{
  GRAPH ?g {{ ?e ?p ?v }}
  FILTER (isIRI(?e) && STRSTARTS(STR(?e), "{ID}") && STRSTARTS(STR(?p), "{DEF}"))
}}"""


@dataclass
class IndexedEntity:
    id: str
    name: str = ""
    names: list[str] = field(default_factory=list)
    description: str = ""
    types: set[str] = field(default_factory=set)  # local names in the schema space
    values: dict[str, set[str]] = field(default_factory=dict)  # property local name -> values (ids or text)


@dataclass
class SchemaItem:
    id: str
    name: str
    description: str = ""
    broader: list[str] = field(default_factory=list)


def _local(iri: str) -> str:
    return iri[len(DEF):] if iri.startswith(DEF) else iri


def _entity_id(iri: str) -> str:
    return iri[len(ID):] if iri.startswith(ID) else iri


def _rows(kg: Any, text: str) -> list[dict[str, str]]:
    return [{k: v["value"] for k, v in row.items() if v is not None} for row in kg.sparql(text).rows]


class ReconciliationService:
    """The index and the four kinds of answer: manifest, query batch, preview, suggest."""

    def __init__(self, kg: Any) -> None:
        self.entities: dict[str, IndexedEntity] = {}
        self.types: dict[str, SchemaItem] = {}
        self.properties: dict[str, SchemaItem] = {}
        for row in _rows(kg, _ENTITIES):
            ent = self.entities.setdefault(_entity_id(row["e"]), IndexedEntity(_entity_id(row["e"])))
            if row["how"] == "description":
                ent.description = ent.description or row["name"]
                continue
            if row["name"] not in ent.names:
                ent.names.append(row["name"])
            if row["how"] == "label" and not ent.name:
                ent.name = row["name"]
        for row in _rows(kg, _TYPES):
            ent = self.entities.get(_entity_id(row["e"]))
            if ent is not None:
                ent.types.add(_local(row["t"]))
        for row in _rows(kg, _SCHEMA):
            target = self.types if row["kind"].endswith("#Class") else self.properties
            local = _local(row["x"])
            item = target.setdefault(local, SchemaItem(local, row.get("label") or local))
            item.description = item.description or row.get("definition", "")
            if "super" in row and _local(row["super"]) not in item.broader:
                item.broader.append(_local(row["super"]))
        for row in _rows(kg, _VALUES):
            ent = self.entities.get(_entity_id(row["e"]))
            if ent is not None and row["p"] != RDF_TYPE:
                ent.values.setdefault(_local(row["p"]), set()).add(_entity_id(row["v"]))
        self.entities = {k: v for k, v in self.entities.items() if v.names and v.types}
        for ent in self.entities.values():
            ent.name = ent.name or ent.names[0]
        self._folded: list[str] = []
        self._cores: list[str] = []
        self._owners: list[str] = []
        for ent in sorted(self.entities.values(), key=lambda e: e.id):
            for n in ent.names:
                self._folded.append(fold(n))
                self._cores.append(core(n))
                self._owners.append(ent.id)

    # -- manifest ---------------------------------------------------------------------------
    def manifest(self, base: str) -> dict[str, Any]:
        """`base` is the service's own URL (…/reconcile), from the request, so links work behind a proxy."""
        root = base.rsplit("/reconcile", 1)[0]
        return {
            "versions": VERSIONS,
            "name": "dispute-kg: territorial disputes",
            "identifierSpace": ID,
            "schemaSpace": DEF,
            "documentation": "https://w3id.org/dispute-kg",
            "serviceVersion": _version(),
            "defaultTypes": [self._type(t) for t in DEFAULT_TYPES if t in self.types],
            "view": {"url": root + "/entity/{{id}}"},
            "preview": {"url": base + "/preview?id={{id}}", "width": 420, "height": 140},
            "suggest": {
                "entity": {"service_url": base, "service_path": "/suggest/entity"},
                "type": {"service_url": base, "service_path": "/suggest/type"},
                "property": {"service_url": base, "service_path": "/suggest/property"},
            },
            "batchSize": MAX_BATCH,
        }

    def _type(self, local: str) -> dict[str, Any]:
        item = self.types.get(local) or SchemaItem(local, local)
        return {"id": item.id, "name": item.name}

    # -- queries ----------------------------------------------------------------------------
    def reconcile_batch(self, batch: Any) -> dict[str, Any]:
        if not isinstance(batch, dict):
            raise InputError("queries must be a JSON object of query id -> query")
        if len(batch) > MAX_BATCH:
            raise InputError(f"a batch holds at most {MAX_BATCH} queries; got {len(batch)}")
        return {str(key): {"result": self.reconcile_one(key, q)} for key, q in batch.items()}

    def reconcile_one(self, key: str, q: Any) -> list[dict[str, Any]]:
        if not isinstance(q, dict):
            raise InputError(f"query {key!r} is not a JSON object")
        text = q.get("query")
        props = q.get("properties") or []
        if text is not None and not isinstance(text, str):
            raise InputError(f"query {key!r}: `query` must be a string")
        if not (text and text.strip()) and not props:
            raise InputError(f"query {key!r}: give a non-empty `query` or `properties`")
        limit = q.get("limit", DEFAULT_LIMIT)
        if (isinstance(limit, bool) or not isinstance(limit, int | float) or not math.isfinite(limit) or limit < 1
                or limit != int(limit)):
            raise InputError(f"query {key!r}: `limit` must be a positive integer")
        types = q.get("type")
        type_list = [types] if isinstance(types, str) else types if types is not None else []
        if not isinstance(type_list, list) or not all(isinstance(t, str) for t in type_list):
            raise InputError(f"query {key!r}: `type` must be a string or a list of strings")
        wanted = {_local(t) for t in type_list}
        if not isinstance(props, list) or not all(isinstance(p, dict) and "pid" in p and "v" in p for p in props):
            raise InputError(f"query {key!r}: `properties` must be a list of {{pid, v}} objects")
        scores = self._name_scores(text or "") if text and text.strip() else dict.fromkeys(self.entities, 0.0)
        out = []
        for ent_id, name_score in scores.items():
            ent = self.entities[ent_id]
            type_ok = not wanted or bool(ent.types & wanted)
            if not type_ok:
                continue
            matched = sum(self._property_matches(ent, p) for p in props)
            if props and not matched and not (text and text.strip()):
                continue
            score = name_score if text and text.strip() else 0.0
            if props:
                score = min(100.0, score + 10.0 * matched) if text else 100.0 * matched / len(props)
            out.append((score, ent, name_score, matched))
        out.sort(key=lambda t: (-t[0], t[1].id))
        out = out[: min(int(limit), MAX_LIMIT)]
        results = []
        for i, (score, ent, name_score, matched) in enumerate(out):
            clear = len(out) == 1 or out[1][0] < score - 10 if i == 0 else False
            results.append({
                "id": ent.id, "name": ent.name, "description": ent.description,
                "score": round(score, 2), "match": bool(i == 0 and score >= MATCH_SCORE and clear),
                "type": [self._type(t) for t in sorted(ent.types)],
                "features": [{"id": "name_similarity", "value": round(name_score, 2)},
                             {"id": "type_match", "value": bool(wanted) and bool(ent.types & wanted)},
                             {"id": "property_matches", "value": matched}],
            })
        return results

    def _name_scores(self, text: str) -> dict[str, float]:
        """Best similarity per entity over all its names (folded, and without generic words)."""
        direct = text.strip()
        key = direct[len(ID):] if direct.startswith(ID) else direct
        best: dict[str, float] = {}
        if key in self.entities:  # an identifier given as the query
            best[key] = 100.0
        q_fold, q_core = fold(text), core(text)
        for choices, needle in ((self._folded, q_fold), (self._cores, q_core)):
            for _choice, score, idx in process.extract(needle, choices, scorer=fuzz.ratio, limit=None,
                                                       score_cutoff=50):
                owner = self._owners[idx]
                if score > best.get(owner, 0.0):
                    best[owner] = float(score)
        return best

    def _property_matches(self, ent: IndexedEntity, prop: dict[str, Any]) -> int:
        pid = _local(str(prop["pid"]))
        values = prop["v"] if isinstance(prop["v"], list) else [prop["v"]]
        have = ent.values.get(pid, set())
        if not have:
            return 0
        folded = {fold(self.entities[h].name) if h in self.entities else fold(h) for h in have}
        for v in values:
            if isinstance(v, dict):
                ref = str(v.get("id", ""))
                if _entity_id(ref) in have:
                    return 1
            elif isinstance(v, str | int | float) and not isinstance(v, bool):
                if _entity_id(str(v)) in have or fold(str(v)) in folded:
                    return 1
        return 0

    # -- preview and suggest ----------------------------------------------------------------
    def preview(self, ent_id: str, root: str) -> str:
        ent = self.entities.get(_entity_id(ent_id))
        if ent is None:
            raise KeyError(ent_id)
        types = ", ".join(self._type(t)["name"] for t in sorted(ent.types))
        aliases = [n for n in ent.names if n != ent.name]
        return ("<!doctype html><html><head><meta charset=\"utf-8\"><title>" + html.escape(ent.name) + "</title>"
                "<style>body{font:14px/1.4 sans-serif;margin:8px}p{margin:2px 0}.t{color:#555}</style></head><body>"
                f"<p><a href=\"{html.escape(root)}/entity/{html.escape(ent.id)}\" target=\"_blank\">"
                f"<strong>{html.escape(ent.name)}</strong></a> <span class=\"t\">{html.escape(types)}</span></p>"
                + (f"<p>{html.escape(ent.description)}</p>" if ent.description else "")
                + (f"<p class=\"t\">also: {html.escape(', '.join(aliases[:6]))}</p>" if aliases else "")
                + f"<p class=\"t\">{html.escape(ID + ent.id)}</p></body></html>")

    def suggest(self, kind: str, prefix: str, cursor: int = 0, limit: int = 10) -> dict[str, Any]:
        needle = fold(prefix)
        if kind == "entity":
            pool = [(e.id, e.name, e.names, e.description) for e in self.entities.values()]
        else:
            items = self.types if kind == "type" else self.properties
            pool = [(i.id, i.name, [i.name, i.id], i.description) for i in items.values()]
        ranked = []
        for ident, name, names, description in pool:
            folded = [fold(n) for n in names]
            if needle and ident.lower() == needle:
                rank = 0
            elif any(f.startswith(needle) for f in folded):
                rank = 1
            elif needle and any(needle in f for f in folded):
                rank = 2
            else:
                continue
            ranked.append((rank, fold(name), ident, name, description))
        ranked.sort()
        result = []
        for _rank, _key, ident, name, description in ranked[cursor: cursor + limit]:
            row: dict[str, Any] = {"id": ident, "name": name}
            if description:
                row["description"] = description
            if kind == "entity":
                row["notable"] = [self._type(t) for t in sorted(self.entities[ident].types)]
            elif kind == "type" and self.types[ident].broader:
                row["broader"] = [self._type(b) for b in self.types[ident].broader if b in self.types]
            result.append(row)
        return {"result": result}


def _version() -> str:
    from .. import __version__

    return str(__version__)
