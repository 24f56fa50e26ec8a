"""Registering source texts (`dispute-kg source add`) and listing them (`source list`).

A source is stored verbatim as ``data/sources/<slug>.txt`` with its metadata in
``data/sources/<slug>.ttl`` (dk:Source, rdfs:label, dct:title, dct:issued, dct:publisher, dk:sha256,
dct:format, and dct:source for the URL it was taken from). Registration is an addition like any
other: validated through the same pipeline (shapes, provenance, consistency) and committed atomically
with a dk:Addition record, so `dispute-kg retract` can undo it while nothing cites it.

Publisher policy: the --publisher name is resolved to an existing organisation by its label,
preferred or alternative label (case-insensitively; several matches are refused with the
candidates). If none matches, a new ``dk:NewsOrganisation`` ``id/organisation/<slug>`` is created
in the source's metadata file, labelled with the name. Its provenance is the new source itself when
the name occurs verbatim in the text (a selection of its first occurrence); otherwise it is derived
from dk:BackgroundKnowledge with a dk:note saying it was created from the --publisher option, so a
reviewer sees it was not read from the text.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import InputError
from ..rdf.namespaces import BACKGROUND_SOURCE, DEF, ID, source_iri
from ..validation.provenance import selection_triples
from .folder import Project

RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
RDFS_LABEL = ox.NamedNode("http://www.w3.org/2000/01/rdf-schema#label")
DCT = "http://purl.org/dc/terms/"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,80}$")


@dataclass
class SourceInfo:
    iri: str
    title: str
    issued: str
    publisher: str
    sha256: str
    length: int
    selections: int

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def list_sources(store: Any) -> list[SourceInfo]:
    rows = store.query(f"""
        PREFIX dct: <{DCT}> PREFIX dk: <{DEF}> PREFIX oa: <{OA}>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT ?s (SAMPLE(?t) AS ?title) (SAMPLE(?d) AS ?issued) (SAMPLE(?pl) AS ?publisher)
               (SAMPLE(?h) AS ?sha) (SAMPLE(STRLEN(?text)) AS ?len) (COUNT(DISTINCT ?sel) AS ?n)
        WHERE {{ ?s a dk:Source . OPTIONAL {{ ?s dct:title ?t }} OPTIONAL {{ ?s dct:issued ?d }}
                 OPTIONAL {{ ?s dct:publisher ?p . OPTIONAL {{ ?p rdfs:label ?pl }} }}
                 OPTIONAL {{ ?s dk:sha256 ?h }} OPTIONAL {{ ?s dk:text ?text }}
                 OPTIONAL {{ ?sel oa:hasSource ?s }} }}
        GROUP BY ?s ORDER BY ?s""").rows
    out = []
    for r in rows:
        v = {k: t.get("value", "") for k, t in r.items()}
        out.append(SourceInfo(v.get("s", ""), v.get("title", ""), v.get("issued", ""), v.get("publisher", ""),
                              v.get("sha", ""), int(v.get("len") or 0), int(v.get("n") or 0)))
    return out


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:80]


def resolve_publisher(store: ox.Store, name: str) -> list[str]:
    """Organisations whose label, preferred or alternative label equals `name` (case-insensitive)."""
    query = f"""
        PREFIX dk: <{DEF}> PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
        PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
        SELECT DISTINCT ?o WHERE {{
            ?o a dk:Organisation ; rdfs:label|skos:prefLabel|skos:altLabel ?l .
            FILTER (LCASE(STR(?l)) = LCASE({ox.Literal(name)}))
        }} ORDER BY ?o"""
    rows = store.query(query, use_default_graph_as_union=True)
    return [r["o"].value for r in rows]


def add_source(project: Project, text_file: Path, *, title: str, published: str, publisher: str,
               url: str | None = None, slug: str | None = None, agent: str | None = None,
               note: str | None = None) -> tuple[Any, Any]:
    """Register a source text; returns (validation report, Addition or None when refused)."""
    from ..rdf.convert import ox_to_rdflib
    from ..validation.pipeline import open_store_read_only, validate
    from .additions import (
        _dedupe,
        _now,
        _record_entailments,
        _serialise,
        commit,
        default_agent,
        ensure_built,
        history_record,
    )
    from .state import writer_lock

    text_file = Path(text_file)
    try:
        data = text_file.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=str(text_file)) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("a source text must be UTF-8 (is this a binary file?)", path=str(text_file),
                         line=data[: exc.start].count(b"\n") + 1) from None
    if "\0" in text:
        raise InputError("contains NUL bytes (is this a binary file?)", path=str(text_file))
    if not text.strip():
        raise InputError("the source text is empty", path=str(text_file))
    try:
        issued = dt.date.fromisoformat(published)
    except ValueError:
        raise InputError(f"--published {published!r} is not a date in the form YYYY-MM-DD") from None
    if not title.strip():
        raise InputError("--title must not be empty")
    if not publisher.strip():
        raise InputError("--publisher must not be empty")
    stem = slug or _slug(text_file.stem)
    if not SLUG_RE.match(stem):
        raise InputError(f"source id {stem!r} must be lower-case letters, digits and hyphens (give --id)")
    digest = hashlib.sha256(data).hexdigest()
    agent = agent or default_agent()

    with writer_lock(project):
        ensure_built(project)
        txt_rel, ttl_rel = f"data/sources/{stem}.txt", f"data/sources/{stem}.ttl"
        if (project.root / txt_rel).exists() or (project.root / ttl_rel).exists():
            raise InputError(f"a source {stem!r} is already registered ({txt_rel}); give another --id")
        store = open_store_read_only(project)
        try:
            same = [r["s"].value for r in store.query(
                f"PREFIX dk: <{DEF}> SELECT ?s WHERE {{ ?s a dk:Source ; dk:sha256 {ox.Literal(digest)} }}",
                use_default_graph_as_union=True)]
            if same:
                raise InputError(f"this text is already registered as <{same[0]}> (same SHA-256)")
            publishers = resolve_publisher(store, publisher.strip())
        finally:
            del store
        if len(publishers) > 1:
            raise InputError(f"--publisher {publisher!r} matches {len(publishers)} organisations: "
                             + ", ".join(f"<{p}>" for p in publishers) + "; use a more specific name")
        src = ox.NamedNode(source_iri(stem))
        triples: list[tuple] = [
            (src, RDF_TYPE, ox.NamedNode(DEF + "Source")),
            (src, RDFS_LABEL, ox.Literal(title.strip())),
            (src, ox.NamedNode(DCT + "title"), ox.Literal(title.strip())),
            (src, ox.NamedNode(DCT + "issued"), ox.Literal(issued.isoformat(), datatype=ox.NamedNode(XSD + "date"))),
            (src, ox.NamedNode(DCT + "format"), ox.Literal("text/plain")),
            (src, ox.NamedNode(DEF + "sha256"), ox.Literal(digest)),
        ]
        if url:
            if not re.match(r"^https?://\S+$", url):
                raise InputError(f"--url {url!r} is not an http(s) URL")
            triples.append((src, ox.NamedNode(DCT + "source"), ox.NamedNode(url)))
        if publishers:
            org = ox.NamedNode(publishers[0])
        else:
            org = ox.NamedNode(f"{ID}organisation/{_slug(publisher)}")
            triples += [(org, RDF_TYPE, ox.NamedNode(DEF + "NewsOrganisation")),
                        (org, RDFS_LABEL, ox.Literal(publisher.strip()))]
            start = text.find(publisher.strip())
            if start >= 0:
                triples += selection_triples(stem, text, start, start + len(publisher.strip()), org)
            else:
                triples += [(org, ox.NamedNode(PROV + "wasDerivedFrom"), ox.NamedNode(BACKGROUND_SOURCE)),
                            (org, ox.NamedNode(DEF + "note"), ox.Literal(
                                f"Created by `dispute-kg source add` from its --publisher option for <{src.value}>; "
                                "the source text does not name it."))]
        triples.append((src, ox.NamedNode(DCT + "publisher"), org))

        import rdflib

        graph = rdflib.Graph()
        for t in triples:
            graph.add(tuple(ox_to_rdflib(x) for x in t))
        report = validate(project, graph, allow_sources=True, extra_texts={src.value: text})
        report.inputs = [str(text_file)]
        if not report.conforms:
            return report, None
        stamp, when = _now()
        ident = f"{stamp}-{digest[:8]}"
        history_rel = f"data/history/{ident}.ttl"
        record = history_record(ident, when=when, agent=agent, note=note or f"registered source {stem}",
                                files=[txt_rel, ttl_rel], input_sha256=digest)
        meta = sorted(report.new_triples, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
        files = {
            txt_rel: data,
            ttl_rel: _serialise(meta, f"# Source {stem}, registered by `dispute-kg source add` ({history_rel}).\n"),
            history_rel: _serialise(record, f"# The record of addition {ident} (source {stem}).\n"),
        }
        text_triple = [(src, ox.NamedNode(DEF + "text"), ox.Literal(text))]
        commit(project, files=files, graph_triples={ttl_rel: meta, txt_rel: text_triple, history_rel: record},
               inferred=_dedupe(report.inferred + _record_entailments(project, record)),
               uninferred=report.uninferred, op="source-add", ident=ident)
        from .additions import Addition

        return report, Addition(ident, when, agent, [txt_rel, ttl_rel], note or "", digest, triples=len(meta))
