"""Full-text search over labels, aliases (every language), dates, stances and cited quotes.

The index is an SQLite FTS5 table (standard library) in `.dispute-kg/search.sqlite`, filled from the
graph through `KnowledgeGraph.sparql`, so it works the same over the embedded store and a remote
endpoint. `build` and every `add` or `retract` call `refresh(project)` (an `add` updates only the entities
its quads touch); `search` also rebuilds the index
when its stamp (the build manifest's fingerprint and update time) no longer matches, so a store changed
behind its back is never searched stale. A store other than the project's own (`sparql:`, `memory:`)
gets an index in memory, made on first use.

Ranking decides on structure, not on text: an exact label or alias match goes to the top; then a match
in what names or dates the entity (label, alias, date) before one in what it says or cites (stance,
quote); then the kind of entity (a named thing before an event, an event before an assertion about it);
then the field; then FTS5's BM25 score.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from ..rdf.namespaces import DEF, ID

INDEX_NAME = "search.sqlite"
FORMAT = 2
# Lower is better. Named things first, then what happened, then what someone asserted, then sources.
ASSERTION_KINDS = {DEF + k for k in ("Claim", "Position", "Provision", "Statement")}
EVENT_KINDS = {DEF + "Event"}
SOURCE_KINDS = {DEF + "Source", DEF + "TextSelection", DEF + "Addition"}
FIELD_RANK = {"label": 0, "alias": 1, "date": 2, "text": 3, "quote": 4}

ROWS = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX dk: <{DEF}>
SELECT DISTINCT ?entity ?field ?text ?lang WHERE {{
  {{ ?entity rdfs:label|skos:prefLabel ?text . BIND ("label" AS ?field) }}
  UNION {{ ?entity skos:altLabel ?text . BIND ("alias" AS ?field) }}
  UNION {{ ?entity ?dp ?text . FILTER (isLiteral(?text) && DATATYPE(?text) IN
           (<http://www.w3.org/2001/XMLSchema#date>, <http://www.w3.org/2001/XMLSchema#gYear>,
            <http://www.w3.org/2001/XMLSchema#gYearMonth>)) BIND ("date" AS ?field) }}
  UNION {{ ?entity dk:stance|dk:provides|dk:quote|dk:nameUsed ?text . BIND ("text" AS ?field) }}
  UNION {{ ?entity prov:wasDerivedFrom ?selection . ?selection oa:hasSelector ?selector .
           ?selector oa:exact ?text . BIND ("quote" AS ?field) }}
  FILTER (isIRI(?entity) && STRSTARTS(STR(?entity), "{ID}") && !STRSTARTS(STR(?entity), "{ID}selection/"))
  BIND (LANG(?text) AS ?lang)
}}"""

KINDS = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?entity ?class ?classLabel WHERE {{
  ?entity a ?class .
  FILTER (STRSTARTS(STR(?entity), "{ID}") && STRSTARTS(STR(?class), "{DEF}"))
  OPTIONAL {{ ?class rdfs:label ?classLabel }}
}}"""

SUPERCLASSES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?class ?super WHERE {{
  ?class rdfs:subClassOf+ ?super . FILTER (STRSTARTS(STR(?class), "{DEF}") && STRSTARTS(STR(?super), "{DEF}"))
}}"""


@dataclass
class Hit:
    """One entity a search found: where it matched best, and its kind (most specific class)."""

    entity: str
    label: str
    kind: str
    kind_label: str
    field: str
    snippet: str
    score: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold().strip()


def _tier(classes: set[str]) -> int:
    if not any(c.startswith(DEF) for c in classes) or classes & SOURCE_KINDS:  # e.g. mapping records
        return 3
    if classes & ASSERTION_KINDS:
        return 2
    if classes & EVENT_KINDS:
        return 1
    return 0


def _schema(db: sqlite3.Connection) -> None:
    db.executescript("""
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT);
        CREATE TABLE entity (iri TEXT PRIMARY KEY, label TEXT, kind TEXT, kind_label TEXT, tier INTEGER,
                             names TEXT);
        CREATE VIRTUAL TABLE doc USING fts5(text, iri UNINDEXED, field UNINDEXED, lang UNINDEXED,
                                            tokenize = 'unicode61 remove_diacritics 2');
    """)


