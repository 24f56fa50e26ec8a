"""The page shell and the HTML fragments every page uses: escaping, links to entities and source
spans, SPARQL result tables, and the choice between a page's HTML and its JSON form.

Every page is built in two steps: a `data(app, req)` function returns plain dicts and lists (what
`?_format=json` returns), and a `render(app, data)` function turns exactly that into HTML. So the JSON
form and the page always carry the same data. Every value that reaches HTML goes through `esc`.
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable
from typing import Any

from ...errors import DisputeKGError
from ...rdf.convert import insert_values, term_text
from ...rdf.namespaces import DEF, ID, shorten
from ...rdf.sparqltext import where_brace
from ...rdf.terms import Result, Term
from ..app import App, HTTPError, Request, Response, error_status, json_response

SOURCE_PREFIX = ID + "source/"
WIKIDATA = "http://www.wikidata.org/entity/"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
NAV = (("/", "Home"), ("/browse", "Browse"), ("/timeline", "Timeline"), ("/map", "Map"), ("/sources", "Sources"),
       ("/sparql-editor", "SPARQL"))

CURRENT = ' aria-current="page"'
Data = dict[str, Any]


def esc(value: Any) -> str:
    """Text for HTML content and double-quoted attributes."""
    return html.escape("" if value is None else str(value), quote=True)


def url(app: App, path: str) -> str:
    """A path under the server's base path (`serve` may be mounted below a prefix)."""
    return app.settings.base_path.rstrip("/") + path


def entity_path(iri: str) -> str | None:
    """`https://w3id.org/dispute-kg/id/territory/iturup` -> `/entity/territory/iturup`; None if not ours."""
    return "/entity/" + iri[len(ID):] if iri.startswith(ID) and len(iri) > len(ID) else None


def ask(app: App, text: str, **bindings: Term) -> Result:
    """Run one of the pages' own SELECT queries through the graph's library call, with `bindings` as
    RDF terms in a VALUES block inside its WHERE group (values never become query text)."""
    if bindings:
        at = where_brace(text)
        assert at is not None, "the pages' queries all have a WHERE group"
        text = insert_values(text, at, dict(bindings))
    return app.kg.sparql(text)


class GraphQueries:
    """A `query(text, bindings)` object over the graph's library call, for the library functions
    (label resolution, provenance coverage) that take something to query: the pages never hold a store."""

    def __init__(self, app: App) -> None:
        self.app = app

    def query(self, text: str, bindings: dict[str, Term] | None = None, **_: Any) -> Result:
        return ask(self.app, text, **(bindings or {}))


def term_path(iri: str) -> str | None:
    """`dk:Claim` -> `/ontology/Claim`: our own page for an ontology term."""
    return "/ontology/" + iri[len(DEF):] if iri.startswith(DEF) and len(iri) > len(DEF) else None


def span_path(source: str, start: int, end: int) -> str | None:
    """The source view at one span: `/source/urdupoint-2021-10-18#span-467-484`."""
    if not source.startswith(SOURCE_PREFIX):
        return None
    return f"/source/{source[len(SOURCE_PREFIX):]}#span-{start}-{end}"


def iri_link(app: App, iri: str, label: str | None = None) -> str:
    """An IRI as a link: our entities and ontology terms to their page, Wikidata items to Wikidata,
    others as text."""
    text = label or shorten(iri)
    path = entity_path(iri) or term_path(iri)
    if path:
        return f'<a href="{esc(url(app, path))}">{esc(text)}</a>'
    if iri.startswith(("http://", "https://")):
        return f'<a href="{esc(iri)}" rel="external noopener">{esc(text)}</a>'
    return esc(text)


