"""Reconciliation: candidates found by label and alias in several languages (case, diacritics and
"Island(s)"-like words set aside), kept only when their Wikidata types fit our class, scored 0-100 on
name similarity, type and context; a link only for a clear winner above the threshold whose context
agrees. Everything else is a pending record holding the scored candidates.

Manual decisions (`link accept`, `link reject`, `link import`) are never undone here: an existing link
is kept, and a rejected item is never proposed again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import CheckFailed, InputError
from ..project.folder import Project
from ..project.state import writer_lock
from ..rdf.namespaces import DEF, ID
from .client import Endpoint, SnapshotEndpoint
from .common import LINKS_FILE, NO_TERM_FOUND, PREFIXES, RDFS, SKOS, TOOL, TYPE_MAP_FILE, WD, WDT, qid, tool_version
from .context import FACTS, Surroundings, Verdict, judge, parse_point
from .names import LOOKUP_LANGUAGES, NAME_AGREES, Name, similarity, variants
from .records import LEXICAL, UNSPECIFIED, Record, read_links, render_links, today, write_atomic

AnyEndpoint = Endpoint | SnapshotEndpoint


def load_type_map(project: Project) -> dict[str, list[str]]:
    """our class IRI -> compatible Wikidata class IRIs, from data/wikidata/type-map.tsv."""
    path = project.root / TYPE_MAP_FILE
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise InputError(f"cannot read the type map: {exc.strerror}", path=TYPE_MAP_FILE.as_posix()) from None
    out: dict[str, list[str]] = {}
    header_seen = False
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.startswith("#"):
            continue
        cols = line.split("\t")
        if not header_seen:
            header_seen = True
            if cols[0] == "our_class":
                continue
        if len(cols) < 2 or not cols[0].startswith("dk:") or not cols[1].startswith("wd:Q"):
            raise InputError("expected `dk:Class<TAB>wd:Q...<TAB>label<TAB>note`", path=TYPE_MAP_FILE.as_posix(),
                             line=n)
        out.setdefault(DEF + cols[0][3:], []).append(WD + cols[1][3:])
    return out


# -- our entities ---------------------------------------------------------------------------

@dataclass
class Entity:
    iri: str
    label: str
    aliases: list[str]
    classes: list[str]
    inception: str | None = None
    dissolution: str | None = None
    names_by_lang: list[Name] = field(default_factory=list)  # every label and alias, with its language
    related: set[str] = field(default_factory=set)  # entities near this one in our graph
    years: set[str] = field(default_factory=set)

    @property
    def slug(self) -> str:
        return self.iri[len(ID):] if self.iri.startswith(ID) else self.iri

    def names(self) -> list[str]:
        seen: list[str] = []
        for text in [self.label, *self.aliases, *(n.text for n in self.names_by_lang)]:
            if text not in seen:
                seen.append(text)
        return seen


LINKABLE = ["State", "Territory", "Island", "IslandGroup", "Agreement", "Treaty", "PeaceTreaty",
            "JointDeclaration", "Person", "Office", "Place", "City", "Organisation", "NewsAgency",
            "NewsOrganisation", "War", "TerritorialDispute"]


def data_store(project: Project) -> ox.Store:
    """The project's data files (not the links or the snapshot) in one in-memory store; no build needed."""
    from ..rdf.files import read_quads

    store = ox.Store()
    skip = ("data/links/", "data/wikidata/")
    quads = []
    for path in project.data_files:
        rel = project.relpath(path)
        if rel.startswith(skip):
            continue
        quads.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph())
                     for q in read_quads(path, None, display=rel))
    store.extend(quads)
    return store


