"""`KnowledgeGraph`: the Python API. The CLI and the HTTP server are thin layers over it."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .project.folder import Project
from .rdf.terms import Result
from .stores.base import Selector, Store, open_store, parse_selector
from .validation.verdict import CheckReport


def parses_as_update(text: str) -> bool:
    """Whether rdflib's SPARQL 1.1 Update grammar accepts the text."""
    from rdflib.plugins.sparql.parser import parseUpdate

    try:
        parseUpdate(text)
    except Exception:  # ParseException, RecursionError: not an update rdflib can read
        return False
    return True


class KnowledgeGraph:
    """A project's graph in a store.

    >>> kg = KnowledgeGraph.open(project=EXAMPLE_PROJECT)
    >>> kg.sparql("ASK { ?s ?p ?o }").boolean
    True
    """

    def __init__(self, project: Project, store: Store, selector: Selector) -> None:
        self.project, self._store, self.selector = project, store, selector
        self.held: Any = None  # the store generation this graph reads (state.Held), kept until close
        self.manifest: dict | None = None  # that generation's manifest
        # A long-lived reader (the HTTP server) sets `follow`: each use of `store` then checks the
        # published generation (one small file read) and moves to a newer one. The store object it
        # leaves keeps its generation held until the last query using it drops it.
        self.follow = False

    @property
    def store(self) -> Store:
        if self.follow and self.held is not None:
            from .project.state import read_pointer

            name = read_pointer(str(self.project.state_dir))
            if name is not None and name != self.held.name:
                newer = self._on_current(self.project, self.selector)
                self._store, self.held, self.manifest = newer._store, newer.held, newer.manifest
                newer.held = None
        return self._store

    @store.setter
    def store(self, value: Store) -> None:
        self._store = value

    @classmethod
    def open(cls, store: str | None = None, project: str | os.PathLike[str] | Project | None = None, *,
             auto_build: bool = True, progress: Callable[[str], None] | None = None) -> KnowledgeGraph:
        proj = project if isinstance(project, Project) else Project.open(project)
        selector = parse_selector(store)
        if selector.scheme != "oxigraph" or selector.location:
            graph = cls(proj, open_store(selector, project=proj, read_only=selector.scheme == "oxigraph"), selector)
            if selector.scheme == "memory":
                graph._load_into_memory()
            return graph
        from .project import state

        if state.needs_recovery(proj):  # one stat: the query path stays light
            state.recover(proj)  # roll back an add/retract a dead process left half done
        if auto_build:
            if not proj.is_fresh():
                from .project.build import build

                build(proj, progress=progress)  # under the writer lock, deciding freshness again there
            else:
                from .query.index import ensure

                ensure(proj)  # e.g. a stored query edited since the build: index it for the quick route
        return cls._on_current(proj, selector)

    @classmethod
    def _on_current(cls, project: Project, selector: Selector) -> KnowledgeGraph:
        """Open the published generation read-only and hold it, so no writer removes it under us."""
        import json

        from .errors import BackendUnavailable
        from .project import state
        from .stores.oxigraph import OxigraphStore

        held = state.hold(str(project.state_dir))
        if held is None:
            raise BackendUnavailable(f"no store in {project.state_dir}: run `dispute-kg build` first")
        try:
            store = OxigraphStore.at(held.store_path, read_only=True)
            store.held = held  # type: ignore[attr-defined]  # the generation lives as long as this object
            store.views = held.views_path
            try:
                with open(held.manifest_path, encoding="utf-8") as fh:
                    manifest = json.load(fh)
            except (OSError, ValueError):
                manifest = None
        except BaseException:
            held.release()
            raise
        kg = cls(project, store, selector)
        kg.held, kg.manifest = held, manifest
        return kg

    def _load_into_memory(self) -> None:
        """A memory store starts as a copy of the project's built graph, so every stored query runs on it;
        this costs one pass over the files and one OWL 2 RL closure."""
        from .project.build import derived_quads, load_project_quads
        from .rdf.convert import quad_to_terms

        asserted = load_project_quads(self.project)
        inferred, lookups, self._inconsistencies = derived_quads(asserted)
        self.store.add_quads(quad_to_terms(q) for q in [*asserted, *inferred, *lookups])

    def close(self) -> None:
        self._store.close()
        if self.held is not None:
            self.held.release()
            self.held = None

    def __enter__(self) -> KnowledgeGraph:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- querying ---------------------------------------------------------------------------
    def sparql(self, text: str, *, limit: int | None = None, timeout: float | None = None,
               allow_update: bool = False) -> Result:
        """Run a query; an update only with `allow_update`. The engine's query parser decides what the text is:
        only a text it refuses as a query is parsed as an update (rdflib's grammar), so the costly check is
        paid by updates and malformed queries alone."""
        from .errors import InputError

        try:
            return self.store.query(text, limit=limit, timeout=timeout)
        except InputError:
            if not parses_as_update(text):
                raise
        if not allow_update:
            raise InputError("this is a SPARQL update; updates are refused unless --allow-update is given")
        self.store.update(text)
        return Result("ask", boolean=True)

    # -- stored queries ---------------------------------------------------------------------
    @property
    def catalog(self) -> Any:
        if getattr(self, "_catalog", None) is None:
            from .query.index import catalog

            self._catalog = catalog(self.project)
        return self._catalog

    def queries(self) -> list[Any]:
        """The stored queries (`catalog.StoredQuery`), by name."""
        return self.catalog.all()

    def run_result(self, name: str, params: dict[str, Any] | None = None, *, limit: int | None = None,
                   offset: int | None = None, timeout: float | None = None) -> Result:
        """Run a stored query with its parameters bound as RDF terms; the raw `Result`. With `limit` and
        `offset`, one page: rows `offset` to `offset + limit` in the query's own order."""
        from .query.binding import run_query

        return run_query(self.store, self.catalog.get(name), params, limit=limit, offset=offset,
                         timeout=timeout)

    def run(self, name: str, *, limit: int | None = None, offset: int | None = None,
            timeout: float | None = None, **params: Any) -> list[dict[str, Any]]:
        """Run a stored query: rows of Python values (str for IRIs and text, int, date, ...).

        >>> kg.run("claims", state="Japan")[0]["territoryLabel"]
        'Habomai'
        """
        from .query.catalog import python_rows

        return python_rows(self.run_result(name, params, limit=limit, offset=offset, timeout=timeout))

    # -- checking ---------------------------------------------------------------------------
    def rdflib_graph(self) -> Any:
        from .validation.verdict import rdflib_graph

        return rdflib_graph(self.store)

    def check(self, *, shacl: bool = True, progress: Any = None, graph: Any = None) -> CheckReport:
        """The verdict on this graph; `graph`, an in-memory pyoxigraph copy of the published generation
        (the build's `keep_graph`), is queried in its place, which is several times faster."""
        from .project.build import read_manifest
        from .validation.verdict import check_store

        if self.selector.scheme == "oxigraph":
            manifest = (self.manifest if self.manifest is not None else read_manifest(self.project)) or {}
            inconsistencies = list(manifest.get("inconsistencies", []))
        elif self.selector.scheme == "memory":
            inconsistencies = list(getattr(self, "_inconsistencies", []))
        else:  # a remote store: the same queries `rules` runs in the embedded build, sent to it
            from .reasoning.rules import find_inconsistencies

            inconsistencies = find_inconsistencies(self.store)
        store = self.store
        if graph is not None and self.selector.scheme == "oxigraph":
            from .stores.oxigraph import OxigraphStore

            store = OxigraphStore(graph, None, read_only=True)
        return check_store(store, self.project, inconsistencies=inconsistencies,
                           embedded=self.selector.scheme == "oxigraph", shacl=shacl, progress=progress)

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
            # quads, journalled first, so a refusal, a failure or a kill changes none of them
            return add(self.project, data, agent=agent, note=note, strict=strict, mirror=sparql_mirror(self.store))
        if self.selector.scheme != "oxigraph" or self.selector.location:
            from .errors import CapabilityError

            raise CapabilityError("add works on the project's embedded store or a sparql: store, "
                                  f"not {self.store.name}")
        self.close()
        try:
            return add(self.project, data, agent=agent, note=note, strict=strict)
        finally:
            reopened = self._on_current(self.project, self.selector)
            self.store, self.held, self.manifest = reopened.store, reopened.held, reopened.manifest

    def coverage(self) -> list[Any]:
        from .validation.provenance import coverage

        return coverage(self.store)


def default_project() -> Path:
    return Path(os.environ.get("DISPUTE_KG_PROJECT", "."))
