"""SSSOM TSV out and in: the export a mapping tool accepts (`sssom validate` passes), and the import
that brings a curator's decisions back (rows justified by semapv:ManualMappingCuration: accepted
mappings, and rejections with `predicate_modifier` Not).

Every entity reference is a CURIE from the one `curie_map` below, `object_source` included.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..rdf.namespaces import ID
from .common import NO_TERM_FOUND, RDFS, SEMAPV, SKOS, SSSOM, WD, tool_version
from .records import MANUAL, Record

CURIE_MAP = {"dkid": ID, "wikidata": WD, "semapv": SEMAPV, "skos": SKOS, "sssom": SSSOM, "rdfs": RDFS,
             "dkdoc": "https://w3id.org/dispute-kg/", "orcid": "https://orcid.org/"}
# Wikidata's own item (Q2013, "Wikidata"), so the source is a CURIE like every other entity reference
OBJECT_SOURCE = WD + "Q2013"
SUBJECT_SOURCE = "dkdoc:data/assertions"
MAPPING_SET_ID = "https://w3id.org/dispute-kg/mappings/wikidata.sssom.tsv"
COLUMNS = ["subject_id", "subject_label", "predicate_id", "predicate_modifier", "object_id", "object_label",
           "mapping_justification", "confidence", "author_id", "author_label", "reviewer_id", "match_string",
           "subject_match_field", "object_match_field", "similarity_score", "similarity_measure", "mapping_tool",
           "mapping_tool_version", "mapping_date", "object_source", "object_source_version", "see_also", "comment"]


def curie(iri: str) -> str:
    for prefix, ns in CURIE_MAP.items():
        if iri.startswith(ns) and len(iri) > len(ns) and prefix != "dkdoc":
            return f"{prefix}:{iri[len(ns):]}"
    if iri.startswith(CURIE_MAP["dkdoc"]):
        return "dkdoc:" + iri[len(CURIE_MAP["dkdoc"]):]
    return iri


def expand(value: str, prefixes: dict[str, str], *, what: str, line: int, path: str) -> str:
    """A CURIE (or a full IRI) from the file, as an IRI; an unknown prefix is an error, not a guess."""
    if value.startswith(("http://", "https://")):
        return value
    prefix, sep, local = value.partition(":")
    if not sep or prefix not in prefixes:
        raise InputError(f"{what} {value!r} is not a CURIE with a prefix of the curie_map", path=path, line=line)
    return prefixes[prefix] + local


def see_also_iri(value: str) -> str:
    """A record's see_also as an IRI: repository paths are published under the project's namespace."""
    return value if value.startswith(("http://", "https://")) else CURIE_MAP["dkdoc"] + value.lstrip("/")


def _rows(r: Record, version: str) -> list[dict[str, str]]:
    fields = {
        "subject_id": curie(r.subject), "subject_label": r.subject_label, "predicate_id": "skos:exactMatch",
        "predicate_modifier": r.predicate_modifier, "object_id": curie(r.object), "object_label": r.object_label,
        "mapping_justification": curie(r.justification),
        "confidence": f"{float(r.confidence):.2f}" if r.confidence else "",
        "author_id": curie(r.author_id) if r.author_id else "", "author_label": r.author_label,
        "reviewer_id": curie(r.reviewer_id) if r.reviewer_id else "", "match_string": r.match_string,
        "subject_match_field": curie(r.subject_match_field) if r.subject_match_field else "",
        "object_match_field": curie(r.object_match_field) if r.object_match_field else "",
        "similarity_score": f"{float(r.similarity_score):.2f}" if r.similarity_score else "",
        "similarity_measure": "rapidfuzz ratio of case- and diacritic-folded names" if r.similarity_score else "",
        "mapping_tool": r.tool, "mapping_tool_version": r.tool_version or version, "mapping_date": r.date,
        "object_source": curie(OBJECT_SOURCE), "object_source_version": r.source_version,
        "see_also": curie(see_also_iri(r.see_also)) if r.see_also else "",
        "comment": " ".join(x for x in (r.note, r.comment) if x),
    }
    return [fields]


def export_sssom(records: Iterable[Record], *, include_pending: bool = True, version: str | None = None) -> str:
    """SSSOM TSV with its YAML metadata block: links, pending records, candidates and rejections."""
    version = version or tool_version()
    rows: list[dict[str, str]] = []
    for r in sorted(records, key=lambda r: r.subject):
        if r.pending and not include_pending:
            continue
        rows += _rows(r, version)
        if include_pending:
            for c in (*r.candidates, *r.rejected):
                rows += _rows(c, version)
    used = [c for c in COLUMNS if any(row[c] for row in rows)] or COLUMNS[:5]
    meta = ["#curie_map:", *[f"#  {p}: {ns}" for p, ns in CURIE_MAP.items()],
            f"#mapping_set_id: {MAPPING_SET_ID}",
            f"#mapping_set_version: {version}",
            "#mapping_set_title: dispute-kg entities to Wikidata items",
            "#mapping_provider: https://w3id.org/dispute-kg",
            "#license: https://creativecommons.org/licenses/by/4.0/",
            f"#subject_source: {SUBJECT_SOURCE}",
            f"#object_source: {curie(OBJECT_SOURCE)}"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=used, delimiter="\t", lineterminator="\n", extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: v.replace("\t", " ").replace("\n", " ") for k, v in row.items()})
    return "\n".join(meta) + "\n" + out.getvalue()


@dataclass(frozen=True)
class CuratorRow:
    """One curator decision read from an SSSOM file: accept (`reject` False) or reject."""

    subject: str
    object: str
    reject: bool
    author_id: str
    author_label: str
    comment: str
    line: int


def read_decisions(path: Path) -> tuple[list[CuratorRow], int]:
    """The manual decisions of an SSSOM TSV file, and how many other rows it had (left alone)."""
    import yaml

    display = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read: {exc}", path=display) from None
    lines = text.splitlines()
    meta_lines = [ln[1:] for ln in lines if ln.startswith("#")]
    try:
        meta = yaml.safe_load("\n".join(meta_lines)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"the metadata block is not YAML: {str(exc).splitlines()[0]}", path=display) from None
    if not isinstance(meta, dict):
        raise InputError("the metadata block is not a YAML mapping", path=display)
    prefixes = dict(CURIE_MAP)
    extra = meta.get("curie_map") or {}
    if not isinstance(extra, dict):
        raise InputError("curie_map is not a mapping", path=display)
    prefixes.update({str(k): str(v) for k, v in extra.items()})
    body_start = next((i for i, ln in enumerate(lines) if not ln.startswith("#")), len(lines))
    reader = csv.DictReader(io.StringIO("\n".join(lines[body_start:])), delimiter="\t")
    for required in ("subject_id", "predicate_id", "object_id", "mapping_justification"):
        if required not in (reader.fieldnames or []):
            raise InputError(f"no {required} column", path=display, line=body_start + 1)
    decisions: list[CuratorRow] = []
    others = 0
    for n, row in enumerate(reader, body_start + 2):
        if None in row:
            raise InputError("more cells than columns", path=display, line=n)
        just = expand(row["mapping_justification"] or "", prefixes, what="mapping_justification", line=n,
                      path=display)
        if just != MANUAL:
            others += 1
            continue
        predicate = expand(row["predicate_id"] or "", prefixes, what="predicate_id", line=n, path=display)
        if predicate != SKOS + "exactMatch":
            raise InputError(f"predicate_id {row['predicate_id']!r}: only skos:exactMatch is imported",
                             path=display, line=n)
        modifier = (row.get("predicate_modifier") or "").strip()
        if modifier not in ("", "Not"):
            raise InputError(f"predicate_modifier {modifier!r} (expected empty or Not)", path=display, line=n)
        obj = expand(row["object_id"] or "", prefixes, what="object_id", line=n, path=display)
        if obj == NO_TERM_FOUND:
            others += 1
            continue
        author = row.get("author_id") or ""
        decisions.append(CuratorRow(
            expand(row["subject_id"] or "", prefixes, what="subject_id", line=n, path=display), obj,
            modifier == "Not", expand(author, prefixes, what="author_id", line=n, path=display) if author else "",
            row.get("author_label") or "", row.get("comment") or "", n))
    return decisions, others
