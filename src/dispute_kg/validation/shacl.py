"""SHACL validation with pyshacl, reported as plain records a person or a program can read."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from .shacl_checks import Violation

TYPE_CHECKING = False
if TYPE_CHECKING:
    import rdflib

# rdflib logs a full traceback for every literal it cannot convert ("1956-02-30"^^xsd:date). Validation
# reports such values itself, located (the input rules; sh:datatype in `check`), so the traceback would
# only reach the user as noise on stderr.
logging.getLogger("rdflib.term").setLevel(logging.ERROR)


@dataclass
class ShaclResult:
    conforms: bool
    violations: list[Violation]
    report_graph: rdflib.Graph

    @property
    def errors(self) -> list[Violation]:
        return [v for v in self.violations if v.severity == "Violation"]


def load_shapes(paths: Iterable[Path]) -> rdflib.Graph:
    import rdflib

    shapes = rdflib.Graph()
    for path in paths:
        shapes.parse(path, format="turtle")
    return shapes


def _term_text(term: rdflib.term.Node | None) -> str:
    import rdflib

    if term is None:
        return ""
    if isinstance(term, rdflib.BNode):
        return "_:" + str(term)
    return str(term)


_COMPILED: dict[tuple, object] = {}


def _compile_once() -> None:
    """pyshacl hands rdflib each SHACL-SPARQL text once per focus node (and each SPARQL target once per
    run, with the shapes' prefixes as initNs), and rdflib parses it every time, tens of milliseconds
    each. Compiling each distinct (text, base, prefixes) once makes validation many times faster;
    evaluation itself is unchanged."""
    from rdflib.plugins.sparql import processor

    if getattr(processor.SPARQLProcessor.query, "_dispute_kg_cached", False):
        return
    original = processor.SPARQLProcessor.query

    def query(self, strOrQuery, initBindings=None, initNs=None, base=None, DEBUG=False):
        if isinstance(strOrQuery, str):
            key = (strOrQuery, base, tuple(sorted((str(k), str(v)) for k, v in (initNs or {}).items())))
            compiled = _COMPILED.get(key)
            if compiled is None:
                compiled = processor.translateQuery(processor.parseQuery(strOrQuery), base, initNs)
                if len(_COMPILED) < 4096:
                    _COMPILED[key] = compiled
            return processor.evalQuery(self.graph, compiled, initBindings, base)
        return original(self, strOrQuery, initBindings, initNs, base, DEBUG)

    query._dispute_kg_cached = True  # type: ignore[attr-defined]
    processor.SPARQLProcessor.query = query  # type: ignore[method-assign]


def run_shacl(data: rdflib.Graph, shapes: rdflib.Graph,
              focus_nodes: list[rdflib.URIRef] | None = None) -> ShaclResult:
    """Validate `data` (already closed under OWL 2 RL) against `shapes`."""
    import pyshacl
    import rdflib
    from rdflib.namespace import SH

    _compile_once()
    kwargs = {}
    if focus_nodes is not None:
        kwargs["focus_nodes"] = focus_nodes
    _conforms, report, _ = pyshacl.validate(
        data, shacl_graph=shapes, inference="none", advanced=True, allow_warnings=True,
        abort_on_first=False, **kwargs)
    violations = []
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        severity = report.value(result, SH.resultSeverity)
        message = report.value(result, SH.resultMessage)
        path = report.value(result, SH.resultPath)
        violations.append(Violation(
            focus=_term_text(report.value(result, SH.focusNode)),
            message=str(message) if message else "violates a constraint",
            path=_term_text(path) if isinstance(path, rdflib.URIRef) else "",
            value=_term_text(report.value(result, SH.value)),
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            shape=_term_text(report.value(result, SH.sourceShape)) if isinstance(
                report.value(result, SH.sourceShape), rdflib.URIRef) else "",
        ))
    violations.sort()
    has_errors = any(v.severity == "Violation" for v in violations)
    return ShaclResult(conforms=not has_errors, violations=violations, report_graph=report)
