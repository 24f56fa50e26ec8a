"""The SPARQL page (`/sparql-editor`): a textarea whose query is sent to the `/sparql` endpoint, with the
results rendered as an HTML table on the server, and the stored queries as examples.

The page does not run queries itself: it forwards the form to the `/sparql` route in-process, so the
endpoint's rules (read-only unless updates are allowed with a token, SERVICE refused, row cap, time
limit) apply unchanged. "Raw results" buttons post the same form straight to `/sparql`.
"""

from __future__ import annotations

import io
import json
import urllib.parse
from typing import Any

from ..server import App, Request
from .layout import Data, esc, graph_table, page, results_table, url

DEFAULT_QUERY = """PREFIX dk: <https://w3id.org/dispute-kg/def#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>

# Who claims which territory?
SELECT ?claimantLabel ?territoryLabel WHERE {
  ?claim a dk:Claim ; dk:claimant ?claimant ; dk:claimedTerritory ?territory .
  ?claimant rdfs:label ?claimantLabel .
  ?territory rdfs:label ?territoryLabel .
}
ORDER BY ?claimantLabel ?territoryLabel
"""
ACCEPT = "application/sparql-results+json, application/n-triples;q=0.9"


def _form(req: Request) -> dict[str, list[str]]:
    if req.method == "POST":
        ctype = req.content_type
        if ctype not in ("application/x-www-form-urlencoded", ""):
            from ..server import HTTPError

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


def editor_data(app: App, req: Request) -> Data:
    form = _form(req)
    example = (form.get("example") or [""])[0]
    examples = [{"name": q.name, "summary": q.summary, "sparql": q.text,
                 "parameters": [p.variable for p in q.parameters]} for q in app.kg.queries()]
    given = (form.get("query") or [None])[0]
    chosen = next((e for e in examples if e["name"] == example), None)
    text = given if given is not None else (chosen["sparql"] if chosen else DEFAULT_QUERY)
    data: Data = {"query": text, "example": chosen["name"] if chosen else None, "examples": examples,
                  "kind": None, "result": None, "error": None, "status": 200, "endpoint": "/sparql"}
    if given is None or not given.strip():
        return data
    status, ctype, body = forward(app, given)
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
        data.update(kind="ask" if "boolean" in doc else "select", result=doc)
    else:
        data.update(kind="graph", result={"triples": parse_ntriples(body.decode("utf-8"))})
    return data


def editor_render(app: App, d: Data) -> str:
    examples = "".join(
        f'<li><a href="{esc(url(app, "/sparql-editor?" + urllib.parse.urlencode({"example": e["name"]})))}" '
        f'data-example="{esc(e["name"])}">{esc(e["name"])}</a> <span class="meta">{esc(e["summary"])}</span></li>'
        for e in d["examples"])
    if d["error"]:
        results = f'<p class="error" role="alert">{esc(d["error"])}</p>'
    elif d["kind"] == "graph":
        results = graph_table(app, d["result"]["triples"])
    elif d["kind"] in ("select", "ask"):
        results = results_table(app, d["result"])
    elif d["kind"] == "update":
        results = '<p>Update applied.</p>'
    else:
        results = '<p class="meta">Run a query to see its results here.</p>'
    example_data = {e["name"]: e["sparql"] for e in d["examples"]}
    example_script = json.dumps(example_data, ensure_ascii=False).replace("</", "<\\/")
    endpoint = esc(url(app, "/sparql"))
    lines = max(8, min(28, d["query"].count("\n") + 2))
    body = f"""
<h1>SPARQL</h1>
<p class="lede">Write a SPARQL 1.1 query; it is sent to the <a href="{esc(url(app, '/sparql'))}">/sparql</a> endpoint
(read-only) and the answer is shown as a table.</p>
<div class="editor-layout">
<form class="sparql-form" method="post" action="{esc(url(app, '/sparql-editor'))}#results">
  <label for="query">Query</label>
  <textarea id="query" name="query" rows="{lines}" spellcheck="false" autocapitalize="off"
   aria-describedby="query-hint">{esc(d['query'])}</textarea>
  <small id="query-hint">Ctrl+Enter runs the query. Stored queries' parameter variables (<code>?_name_iri</code>)
  are unbound here: use the forms on the home page to bind them.</small>
  <div class="actions">
    <button type="submit">Run query</button>
    <button type="submit" class="secondary" formaction="{endpoint}" name="format" value="json">Raw JSON from
    /sparql</button>
    <button type="submit" class="secondary" formaction="{endpoint}" name="format" value="csv">CSV</button>
  </div>
</form>
<aside class="examples" aria-labelledby="examples-h"><h2 id="examples-h">Examples: the stored queries</h2>
<ul>{examples}</ul></aside>
</div>
<script type="application/json" id="example-data">{example_script}</script>
<section id="results" aria-labelledby="results-h"><h2 id="results-h">Results</h2>{results}</section>"""
    return page(app, "SPARQL", body, current="/sparql-editor",
                json_href=url(app, "/sparql-editor?" + urllib.parse.urlencode({"query": d["query"],
                                                                               "_format": "json"})))
