"""Embedded persistent Oxigraph: the default store.

This module is on the quick route of `dispute-kg query run`, so it imports only pyoxigraph and the
package's light modules (terms are converted by `rdf.convert`); typing names are for type checkers
alone, and timeouts use `_thread` (the `threading` module costs about 4 ms to import, a tenth of a
whole bare query process).
"""

from __future__ import annotations

import _thread
import os

import pyoxigraph as ox

from ..errors import BackendUnavailable, InputError, QueryTimeout
from ..rdf.convert import quad_to_terms, term_from_ox, term_to_ox, terms_to_quad
from ..rdf.terms import QuadTerms, Result, Term

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from typing import Any

    from .base import Selector

def sparql_error(exc: SyntaxError, label: str = "query") -> InputError:
    message = str(exc)
    return InputError(f"SPARQL syntax error in {label}: {message}", line=exc.lineno, column=exc.offset)


def run_with_timeout(fn: Callable[[], Any], timeout: float | None) -> Any:
    """Run `fn` in a worker thread; pyoxigraph releases the GIL while it evaluates, so we can stop waiting.

    A thread left running past the timeout is abandoned; like a daemon thread it does not keep the
    process alive."""
    if not timeout:
        return fn()
    box: dict[str, Any] = {}
    done = _thread.allocate_lock()
    done.acquire()

    def work() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # re-raised in the caller's thread
            # without its traceback: the frames hold pyoxigraph objects that must not cross threads
            box["error"] = exc.with_traceback(None)
        finally:
            done.release()

    _thread.start_new_thread(work, ())
    if not done.acquire(timeout=min(timeout, _thread.TIMEOUT_MAX)):
        raise QueryTimeout(f"query stopped after {timeout:g} s (raise --timeout to allow longer)")
    if "error" in box:
        raise box["error"]
    return box["value"]


def solution_row(solution: ox.QuerySolution, variables: Iterable[str]) -> dict[str, Term]:
    """One solution as SPARQL JSON terms, its unbound variables left out."""
    row = {}
    for var in variables:
        value = solution[var]
        if value is not None:
            row[var] = term_from_ox(value)
    return row


def evaluate(store: ox.Store, sparql: str, bindings: Mapping[str, Term] | None, limit: int | None,
             timeout: float | None, **kwargs: Any) -> Result:
    try:
        substitutions = {ox.Variable(k): term_to_ox(v) for k, v in (bindings or {}).items()}
    except ValueError as exc:
        raise InputError(f"cannot bind {dict(bindings or {})!r}: {exc}") from None

    def work() -> Result:
        try:
            answer = store.query(sparql, substitutions=substitutions or None, **kwargs)
        except SyntaxError as exc:
            raise sparql_error(exc) from None
        if isinstance(answer, bool | ox.QueryBoolean):
            return Result("ask", boolean=bool(answer))
        if isinstance(answer, ox.QuerySolutions):
            variables = [v.value for v in answer.variables]
            rows: list[dict[str, Term]] = []
            truncated = False
            for solution in answer:
                if limit is not None and len(rows) >= limit:
                    truncated = True
                    break
                rows.append(solution_row(solution, variables))
            return Result("select", variables=variables, rows=rows, truncated=truncated)
        triples = []
        truncated = False
        for triple in answer:
            if limit is not None and len(triples) >= limit:
                truncated = True
                break
            triples.append((term_from_ox(triple.subject), term_from_ox(triple.predicate),
                            term_from_ox(triple.object)))
        return Result("graph", triples=triples, truncated=truncated)

    return run_with_timeout(work, timeout)


