"""The SPARQL page (`/sparql-editor`): YASGUI's query editor (Yasqe: highlighting, completion, prefix
help) over a plain form whose query is sent to the `/sparql` endpoint, with the results as a table or a
chart rendered on the server, and the stored queries as examples.

The form is sent by GET, so every run has a URL that reproduces it (`?query=...&view=chart`); POST
still works for queries too long for a URL. The project's prefixes (`rdf.namespaces.QUERY_PREFIXES`,
the same as `dispute-kg sparql`) are declared in front of the query before it is sent, so `dk:` and
`id:` need no PREFIX lines. The page does not run queries itself: it forwards them to the `/sparql`
route in-process, so the endpoint's rules (read-only unless updates are allowed with a token, SERVICE
refused, row cap, time limit) apply unchanged. Without JavaScript the editor is the plain textarea.

YASGUI (`@zazuko/yasgui` 4.6.2, MIT) is vendored as `static/yasgui.min.js` and `static/yasgui.min.css`
from the npm registry; see `static/VENDORED.md`.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from typing import Any

from ...rdf.namespaces import QUERY_PREFIXES, with_prefixes
from ..app import App, HTTPError, Request
from .layout import Data, column_title, esc, graph_table, page, quote_spans, results_table, url

DEFAULT_QUERY = """# Who claims which territory? (dk:, id:, rdfs: and the other project prefixes are predeclared)
SELECT ?claimant ?claimantLabel ?territory ?territoryLabel WHERE {
  ?claim a dk:Claim ; dk:claimant ?claimant ; dk:claimedTerritory ?territory .
  ?claimant rdfs:label ?claimantLabel .
  ?territory rdfs:label ?territoryLabel .
}
ORDER BY ?claimantLabel ?territoryLabel
"""
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"
VIEWS = ("table", "chart")
MAX_BARS = 40


def _form(req: Request) -> dict[str, list[str]]:
    if req.method == "POST":
        ctype = req.content_type
        if ctype not in ("application/x-www-form-urlencoded", ""):
            raise HTTPError(415, "the SPARQL page takes a form (application/x-www-form-urlencoded); "
                                 "send other bodies to /sparql")
        return urllib.parse.parse_qs(req.body().decode("utf-8", "replace"), keep_blank_values=True)
    return req.args


def forward(app: App, text: str) -> tuple[int, str, bytes]:
    """POST the query to the app's own /sparql route; (status, content type, body)."""
    body = urllib.parse.urlencode({"query": text}).encode("utf-8")
    environ: dict[str, Any] = {"REQUEST_METHOD": "POST", "PATH_INFO": "/sparql", "QUERY_STRING": "",
                               "CONTENT_TYPE": "application/x-www-form-urlencoded",
                               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body),
                               "HTTP_ACCEPT": ACCEPT, "SERVER_NAME": "localhost", "SERVER_PORT": "80",
                               "wsgi.url_scheme": "http"}
    response = app.dispatch(environ)
    return response.status, response.content_type, response.body


def parse_ntriples(text: str) -> list[list[dict[str, str]]]:
    import rdflib

    from ...rdf.convert import term_from_rdflib

    graph = rdflib.Graph()
    graph.parse(data=text, format="nt")
    rows = ([term_from_rdflib(s), term_from_rdflib(p), term_from_rdflib(o)] for s, p, o in graph)
    return sorted(rows, key=lambda r: [x["value"] for x in r])


