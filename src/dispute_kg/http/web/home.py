"""The home page (`/`): what the graph holds and the stored queries as forms; and one page per stored
query (`/query/NAME?param=value`) with its results, downloads, the CLI command and the SPARQL.

The home page's JSON form is a superset of the server's JSON index (`name`, `sparql`, `queries`,
`openapi`, `read_only`), so the index stays reachable at `/?_format=json`, and `/` still answers JSON
to a client whose Accept header asks for JSON and not HTML.
"""

from __future__ import annotations

import shlex
import urllib.parse
from typing import Any

from ...errors import InputError
from ...query.results import WRITERS
from ...rdf.namespaces import DEF, ID, INFERRED_GRAPH, LOOKUP_GRAPH, shorten
from ..app import App, HTTPError, Request, offset_arg, query_to_dict
from ..policy import has_service
from .layout import Data, GraphQueries, ask, entity_path, esc, iri_link, page, pre, quote_spans, results_table, url

# Download links: every writer but the people's table, from the one registry of formats.
SELECT_FORMATS = tuple(n for n, w in WRITERS.items() if n != "table" and "select" in w.kinds)
GRAPH_FORMATS = tuple(n for n, w in WRITERS.items() if n != "table" and "graph" in w.kinds)
PROVENANCE_CLASSES = {DEF + "TextSelection", "http://www.w3.org/ns/oa#TextQuoteSelector",
                      "http://www.w3.org/ns/oa#TextPositionSelector", "https://w3id.org/sssom/Mapping"}

CLASSES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?class ?classLabel ?entity ?label WHERE {{
  GRAPH ?g {{ ?entity a ?class }}
  FILTER (?g != <{INFERRED_GRAPH}> && STRSTARTS(STR(?entity), "{ID}"))
  OPTIONAL {{ ?class rdfs:label ?classLabel }}
  OPTIONAL {{ ?entity rdfs:label ?label }}
}} ORDER BY ?class ?label ?entity"""

COUNTS = f"""PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX dk: <{DEF}>
SELECT (COUNT(DISTINCT ?node) AS ?assertions)
       (COUNT(DISTINCT ?claim) AS ?claims) (COUNT(DISTINCT ?position) AS ?positions)
       (COUNT(DISTINCT ?provision) AS ?provisions) (COUNT(DISTINCT ?statement) AS ?statements)
       (COUNT(DISTINCT ?selection) AS ?selections) WHERE {{
  ?node prov:wasDerivedFrom ?from .
  OPTIONAL {{ ?from a dk:TextSelection . BIND (?from AS ?selection) }}
  OPTIONAL {{ ?node a dk:Claim . BIND (?node AS ?claim) }}
  OPTIONAL {{ ?node a dk:Position . FILTER NOT EXISTS {{ ?node a dk:Claim }} BIND (?node AS ?position) }}
  OPTIONAL {{ ?node a dk:Provision . BIND (?node AS ?provision) }}
  OPTIONAL {{ ?node a dk:Statement . BIND (?node AS ?statement) }}
}}"""

TRIPLES = f"""SELECT (SUM(IF(?g IN (<{INFERRED_GRAPH}>, <{LOOKUP_GRAPH}>), 0, 1)) AS ?asserted)
       (SUM(IF(?g IN (<{INFERRED_GRAPH}>, <{LOOKUP_GRAPH}>), 1, 0)) AS ?inferred)
WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"""

LAST_ADDITION = f"""PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dk: <{DEF}>
SELECT ?addition ?label ?when ?agent ?note ?retracts WHERE {{
  ?addition a dk:Addition .
  OPTIONAL {{ ?addition rdfs:label ?label }}
  OPTIONAL {{ ?addition prov:startedAtTime ?when }}
  OPTIONAL {{ ?addition dk:addedBy ?a . ?a rdfs:label ?agent }}
  OPTIONAL {{ ?addition dk:note ?note }}
  OPTIONAL {{ ?addition dk:retracts ?retracts }}
}} ORDER BY DESC(STR(?when)) ?addition LIMIT 1"""

LABELS = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?entity ?label ?class WHERE {{
  {{ ?entity rdfs:label ?label }} UNION {{ ?entity skos:altLabel ?label }}
  OPTIONAL {{ ?entity a ?class }}
  FILTER (STRSTARTS(STR(?entity), "{ID}"))
}} ORDER BY ?label"""


