"""The pipeline itself: `validate` runs the steps in order on one input against the built store,
stopping early when the input cannot be read or breaks the input or vocabulary rules; and
`full_validation`, the reference it must equal (tests and benchmarks)."""

from __future__ import annotations

import os
import time
from typing import Any

import pyoxigraph as ox

from ..errors import InputError
from ..project.folder import Project
from ..rdf.namespaces import DERIVED_GRAPHS, INFERRED_GRAPH
from .common import DK_SOURCE, DK_TEXT, RDF_TYPE
from .inputs import (
    Delta,
    Locator,
    input_rules,
    literal_rules,
    locate_term,
    read_inputs,
    registered_source_rules,
    vocabulary,
)
from .neighbourhood import View, affected_focus_nodes, gather, local_closure
from .report import Problem, ValidationReport
from .schema import Schema, load_schema
from .stages import check_consistency, check_provenance, data_store, duplicates, run_qc_checks, run_shapes


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
    problems = input_rules(delta, loc, allow_sources=allow_sources, derived=schema.derived_terms)
    problems += literal_rules(delta, loc)
    problems += vocabulary(delta, schema, loc)
    timings["vocabulary"] = time.perf_counter() - t
    if problems:
        return _stop(report, problems)

    own_store = store is None
    if own_store:
        store = open_store_read_only(project)
    try:
        # the rules that read the store: registered sources' metadata, and Wikidata links' types
        problems = [] if allow_sources else registered_source_rules(delta, loc, _is_source(store))
        problems += link_rules(project, schema, delta, loc, store)
        timings["vocabulary"] = time.perf_counter() - t
        if problems:
            return _stop(report, problems)
        return _validate_graph(project, schema, delta, loc, store, report, timings, extra_texts or {})
    finally:
        if own_store:
            del store


def _stop(report: ValidationReport, problems: list[Problem]) -> ValidationReport:
    report.problems = sorted(problems)
    report.stopped = "vocabulary" if any(p.stage == "vocabulary" for p in problems) else "input"
    return report


def _is_source(store: ox.Store) -> Any:
    def is_source(node: ox.NamedNode) -> bool:
        return next(iter(store.quads_for_pattern(node, RDF_TYPE, DK_SOURCE, None)), None) is not None
    return is_source


def link_rules(project: Project, schema: Schema, delta: Delta, loc: Locator, store: ox.Store) -> list[Problem]:
    """Wikidata links in the input pass the type check `link` applies, or are refused."""
    from ..stores.oxigraph import OxigraphStore
    from .neighbourhood import _superclasses
    from .wikidata_links import MAPPING_PROPERTIES, judge_links

    links = [(s, p, o) for s, p, o in delta.triples if p.value in MAPPING_PROPERTIES and isinstance(o, ox.NamedNode)]
    if not links:
        return []
    supers = _superclasses(schema)
    found = []
    for s, p, o in links:
        types = {q.object.value for q in store.quads_for_pattern(s, RDF_TYPE, None, None)}
        types |= {t[2].value for t in delta.triples if t[0] == s and t[1] == RDF_TYPE}
        classes = frozenset(c for t in types for c in supers.get(t, {t}))
        found.append((s.value, p.value, o.value, classes))
    problems = []
    for lp in judge_links(project, OxigraphStore(store, None, True), found):
        file, line, col = locate_term(loc, "", lp.item, lp.entity)
        problems.append(Problem("input", lp.entity, lp.message, path=lp.property, value=lp.item,
                                expects="a Wikidata link to a known item of a type the type map allows",
                                file=file, line=line, column=col))
    return problems


def open_store_read_only(project: Project) -> ox.Store:
    from ..errors import BackendUnavailable

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
    mem = data_store(schema, data)
    violations, shacl_graph = run_shapes(schema, data, focus, mem)
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
    problems += [p for p in run_qc_checks(data, focus, loc, schema, mem) if p.focus not in flagged]
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

    from ..rdf.convert import ox_to_rdflib as to_rdflib
    from ..rdf.convert import quads_to_graph
    from ..reasoning.closure import owl_rl_closure
    from .shacl import run_shacl

    own = store is None
    store = store or open_store_read_only(project)
    delta, problems = read_inputs(inputs, project)
    if delta is None:
        raise InputError("; ".join(p.message for p in problems))
    asserted = [q for q in store if not (isinstance(q.graph_name, ox.NamedNode)
                                         and q.graph_name.value in DERIVED_GRAPHS)]
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