def fill(db: sqlite3.Connection, sparql: Callable[[str], Any], only: list[str] | None = None) -> None:
    """Read the graph through `sparql` (`kg.sparql`, or a store's `query`) and write the index into an
    empty database; with `only` (entity IRIs), write those entities' rows into an index that already
    has the schema and holds none of theirs: the same queries, each given the entities first."""
    if only is None:
        _schema(db)
    supers: dict[str, set[str]] = {}
    for row in sparql(SUPERCLASSES).rows:
        supers.setdefault(row["class"]["value"], set()).add(row["super"]["value"])
    classes: dict[str, dict[str, str]] = {}
    for row in sparql(_for(KINDS, only)).rows:
        label = row.get("classLabel", {}).get("value") or row["class"]["value"].rsplit("#", 1)[-1]
        classes.setdefault(row["entity"]["value"], {})[row["class"]["value"]] = label
    docs: list[tuple[str, str, str, str]] = []
    labels: dict[str, str] = {}
    names: dict[str, set[str]] = {}
    for row in sparql(_for(ROWS, only)).rows:
        iri, field, text = row["entity"]["value"], row["field"]["value"], row["text"]["value"]
        docs.append((text, iri, field, row.get("lang", {}).get("value", "")))
        if field == "label" and (iri not in labels or row.get("lang", {}).get("value") == "en"):
            labels[iri] = text
        if field in ("label", "alias"):
            names.setdefault(iri, set()).add(_fold(text))
    entities = []
    for iri in {d[1] for d in docs}:
        own = classes.get(iri, {})
        # the most specific class: one that is no other asserted class's superclass
        specific = [c for c in own if not any(c in supers.get(o, set()) for o in own if o != c)]
        kind = sorted(specific)[0] if specific else ""
        entities.append((iri, labels.get(iri) or iri[len(ID):], kind, own.get(kind, "Other"), _tier(set(own)),
                         json.dumps(sorted(names.get(iri, set())), ensure_ascii=False)))
    db.executemany("INSERT INTO entity VALUES (?, ?, ?, ?, ?, ?)", entities)
    db.executemany("INSERT INTO doc (text, iri, field, lang) VALUES (?, ?, ?, ?)", docs)


def _for(query: str, only: list[str] | None) -> str:
    """`query` with `?entity` bound to `only` at the start of its WHERE group (every query here has one)."""
    if only is None:
        return query
    from ..rdf.convert import term_text

    values = " ".join(term_text({"type": "uri", "value": iri}) for iri in only)
    return query.replace("WHERE {", f"WHERE {{ VALUES ?entity {{ {values} }}", 1)


def affected(quads: Iterable[Any], sparql: Callable[[str], Any]) -> list[str] | None:
    """The entities whose rows in the index `quads` (added or removed, as pyoxigraph quads) can change, read
    on the graph after the change; None when the change reaches what every entity's rows depend on (a
    class or property of the vocabulary, a blank node), which only a full rebuild covers. An entity's rows
    come from its own triples and from the quote of the selection it derives from (`ROWS`, `KINDS`)."""
    from ..rdf.convert import term_text

    entities: set[str] = set()
    selections: set[str] = set()
    for q in quads:
        subject = q.subject
        if type(subject).__name__ != "NamedNode":
            return None
        iri = subject.value
        if iri.startswith(ID + "selection/"):
            selections.add(iri)
        elif iri.startswith(ID):
            entities.add(iri)
        elif iri.startswith(DEF):  # the kinds' hierarchy and labels
            return None
    if selections:
        values = " ".join(term_text({"type": "uri", "value": iri}) for iri in sorted(selections))
        rows = sparql("PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX oa: <http://www.w3.org/ns/oa#> "
                      f"SELECT DISTINCT ?entity WHERE {{ VALUES ?changed {{ {values} }} "
                      "{ ?entity prov:wasDerivedFrom ?changed } UNION "
                      "{ ?entity prov:wasDerivedFrom ?selection . ?selection oa:hasSelector ?changed } }").rows
        entities.update(r["entity"]["value"] for r in rows if r["entity"]["type"] == "uri")
    return sorted(entities)


def _stamp(project: Any) -> str:
    return _stamp_of(project.manifest() or {})


def _stamp_of(manifest: dict) -> str:
    return json.dumps([FORMAT, manifest.get("fingerprint"), manifest.get("updated_at"), manifest.get("built_at")])


def index_path(project: Any) -> Path:
    return Path(project.state_dir) / INDEX_NAME


def refresh(project: Any, graph: Any = None, *, changed: Iterable[Any] | None = None,
            previous: dict | None = None) -> Path:
    """Rebuild the project's index from its embedded store (after build, add and retract), or from
    `graph`, an in-memory pyoxigraph copy of it that the build just made (several times faster to read).
    With `changed` (the quads an addition added and removed) and `previous` (the manifest of the
    generation before it), only the entities they touch are read again, into a copy of the index, when
    the index on disk is the previous generation's: at a million triples a full rebuild took 29 s of an
    addition's 39 s. Anything else is a full rebuild.

    Opens the store itself, read-only, rather than a `KnowledgeGraph`: `add` calls this while its
    journal is still open, and opening a graph would take that for a dead process's work."""
    from ..rdf.durable import write_atomic
    from ..stores.base import open_store, parse_selector
    from ..stores.oxigraph import OxigraphStore

    target = index_path(project)
    store = (OxigraphStore(graph, None, read_only=True) if graph is not None
             else open_store(parse_selector(None), project=project, read_only=True))
    try:
        db = None
        if changed is not None and previous is not None:
            db = _updated(target, store.query, changed, _stamp_of(previous))
        if db is None:
            db = sqlite3.connect(":memory:")
            fill(db, store.query)
            db.execute("INSERT INTO meta VALUES ('stamp', '')")
        try:
            db.execute("UPDATE meta SET value = ? WHERE key = 'stamp'", (_stamp(project),))
            db.commit()
            image = db.serialize()
        finally:
            db.close()
    finally:
        store.close()
    # built in memory and written by the project's one atomic write: readers see the old index or the new
    write_atomic(target, image, point="search-index")
    return target