def _value(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def label_index(app: App) -> dict[str, list[str]]:
    """Entity labels and aliases for the forms' suggestions: "" -> all, class IRI -> its members'."""
    cache = getattr(app, "_web_labels", None)
    if cache is not None:
        return cache
    out: dict[str, set[str]] = {"": set()}
    for row in ask(app, LABELS).rows:
        label = row["label"]["value"]
        if label.startswith(("addition ", "retraction ")):
            continue
        out[""].add(label)
        cls = _value(row, "class")
        if cls:
            out.setdefault(cls, set()).add(label)
    index = {k: sorted(v, key=str.casefold) for k, v in out.items()}
    if not app.settings.allow_update:  # a read-only graph cannot change while it is served
        app._web_labels = index  # type: ignore[attr-defined]
    return index


def datalist_id(cls: str | None) -> str:
    return "labels-" + ("all" if not cls else "".join(c if c.isalnum() else "-" for c in shorten(cls)))


def home_data(app: App, req: Request) -> Data:
    sources = []
    for row in app.kg.run_result("sources").rows:
        iri = row["source"]["value"]
        slug = iri.rsplit("/", 1)[-1]
        is_text = _value(row, "sha256") is not None
        sources.append({"iri": iri, "label": _value(row, "label"), "publisher": _value(row, "publisher"),
                        "issued": _value(row, "issued"), "sha256": _value(row, "sha256"),
                        "assertions": int(_value(row, "assertions") or 0),
                        "view": f"/source/{slug}" if is_text else None, "page": entity_path(iri)})
    classes: dict[str, dict[str, Any]] = {}
    for row in ask(app, CLASSES).rows:
        cls = row["class"]["value"]
        if cls in PROVENANCE_CLASSES or cls == DEF + "Addition":
            continue
        entry = classes.setdefault(cls, {"class": cls, "label": _value(row, "classLabel") or shorten(cls),
                                         "entities": []})
        iri = row["entity"]["value"]
        if not any(e["iri"] == iri for e in entry["entities"]):
            entry["entities"].append({"iri": iri, "label": _value(row, "label") or shorten(iri),
                                      "page": entity_path(iri)})
    by_class = sorted(classes.values(), key=lambda c: (-len(c["entities"]), c["label"].casefold()))
    for c in by_class:
        c["count"] = len(c["entities"])
    counts_row = ask(app, COUNTS).rows[0]
    counts = {k: int(counts_row[k]["value"]) if k in counts_row else 0
              for k in ("assertions", "claims", "positions", "provisions", "statements", "selections")}
    triples = ask(app, TRIPLES).rows[0]
    counts["triples_asserted"] = int(_value(triples, "asserted") or 0)
    counts["triples_inferred"] = int(_value(triples, "inferred") or 0)
    last = ask(app, LAST_ADDITION).rows
    addition = None
    if last:
        r = last[0]
        addition = {k: _value(r, k) for k in ("addition", "label", "when", "agent", "note", "retracts")}
    queries = []
    for q in app.kg.queries():
        entry = query_to_dict(q)
        entry["page"] = f"/query/{q.name}"
        entry["cli"] = q.example_command()
        for p, param in zip(entry["parameters"], q.parameters, strict=True):
            p["class"] = param.cls
            p["suggestions"] = f"#{datalist_id(param.cls)}" if param.type == "iri" else None
        queries.append(entry)
    return {"name": "dispute-kg", "sparql": "/sparql", "queries": "/api/queries", "openapi": "/openapi.json",
            "read_only": not app.settings.allow_update,
            "sources": sources, "counts": counts, "classes": by_class, "last_addition": addition,
            "stored_queries": queries}


def prefers_json(req: Request) -> bool:
    """`/` keeps answering JSON to API clients: an Accept header that names JSON and not HTML."""
    accept = req.accept.lower()
    return "json" in accept and "text/html" not in accept


# -- forms ----------------------------------------------------------------------------------------
INPUT_TYPES = {"xsd:date": "date", "integer": "number"}


def query_form(app: App, q: dict[str, Any], values: dict[str, str] | None = None, *, compact: bool = False) -> str:
    values = values or {}
    fields = []
    for p in q["parameters"]:
        fid = f"q-{q['name']}-{p['name']}"
        value = values.get(p["name"], p["example"] if p["required"] and not values else "")
        attrs = [f'id="{esc(fid)}"', f'name="{esc(p["name"])}"', f'value="{esc(value)}"',
                 f'type="{INPUT_TYPES.get(p["type"], "text")}"']
        if p["type"] == "iri":
            attrs.append(f'list="{esc(datalist_id(p.get("class")))}"')
            attrs.append('autocomplete="off"')
        if p["example"] and p["type"] != "xsd:date":
            attrs.append(f'placeholder="e.g. {esc(p["example"])}"')
        if p["required"]:
            attrs.append("required")
        hint_id = fid + "-hint"
        hint = p["description"] or ""
        if p["type"] == "iri" and not hint:
            hint = "A label, an alias, id:… or a full IRI."
        attrs.append(f'aria-describedby="{esc(hint_id)}"')
        need = "" if p["required"] else ' <span class="optional">(optional)</span>'
        fields.append(f'<div class="field"><label for="{esc(fid)}">{esc(p["name"])}{need}</label>'
                      f'<input {" ".join(attrs)}><small id="{esc(hint_id)}">{esc(hint.strip())}</small></div>')
    button = f'<button type="submit">Run <span class="visually-hidden">{esc(q["name"])}</span></button>'
    return (f'<form class="query-form{" compact" if compact else ""}" method="get" '
            f'action="{esc(url(app, "/query/" + q["name"]))}" data-query="{esc(q["name"])}">'
            f'{"".join(fields)}<div class="actions">{button}</div></form>')


def datalists(index: dict[str, list[str]], classes: set[str | None]) -> str:
    out = []
    for cls in sorted(classes, key=lambda c: c or ""):
        labels = index.get(cls or "", [])
        options = "".join(f'<option value="{esc(label)}"></option>' for label in labels)
        out.append(f'<datalist id="{esc(datalist_id(cls))}">{options}</datalist>')
    return "".join(out)


def home_render(app: App, data: Data) -> str:
    c = data["counts"]
    sources = "".join(
        f'<li><strong>{iri_link(app, s["iri"], s["label"])}</strong>'
        + (f' — <a href="{esc(url(app, s["view"]))}">read the text with its cited spans</a>' if s["view"] else "")
        + '<br><span class="meta">' + " · ".join(
            [esc(x) for x in (s["publisher"], s["issued"]) if x]
            + [f'{s["assertions"]} assertion{"s" if s["assertions"] != 1 else ""} derived from it']) + "</span></li>"
        for s in data["sources"])
    stats = [("assertions with provenance", c["assertions"]), ("claims", c["claims"]),
             ("other positions", c["positions"]), ("agreement provisions", c["provisions"]),
             ("statements", c["statements"]), ("cited text spans", c["selections"]),
             ("asserted triples", c["triples_asserted"]), ("inferred triples", c["triples_inferred"])]
    stat_html = "".join(f'<div class="stat"><dt>{esc(k)}</dt><dd>{v}</dd></div>' for k, v in stats)
    classes = "".join(
        f'<details><summary>{esc(cl["label"])} <span class="badge">{cl["count"]}</span></summary>'
        + (f'<p><a href="{esc(url(app, "/browse/" + cl["class"][len(DEF):]))}">Browse the {cl["count"]} as a table'
           f'</a></p>' if cl["class"].startswith(DEF) else "")
        + '<ul class="inline">'
        + "".join(f"<li>{iri_link(app, e['iri'], e['label'])}</li>" for e in cl["entities"]) + "</ul></details>"
        for cl in data["classes"])
    addition = data["last_addition"]
    if addition:
        last = (f'<p>Last addition: <strong>{esc(addition["label"] or shorten(addition["addition"] or ""))}</strong>'
                f'{" on " + esc(addition["when"]) if addition["when"] else ""}'
                f'{" by " + esc(addition["agent"]) if addition["agent"] else ""}'
                f'{": " + esc(addition["note"]) if addition["note"] else ""}.</p>')
    else:
        last = ('<p class="meta">No additions yet: everything here was built from the repository files '
                '(<code>dispute-kg add</code> records each later addition).</p>')
    index = label_index(app)
    needed: set[str | None] = set()
    cards = []
    for q in data["stored_queries"]:
        for p in q["parameters"]:
            if p["type"] == "iri":
                needed.add(p.get("class"))
        tags = "".join(f'<span class="tag">{esc(t)}</span>' for t in q["tags"])
        cards.append(f'<article class="card" id="query-{esc(q["name"])}"><h3><a href="{esc(url(app, q["page"]))}">'
                     f'{esc(q["name"])}</a></h3><p>{esc(q["summary"])}</p><p class="tags">{tags}</p>'
                     f'{query_form(app, q, compact=True)}</article>')
    body = f"""
<section class="intro">
  <h1>The Japan–Russia dispute over the Northern Territories, as a checked knowledge graph</h1>
  <p class="lede">Claims, positions, agreements and statements drawn from a news article, each tied to the
  exact span of text it comes from. Run the stored questions below, open any entity, or read the source with
  every cited span highlighted.</p>
</section>
<section aria-labelledby="holds"><h2 id="holds">What the graph holds</h2>
  <dl class="stats">{stat_html}</dl>
  <h3>Sources</h3><ul class="sources">{sources}</ul>
  {last}
  <h3>Entities by class</h3><div class="classes">{classes}</div>
</section>
<section aria-labelledby="ask"><h2 id="ask">Stored queries</h2>
  <p>Each form runs one stored query (<code>queries/NAME.rq</code>) with its parameters bound as RDF terms.
  A parameter that names an entity takes a label or alias, with suggestions as you type.</p>
  <div class="cards">{"".join(cards)}</div>
  {datalists(index, needed)}
</section>"""
    return page(app, "Home", body, current="/", json_href=url(app, "/?_format=json"))


# -- one stored query ---------------------------------------------------------------------------------
def cli_command(name: str, params: dict[str, str]) -> str:
    parts = ["dispute-kg", "query", "run", name]
    for k, v in params.items():
        parts += ["-p", shlex.quote(f"{k}={v}")]
    return " ".join(parts)


def resolutions(app: App, q: Any, params: dict[str, str]) -> list[dict[str, str]]:
    """How each label given for an IRI parameter was read: `USSR` -> the Soviet Union. The same
    `binding.to_term` the query runs with, so the page says exactly what was bound."""
    from ...query.binding import expand_curie, to_term

    out = []
    for name, value in params.items():
        param = q.parameter(name)
        if param is None or param.type != "iri" or value.startswith(("http://", "https://", "urn:")) \
                or expand_curie(value) is not None:
            continue
        try:
            term = to_term(param, value, GraphQueries(app))
        except InputError:
            continue  # the run itself reports it
        label = next((r["label"]["value"] for r in ask(app, LABEL_OF, e=term).rows), shorten(term["value"]))
        out.append({"parameter": name, "given": value, "iri": term["value"], "label": label})
    return out


LABEL_OF = """PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT ?label WHERE { ?e rdfs:label ?label } LIMIT 1"""


PAGE_ROWS = 100  # rows a query page shows; the next ones are a link away, never fetched with it


def pager(app: App, data: Data) -> str:
    """Links to the previous and next page of a query's answer, keeping its parameters."""
    page = data.get("page")
    if not page or (page["offset"] == 0 and not page["more"]):
        return ""
    name, params = data["query"]["name"], data["params"]

    def link(offset: int, text: str, rel: str) -> str:
        query = urllib.parse.urlencode({**params, **({"_offset": offset} if offset else {})})
        href = url(app, f"/query/{name}" + (f"?{query}" if query else "") + "#results")
        return f'<a class="button secondary" rel="{rel}" href="{esc(href)}">{esc(text)}</a>'

    first, size = page["offset"], page["size"]
    parts = [f'<span>Rows {first + 1:,}–{first + page["rows"]:,}</span>' if page["rows"] else
             f"<span>No rows from row {first + 1:,}</span>"]
    if first > 0:
        parts.insert(0, link(max(0, first - size), f"‹ Previous {size}", "prev"))
    if page["more"]:
        parts.append(link(first + size, f"Next {size} ›", "next"))
    return f'<nav class="pager" aria-label="Pages of the answer">{" ".join(parts)}</nav>'


def query_data(app: App, req: Request) -> Data:
    name = req.params["name"]
    if name not in app.kg.catalog.names():
        try:
            app.kg.catalog.get(name)  # its error names close matches
        except InputError as exc:
            raise HTTPError(404, str(exc)) from None
    q = app.kg.catalog.get(name)
    params: dict[str, str] = {}
    for key, values in req.args.items():
        if key.startswith("_"):
            continue
        if q.parameter(key) is None:
            raise HTTPError(400, f"query {name!r} has no parameter {key!r} "
                                 f"(its parameters: {', '.join(p.name for p in q.parameters) or 'none'})")
        if values and values[0].strip():
            params[key] = values[0].strip()
    entry = query_to_dict(q)
    for p, param in zip(entry["parameters"], q.parameters, strict=True):
        p["class"] = param.cls
    kind = "graph" if any(w in q.text.upper() for w in ("CONSTRUCT", "DESCRIBE")) else "select"
    encoded = urllib.parse.urlencode(params)
    downloads = {fmt: f"/api/queries/{name}?{encoded + '&' if encoded else ''}_format={fmt}"
                 for fmt in (GRAPH_FORMATS if kind == "graph" else SELECT_FORMATS)}
    data: Data = {"query": {**entry, "sparql": q.text}, "params": params, "cli": cli_command(name, params),
                  "downloads": downloads, "result": None, "error": None, "status": 200,
                  "resolved": resolutions(app, q, params), "quote_spans": []}
    if has_service(q.text) and not app.settings.allow_service:
        data.update(error=f"stored query {name!r} has a SERVICE clause; start serve with --allow-service",
                    status=403)
        return data
    offset = offset_arg(req) or 0
    size = min(PAGE_ROWS, app.settings.max_rows)
    try:
        result = app.kg.run_result(name, params, limit=size, offset=offset, timeout=app.settings.timeout)
    except InputError as exc:
        data.update(error=str(exc), status=400)
        return data
    data["page"] = {"offset": offset, "size": size, "rows": len(result.rows if result.kind != "graph"
                                                                 else result.triples),
                    "more": result.truncated}
    if result.kind == "graph":
        data["result"] = {"triples": [list(t) for t in result.triples], "truncated": result.truncated}
    else:
        doc = result.to_sparql_json()
        doc["truncated"] = result.truncated
        data["result"] = doc
        data["quote_spans"] = [{"assertion": k[0], "quote": k[1], "view": v}
                               for k, v in quote_spans(app, doc).items()]
    return data


def query_render(app: App, data: Data) -> str:
    q = data["query"]
    needed = {p.get("class") for p in q["parameters"] if p["type"] == "iri"}
    form = query_form(app, q, data["params"]) + datalists(label_index(app), needed)
    resolved = "".join(f'<li><strong>{esc(r["given"])}</strong> read as {iri_link(app, r["iri"], r["label"])} '
                       f'(<code>{esc(shorten(r["iri"]))}</code>)</li>' for r in data["resolved"])
    resolved_html = (f'<ul class="resolved" aria-label="How the labels were read">{resolved}</ul>'
                     if resolved else "")
    if data["error"]:
        results = f'<p class="error" role="alert">{esc(data["error"])}</p>'
    elif data["result"] is None:
        results = ""
    elif "triples" in data["result"]:
        from .layout import graph_table

        results = graph_table(app, data["result"]["triples"])
    else:
        spans = {(x["assertion"], x["quote"]): x["view"] for x in data["quote_spans"]}
        results = resolved_html + results_table(app, data["result"], caption=f"{q['name']}: {q['summary']}",
                                                spans=spans, columns=q["columns"])
    downloads = " ".join(f'<a class="button secondary" href="{esc(url(app, href))}" download>{esc(fmt.upper())}</a>'
                         for fmt, href in data["downloads"].items())
    desc = f"<p>{esc(q['description'])}</p>" if q["description"] else ""
    body = f"""
<nav class="crumbs" aria-label="Breadcrumb"><a href="{esc(url(app, '/'))}#ask">Stored queries</a> ›
{esc(q['name'])}</nav>
<h1>{esc(q['name'])}</h1>
<p class="lede">{esc(q['summary'])}</p>
{desc}
{form}
<section aria-labelledby="results-h" id="results"><h2 id="results-h">Results</h2>{results}
{pager(app, data)}
{f'<p class="downloads">Download: {downloads}</p>' if not data["error"] else ""}</section>
<section aria-labelledby="same-h"><h2 id="same-h">The same from the command line</h2>
{pre(data['cli'], 'cli')}
<details><summary>The SPARQL (<code>queries/{esc(q['name'])}.rq</code>)</summary>{pre(q['sparql'], 'sparql')}</details>
</section>"""
    return page(app, q["name"], body, json_href=_json_url(app, data))


def _json_url(app: App, data: Data) -> str:
    offset = (data.get("page") or {}).get("offset") or 0
    encoded = urllib.parse.urlencode({**data["params"], **({"_offset": offset} if offset else {}), "_format": "json"})
    return url(app, f"/query/{data['query']['name']}?{encoded}")


__all__ = ["home_data", "home_render", "prefers_json", "query_data", "query_render"]