def project_entities(project: Project, store: ox.Store | None = None) -> list[Entity]:
    """Entities of a linkable class with their names in every language, and what is near them."""
    store = store or data_store(project)
    values = " ".join(f"dk:{c}" for c in LINKABLE)
    head = f"PREFIX dk: <{DEF}> PREFIX rdfs: <{RDFS}> PREFIX skos: <{SKOS}>\n"
    found: dict[str, Entity] = {}
    for row in store.query(head + f"""SELECT ?e ?class ?name ?how ?inception ?dissolution WHERE {{
          VALUES ?class {{ {values} }}
          ?e a ?class .
          {{ ?e rdfs:label ?name BIND ("label" AS ?how) }} UNION {{ ?e skos:altLabel ?name BIND ("alias" AS ?how) }}
          OPTIONAL {{ ?e dk:inception ?inception }}
          OPTIONAL {{ ?e dk:dissolution ?dissolution }}
        }}"""):
        iri = row["e"].value
        ent = found.setdefault(iri, Entity(iri, "", [], []))
        cls = row["class"].value
        if cls not in ent.classes:
            ent.classes.append(cls)
        name = row["name"]
        lang = getattr(name, "language", None) or ""
        if Name(name.value, lang) not in ent.names_by_lang:
            ent.names_by_lang.append(Name(name.value, lang))
        if row["how"].value == "label" and lang in ("en", "") and not ent.label:
            ent.label = name.value
        elif row["how"].value == "alias" and lang in ("en", "") and name.value not in ent.aliases:
            ent.aliases.append(name.value)
        if row["inception"] is not None:
            ent.inception = row["inception"].value
        if row["dissolution"] is not None:
            ent.dissolution = row["dissolution"].value
    for row in store.query(head + """SELECT DISTINCT ?e ?r WHERE {
          { ?e ?p ?r } UNION { ?r ?p ?e } UNION { ?n ?p ?e . ?n ?q ?r } UNION { ?e ?p ?n . ?n ?q ?r }
          FILTER (isIRI(?r) && ?r != ?e)
        }"""):
        ent = found.get(row["e"].value)
        if ent is not None and row["r"].value in found:
            ent.related.add(row["r"].value)
    for row in store.query(head + """SELECT DISTINCT ?e ?d WHERE {
          { ?e dk:date ?d } UNION { ?n ?p ?e . ?n dk:date ?d } }"""):
        ent = found.get(row["e"].value)
        if ent is not None and len(row["d"].value) >= 4 and row["d"].value[:4].isdigit():
            ent.years.add(row["d"].value[:4])
    for ent in found.values():
        if not ent.label:
            ent.label = ent.names_by_lang[0].text
        ent.aliases.sort()
        ent.classes.sort()
        ent.names_by_lang.sort(key=lambda n: (n.lang, n.text))
    return [found[k] for k in sorted(found)]


# -- candidates -----------------------------------------------------------------------------

def _lit(name: Name) -> str:
    return json.dumps(name.text, ensure_ascii=False) + (f"@{name.lang}" if name.lang else "")


def _items(iris: Iterable[str]) -> str:
    return " ".join(f"<{i}>" for i in sorted(set(iris))) or f"<{WD}Q0>"


def lookup_query(names: Iterable[Name]) -> str:
    """Items whose label or alias is one of the spellings: exact literals, so an index answers it."""
    values = " ".join(_lit(n) for n in variants(names))
    return PREFIXES + f"""SELECT DISTINCT ?item WHERE {{
  VALUES ?name {{ {values} }}
  {{ ?item rdfs:label ?name }} UNION {{ ?item skos:altLabel ?name }}
}}"""


def names_query(items: Iterable[str], langs: Iterable[str]) -> str:
    filt = ", ".join(json.dumps(x) for x in sorted(set(langs)))
    return PREFIXES + f"""SELECT ?item ?name ?how WHERE {{
  VALUES ?item {{ {_items(items)} }}
  {{ ?item rdfs:label ?name BIND ("label" AS ?how) }} UNION {{ ?item skos:altLabel ?name BIND ("alias" AS ?how) }}
  FILTER (LANG(?name) IN ({filt}))
}}"""


def types_query(items: Iterable[str], compatible: Iterable[str]) -> str:
    classes = _items(compatible)
    return PREFIXES + f"""SELECT ?item ?description ?type ?typeLabel ?compatible WHERE {{
  VALUES ?item {{ {_items(items)} }}
  OPTIONAL {{ ?item schema:description ?description . FILTER (LANG(?description) = "en") }}
  OPTIONAL {{ ?item wdt:P31 ?type .
             OPTIONAL {{ ?type rdfs:label ?typeLabel . FILTER (LANG(?typeLabel) = "en") }} }}
  OPTIONAL {{ VALUES ?compatible {{ {classes} }} ?item wdt:P31/wdt:P279* ?compatible . }}
}}"""


def facts_query(items: Iterable[str]) -> str:
    props = " ".join(f"wdt:{p}" for p in FACTS)
    return PREFIXES + f"""SELECT ?item ?p ?v WHERE {{
  VALUES ?item {{ {_items(items)} }}
  VALUES ?p {{ {props} }}
  ?item ?p ?v .
}}"""


def _value(row: dict[str, Any], key: str) -> str:
    """One binding's value, refusing an answer that is not SPARQL JSON (a malformed endpoint)."""
    from ..errors import BackendUnavailable

    try:
        return str(row[key]["value"])
    except (KeyError, TypeError):
        raise BackendUnavailable(f"the endpoint's answer is not SPARQL JSON results (a row without ?{key})") from None


