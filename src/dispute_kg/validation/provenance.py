"""Span provenance: the Python proof that every selector reproduces its quote, and coverage of
each source's sentences by the assertions that cite them."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..rdf.namespaces import DEF, ID
from ..stores.base import Store

OA = "http://www.w3.org/ns/oa#"
XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"

SELECTIONS = f"""
PREFIX oa: <{OA}>
PREFIX dk: <{DEF}>
SELECT ?selection ?source ?exact ?prefix ?suffix ?start ?end WHERE {{
  ?selection a dk:TextSelection .
  OPTIONAL {{ ?selection oa:hasSource ?source }}
  OPTIONAL {{ ?selection oa:hasSelector ?q . ?q a oa:TextQuoteSelector ; oa:exact ?exact .
             OPTIONAL {{ ?q oa:prefix ?prefix }} OPTIONAL {{ ?q oa:suffix ?suffix }} }}
  OPTIONAL {{ ?selection oa:hasSelector ?p . ?p a oa:TextPositionSelector ; oa:start ?start ; oa:end ?end }}
}}
"""

TEXTS = f"""
PREFIX dk: <{DEF}>
SELECT ?source ?text WHERE {{ ?source a dk:Source ; dk:text ?text }}
"""

CITATIONS = f"""
PREFIX oa: <{OA}>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dk: <{DEF}>
SELECT DISTINCT ?node ?source ?start ?end WHERE {{
  ?node prov:wasDerivedFrom ?selection .
  ?selection oa:hasSource ?source ; oa:hasSelector ?p .
  ?p oa:start ?start ; oa:end ?end .
}}
"""


@dataclass(frozen=True, order=True)
class SpanProblem:
    selection: str
    message: str


def source_texts(store: Store) -> dict[str, str]:
    return {row["source"]["value"]: row["text"]["value"] for row in store.query(TEXTS).rows}


def check_spans(store: Store) -> list[SpanProblem]:
    """Every selection names a registered source, and text[start:end] == exact, prefix and suffix fit."""
    texts = source_texts(store)
    problems = []
    for row in store.query(SELECTIONS).rows:
        sel = row["selection"]["value"]
        src = row.get("source", {}).get("value")
        if src is None:
            problems.append(SpanProblem(sel, "has no oa:hasSource"))
            continue
        if src not in texts:
            problems.append(SpanProblem(sel, f"cites <{src}>, which is not a registered source with stored text"))
            continue
        if "exact" not in row or "start" not in row:
            problems.append(SpanProblem(sel, "needs both a TextQuoteSelector and a TextPositionSelector"))
            continue
        text, exact = texts[src], row["exact"]["value"]
        wrong = [f'{name} "{row[key]["value"]}"' for name, key in (("oa:start", "start"), ("oa:end", "end"))
                 if row[key].get("datatype") != XSD_INTEGER]
        if wrong:
            # a quoted offset is a string: say so, rather than that the span lies outside the text
            problems.append(SpanProblem(sel, f"wrong datatype: {' and '.join(wrong)} must be an xsd:integer "
                                             "(write the number without quotes)"))
            continue
        try:
            start, end = int(row["start"]["value"]), int(row["end"]["value"])
        except ValueError:
            problems.append(SpanProblem(sel, "oa:start and oa:end must be integers"))
            continue
        if not 0 <= start < end <= len(text):
            problems.append(SpanProblem(sel, f"offsets {start}-{end} lie outside the text (length {len(text)})"))
            continue
        if text[start:end] != exact:
            problems.append(SpanProblem(sel, f"offsets {start}-{end} select {text[start:end]!r}, not {exact!r}"))
            continue
        prefix = row.get("prefix", {}).get("value")
        suffix = row.get("suffix", {}).get("value")
        if prefix is not None and text[max(0, start - len(prefix)):start] != prefix:
            problems.append(SpanProblem(sel, f"prefix {prefix!r} does not precede the span at {start}"))
        if suffix is not None and text[end:end + len(suffix)] != suffix:
            problems.append(SpanProblem(sel, f"suffix {suffix!r} does not follow the span at {end}"))
    return sorted(problems)


SENTENCE_END = re.compile(r'(?<=[.!?])["”]?(?=\s+["“A-Z(])')


def sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of a source text: paragraphs split on blank lines, then on
    sentence-final punctuation followed by a capital or an opening quote."""
    spans = []
    for para in re.finditer(r"[^\n]+(?:\n(?!\n)[^\n]+)*", text):
        start = para.start()
        for m in SENTENCE_END.finditer(para.group()):
            end = para.start() + m.end()
            spans.append((start, end))
            start = end
            while start < para.end() and text[start].isspace():
                start += 1
        if start < para.end():
            spans.append((start, para.end()))
    return spans


