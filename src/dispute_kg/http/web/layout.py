"""The page shell and the HTML fragments every page uses: escaping, links to entities and source
spans, SPARQL result tables, and the choice between a page's HTML and its JSON form.

Every page is built in two steps: a `data(app, req)` function returns plain dicts and lists (what
`?_format=json` returns), and a `render(app, data)` function turns exactly that into HTML. So the JSON
form and the page always carry the same data. Every value that reaches HTML goes through `esc`.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

from ...errors import DisputeKGError
from ...rdf.namespaces import ID, shorten
from ..server import App, HTTPError, Request, Response, error_status, json_response

SOURCE_PREFIX = ID + "source/"
WIKIDATA = "http://www.wikidata.org/entity/"
CSP = ("default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; "
       "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
NAV = (("/", "Home"), ("/timeline", "Timeline"), ("/map", "Map"), ("/sources", "Sources"),
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


def span_path(source: str, start: int, end: int) -> str | None:
    """The source view at one span: `/source/urdupoint-2021-10-18#span-467-484`."""
    if not source.startswith(SOURCE_PREFIX):
        return None
    return f"/source/{source[len(SOURCE_PREFIX):]}#span-{start}-{end}"


def iri_link(app: App, iri: str, label: str | None = None) -> str:
    """An IRI as a link: our entities to their page, Wikidata items to Wikidata, others as text."""
    text = label or shorten(iri)
    path = entity_path(iri)
    if path:
        return f'<a href="{esc(url(app, path))}">{esc(text)}</a>'
    if iri.startswith(("http://", "https://")):
        return f'<a href="{esc(iri)}" rel="external noopener">{esc(text)}</a>'
    return esc(text)


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
            payload = data(app, req)
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
    title = {400: "Bad request", 404: "Not found", 405: "Method not allowed"}.get(status, "Error")
    body = (f'<h1>{esc(title)}</h1><p class="error" role="alert">{esc(message)}</p>'
            f'<p><a href="{esc(url(app, "/"))}">Back to the home page</a></p>')
    return page(app, f"{title} ({status})", body)


# -- the shell ------------------------------------------------------------------------------------
def page(app: App, title: str, body: str, *, current: str = "", head: str = "", json_href: str = "",
         wide: bool = False) -> str:
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


def results_table(app: App, doc: Data, *, caption: str = "") -> str:
    """SPARQL 1.1 JSON results (SELECT or ASK) as an HTML table. An IRI column with a companion
    `<name>Label` column is shown as one linked column; a quote with `source`, `start` and `end`
    in its row links to that span in the source view."""
    if "boolean" in doc:
        return f'<p class="ask-result">Answer: <strong>{"yes" if doc["boolean"] else "no"}</strong></p>'
    variables: list[str] = doc.get("head", {}).get("vars", [])
    rows: list[dict[str, dict[str, str]]] = doc.get("results", {}).get("bindings", [])
    merged = {v for v in variables if v.endswith("Label") and v[:-5] in variables}
    shown = [v for v in variables if v not in merged]
    head = "".join(f'<th scope="col">{esc(v)}</th>' for v in shown)
    body = []
    for row in rows:
        cells = []
        for v in shown:
            term = row.get(v)
            label = row.get(v + "Label", {}).get("value") if v + "Label" in merged else None
            cell = term_html(app, term, label)
            if term and term["type"] == "literal" and v in ("exact", "quote") and "source" in row:
                try:
                    start, end = int(row["start"]["value"]), int(row["end"]["value"])
                except (KeyError, ValueError):
                    start = end = -1
                path = span_path(row["source"]["value"], start, end) if start >= 0 else None
                if path:
                    cell = f'<a href="{esc(url(app, path))}">“{cell}”</a>'
            cells.append(f"<td>{cell}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    count = len(rows)
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    note = f'<p class="count">{count} row{"s" if count != 1 else ""}{", truncated" if doc.get("truncated") else ""}</p>'
    if not rows:
        return note.replace('class="count"', 'class="count empty"')
    return (f'<div class="table-wrap" role="region" aria-label="Results" tabindex="0"><table>{cap}'
            f'<thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table></div>{note}')


def graph_table(app: App, triples: list[list[dict[str, str]]]) -> str:
    rows = "".join("<tr>" + "".join(f"<td>{term_html(app, t)}</td>" for t in triple) + "</tr>"
                   for triple in triples)
    return (f'<div class="table-wrap" role="region" aria-label="Triples" tabindex="0"><table><thead><tr>'
            f'<th scope="col">subject</th><th scope="col">predicate</th><th scope="col">object</th></tr></thead>'
            f'<tbody>{rows}</tbody></table></div><p class="count">{len(triples)} triples</p>')


def pre(text: str, cls: str = "") -> str:
    attr = f' class="{esc(cls)}"' if cls else ""
    return f"<pre{attr}><code>{esc(text)}</code></pre>"


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
