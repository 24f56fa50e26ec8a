"""Validate new assertions against the current graph, incrementally, without changing anything.

The pipeline (DESIGN.md, "Validating new assertions"):

1. parse every input file (errors located to file:line:column) and apply the input rules
   (size, prefixes, no blank nodes, subjects under id/, no ontology or source-text edits);
2. vocabulary: every dk: term used must be defined by the ontology, and every term of a reused
   vocabulary (SKOS, PROV-O, ...) by that vocabulary (`vocabularies`; closest term suggested);
3. neighbourhood: the input's nodes and their outgoing edges in the built store, which already
   holds the OWL 2 RL closure of the current graph, form the part of the graph the input touches;
4. OWL 2 RL closes ontology + input + that neighbourhood: the new entailments of the input (rules.py,
   the build's SPARQL-rules reasoner, when the result is consistent; otherwise owlrl, whose equality
   semantics then decide which nodes a refusal reports; DISPUTE_KG_REASONER=owlrl forces owlrl);
5. focus nodes: the input's and the new entailments' nodes, plus every node whose shapes reach a
   changed triple through the shapes' paths and SHACL-SPARQL patterns (read backwards); the data
   each focus node's shapes read (read forwards along the same paths) is fetched from the store;
6. pyshacl validates only those focus nodes (``focus_nodes``) on that data;
7. provenance: every new selection's offsets reproduce its quote in a registered source;
8. OWL consistency (disjoint classes, functional properties, owl:differentFrom) and the QC checks
   of queries/checks/ on the focus nodes;
9. duplicates: triples already in the graph are reported and not stored twice; an input with
   nothing new, or a new assertion node that repeats an existing one, is refused.

Because the store holds the closure of the current graph, and each OWL 2 RL rule this ontology
uses joins the input only with the input's own nodes' edges (inverses and transitive closures are
materialised), the local closure adds exactly what a whole-graph closure would add; and because
each focus node gets every triple its shapes can read, the violations equal a full validation's
(tests/test_incremental.py checks both on random inputs).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from .errors import InputError
from .namespaces import DEF, ID, INFERRED_GRAPH, PREFIXES, shorten
from .project import Project

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
OWL = "http://www.w3.org/2002/07/owl#"
SH = "http://www.w3.org/ns/shacl#"
OA = "http://www.w3.org/ns/oa#"
PROV = "http://www.w3.org/ns/prov#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDF_TYPE = ox.NamedNode(RDF + "type")
RDFS_LABEL = ox.NamedNode(RDFS + "label")
DK_TEXT = ox.NamedNode(DEF + "text")
DK_SOURCE = ox.NamedNode(DEF + "Source")
OWL_SAME_AS = ox.NamedNode(OWL + "sameAs")

MAX_INPUT_BYTES = int(os.environ.get("DISPUTE_KG_MAX_INPUT_BYTES", 16 * 1024 * 1024))
MAX_PREFIXES = int(os.environ.get("DISPUTE_KG_MAX_PREFIXES", 256))
INPUT_SUFFIXES = {".ttl", ".nt", ".trig", ".jsonld"}
WILDCARD = "*"

Term = ox.NamedNode | ox.BlankNode | ox.Literal
Triple = tuple[Any, Any, Any]


# ------------------------------------------------------------------------------------------
# Report objects
# ------------------------------------------------------------------------------------------

@dataclass(frozen=True, order=True)
class Problem:
    """One finding, located in the input when it can be."""

    stage: str  # parse, input, vocabulary, shacl, provenance, consistency, check, duplicate
    focus: str
    message: str
    path: str = ""
    value: str = ""
    severity: str = "Violation"  # Violation (refuses), Warning (refuses only with --strict), Info
    expects: str = ""
    file: str = ""
    line: int = 0
    column: int = 0
    shape: str = ""

    def where(self) -> str:
        if not self.file:
            return ""
        out = self.file
        if self.line:
            out += f":{self.line}"
            if self.column:
                out += f":{self.column}"
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationReport:
    """What validating one input found; `conforms` is the verdict, `exit_code` the CLI's."""

    inputs: list[str]
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True
    strict: bool = False
    triples: int = 0  # triples in the input
    new_triples: list[Triple] = field(default_factory=list)  # what `add` would store
    duplicates: list[Triple] = field(default_factory=list)
    inferred: list[Triple] = field(default_factory=list)  # new OWL 2 RL entailments
    uninferred: list[Triple] = field(default_factory=list)  # inferred triples the input now asserts
    focus_nodes: list[str] = field(default_factory=list)
    neighbourhood: int = 0  # triples handed to pyshacl
    seconds: dict[str, float] = field(default_factory=dict)
    shacl_report: Any = None  # rdflib.Graph: the sh:ValidationReport
    input_sha256: str = ""
    stopped: str = ""  # the stage after which the pipeline stopped, if it did

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Violation"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return self.readable and not self.errors and not (self.strict and self.warnings)

    @property
    def exit_code(self) -> int:
        if not self.readable:
            return 2
        return 0 if self.conforms else 1

    # -- rendering ------------------------------------------------------------------------
    def to_text(self) -> str:
        lines: list[str] = []
        names = ", ".join(self.inputs) or "(graph)"
        if not self.readable:
            lines.append(f"{names}: cannot be read")
        groups: dict[str, list[Problem]] = {}
        for p in sorted(self.problems, key=lambda p: (p.line or 10**9, p.focus, p.stage, p.message)):
            if p.severity == "Info":
                continue
            groups.setdefault(p.focus, []).append(p)
        for focus, probs in groups.items():
            where = next((p.where() for p in probs if p.file), "")
            head = shorten(focus) if focus else "(input)"
            lines.append(f"{head}" + (f"  ({where})" if where else ""))
            for p in probs:
                kind = "error" if p.severity == "Violation" else p.severity.lower()
                parts = [f"  {kind} [{p.stage}]"]
                if p.path:
                    parts.append(shorten(p.path))
                if p.value and p.value != p.focus:
                    parts.append(("= " if p.path else "") + _show(p.value))
                lines.append(" ".join(parts) + f": {p.message}")
                if p.expects and p.expects != p.message:
                    lines.append(f"      expects: {p.expects}")
        infos = [p for p in self.problems if p.severity == "Info"]
        for p in infos:
            lines.append(f"note: {p.where() + ': ' if p.where() else ''}{p.message}")
        if self.readable and self.stopped:
            lines.append(f"{self.triples} triple(s) read; stopped after the {self.stopped} check (fix these first)")
        elif self.readable:
            lines.append(
                f"{self.triples} triple(s) read, {len(self.new_triples)} new, {len(self.duplicates)} already "
                f"present, {len(self.inferred)} inferred; {len(self.focus_nodes)} focus node(s) validated on "
                f"{self.neighbourhood} triple(s) in {sum(self.seconds.values()):.2f} s")
        nerr, nwarn = len(self.errors), len(self.warnings)
        if self.conforms:
            verdict = "CONFORMS" + (f" ({nwarn} warning(s))" if nwarn else "")
        elif not self.readable:
            verdict = "UNREADABLE"
        else:
            verdict = f"REFUSED ({nerr} violation(s)" + (f", {nwarn} warning(s), --strict" if
                                                        self.strict and nwarn else "") + ")"
        lines.append("verdict: " + verdict)
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps({
            "inputs": self.inputs,
            "conforms": self.conforms,
            "readable": self.readable,
            "exit_code": self.exit_code,
            "triples": self.triples,
            "new_triples": len(self.new_triples),
            "duplicates": [[_nt(t) for t in d] for d in self.duplicates],
            "inferred": len(self.inferred),
            "focus_nodes": self.focus_nodes,
            "neighbourhood_triples": self.neighbourhood,
            "seconds": self.seconds,
            "input_sha256": self.input_sha256,
            "problems": [p.to_dict() for p in self.problems],
        }, indent=2, sort_keys=True)

    def report_graph(self) -> Any:
        """The SHACL validation report, with the pipeline's other findings as results too."""
        import rdflib
        from rdflib.namespace import SH as RSH

        g = rdflib.Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        g.bind("dksh", "https://w3id.org/dispute-kg/shapes#")
        if self.shacl_report is not None:
            for t in self.shacl_report:
                g.add(t)
        reports = list(g.subjects(rdflib.RDF.type, RSH.ValidationReport))
        report = reports[0] if reports else rdflib.BNode()
        g.set((report, rdflib.RDF.type, RSH.ValidationReport))
        g.set((report, RSH.conforms, rdflib.Literal(self.conforms)))
        for i, p in enumerate(x for x in self.problems if x.stage != "shacl" and x.severity != "Info"):
            r = rdflib.BNode(f"pipeline{i}")
            g.add((report, RSH.result, r))
            g.add((r, rdflib.RDF.type, RSH.ValidationResult))
            if p.focus.startswith("http"):
                g.add((r, RSH.focusNode, rdflib.URIRef(p.focus)))
            if p.path.startswith("http"):
                g.add((r, RSH.resultPath, rdflib.URIRef(p.path)))
            if p.value:
                g.add((r, RSH.value, rdflib.Literal(p.value)))
            g.add((r, RSH.resultMessage, rdflib.Literal(p.message)))
            g.add((r, RSH.resultSeverity, RSH[p.severity]))
            g.add((r, RSH.sourceShape, rdflib.URIRef(f"https://w3id.org/dispute-kg/shapes#pipeline-{p.stage}")))
        return g

    def to_turtle(self) -> str:
        return self.report_graph().serialize(format="longturtle")


