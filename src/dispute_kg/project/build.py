"""Build: read every project file, reason, validate, and publish the result as a new store generation.

The new generation is written beside the published one and published by one rename of the pointer
(state.py) only when everything was read and stored, so a malformed file or a crash leaves the
previous store exactly as it was, and readers of the previous store keep it until they are done.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path

import pyoxigraph as ox

from ..errors import InputError
from ..query import search
from ..query.index import refresh as refresh_index
from ..rdf.files import read_quads
from ..rdf.namespaces import DEF, INFERRED_GRAPH, LOOKUP_GRAPH, file_graph, source_iri
from ..validation.schema import write_compiled
from .folder import Project
from .state import MANIFEST, copy_store, fault, new_generation, publish, recover, write_atomic, writer_lock

DK_SHA256 = ox.NamedNode(DEF + "sha256")
DK_TEXT = ox.NamedNode(DEF + "text")
RDF_TYPE = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
DK_SOURCE = ox.NamedNode(DEF + "Source")


def load_project_quads(project: Project, progress: Callable[[str], None] | None = None) -> list[ox.Quad]:
    """Every file under ontology/ and data/ as quads in its own named graph, plus source texts."""
    quads: list[ox.Quad] = []
    for path in [*project.ontology_files, *project.data_files]:
        rel = project.relpath(path)
        if progress:
            progress(rel)
        quads.extend(read_quads(path, file_graph(rel), display=rel))
    if not project.ontology_files:
        raise InputError("missing: the project has no ontology file", path="ontology/dispute.ttl")
    quads.extend(source_text_quads(project, quads))
    return quads


def source_text_quads(project: Project, quads: list[ox.Quad]) -> list[ox.Quad]:
    """Check each source text against its metadata's hash and add the text to the graph."""
    declared = {q.subject.value for q in quads if q.predicate == RDF_TYPE and q.object == DK_SOURCE}
    hashes = {q.subject.value: q.object.value for q in quads if q.predicate == DK_SHA256}
    out = []
    seen = set()
    for txt in project.source_texts:
        rel = project.relpath(txt)
        iri = source_iri(txt.stem)
        seen.add(iri)
        meta = txt.with_suffix(".ttl")
        if not meta.exists():
            raise InputError(f"source text has no metadata file {project.relpath(meta)}", path=rel)
        if iri not in declared:
            raise InputError(f"metadata does not declare <{iri}> a dk:Source", path=project.relpath(meta))
        data = txt.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if hashes.get(iri) != digest:
            raise InputError(f"text does not match its recorded SHA-256 (file {digest[:12]}..., "
                             f"metadata {str(hashes.get(iri))[:12]}...): a source text must never change",
                             path=rel)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise InputError("source text is not UTF-8", path=rel) from None
        out.append(ox.Quad(ox.NamedNode(iri), DK_TEXT, ox.Literal(text), ox.NamedNode(file_graph(rel))))
    for iri in sorted(declared - seen):
        raise InputError(f"source <{iri}> is declared but its text file is missing",
                         path=f"data/sources/{iri.rsplit('/', 1)[-1]}.txt")
    return out


RULES_THRESHOLD = 50_000  # asserted triples above which `auto` reasons with rules.py instead of owlrl


def inferred_quads(quads: list[ox.Quad], reasoner: str | None = None,
                   progress: Callable[[str], None] | None = None) -> tuple[list[ox.Quad], list[str]]:
    """The OWL 2 RL entailments of `quads`, in the inferred graph, and any inconsistencies.

    `reasoner` is `owlrl`, `rules` (SPARQL rules to a fixpoint in Oxigraph, see rules.py) or `auto`
    (the default, or $DISPUTE_KG_REASONER): owlrl up to RULES_THRESHOLD asserted triples, rules above,
    unless the ontology uses an axiom rules.py does not implement. Both give the same closure.
    """
    reasoner = reasoner or os.environ.get("DISPUTE_KG_REASONER") or "auto"
    if reasoner not in ("auto", "owlrl", "rules"):
        raise InputError(f"unknown reasoner {reasoner!r} (choose auto, owlrl or rules)")
    if reasoner == "rules" or (reasoner == "auto" and len(quads) > RULES_THRESHOLD):
        from ..reasoning.rules import UnsupportedAxioms, rules_closure

        try:
            inferred, inconsistencies, _ = rules_closure(quads, progress)
            return inferred, inconsistencies
        except UnsupportedAxioms:
            if reasoner == "rules":
                raise
    from ..rdf.convert import graph_to_quads, quads_to_graph
    from ..reasoning.closure import owl_rl_closure

    closure = owl_rl_closure(quads_to_graph(quads))
    return graph_to_quads(closure.inferred, INFERRED_GRAPH), closure.inconsistencies


