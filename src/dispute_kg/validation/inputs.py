"""Steps 1 and 2 of the pipeline: read and parse the input files (errors located to
file:line:column, never to a comment), apply the input rules (size, prefixes, no blank nodes or named
graphs, subjects under id/, no ontology or source-text edits, no derived terms or project records,
valid literals), and check the vocabulary: every dk: term used must be defined by the
ontology, and every term of a reused vocabulary (SKOS, PROV-O, ...) by that vocabulary
(`vocabularies`; closest term suggested)."""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import InputError
from ..project.folder import Project
from ..rdf.namespaces import DEF, ID, INFERRED_GRAPH, LOOKUP_GRAPH, shorten
from .common import DK_SOURCE, DK_TEXT, OWL, RDF_TYPE, Triple, _triple_key
from .report import Problem
from .schema import Schema

MAX_INPUT_BYTES = int(os.environ.get("DISPUTE_KG_MAX_INPUT_BYTES", 16 * 1024 * 1024))
MAX_PREFIXES = int(os.environ.get("DISPUTE_KG_MAX_PREFIXES", 256))
INPUT_SUFFIXES = {".ttl", ".nt", ".trig", ".jsonld"}


@dataclass
class InputFile:
    display: str
    text: str
    suffix: str
    prefixes: dict[str, str]

    @property
    def code_lines(self) -> list[str]:
        """The file's lines with comments and string contents blanked (Turtle family), so a term is
        located where a triple uses it, never in a comment or a label that mentions it."""
        cached = self.__dict__.get("_code_lines")
        if cached is None:
            text = self.text if self.suffix == ".jsonld" else mask_comments_and_strings(self.text)
            cached = self.__dict__["_code_lines"] = text.splitlines()
        return cached


def mask_comments_and_strings(text: str) -> str:
    """Blank out comments and the contents of string literals in Turtle, TriG or N-Triples text,
    keeping every other character where it was (so line and column numbers stay right). It only
    serves to locate terms for messages: the parser has already decided what the input means."""
    out = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "<":  # an IRI: may hold '#', never a quote
            j = text.find(">", i + 1)
            if j < 0 or "\n" in text[i:j]:
                i += 1
                continue
            i = j + 1
        elif c == "#":
            j = text.find("\n", i)
            j = n if j < 0 else j
            for k in range(i, j):
                out[k] = " "
            i = j
        elif c in "\"'":
            quote = text[i:i + 3] if text[i:i + 3] in ('"""', "'''") else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            for k in range(i + len(quote), min(j, n)):
                if out[k] != "\n":
                    out[k] = " "
            i = j + len(quote)
        else:
            i += 1
    return "".join(out)


PREFIX_RE = re.compile(r"^\s*(?:@prefix|PREFIX)\s+([A-Za-z][\w.-]*)?:\s*<([^>]*)>", re.MULTILINE | re.IGNORECASE)


class Locator:
    """Finds the input line where a node is defined (first as a subject, else first mentioned)."""

    def __init__(self, files: list[InputFile]) -> None:
        self.files = files
        self.cache: dict[str, tuple[str, int, int]] = {}

    def forms(self, f: InputFile, iri: str) -> list[str]:
        out = [f"<{iri}>", f'"{iri}"']
        for prefix, ns in f.prefixes.items():
            if iri.startswith(ns) and len(iri) > len(ns):
                out.append(f"{prefix}:{iri[len(ns):]}")
        return out

    def locate(self, iri: str) -> tuple[str, int, int]:
        if iri in self.cache:
            return self.cache[iri]
        found = ("", 0, 0)
        for f in self.files:
            forms = self.forms(f, iri)
            best = None
            for lineno, line in enumerate(f.code_lines, 1):
                for form in forms:
                    col = _token_index(line, form)
                    if col < 0:
                        continue
                    if line[:col].strip() == "":
                        best = (lineno, col + 1)
                        break
                    if best is None:
                        best = (lineno, col + 1)
                if best and line.lstrip().startswith(tuple(forms)):
                    break
            if best:
                found = (f.display, best[0], best[1])
                break
        if not found[0] and self.files:
            found = (self.files[0].display, 0, 0)
        self.cache[iri] = found
        return found


