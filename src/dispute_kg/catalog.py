"""The stored-query catalogue: `queries/*.rq` read into `StoredQuery` values, and parameter binding.

A parameter value given by a user is checked against the type its header declares and turned into
one RDF term (`store.Term`), which the backend binds to the query's variable (pyoxigraph
`substitutions`, rdflib `initBindings`, or a `VALUES` block for a remote endpoint). The query text is
never edited, so no value can change what the query does. An IRI parameter also accepts a CURIE
(`id:state/japan`) or a label or alias, resolved by a query that itself takes the label as a bound
term. Only the standard library, `headers` and `store` are imported here: this is the query path.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import InputError
from .headers import read_header
from .namespaces import ID, PREFIXES
from .store import Result, Store, Term, iri, literal

XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS_LABEL = "http://www.w3.org/2000/01/rdf-schema#label"
SKOS_ALT = "http://www.w3.org/2004/02/skos/core#altLabel"

# grlc's variable convention: ?_name_type required, ?__name_type optional.
TYPE_SUFFIXES = {"_iri": "iri", "_xsd_date": "xsd:date", "_xsd_integer": "integer", "_integer": "integer"}
TYPES = ("iri", "xsd:date", "string", "integer")
_PARAM_VAR = re.compile(r"[?$](__?[A-Za-z][A-Za-z0-9_]*)")
_IRI_BAD = re.compile(r'[\x00-\x20<>"{}|^`\\]')
_DATE = re.compile(r"-?\d{4,}-\d{2}-\d{2}")
_INT = re.compile(r"[+-]?\d+")
_SPARQL_POS = re.compile(r"error at (\d+):(\d+)")


@dataclass(frozen=True)
class Parameter:
    """One declared parameter: its name, type, whether it is required, and the variable it binds."""

    name: str
    type: str
    required: bool
    variable: str
    example: str = ""
    description: str = ""
    cls: str | None = None  # IRI of the class a label must resolve into, if any

    def usage(self) -> str:
        return f"-p {self.name}={self.example}" if self.example else f"-p {self.name}=VALUE"


@dataclass(frozen=True)
class StoredQuery:
    name: str
    path: Path
    summary: str
    description: str
    tags: tuple[str, ...]
    parameters: tuple[Parameter, ...]
    defaults: dict[str, str] = field(default_factory=dict)
    text: str = ""

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


def parameter_variables(text: str) -> list[str]:
    """The grlc parameter variables in a query, outside comments, strings and IRIs."""
    from .sparqltext import _TOKEN

    cleaned, last = [], 0
    for m in _TOKEN.finditer(text):
        if m.lastgroup in ("comment", "string", "iri"):
            cleaned.append(text[last:m.start()])
            cleaned.append(" ")
            last = m.end()
    cleaned.append(text[last:])
    seen: list[str] = []
    for var in _PARAM_VAR.findall("".join(cleaned)):
        if var not in seen:
            seen.append(var)
    return seen


def load_query(path: Path) -> StoredQuery:
    text = path.read_text(encoding="utf-8")
    display = f"queries/{path.name}"
    header, _ = read_header(text)
    variables = {parse_variable(v)[0]: v for v in parameter_variables(text)}
    declared = header.get("parameters") or []
    if not isinstance(declared, list):
        raise InputError("the `parameters:` header must be a list", path=display)
    params: list[Parameter] = []
    for entry in declared:
        if not isinstance(entry, dict) or "name" not in entry:
            raise InputError("each parameter in the header needs a `name:`", path=display)
        name = str(entry["name"])
        if name not in variables:
            raise InputError(f"parameter {name!r} is declared but no ?_{name}_... variable uses it", path=display)
        var = variables[name]
        _, var_type, var_required = parse_variable(var)
        declared_type = str(entry.get("type", var_type))
        declared_required = bool(entry.get("required", var_required))
        if declared_type != var_type or declared_required != var_required:
            raise InputError(f"parameter {name!r} is declared as {declared_type}"
                             f"{' required' if declared_required else ' optional'} but its variable ?{var} "
                             f"says {var_type}{' required' if var_required else ' optional'}", path=display)
        params.append(Parameter(name, declared_type, declared_required, var, str(entry.get("example", "")),
                                str(entry.get("description", "")), entry.get("class")))
    # Parameters used in the text but not declared: derive them (a fallback, as datasette does).
    for name, var in variables.items():
        if not any(p.name == name for p in params):
            _, kind, required = parse_variable(var)
            params.append(Parameter(name, kind, required, var))
    defaults: dict[str, str] = {}
    for item in header.get("defaults") or []:
        if isinstance(item, dict):
            defaults.update({str(k): str(v) for k, v in item.items()})
    tags = header.get("tags") or []
    return StoredQuery(path.stem, path, str(header.get("summary", "")), str(header.get("description", "")),
                       tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])), tuple(params),
                       defaults, text)


class Catalog:
    """The stored queries of one project, by name."""

    def __init__(self, paths: list[Path]) -> None:
        self.paths = {p.stem: p for p in paths}
        self._cache: dict[str, StoredQuery] = {}

    @classmethod
    def for_project(cls, project: Any) -> Catalog:
        return cls(project.query_files)

    def names(self) -> list[str]:
        return sorted(self.paths)

    def get(self, name: str) -> StoredQuery:
        if name not in self.paths:
            import difflib

            close = difflib.get_close_matches(name, self.names(), n=1, cutoff=0.5)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise InputError(f"no stored query named {name!r}{hint} (see `dispute-kg query list`)")
        if name not in self._cache:
            self._cache[name] = load_query(self.paths[name])
        return self._cache[name]

    def all(self) -> list[StoredQuery]:
        return [self.get(n) for n in self.names()]


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
    if _IRI_BAD.search(value):
        raise InputError(f"parameter {param.name!r} expects an IRI, a CURIE such as id:state/japan or a label; "
                         f"{_show(value)} is not a valid IRI")
    return value


def _show(value: str, width: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


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
    from .namespaces import shorten

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
            if not _DATE.fullmatch(text):
                raise ValueError
            _dt.date.fromisoformat(text)
        except ValueError:
            raise InputError(f"parameter {param.name!r} expects an xsd:date (YYYY-MM-DD, e.g. 2018-01-01); "
                             f"got {_show(text)}") from None
        return literal(text, XSD + "date")
    if param.type == "integer":
        text = str(value)
        if isinstance(value, bool) or not _INT.fullmatch(text):
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


def run_query(store: Store, query: StoredQuery, params: dict[str, Any] | None = None, *,
              limit: int | None = None, timeout: float | None = None) -> Result:
    """Bind the parameters and run the stored query, its text unchanged."""
    bindings = bind(query, params or {}, store)
    try:
        result = store.query(query.text, bindings or None, limit=limit, timeout=timeout)
    except InputError as exc:
        raise located(exc, f"queries/{query.path.name}") from None
    return without_parameters(result, {p.variable for p in query.parameters})


def without_parameters(result: Result, variables: set[str]) -> Result:
    """Drop the parameter columns: stored queries project them only because pyoxigraph substitutes
    projected variables alone; the value given is not part of the answer."""
    if result.kind != "select" or not variables & set(result.variables):
        return result
    result.variables = [v for v in result.variables if v not in variables]
    result.rows = [{k: v for k, v in row.items() if k not in variables} for row in result.rows]
    return result


def located(exc: InputError, path: str) -> InputError:
    """Re-raise a SPARQL syntax error with the file and line:column it happened at."""
    line, column = exc.line, exc.column
    m = _SPARQL_POS.search(str(exc))
    if line is None and m:
        line, column = int(m.group(1)), int(m.group(2))
    message = str(exc)
    if exc.path:
        message = message.split(": ", 1)[-1]
    return InputError(message, path=path, line=line, column=column)


# -- terms -> Python values --------------------------------------------------------------------
def python_value(term: Term | None) -> Any:
    """A result term as a plain Python value: IRIs and strings as str, numbers, dates, booleans."""
    if term is None:
        return None
    if term["type"] != "literal":
        return term["value"]
    import datetime as _dt

    value, datatype = term["value"], term.get("datatype", "")
    try:
        if datatype in (XSD + "integer", XSD + "int", XSD + "long", XSD + "nonNegativeInteger"):
            return int(value)
        if datatype in (XSD + "decimal", XSD + "double", XSD + "float"):
            return float(value)
        if datatype == XSD + "boolean":
            return value in ("true", "1")
        if datatype == XSD + "date":
            return _dt.date.fromisoformat(value)
    except ValueError:
        return value
    return value


def python_rows(result: Result) -> list[dict[str, Any]]:
    if result.kind == "ask":
        return [{"boolean": bool(result.boolean)}]
    if result.kind == "graph":
        return [{"subject": python_value(s), "predicate": python_value(p), "object": python_value(o)}
                for s, p, o in result.triples]
    return [{v: python_value(row.get(v)) for v in result.variables} for row in result.rows]


# -- docs ------------------------------------------------------------------------------------
def render_docs(catalog: Catalog) -> str:
    """docs/queries.md, generated from the query headers (`dispute-kg query docs`)."""
    lines = ["# Stored queries", "",
             "<!-- Generated by `dispute-kg query docs` from the headers of queries/*.rq; do not edit. -->", "",
             "Run one with `dispute-kg query run NAME [-p name=value ...] [--format table|csv|tsv|json|xml]`,",
             "or from Python with `KnowledgeGraph.open().run(NAME, name=value)`. An IRI parameter also takes",
             "a CURIE such as `id:state/japan`, a label (`Japan`) or an alias (`USSR`, `Etorofu`).", "",
             "| query | summary | parameters |", "|---|---|---|"]
    queries = catalog.all()
    for q in queries:
        params = ", ".join(f"`{p.name}`{'' if p.required else '?'}" for p in q.parameters) or "none"
        lines.append(f"| [`{q.name}`](#{q.name}) | {q.summary} | {params} |")
    for q in queries:
        lines += ["", f"## {q.name}", "", q.summary + ".", ""]
        if q.description:
            lines += [q.description, ""]
        if q.tags:
            lines += ["Tags: " + ", ".join(q.tags), ""]
        if q.parameters:
            lines += ["| parameter | type | required | example | description |", "|---|---|---|---|---|"]
            for p in q.parameters:
                lines.append(f"| `{p.name}` | {p.type} | {'yes' if p.required else 'no'} | "
                             f"{p.example} | {p.description} |")
            lines.append("")
        example = q.example_command()
        optional = [p for p in q.parameters if not p.required and p.example]
        if optional:
            example += " " + optional[0].usage()
        lines += ["```", example if " " not in example.split(" -p ")[-1] or "=" not in example
                  else _quoted(example), "```", "", f"Source: [`queries/{q.path.name}`](../queries/{q.path.name})"]
    return "\n".join(lines) + "\n"


def _quoted(command: str) -> str:
    """Quote `-p name=value with spaces` arguments for a shell."""
    head, *pairs = command.split(" -p ")
    return head + "".join(f" -p '{pair}'" if " " in pair else f" -p {pair}" for pair in pairs)


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