def _updated(target: Path, sparql: Callable[[str], Any], changed: Iterable[Any],
             stamp: str) -> sqlite3.Connection | None:
    """The index at `target`, in memory, with the entities `changed` touches read again; None when that
    index is not the one stamped `stamp` or the change needs a full rebuild."""
    db = sqlite3.connect(":memory:")
    try:
        db.deserialize(target.read_bytes())
        row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
        only = affected(changed, sparql) if row and row[0] == stamp else None
        if only is None:
            db.close()
            return None
    except (OSError, sqlite3.Error):
        db.close()
        return None
    for start in range(0, len(only), 500):
        chunk = only[start:start + 500]
        marks = ", ".join("?" * len(chunk))
        db.execute(f"DELETE FROM entity WHERE iri IN ({marks})", chunk)
        db.execute(f"DELETE FROM doc WHERE iri IN ({marks})", chunk)
        fill(db, sparql, chunk)
    return db


_memory: dict[int, sqlite3.Connection] = {}
_lock = threading.Lock()


def _connect(kg: Any) -> sqlite3.Connection:
    selector = getattr(kg, "selector", None)
    if selector is not None and selector.scheme == "oxigraph" and not selector.location:
        path = index_path(kg.project)
        fresh = False
        if path.exists():
            db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            try:
                row = db.execute("SELECT value FROM meta WHERE key = 'stamp'").fetchone()
                fresh = bool(row) and row[0] == _stamp(kg.project)
            except sqlite3.DatabaseError:
                fresh = False
            if fresh:
                return db
            db.close()
        try:
            with _lock:
                refresh(kg.project)
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
        except (OSError, sqlite3.Error):
            pass  # a read-only checkout: index in memory instead, as for another store
    with _lock:
        db = _memory.get(id(kg))
        if db is None:
            db = sqlite3.connect(":memory:", check_same_thread=False)
            fill(db, kg.sparql)
            _memory[id(kg)] = db
        return db


def fts_query(text: str) -> str:
    """The user's words as an FTS5 query: each word a quoted prefix term, all required. Quoting every
    word means no FTS5 operator or column filter in the input is ever interpreted."""
    words = []
    for raw in text.split():
        word = "".join(ch for ch in raw if ch.isalnum() or ch in "-'")
        word = word.strip("-'")
        if word:
            words.append('"' + word.replace('"', '""') + '"*')
    return " ".join(words)


def search(kg: Any, text: str, *, limit: int = 50) -> list[Hit]:
    """Entities matching `text`, best first (see the module docstring for the order)."""
    query = fts_query(text)
    if not query:
        return []
    db = _connect(kg)
    if db in _memory.values():  # one shared connection: one query at a time
        with _lock:
            rows = _rows(db, query)
    else:
        try:
            rows = _rows(db, query)
        finally:
            db.close()
    folded = _fold(text)
    best: dict[str, tuple[tuple, Hit]] = {}
    for iri, field, snippet, score, label, kind, kind_label, tier, names in rows:
        exact = folded in json.loads(names)
        rank = FIELD_RANK.get(field, 9)
        key = (0 if exact else 1, 0 if rank <= FIELD_RANK["date"] else 1, tier, rank, score)
        if iri not in best or key < best[iri][0]:
            best[iri] = (key, Hit(iri, label, kind, kind_label, field, snippet, round(-score, 4)))
    ranked = sorted(best.values(), key=lambda kv: (kv[0], kv[1].label))
    return [hit for _, hit in ranked[:limit]]


def _rows(db: sqlite3.Connection, query: str) -> list[tuple]:
    return db.execute(
        """SELECT doc.iri, doc.field, snippet(doc, 0, '[', ']', '…', 12), bm25(doc), entity.label,
                  entity.kind, entity.kind_label, entity.tier, entity.names
           FROM doc JOIN entity ON entity.iri = doc.iri WHERE doc MATCH ? ORDER BY bm25(doc) LIMIT 2000""",
        (query,)).fetchall()


def grouped(hits: list[Hit]) -> list[dict[str, Any]]:
    """Hits grouped by kind, the groups in the order of their best hit."""
    groups: dict[str, dict[str, Any]] = {}
    for hit in hits:
        group = groups.setdefault(hit.kind, {"kind": hit.kind, "label": hit.kind_label, "hits": []})
        group["hits"].append(hit.to_dict())
    return list(groups.values())