class Redirect(Exception):
    """Raised by a page's data function: answer with a redirect to `path` (under the base path)."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


# -- JSON or HTML ---------------------------------------------------------------------------------
def wants_json(req: Request) -> bool:
    fmt = req.arg("_format")
    if fmt:
        if fmt not in ("json", "html"):
            raise HTTPError(400, f"unknown _format {fmt!r} for a page (choose json or html)")
        return fmt == "json"
    return False


def html_response(body: str, status: int = 200) -> Response:
    return Response(status, body.encode("utf-8"), "text/html; charset=utf-8",
                    [("Content-Security-Policy", CSP), ("Referrer-Policy", "same-origin")])


def page_view(app: App, data: Callable[[App, Request], Data], render: Callable[[App, Data], str],
              *, json_default: Callable[[Request], bool] | None = None) -> Callable[[Request], Response]:
    """A view answering `data(app, req)` as JSON (`?_format=json`) or rendered as an HTML page.
    Errors become an HTML error page for people and the server's JSON error for machines."""

    def view(req: Request) -> Response:
        as_json = False
        try:
            as_json = wants_json(req) or (req.arg("_format") is None and json_default is not None
                                          and json_default(req))
            try:
                payload = data(app, req)
            except Redirect as moved:
                query = req.environ.get("QUERY_STRING", "")
                target = url(app, moved.path) + (f"?{query}" if query else "")
                return Response(301, b"", "text/plain; charset=utf-8", [("Location", target)])
            status = int(payload.get("status", 200))
            return json_response(payload, status) if as_json else html_response(render(app, payload), status)
        except HTTPError as exc:
            if as_json or req.arg("_format") == "json":
                raise
            return html_response(error_page(app, exc.status, exc.message), exc.status)
        except DisputeKGError as exc:
            if as_json or req.arg("_format") == "json":
                raise
            status = error_status(exc)
            return html_response(error_page(app, status, str(exc)), status)

    return view


def error_page(app: App, status: int, message: str) -> str:
    title = {400: "Bad request", 403: "Forbidden", 404: "Not found", 405: "Method not allowed",
             503: "Query stopped"}.get(status, "Error")
    body = (f'<h1>{esc(title)}</h1><p class="error" role="alert">{esc(message)}</p>'
            f'<p>Try the search box above, <a href="{esc(url(app, "/browse"))}">browse by class</a>, or go '
            f'<a href="{esc(url(app, "/"))}">back to the home page</a>.</p>')
    return page(app, f"{title} ({status})", body)


# -- the shell ------------------------------------------------------------------------------------
def page(app: App, title: str, body: str, *, current: str = "", head: str = "", json_href: str = "",
         wide: bool = False, search: str = "") -> str:
    nav = "".join(
        f'<li><a href="{esc(url(app, href))}"{CURRENT if href == current else ""}>{esc(text)}</a></li>'
        for href, text in NAV)
    alt = (f'<link rel="alternate" type="application/json" href="{esc(json_href)}">' if json_href else "")
    json_link = (f'<a href="{esc(json_href)}">This page as JSON</a> · ' if json_href else "")
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)} · dispute-kg</title>
<link rel="icon" href="{esc(url(app, '/static/favicon.svg'))}" type="image/svg+xml">
<link rel="stylesheet" href="{esc(url(app, '/static/style.css'))}">
{alt}{head}
<script src="{esc(url(app, '/static/app.js'))}" defer></script>
</head>
<body>
<a class="skip-link" href="#main">Skip to content</a>
<header class="site-header">
  <div class="bar">
    <a class="brand" href="{esc(url(app, '/'))}">dispute-kg</a>
    <nav aria-label="Main"><ul>{nav}</ul></nav>
    <form class="site-search" role="search" aria-label="Site" method="get" action="{esc(url(app, '/search'))}">
      <label for="site-q" class="visually-hidden">Search labels, aliases and quotes</label>
      <input id="site-q" name="q" type="search" value="{esc(search)}" placeholder="Search: Etorofu, 1956, …"
       autocomplete="off" enterkeyhint="search">
      <button type="submit">Search</button>
    </form>
  </div>
</header>
<main id="main" tabindex="-1" class="{'wide' if wide else ''}">
{body}
</main>
<footer class="site-footer">
  <p>{json_link}<a href="{esc(url(app, '/api/queries'))}">Stored queries API</a> ·
  <a href="{esc(url(app, '/openapi.json'))}">OpenAPI</a> · <a href="{esc(url(app, '/sparql'))}">SPARQL endpoint</a>.
  Every assertion is tied to a span of its source text.</p>