def chart_data(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Bars for a SELECT result: a numeric column against the first other column (its label when it has
    one), or, when no column is numeric, the number of rows per value of the first column."""
    variables: list[str] = doc.get("head", {}).get("vars", [])
    rows = doc.get("results", {}).get("bindings", [])
    if not variables or not rows:
        return None
    numeric = [v for v in variables if all(_number(r.get(v)) is not None for r in rows if v in r)
               and any(v in r for r in rows)]
    labelled = [v for v in variables if v not in numeric and not v.endswith("Label")]
    category = labelled[0] if labelled else variables[0]

    def name(r: dict[str, Any]) -> str:
        term = r.get(category + "Label") or r.get(category)
        return term["value"] if term else "(none)"

    if numeric and labelled:
        measure = numeric[0]
        bars = [{"label": name(r), "value": _number(r.get(measure)) or 0.0} for r in rows]
        title = f"{column_title(measure)} by {column_title(category)}"
    else:
        counts: dict[str, float] = {}
        for r in rows:
            counts[name(r)] = counts.get(name(r), 0) + 1
        bars = [{"label": k, "value": v} for k, v in counts.items()]
        measure = None
        title = f"rows per {column_title(category)}"
    bars.sort(key=lambda b: (-b["value"], b["label"]))
    return {"title": title, "category": category, "measure": measure, "bars": bars[:MAX_BARS],
            "truncated": len(bars) > MAX_BARS}


def _number(term: dict[str, str] | None) -> float | None:
    if not term or term.get("type") not in ("literal", "typed-literal") or not term.get("datatype", "").startswith(
            "http://www.w3.org/2001/XMLSchema#"):
        return None
    if term["datatype"].rsplit("#", 1)[-1] not in ("integer", "decimal", "double", "float", "int", "long",
                                                    "nonNegativeInteger", "positiveInteger"):
        return None
    try:
        return float(term["value"])
    except ValueError:
        return None


def editor_data(app: App, req: Request) -> Data:
    form = _form(req)
    example = (form.get("example") or [""])[0]
    view = (form.get("view") or ["table"])[0]
    if view not in VIEWS:
        raise HTTPError(400, f"unknown view {view!r} (choose {' or '.join(VIEWS)})")
    examples = [{"name": q.name, "summary": q.summary, "sparql": q.text,
                 "parameters": [p.variable for p in q.parameters]} for q in app.kg.queries()]
    given = (form.get("query") or [None])[0]
    chosen = next((e for e in examples if e["name"] == example), None)
    text = given if given is not None else (chosen["sparql"] if chosen else DEFAULT_QUERY)
    data: Data = {"query": text, "example": chosen["name"] if chosen else None, "examples": examples,
                  "view": view, "prefixes": dict(sorted(QUERY_PREFIXES.items())), "kind": None, "result": None,
                  "chart": None, "quote_spans": [], "error": None, "status": 200, "endpoint": "/sparql",
                  "share": None}
    if given is None or not given.strip():
        return data
    data["share"] = "/sparql-editor?" + urllib.parse.urlencode({"query": given, "view": view})
    status, ctype, body = forward(app, with_prefixes(given))
    if status >= 400:
        try:
            message = json.loads(body)["error"]
        except (ValueError, KeyError, TypeError):
            message = body.decode("utf-8", "replace")[:500]
        data.update(error=message, status=status)
    elif status == 204:
        data.update(kind="update", result=None)
    elif ctype.startswith("application/sparql-results+json"):
        doc = json.loads(body)
        kind = "ask" if "boolean" in doc else "select"
        data.update(kind=kind, result=doc)
        if kind == "select":
            data["chart"] = chart_data(doc)
            data["quote_spans"] = [{"assertion": k[0], "quote": k[1], "view": v}
                                   for k, v in quote_spans(app, doc).items()]
    else:
        data.update(kind="graph", result={"triples": parse_ntriples(body.decode("utf-8"))})
    return data


def chart_svg(chart: dict[str, Any]) -> str:
    bars = chart["bars"]
    top = max((b["value"] for b in bars), default=1) or 1
    row, label_w, width = 30, 260, 760
    height = row * len(bars) + 10
    parts = [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-labelledby="chart-title">'
             f'<title id="chart-title">{esc(chart["title"])}</title>']
    for i, b in enumerate(bars):
        y = i * row + 5
        w = max(2.0, (width - label_w - 60) * b["value"] / top)
        text = b["label"] if len(b["label"]) <= 38 else b["label"][:37] + "…"
        parts.append(f'<text class="bar-label" x="{label_w - 8}" y="{y + 19}" text-anchor="end">{esc(text)}</text>'
                     f'<rect class="bar" x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}"/>'
                     f'<text class="bar-value" x="{label_w + w + 6:.1f}" y="{y + 19}">{b["value"]:g}</text>')
    parts.append("</svg>")
    return "".join(parts)


def editor_render(app: App, d: Data) -> str:
    examples = "".join(
        f'<li><a href="{esc(url(app, "/sparql-editor?" + urllib.parse.urlencode({"example": e["name"]})))}" '
        f'data-example="{esc(e["name"])}">{esc(e["name"])}</a> <span class="meta">{esc(e["summary"])}</span></li>'
        for e in d["examples"])
    tabs = ""
    if d["error"]:
        results = f'<p class="error" role="alert">{esc(d["error"])}</p>'
    elif d["kind"] == "graph":
        results = graph_table(app, d["result"]["triples"])
    elif d["kind"] == "select":
        links = []
        for v in VIEWS:
            href = url(app, "/sparql-editor?" + urllib.parse.urlencode({"query": d["query"], "view": v}))
            current = ' aria-current="page"' if v == d["view"] else ""
            links.append(f'<a class="tab" href="{esc(href)}#results"{current}>{v.capitalize()}</a>')
        tabs = f'<nav class="tabs" aria-label="Result views">{"".join(links)}</nav>'
        if d["view"] == "chart" and d["chart"]:
            c = d["chart"]
            more = f' (the first {MAX_BARS})' if c["truncated"] else ""
            results = (f'<figure class="chart-figure"><figcaption>{esc(c["title"])}{more}</figcaption>'
                       f'<div class="svg-wrap">{chart_svg(c)}</div></figure>')
        elif d["view"] == "chart":
            results = '<p class="meta">Nothing to chart: the query returned no rows.</p>'
        else:
            spans = {(x["assertion"], x["quote"]): x["view"] for x in d["quote_spans"]}
            results = results_table(app, d["result"], spans=spans)
    elif d["kind"] == "ask":
        results = results_table(app, d["result"])
    elif d["kind"] == "update":
        results = '<p>Update applied.</p>'
    else:
        results = '<p class="meta">Run a query to see its results here.</p>'
    example_data = {e["name"]: e["sparql"] for e in d["examples"]}
    example_script = json.dumps(example_data, ensure_ascii=False).replace("</", "<\\/")
    prefix_script = json.dumps(d["prefixes"]).replace("</", "<\\/")
    prefixes = "".join(f"<li><code>{esc(p)}:</code> <code>{esc(i)}</code></li>" for p, i in d["prefixes"].items())
    endpoint = esc(url(app, "/sparql"))
    lines = max(8, min(28, d["query"].count("\n") + 2))
    raw = url(app, "/sparql?" + urllib.parse.urlencode({"query": with_prefixes(d["query"])}))
    share = (f'<p class="share">Share this query and its results: <a id="share-link" '
             f'href="{esc(url(app, d["share"]))}">link</a> · the same from the endpoint: '
             f'<a href="{esc(raw)}&amp;format=json">JSON</a>, <a href="{esc(raw)}&amp;format=csv">CSV</a></p>'
             if d["share"] else "")
    body = f"""
<h1>SPARQL</h1>
<p class="lede">Write a SPARQL 1.1 query; it is sent to the <a href="{endpoint}">/sparql</a> endpoint (read-only),
and the answer is shown as a table or a chart. Every run has its own link.</p>
<div class="editor-layout">
<form class="sparql-form" id="sparql-form" method="get" action="{esc(url(app, '/sparql-editor'))}#results">
  <label for="query">Query</label>
  <textarea id="query" name="query" rows="{lines}" spellcheck="false" autocapitalize="off"
   aria-describedby="query-hint">{esc(d['query'])}</textarea>
  <input type="hidden" name="view" value="{esc(d['view'])}">
  <small id="query-hint">Ctrl+Enter runs the query. The prefixes listed beside it are predeclared. Stored
  queries' parameter variables (<code>?_name_iri</code>) are unbound here: use their own pages to bind them.</small>
  <div class="actions">
    <button type="submit">Run query</button>
  </div>
</form>
<aside class="examples" aria-labelledby="examples-h"><h2 id="examples-h">Examples: the stored queries</h2>
<ul>{examples}</ul>
<details><summary>Predeclared prefixes</summary><ul class="prefixes">{prefixes}</ul></details></aside>
</div>
<script type="application/json" id="example-data">{example_script}</script>
<script type="application/json" id="prefix-data">{prefix_script}</script>
<section id="results" aria-labelledby="results-h"><h2 id="results-h">Results</h2>{share}{tabs}{results}</section>"""
    head = f'<link rel="stylesheet" href="{esc(url(app, "/static/yasgui.min.css"))}">' \
           f'<script src="{esc(url(app, "/static/yasgui.min.js"))}" defer></script>'
    return page(app, "SPARQL", body, current="/sparql-editor", head=head,
                json_href=url(app, "/sparql-editor?" + urllib.parse.urlencode({"query": d["query"],
                                                                               "_format": "json"})))
