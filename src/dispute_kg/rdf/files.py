"""Reading RDF files with errors located to file, line and column.

Build and query paths use pyoxigraph (fast, and its parser reports positions); moving terms to
rdflib for reasoning and SHACL is `rdf.convert`'s job.
"""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError

OX_FORMATS = {
    ".ttl": ox.RdfFormat.TURTLE,
    ".nt": ox.RdfFormat.N_TRIPLES,
    ".nq": ox.RdfFormat.N_QUADS,
    ".trig": ox.RdfFormat.TRIG,
    ".jsonld": ox.RdfFormat.JSON_LD,
    ".rdf": ox.RdfFormat.RDF_XML,
    ".owl": ox.RdfFormat.RDF_XML,
}


def oxigraph_format(path: Path) -> ox.RdfFormat:
    try:
        return OX_FORMATS[path.suffix.lower()]
    except KeyError:
        known = ", ".join(sorted(OX_FORMATS))
        raise InputError(f"unknown RDF file extension {path.suffix!r} (known: {known})",
                         path=str(path)) from None


def parse_quads(data: bytes, path: Path, graph: str | None) -> list[ox.Quad]:
    """Parse one file's bytes into quads in `graph`; a syntax error names the file, line and column."""
    fmt = oxigraph_format(path)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text (is this a binary file?)", path=str(path), line=line) from None
    if "\0" in text:
        raise InputError("contains NUL bytes (is this a binary file?)", path=str(path))
    target = ox.NamedNode(graph) if graph else ox.DefaultGraph()
    try:
        parsed = list(ox.parse(data, format=fmt, base_iri=path.resolve().as_uri()))
        if graph is not None:
            # the file becomes the graph `graph`; a graph name of its own would be dropped without a word
            named = next((q.graph_name for q in parsed if isinstance(q.graph_name, ox.NamedNode)), None)
            if named is not None:
                line = next((n for n, ln in enumerate(text.splitlines(), 1) if f"<{named.value}>" in ln), None)
                raise InputError(f"named graph <{named.value}>: each project file is one graph, named after "
                                 "the file; give the triples in the default graph", path=str(path), line=line)
        quads = [
            q if fmt in (ox.RdfFormat.TRIG, ox.RdfFormat.N_QUADS) and graph is None
            else ox.Quad(q.subject, q.predicate, q.object, target)
            for q in parsed
        ]
    except SyntaxError as exc:
        message = str(exc).split(": ", 1)[-1] if ": " in str(exc) else str(exc)
        raise InputError(f"syntax error: {message}", path=str(path), line=exc.lineno,
                         column=exc.offset) from None
    except ValueError as exc:
        raise InputError(f"cannot read: {exc}", path=str(path)) from None
    return quads


def read_quads(path: Path, graph: str | None, display: str | None = None) -> list[ox.Quad]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read file: {exc.strerror}", path=display or str(path)) from None
    try:
        return parse_quads(data, path, graph)
    except InputError as exc:
        if display and exc.path != display:
            raise InputError(str(exc).split(": ", 1)[1] if exc.path else str(exc), path=display,
                             line=exc.line, column=exc.column) from None
        raise