</footer>
</body>
</html>
"""


# -- SPARQL results as a table ---------------------------------------------------------------------
def term_html(app: App, term: dict[str, str] | None, label: str | None = None) -> str:
    if term is None:
        return ""
    if term["type"] == "uri":
        return iri_link(app, term["value"], label)
    if term["type"] == "bnode":
        return f"<code>_:{esc(term['value'])}</code>"
    return esc(term["value"])


def column_title(variable: str) -> str:
    """`claimKind` -> `claim kind`, `speakerLabel` -> `speaker`: a header people can read. The variable
    name itself stays in the cell's `data-var` and in every download."""
    base = variable[:-5] if variable.endswith("Label") and len(variable) > 5 else variable
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", base).replace("_", " ").lower()


QUOTE_SPANS = """PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
SELECT DISTINCT ?node ?exact ?source ?start ?end WHERE {
  ?node prov:wasDerivedFrom ?selection .
  ?selection oa:hasSource ?source ; oa:hasSelector ?q , ?p .
  ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end .
}"""


def quote_spans(app: App, doc: Data) -> dict[tuple[str, str], str]:
    """(assertion IRI, quoted text) -> the source view at that span, for every IRI in the rows: a quote
    may belong to the row's first column (a claim) or to another (the statement that voiced a position)."""
    variables: list[str] = doc.get("head", {}).get("vars", [])
    rows = doc.get("results", {}).get("bindings", [])
    if not variables or not any(v in ("quote", "exact") for v in variables):
        return {}
    nodes = sorted({t["value"] for r in rows for t in r.values() if t.get("type") == "uri"})
    if not nodes:
        return {}
    at = where_brace(QUOTE_SPANS)
    assert at is not None
    values = "VALUES ?node { " + " ".join(term_text({"type": "uri", "value": n}) for n in nodes) + " } "
    text = QUOTE_SPANS[:at + 1] + " " + values + QUOTE_SPANS[at + 1:]
    out: dict[tuple[str, str], str] = {}
    for r in app.kg.sparql(text).rows:
        path = span_path(r["source"]["value"], int(r["start"]["value"]), int(r["end"]["value"]))
        if path:
            out.setdefault((r["node"]["value"], r["exact"]["value"]), path)
    return out


