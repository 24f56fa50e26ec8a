"""Stored queries as values, and binding a user's parameter values to them as RDF terms.

A value is checked against the type its parameter declares and turned into one RDF term; the terms
are bound to the query's variables by a generated `VALUES` block at the start of its WHERE group,
each term written with N-Triples escaping after checks that refuse anything that could end it, so no
value can change what the query does. The same bound text runs on every backend, and the stored
files themselves run unchanged in grlc. An IRI parameter also accepts a CURIE (`id:state/japan`) or
a label or alias, resolved by a query that itself takes the label as a bound term (pyoxigraph
`substitutions`, rdflib `initBindings`).

This is the quick route of `dispute-kg query run`: it imports only import-free modules of the
package (no re, dataclasses or typing at run time). Reading `queries/*.rq` headers is `catalog`'s.
"""

from __future__ import annotations

from ..errors import InputError, QueryTimeout
from ..rdf.namespaces import ID, PREFIXES
from ..rdf.terms import Record, Result, Term, iri, literal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from ..stores.base import Store

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"

# grlc's variable convention: ?_name_type required, ?__name_type optional.
TYPE_SUFFIXES = {"_iri": "iri", "_xsd_date": "xsd:date", "_xsd_integer": "integer", "_integer": "integer"}
TYPES = ("iri", "xsd:date", "string", "integer")
_IRI_FORBIDDEN = frozenset('<>"{}|^`\\')
_UNKNOWN = object()


class Parameter(Record):
    """One declared parameter: its name, type, whether it is required, and the variable it binds.

    `cls` is the IRI of the class a label must resolve into, if the header names one."""

    __slots__ = ("cls", "description", "example", "name", "required", "type", "variable")
    _FIELDS = ("name", "type", "required", "variable", "example", "description", "cls")

    def __init__(self, name: str, type: str, required: bool, variable: str, example: str = "",
                 description: str = "", cls: str | None = None) -> None:
        self.name, self.type, self.required, self.variable = name, type, required, variable
        self.example, self.description, self.cls = example, description, cls

    def astuple(self) -> tuple[str, str, bool, str, str, str, str | None]:
        return tuple(getattr(self, f) for f in self._FIELDS)  # type: ignore[return-value]

    def __hash__(self) -> int:
        return hash(self.astuple())

    def usage(self) -> str:
        return f"-p {self.name}={self.example}" if self.example else f"-p {self.name}=VALUE"


class Column(Record):
    """One documented result column: the projected variable (`claimKind`, no `?`), the label people
    read as its header (`Kind of claim`) and what a value in it means, in one line."""

    __slots__ = ("description", "label", "name")
    _FIELDS = ("name", "label", "description")

    def __init__(self, name: str, label: str, description: str = "") -> None:
        self.name, self.label, self.description = name, label, description

    def astuple(self) -> tuple[str, str, str]:
        return (self.name, self.label, self.description)

    def __hash__(self) -> int:
        return hash(self.astuple())


