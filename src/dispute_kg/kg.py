"""`KnowledgeGraph`: the Python API. The CLI and the HTTP server are thin layers over it."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .project.folder import Project
from .rdf.terms import Result
from .stores.base import Selector, Store, open_store, parse_selector


@dataclass
class CheckReport:
    """Everything `dispute-kg check` found; `passed` is the verdict."""

    shacl: list[Any] = field(default_factory=list)  # validation.Violation
    checks: list[Any] = field(default_factory=list)  # checks.CheckResult
    spans: list[Any] = field(default_factory=list)  # provenance.SpanProblem
    inconsistencies: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return (not [v for v in self.shacl if v.severity == "Violation"] and all(c.passed for c in self.checks)
                and not self.spans and not self.inconsistencies)


class KnowledgeGraph:
    """A project's graph in a store.

    >>> kg = KnowledgeGraph.open(project=EXAMPLE_PROJECT)   # doctest: +SKIP
    >>> kg.sparql("ASK { ?s ?p ?o }").boolean                # doctest: +SKIP
    True
    """

    def __init__(self, project: Project, store: Store, selector: Selector) -> None:
        self.project, self.store, self.selector = project, store, selector

    @classmethod
    def open(cls, store: str | None = None, project: str | os.PathLike[str] | Project | None = None, *,
             auto_build: bool = True, progress: Callable[[str], None] | None = None) -> KnowledgeGraph:
        proj = project if isinstance(project, Project) else Project.open(project)
        selector = parse_selector(store)
        if selector.scheme == "oxigraph" and not selector.location and (proj.state_dir / "journal.json").exists():
            from .project.additions import recover  # only when a journal is there: the query path stays light

            recover(proj)  # roll back an add/retract a dead process left half done
        if selector.scheme == "oxigraph" and not selector.location and auto_build:
            if not proj.is_fresh():
                from .project.build import build

                build(proj, progress=progress)  # which also writes the query index
            else:
                from .query.index import ensure

                ensure(proj)  # e.g. a stored query edited since the build: index it for the quick route
        return cls(proj, open_store(selector, project=proj, read_only=selector.scheme == "oxigraph"), selector)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- querying ---------------------------------------------------------------------------
    def sparql(self, text: str, *, limit: int | None = None, timeout: float | None = None,
               allow_update: bool = False) -> Result:
        from .rdf.sparqltext import is_update

        if is_update(text):
            if not allow_update:
                from .errors import InputError

                raise InputError("this is a SPARQL update; updates are refused unless --allow-update is given")
            self.store.update(text)
            return Result("ask", boolean=True)
        return self.store.query(text, limit=limit, timeout=timeout)

    # -- stored queries ---------------------------------------------------------------------
    @property
    def catalog(self) -> Any:
        if getattr(self, "_catalog", None) is None:
            from .query.catalog import Catalog

            self._catalog = Catalog.for_project(self.project)
        return self._catalog

    def queries(self) -> list[Any]:
        """The stored queries (`catalog.StoredQuery`), by name."""
        return self.catalog.all()

    def run_result(self, name: str, params: dict[str, Any] | None = None, *, limit: int | None = None,
                   timeout: float | None = None) -> Result:
        """Run a stored query with its parameters bound as RDF terms; the raw `Result`."""
        from .query.binding import run_query

        return run_query(self.store, self.catalog.get(name), params, limit=limit, timeout=timeout)

    def run(self, name: str, *, limit: int | None = None, timeout: float | None = None,
            **params: Any) -> list[dict[str, Any]]:
        """Run a stored query: rows of Python values (str for IRIs and text, int, date, ...).

        >>> kg.run("claims", state="Japan")[0]["territoryLabel"]   # doctest: +SKIP
        'Habomai'
        """
        from .query.catalog import python_rows

        return python_rows(self.run_result(name, params, limit=limit, timeout=timeout))

    # -- checking ---------------------------------------------------------------------------
    def rdflib_graph(self) -> Any:
        import rdflib

        from .stores.memory import json_to_node

        graph = rdflib.Graph()
        add = graph.add
        for s, p, o, _ in self.store.quads():
            add((json_to_node(s), json_to_node(p), json_to_node(o)))
        return graph

    def check(self, *, shacl: bool = True, progress: Any = None) -> CheckReport:
        from .validation.checks import check_standard_terms, run_checks
        from .validation.provenance import check_spans

        report = CheckReport()
        if shacl:
            report.shacl = self._shacl(progress)
        report.checks = [*run_checks(self.store, self.project.check_files), check_standard_terms(self.store)]
        report.spans = check_spans(self.store)
        from .project.build import read_manifest

        manifest = read_manifest(self.project) or {}
        if self.selector.scheme == "oxigraph":
            report.inconsistencies = list(manifest.get("inconsistencies", []))
        else:
            report.inconsistencies = list(getattr(self.store, "inconsistencies", []))
        return report

    def _shacl(self, progress: Any = None) -> list[Any]:
        """SHACL as queries inside the embedded store (validation.shacl_store); pyshacl over an rdflib
        copy of the graph on other backends, or when a shape uses a feature the compiler lacks."""
        from .validation.shacl import load_shapes, run_shacl

        shapes = load_shapes(self.project.shape_files)
        store = getattr(self.store, "store", None)
        if self.selector.scheme == "oxigraph" and store is not None:
            from .validation.shacl_store import Unsupported, run_shacl_in_store

            try:
                return run_shacl_in_store(store, shapes, progress)
            except Unsupported:
                pass
        return run_shacl(self.rdflib_graph(), shapes).violations

    # -- validating and adding (issue 4) -----------------------------------------------------
    def validate(self, data: Any, *, strict: bool = False) -> Any:
        """Validate new assertions (an rdflib graph, or file paths) against this graph; change nothing.

        Returns a `validate.ValidationReport` (`.conforms`, `.problems`, `.to_text()`)."""
        from .validation.pipeline import validate

        store = getattr(self.store, "store", None) if self.selector.scheme == "oxigraph" else None
        return validate(self.project, data, strict=strict, store=store)

    def add(self, data: Any, *, agent: str | None = None, note: str | None = None, strict: bool = False) -> Any:
        """Validate and, only if it conforms, commit `data` as one addition: (report, Addition or None)."""
        from .project.additions import add, sparql_mirror

        if self.selector.scheme == "sparql":
            # the project's files and embedded store take the addition; the remote store gets the same
            # quads first, in one SPARQL Update request, so a refusal or a failure changes neither
            return add(self.project, data, agent=agent, note=note, strict=strict, mirror=sparql_mirror(self.store))
        if self.selector.scheme != "oxigraph" or self.selector.location:
            from .errors import CapabilityError

            raise CapabilityError("add works on the project's embedded store or a sparql: store, "
                                  f"not {self.store.name}")
        self.store.close()
        try:
            return add(self.project, data, agent=agent, note=note, strict=strict)
        finally:
            self.store = open_store(self.selector, project=self.project, read_only=True)

    def coverage(self) -> list[Any]:
        from .validation.provenance import coverage

        return coverage(self.store)


def default_project() -> Path:
    return Path(os.environ.get("DISPUTE_KG_PROJECT", "."))