def derived_quads(quads: list[ox.Quad], reasoner: str | None = None,
                  progress: Callable[[str], None] | None = None) -> tuple[list[ox.Quad], list[ox.Quad], list[str]]:
    """What the build derives from the asserted `quads`: the inferred graph, the lookup graph (each
    node's kind and each selection's start, reasoning/lookups.py) and the inconsistencies. Every graph
    made from the project's files (a store generation, a `memory:` store) is made through this."""
    from ..reasoning.lookups import lookup_quads

    inferred, inconsistencies = inferred_quads(quads, reasoner, progress)
    return inferred, lookup_quads([*quads, *inferred]), inconsistencies


def check_query_files(project: Project) -> None:
    """Parse every stored query and check so a syntax error stops the build with its location."""
    empty = ox.Store()
    for path in [*project.query_files, *project.check_files]:
        rel = project.relpath(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read query: {exc}", path=rel) from None
        try:
            empty.query(text, substitutions=None)
        except SyntaxError as exc:
            raise InputError(f"SPARQL syntax error: {exc}", path=rel, line=exc.lineno,
                             column=exc.offset) from None


def check_shape_files(project: Project) -> None:
    for path in project.shape_files:
        read_quads(path, None, display=project.relpath(path))


@dataclass
class BuildReport:
    fingerprint: str
    built_at: str
    asserted: int
    inferred: int
    graphs: dict[str, int] = field(default_factory=dict)
    inconsistencies: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rebuilt: bool = True
    stat_signature: str = ""
    # the new generation's graph as an in-memory store, kept when the caller asks (`keep_graph`): the
    # verdict runs its queries there several times faster than on the on-disk store, which decodes each
    # term from RocksDB, and a copy costs a few seconds here where a dump of the disk store costs half a minute
    graph: ox.Store | None = field(default=None, repr=False, compare=False, metadata={"transient": True})

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if not f.metadata.get("transient")}


def manifest_path(project: Project) -> Path:
    """The published generation's manifest."""
    return project.store_path.parent / MANIFEST


def read_manifest(project: Project) -> dict | None:
    return project.manifest()


def build(project: Project, *, force: bool = False, progress: Callable[[str], None] | None = None,
          keep_graph: bool = False, alongside: Callable[[BuildReport], object] | None = None) -> BuildReport:
    """Rebuild the embedded store when any input changed (or `force`), else report the last build.
    With `keep_graph`, a rebuilt report carries the new graph as an in-memory store (`graph`).
    `alongside(report)` runs once the store is published, still under the lock, while the search index
    is rebuilt on another thread: the build's verdict and the index then share the machine's cores.

    Runs under the writer lock, and decides freshness and reads every input only once it holds it,
    so a build that waited for an `add` builds from the files the addition wrote."""
    with writer_lock(project):
        recover(project)  # roll back an add/retract a dead process left half done
        stat_signature = project.stat_signature()
        fingerprint = project.fingerprint()
        manifest = read_manifest(project)
        if not force and manifest and manifest.get("fingerprint") == fingerprint and project.store_path.exists():
            report = BuildReport(**{k: v for k, v in manifest.items() if k in BuildReport.__dataclass_fields__})
            report.rebuilt = False
            if report.stat_signature != stat_signature or views_stale(project):
                # files touched but unchanged, or a stored query edited: publish the same store with their
                # new times recorded and every listing's answer materialised again
                manifest["stat_signature"] = stat_signature
                republish(project, manifest, point="build")
            else:
                refresh_index(project)  # a stored query may have changed; the store has not
            write_compiled(project)  # a build from before the compiled schema existed lacks it
            if alongside:
                alongside(report)
            return report
        # the in-memory copy of the new graph serves the search index at once (and the caller's verdict)
        generation, report = build_generation(project, progress=progress, stat_signature=stat_signature,
                                              fingerprint=fingerprint, keep_graph=True)
        publish(project, generation, point="build")
        refresh_index(project)
        write_compiled(project)
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispute-kg-index") as pool:
            indexing = pool.submit(search.refresh, project, graph=report.graph)
            try:
                if alongside:
                    alongside(report)
            finally:
                indexing.result()  # waits for the index, and raises what its rebuild raised
        if not keep_graph:
            report.graph = None
        return report


