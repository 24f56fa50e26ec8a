"""Link records: skos:exactMatch plus an SSSOM-style record per entity (a link, or a pending-review
record with the scored candidates found), and the curators' rejections; written deterministically and
atomically, read back, exported as SSSOM TSV.

One main record per entity says where it stands: linked (`sssom:object_id wd:Q...`, and the
`skos:exactMatch` triple beside it) or pending (`sssom:NoTermFound`). Its candidates and rejections are
mapping records of their own, attached with `dcterms:hasPart`, so an SSSOM export lists them as rows a
curator can flip (a rejection carries `sssom:predicate_modifier "Not"`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import InputError
from ..rdf.namespaces import ID
from .common import MAPPING_BASE, NO_TERM_FOUND, RDFS, SEMAPV, SKOS, SSSOM, TOOL, WD, XSD, qid

DCT = "http://purl.org/dc/terms/"
MANUAL = SEMAPV + "ManualMappingCuration"
LEXICAL = SEMAPV + "LexicalMatching"
UNSPECIFIED = SEMAPV + "UnspecifiedMatching"


@dataclass(frozen=True)
class Record:
    subject: str
    subject_label: str
    object: str  # a wd: IRI, or NO_TERM_FOUND for a pending-review record
    object_label: str = ""
    justification: str = LEXICAL
    confidence: str | None = None
    tool: str = TOOL
    tool_version: str = ""
    date: str = ""
    source_version: str = ""
    comment: str = ""
    see_also: str = ""
    author_id: str = ""
    author_label: str = ""
    reviewer_id: str = ""
    match_string: str = ""
    subject_match_field: str = ""  # an IRI: rdfs:label or skos:altLabel
    object_match_field: str = ""
    similarity_score: str | None = None
    predicate_modifier: str = ""  # "Not" for a curator's rejection
    note: str = ""  # a curator's own words (rdfs:comment, and the start of sssom:comment); never rewritten
    # `comment` is the tool's latest reason; sssom:comment holds the note followed by it
    candidates: tuple[Record, ...] = field(default=(), compare=True)
    rejected: tuple[Record, ...] = field(default=(), compare=True)

    @property
    def pending(self) -> bool:
        return self.object == NO_TERM_FOUND

    @property
    def manual(self) -> bool:
        return self.justification == MANUAL

    @property
    def slug(self) -> str:
        return self.subject[len(ID):] if self.subject.startswith(ID) else self.subject

    @property
    def node(self) -> str:
        return MAPPING_BASE + self.slug

    def part_node(self, role: str) -> str:
        return f"{self.node}/{role}/{qid(self.object)}"

    def rejects(self, item: str) -> bool:
        return any(r.object == item for r in self.rejected)


def _esc(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


def _term(iri: str) -> str:
    for prefix, ns in (("wd", WD), ("semapv", SEMAPV), ("skos", SKOS), ("rdfs", RDFS), ("sssom", SSSOM)):
        if iri.startswith(ns) and iri[len(ns):].replace("_", "").isalnum():
            return f"{prefix}:{iri[len(ns):]}"
    return f"<{iri}>"


LINKS_HEADER = """# Links from dispute-kg entities to Wikidata items: skos:exactMatch (never owl:sameAs), each with
# an SSSOM-style mapping record (https://w3id.org/sssom/). Records whose object is sssom:NoTermFound
# are pending review: the entity stays unlinked until a verified item is found; their scored candidates
# and the curators' rejections (sssom:predicate_modifier "Not") are records of their own (dcterms:hasPart).
# Written by `dispute-kg link`; curate with `dispute-kg link accept|reject|import`, then `dispute-kg link --check`.
"""


def _iri(v: str) -> str:
    return f"<{v}>"


def _double(v: object) -> str:
    return f'"{float(v):.2f}"^^xsd:double'


# The optional slots of a record between its object and its tool, in the order they are written: the
# attribute, its SSSOM property and how its value is written. A slot left empty (or None) is left out.
_OPTIONAL = (("object_label", "object_label", _esc), ("justification", "mapping_justification", _term),
             ("confidence", "confidence", _double), ("author_id", "author_id", _iri),
             ("author_label", "author_label", _esc), ("reviewer_id", "reviewer_id", _iri),
             ("match_string", "match_string", _esc), ("subject_match_field", "subject_match_field", _term),
             ("object_match_field", "object_match_field", _term), ("similarity_score", "similarity_score", _double))


def _body(r: Record, node: str, label: str) -> str:
    target = "sssom:NoTermFound" if r.pending else f"wd:{qid(r.object)}"
    lines = [f"<{node}> a sssom:Mapping",
             f"rdfs:label {_esc(label)}@en",
             f"sssom:subject_id <{r.subject}>",
             f"sssom:subject_label {_esc(r.subject_label)}",
             "sssom:predicate_id skos:exactMatch"]
    if r.predicate_modifier:
        lines.append(f"sssom:predicate_modifier {_esc(r.predicate_modifier)}")
    lines.append(f"sssom:object_id {target}")
    for attr, prop, write in _OPTIONAL:
        value = getattr(r, attr)
        if value is not None and value != "":
            lines.append(f"sssom:{prop} {write(value)}")
    if r.similarity_score is not None:
        lines.append('sssom:similarity_measure "rapidfuzz ratio of case- and diacritic-folded names"')
    lines.append(f"sssom:mapping_tool {_esc(r.tool)}")
    if r.tool_version:
        lines.append(f"sssom:mapping_tool_version {_esc(r.tool_version)}")
    if r.date:
        lines.append(f'sssom:mapping_date "{r.date}"^^xsd:date')
    lines.append("sssom:object_source wd:Q2013")  # the item for Wikidata itself
    if r.source_version:
        lines.append(f"sssom:object_source_version {_esc(r.source_version)}")
    if r.see_also:
        lines.append(f"sssom:see_also {_esc(r.see_also)}")
    said = " ".join(x for x in (r.note, r.comment) if x)  # what a reader of sssom:comment needs: both
    if said:
        lines.append(f"sssom:comment {_esc(said)}")
    if r.note:
        lines.append(f"rdfs:comment {_esc(r.note)}")
    for part in (*r.candidates, *r.rejected):
        role = "rejected" if part.predicate_modifier else "candidate"
        lines.append(f"dcterms:hasPart <{part.part_node(role)}>")
    return " ;\n    ".join(lines) + " ."


def render_links(records: Iterable[Record]) -> str:
    """A deterministic Turtle text: the same records always give the same bytes."""
    out = [LINKS_HEADER,
           f"@prefix dcterms: <{DCT}> .", f"@prefix rdfs: <{RDFS}> .", f"@prefix skos: <{SKOS}> .",
           f"@prefix sssom: <{SSSOM}> .", f"@prefix semapv: <{SEMAPV}> .", f"@prefix wd: <{WD}> .",
           f"@prefix xsd: <{XSD}> .", ""]
    for r in sorted(records, key=lambda r: r.subject):
        if not r.pending:
            out.append(f"<{r.subject}> skos:exactMatch wd:{qid(r.object)} .")
            out.append("")
        label = (f"{r.subject_label} exactMatch Wikidata {qid(r.object)}" if not r.pending
                 else f"{r.subject_label}: Wikidata link pending review")
        out.append(_body(r, r.node, label))
        out.append("")
        for c in sorted(r.candidates, key=lambda c: (-float(c.confidence or 0), c.object)):
            out.append(_body(c, c.part_node("candidate"),
                             f"{r.subject_label}: candidate Wikidata {qid(c.object)} (not linked)"))
            out.append("")
        for c in sorted(r.rejected, key=lambda c: c.object):
            out.append(_body(c, c.part_node("rejected"),
                             f"{r.subject_label} is not Wikidata {qid(c.object)} (rejected by a curator)"))
            out.append("")
    return "\n".join(out)


_READ = f"""PREFIX sssom: <{SSSOM}> PREFIX dcterms: <{DCT}> PREFIX rdfs: <{RDFS}>
SELECT * WHERE {{
  ?m a sssom:Mapping ; sssom:subject_id ?s ; sssom:object_id ?o .
  OPTIONAL {{ ?whole dcterms:hasPart ?m }}
  OPTIONAL {{ ?m sssom:subject_label ?sl }} OPTIONAL {{ ?m sssom:object_label ?ol }}
  OPTIONAL {{ ?m sssom:mapping_justification ?j }} OPTIONAL {{ ?m sssom:confidence ?c }}
  OPTIONAL {{ ?m sssom:mapping_tool ?t }} OPTIONAL {{ ?m sssom:mapping_tool_version ?tv }}
  OPTIONAL {{ ?m sssom:mapping_date ?d }} OPTIONAL {{ ?m sssom:object_source_version ?sv }}
  OPTIONAL {{ ?m sssom:comment ?cm }} OPTIONAL {{ ?m sssom:see_also ?sa }}
  OPTIONAL {{ ?m sssom:author_id ?au }} OPTIONAL {{ ?m sssom:author_label ?al }}
  OPTIONAL {{ ?m sssom:reviewer_id ?rv }} OPTIONAL {{ ?m sssom:match_string ?ms }}
  OPTIONAL {{ ?m sssom:subject_match_field ?smf }} OPTIONAL {{ ?m sssom:object_match_field ?omf }}
  OPTIONAL {{ ?m sssom:similarity_score ?ss }} OPTIONAL {{ ?m sssom:predicate_modifier ?pm }}
  OPTIONAL {{ ?m rdfs:comment ?note }}
}} ORDER BY ?s ?m"""


def read_links(path: Path) -> list[Record]:
    """The main record of every entity, with its candidates and rejections attached."""
    if not path.exists():
        return []
    from ..rdf.files import read_quads

    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in read_quads(path, None))

    def v(row: Any, name: str, default: str = "") -> str:
        term = row[name]
        return term.value if term is not None else default

    def reason(row: Any) -> str:
        """sssom:comment less the curator's note it starts with (kept apart in rdfs:comment)."""
        said, note = v(row, "cm"), v(row, "note")
        if note and said.startswith(note):
            return said[len(note):].lstrip()
        return said

    mains: dict[str, Record] = {}
    parts: dict[str, list[tuple[str, Record]]] = {}
    for row in store.query(_READ):
        rec = Record(row["s"].value, v(row, "sl"), row["o"].value, v(row, "ol"), v(row, "j", LEXICAL),
                     row["c"].value if row["c"] else None, v(row, "t", TOOL), v(row, "tv"), v(row, "d"),
                     v(row, "sv"), reason(row), v(row, "sa"), v(row, "au"), v(row, "al"), v(row, "rv"),
                     v(row, "ms"), v(row, "smf"), v(row, "omf"), row["ss"].value if row["ss"] else None,
                     v(row, "pm"), v(row, "note"))
        if row["whole"] is not None:
            parts.setdefault(row["whole"].value, []).append((row["m"].value, rec))
            continue
        if rec.subject in mains:
            raise InputError(f"more than one mapping record for <{rec.subject}>", path=str(path))
        if rec.predicate_modifier:
            raise InputError(f"the main mapping record of <{rec.subject}> is negated; a rejection must be "
                             "a part (dcterms:hasPart) of the entity's record", path=str(path))
        mains[rec.subject] = rec
    records = []
    for subject in sorted(mains):
        rec = mains[subject]
        mine = parts.pop(rec.node, [])
        records.append(replace(rec, candidates=tuple(p for _, p in mine if not p.predicate_modifier),
                               rejected=tuple(p for _, p in mine if p.predicate_modifier)))
    if parts:
        whole = sorted(parts)[0]
        raise InputError(f"<{whole}> has parts but is not a mapping record of its own", path=str(path))
    return records


def write_atomic(path: Path, text: str) -> bool:
    """Replace `path` with `text` in one step; do nothing when the bytes would not change."""
    data = text.encode("utf-8")
    if path.exists() and path.read_bytes() == data:
        return False
    from ..rdf.durable import write_atomic as write

    write(path, data, point="links")
    return True


def today() -> str:
    return time.strftime("%Y-%m-%d", time.gmtime())
