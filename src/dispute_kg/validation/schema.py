"""The ontology and the shapes as validation reads them: the ontology's triples and terms, the paths
the shapes read, and the shapes compiled to queries (`shacl_store`, narrowed to focus nodes).

Compiling them parses every SHACL-SPARQL text with rdflib's SPARQL parser, which (with the imports
it needs) costs seconds, more than validating a small input does. So the build compiles them once
and writes the result to `.dispute-kg/compiled-schema.marshal` (`write_compiled`), and `load_schema`
reads it back in one `marshal.load`, with no rdflib import. The file is named by a key: the SHA-256
of the ontology and shape files' paths and bytes and of the modules that compile them. `load_schema`
computes that key from the files as they are now and trusts the file only when its key matches; on
any difference (a shape edited since the last build, a new version of the compiler) it compiles in
memory instead, with the same code, and gets the same schema. A stored schema is therefore never
stale; at worst it is not used.
"""

from __future__ import annotations

import hashlib
import importlib.util
import marshal
from functools import cached_property
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..project.folder import Project
from ..rdf.namespaces import DEF
from .common import OWL, RDFS, RDFS_LABEL, SKOS, Triple
from .shape_paths import ShapePaths

COMPILED_NAME = "compiled-schema.marshal"
FORMAT = 1
# the modules whose code decides what is compiled: a change to any of them changes the key
_COMPILERS = ("schema.py", "shape_paths.py", "shacl_store.py", "shacl_checks.py", "common.py", "checks.py")

ANNOTATIONS = {RDFS + "label", RDFS + "comment", SKOS + "definition", SKOS + "prefLabel", SKOS + "altLabel",
               SKOS + "note", OWL + "versionInfo", OWL + "versionIRI", DEF + "derived"}


class Schema:
    """What every validation reads besides the input and the store."""

    def __init__(self, data: dict, shape_files: list[Path]) -> None:
        self.key: str = data["key"]
        # the ontology in the default graph, as the in-memory stores of the later steps load it
        self.ontology_quads: list[ox.Quad] = list(ox.parse(data["ontology"], format=ox.RdfFormat.N_TRIPLES))
        self.ontology_triples: list[Triple] = [(q.subject, q.predicate, q.object) for q in self.ontology_quads]
        self.defined_terms: set[str] = set(data["defined"])  # dk: terms with an rdfs:label
        # every IRI the ontology mentions, from any vocabulary
        self.used_terms: frozenset[str] = frozenset(data["used"])
        # properties marked dk:derived: the reasoner's, never stated
        self.derived_terms: frozenset[str] = frozenset(data["derived"])
        # the terms each reused vocabulary defines (`rdf.vocabularies`, from rdflib's closed namespaces)
        self.vocabulary_terms: dict[str, frozenset[str]] = {ns: frozenset(names)
                                                            for ns, names in data["vocabularies"].items()}
        self.shape_paths = ShapePaths.from_data(data["paths"])
        # the QC checks of queries/checks/: (name, header summary, query text, file name)
        self.qc_checks: list[tuple[str, str, str, str]] = [tuple(c) for c in data["qc_checks"]]
        # the shapes as queries narrowed to focus nodes; None when a shape needs pyshacl
        self.focus_checks: list[Any] | None = None
        if data["checks"] is not None:
            from .shacl_checks import Check

            self.focus_checks = [Check.from_data(c) for c in data["checks"]]
        self._shape_files = shape_files

    @cached_property
    def shapes(self) -> Any:
        """The shapes as an rdflib graph, for pyshacl (read on first use)."""
        from .shacl import load_shapes

        return load_shapes(self._shape_files)

    @cached_property
    def rule_axioms(self) -> Any:
        """The axioms the rules reasoner reads from the ontology alone (`reasoning.rules.Axioms`): an
        input that states no axiom (`rules.states_axiom`) reasons with these, unread again."""
        from ..reasoning.rules import ox_select, read_axioms

        store = ox.Store()
        store.extend(self.ontology_quads)
        return read_axioms(ox_select(store))

    @cached_property
    def reasoning_graph(self) -> Any:
        """The ontology without annotations, as an rdflib graph for owlrl (built on first use)."""
        import rdflib

        from ..rdf.convert import ox_to_rdflib as to_rdflib

        graph = rdflib.Graph()
        for s, p, o in self.ontology_triples:
            if p.value in ANNOTATIONS or p.value.startswith("http://purl.org/dc/terms/"):
                continue
            graph.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
        return graph


_SCHEMA: dict[str, Schema] = {}