@dataclass
class SentenceCoverage:
    source: str
    start: int
    end: int
    text: str
    cited_by: list[str] = field(default_factory=list)
    is_title: bool = False


def coverage(store: Store, titles: dict[str, str] | None = None) -> list[SentenceCoverage]:
    texts = source_texts(store)
    titles = titles if titles is not None else source_titles(store)
    cites: dict[str, list[tuple[int, int, str]]] = {}
    for row in store.query(CITATIONS).rows:
        cites.setdefault(row["source"]["value"], []).append(
            (int(row["start"]["value"]), int(row["end"]["value"]), row["node"]["value"]))
    out = []
    for source, text in sorted(texts.items()):
        title = titles.get(source, "").strip().casefold()
        for start, end in sentences(text):
            body = text[start:end]
            nodes = sorted({n for s, e, n in cites.get(source, []) if s < end and e > start})
            out.append(SentenceCoverage(source, start, end, body, nodes,
                                        is_title=bool(title) and body.strip().casefold() == title))
    return out


def source_titles(store: Store) -> dict[str, str]:
    rows = store.query(f"""PREFIX dct: <http://purl.org/dc/terms/> PREFIX dk: <{DEF}>
        SELECT ?source ?title WHERE {{ ?source a dk:Source ; dct:title ?title }}""").rows
    return {r["source"]["value"]: r["title"]["value"] for r in rows}


def is_our_node(iri: str) -> bool:
    return iri.startswith(ID)


def selection_triples(stem: str, text: str, start: int, end: int, node: Any) -> list[tuple]:
    """`node` derived from `text[start:end]` of source `stem`: the dk:TextSelection with both selectors,
    offsets computed here (never typed), as pyoxigraph triples."""
    import pyoxigraph as ox

    from ..rdf.namespaces import source_iri

    RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    OA, PROV, XSD = "http://www.w3.org/ns/oa#", "http://www.w3.org/ns/prov#", "http://www.w3.org/2001/XMLSchema#"
    sel = ox.NamedNode(f"{ID}selection/{stem}/{start}-{end}")
    quote, pos = ox.NamedNode(sel.value + "/quote"), ox.NamedNode(sel.value + "/position")
    xint = ox.NamedNode(XSD + "integer")
    return [
        (node, ox.NamedNode(PROV + "wasDerivedFrom"), sel),
        (sel, RDF_TYPE, ox.NamedNode(DEF + "TextSelection")),
        (sel, ox.NamedNode(OA + "hasSource"), ox.NamedNode(source_iri(stem))),
        (sel, ox.NamedNode(OA + "hasSelector"), quote),
        (sel, ox.NamedNode(OA + "hasSelector"), pos),
        (quote, RDF_TYPE, ox.NamedNode(OA + "TextQuoteSelector")),
        (quote, ox.NamedNode(OA + "exact"), ox.Literal(text[start:end])),
        (pos, RDF_TYPE, ox.NamedNode(OA + "TextPositionSelector")),
        (pos, ox.NamedNode(OA + "start"), ox.Literal(str(start), datatype=xint)),
        (pos, ox.NamedNode(OA + "end"), ox.Literal(str(end), datatype=xint)),
    ]