def _token_index(line: str, form: str) -> int:
    start = 0
    while True:
        i = line.find(form, start)
        if i < 0:
            return -1
        end = i + len(form)
        if form.startswith(("<", '"')) or end >= len(line) or not (line[end].isalnum() or line[end] in "_-"):
            if i == 0 or not (line[i - 1].isalnum() or line[i - 1] in "_:"):
                return i
        start = i + 1


def read_input_file(path: Path, display: str | None = None) -> tuple[InputFile, list[ox.Quad]]:
    """Read and parse one input file; InputError (located) when it cannot be read."""
    from ..rdf.files import parse_quads

    shown = display or str(path)
    suffix = path.suffix.lower()
    if suffix not in INPUT_SUFFIXES:
        raise InputError(f"unsupported extension {path.suffix!r}: give .ttl, .nt, .trig or .jsonld", path=shown)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path=shown) from None
    if size > MAX_INPUT_BYTES:
        raise InputError(f"input is {size / 1e6:.1f} MB; at most {MAX_INPUT_BYTES / 1e6:.1f} MB is accepted per "
                         "file (split it, or raise DISPUTE_KG_MAX_INPUT_BYTES)", path=shown, line=1)
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError("not UTF-8 text (is this a binary file?)", path=shown, line=line) from None
    if "\0" in text:
        line = text[: text.index("\0")].count("\n") + 1
        raise InputError("contains NUL bytes (is this a binary file?)", path=shown, line=line)
    body = "\n".join(ln for ln in text.splitlines() if not ln.lstrip().startswith("#")).strip()
    if not body:
        raise InputError("empty input: no triples to validate", path=shown, line=1)
    prefixes: dict[str, str] = {}
    count = 0
    for m in PREFIX_RE.finditer(text):
        count += 1
        if count > MAX_PREFIXES:
            line = text[: m.start()].count("\n") + 1
            raise InputError(f"declares more than {MAX_PREFIXES} prefixes; an addition needs a handful "
                             "(raise DISPUTE_KG_MAX_PREFIXES if this is intended)", path=shown, line=line,
                             column=1)
        prefixes[m.group(1) or ""] = m.group(2)
    try:
        quads = parse_quads(data, path, None)
    except InputError as exc:
        message = str(exc).split(": ", 1)[1] if exc.path else str(exc)
        raise InputError(message, path=shown, line=exc.line, column=exc.column) from None
    if not quads:
        raise InputError("no triples: the file holds only prefixes or comments", path=shown, line=1)
    f = InputFile(shown, text, suffix, prefixes)
    named = sorted({q.graph_name.value for q in quads if isinstance(q.graph_name, ox.NamedNode)})
    if named:
        # an addition is one file in the project's graph; a graph name would be dropped silently
        _, line, col = locate_term(Locator([f]), "", named[0])
        what = ("the inferred graph is written by the build's reasoner" if named[0] == INFERRED_GRAPH
                else "the lookup graph is written by the build" if named[0] == LOOKUP_GRAPH
                else "an addition becomes its own file's graph when it is added")
        raise InputError(f"named graph <{named[0]}>: {what}; give the triples in the default graph "
                         "(Turtle, or TriG without GRAPH blocks)", path=shown, line=line, column=col)
    return f, quads


@dataclass
class Delta:
    """A parsed input: its triples and where they came from."""

    triples: list[Triple]
    files: list[InputFile]
    sha256: str
    names: list[str]