def _show(value: str) -> str:
    if value.startswith("http"):
        return ", ".join(shorten(v) if v.startswith("http") else v for v in value.split(", "))
    return value if len(value) <= 80 else value[:77] + "..."


def _nt(term: Any) -> str:
    return str(term)


# ------------------------------------------------------------------------------------------
# Parsing and input rules
# ------------------------------------------------------------------------------------------

@dataclass
class InputFile:
    display: str
    text: str
    suffix: str
    prefixes: dict[str, str]


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
            for lineno, line in enumerate(f.text.splitlines(), 1):
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
    from .rdfio import parse_quads

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
    return InputFile(shown, text, suffix, prefixes), quads


# ------------------------------------------------------------------------------------------
# Ontology and shapes, read once per process
# ------------------------------------------------------------------------------------------

@dataclass
class Schema:
    ontology_triples: list[Triple]  # ox triples of the ontology files
    reasoning_graph: Any  # rdflib graph: the ontology without annotations, for owlrl
    defined_terms: set[str]  # dk: terms with an rdfs:label
    shapes: Any  # rdflib graph of the shapes
    shape_paths: ShapePaths


_SCHEMA: dict[str, Schema] = {}
ANNOTATIONS = {RDFS + "label", RDFS + "comment", SKOS + "definition", SKOS + "prefLabel", SKOS + "altLabel",
               SKOS + "note", OWL + "versionInfo", OWL + "versionIRI"}


def load_schema(project: Project) -> Schema:
    import rdflib

    from .rdfio import read_quads, to_rdflib
    from .validation import load_shapes

    h = hashlib.sha256()
    for path in [*project.ontology_files, *project.shape_files]:
        h.update(project.relpath(path).encode() + b"\0" + path.read_bytes())
    key = h.hexdigest()
    if key in _SCHEMA:
        return _SCHEMA[key]
    triples: list[Triple] = []
    for path in project.ontology_files:
        for q in read_quads(path, None, display=project.relpath(path)):
            triples.append((q.subject, q.predicate, q.object))
    reasoning = rdflib.Graph()
    for s, p, o in triples:
        if p.value in ANNOTATIONS or p.value.startswith("http://purl.org/dc/terms/"):
            continue
        reasoning.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    defined = {s.value for s, p, _ in triples if p == RDFS_LABEL and isinstance(s, ox.NamedNode)
               and s.value.startswith(DEF)}
    shapes = load_shapes(project.shape_files)
    schema = Schema(triples, reasoning, defined, shapes, ShapePaths(shapes))
    _SCHEMA[key] = schema
    return schema


# ------------------------------------------------------------------------------------------
# What the shapes read: step sequences from a focus node
# ------------------------------------------------------------------------------------------

Step = tuple[str, bool]  # (predicate IRI or WILDCARD, forwards?)