def build_generation(project: Project, *, progress: Callable[[str], None] | None = None,
                     stat_signature: str | None = None, fingerprint: str | None = None,
                     point: str = "build", generation: Path | None = None,
                     keep_graph: bool = False) -> tuple[Path, BuildReport]:
    """Read, reason and store every input into a new, unpublished generation (caller holds the lock).
    A malformed file raises before anything is written; a failure after that leaves only an
    unpublished generation, which the next writer removes."""
    started = time.monotonic()
    stat_signature = stat_signature or project.stat_signature()  # stats before bytes: a later edit shows
    fingerprint = fingerprint or project.fingerprint()
    check_shape_files(project)
    check_query_files(project)
    quads = load_project_quads(project, progress)

    if progress:
        progress("OWL 2 RL closure")
    inferred, lookups, inconsistencies = derived_quads(quads)

    generation = generation or new_generation(project)
    store = ox.Store(str(generation / "store"))
    store.bulk_extend(quads)
    store.bulk_extend(inferred)
    store.bulk_extend(lookups)
    if progress:
        progress("compacting the store")
    # the bulk loader leaves many small files; compacting them once here (about 5 s at a million triples)
    # makes every later lookup cheaper: stored queries at a million triples ran about 1.8x faster
    store.optimize()
    fault(f"{point}:store-flush")
    store.flush()
    del store
    graphs: dict[str, int] = {}
    for q in quads:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) + 1
    graphs[INFERRED_GRAPH] = len(inferred)
    if lookups:
        graphs[LOOKUP_GRAPH] = len(lookups)
    report = BuildReport(fingerprint=fingerprint, built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                         asserted=len(quads), inferred=len(inferred), graphs=dict(sorted(graphs.items())),
                         inconsistencies=inconsistencies,
                         seconds=round(time.monotonic() - started, 3), stat_signature=stat_signature)
    # the listings are answered on the new store itself, the engine its readers will query (an
    # in-memory copy is about 3x faster but orders GROUP_CONCAT values and tied rows its own way), while
    # the in-memory copy is loaded on this thread: both release the GIL
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="dispute-kg-views") as pool:
        views = pool.submit(materialise_views, project, generation, point=point, progress=progress)
        if keep_graph:
            report.graph = ox.Store()
            report.graph.bulk_extend(quads)
            report.graph.bulk_extend(inferred)
        views.result()
    report.seconds = round(time.monotonic() - started, 3)
    write_manifest(generation, {k: v for k, v in report.to_dict().items() if k != "rebuilt"}, point=point)
    return generation, report


def views_stale(project: Project) -> bool:
    """Whether a stored query was added or edited since the published generation's views were written."""
    from ..query.catalog import Catalog
    from ..query.views import stale, view_file

    return stale(view_file(project.store_path.parent), Catalog.for_project(project).all())


def materialise_views(project: Project, generation: Path, *, point: str,
                      progress: Callable[[str], None] | None = None) -> bool:
    """Write the materialised answers of the project's listings into `generation`, answered on its own
    store before it is published (`query/views.py`), in a process of its own. Every writer of a
    generation calls this."""
    from ..query.catalog import Catalog
    from ..query.views import view_file
    from .listings import in_child

    if progress:
        progress("materialising the listings")
    return in_child(Catalog.for_project(project).all(), generation, point=point,
                    previous=view_file(project.store_path.parent))


def write_manifest(generation: Path, data: dict, *, point: str) -> None:
    """Write a generation's manifest, naming the generation it describes."""
    data = dict(data, generation=generation.name)
    write_atomic(generation / MANIFEST, json.dumps(data, indent=2, sort_keys=True), point=f"{point}:manifest")


def republish(project: Project, manifest: dict, *, point: str) -> Path:
    """Publish a copy of the current generation with `manifest` (published generations never change)."""
    generation = new_generation(project)
    copy_store(project.store_path, generation / "store")
    materialise_views(project, generation, point=point)  # the queries may have changed, the data not
    write_manifest(generation, manifest, point=point)
    publish(project, generation, point=point)
    refresh_index(project)
    return generation