def schema_key(project: Project) -> str:
    """The SHA-256 of what the compiled schema is made from: the ontology and shape files, and the
    code that compiles them."""
    h = hashlib.sha256(f"compiled-schema {FORMAT}\0".encode())
    for path in [*project.ontology_files, *project.shape_files, *project.check_files]:
        h.update(project.relpath(path).encode() + b"\0" + path.read_bytes() + b"\0")
    h.update(_code_digest())
    return h.hexdigest()


_CODE: list[bytes] = []


def _code_digest() -> bytes:
    """The SHA-256 of the code that compiles the schema, once per process (the code a process runs does
    not change under it)."""
    if not _CODE:
        h = hashlib.sha256()
        here = Path(__file__).parent
        for name in _COMPILERS:
            h.update(name.encode() + b"\0" + (here / name).read_bytes() + b"\0")
        h.update((here.parent / "rdf" / "vocabularies.py").read_bytes() + b"\0")
        # rdflib's version (its __init__ states it) decides the vocabularies' term lists and the parse of
        # the shapes; found without importing it
        spec = importlib.util.find_spec("rdflib")
        if spec is not None and spec.origin:
            h.update(Path(spec.origin).read_bytes())
        _CODE.append(h.digest())
    return _CODE[0]


def load_schema(project: Project) -> Schema:
    """The project's schema: from this process's cache, else the build's compiled file when its key
    matches the files, else compiled now."""
    key = schema_key(project)
    if key in _SCHEMA:
        return _SCHEMA[key]
    data = _read_compiled(project, key) or compile_schema(project, key)
    schema = Schema(data, project.shape_files)
    _SCHEMA[key] = schema
    return schema


def _read_compiled(project: Project, key: str) -> dict | None:
    try:
        with open(project.state_dir / COMPILED_NAME, "rb") as f:
            data = marshal.load(f)
    except (OSError, EOFError, ValueError, TypeError):
        return None
    if not isinstance(data, dict) or data.get("key") != key or data.get("format") != FORMAT:
        return None
    return data


_COMPILED: dict[str, dict] = {}


def compile_schema(project: Project, key: str | None = None) -> dict:
    """Read the ontology and shapes and compile them into plain data (see the module's docstring);
    once per process for given files (the key names their content), as builds of copies of one
    project (the tests') compile the same files."""
    key = key or schema_key(project)
    if key not in _COMPILED:
        _COMPILED[key] = _compile(project, key)
    return _COMPILED[key]


def _compile(project: Project, key: str) -> dict:
    from ..rdf.files import read_quads
    from .shacl import load_shapes
    from .shacl_store import Unsupported, compile_shapes

    triples: list[Triple] = []
    for path in project.ontology_files:
        for q in read_quads(path, None, display=project.relpath(path)):
            triples.append((q.subject, q.predicate, q.object))
    defined = sorted({s.value for s, p, _ in triples if p == RDFS_LABEL and isinstance(s, ox.NamedNode)
                      and s.value.startswith(DEF)})
    used = sorted({t.value for triple in triples for t in triple if isinstance(t, ox.NamedNode)})
    derived = sorted({s.value for s, p, o in triples if p.value == DEF + "derived" and isinstance(o, ox.Literal)
                      and o.value in ("true", "1")})
    from ..rdf.vocabularies import defined_terms
    from .checks import summary_of

    qc_checks = []
    for path in project.check_files:
        text = path.read_text(encoding="utf-8")
        qc_checks.append((path.stem, summary_of(text, path.name), text, path.name))

    vocabularies = {ns: sorted(names) for ns, names in defined_terms().items()}
    shapes = load_shapes(project.shape_files)
    try:
        checks: list | None = [c.to_data() for c in compile_shapes(shapes, focus_only=True)]
    except Unsupported:
        checks = None  # validation then runs pyshacl on the shapes
    ontology = ox.serialize([ox.Triple(s, p, o) for s, p, o in triples],
                            format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    return {"format": FORMAT, "key": key, "ontology": ontology, "defined": defined,
            "used": used, "derived": derived, "vocabularies": vocabularies, "qc_checks": qc_checks,
            "paths": ShapePaths(shapes).to_data(), "checks": checks}


def write_compiled(project: Project) -> bool:
    """Write the compiled schema for the files as they are now, unless it is already there; returns
    whether it wrote. The build calls it; a shape file that does not parse leaves no file (the
    build reports it)."""
    from ..errors import DisputeKGError
    from ..rdf.durable import write_atomic

    key = schema_key(project)
    if _read_compiled(project, key) is not None:
        return False
    try:
        data = compile_schema(project, key)
    except DisputeKGError:
        (project.state_dir / COMPILED_NAME).unlink(missing_ok=True)
        return False
    write_atomic(project.state_dir / COMPILED_NAME, marshal.dumps(data))
    return True