class ShapePaths:
    """The paths each shape reads from its focus node, from sh:path expressions, nested shapes and
    the triple patterns of SHACL-SPARQL constraints and targets, as sequences of steps.

    Forwards they say which triples a focus node's validation reads; backwards, which focus nodes a
    changed triple can affect. A variable predicate (`?p`) ends a sequence: in our shapes it reaches
    ontology terms, which additions may not change (the input rules refuse it)."""

    def __init__(self, shapes: Any) -> None:
        import rdflib
        from rdflib.namespace import SH as RSH

        self.g = shapes
        self.RSH = RSH
        self.rdflib = rdflib
        self.prefix_text = self._prefixes()
        self.targets: list[tuple[Any, dict]] = []  # (shape, target description)
        self.sequences: dict[Any, set[tuple[Step, ...]]] = {}
        for shape in set(shapes.subjects(rdflib.RDF.type, RSH.NodeShape)) | set(
                shapes.subjects(RSH.targetClass, None)) | set(shapes.subjects(RSH.target, None)):
            target = self._targets(shape)
            if not any(target.values()):
                continue
            seqs = set(self._node_shape(shape, (), 0))
            for query in target["sparql"]:
                seqs |= set(self._sparql(query))
            self.sequences[shape] = {s for s in seqs if s}
            self.targets.append((shape, target))
        self.all_sequences = set().union(*self.sequences.values()) if self.sequences else set()
        # index: predicate -> prefixes (sequences before a step on that predicate), with direction
        self.by_predicate: dict[str, set[tuple[tuple[Step, ...], bool]]] = {}
        for seq in self.all_sequences:
            for i, (pred, fwd) in enumerate(seq):
                self.by_predicate.setdefault(pred, set()).add((seq[:i], fwd))
        self.tries = {shape: _trie(seqs) for shape, seqs in self.sequences.items()}
        self.max_depth = max((len(s) for s in self.all_sequences), default=0)

    def _prefixes(self) -> str:
        RSH = self.RSH
        out = []
        for decl in self.g.objects(None, RSH.declare):
            prefix = self.g.value(decl, RSH.prefix)
            ns = self.g.value(decl, RSH.namespace)
            if prefix is not None and ns is not None:
                out.append(f"PREFIX {prefix}: <{ns}>")
        return "\n".join(sorted(set(out))) + "\n"

    def _targets(self, shape: Any) -> dict:
        RSH = self.RSH
        g = self.g
        return {
            "class": [str(c) for c in g.objects(shape, RSH.targetClass)]
                     + ([str(shape)] if (shape, self.rdflib.RDF.type, self.rdflib.OWL.Class) in g
                        or (shape, self.rdflib.RDF.type, self.rdflib.RDFS.Class) in g else []),
            "subjects_of": [str(p) for p in g.objects(shape, RSH.targetSubjectsOf)],
            "objects_of": [str(p) for p in g.objects(shape, RSH.targetObjectsOf)],
            "node": [str(n) for n in g.objects(shape, RSH.targetNode)],
            "sparql": [str(g.value(t, RSH.select)) for t in g.objects(shape, RSH.target)
                       if g.value(t, RSH.select) is not None],
        }

    def _path(self, path: Any, depth: int = 0) -> list[tuple[Step, ...]]:
        rdflib, RSH, g = self.rdflib, self.RSH, self.g
        if isinstance(path, rdflib.URIRef):
            return [((str(path), True),)]
        inverse = g.value(path, RSH.inversePath)
        if inverse is not None:
            return [tuple((p, not f) for p, f in reversed(seq)) for seq in self._path(inverse, depth)]
        alt = g.value(path, RSH.alternativePath)
        if alt is not None:
            return [s for item in rdflib.collection.Collection(g, alt) for s in self._path(item, depth)]
        for kind in (RSH.zeroOrMorePath, RSH.oneOrMorePath, RSH.zeroOrOnePath):
            inner = g.value(path, kind)
            if inner is not None:
                base = self._path(inner, depth)
                out: list[tuple[Step, ...]] = [()] if kind != RSH.oneOrMorePath else []
                layer = [()]
                for _ in range(3):  # bounded unrolling; none of our shapes repeats a path
                    layer = [a + b for a in layer for b in base]
                    out.extend(layer)
                return out
        if (path, rdflib.RDF.first, None) in g:
            seqs: list[tuple[Step, ...]] = [()]
            for item in rdflib.collection.Collection(g, path):
                seqs = [a + b for a in seqs for b in self._path(item, depth)]
            return seqs
        return []

    def _node_shape(self, shape: Any, prefix: tuple[Step, ...], depth: int) -> Iterator[tuple[Step, ...]]:
        """Sequences read when `shape` is applied to the node reached by `prefix`."""
        RSH, g = self.RSH, self.g
        if depth > 6:
            return
        yield (*prefix, (RDF + "type", True))
        yield from self._value_constraints(shape, prefix, depth)
        for prop in g.objects(shape, RSH.property):
            path = g.value(prop, RSH.path)
            if path is None:
                continue
            for seq in self._path(path):
                yield prefix + seq
                yield prefix + seq + ((RDF + "type", True),)
                yield from self._value_constraints(prop, prefix + seq, depth)
        for sparql in g.objects(shape, RSH.sparql):
            select = g.value(sparql, RSH.select)
            if select is not None:
                for seq in self._sparql(str(select)):
                    yield prefix + seq
        for cmp in (RSH.equals, RSH.disjoint, RSH.lessThan, RSH.lessThanOrEquals):
            for p in g.objects(shape, cmp):
                yield (*prefix, (str(p), True))

    def _value_constraints(self, shape: Any, prefix: tuple[Step, ...], depth: int) -> Iterator[tuple[Step, ...]]:
        rdflib, RSH, g = self.rdflib, self.RSH, self.g
        nested: list[Any] = []
        for kind in (RSH.node, RSH.qualifiedValueShape, RSH["not"]):
            nested.extend(g.objects(shape, kind))
        for kind in (RSH["or"], RSH["and"], RSH.xone):
            for lst in g.objects(shape, kind):
                nested.extend(rdflib.collection.Collection(g, lst))
        for inner in nested:
            yield from self._node_shape(inner, prefix, depth + 1)

    def _sparql(self, select: str) -> list[tuple[Step, ...]]:
        """Simple paths from $this through the query's triple patterns (variables as nodes)."""
        from rdflib.paths import AlternativePath, InvPath, MulPath, SequencePath
        from rdflib.plugins.sparql import prepareQuery
        from rdflib.term import Variable

        query = prepareQuery(self.prefix_text + select)
        edges: list[tuple[Any, tuple[Step, ...], Any]] = []

        def path_seqs(p: Any) -> list[tuple[Step, ...]]:
            if isinstance(p, Variable):
                return [((WILDCARD, True),)]
            if isinstance(p, InvPath):
                return [tuple((q, not f) for q, f in reversed(s)) for s in path_seqs(p.arg)]
            if isinstance(p, SequencePath):
                seqs: list[tuple[Step, ...]] = [()]
                for part in p.args:
                    seqs = [a + b for a in seqs for b in path_seqs(part)]
                return seqs
            if isinstance(p, AlternativePath):
                return [s for part in p.args for s in path_seqs(part)]
            if isinstance(p, MulPath):
                base = path_seqs(p.path)
                return [s for s in base] + [a + b for a in base for b in base]
            return [((str(p), True),)]

        def walk(node: Any) -> None:
            if isinstance(node, dict):
                triples = node.get("triples")
                if isinstance(triples, list):
                    for t in triples:
                        if isinstance(t, tuple | list) and len(t) == 3:
                            for seq in path_seqs(t[1]):
                                edges.append((t[0], seq, t[2]))
                for value in node.values():
                    walk(value)
            elif isinstance(node, list | tuple):
                for value in node:
                    walk(value)
            elif hasattr(node, "__dict__") and not isinstance(node, str):
                walk(vars(node))

        walk(query.algebra)
        this = Variable("this")
        out: list[tuple[Step, ...]] = []

        def dfs(term: Any, seq: tuple[Step, ...], seen: frozenset) -> None:
            for s, steps, o in edges:
                for here, there, forward in ((s, o, True), (o, s, False)):
                    if here != term or there in seen:
                        continue
                    oriented = steps if forward else tuple((q, not f) for q, f in reversed(steps))
                    new = seq + oriented
                    out.append(new)
                    if WILDCARD in (q for q, _ in oriented) or not isinstance(there, Variable):
                        continue  # a variable predicate reaches ontology terms; constants are fixed
                    dfs(there, new, seen | {there})

        dfs(this, (), frozenset({this}))
        return out

    def shapes_for(self, types: set[str], out_preds: set[str], in_preds: set[str], node: str,
                   superclasses: dict[str, set[str]]) -> list[Any]:
        """Shapes that may target a node with these types and edges (SPARQL targets always may)."""
        classes = set()
        for t in types:
            classes |= superclasses.get(t, {t})
        hits = []
        for shape, target in self.targets:
            if (set(target["class"]) & classes or set(target["subjects_of"]) & out_preds
                    or set(target["objects_of"]) & in_preds or node in target["node"] or target["sparql"]):
                hits.append(shape)
        return hits