class StoredQuery(Record):
    """One stored query: `file` is its path in the project (`queries/claims.rq`), for messages;
    `where_at` the offset of the `{` opening its outermost WHERE group, where parameters are bound;
    `inner_at` the subquery groups that use parameters, bound too (`sparqltext.subquery_groups`);
    `columns` the documented columns, in the order the query projects them. `ordering()` is where its
    ORDER BY lies and what it orders on, read from the text when first asked (the query index keeps it)."""

    __slots__ = ("_deferred", "_order", "columns", "defaults", "description", "file", "inner_at", "name", "parameters",
                 "summary", "tags", "text", "where_at")
    _FIELDS = ("name", "file", "summary", "description", "tags", "parameters", "defaults", "text", "where_at",
               "columns", "inner_at")

    def __init__(self, name: str, file: str, summary: str, description: str, tags: tuple[str, ...],
                 parameters: tuple[Parameter, ...], defaults: dict[str, str] | None = None,
                 text: str = "", where_at: int | None = None, columns: tuple[Column, ...] = (),
                 inner_at: tuple[tuple[int, tuple[str, ...]], ...] = ()) -> None:
        self.name, self.file, self.summary, self.description = name, file, summary, description
        self.tags, self.parameters, self.defaults, self.text = tags, parameters, defaults or {}, text
        self.where_at, self.columns, self.inner_at = where_at, columns, inner_at
        self._order: object = _UNKNOWN
        self._deferred: object = _UNKNOWN

    def ordering(self) -> tuple[int, int, tuple[tuple[str, bool], ...]] | None:
        """`sparql_parse.order_clause` of the text: (start, end, keys) of an ORDER BY on projected variables."""
        if self._order is _UNKNOWN:
            from ..rdf.sparql_parse import order_clause

            self._order = order_clause(self.text)
        return self._order  # type: ignore[return-value]

    def deferred(self) -> tuple | None:
        """`sparql_parse.deferred_lookups` of the text without its ORDER BY: the OPTIONAL lookups that
        a page's rows can be given after the rest of the answer is ordered (the query index keeps it)."""
        if self._deferred is _UNKNOWN:
            order = self.ordering()
            found = None
            if order is not None:
                from ..rdf.sparql_parse import deferred_lookups

                start, end, keys = order
                found = deferred_lookups(self.text[:start] + "\n" + self.text[end:], keys)
            self._deferred = found
        return self._deferred  # type: ignore[return-value]

    def __repr__(self) -> str:  # the text is long: name the query instead
        return f"StoredQuery(name={self.name!r}, file={self.file!r})"

    def parameter(self, name: str) -> Parameter | None:
        return next((p for p in self.parameters if p.name == name), None)

    def example_command(self) -> str:
        required = " ".join(p.usage() for p in self.parameters if p.required)
        return f"dispute-kg query run {self.name}" + (f" {required}" if required else "")


def parse_variable(variable: str) -> tuple[str, str, bool]:
    """`__before_xsd_date` -> ("before", "xsd:date", False); `_state_iri` -> ("state", "iri", True)."""
    required = not variable.startswith("__")
    rest = variable.lstrip("_")
    for suffix, kind in TYPE_SUFFIXES.items():
        if rest.endswith(suffix) and len(rest) > len(suffix):
            return rest[: -len(suffix)], kind, required
    return rest, "string", required


# -- values -> terms -------------------------------------------------------------------------
def expand_curie(value: str) -> str | None:
    """`id:state/japan` or `dk:Claim` -> full IRI; None when the prefix is not one of ours."""
    prefix, sep, local = value.partition(":")
    if not sep or local.startswith("//"):
        return None
    if prefix == "id":
        return ID + local
    ns = PREFIXES.get(prefix)
    return ns + local if ns else None


def _checked_iri(param: Parameter, value: str) -> str:
    # The characters an IRIREF may not contain (SPARQL 1.1 grammar rule 139).
    if any(c <= " " or c in _IRI_FORBIDDEN for c in value):
        raise InputError(f"parameter {param.name!r} expects an IRI, a CURIE such as id:state/japan or a label; "
                         f"{_show(value)} is not a valid IRI")
    return value