@dataclass
class Candidate:
    id: str
    name: str
    description: str = ""
    score: int = 0
    match: bool = False
    type: list[dict[str, str]] = field(default_factory=list)
    names: list[Name] = field(default_factory=list)
    label_names: set[str] = field(default_factory=set)
    compatible: list[str] = field(default_factory=list)
    direct: bool = False
    facts: dict[str, list[str]] = field(default_factory=dict)
    similarity: float = 0.0
    our_name: str = ""
    their_name: str = ""
    their_field: str = ""
    verdict: Verdict | None = None
    why: str = ""

    @property
    def iri(self) -> str:
        return WD + self.id

    def api(self) -> dict[str, Any]:
        """The Reconciliation Service API shape."""
        return {"id": self.id, "name": self.name, "description": self.description, "score": self.score,
                "match": self.match, "type": self.type}


@dataclass
class Item:
    """What an endpoint says about one item: names, types, facts."""

    iri: str
    names: list[Name] = field(default_factory=list)
    label_names: set[str] = field(default_factory=set)
    description: str = ""
    types: dict[str, str] = field(default_factory=dict)
    compatible: set[str] = field(default_factory=set)
    facts: dict[str, list[str]] = field(default_factory=dict)

    @property
    def exists(self) -> bool:
        return bool(self.names or self.types or self.facts or self.description)

    def display_name(self) -> str:
        en = [n.text for n in self.names if n.lang == "en" and n.text in self.label_names]
        return en[0] if en else (sorted(self.label_names)[0] if self.label_names else qid(self.iri))


def describe(endpoint: AnyEndpoint, items: Iterable[str], compatible: Iterable[str],
             langs: Iterable[str] = LOOKUP_LANGUAGES) -> dict[str, Item]:
    """Names, types (and whether compatible) and facts of the items, in three queries."""
    items = sorted(set(items))
    out = {i: Item(i) for i in items}
    if not items:
        return out
    for row in endpoint.select(names_query(items, langs)):
        it = out.get(_value(row, "item"))
        if it is None:
            continue
        name = Name(_value(row, "name"), row["name"].get("xml:lang", ""))
        if name not in it.names:
            it.names.append(name)
        if _value(row, "how") == "label":
            it.label_names.add(name.text)
    for row in endpoint.select(types_query(items, compatible)):
        it = out.get(_value(row, "item"))
        if it is None:
            continue
        if "description" in row:
            it.description = _value(row, "description")
        if "type" in row:
            t = _value(row, "type")
            it.types[t] = row["typeLabel"]["value"] if "typeLabel" in row else qid(t)
        if "compatible" in row:
            it.compatible.add(_value(row, "compatible"))
    for row in endpoint.select(facts_query(items)):
        it = out.get(_value(row, "item"))
        if it is not None:
            it.facts.setdefault(_value(row, "p").removeprefix(WDT), []).append(_value(row, "v"))
    return out


def surroundings(entity: Entity, links: dict[str, str], points: dict[str, list[tuple[float, float]]]) -> Surroundings:
    related = {links[r] for r in entity.related if r in links}
    return Surroundings(related, [p for r in sorted(related) for p in points.get(r, [])], set(entity.years),
                        entity.inception, entity.dissolution)


def score(entity: Entity, cand: Candidate, ours: Surroundings) -> None:
    """0-100: name (similarity x 0.6 against a label, x 0.5 against an alias) + type (30 direct, 25 via
    subclass) + context (+10 agrees, -30 conflicts)."""
    sim, our_name, their_name = similarity(entity.names(), [n.text for n in cand.names])
    cand.similarity, cand.our_name, cand.their_name = sim, our_name, their_name
    on_label = their_name in cand.label_names
    cand.their_field = RDFS + "label" if on_label else SKOS + "altLabel"
    name_points = sim * (0.6 if on_label else 0.5)
    kind = (30 if cand.direct else 25) if cand.compatible else 0
    cand.verdict = judge(entity.classes, ours, cand.facts)
    ctx = {"agrees": 10, "conflicts": -30}.get(cand.verdict.state, 0)
    cand.score = max(0, min(100, round(name_points + kind + ctx)))
    cand.why = (f"name {name_points:.0f} ({our_name!r} ~ {their_name!r} {sim:.0f}%), type {kind}, "
                f"{cand.verdict.text}")