def _trie(seqs: Iterable[tuple[Step, ...]]) -> dict:
    root: dict = {}
    for seq in seqs:
        node = root
        for step in seq:
            node = node.setdefault(step, {})
    return root


# ------------------------------------------------------------------------------------------
# A view over the built store plus the input and its entailments
# ------------------------------------------------------------------------------------------

class View:
    def __init__(self, store: ox.Store | None) -> None:
        self.store = store
        self.local = ox.Store()

    def add_local(self, triples: Iterable[Triple]) -> None:
        self.local.extend([ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in triples])

    def match(self, s: Any = None, p: Any = None, o: Any = None) -> set[Triple]:
        out: set[Triple] = set()
        if self.store is not None:
            for q in self.store.quads_for_pattern(s, p, o, None):
                out.add((q.subject, q.predicate, q.object))
        for q in self.local.quads_for_pattern(s, p, o, None):
            out.add((q.subject, q.predicate, q.object))
        return out

    def in_store(self, t: Triple, graph: Any = None) -> bool:
        if self.store is None:
            return False
        return next(iter(self.store.quads_for_pattern(t[0], t[1], t[2], graph)), None) is not None

    def asserted_in_store(self, t: Triple) -> bool:
        if self.store is None:
            return False
        for q in self.store.quads_for_pattern(t[0], t[1], t[2], None):
            if not (isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == INFERRED_GRAPH):
                return True
        return False


def _is_node(t: Any) -> bool:
    return isinstance(t, ox.NamedNode | ox.BlankNode)


def _is_data_node(t: Any) -> bool:
    return isinstance(t, ox.NamedNode) and not t.value.startswith(DEF) and t.value.startswith(ID)


# ------------------------------------------------------------------------------------------
# The pipeline
# ------------------------------------------------------------------------------------------

@dataclass
class Delta:
    """A parsed input: its triples and where they came from."""

    triples: list[Triple]
    files: list[InputFile]
    sha256: str
    names: list[str]


def read_inputs(inputs: Any, project: Project) -> tuple[Delta | None, list[Problem]]:
    """Parse paths (or take an rdflib graph); located parse problems when any input is unreadable."""
    import rdflib

    from .rdfio import to_oxigraph

    problems: list[Problem] = []
    triples: list[Triple] = []
    files: list[InputFile] = []
    h = hashlib.sha256()
    names: list[str] = []
    if isinstance(inputs, rdflib.Graph):
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


def _triple_key(t: Triple) -> tuple[str, str, str]:
    return (str(t[0]), str(t[1]), str(t[2]))


def input_rules(delta: Delta, loc: Locator, *, allow_sources: bool = False) -> list[Problem]:
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
        if p.value.startswith(OWL) and p.value not in (OWL + "sameAs", OWL + "differentFrom"):
            add(s, f"{shorten(p.value)} is ontology vocabulary; additions state facts about instances",
                path=p.value)
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
            file, line, col = _locate_term(loc, f"dk:{name}", term.value)
            problems.append(Problem("vocabulary", key[0], f"uses dk:{name}, which the ontology does not define{hint}",
                                    path=p.value if term != p else "", value=term.value,
                                    expects="terms defined by the ontology (with an rdfs:label)",
                                    file=file, line=line, column=col))
    return problems


