"""Writers for query results: one `WRITERS` dict, the single place output formats are defined.

SELECT/ASK answers are written as a readable table or as the W3C SPARQL 1.1 result formats: JSON
(the standard library), XML (pyoxigraph), CSV and TSV (by hand: a few lines each, and TSV's terms come
from `rdf.convert`). CONSTRUCT/DESCRIBE answers are written as N-Triples, Turtle or JSON-LD by
pyoxigraph, which keeps every literal's lexical form.

The table, CSV and TSV writers are on the quick route of `dispute-kg query run`, so this module
imports no standard-library module at run time beyond `os` (textwrap alone pulls in `re`).
The server and the web pages negotiate media types onto the names in `WRITERS`; no other module
keeps a list of formats.
"""

from __future__ import annotations

import os

from ..errors import InputError
from ..rdf.terms import Result, Term

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import TextIO

XSD = "http://www.w3.org/2001/XMLSchema#"


class Writer:
    """One output format: which result kinds it can write ("select", "ask", "graph") and how."""

    __slots__ = ("kinds", "media_type", "name", "write")

    def __init__(self, name: str, kinds: frozenset[str], media_type: str,
                 write: Callable[[Result, TextIO], None]) -> None:
        self.name, self.kinds, self.media_type, self.write = name, kinds, media_type, write

    def __repr__(self) -> str:
        return f"Writer({self.name!r}, {sorted(self.kinds)!r}, {self.media_type!r})"


# -- helpers -----------------------------------------------------------------------------------
def terminal_width(default: int = 80) -> int:
    try:
        return int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        pass
    try:
        return os.get_terminal_size(1).columns if os.isatty(1) else default
    except OSError:
        return default
def nt_term(term: Term) -> str:
    """A term in N-Triples syntax (also the SPARQL TSV term syntax), written by `rdf.convert`."""
    from ..rdf.convert import term_text

    return term_text(term)


def plain(term: Term | None) -> str:
    if term is None:
        return ""
    return f"_:{term['value']}" if term["type"] == "bnode" else term["value"]


# -- SELECT / ASK ------------------------------------------------------------------------------
def write_json(result: Result, out: TextIO) -> None:
    import json

    doc = result.to_sparql_json()
    json.dump(doc, out, ensure_ascii=False, indent=2)
    out.write("\n")


def write_xml(result: Result, out: TextIO) -> None:
    """SPARQL 1.1 XML results, written by pyoxigraph from the JSON form (one XML writer, not ours)."""
    import json

    import pyoxigraph as ox

    doc = json.dumps(result.to_sparql_json()).encode("utf-8")
    answer = ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON)
    out.write(answer.serialize(format=ox.QueryResultsFormat.XML).decode("utf-8"))
    out.write("\n")


def _csv_field(value: str) -> str:
    if any(c in value for c in ',"\r\n'):
        return '"' + value.replace('"', '""') + '"'
    return value


def write_csv(result: Result, out: TextIO) -> None:
    """SPARQL 1.1 CSV: plain values, CRLF line ends, quoted when needed."""
    if result.kind == "ask":
        out.write("boolean\r\n" + ("true" if result.boolean else "false") + "\r\n")
        return
    out.write(",".join(_csv_field(v) for v in result.variables) + "\r\n")
    for row in result.rows:
        out.write(",".join(_csv_field(plain(row.get(v))) for v in result.variables) + "\r\n")


def write_tsv(result: Result, out: TextIO) -> None:
    """SPARQL 1.1 TSV: `?var` header, terms in N-Triples syntax."""
    if result.kind == "ask":
        out.write("?boolean\n" + ("true" if result.boolean else "false") + "\n")
        return
    out.write("\t".join(f"?{v}" for v in result.variables) + "\n")
    for row in result.rows:
        out.write("\t".join(nt_term(row[v]) if v in row else "" for v in result.variables) + "\n")


def _cell(term: Term | None) -> str:
    from ..rdf.namespaces import shorten

    if term is None:
        return ""
    if term["type"] == "uri":
        return shorten(term["value"])
    return " ".join(plain(term).split())


def _widths(natural: list[int], total: int) -> list[int] | None:
    """Column widths that fit `total` characters, shrinking the widest columns first; None when a
    grid cannot fit without squeezing some column below 12 characters (then rows are printed as records)."""
    gaps = 2 * (len(natural) - 1)
    widths = [max(1, w) for w in natural]
    budget = total - gaps
    floor = [min(w, 12) for w in widths]
    if sum(floor) > budget:
        return None
    while sum(widths) > budget:
        widest = max(range(len(widths)), key=lambda i: widths[i] - floor[i])
        widths[widest] -= 1
    return widths


def wrap(text: str, width: int) -> list[str]:
    """Greedy wrapping of a cell whose whitespace is already single spaces, as
    `textwrap.wrap(text, width, break_on_hyphens=False) or [""]` does it but with no trailing space
    on a line (a test holds the two equal): a word is split only when longer than a line, and then
    fills what is left of the line it starts on."""
    lines: list[str] = []
    line = ""
    for word in text.split(" "):
        if not word:
            continue
        while True:
            sep = " " if line else ""
            if len(line) + len(sep) + len(word) <= width:
                line += sep + word
                break
            if len(word) > width:  # too long for any line: fill what is left of this one
                room = width - len(line) - len(sep)
                if room > 0:
                    line += sep + word[:room]
                    word = word[room:]
                lines.append(line)
                line = ""
                continue
            lines.append(line)
            line = ""
    if line:
        lines.append(line)
    return lines or [""]