def find_candidates(endpoint: AnyEndpoint, entity: Entity, compatible: list[str], ours: Surroundings,
                    exclude: Iterable[str] = ()) -> list[Candidate]:
    names = entity.names_by_lang or [Name(entity.label, "en")]
    rows = endpoint.select(lookup_query(names))
    skip = set(exclude)
    found = sorted({_value(r, "item") for r in rows} - skip)
    found = [i for i in found if i.startswith(WD)]
    langs = {n.lang for n in names if n.lang} | set(LOOKUP_LANGUAGES)
    described = describe(endpoint, found, compatible, langs)
    cands = []
    for iri in found:
        it = described[iri]
        cand = Candidate(qid(iri), it.display_name(), it.description,
                         type=[{"id": qid(k), "name": v} for k, v in sorted(it.types.items())],
                         names=sorted(it.names, key=lambda n: (n.lang, n.text)), label_names=it.label_names,
                         compatible=sorted(it.compatible), facts=it.facts)
        cand.direct = any(k in compatible for k in it.types)
        score(entity, cand, ours)
        cands.append(cand)
    return sorted(cands, key=lambda c: (-c.score, c.id))


@dataclass
class Outcome:
    entity: Entity
    status: str  # linked, kept, manual, ambiguous, no-candidate, type-mismatch, below-threshold, context, no-type-map
    winner: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity.iri, "label": self.entity.label, "status": self.status,
                "reason": self.reason, "result": [c.api() for c in self.candidates],
                "rejected_on_type": [c.api() for c in self.rejected]}


MARGIN = 15


def decide(entity: Entity, cands: list[Candidate], min_score: int, where: str) -> Outcome:
    fitting = [c for c in cands if c.compatible]
    rejected = [c for c in cands if not c.compatible]
    if not cands:
        return Outcome(entity, "no-candidate",
                       reason=f"no item has a label or alias like {', '.join(entity.names()[:4])} in {where}")
    if not fitting:
        listed = "; ".join(f"{c.id} {c.name!r} ({', '.join(t['name'] for t in c.type) or 'no type'})"
                           for c in rejected)
        return Outcome(entity, "type-mismatch", rejected=rejected,
                       reason=f"candidates by name, none of a compatible type: {listed}")
    listed = ", ".join(f"{c.id} {c.name!r} ({c.score})" for c in fitting)
    above = [c for c in fitting if c.score >= min_score]
    if not above:
        best = fitting[0]
        return Outcome(entity, "below-threshold", candidates=fitting, rejected=rejected,
                       reason=f"no candidate scores {min_score} or more: {listed}; best: {best.why}")
    if len(above) > 1 and above[0].score - above[1].score < MARGIN:
        return Outcome(entity, "ambiguous", candidates=fitting, rejected=rejected,
                       reason=f"ambiguous, needs review: {listed}")
    best = above[0]
    if best.similarity < NAME_AGREES:
        return Outcome(entity, "below-threshold", candidates=fitting, rejected=rejected,
                       reason=f"best candidate {best.id} {best.name!r} scores {best.score}, but its name only "
                              f"resembles ours ({best.why}); needs review")
    if best.verdict is None or best.verdict.state != "agrees":
        state = best.verdict.text if best.verdict else "context unknown"
        return Outcome(entity, "context", candidates=fitting, rejected=rejected,
                       reason=f"best candidate {best.id} {best.name!r} scores {best.score} but its {state}; "
                              "needs review")
    best.match = True
    return Outcome(entity, "linked", winner=best, candidates=fitting, rejected=rejected,
                   reason=f"{best.id} {best.name!r} score {best.score} ({best.why})")


# -- records --------------------------------------------------------------------------------

def candidate_record(entity: Entity, c: Candidate, source: str) -> Record:
    our_field = RDFS + "label" if c.our_name == entity.label else SKOS + "altLabel"
    return Record(entity.iri, entity.label, c.iri, c.name, LEXICAL, f"{c.score / 100:.2f}", TOOL, tool_version(),
                  today(), source, c.why, match_string=c.our_name, subject_match_field=our_field,
                  object_match_field=c.their_field, similarity_score=f"{c.similarity / 100:.2f}")


@dataclass
class LinkReport:
    outcomes: list[Outcome]
    records: list[Record]
    changed: bool
    written: bool

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "written": self.written, "outcomes": [o.to_dict() for o in self.outcomes]}


def item_points(endpoint: AnyEndpoint, items: Iterable[str]) -> dict[str, list[tuple[float, float]]]:
    items = sorted(set(items))
    if not items:
        return {}
    out: dict[str, list[tuple[float, float]]] = {}
    for row in endpoint.select(PREFIXES + f"SELECT ?item ?v WHERE {{ VALUES ?item {{ {_items(items)} }} "
                                          "?item wdt:P625 ?v }"):
        point = parse_point(_value(row, "v"))
        if point:
            out.setdefault(_value(row, "item"), []).append(point)
    return out


