"""The check of every link, and a curator's decisions: accept, reject, import from SSSOM.

`check_links` starts from the graph, not from the records: every `skos:exactMatch` to Wikidata in any
data file must have its record, and every linked record its triple; then each item is verified
against the snapshot or the endpoint (it exists there, its type fits our class, a label or alias
agrees with ours). `accept` runs the very same verification before it writes, so a link a curator
makes is held to the rule `link --check` enforces.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import CheckFailed, InputError
from ..project.folder import Project
from ..project.state import writer_lock
from ..rdf.namespaces import ID
from .client import SnapshotEndpoint
from .common import EXACT_MATCH, LINKS_FILE, NO_TERM_FOUND, TOOL, WD, qid, tool_version
from .names import NAME_AGREES, similarity
from .reconcile import AnyEndpoint, Entity, describe, load_type_map, project_entities, save_links
from .records import MANUAL, UNSPECIFIED, Record, read_links, today

QID = re.compile(r"Q[1-9][0-9]*\Z")


@dataclass
class LinkCheck:
    subject: str
    label: str
    item: str
    problems: list[str]
    detail: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems


def graph_links(project: Project) -> list[tuple[str, str, str]]:
    """(entity, item, file) for every skos:exactMatch to a Wikidata item in the project's data."""
    from ..rdf.files import read_quads

    out = []
    for path in project.data_files:
        rel = project.relpath(path)
        for q in read_quads(path, None, display=rel):
            if (q.predicate.value == EXACT_MATCH and isinstance(q.object, ox.NamedNode)
                    and q.object.value.startswith(WD)):
                out.append((q.subject.value, q.object.value, rel))
    return sorted(set(out))


def verify_item(entity: Entity, item: str, endpoint: AnyEndpoint, compatible: list[str]) -> tuple[list[str], str]:
    """The problems of linking `entity` to `item` (empty when it may be linked), and a detail line."""
    described = describe(endpoint, [item], compatible,
                         {n.lang for n in entity.names_by_lang if n.lang} | {"en", "ja", "ru"})[item]
    if not described.exists:
        if isinstance(endpoint, SnapshotEndpoint):
            return [f"{qid(item)} is not in the offline snapshot, so it cannot be verified offline; check online "
                    "or run `dispute-kg wikidata refresh`"], ""
        return [f"{qid(item)} has no statements at {endpoint.description} (deleted, merged or never created)"], ""
    problems = []
    types = sorted(qid(t) for t in described.types)
    if not compatible:
        problems.append("the type map has no Wikidata class for this entity's class")
    elif not described.compatible:
        problems.append(f"{qid(item)} is not of a compatible type (P31: {', '.join(types) or 'none'}; expected an "
                        f"instance of {', '.join(qid(c) for c in compatible)})")
    theirs = [n.text for n in described.names]
    sim, ours_name, their_name = similarity(entity.names(), theirs)
    if sim < NAME_AGREES:
        problems.append(f"no label or alias of {qid(item)} ({', '.join(sorted(set(theirs))[:6]) or 'none'}) agrees "
                        f"with ours ({', '.join(entity.names())})")
    return problems, f"P31 {', '.join(types)}; {ours_name!r} ~ {their_name!r} {sim:.0f}%"


def check_links(project: Project, endpoint: AnyEndpoint, links_path: Path | None = None) -> list[LinkCheck]:
    path = links_path or project.root / LINKS_FILE
    records = {r.subject: r for r in read_links(path)}
    type_map = load_type_map(project)
    entities = {e.iri: e for e in project_entities(project)}
    pairs: dict[tuple[str, str], list[str]] = {}
    triples = {(s, o) for s, o, _ in graph_links(project)}
    for s, o, rel in graph_links(project):
        problems = pairs.setdefault((s, o), [])
        rec = records.get(s)
        if rec is None:
            problems.append(f"skos:exactMatch in {rel} has no mapping record")
        elif rec.pending:
            problems.append(f"skos:exactMatch in {rel}, but the mapping record says pending review")
        elif rec.object != o:
            problems.append(f"skos:exactMatch in {rel}, but the mapping record links {qid(rec.object)}")
        if rec is not None and rec.rejects(o):
            problems.append(f"a curator rejected {qid(o)} for this entity")
    for rec in records.values():
        if not rec.pending and (rec.subject, rec.object) not in triples:
            pairs.setdefault((rec.subject, rec.object), []).append(
                "the mapping record links it but the graph has no skos:exactMatch triple")
    results = []
    for (s, o), problems in sorted(pairs.items()):
        entity = entities.get(s)
        label = entity.label if entity else (records[s].subject_label if s in records else s)
        detail = ""
        if entity is None:
            problems.append(f"<{s}> is not an entity of a linkable class in our data")
        else:
            compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
            more, detail = verify_item(entity, o, endpoint, compatible)
            problems.extend(more)
        results.append(LinkCheck(s, label, o, problems, detail))
    return results


