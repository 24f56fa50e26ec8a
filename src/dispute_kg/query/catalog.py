"""The stored-query catalogue: `queries/*.rq` read into `StoredQuery` values, and their docs.

Binding values to a query's parameters lives in `binding`, which the quick route
of `dispute-kg query run` imports without this module: reading headers needs `re`, and the quick
route reads the headers from the index `build` writes instead (see `query.index`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..rdf.terms import Result, Term
from .binding import XSD, Column, Parameter, StoredQuery, parse_variable
from .headers import read_header

_PARAM_VAR = re.compile(r"[?$](__?[A-Za-z][A-Za-z0-9_]*)")


def parameter_variables(text: str) -> list[str]:
    """The grlc parameter variables in a query, outside comments, strings and IRIs."""
    from ..rdf.sparqltext import _TOKEN

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
    header, _ = read_header(text, display)
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
    from ..rdf.sparqltext import subquery_groups, where_brace

    where_at = where_brace(text)
    inner_at = tuple(subquery_groups(text, {p.variable for p in params}))
    if params and where_at is None:
        raise InputError("a query with parameters needs a WHERE group to bind them in", path=display)
    columns = tuple(Column(c["name"], c["label"], c["description"]) for c in header.get("columns") or [])
    return StoredQuery(path.stem, display, str(header.get("summary", "")), str(header.get("description", "")),
                       tuple(str(t) for t in (tags if isinstance(tags, list) else [tags])), tuple(params),
                       defaults, text, where_at, columns, inner_at)


class Catalog:
    """The stored queries of one project, by name."""

    def __init__(self, paths: list[Path], orders: dict[str, Any] | None = None) -> None:
        self.paths = {p.stem: p for p in paths}
        self._cache: dict[str, StoredQuery] = {}
        self.orders = orders or {}  # each known text's `ordering()` and `deferred()` (`index.catalog`)

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
            query = load_query(self.paths[name])
            if query.text in self.orders:
                query._order, query._deferred = self.orders[query.text]
            self._cache[name] = query
        return self._cache[name]

    def all(self) -> list[StoredQuery]:
        return [self.get(n) for n in self.names()]


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
             "The headers and variables follow grlc's conventions (`?_name_iri` required, `?__name_xsd_date`",
             "optional), and the files run unchanged in grlc: `tests/test_grlc.py` checks that grlc reads the",
             "same parameters and that the queries it rewrites give the same answers. A parameter is one",
             "value for the whole query: it is bound at the start of the outermost WHERE group and of every",
             "subquery whose own patterns use it (grlc, which writes the value in place of the variable, does",
             "the same), so a grouped subquery reads only what the parameter selects.", "",
             "A header is the run of `#+` lines at the top of the file; without that prefix it is YAML, read",
             "with PyYAML's safe loader as grlc reads it (so `# text` after a value is a comment, and a value",
             "containing `: ` or starting with a YAML indicator must be quoted). What YAML cannot read, a key",
             "given twice, an unknown key, a value of the wrong kind or a `#+` line after the query has begun",
             "is refused with the file, line and column, never guessed at.", "",
             "A `columns:` list documents each variable the query projects: a `label` (the column header on",
             "the web pages) and a one-line `description` (shown with the header, by `dispute-kg query show`",
             "and below). It is checked against the projection Oxigraph's SPARQL parser reports for the query:",
             "a column the query does not project, one given twice or one without a label is refused. The",
             "downloads (JSON, CSV, TSV, XML) and `query run` keep the variable names, which is what programs",
             "read; every shipped query documents all its columns (`tests/test_headers.py` checks).", "",
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
        if q.columns:
            lines += ["| column | label | description |", "|---|---|---|"]
            lines += [f"| `?{c.name}` | {_cell(c.label)} | {_cell(c.description)} |" for c in q.columns]
            lines.append("")
        example = q.example_command()
        optional = [p for p in q.parameters if not p.required and p.example]
        if optional:
            example += " " + optional[0].usage()
        lines += ["```", example if " " not in example.split(" -p ")[-1] or "=" not in example
                  else _quoted(example), "```", "", f"Source: [`{q.file}`](../{q.file})"]
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    """Text for a Markdown table cell: a `|` would end the cell."""
    return text.replace("|", "\\|")


def _quoted(command: str) -> str:
    """Quote `-p name=value with spaces` arguments for a shell."""
    head, *pairs = command.split(" -p ")
    return head + "".join(f" -p '{pair}'" if " " in pair else f" -p {pair}" for pair in pairs)