def _standard_term_problem(s: Any, p: Any, term: Any, schema: Schema, loc: Locator,
                           seen: set[tuple[str, str]]) -> Problem | None:
    """A term from a reused vocabulary (SKOS, PROV-O, ...) that the vocabulary does not define."""
    from .vocabularies import unknown_term

    if not hasattr(schema, "_used"):
        schema._used = {t.value for triple in schema.ontology_triples  # type: ignore[attr-defined]
                        for t in triple if isinstance(t, ox.NamedNode)}
    found = unknown_term(term.value, schema._used)  # type: ignore[attr-defined]
    key = (s.value if isinstance(s, ox.NamedNode) else str(s), term.value)
    if found is None or key in seen:
        return None
    seen.add(key)
    curie, vocabulary, hint = found
    file, line, col = _locate_term(loc, curie, term.value)
    return Problem("vocabulary", key[0], f"uses {curie}, which {vocabulary} does not define"
                   f"{hint or '; see the vocabulary for its terms'}",
                   path=p.value if term != p else "", value=term.value,
                   expects=f"terms that {vocabulary} defines", file=file, line=line, column=col)


def _locate_term(loc: Locator, curie: str, iri: str) -> tuple[str, int, int]:
    for f in loc.files:
        forms = [f"<{iri}>"] + [f"{pfx}:{iri[len(ns):]}" for pfx, ns in f.prefixes.items() if iri.startswith(ns)]
        for lineno, line in enumerate(f.text.splitlines(), 1):
            for form in forms:
                col = _token_index(line, form)
                if col >= 0:
                    return (f.display, lineno, col + 1)
    return (loc.files[0].display, 0, 0) if loc.files else ("", 0, 0)


def _superclasses(schema: Schema) -> dict[str, set[str]]:
    if hasattr(schema, "_super"):
        return schema._super  # type: ignore[attr-defined]
    sub: dict[str, set[str]] = {}
    for s, p, o in schema.ontology_triples:
        if p.value == RDFS + "subClassOf" and isinstance(o, ox.NamedNode):
            sub.setdefault(s.value, set()).add(o.value)
    closure: dict[str, set[str]] = {}

    def up(c: str, seen: set[str]) -> set[str]:
        out = {c}
        for parent in sub.get(c, ()):
            if parent not in seen:
                out |= up(parent, seen | {parent})
        return out

    for c in set(sub) | {o for v in sub.values() for o in v}:
        closure[c] = up(c, {c})
    schema._super = closure  # type: ignore[attr-defined]
    return closure


def local_closure(schema: Schema, view: View, delta_triples: list[Triple]) -> tuple[list[Triple], list[str]]:
    """The new OWL 2 RL entailments of the input: owlrl over ontology + input + its nodes' edges."""
    import rdflib

    from .rdfio import to_oxigraph, to_rdflib
    from .reasoning import ERROR_NS, keep

    expanded: set[Any] = set()
    widened: set[Any] = set()
    graph_triples: set[Triple] = set(delta_triples)
    frontier = {t for s, _, o in delta_triples for t in (s, o) if _is_node(t) and not str(t).startswith(f"<{DEF}")}
    inferred: set[Triple] = set()
    errors: list[str] = []
    same_pairs: set[tuple[Any, Any]] = set()
    reasoner = os.environ.get("DISPUTE_KG_REASONER", "auto")
    if reasoner != "owlrl":
        fast = _rules_closure(schema, view, frontier, graph_triples)
        if fast is not None:
            return fast, []
    for _round in range(4):
        for node in frontier - expanded:
            graph_triples |= view.match(node, None, None)
            expanded.add(node)
        g = rdflib.Graph()
        for t in schema.reasoning_graph:
            g.add(t)
        for s, p, o in graph_triples:
            g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        before = set(g)
        import owlrl

        owlrl.DeductiveClosure(owlrl.OWLRL_Semantics, axiomatic_triples=False, datatype_axioms=False).expand(g)
        errors = sorted(str(text) for m in g.subjects(rdflib.RDF.type, rdflib.URIRef(ERROR_NS + "ErrorMessage"))
                        for text in g.objects(m, rdflib.URIRef(ERROR_NS + "error")))
        added = [t for t in g if t not in before]
        new = [t for t in added if keep(t)]
        inferred = {(to_oxigraph(s), to_oxigraph(p), to_oxigraph(o)) for s, p, o in new
                    if not isinstance(o, rdflib.BNode)}
        inferred = {t for t in inferred if t not in graph_triples and not view.in_store(t)}
        # equality spreads every edge of the merged nodes (also of equated vocabulary terms, such as two
        # values of a functional property pointing at concepts): widen to them and close again
        same_pairs = {(to_oxigraph(s), to_oxigraph(o)) for s, p, o in added
                      if p == rdflib.OWL.sameAs and s != o and isinstance(s, rdflib.URIRef)
                      and isinstance(o, rdflib.URIRef)}
        same = {t for pair in same_pairs for t in pair}
        grow = same - widened
        if not grow:
            break
        for node in grow:
            graph_triples |= view.match(None, None, node)
        widened |= grow
        frontier = grow
    errors += [f"would make {a.value} and {b.value} the same individual (owl:sameAs), because a functional "
               "property would have both as values" for a, b in sorted(same_pairs, key=lambda x: (x[0].value,
                                                                                              x[1].value))
               if a.value < b.value]
    return sorted(inferred, key=_triple_key), errors