# -- decisions ------------------------------------------------------------------------------

def author_iri(author: str | None) -> str:
    """The curator as an IRI (an ORCID, a mailto: or any http(s) IRI; `orcid:` CURIEs are expanded)."""
    if not author:
        raise InputError("say who decides: --author IRI (an ORCID such as orcid:0000-0002-1825-0097, or a "
                         "mailto: or https: IRI), or set DISPUTE_KG_AUTHOR")
    if author.startswith("orcid:"):
        author = "https://orcid.org/" + author[len("orcid:"):]
    if not re.match(r"(https?://[^\s<>\"]+|mailto:[^\s<>\"@]+@[^\s<>\"]+)\Z", author):
        raise InputError(f"--author {author!r} is not an IRI (an ORCID, a mailto: or an https: IRI)")
    return author


def entity_iri(ref: str) -> str:
    """The IRI an entity reference names: an IRI as given, or a path under id/ (`state/japan`)."""
    return ref if ref.startswith(("http://", "https://")) else ID + ref.strip("/")


def resolve_entity(entities: dict[str, Entity], ref: str) -> Entity:
    iri = entity_iri(ref)
    if iri not in entities:
        close = sorted(e.slug for e in entities.values() if ref.rsplit("/", 1)[-1] in e.slug)[:5]
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise InputError(f"no linkable entity {ref!r} in the project (give a path such as territory/iturup){hint}")
    return entities[iri]


def item_iri(ref: str) -> str:
    value = ref[len(WD):] if ref.startswith(WD) else ref.removeprefix("wd:")
    if not QID.match(value):
        raise InputError(f"{ref!r} is not a Wikidata item identifier (Q followed by digits)")
    return WD + value


@dataclass
class Decision:
    entity: str
    item: str
    reject: bool
    note: str = ""
    author: str = ""  # who decided, when it differs from the caller's author (a row of an imported file)


AUTHOR_ENV = "DISPUTE_KG_AUTHOR"


def decide(project: Project, decisions: list[Decision], author: str | None,
           open_endpoint: Callable[[], AnyEndpoint], *, author_label: str = "", dry_run: bool = False) -> list[str]:
    """A curator's decisions, as `link accept|reject|import` and the server's /api/links routes make them.

    The author is `author`, else $DISPUTE_KG_AUTHOR; a single decision is refused without one before
    anything is read (an imported row may name its own). `open_endpoint` is called only when an accept
    needs an item verified, so a rejection never waits for an endpoint."""
    who = author or os.environ.get(AUTHOR_ENV)
    if who or len(decisions) == 1:
        who = author_iri(who)  # refuse a missing or malformed author before anything is asked
    endpoint = open_endpoint() if any(not d.reject for d in decisions) else None
    return apply_decisions(project, decisions, who, endpoint, author_label=author_label, dry_run=dry_run)


def apply_decisions(project: Project, decisions: list[Decision], author: str | None, endpoint: AnyEndpoint | None,
                    *, author_label: str = "", links_path: Path | None = None, dry_run: bool = False) -> list[str]:
    """Apply accepts and rejects together: every accept is verified first, and if any fails nothing is
    written (exit 1). Returns one line per decision."""

    with writer_lock(project):  # read, decide and write under the project's one writer lock
        return _apply(project, decisions, author, endpoint, author_label, links_path or project.root / LINKS_FILE,
                      dry_run)