def _show(value: str, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


def _is_date_lexical(text: str) -> bool:
    """YYYY-MM-DD in decimal digits; `date.fromisoformat` then decides whether the day exists."""
    digits = text[0:4] + text[5:7] + text[8:10]
    return len(text) == 10 and text[4] == text[7] == "-" and digits.isdecimal()


def _is_integer_lexical(text: str) -> bool:
    digits = text[1:] if text[:1] in ("+", "-") else text
    return digits.isdecimal()


LABEL_QUERY = """SELECT DISTINCT ?s ?label ?labelProperty ?wanted WHERE {
  ?s ?labelProperty ?label .
  FILTER (isIRI(?s) && LCASE(STR(?label)) = LCASE(STR(?wanted)))
}
ORDER BY ?s"""

CLASS_LABEL_QUERY = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?s ?label ?labelProperty ?wanted ?class WHERE {
  ?s ?labelProperty ?label ; rdf:type ?class .
  FILTER (isIRI(?s) && LCASE(STR(?label)) = LCASE(STR(?wanted)))
}
ORDER BY ?s"""

ALL_LABELS_QUERY = """PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
SELECT DISTINCT ?label WHERE {
  { ?s <http://www.w3.org/2000/01/rdf-schema#label> ?label } UNION
  { ?s <http://www.w3.org/2004/02/skos/core#altLabel> ?label }
  FILTER (isIRI(?s) && STRSTARTS(STR(?s), "https://w3id.org/dispute-kg/id/"))
}"""


def resolve_label(store: Store, param: Parameter, value: str) -> str:
    """A label or alias -> the one IRI that has it: rdfs:label first, then skos:altLabel, compared
    case-insensitively; entities under the project's id/ namespace before others; restricted to the
    parameter's class when its header names one. The label is bound as a term, never spliced."""
    from ..rdf.namespaces import shorten

    query = CLASS_LABEL_QUERY if param.cls else LABEL_QUERY
    for prop in (RDFS_LABEL, SKOS_ALT):
        bindings: dict[str, Term] = {"labelProperty": iri(prop), "wanted": literal(value)}
        if param.cls:
            bindings["class"] = iri(param.cls)
        rows = store.query(query, bindings).rows
        found = sorted({r["s"]["value"] for r in rows})
        ours = [f for f in found if f.startswith(ID)]
        found = ours or found  # the project's own entities before linked ones (e.g. Wikidata items)
        if len(found) == 1:
            return found[0]
        if len(found) > 1:
            listed = ", ".join(shorten(f) for f in found)
            raise InputError(f"parameter {param.name!r}: {_show(value)} is ambiguous; it names {listed}; "
                             "give one of these instead")
    import difflib

    labels = [r["label"]["value"] for r in store.query(ALL_LABELS_QUERY).rows]
    close = difflib.get_close_matches(value, sorted(set(labels)), n=5, cutoff=0.6)
    kind = f" (a {shorten(param.cls)})" if param.cls else ""
    hint = f"; candidates: {', '.join(close)}" if close else ""
    raise InputError(f"parameter {param.name!r}: nothing{kind} has the label or alias {_show(value)}{hint}")


def to_term(param: Parameter, value: Any, store: Store | None = None) -> Term:
    """Check one value against its parameter's type and make the RDF term to bind."""
    if param.type == "iri":
        text = str(value)
        if text.startswith(("http://", "https://", "urn:")):
            return iri(_checked_iri(param, text))
        expanded = expand_curie(text)
        if expanded is not None:
            return iri(_checked_iri(param, expanded))
        if store is None:
            raise InputError(f"parameter {param.name!r} expects an IRI; {_show(text)} is not one")
        if not text.strip():
            raise InputError(f"parameter {param.name!r} expects an IRI or a label; it is empty")
        return iri(resolve_label(store, param, text.strip()))
    if param.type == "xsd:date":
        import datetime as _dt

        if isinstance(value, _dt.date):
            value = value.isoformat()
        text = str(value)
        try:
            if not _is_date_lexical(text):
                raise ValueError
            _dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"parameter {param.name!r} expects an xsd:date (YYYY-MM-DD, e.g. 2018-01-01); "
                             f"got {_show(text)}") from None
        return literal(text, XSD + "date")
    if param.type == "integer":
        text = str(value)
        if isinstance(value, bool) or not _is_integer_lexical(text):
            raise InputError(f"parameter {param.name!r} expects an integer; got {_show(text)}")
        return literal(str(int(text)), XSD + "integer")
    return literal(str(value))


def bind(query: StoredQuery, params: dict[str, Any], store: Store | None = None) -> dict[str, Term]:
    """Values by parameter name -> terms by variable name; refuses unknown, missing or mistyped ones."""
    values = {**query.defaults, **{k: v for k, v in params.items() if v is not None}}
    unknown = [k for k in values if query.parameter(k) is None]
    if unknown:
        known = ", ".join(p.name for p in query.parameters) or "none"
        raise InputError(f"query {query.name!r} has no parameter {unknown[0]!r} (its parameters: {known})")
    bindings: dict[str, Term] = {}
    for param in query.parameters:
        if param.name not in values:
            if param.required:
                raise InputError(f"query {query.name!r} needs parameter {param.name!r} ({param.type}); "
                                 f"for example: dispute-kg query run {query.name} {param.usage()}")
            continue
        bindings[param.variable] = to_term(param, values[param.name], store)
    return bindings


def bound_text(query: StoredQuery, bindings: dict[str, Term]) -> str:
    """The stored query with its parameters' terms in a VALUES block at the start of its WHERE group, and
    of each subquery's group that uses one of them (a parameter is one value for the whole query).

    The same text works on every backend and in grlc, which rewrites `?_name` variables itself: the
    parameters are not projected, as pyoxigraph `substitutions` would need, so they stay out of the
    answer. Each term is written by `convert.term_text`, which refuses any value that could end the
    term it is written in; the rest of the text is the file's, byte for byte."""
    if not bindings:
        return query.text
    if query.where_at is None:
        raise InputError("has parameters but no WHERE group to bind them in", path=query.file)
    from ..rdf.convert import insert_values  # pyoxigraph: not loaded before a value is known good

    return insert_values(query.text, query.where_at, bindings, query.inner_at)


def page_clause(limit: int | None, offset: int | None) -> str:
    """The solution modifiers of one page. One row more than `limit` is asked for, so that an answer
    with more rows is still reported as truncated; the caller keeps `limit` rows."""
    clause = "\n"
    if limit is not None:
        clause += f"LIMIT {int(limit) + 1}\n"
    if offset:
        clause += f"OFFSET {int(offset)}\n"
    return clause


def paged_text(text: str, limit: int | None, offset: int | None) -> str:
    """`text` asking the engine for one page, rows `offset` to `offset + limit` of the answer in its order.

    Only a page past the first needs the engine (a first page is the answer's first rows, which the
    caller reads as they come and stops): then the engine skips the rows and a remote one sends only the
    page. Whether the query can take a LIMIT/OFFSET of its own is read from rdflib's parse of it: SPARQL
    allows one such clause per query and none after a trailing VALUES block. A query that has its own is
    refused an offset, since skipping its rows here could differ from what its author's clause means."""
    if not offset:
        return text
    from ..rdf.sparql_parse import has_own_slice

    own = has_own_slice(text)
    if own is None:
        raise InputError("only a SELECT, CONSTRUCT or DESCRIBE query can be paged with an offset")
    if own:
        raise InputError("this query has its own LIMIT, OFFSET or trailing VALUES: it cannot be paged with an "
                         "offset")
    return text + page_clause(limit, offset)


def run_query(store: Store, query: StoredQuery, params: dict[str, Any] | None = None, *,
              limit: int | None = None, offset: int | None = None, timeout: float | None = None) -> Result:
    """Bind the parameters and run the stored query; with `limit`/`offset`, one page of its answer."""
    text = bound_text(query, bind(query, params or {}, store))
    return run_bound(store, query, text, limit=limit, offset=offset, timeout=timeout)


def run_bound(store: Store, query: StoredQuery, text: str, *, limit: int | None = None,
              offset: int | None = None, timeout: float | None = None) -> Result:
    """Run the bound text of `query` (from `bound_text`), one page of it with `limit`/`offset`."""
    if offset is not None and offset < 0:
        raise InputError(f"offset must be 0 or more, not {offset}")
    views = getattr(store, "views", None)  # a held, published generation's materialised answers
    if views is not None:
        from .views import page

        answer = page(views, query.name, text, limit, offset)
        if answer is not None:
            return without_parameters(answer, {p.variable for p in query.parameters})
    try:
        result, left = None, timeout
        if getattr(store, "order_here", False):  # the embedded store: a stored query's answer is ordered here
            import time

            began = time.monotonic()
            result = _ordered_here(store, query, text, limit, offset, timeout)
            if result is None and timeout is not None:  # the engine orders it, in the time that is left
                left = timeout - (time.monotonic() - began)
        if result is None:
            if left is not None and left <= 0:
                raise QueryTimeout(_stopped(timeout))
            try:
                result = store.query(paged_text(text, limit, offset), None, limit=limit, timeout=left)
            except QueryTimeout:
                if left is timeout:
                    raise
                raise QueryTimeout(_stopped(timeout)) from None  # the user's timeout, not what was left of it
    except InputError as exc:
        raise located(exc, query.file) from None
    return without_parameters(result, {p.variable for p in query.parameters})


def _stopped(timeout: float | None) -> str:
    return f"query stopped after {timeout:g} s (raise --timeout to allow longer)"


# An answer of more rows than this is ordered by the engine: holding it all here would cost more
# memory than the sort saves time.
ORDER_HERE_ROWS = 100_000


def _ordered_here(store: Store, query: StoredQuery, text: str, limit: int | None, offset: int | None,
                  timeout: float | None) -> Result | None:
    """The page of the bound `text`, run without its ORDER BY and ordered by `ordering.rank`; None
    when the engine must order it (no ORDER BY on projected variables, a pair of values whose order
    SPARQL leaves to the engine, a very long answer). The clause lies after every group, where
    parameters are bound, so it sits at the same distance from the end of the bound text."""
    order = query.ordering()
    if order is None:
        return None
    start, end, keys = order
    shift = len(text) - len(query.text)
    if text[start + shift:end + shift] != query.text[start:end]:
        return None  # not the stored text bound: nothing known about where its clause lies
    first = offset or 0
    unordered = text[:start + shift] + "\n" + text[end + shift:]
    last = None if limit is None else first + limit
    # a page defers the lookups; a whole answer makes them all, which the engine does faster in its join
    deferred = query.deferred() if last is not None else None
    if deferred is not None:
        reduced = _without_lookups(unordered, query.text[:start] + "\n" + query.text[end:], deferred)
        if reduced is not None:
            _, _, _, lookups, columns, distinct, prologue = deferred
            return store.query_ordered(reduced, keys, first, last, cap=ORDER_HERE_ROWS,  # type: ignore[attr-defined]
                                       timeout=timeout, lookups=lookups, columns=columns, distinct=distinct,
                                       prologue=prologue)
    return store.query_ordered(unordered, keys, first, last, cap=ORDER_HERE_ROWS,  # type: ignore[attr-defined]
                               timeout=timeout)


def _without_lookups(unordered: str, stored: str, deferred: tuple) -> str | None:
    """The bound, unordered text without the blocks whose lookups wait for the page, the subjects they
    need projected; None if the bound text does not hold each block once, where the stored text has it.
    The parameters' VALUES blocks are inserted after the projection and never inside such a block."""
    blocks, insert_at, insert = deferred[0], deferred[1], deferred[2]
    for block in blocks:
        if unordered.count(block) != 1:
            return None
        unordered = unordered.replace(block, "", 1)
    if unordered[:insert_at] != stored[:insert_at]:
        return None
    return unordered[:insert_at] + insert + unordered[insert_at:]


def without_parameters(result: Result, variables: set[str]) -> Result:
    """Drop parameter columns a query author projected anyway: the value given is not part of the answer."""
    if result.kind != "select" or not variables & set(result.variables):
        return result
    result.variables = [v for v in result.variables if v not in variables]
    result.rows = [{k: v for k, v in row.items() if k not in variables} for row in result.rows]
    return result


def located(exc: InputError, path: str) -> InputError:
    """Re-raise a SPARQL syntax error with the file and line:column it happened at."""
    import re

    line, column = exc.line, exc.column
    m = re.search(r"error at (\d+):(\d+)", str(exc))
    if line is None and m:
        line, column = int(m.group(1)), int(m.group(2))
    message = str(exc)
    if exc.path:
        message = message.split(": ", 1)[-1]
    return InputError(message, path=path, line=line, column=column)


def parse_param_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`name=value` strings from the command line into a dict, refusing malformed or repeated names."""
    params: dict[str, str] = {}
    for pair in pairs:
        name, eq, value = pair.partition("=")
        if not eq or not name.strip():
            raise InputError(f"-p {pair!r} is not name=value (for example: -p state=Japan)")
        if name.strip() in params:
            raise InputError(f"parameter {name.strip()!r} is given twice")
        params[name.strip()] = value
    return params