class OxigraphStore:
    name = "oxigraph"
    capabilities = frozenset({"update", "named_graphs", "transactions", "persistent"})
    order_here = True  # stored queries' ORDER BY applied by `query_ordered` (bench/query_scale.py turns it off)

    def __init__(self, store: ox.Store, path: str | None, read_only: bool) -> None:
        self.store, self.path, self.read_only = store, path, read_only
        # the views file of the published generation this store was opened from (`query/views.py`); set
        # only by the code that holds that generation, since only a published one never changes
        self.views: str | None = None

    @classmethod
    def open(cls, selector: Selector, *, project: Any = None, read_only: bool = False) -> OxigraphStore:
        if selector.location:
            path = selector.location
        elif project is not None:
            path = os.fspath(project.store_path)
        else:
            path = os.path.join(".dispute-kg", "store")
        return cls.at(path, read_only=read_only)

    @classmethod
    def at(cls, path: str, *, read_only: bool = False) -> OxigraphStore:
        if read_only and not os.path.exists(path):
            raise BackendUnavailable(f"no store at {path}: run `dispute-kg build` first")
        try:
            store = ox.Store.read_only(path) if read_only else ox.Store(path)
        except OSError as exc:
            raise BackendUnavailable(f"cannot open Oxigraph store at {path}: {exc}") from None
        return cls(store, path, read_only)

    @classmethod
    def in_memory(cls) -> OxigraphStore:
        return cls(ox.Store(), None, False)

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *,
              limit: int | None = None, timeout: float | None = None, default_graphs: list[str] | None = None,
              named_graphs: list[str] | None = None, union_default_graph: bool = True) -> Result:
        """Evaluate a query. By default the default graph is the union of all graphs; `default_graphs` and
        `named_graphs` (the SPARQL Protocol's dataset) replace the dataset, graphs left out being empty, and
        `union_default_graph=False` leaves it to the query's FROM / FROM NAMED."""
        if default_graphs is not None or named_graphs is not None:
            try:
                dataset: dict[str, Any] = {"default_graph": [ox.NamedNode(g) for g in default_graphs or []],
                                           "named_graphs": [ox.NamedNode(g) for g in named_graphs or []]}
            except ValueError as exc:
                raise InputError(f"a graph of the dataset is not an IRI: {exc}") from None
            return evaluate(self.store, sparql, bindings, limit, timeout, **dataset)
        return evaluate(self.store, sparql, bindings, limit, timeout, use_default_graph_as_union=union_default_graph)

    def query_ordered(self, sparql: str, keys: tuple[tuple[str, bool], ...], first: int, last: int | None, *,
                      cap: int, timeout: float | None = None, lookups: tuple[tuple[str, str, str], ...] = (),
                      columns: tuple[str, ...] = (), distinct: bool = False, prologue: str = "") -> Result | None:
        """Rows `first` to `last` of a SELECT query with no ORDER BY of its own, in the order of `keys`
        (`rdf.ordering.rank`); None when the engine must order them: more than `cap` rows, or values
        whose order SPARQL leaves to the engine. Only the key columns of every row are decoded; the rest
        only for the rows returned.

        Why not the engine's ORDER BY: Oxigraph rereads both IRIs' strings from RocksDB on every
        comparison of its sort (rdf/ordering.py has the figures).

        With `lookups` (`sparql_parse.deferred_lookups`), `sparql` is the query without those OPTIONAL
        blocks, and each is asked for the rows of the page only, in batches, as the rows are walked in
        order (with DISTINCT over `columns`, the query's own projection): a lookup per row is the cost of
        a long answer whose page shows a few columns more than it is ordered on."""
        from ..rdf.ordering import rank

        def work() -> Result | None:
            try:
                answer = self.store.query(sparql, use_default_graph_as_union=True)
            except SyntaxError as exc:
                raise sparql_error(exc) from None
            if not isinstance(answer, ox.QuerySolutions):
                return None
            variables = [v.value for v in answer.variables]
            solutions = []
            for solution in answer:
                if len(solutions) >= cap:
                    return None
                solutions.append(solution)
            key_names = [name for name, _ in keys]
            order = rank([solution_row(solution, key_names) for solution in solutions], keys)
            if order is None:
                return None
            if lookups:
                return self._with_lookups([solutions[i] for i in order], first, last, lookups, columns, distinct,
                                          prologue)
            end = len(order) if last is None else last
            rows = [solution_row(solutions[i], variables) for i in order[first:end]]
            return Result("select", variables=variables, rows=rows, truncated=len(order) > end)

        return run_with_timeout(work, timeout)

    LOOKUP_BATCH = 256  # rows whose lookups one query asks for, past the page itself

    def _with_lookups(self, ordered: list[ox.QuerySolution], first: int, last: int | None,
                      lookups: tuple[tuple[str, str, str], ...], columns: tuple[str, ...],
                      distinct: bool, prologue: str) -> Result | None:
        """Rows `first` to `last` of the ordered solutions, each given the values of every lookup (each
        value one row, as the OPTIONAL gave; no value, one row without it); None when a subject is a
        blank node, which no query can name. The lookups of one subject are one query."""
        by_subject: dict[str, list[tuple[str, str]]] = {}
        for subject, value, group in lookups:
            by_subject.setdefault(subject, []).append((value, group))
        looked_up = {value for _, value, _ in lookups}
        own = [c for c in columns if c not in looked_up]
        rows: list[dict] = []
        seen: set[tuple] = set()
        at = 0
        while at < len(ordered) and (last is None or len(rows) <= last):
            size = self.LOOKUP_BATCH if last is None else max(last + 1 - len(rows), 1) + 8
            batch = ordered[at:at + size]
            at += len(batch)
            found = []
            for subject, parts in by_subject.items():
                values = self._lookup([solution[subject] for solution in batch], subject, parts, prologue)
                if values is None:
                    return None
                found.append((subject, values))
            for solution in batch:
                expanded = [solution_row(solution, own)]
                for subject, values in found:
                    combos = values.get(solution[subject], [{}])
                    expanded = [{**r, **combo} for r in expanded for combo in combos]
                for r in expanded:
                    if distinct:
                        key = tuple(repr(r.get(c)) for c in columns)
                        if key in seen:
                            continue
                        seen.add(key)
                    rows.append({c: r[c] for c in columns if c in r})
        end = len(rows) if last is None else last
        return Result("select", variables=list(columns), rows=rows[first:end], truncated=len(rows) > end)

    def _lookup(self, subjects: list, subject: str, parts: list[tuple[str, str]], prologue: str) -> dict | None:
        """Each subject's combinations of values of its lookups (one OPTIONAL each, as the query joined
        them), as {variable: term} in the engine's order."""
        distinct = list(dict.fromkeys(s for s in subjects if s is not None))
        if any(isinstance(s, ox.BlankNode) for s in distinct):
            return None
        out: dict = {}
        if not distinct:
            return out
        names = [value for value, _ in parts]
        text = (f"{prologue}\nSELECT ?{subject} {' '.join('?' + n for n in names)} WHERE {{ VALUES ?{subject} "
                f"{{ {' '.join(map(str, distinct))} }}\n"
                + "".join(f"OPTIONAL {{ {group} }}\n" for _, group in parts) + "}")
        for solution in self.store.query(text, use_default_graph_as_union=True):
            out.setdefault(solution[subject], []).append(
                {n: term_from_ox(solution[n]) for n in names if solution[n] is not None})
        return out

    def update(self, sparql: str) -> None:
        try:
            self.store.update(sparql)
        except SyntaxError as exc:
            raise sparql_error(exc, "update") from None

    def add_quads(self, quads: Iterable[QuadTerms]) -> None:
        self.store.extend([terms_to_quad(q) for q in quads])

    def add_ox_quads(self, quads: Iterable[ox.Quad]) -> None:
        self.store.bulk_extend(quads)

    def quads(self) -> Iterator[QuadTerms]:
        for q in self.store:
            yield quad_to_terms(q)

    def count(self, graph: str | None = None) -> int:
        if graph is None:
            return len(self.store)
        return sum(1 for _ in self.store.quads_for_pattern(None, None, None, ox.NamedNode(graph)))

    def flush(self) -> None:
        if not self.read_only:
            self.store.flush()

    def close(self) -> None:
        self.flush()
        del self.store
