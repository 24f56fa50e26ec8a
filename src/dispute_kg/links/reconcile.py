"""Reconciliation: candidates by label and alias, kept only when their Wikidata types fit our class,
scored 0-100; only a clear winner becomes a link. Also the re-check of existing links."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import CheckFailed, InputError
from ..project.folder import Project
from ..project.state import writer_lock
from ..rdf.namespaces import DEF, ID
from .client import Endpoint, SnapshotEndpoint
from .common import LINKS_FILE, NO_TERM_FOUND, PREFIXES, RDFS, SEMAPV, SKOS, TOOL, TYPE_MAP_FILE, WD, qid, tool_version
from .records import Record, read_links, render_links, today, write_atomic


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

    @property
    def slug(self) -> str:
        return self.iri[len(ID):] if self.iri.startswith(ID) else self.iri

    def names(self) -> list[str]:
        return [self.label, *[a for a in self.aliases if a != self.label]]


LINKABLE = ["State", "Territory", "Island", "IslandGroup", "Agreement", "Treaty", "PeaceTreaty",
            "JointDeclaration", "Person", "Office", "Place", "City", "Organisation", "NewsAgency",
            "NewsOrganisation", "War", "TerritorialDispute"]


def project_entities(project: Project) -> list[Entity]:
    """Entities of a linkable class, read straight from the data files (no build needed)."""
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
    values = " ".join(f"dk:{c}" for c in LINKABLE)
    rows = store.query(f"""PREFIX dk: <{DEF}> PREFIX rdfs: <{RDFS}> PREFIX skos: <{SKOS}>
        SELECT ?e ?class ?label ?alias ?inception ?dissolution WHERE {{
          VALUES ?class {{ {values} }}
          ?e a ?class ; rdfs:label ?label .
          FILTER (LANG(?label) = "en" || LANG(?label) = "")
          OPTIONAL {{ ?e skos:altLabel ?alias }}
          OPTIONAL {{ ?e dk:inception ?inception }}
          OPTIONAL {{ ?e dk:dissolution ?dissolution }}
        }}""")
    found: dict[str, Entity] = {}
    for row in rows:
        iri = row["e"].value
        ent = found.setdefault(iri, Entity(iri, row["label"].value, [], []))
        cls = row["class"].value
        if cls not in ent.classes:
            ent.classes.append(cls)
        if row["alias"] is not None and row["alias"].value not in ent.aliases:
            ent.aliases.append(row["alias"].value)
        if row["inception"] is not None:
            ent.inception = row["inception"].value
        if row["dissolution"] is not None:
            ent.dissolution = row["dissolution"].value
    for ent in found.values():
        ent.aliases.sort()
        ent.classes.sort()
    return [found[k] for k in sorted(found)]


# -- reconciliation -------------------------------------------------------------------------

def _lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False) + "@en"


def candidate_query(names: Iterable[str], compatible: Iterable[str]) -> str:
    """Items whose English label or alias is one of `names`, with their types and facts.

    `?compatible` is bound when the item is an instance (wdt:P31/wdt:P279*) of a class our type
    map accepts; the same text runs on the Wikidata Query Service and on the snapshot.
    """
    name_values = " ".join(_lit(n) for n in names)
    class_values = " ".join(f"wd:{qid(c)}" for c in compatible) or "wd:Q0"
    return PREFIXES + f"""SELECT ?item ?name ?how ?label ?description ?type ?typeLabel ?compatible
       ?inception ?dissolution WHERE {{
  VALUES ?name {{ {name_values} }}
  {{ ?item rdfs:label ?name . BIND ("label" AS ?how) }}
  UNION
  {{ ?item skos:altLabel ?name . BIND ("alias" AS ?how) }}
  OPTIONAL {{ ?item rdfs:label ?label . FILTER (LANG(?label) = "en") }}
  OPTIONAL {{ ?item schema:description ?description . FILTER (LANG(?description) = "en") }}
  OPTIONAL {{ ?item wdt:P31 ?type .
             OPTIONAL {{ ?type rdfs:label ?typeLabel . FILTER (LANG(?typeLabel) = "en") }} }}
  OPTIONAL {{ VALUES ?compatible {{ {class_values} }} ?item wdt:P31/wdt:P279* ?compatible . }}
  OPTIONAL {{ ?item wdt:P571 ?inception }}
  OPTIONAL {{ ?item wdt:P576 ?dissolution }}
}}"""


@dataclass
class Candidate:
    id: str
    name: str
    description: str = ""
    score: int = 0
    match: bool = False
    type: list[dict[str, str]] = field(default_factory=list)
    matched_names: list[tuple[str, str]] = field(default_factory=list)  # (name, "label"|"alias")
    compatible: list[str] = field(default_factory=list)
    direct: bool = False
    inception: str | None = None
    dissolution: str | None = None
    why: str = ""

    def api(self) -> dict[str, Any]:
        """The Reconciliation Service API shape."""
        return {"id": self.id, "name": self.name, "description": self.description, "score": self.score,
                "match": self.match, "type": self.type}


def _year(value: str | None) -> str | None:
    if not value:
        return None
    v = value.lstrip("+")
    return v[:4] if len(v) >= 4 and v[:4].isdigit() else None


def score_candidate(entity: Entity, cand: Candidate) -> None:
    """0-100: name (label 60 / alias 50 / alias-to-alias 40) + type (30 direct, 25 via subclass)
    + context (dates: +10 agreeing years, -20 a dissolution our entity does not have)."""
    name = 0
    notes = []
    for text, how in cand.matched_names:
        if text == entity.label and how == "label":
            s = 60
        elif text == entity.label or how == "label":
            s = 50
        else:
            s = 40
        name = max(name, s)
    notes.append(f"name {name}")
    kind = (30 if cand.direct else 25) if cand.compatible else 0
    notes.append(f"type {kind}")
    context = 0
    ours_in, theirs_in = _year(entity.inception), _year(cand.inception)
    ours_out, theirs_out = _year(entity.dissolution), _year(cand.dissolution)
    if ours_in and theirs_in and ours_in == theirs_in:
        context += 5
    if ours_out and theirs_out and ours_out == theirs_out:
        context += 5
    if theirs_out and not ours_out and any(c.endswith("#State") for c in entity.classes):
        context -= 20
    if ours_out and theirs_out and ours_out != theirs_out:
        context -= 20
    if context:
        notes.append(f"dates {context:+d}")
    cand.score = max(0, min(100, name + kind + context))
    cand.why = ", ".join(notes)


def find_candidates(endpoint: Endpoint | SnapshotEndpoint, entity: Entity,
                    compatible: list[str]) -> list[Candidate]:
    rows = endpoint.select(candidate_query(entity.names(), compatible))
    by_item: dict[str, Candidate] = {}
    types: dict[str, dict[str, str]] = {}
    for row in rows:
        item = row["item"]["value"]
        if not item.startswith(WD):
            continue
        cand = by_item.setdefault(item, Candidate(qid(item), ""))
        if "label" in row:
            cand.name = row["label"]["value"]
        if "description" in row:
            cand.description = row["description"]["value"]
        pair = (row["name"]["value"], row["how"]["value"])
        if pair not in cand.matched_names:
            cand.matched_names.append(pair)
        if "type" in row:
            t = row["type"]["value"]
            types.setdefault(item, {})[qid(t)] = row.get("typeLabel", {}).get("value", qid(t))
        if "compatible" in row and row["compatible"]["value"] not in cand.compatible:
            cand.compatible.append(row["compatible"]["value"])
        if "inception" in row:
            cand.inception = row["inception"]["value"]
        if "dissolution" in row:
            cand.dissolution = row["dissolution"]["value"]
    for item, cand in by_item.items():
        cand.type = [{"id": k, "name": v} for k, v in sorted(types.get(item, {}).items())]
        cand.direct = any(WD + t["id"] in compatible for t in cand.type)
        cand.compatible.sort()
        cand.matched_names.sort()
        if not cand.name:
            cand.name = cand.matched_names[0][0]
        score_candidate(entity, cand)
    return sorted(by_item.values(), key=lambda c: (-c.score, c.id))


@dataclass
class Outcome:
    entity: Entity
    status: str  # "linked", "kept", "ambiguous", "no-candidate", "type-mismatch", "below-threshold", "no-type-map"
    winner: Candidate | None = None
    candidates: list[Candidate] = field(default_factory=list)
    rejected: list[Candidate] = field(default_factory=list)
    reason: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"entity": self.entity.iri, "label": self.entity.label, "status": self.status,
                "reason": self.reason, "result": [c.api() for c in self.candidates],
                "rejected_on_type": [c.api() for c in self.rejected]}


MARGIN = 15


def decide(entity: Entity, cands: list[Candidate], min_score: int) -> Outcome:
    fitting = [c for c in cands if c.compatible]
    rejected = [c for c in cands if not c.compatible]
    if not cands:
        return Outcome(entity, "no-candidate", reason="no Wikidata item has this label or alias")
    if not fitting:
        listed = "; ".join(f"{c.id} {c.name!r} ({', '.join(t['name'] for t in c.type) or 'no type'})"
                           for c in rejected)
        return Outcome(entity, "type-mismatch", rejected=rejected,
                       reason=f"candidates by name, none of a compatible type: {listed}")
    best = fitting[0]
    above = [c for c in fitting if c.score >= min_score]
    if not above:
        return Outcome(entity, "below-threshold", candidates=fitting, rejected=rejected,
                       reason=f"best candidate {best.id} scores {best.score} < {min_score}")
    if len(above) > 1 and above[0].score - above[1].score < MARGIN:
        listed = ", ".join(f"{c.id} {c.name!r} ({c.score})" for c in above)
        return Outcome(entity, "ambiguous", candidates=fitting, rejected=rejected,
                       reason=f"ambiguous, needs review: {listed}")
    best.match = True
    return Outcome(entity, "linked", winner=best, candidates=fitting, rejected=rejected,
                   reason=f"{best.id} {best.name!r} score {best.score} ({best.why})")


# -- link records ---------------------------------------------------------------------------


@dataclass
class LinkReport:
    outcomes: list[Outcome]
    records: list[Record]
    changed: bool
    written: bool

    def to_dict(self) -> dict[str, Any]:
        return {"changed": self.changed, "written": self.written, "outcomes": [o.to_dict() for o in self.outcomes]}


def reconcile(project: Project, endpoint: Endpoint | SnapshotEndpoint, *, min_score: int = 80,
              dry_run: bool = False, links_path: Path | None = None) -> LinkReport:
    """Link every linkable entity that has no link yet; keep existing links and pending records.

    The links file is written only after every query succeeded, atomically, and only if it changes,
    so a second run with the same answers changes nothing.
    """
    path = links_path or project.root / LINKS_FILE
    existing = {r.subject: r for r in read_links(path)}
    type_map = load_type_map(project)
    records = dict(existing)
    outcomes = []
    for entity in project_entities(project):
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        old = existing.get(entity.iri)
        if old is not None and not old.pending:
            outcomes.append(Outcome(entity, "kept", reason=f"already linked to {qid(old.object)}"))
            continue
        if not compatible:
            outcome = Outcome(entity, "no-type-map",
                              reason="the type map (data/wikidata/type-map.tsv) has no Wikidata class for "
                                     f"{', '.join(c.rsplit('#', 1)[-1] for c in entity.classes)}")
        else:
            outcome = decide(entity, find_candidates(endpoint, entity, compatible), min_score)
        outcomes.append(outcome)
        if outcome.status == "linked" and outcome.winner is not None:
            w = outcome.winner
            records[entity.iri] = Record(
                entity.iri, entity.label, WD + w.id, w.name, SEMAPV + "LexicalMatching",
                f"{w.score / 100:.2f}", TOOL, tool_version(), today(), endpoint.description,
                f"exact English label/alias match and a compatible wdt:P31/wdt:P279* type: {outcome.reason}")
        elif old is None:
            records[entity.iri] = Record(
                entity.iri, entity.label, NO_TERM_FOUND, "", SEMAPV + "UnspecifiedMatching", None, TOOL,
                tool_version(), today(), endpoint.description, f"PENDING REVIEW: {outcome.reason}")
        # an existing pending record stays as it was: it may carry a curator's explanation
    text = render_links(records.values())
    changed = not path.exists() or path.read_text(encoding="utf-8") != text
    written = False
    if changed and not dry_run:
        with writer_lock(project):
            written = write_atomic(path, text)
    return LinkReport(outcomes, sorted(records.values(), key=lambda r: r.subject), changed, written)


# -- re-checking links ----------------------------------------------------------------------

@dataclass
class LinkCheck:
    record: Record
    problems: list[str]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def check_links(project: Project, endpoint: Endpoint | SnapshotEndpoint,
                links_path: Path | None = None) -> list[LinkCheck]:
    """For every link: the item exists, its type is still compatible, a label or alias still matches."""
    path = links_path or project.root / LINKS_FILE
    type_map = load_type_map(project)
    entities = {e.iri: e for e in project_entities(project)}
    results = []
    for rec in read_links(path):
        if rec.pending:
            continue
        problems = []
        entity = entities.get(rec.subject)
        if entity is None:
            results.append(LinkCheck(rec, [f"our entity <{rec.subject}> is no longer of a linkable class"]))
            continue
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        values = " ".join(f"wd:{qid(c)}" for c in compatible) or "wd:Q0"
        rows = endpoint.select(PREFIXES + f"""SELECT ?p ?label ?alias ?type ?compatible WHERE {{
  BIND (<{rec.object}> AS ?item)
  ?item ?p ?any .
  OPTIONAL {{ ?item rdfs:label ?label . FILTER (LANG(?label) = "en") }}
  OPTIONAL {{ ?item skos:altLabel ?alias . FILTER (LANG(?alias) = "en") }}
  OPTIONAL {{ ?item wdt:P31 ?type }}
  OPTIONAL {{ VALUES ?compatible {{ {values} }} ?item wdt:P31/wdt:P279* ?compatible . }}
}} LIMIT 2000""")
        if not rows:
            results.append(LinkCheck(rec, [f"{qid(rec.object)} does not exist (no statements; deleted or "
                                           "never created)"]))
            continue
        names = {r[k]["value"] for r in rows for k in ("label", "alias") if k in r}
        types = sorted({qid(r["type"]["value"]) for r in rows if "type" in r})
        if not any("compatible" in r for r in rows):
            problems.append(f"{qid(rec.object)} is no longer of a compatible type (P31: "
                            f"{', '.join(types) or 'none'}; expected an instance of "
                            f"{', '.join(qid(c) for c in compatible)})")
        if not names & set(entity.names()):
            problems.append(f"no English label or alias of {qid(rec.object)} ({', '.join(sorted(names)) or 'none'}) "
                            f"matches ours ({', '.join(entity.names())})")
        results.append(LinkCheck(rec, problems, f"P31 {', '.join(types)}"))
    return results


# -- SSSOM export ---------------------------------------------------------------------------


def outcome_summary(report: LinkReport) -> dict[str, int]:
    counts: dict[str, int] = {}
    for o in report.outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return counts


def fail_if_problems(checks: list[LinkCheck]) -> None:
    bad = [c for c in checks if not c.ok]
    if bad:
        raise CheckFailed(f"{len(bad)} of {len(checks)} Wikidata link(s) failed the re-check")