def _rules_closure(schema: Schema, view: View, frontier: set[Any], graph_triples: set[Triple]) -> list[Triple] | None:
    """The same entailments from rules.py (SPARQL rules in an in-memory Oxigraph: ~50x faster than
    owlrl here), or None when it cannot stand in for owlrl: an axiom it does not implement, or any
    inconsistency (two values of a functional property: owlrl then equates them, and only owlrl's
    result says which nodes that breaks), so refusals keep owlrl's exact semantics."""
    try:
        from .rules import UnsupportedAxioms, rules_closure
    except ImportError:  # rules.py is the build's scalable reasoner; without it, owlrl does the work
        return None

    local = set(graph_triples)
    for node in frontier:
        local |= view.match(node, None, None)
    if any(p == OWL_SAME_AS or p.value == OWL + "differentFrom" for _, p, _ in local):
        return None
    default = ox.DefaultGraph()
    quads = [ox.Quad(s, p, o, default) for s, p, o in local]
    quads += [ox.Quad(s, p, o, default) for s, p, o in schema.ontology_triples]
    try:
        out, inconsistencies, _ = rules_closure(quads)
    except UnsupportedAxioms:
        return None
    if inconsistencies:
        return None
    new = {(q.subject, q.predicate, q.object) for q in out}
    return sorted((t for t in new if t not in local and not view.in_store(t)), key=_triple_key)


def affected_focus_nodes(schema: Schema, view: View, changed: Iterable[Triple]) -> set[Any]:
    """Every node whose shapes can read a changed triple: the changed triples' subjects and objects,
    and the nodes that reach them along the shapes' paths (walked backwards)."""
    paths = schema.shape_paths
    focus: set[Any] = set()
    for s, p, o in changed:
        for t in (s, o):
            if _is_data_node(t):
                focus.add(t)
        for pred in (p.value, WILDCARD):
            for prefix, forward in paths.by_predicate.get(pred, ()):
                start = s if forward else o
                if not _is_node(start):
                    continue
                nodes = {start}
                for q, fwd in reversed(prefix):
                    nxt: set[Any] = set()
                    qn = ox.NamedNode(q)
                    for n in nodes:
                        if fwd:
                            nxt |= {x for x, _, _ in view.match(None, qn, n)}
                        elif _is_node(n):
                            nxt |= {y for _, _, y in view.match(n, qn, None) if _is_node(y)}
                    nodes = nxt
                    if not nodes:
                        break
                focus |= {n for n in nodes if _is_data_node(n)}
    return focus


def gather(schema: Schema, view: View, focus: set[Any]) -> set[Triple]:
    """The triples the focus nodes' shapes read: along every path of every shape that may target
    each node, with the types of every node reached and the focus nodes' own edges."""
    paths = schema.shape_paths
    supers = _superclasses(schema)
    out: set[Triple] = set()
    typed: set[Any] = set()

    def types_of(n: Any) -> None:
        if n in typed or not _is_node(n):
            return
        typed.add(n)
        out.update(view.match(n, RDF_TYPE, None))

    for f in focus:
        own = view.match(f, None, None)
        out |= own
        incoming = view.match(None, None, f)
        types = {o.value for _, p, o in own if p == RDF_TYPE and isinstance(o, ox.NamedNode)}
        for _, _, o in own:
            types_of(o)
        typed.add(f)
        shapes = paths.shapes_for(types, {p.value for _, p, _ in own}, {p.value for _, p, _ in incoming},
                                  f.value if isinstance(f, ox.NamedNode) else "", supers)
        memo: set[tuple[int, Any]] = set()
        for shape in shapes:
            _walk(view, paths.tries[shape], {f}, out, types_of, memo)
    return out


def _walk(view: View, trie: dict, nodes: set[Any], out: set[Triple], types_of: Any, memo: set) -> None:
    for (pred, fwd), child in trie.items():
        key = (id(child), pred, fwd, frozenset(nodes))
        if key in memo:
            continue
        memo.add(key)
        nxt: set[Any] = set()
        p = None if pred == WILDCARD else ox.NamedNode(pred)
        for n in nodes:
            if not _is_node(n):
                continue
            if fwd:
                found = view.match(n, p, None)
                out |= found
                nxt |= {o for _, _, o in found}
            else:
                found = view.match(None, p, n)
                out |= found
                nxt |= {s for s, _, _ in found}
        for n in nxt:
            types_of(n)
        if child and nxt:
            _walk(view, child, nxt, out, types_of, memo)


def run_shapes(schema: Schema, data: set[Triple], focus: set[Any]) -> tuple[list[Any], Any]:
    """pyshacl on the gathered data (plus the ontology), for the focus nodes only."""
    import rdflib

    from .rdfio import to_rdflib
    from .validation import run_shacl

    g = rdflib.Graph()
    for s, p, o in schema.ontology_triples:
        g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    for s, p, o in data:
        g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    nodes = sorted((rdflib.URIRef(f.value) for f in focus if isinstance(f, ox.NamedNode)), key=str)
    if not nodes:
        return [], rdflib.Graph()
    _fix_nested_focus_filter()
    result = run_shacl(g, schema.shapes, focus_nodes=nodes)
    return result.violations, result.report_graph




def _fix_nested_focus_filter() -> None:
    """pyshacl (0.40) applies the `focus_nodes` filter also to the value nodes a nested shape
    (sh:not, sh:node, sh:or, sh:qualifiedValueShape) is evaluated on, so `sh:not [ sh:class dk:Place ]`
    silently passes for every value that is not itself a focus node and the sh:not then fails. The
    filter belongs to the top-level targets only; nested evaluations (`focus` given) run without it."""
    from pyshacl.shape import Shape

    if getattr(Shape.validate, "_dispute_kg_nested_fix", False):
        return
    original = Shape.validate

    def validate(self, executor, target_graph, focus=None, _evaluation_path=None):  # type: ignore[no-untyped-def]
        saved = executor.focus_nodes
        if focus is not None and saved:
            executor.focus_nodes = None
            try:
                return original(self, executor, target_graph, focus=focus, _evaluation_path=_evaluation_path)
            finally:
                executor.focus_nodes = saved
        return original(self, executor, target_graph, focus=focus, _evaluation_path=_evaluation_path)

    validate._dispute_kg_nested_fix = True  # type: ignore[attr-defined]
    Shape.validate = validate  # type: ignore[method-assign]