def write_table(result: Result, out: TextIO, width: int | None = None) -> None:
    """A table for people: IRIs shortened, long cells wrapped, every line within the terminal width
    (80 when not a terminal). Too many columns for a grid: each row is printed as a record."""
    if result.kind == "ask":
        out.write(("yes" if result.boolean else "no") + "\n")
        return
    if result.kind == "graph":
        header = ["subject", "predicate", "object"]
        rows = [[_cell(t) for t in triple] for triple in result.triples]
        noun = "triple"
    else:
        header = list(result.variables)
        rows = [[_cell(row.get(v)) for v in header] for row in result.rows]
        noun = "row"
    width = width or terminal_width()
    natural = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]
    widths = _widths(natural, width) if header else []

    if widths is not None:
        def emit(values: list[str]) -> None:
            wrapped = [wrap(v, w) for v, w in zip(values, widths, strict=True)]
            for line in range(max(len(w) for w in wrapped)):
                parts = [(w[line] if line < len(w) else "").ljust(widths[i]) for i, w in enumerate(wrapped)]
                out.write("  ".join(parts).rstrip() + "\n")

        if header:
            emit(header)
            out.write("  ".join("-" * w for w in widths) + "\n")
        for row in rows:
            emit(row)
    else:
        key_width = min(max(len(h) for h in header), 20)
        value_width = max(width - key_width - 2, 20)
        for n, row in enumerate(rows, 1):
            out.write(f"-[ {n} ]".ljust(min(width, 40), "-") + "\n")
            for name, value in zip(header, row, strict=True):
                if not value:
                    continue
                lines = wrap(value, value_width)
                out.write(f"{name[:key_width].ljust(key_width)}  {lines[0]}".rstrip() + "\n")
                for more in lines[1:]:
                    out.write(" " * (key_width + 2) + more + "\n")
    count = len(rows)
    out.write(f"({count} {noun}{'s' if count != 1 else ''}{', truncated' if result.truncated else ''})\n")


# -- CONSTRUCT / DESCRIBE -----------------------------------------------------------------------
def _serialize(result: Result, fmt: str) -> str:
    """N-Triples, Turtle or JSON-LD by pyoxigraph, which writes each literal's lexical form as it is
    (rdflib's Turtle writer rewrites some: `"TRUE"^^xsd:boolean` becomes `true`)."""
    import pyoxigraph as ox

    from ..rdf.convert import term_to_ox
    from ..rdf.namespaces import ID, PREFIXES

    triples = [ox.Triple(term_to_ox(s), term_to_ox(p), term_to_ox(o)) for s, p, o in result.triples]
    formats = {"nt": ox.RdfFormat.N_TRIPLES, "ttl": ox.RdfFormat.TURTLE, "jsonld": ox.RdfFormat.JSON_LD,
               "rdfxml": ox.RdfFormat.RDF_XML}
    prefixes = {**dict(sorted(PREFIXES.items())), "id": ID} if fmt in ("ttl", "rdfxml") else None
    return ox.serialize(triples, format=formats[fmt], prefixes=prefixes).decode("utf-8")


def write_nt(result: Result, out: TextIO) -> None:
    out.write(_serialize(result, "nt"))


def write_ttl(result: Result, out: TextIO) -> None:
    out.write(_serialize(result, "ttl"))


def write_jsonld(result: Result, out: TextIO) -> None:
    out.write(_serialize(result, "jsonld"))
    out.write("\n")


def write_rdfxml(result: Result, out: TextIO) -> None:
    out.write(_serialize(result, "rdfxml"))


TABULAR = frozenset({"select", "ask"})
GRAPH = frozenset({"graph"})
WRITERS: dict[str, Writer] = {
    "table": Writer("table", frozenset({"select", "ask", "graph"}), "text/plain", write_table),
    "csv": Writer("csv", TABULAR, "text/csv", write_csv),
    "tsv": Writer("tsv", TABULAR, "text/tab-separated-values", write_tsv),
    "json": Writer("json", TABULAR, "application/sparql-results+json", write_json),
    "xml": Writer("xml", TABULAR, "application/sparql-results+xml", write_xml),
    "ttl": Writer("ttl", GRAPH, "text/turtle", write_ttl),
    "nt": Writer("nt", GRAPH, "application/n-triples", write_nt),
    "jsonld": Writer("jsonld", GRAPH, "application/ld+json", write_jsonld),
    "rdfxml": Writer("rdfxml", GRAPH, "application/rdf+xml", write_rdfxml),
}


def write(result: Result, fmt: str, out: TextIO) -> None:
    """Write `result` in format `fmt`, refusing a format that does not fit the kind of answer."""
    writer = WRITERS.get(fmt)
    if writer is None:
        raise InputError(f"unknown format {fmt!r} (choose from {', '.join(WRITERS)})")
    if result.kind not in writer.kinds:
        fits = ", ".join(n for n, w in WRITERS.items() if result.kind in w.kinds)
        what = "a CONSTRUCT/DESCRIBE" if result.kind == "graph" else "a SELECT/ASK"
        raise InputError(f"--format {fmt} does not fit {what} query; use one of: {fits}")
    writer.write(result, out)