def save_links(path: Path, records: Iterable[Record], *, dry_run: bool = False) -> tuple[bool, bool]:
    """The one write path for the links file: (changed, written)."""
    text = render_links(records)
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    written = write_atomic(path, text) if changed and not dry_run else False
    return changed, written


def reconcile(project: Project, endpoint: AnyEndpoint, *, min_score: int = 80,
              dry_run: bool = False, links_path: Path | None = None) -> LinkReport:
    """Link every linkable entity that has no link yet; keep links and manual decisions.

    The links file is written only after every query succeeded, atomically, and only if it changes,
    so a second run with the same answers changes nothing.
    """

    with writer_lock(project):  # the project's one writer lock: a concurrent accept is not lost
        return _reconcile(project, endpoint, min_score, dry_run, links_path or project.root / LINKS_FILE)


def _reconcile(project: Project, endpoint: AnyEndpoint, min_score: int, dry_run: bool, path: Path) -> LinkReport:
    existing = {r.subject: r for r in read_links(path)}
    type_map = load_type_map(project)
    records = dict(existing)
    links = {s: r.object for s, r in existing.items() if not r.pending}
    points = item_points(endpoint, links.values())
    outcomes = []
    where = endpoint.description
    said = where + (" (it holds only items verified by hand; an online run may find more)"
                    if isinstance(endpoint, SnapshotEndpoint) else "")
    # States first: a territory's context is the states our graph relates to it, linked in this same run.
    ordered = sorted(project_entities(project), key=lambda e: (DEF + "State" not in e.classes, e.iri))
    for entity in ordered:
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        old = existing.get(entity.iri)
        if old is not None and not old.pending:
            status = "manual" if old.manual else "kept"
            outcomes.append(Outcome(entity, status, reason=f"already linked to {qid(old.object)}"))
            continue
        if not compatible:
            outcome = Outcome(entity, "no-type-map",
                              reason="the type map (data/wikidata/type-map.tsv) has no Wikidata class for "
                                     f"{', '.join(c.rsplit('#', 1)[-1] for c in entity.classes)}")
        else:
            ours = surroundings(entity, links, points)
            excluded = [r.object for r in old.rejected] if old else []
            outcome = decide(entity, find_candidates(endpoint, entity, compatible, ours, excluded), min_score, said)
        outcomes.append(outcome)
        kept_parts = {"rejected": old.rejected if old else (), "see_also": old.see_also if old else ""}
        if outcome.status == "linked" and outcome.winner is not None:
            rec = candidate_record(entity, outcome.winner, where)
            records[entity.iri] = replace(rec, comment=f"linked automatically: {outcome.reason}",
                                          rejected=kept_parts["rejected"], see_also=kept_parts["see_also"],
                                          note=old.note if old else "")
            links[entity.iri] = rec.object
            points.update(item_points(endpoint, [rec.object]))
        else:
            before = {c.object: c for c in old.candidates} if old else {}
            cands = tuple(_stable(before.get(c.iri), candidate_record(entity, c, where))
                          for c in outcome.candidates)
            base = old or Record(entity.iri, entity.label, NO_TERM_FOUND, justification=UNSPECIFIED)
            records[entity.iri] = replace(
                base, subject_label=entity.label, justification=UNSPECIFIED, confidence=None, tool=TOOL,
                tool_version=tool_version(), date=base.date if _same_outcome(base, outcome, cands) else today(),
                source_version=where, comment=f"PENDING REVIEW: {outcome.reason}", candidates=cands)
    changed, written = save_links(path, records.values(), dry_run=dry_run)
    outcomes.sort(key=lambda o: o.entity.iri)
    return LinkReport(outcomes, sorted(records.values(), key=lambda r: r.subject), changed, written)


def _stable(old: Record | None, new: Record) -> Record:
    """The old record when only its date would change, so an unchanged answer changes no byte."""
    return old if old is not None and replace(old, date=new.date) == new else new


def _same_outcome(old: Record, outcome: Outcome, cands: tuple[Record, ...]) -> bool:
    """Whether a pending record would say the same as before (then its date stays, and the file too)."""
    return (old.comment == f"PENDING REVIEW: {outcome.reason}"
            and [(c.object, c.confidence) for c in old.candidates] == [(c.object, c.confidence) for c in cands])


# -- summaries ------------------------------------------------------------------------------

def outcome_summary(report: LinkReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def fail_if_problems(checks: list[Any]) -> None:
    bad = [c for c in checks if not c.ok]
    if bad:
        raise CheckFailed(f"{len(bad)} of {len(checks)} Wikidata link(s) failed the check")