def check_provenance(view: View, delta: Delta, data: set[Triple], loc: Locator) -> list[Problem]:
    """Every selection the input describes cites a registered source, and its offsets reproduce its quote."""
    from .backends.oxigraph import OxigraphStore
    from .provenance import check_spans

    selections = {s for s, p, o in delta.triples if p.value in (OA + "hasSource", OA + "hasSelector")
                  or (p == RDF_TYPE and o.value == DEF + "TextSelection")}
    selectors = {o for s, p, o in delta.triples if p.value == OA + "hasSelector"}
    selections |= {s for s, p, o in data if p.value == OA + "hasSelector" and o in
                   {t[0] for t in delta.triples}}
    if not selections and not selectors:
        return []
    mem = ox.Store()
    mem.extend([ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in data])
    for sel in selections:
        for src in {o for _, _, o in view.match(sel, ox.NamedNode(OA + "hasSource"), None)}:
            if _is_node(src):
                mem.extend([ox.Quad(*t, ox.DefaultGraph()) for t in view.match(src, None, None)])
    problems = []
    for sp in check_spans(OxigraphStore(mem, None, True)):
        if ox.NamedNode(sp.selection) not in selections:
            continue
        message = sp.message
        if "is not a registered source" in message:
            message += "; register it first with `dispute-kg source add FILE.txt --title ... --published ... " \
                       "--publisher ...`"
        file, line, col = loc.locate(sp.selection)
        problems.append(Problem("provenance", sp.selection, message, path=OA + "hasSelector",
                                expects="text[start:end] of the registered source equals oa:exact",
                                file=file, line=line, column=col))
    return problems