def read_inputs(inputs: Any, project: Project) -> tuple[Delta | None, list[Problem]]:
    """Parse paths (or take an rdflib graph); located parse problems when any input is unreadable."""
    problems: list[Problem] = []
    triples: list[Triple] = []
    files: list[InputFile] = []
    h = hashlib.sha256()
    names: list[str] = []
    if not isinstance(inputs, str | os.PathLike | list | tuple):  # an rdflib graph (rdflib imported only then)
        from ..rdf.convert import rdflib_to_ox as to_oxigraph

        for s, p, o in inputs:
            triples.append((to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)))
        h.update(inputs.serialize(format="nt", encoding="utf-8"))
        names.append("(graph)")
        if not triples:
            problems.append(Problem("parse", "", "empty input: no triples to validate", severity="Violation"))
            return None, problems
        return Delta(sorted(set(triples), key=_triple_key), files, h.hexdigest(), names), problems
    paths = [Path(inputs)] if isinstance(inputs, str | os.PathLike) else [Path(p) for p in inputs]
    if not paths:
        problems.append(Problem("parse", "", "no input files given"))
        return None, problems
    for path in paths:
        shown = str(path)
        names.append(shown)
        try:
            f, quads = read_input_file(path, shown)
        except InputError as exc:
            message = str(exc).split(": ", 1)[1] if exc.path else str(exc)
            problems.append(Problem("parse", "", message, file=exc.path or shown, line=exc.line or 0,
                                    column=exc.column or 0))
            continue
        h.update(path.read_bytes())
        files.append(f)
        triples.extend((q.subject, q.predicate, q.object) for q in quads)
    if problems:
        return None, problems
    return Delta(sorted(set(triples), key=_triple_key), files, h.hexdigest(), names), problems


HISTORY_TERMS = {DEF + "addedBy", DEF + "addedFile", DEF + "retracts", DEF + "inputSha256"}


# the lookup graph's terms (reasoning/lookups.py) and what to state instead
LOOKUP_TERMS = {DEF + "kind": "the node's most specific class: state its rdf:type instead",
                DEF + "quoteStart": "its position selector's oa:start: state that instead"}


def input_rules(delta: Delta, loc: Locator, *, allow_sources: bool = False,
                derived: frozenset[str] = frozenset()) -> list[Problem]:
    problems = []
    seen: set[tuple[str, str]] = set()

    def add(node: Any, message: str, path: str = "", value: str = "") -> None:
        key = (str(node), message)
        if key in seen:
            return
        seen.add(key)
        focus = node.value if isinstance(node, ox.NamedNode) else str(node)
        file, line, col = loc.locate(focus) if isinstance(node, ox.NamedNode) else _locate_bnode(delta, node)
        problems.append(Problem("input", focus, message, path=path, value=value, file=file, line=line,
                                column=col))

    for s, p, o in delta.triples:
        if isinstance(s, ox.BlankNode) or isinstance(o, ox.BlankNode):
            add(s if isinstance(s, ox.BlankNode) else o, "blank nodes are not accepted in additions: give "
                "every node an IRI under https://w3id.org/dispute-kg/id/ so it can be cited and retracted")
            continue
        if s.value.startswith(DEF) or (not s.value.startswith(ID)):
            add(s, "an addition may only describe nodes under https://w3id.org/dispute-kg/id/; ontology "
                   "terms and other vocabularies change in ontology/ and are rebuilt", path=p.value)
            continue
        if p == DK_TEXT:
            add(s, "dk:text is added by the build from the source's .txt file; register a source with "
                   "`dispute-kg source add`", path=p.value)
        if not allow_sources and p == RDF_TYPE and o == DK_SOURCE:
            add(s, "sources are registered with `dispute-kg source add FILE.txt ...`, not added as "
                   "assertions", path=p.value, value=o.value)
        if p.value in LOOKUP_TERMS:
            add(s, f"{shorten(p.value)} is written by the build into its lookup graph ({LOOKUP_TERMS[p.value]}) "
                   "and never stated by hand", path=p.value, value=_value(o))
        elif p.value in derived:
            add(s, f"{shorten(p.value)} is derived by the reasoner and never stated by hand (the ontology marks "
                   "it dk:derived): state what it is derived from instead, such as the participants of the "
                   "conclusion event for dk:party", path=p.value, value=_value(o))
        if (p == RDF_TYPE and o.value == DEF + "Addition") or p.value in HISTORY_TERMS \
                or s.value.startswith(ID + "addition/"):
            add(s, "history records (dk:Addition) are written by `dispute-kg add` and `retract` in data/history/; "
                   "an input may not write them", path=p.value, value=_value(o))
        if not allow_sources and p.value == DEF + "sha256":
            add(s, "dk:sha256 is source metadata, written by `dispute-kg source add` from the source's text",
                path=p.value)
        if p.value.startswith(OWL) and p.value not in (OWL + "sameAs", OWL + "differentFrom"):
            add(s, f"{shorten(p.value)} is ontology vocabulary; additions state facts about instances",
                path=p.value)
    return problems