def _apply(project: Project, decisions: list[Decision], author: str | None, endpoint: AnyEndpoint | None,
           author_label: str, path: Path, dry_run: bool) -> list[str]:
    records = {r.subject: r for r in read_links(path)}
    entities = {e.iri: e for e in project_entities(project)}
    type_map = load_type_map(project)
    lines: list[str] = []
    failures: list[str] = []
    when = today()
    for d in decisions:
        entity = resolve_entity(entities, d.entity)
        item = item_iri(d.item)
        old = records.get(entity.iri) or Record(entity.iri, entity.label, NO_TERM_FOUND, justification=UNSPECIFIED)
        if (old.rejects(item) if d.reject else (old.object == item and old.manual)):
            lines.append(f"unchanged {entity.slug} -> {qid(item)} (already {'rejected' if d.reject else 'accepted'})")
            continue
        who = d.author or author_iri(author)
        if d.reject:
            rejection = Record(entity.iri, entity.label, item, "", MANUAL, None, TOOL, tool_version(), when,
                               old.source_version, f"rejected by a curator{': ' + d.note if d.note else ''}",
                               author_id=who, author_label=author_label, predicate_modifier="Not")
            rejected = (*(r for r in old.rejected if r.object != item), rejection)
            candidates = tuple(c for c in old.candidates if c.object != item)
            if old.object == item:
                old = replace(old, object=NO_TERM_FOUND, object_label="", justification=UNSPECIFIED,
                              confidence=None, date=when, author_id="", author_label="", match_string="",
                              subject_match_field="", object_match_field="", similarity_score=None,
                              comment=f"PENDING REVIEW: the link to {qid(item)} was rejected by a curator")
            records[entity.iri] = replace(old, rejected=rejected, candidates=candidates)
            lines.append(f"rejected {entity.slug} -> {qid(item)}")
            continue
        if endpoint is None:
            raise InputError("accepting a link needs the snapshot or an endpoint to verify the item")
        compatible = sorted({c for cls in entity.classes for c in type_map.get(cls, [])})
        problems, _detail = verify_item(entity, item, endpoint, compatible)
        if problems:
            failures.append(f"{entity.slug} -> {qid(item)}: {'; '.join(problems)}")
            continue
        described = describe(endpoint, [item], compatible)[item]
        records[entity.iri] = replace(
            old, subject_label=entity.label, object=item, object_label=described.display_name(),
            justification=MANUAL, confidence="1.00", tool=TOOL, tool_version=tool_version(), date=when,
            source_version=endpoint.description, author_id=who, author_label=author_label,
            comment=f"accepted by a curator{': ' + d.note if d.note else ''}", match_string="",
            subject_match_field="", object_match_field="", similarity_score=None, candidates=(),
            rejected=tuple(r for r in old.rejected if r.object != item))
        lines.append(f"accepted {entity.slug} -> {qid(item)} {described.display_name()!r}")
    if failures:
        raise CheckFailed("refused, nothing written: " + " | ".join(failures))
    save_links(path, records.values(), dry_run=dry_run)
    return lines


def link_state(project: Project, entity: str, links_path: Path | None = None) -> dict[str, Any] | None:
    """Where `entity` (an IRI or a path under id/) stands in the link records, as plain data: its link,
    its scored candidates and its rejections; None when it has no record."""
    iri = entity_iri(entity)
    record = _records_by_subject(links_path or project.root / LINKS_FILE).get(iri)
    if record is None:
        return None

    def one(r: Record) -> dict[str, Any]:
        return {"qid": qid(r.object), "item": r.object, "label": r.object_label,
                "justification": r.justification, "confidence": _number(r.confidence),
                "score": _number(r.similarity_score), "date": r.date, "author": r.author_id,
                "author_label": r.author_label, "comment": r.comment, "note": r.note}

    return {"entity": record.subject, "label": record.subject_label, "pending": record.pending,
            "manual": record.manual, "link": None if record.pending else one(record),
            "reason": record.comment if record.pending else "",
            "candidates": [one(c) for c in sorted(record.candidates, key=lambda c: (-(_number(c.confidence) or 0),
                                                                                   c.object))],
            "rejected": [one(r) for r in record.rejected]}


_PARSED: dict[str, tuple[tuple[int, int, int], dict[str, Record]]] = {}


def _records_by_subject(path: Path) -> dict[str, Record]:
    """The records of `path`, parsed once per version of the file: every entity page asks, and the one
    atomic write replaces the file (a new inode), so (inode, size, mtime) names a version."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return {}
    key = (st.st_ino, st.st_size, st.st_mtime_ns)
    cached = _PARSED.get(str(path))
    if cached is None or cached[0] != key:
        cached = (key, {r.subject: r for r in read_links(path)})
        _PARSED[str(path)] = cached
    return cached[1]


def _number(value: str | None) -> float | None:
    return float(value) if value not in (None, "") else None