def check_consistency(schema: Schema, data: set[Triple], focus: set[Any], inferred: list[Triple],
                      errors: list[str], known: list[str], loc: Locator) -> list[Problem]:
    problems = []
    for message in errors:
        if message in known:
            continue
        iris = re.findall(r"https?://[^\s'\">,)]+", message)
        ours = [i for i in iris if i.startswith(ID) and not i.startswith(DEF)]
        node = ours[-1] if ours else (iris[-1] if iris else "")
        file, line, col = loc.locate(node) if node else ("", 0, 0)
        if message.startswith("would make"):
            text, expects = message, "distinct IRIs name distinct things: a functional property has one value"
        else:
            text = f"OWL 2 RL inconsistency: {message}"
            expects = "no individual in two disjoint classes, no owl:differentFrom between the same individual"
        problems.append(Problem("consistency", node, text, expects=expects, file=file, line=line, column=col))
    functional = {s.value for s, p, o in schema.ontology_triples
                  if p == RDF_TYPE and o.value == OWL + "FunctionalProperty"}
    values: dict[tuple[Any, str], set[Any]] = {}
    for s, p, o in data:
        if s in focus and p.value in functional:
            values.setdefault((s, p.value), set()).add(o)
    for (s, p), objs in sorted(values.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
        if len(objs) > 1:
            file, line, col = loc.locate(s.value)
            problems.append(Problem("consistency", s.value,
                                    f"{shorten(p)} is functional but would have {len(objs)} values",
                                    path=p, value=", ".join(sorted(_term_value(o) for o in objs)),
                                    expects="at most one value for a functional property", file=file, line=line,
                                    column=col))
    return problems


def _term_value(t: Any) -> str:
    return t.value if hasattr(t, "value") else str(t)


def run_qc_checks(project: Project, data: set[Triple], focus: set[Any], loc: Locator,
                  schema: Schema) -> list[Problem]:
    """The QC queries of queries/checks/, on the gathered data, reporting rows about focus nodes."""
    from .backends.oxigraph import OxigraphStore
    from .checks import run_checks

    mem = ox.Store()
    mem.extend([ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in data])
    mem.extend([ox.Quad(s, p, o, ox.DefaultGraph()) for s, p, o in schema.ontology_triples])
    names = {f.value for f in focus if isinstance(f, ox.NamedNode)}
    problems = []
    for result in run_checks(OxigraphStore(mem, None, True), project.check_files):
        for row in result.rows:
            entity = row.get("entity", {}).get("value", "")
            if entity not in names:
                continue
            file, line, col = loc.locate(entity)
            problems.append(Problem("check", entity, f"{result.name}: {result.summary}",
                                    path=row.get("property", {}).get("value", ""),
                                    value=row.get("value", {}).get("value", ""), file=file, line=line,
                                    column=col))
    return problems


DESCRIPTIVE_SKIP = {RDFS + "label", SKOS + "altLabel", SKOS + "prefLabel", DEF + "note", PROV + "wasDerivedFrom"}


def duplicates(view: View, delta: Delta, schema: Schema, loc: Locator,
               store: ox.Store | None) -> tuple[list[Triple], list[Triple], list[Problem]]:
    """Split the input into new triples and triples already asserted; report repeated assertions."""
    dup = [t for t in delta.triples if view.asserted_in_store(t)]
    dupset = set(dup)
    new = [t for t in delta.triples if t not in dupset]
    problems: list[Problem] = []
    if dup and not new:
        first = dup[0][0].value
        file, line, col = loc.locate(first)
        problems.append(Problem("duplicate", first, f"nothing new: all {len(dup)} triple(s) are already in the "
                                "graph", expects="an addition adds at least one triple", file=file, line=line,
                                column=col))
    elif dup:
        for s in sorted({t[0].value for t in dup}):
            n = sum(1 for t in dup if t[0].value == s)
            file, line, col = loc.locate(s)
            problems.append(Problem("duplicate", s, f"{n} triple(s) about this node are already in the graph and "
                                    "will not be stored twice", severity="Info", file=file, line=line,
                                    column=col))
    # a new assertion node that repeats an existing assertion under another IRI
    supers = _superclasses(schema)
    subjects = {t[0] for t in new}
    for s in sorted(subjects, key=str):
        if store is None or next(iter(store.quads_for_pattern(s, None, None, None)), None) is not None:
            continue
        own = [t for t in delta.triples if t[0] == s]
        types = {o.value for _, p, o in own if p == RDF_TYPE}
        if not any(DEF + "Assertion" in supers.get(t, {t}) for t in types):
            continue
        desc = [(p, o) for _, p, o in own if p.value not in DESCRIPTIVE_SKIP]
        if len(desc) < 2:
            continue
        pattern = " ".join(f"?x {p} {o} ." for p, o in desc)
        try:
            rows = list(store.query(f"SELECT DISTINCT ?x WHERE {{ {pattern} }} LIMIT 3",
                                    use_default_graph_as_union=True))
        except (SyntaxError, ValueError):
            continue
        others = sorted(r["x"].value for r in rows if r["x"] != s)
        if others:
            file, line, col = loc.locate(s.value)
            problems.append(Problem("duplicate", s.value, f"repeats the existing assertion {shorten(others[0])} "
                                    "(same type and values under a new IRI)", value=others[0],
                                    expects="an assertion is stored once; add only what is new",
                                    file=file, line=line, column=col))
    return new, dup, problems


def validate(project: Project, inputs: Any, *, strict: bool = False, store: ox.Store | None = None,
             allow_sources: bool = False, extra_texts: dict[str, str] | None = None) -> ValidationReport:
    """Validate `inputs` (paths, or an rdflib graph) against the project's built store; changes nothing.

    `extra_texts` maps source IRIs to texts being registered alongside (for `source add`)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    names = ["(graph)"] if not isinstance(inputs, str | os.PathLike | list | tuple) else (
        [str(inputs)] if isinstance(inputs, str | os.PathLike) else [str(p) for p in inputs])
    report = ValidationReport(inputs=names, strict=strict)
    delta, problems = read_inputs(inputs, project)
    timings["parse"] = time.perf_counter() - t0
    report.seconds = timings
    if delta is None:
        report.readable = False
        report.problems = problems
        return report
    report.triples = len(delta.triples)
    report.input_sha256 = delta.sha256
    loc = Locator(delta.files)
    t = time.perf_counter()
    schema = load_schema(project)
    problems = input_rules(delta, loc, allow_sources=allow_sources)
    problems += vocabulary(delta, schema, loc)
    timings["vocabulary"] = time.perf_counter() - t
    if problems:
        report.problems = sorted(problems)
        report.stopped = "vocabulary" if any(p.stage == "vocabulary" for p in problems) else "input"
        return report

    own_store = store is None
    if own_store:
        store = open_store_read_only(project)
    try:
        return _validate_graph(project, schema, delta, loc, store, report, timings, extra_texts or {})
    finally:
        if own_store:
            del store


def open_store_read_only(project: Project) -> ox.Store:
    from .errors import BackendUnavailable

    if not project.store_path.exists():
        raise BackendUnavailable(f"no store at {project.store_path}: run `dispute-kg build` first")
    return ox.Store.read_only(str(project.store_path))


def _validate_graph(project: Project, schema: Schema, delta: Delta, loc: Locator, store: ox.Store,
                    report: ValidationReport, timings: dict[str, float],
                    extra_texts: dict[str, str]) -> ValidationReport:
    view = View(store)
    t = time.perf_counter()
    new, dup, dup_problems = duplicates(view, delta, schema, loc, store)
    report.new_triples, report.duplicates = new, dup
    timings["duplicates"] = time.perf_counter() - t

    t = time.perf_counter()
    text_triples = [(ox.NamedNode(iri), DK_TEXT, ox.Literal(text)) for iri, text in sorted(extra_texts.items())]
    view.add_local(delta.triples + text_triples)
    inferred, errors = local_closure(schema, view, delta.triples + text_triples)
    report.inferred = inferred
    report.uninferred = [t for t in new if view.in_store(t, ox.NamedNode(INFERRED_GRAPH))]
    view.add_local(inferred)
    timings["reasoning"] = time.perf_counter() - t

    t = time.perf_counter()
    changed = [t for t in new if not view.in_store(t)] + inferred + text_triples
    focus = affected_focus_nodes(schema, view, changed)
    data = gather(schema, view, focus)
    report.focus_nodes = sorted(f.value for f in focus)
    report.neighbourhood = len(data)
    timings["neighbourhood"] = time.perf_counter() - t

    t = time.perf_counter()
    violations, shacl_graph = run_shapes(schema, data, focus)
    report.shacl_report = shacl_graph
    problems: list[Problem] = []
    for v in violations:
        file, line, col = loc.locate(v.focus) if v.focus.startswith("http") else ("", 0, 0)
        # our shapes' sh:message says in plain words what the rule expects
        problems.append(Problem("shacl", v.focus, v.message, path=v.path, value=v.value,
                                severity=v.severity, expects=v.message, file=file, line=line,
                                column=col, shape=v.shape))
    timings["shacl"] = time.perf_counter() - t

    t = time.perf_counter()
    problems += check_provenance(view, delta, data, loc)
    manifest = project.manifest() or {}
    problems += check_consistency(schema, data, focus, inferred, errors, manifest.get("inconsistencies", []), loc)
    # the QC queries are a safety net: report their rows only for nodes nothing else has flagged
    flagged = {p.focus for p in problems if p.severity == "Violation"}
    problems += [p for p in run_qc_checks(project, data, focus, loc, schema) if p.focus not in flagged]
    problems += dup_problems
    timings["checks"] = time.perf_counter() - t
    report.problems = sorted(set(problems))
    return report


# ------------------------------------------------------------------------------------------
# The reference: a full validation of the whole graph plus the input (for tests and benchmarks)
# ------------------------------------------------------------------------------------------

def full_validation(project: Project, inputs: Any, store: ox.Store | None = None) -> list[Any]:
    """SHACL violations of the whole graph with the input, closed under OWL 2 RL from scratch, as the
    build and `check` would find them: the reference the incremental pipeline must equal."""
    import rdflib

    from .rdfio import quads_to_graph, to_rdflib
    from .reasoning import owl_rl_closure
    from .validation import run_shacl

    own = store is None
    store = store or open_store_read_only(project)
    delta, problems = read_inputs(inputs, project)
    if delta is None:
        raise InputError("; ".join(p.message for p in problems))
    asserted = [q for q in store if not (isinstance(q.graph_name, ox.NamedNode)
                                         and q.graph_name.value == INFERRED_GRAPH)]
    g = quads_to_graph(asserted)
    for s, p, o in delta.triples:
        g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    closure = owl_rl_closure(g)
    full = rdflib.Graph()
    for t in g:
        full.add(t)
    for t in closure.inferred:
        full.add(t)
    schema = load_schema(project)
    if own:
        del store
    return run_shacl(full, schema.shapes).violations