XSD = "http://www.w3.org/2001/XMLSchema#"
CHECKED_DATATYPES = frozenset(XSD + t for t in ("date", "dateTime", "gYear", "gYearMonth", "integer", "decimal",
                                                "double", "boolean", "nonNegativeInteger", "positiveInteger",
                                                "anyURI"))


def literal_rules(delta: Delta, loc: Locator) -> list[Problem]:
    """Literals whose lexical form their datatype does not allow ("1956-02-30"^^xsd:date): Oxigraph's
    cast to the datatype decides (it is unbound for an invalid form), so no reasoner or SHACL engine
    later meets a value it cannot read."""
    store = ox.Store()
    problems = []
    checked: dict[Any, bool] = {}
    for s, p, o in delta.triples:
        if not isinstance(o, ox.Literal) or o.datatype.value not in CHECKED_DATATYPES:
            continue
        if o not in checked:
            rows = list(store.query(f"SELECT ?v ?ok WHERE {{ BIND (<{o.datatype.value}>(STR(?v)) AS ?ok) }}",
                                    substitutions={ox.Variable("v"): o}))
            checked[o] = bool(rows) and rows[0]["ok"] is not None
        if checked[o]:
            continue
        focus = s.value if isinstance(s, ox.NamedNode) else str(s)
        file, line, col = _locate_literal(loc, o.value, focus)
        problems.append(Problem("input", focus, f'"{o.value}" is not a valid {shorten(o.datatype.value)}',
                                path=p.value, value=o.value, expects=f"a value {shorten(o.datatype.value)} allows "
                                "(a real calendar date, digits for a number)", file=file, line=line, column=col))
    return problems


def _locate_literal(loc: Locator, value: str, subject: str) -> tuple[str, int, int]:
    where = loc.locate(subject)
    for f in loc.files:
        lines = f.text.splitlines()
        first = max(1, where[1]) if where[0] == f.display else 1
        for start in (first, 1):
            for lineno, line in enumerate(lines[start - 1:], start):
                col = line.find(f'"{value}"')
                # a string's quotes survive the masking, a comment's characters do not
                if col >= 0 and f.code_lines[lineno - 1][col:col + 1] == '"':
                    return (f.display, lineno, col + 1)
    return where


def _value(term: Any) -> str:
    return term.value if hasattr(term, "value") else str(term)


def registered_source_rules(delta: Delta, loc: Locator, is_source: Any) -> list[Problem]:
    """An input may not write the metadata of a registered source: the source's file in data/sources/
    holds it, written by `dispute-kg source add`. `is_source(node)` says whether the store has it as one."""
    problems = []
    for node in sorted({s for s, _, _ in delta.triples if isinstance(s, ox.NamedNode)}, key=str):
        if is_source(node):
            file, line, col = loc.locate(node.value)
            problems.append(Problem("input", node.value, "is a registered source: its metadata lives in its file "
                                    "under data/sources/ and is written by `dispute-kg source add`; an input may "
                                    "not add to it", file=file, line=line, column=col))
    return problems