def results_table(app: App, doc: Data, *, caption: str = "", spans: dict[tuple[str, str], str] | None = None,
                  group: bool = True, columns: list[dict[str, str]] | None = None) -> str:
    """SPARQL 1.1 JSON results (SELECT or ASK) as an HTML table. An IRI column with a companion
    `<name>Label` column is shown as one linked column. Rows that share their first column (one claim
    and its territories) are grouped: a value repeated down the group is shown once (rowspan). A quote
    links to its span in the source view, found in `spans` (see `quote_spans`) or in the row's own
    `source`, `start` and `end`.

    `columns` are the stored query's documented columns (`name`, `label`, `description`): a header
    shows the label, and the variable name and description are in its `title` and in the list of
    columns under the table, which the header names with `aria-describedby`. A variable without
    documentation (an ad-hoc query) gets a title made from its name."""
    if "boolean" in doc:
        return f'<p class="ask-result">Answer: <strong>{"yes" if doc["boolean"] else "no"}</strong></p>'
    variables: list[str] = doc.get("head", {}).get("vars", [])
    rows: list[dict[str, dict[str, str]]] = doc.get("results", {}).get("bindings", [])
    spans = spans or {}
    documented = {c["name"]: c for c in columns or [] if c["name"] in variables}
    merged = {v for v in variables if v.endswith("Label") and v[:-5] in variables}
    shown = [v for v in variables if v not in merged]

    def label(v: str) -> str:
        return documented[v]["label"] if v in documented else column_title(v)

    def th(v: str) -> str:
        doc_ = documented.get(v)
        if doc_ is None:
            return f'<th scope="col" data-var="{esc(v)}" title="?{esc(v)}">{esc(label(v))}</th>'
        title = f"?{v}" + (f": {doc_['description']}" if doc_["description"] else "")
        return (f'<th scope="col" data-var="{esc(v)}" title="{esc(title)}" aria-describedby="col-{esc(v)}">'
                f'{esc(doc_["label"])}</th>')

    head = "".join(th(v) for v in shown)
    first = shown[0] if shown else None

    def key(row: dict[str, Any]) -> str | None:
        term = row.get(first) if first else None
        return term["value"] if term and term["type"] == "uri" else None

    # groups of consecutive rows sharing an IRI in the first column
    groups: list[list[dict[str, Any]]] = []
    for row in rows:
        if group and groups and key(row) is not None and key(groups[-1][0]) == key(row):
            groups[-1].append(row)
        else:
            groups.append([row])

    def cell_html(row: dict[str, Any], v: str) -> str:
        term = row.get(v)
        label = row.get(v + "Label", {}).get("value") if v + "Label" in merged else None
        cell = term_html(app, term, label)
        if term and term["type"] == "literal" and v in ("exact", "quote"):
            # the first column's node first, then any other node of the row that the quote is from
            owners = [key(row) or ""] + [row[w]["value"] for w in variables if row.get(w, {}).get("type") == "uri"]
            path = next((spans[(o, term["value"])] for o in owners if (o, term["value"]) in spans), None)
            if path is None and "source" in row:
                try:
                    path = span_path(row["source"]["value"], int(row["start"]["value"]), int(row["end"]["value"]))
                except (KeyError, ValueError):
                    path = None
            if path:
                cell = f'<a class="quote-link" href="{esc(url(app, path))}">“{cell}”</a>'
        return cell

    body = []
    for g in groups:
        spans_left: dict[str, int] = {}
        for i, row in enumerate(g):
            cells = []
            for v in shown:
                if spans_left.get(v, 0) > 0:
                    spans_left[v] -= 1
                    continue
                run = 1
                value = (row.get(v) or {}).get("value")
                while i + run < len(g) and (g[i + run].get(v) or {}).get("value") == value:
                    run += 1
                spans_left[v] = run - 1
                attr = f' rowspan="{run}"' if run > 1 else ""
                cells.append(f'<td{attr} data-var="{esc(v)}">{cell_html(row, v)}</td>')
            cls = ' class="group-start"' if i == 0 and len(groups) < len(rows) else ""
            body.append(f"<tr{cls}>" + "".join(cells) + "</tr>")
    count = len(rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    grouped_note = (f", in {len(groups)} group{'s' if len(groups) != 1 else ''} by {esc(label(first or ''))}"
                    if len(groups) < count else "")
    note = (f'<p class="count">{count} row{"s" if count != 1 else ""}{grouped_note}'
            f'{", truncated" if doc.get("truncated") else ""}</p>')
    if not rows:
        return note.replace('class="count"', 'class="count empty"')
    return (f'<div class="table-wrap" role="region" aria-label="Results table" tabindex="0"><table class="results">'
            f'{cap}<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{note}'
            + columns_list([documented[v] for v in variables if v in documented],
                           {v: label(v[:-5]) for v in merged}))


def columns_list(columns: list[dict[str, str]], merged: dict[str, str] | None = None) -> str:
    """The documented columns as a list people can open: label, variable name (what the downloads
    call the column) and description. Each description has the id a header's `aria-describedby` uses;
    `merged` maps a `<name>Label` variable shown as link text to the label of the column it is in."""
    if not columns:
        return ""
    merged = merged or {}
    items = "".join(
        f'<dt>{esc(c["label"])} <code>?{esc(c["name"])}</code>'
        + (f' <span class="meta">(the link text in {esc(merged[c["name"]])})</span>' if c["name"] in merged else "")
        + f'</dt><dd id="col-{esc(c["name"])}">{esc(c["description"] or "No description.")}</dd>'
        for c in columns)
    return ('<details class="columns"><summary>About these columns</summary><p class="meta">The JSON, CSV and '
            'other downloads name each column by its variable (<code>?name</code>).</p>'
            f'<dl class="kv">{items}</dl></details>')


def graph_table(app: App, triples: list[list[dict[str, str]]]) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{term_html(app, t)}</td>" for t in triple) + "</tr>"
                   for triple in triples)
    return (f'<div class="table-wrap" role="region" aria-label="Triples table" tabindex="0"><table><thead><tr>'
            f'<th scope="col">subject</th><th scope="col">predicate</th><th scope="col">object</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div><p class="count">{len(triples)} triples</p>')


def pre(text: str, cls: str = "") -> str:
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<pre{attr}><code>{esc(text)}</code></pre>"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
