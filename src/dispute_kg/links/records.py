"""Link records: skos:exactMatch plus an SSSOM-style record per link (or a pending-review record),
written deterministically and atomically, read back, and exported as SSSOM TSV."""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import InputError
from ..rdf.namespaces import ID
from .common import MAPPING_BASE, NO_TERM_FOUND, RDFS, SEMAPV, SKOS, SSSOM, TOOL, WD, XSD, qid


@dataclass(frozen=True)
class Record:
    subject: str
    subject_label: str
    object: str  # a wd: IRI, or NO_TERM_FOUND for a pending-review record
    object_label: str = ""
    justification: str = SEMAPV + "LexicalMatching"
    confidence: str | None = None
    tool: str = TOOL
    tool_version: str = ""
    date: str = ""
    source_version: str = ""
    comment: str = ""
    see_also: str = ""

    @property
    def pending(self) -> bool:
        return self.object == NO_TERM_FOUND

    @property
    def node(self) -> str:
        return MAPPING_BASE + (self.subject[len(ID):] if self.subject.startswith(ID) else self.subject)


def _esc(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


LINKS_HEADER = """# Links from dispute-kg entities to Wikidata items: skos:exactMatch (never owl:sameAs), each with
# an SSSOM-style mapping record (https://w3id.org/sssom/). Records whose object is sssom:NoTermFound
# are pending review: the entity stays unlinked until a verified item is found.
# Written by `dispute-kg link`; edit by hand only to curate, then run `dispute-kg link --check`.
"""


def render_links(records: Iterable[Record]) -> str:
    """A deterministic Turtle text: the same records always give the same bytes."""
    out = [LINKS_HEADER,
           f"@prefix rdfs: <{RDFS}> .", f"@prefix skos: <{SKOS}> .", f"@prefix sssom: <{SSSOM}> .",
           f"@prefix semapv: <{SEMAPV}> .", f"@prefix wd: <{WD}> .", f"@prefix xsd: <{XSD}> .", ""]
    for r in sorted(records, key=lambda r: r.subject):
        if not r.pending:
            out.append(f"<{r.subject}> skos:exactMatch wd:{qid(r.object)} .")
            out.append("")
        target = f"wd:{qid(r.object)}" if not r.pending else "sssom:NoTermFound"
        label = (f"{r.subject_label} exactMatch Wikidata {qid(r.object)}" if not r.pending
                 else f"{r.subject_label}: Wikidata link pending review")
        lines = [f"<{r.node}> a sssom:Mapping",
                 f"rdfs:label {_esc(label)}@en",
                 f"sssom:subject_id <{r.subject}>",
                 f"sssom:subject_label {_esc(r.subject_label)}",
                 "sssom:predicate_id skos:exactMatch",
                 f"sssom:object_id {target}"]
        if r.object_label:
            lines.append(f"sssom:object_label {_esc(r.object_label)}")
        lines.append(f"sssom:mapping_justification semapv:{r.justification[len(SEMAPV):]}"
                     if r.justification.startswith(SEMAPV) else f"sssom:mapping_justification <{r.justification}>")
        if r.confidence is not None:
            lines.append(f'sssom:confidence "{float(r.confidence):.2f}"^^xsd:double')
        lines.append(f"sssom:mapping_tool {_esc(r.tool)}")
        if r.tool_version:
            lines.append(f"sssom:mapping_tool_version {_esc(r.tool_version)}")
        if r.date:
            lines.append(f'sssom:mapping_date "{r.date}"^^xsd:date')
        lines.append(f"sssom:object_source <{WD}>")
        if r.source_version:
            lines.append(f"sssom:object_source_version {_esc(r.source_version)}")
        if r.see_also:
            lines.append(f"sssom:see_also {_esc(r.see_also)}")
        if r.comment:
            lines.append(f"sssom:comment {_esc(r.comment)}")
        out.append(" ;\n    ".join(lines) + " .")
        out.append("")
    return "\n".join(out)


def read_links(path: Path) -> list[Record]:
    if not path.exists():
        return []
    from ..rdf.files import read_quads

    store = ox.Store()
    store.extend(ox.Quad(q.subject, q.predicate, q.object, ox.DefaultGraph()) for q in read_quads(path, None))
    rows = store.query(f"""PREFIX sssom: <{SSSOM}>
        SELECT * WHERE {{
          ?m a sssom:Mapping ; sssom:subject_id ?s ; sssom:object_id ?o .
          OPTIONAL {{ ?m sssom:subject_label ?sl }} OPTIONAL {{ ?m sssom:object_label ?ol }}
          OPTIONAL {{ ?m sssom:mapping_justification ?j }} OPTIONAL {{ ?m sssom:confidence ?c }}
          OPTIONAL {{ ?m sssom:mapping_tool ?t }} OPTIONAL {{ ?m sssom:mapping_tool_version ?tv }}
          OPTIONAL {{ ?m sssom:mapping_date ?d }} OPTIONAL {{ ?m sssom:object_source_version ?sv }}
          OPTIONAL {{ ?m sssom:comment ?cm }} OPTIONAL {{ ?m sssom:see_also ?sa }}
        }} ORDER BY ?s""")

    def v(row: Any, name: str, default: str = "") -> str:
        term = row[name]
        return term.value if term is not None else default

    records = []
    seen: set[str] = set()
    for row in rows:
        subject = row["s"].value
        if subject in seen:
            raise InputError(f"more than one mapping record for <{subject}>", path=str(path))
        seen.add(subject)
        records.append(Record(subject, v(row, "sl"), row["o"].value, v(row, "ol"),
                              v(row, "j", SEMAPV + "LexicalMatching"), row["c"].value if row["c"] else None,
                              v(row, "t", TOOL), v(row, "tv"), v(row, "d"), v(row, "sv"), v(row, "cm"),
                              v(row, "sa")))
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



SSSOM_COLUMNS = ["subject_id", "subject_label", "predicate_id", "object_id", "object_label",
                 "mapping_justification", "confidence", "mapping_tool", "mapping_tool_version",
                 "mapping_date", "object_source", "object_source_version", "see_also", "comment"]


def _curie(iri: str) -> str:
    for prefix, ns in (("dkid", ID), ("wikidata", WD), ("semapv", SEMAPV), ("skos", SKOS), ("sssom", SSSOM)):
        if iri.startswith(ns):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def export_sssom(records: Iterable[Record], *, include_pending: bool = True) -> str:
    lines = ["# curie_map:", f"#   dkid: {ID}", f"#   wikidata: {WD}", f"#   semapv: {SEMAPV}",
             f"#   skos: {SKOS}", f"#   sssom: {SSSOM}",
             "# mapping_set_id: https://w3id.org/dispute-kg/mappings/wikidata.sssom.tsv",
             "# license: https://creativecommons.org/licenses/by/4.0/",
             "# subject_source: https://w3id.org/dispute-kg/id/",
             f"# object_source: {WD}", "\t".join(SSSOM_COLUMNS)]
    for r in sorted(records, key=lambda r: r.subject):
        if r.pending and not include_pending:
            continue
        confidence = f"{float(r.confidence):.2f}" if r.confidence else ""
        row = [_curie(r.subject), r.subject_label, "skos:exactMatch", _curie(r.object), r.object_label,
               _curie(r.justification), confidence, r.tool, r.tool_version, r.date, "wikidata:",
               r.source_version, r.see_also, r.comment]
        lines.append("\t".join(c.replace("\t", " ").replace("\n", " ") for c in row))
    return "\n".join(lines) + "\n"


# -- the snapshot ---------------------------------------------------------------------------