def _locate_bnode(delta: Delta, node: Any) -> tuple[str, int, int]:
    if not delta.files:
        return ("", 0, 0)
    f = delta.files[0]
    for lineno, line in enumerate(f.text.splitlines(), 1):
        if "[" in line or "_:" in line or "(" in line:
            return (f.display, lineno, max(1, min(i for i in (line.find("["), line.find("_:"), line.find("("))
                                                   if i >= 0) + 1))
    return (f.display, 0, 0)


def vocabulary(delta: Delta, schema: Schema, loc: Locator) -> list[Problem]:
    defined = schema.defined_terms
    local_names = sorted(t[len(DEF):] for t in defined)
    problems = []
    seen = set()
    for s, p, o in delta.triples:
        candidates = [p, o]
        if isinstance(o, ox.Literal):
            candidates.append(o.datatype)
        for term in candidates:
            if not isinstance(term, ox.NamedNode) or term.value in defined:
                continue
            if not term.value.startswith(DEF):
                problem = _standard_term_problem(s, p, term, schema, loc, seen)
                if problem:
                    problems.append(problem)
                continue
            key = (s.value if isinstance(s, ox.NamedNode) else str(s), term.value)
            if key in seen:
                continue
            seen.add(key)
            name = term.value[len(DEF):]
            close = difflib.get_close_matches(name, local_names, n=1, cutoff=0.6)
            if not close:
                close = difflib.get_close_matches(name.lower(), [n.lower() for n in local_names], n=1, cutoff=0.6)
                close = [next(n for n in local_names if n.lower() == close[0])] if close else []
            hint = f"; did you mean dk:{close[0]}?" if close else "; see ontology/dispute.ttl for the defined terms"
            file, line, col = locate_term(loc, f"dk:{name}", term.value, key[0])
            problems.append(Problem("vocabulary", key[0], f"uses dk:{name}, which the ontology does not define{hint}",
                                    path=p.value if term != p else "", value=term.value,
                                    expects="terms defined by the ontology (with an rdfs:label)",
                                    file=file, line=line, column=col))
    return problems


def _standard_term_problem(s: Any, p: Any, term: Any, schema: Schema, loc: Locator,
                           seen: set[tuple[str, str]]) -> Problem | None:
    """A term from a reused vocabulary (SKOS, PROV-O, ...) that the vocabulary does not define."""
    from ..rdf.vocabularies import unknown_term

    found = unknown_term(term.value, schema.used_terms, schema.vocabulary_terms)
    key = (s.value if isinstance(s, ox.NamedNode) else str(s), term.value)
    if found is None or key in seen:
        return None
    seen.add(key)
    curie, vocabulary, hint = found
    file, line, col = locate_term(loc, curie, term.value, key[0])
    return Problem("vocabulary", key[0], f"uses {curie}, which {vocabulary} does not define"
                   f"{hint or '; see the vocabulary for its terms'}",
                   path=p.value if term != p else "", value=term.value,
                   expects=f"terms that {vocabulary} defines", file=file, line=line, column=col)


def locate_term(loc: Locator, curie: str, iri: str, subject: str = "") -> tuple[str, int, int]:
    """The line of the triple that uses a term: its first use at or after where the subject is
    described, else its first use anywhere (comments and strings never count)."""
    where = loc.locate(subject) if subject else ("", 0, 0)
    for f in loc.files:
        forms = [f"<{iri}>"] + [f"{pfx}:{iri[len(ns):]}" for pfx, ns in f.prefixes.items() if iri.startswith(ns)]
        first = 1 if where[0] != f.display else max(1, where[1])
        for start in (first, 1):
            for lineno, line in enumerate(f.code_lines[start - 1:], start):
                for form in forms:
                    col = _token_index(line, form)
                    if col >= 0:
                        return (f.display, lineno, col + 1)
    return (loc.files[0].display, 0, 0) if loc.files else ("", 0, 0)
