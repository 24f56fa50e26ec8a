"""Steps 6 to 9 of the pipeline, each on the gathered data: pyshacl on the focus nodes only;
provenance (every new selection's offsets reproduce its quote in a registered source); OWL
consistency (disjoint classes, functional properties, owl:differentFrom) and the QC checks of
queries/checks/; duplicates (triples already in the graph are reported and not stored twice; an
input with nothing new, or a new assertion node that repeats an existing one, is refused)."""

from __future__ import annotations

import re
from typing import Any

import pyoxigraph as ox

from ..rdf.namespaces import DEF, ID, shorten
from .common import OA, OWL, PROV, RDF_TYPE, RDFS, SKOS, Triple
from .inputs import Delta, Locator
from .neighbourhood import View, _is_node, _superclasses
from .report import Problem
from .schema import Schema


def data_store(schema: Schema, data: set[Triple]) -> ox.Store:
    """The gathered data with the ontology, in the default graph of an in-memory store: what the
    compiled shapes and the QC checks read (one store for both)."""
    mem = ox.Store()
    default = ox.DefaultGraph()
    mem.extend(schema.ontology_quads)
    mem.extend([ox.Quad(s, p, o, default) for s, p, o in data])
    return mem


def run_shapes(schema: Schema, data: set[Triple], focus: set[Any],
               mem: ox.Store | None = None) -> tuple[list[Any], Any]:
    """The shapes on the gathered data (plus the ontology), for the focus nodes only: (violations,
    pyshacl's report graph or None).

    The shapes compiled to queries (`shacl_store`, held equal to pyshacl by its tests) run in an
    in-memory Oxigraph store (`mem`, from `data_store`, else made here), with the focus nodes listed
    in a graph of their own that narrows every shape's targets and is removed again afterwards;
    pyshacl runs instead when a shape uses a feature the compiler lacks."""
    nodes = sorted((f for f in focus if isinstance(f, ox.NamedNode)), key=lambda n: n.value)
    if not nodes:
        return [], None
    if schema.focus_checks is not None:
        from .shacl_checks import FOCUS_CLASS, FOCUS_GRAPH, run_checks

        mem = mem if mem is not None else data_store(schema, data)
        focus_graph, focus_class = ox.NamedNode(FOCUS_GRAPH), ox.NamedNode(FOCUS_CLASS)
        mem.extend([ox.Quad(n, RDF_TYPE, focus_class, focus_graph) for n in nodes])
        try:
            return run_checks(mem, schema.focus_checks, union=False), None
        finally:
            mem.remove_graph(focus_graph)
    import rdflib

    from ..rdf.convert import ox_to_rdflib as to_rdflib
    from .shacl import run_shacl

    g = rdflib.Graph()
    for s, p, o in schema.ontology_triples:
        g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    for s, p, o in data:
        g.add((to_rdflib(s), to_rdflib(p), to_rdflib(o)))
    _fix_nested_focus_filter()
    result = run_shacl(g, schema.shapes, focus_nodes=[rdflib.URIRef(n.value) for n in nodes])
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
    from ..stores.oxigraph import OxigraphStore
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


def run_qc_checks(data: set[Triple], focus: set[Any], loc: Locator, schema: Schema,
                  mem: ox.Store | None = None) -> list[Problem]:
    """The QC queries of queries/checks/ (read with the schema), on the gathered data with the ontology
    (`mem`, from `data_store`, else made here), reporting rows about focus nodes."""
    from ..stores.oxigraph import OxigraphStore
    from .checks import run_check_text

    mem = mem if mem is not None else data_store(schema, data)
    names = {f.value for f in focus if isinstance(f, ox.NamedNode)}
    problems = []
    store = OxigraphStore(mem, None, True)
    for name, summary, text, file_name in schema.qc_checks:
        result = run_check_text(store, name, summary, text, file_name)
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
        # the store joins the patterns in the order written: the rarest first (a literal value names
        # few nodes, a class thousands), so the query reads a handful of triples instead of a class
        desc.sort(key=lambda po: (0 if isinstance(po[1], ox.Literal) else 2 if po[0] == RDF_TYPE else 1,
                                  str(po[0]), str(po[1])))
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
