"""Browse by class (`/browse`, `/browse/<class local name>`): every member of one ontology class as a
table with sortable columns and facets with counts, and the same view as JSON or CSV.

Columns are the properties the members use (most used first); a facet is a column whose values are
entities (few enough to list) or dates (faceted by year). Filters are plain query arguments named by
the column (`?claimant=https://w3id.org/dispute-kg/id/state/japan&_sort=label`), so every view has a
URL; `_sort`, `_desc` and `_format` (html, json, csv) are ours, as in the JSON API.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.parse
from typing import Any

from ...rdf.namespaces import DEF, ID, shorten
from ...rdf.terms import iri as iri_term
from ..app import App, HTTPError, Request, Response
from .layout import Data, ask, esc, iri_link, page, page_view, term_path, url

MEMBERS = f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT DISTINCT ?e ?label ?p ?pLabel ?o ?oLabel WHERE {{
  ?e a ?class .
  FILTER (STRSTARTS(STR(?e), "{ID}"))
  OPTIONAL {{ ?e rdfs:label ?label }}
  OPTIONAL {{
    ?e ?p ?o .
    FILTER (?p NOT IN (rdf:type, prov:wasDerivedFrom, rdfs:label, skos:exactMatch))
    OPTIONAL {{ ?o rdfs:label ?oLabel . FILTER (isIRI(?o)) }}
    OPTIONAL {{ ?p rdfs:label ?pLabel }}
  }}
}}"""
CLASSES = f"""PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
SELECT ?class ?label ?definition (COUNT(DISTINCT ?e) AS ?n) WHERE {{
  ?e a ?class . FILTER (STRSTARTS(STR(?class), "{DEF}") && STRSTARTS(STR(?e), "{ID}"))
  OPTIONAL {{ ?class rdfs:label ?label }}
  OPTIONAL {{ ?class skos:definition ?definition }}
}} GROUP BY ?class ?label ?definition ORDER BY DESC(?n) ?label"""
DATE_TYPES = {"http://www.w3.org/2001/XMLSchema#" + t for t in ("date", "gYear", "gYearMonth", "dateTime")}
MAX_COLUMNS = 8
MAX_FACET_VALUES = 30
_LOCAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def column_key(prop: str) -> str:
    return prop[len(DEF):] if prop.startswith(DEF) else shorten(prop).replace(":", "_")


def classes_data(app: App, req: Request) -> Data:
    seen: dict[str, dict[str, Any]] = {}
    for row in ask(app, CLASSES).rows:
        cls = row["class"]["value"]
        seen.setdefault(cls, {"class": cls, "local": cls[len(DEF):], "label": _v(row, "label") or cls[len(DEF):],
                              "definition": _v(row, "definition"), "count": int(row["n"]["value"]),
                              "page": f"/browse/{cls[len(DEF):]}", "term": term_path(cls)})
    return {"classes": list(seen.values())}


def classes_render(app: App, d: Data) -> str:
    rows = "".join(f'<tr><td><a href="{esc(url(app, c["page"]))}">{esc(c["label"])}</a></td>'
                   f'<td class="num">{c["count"]}</td><td>{esc(c["definition"] or "")} '
                   f'<a class="meta" href="{esc(url(app, c["term"]))}">about the class</a></td></tr>'
                   for c in d["classes"])
    body = f"""<h1>Browse by class</h1>
<p class="lede">Every class of the ontology that has members, with how many. Open one for a table you can sort and
filter, or read the <a href="{esc(url(app, '/ontology'))}">ontology</a>.</p>
<div class="table-wrap" role="region" aria-label="Classes" tabindex="0"><table><thead><tr><th scope="col">class</th>
<th scope="col">members</th><th scope="col">definition</th></tr></thead><tbody>{rows}</tbody></table></div>"""
    return page(app, "Browse", body, current="/browse", json_href=url(app, "/browse?_format=json"))


def class_data(app: App, req: Request) -> Data:
    local = req.params["name"]
    if not _LOCAL.fullmatch(local):
        raise HTTPError(404, f"no class dk:{local}")
    cls = DEF + local
    info = next((c for c in classes_data(app, req)["classes"] if c["class"] == cls), None)
    if info is None:
        raise HTTPError(404, f"no entity is a dk:{local} (see /browse for the classes that have members)")
    entities: dict[str, dict[str, Any]] = {}
    props: dict[str, dict[str, Any]] = {}
    for row in ask(app, MEMBERS, **{"class": iri_term(cls)}).rows:
        e = row["e"]["value"]
        ent = entities.setdefault(e, {"entity": e, "label": _v(row, "label") or shorten(e), "values": {}})
        p = _v(row, "p")
        if p is None:
            continue
        o = row["o"]
        key = column_key(p)
        info_p = props.setdefault(key, {"key": key, "property": p, "label": _v(row, "pLabel") or key,
                                        "entities": set(), "iri": True, "date": True})
        info_p["entities"].add(e)
        if o["type"] != "uri":
            info_p["iri"] = False
        if o.get("datatype") not in DATE_TYPES:
            info_p["date"] = False
        value = {"value": o["value"], "type": o["type"], "label": _v(row, "oLabel") or
                 (shorten(o["value"]) if o["type"] == "uri" else o["value"])}
        bucket = ent["values"].setdefault(key, [])
        if value not in bucket:
            bucket.append(value)
    columns = sorted(props.values(), key=lambda c: (-len(c["entities"]), c["label"]))[:MAX_COLUMNS]
    keys = [c["key"] for c in columns]
    # filters: column=value (an IRI, or a year for a date column)
    filters: dict[str, list[str]] = {}
    for name, values in req.args.items():
        if name.startswith("_"):
            if name not in ("_sort", "_desc", "_format"):
                raise HTTPError(400, f"unknown option {name!r} (options: _sort, _desc, _format)")
            continue
        if name not in props:
            raise HTTPError(400, f"dk:{local} has no column {name!r} (columns: {', '.join(sorted(props))})")
        filters[name] = [v for v in values if v]

    def matches(ent: dict[str, Any], key: str, wanted: list[str]) -> bool:
        got = ent["values"].get(key, [])
        if props[key]["date"]:
            return any(v["value"][:4] in wanted for v in got)
        return any(v["value"] in wanted for v in got)

    rows = [e for e in entities.values() if all(matches(e, k, w) for k, w in filters.items() if w)]
    facets = []
    for c in columns:
        if not (c["iri"] or c["date"]):
            continue
        counts: dict[str, dict[str, Any]] = {}
        for e in rows:
            for v in e["values"].get(c["key"], []):
                key = v["value"][:4] if c["date"] else v["value"]
                label = key if c["date"] else v["label"]
                counts.setdefault(key, {"value": key, "label": label, "count": 0})["count"] += 1
        if not counts or len(counts) > MAX_FACET_VALUES:
            continue
        chosen = filters.get(c["key"], [])
        values = sorted(counts.values(), key=lambda x: (-x["count"], x["label"].casefold()))
        for v in values:
            v["selected"] = v["value"] in chosen
        facets.append({"key": c["key"], "label": c["label"], "date": c["date"], "values": values})
    sort = req.arg("_sort") or "label"
    if sort != "label" and sort not in keys:
        raise HTTPError(400, f"cannot sort by {sort!r} (columns: label, {', '.join(keys)})")
    desc = (req.arg("_desc") or "") in ("1", "true", "yes")

    def sort_key(e: dict[str, Any]) -> tuple:
        if sort == "label":
            return (0, e["label"].casefold())
        vals = e["values"].get(sort, [])
        return (0, vals[0]["label"].casefold()) if vals else (1, "")

    rows.sort(key=sort_key, reverse=desc)
    if desc:  # rows without a value stay last either way
        rows.sort(key=lambda e: sort != "label" and not e["values"].get(sort))
    return {"class": cls, "local": local, "label": info["label"], "definition": info["definition"],
            "columns": [{k: c[k] for k in ("key", "property", "label")} for c in columns],
            "filters": filters, "sort": sort, "desc": desc, "count": len(rows), "total": len(entities),
            "facets": facets,
            "rows": [{"entity": e["entity"], "label": e["label"],
                      "values": {k: e["values"].get(k, []) for k in keys}} for e in rows]}


def _view_url(app: App, d: Data, **changes: Any) -> str:
    args: list[tuple[str, str]] = []
    filters = dict(d["filters"])
    for key, value in changes.items():
        if key in ("_sort", "_desc", "_format"):
            continue
        filters[key] = value
    for key, values in filters.items():
        args += [(key, v) for v in values]
    sort = changes.get("_sort", d["sort"])
    desc = changes.get("_desc", d["desc"])
    if sort != "label":
        args.append(("_sort", sort))
    if desc:
        args.append(("_desc", "1"))
    if changes.get("_format"):
        args.append(("_format", changes["_format"]))
    query = urllib.parse.urlencode(args)
    return url(app, f"/browse/{d['local']}" + (f"?{query}" if query else ""))


def _cell(app: App, values: list[dict[str, Any]]) -> str:
    return ", ".join(iri_link(app, v["value"], v["label"]) if v["type"] == "uri" else esc(v["label"])
                     for v in values)


def class_render(app: App, d: Data) -> str:
    heads = []
    for key, label in [("label", "label")] + [(c["key"], c["label"]) for c in d["columns"]]:
        active = d["sort"] == key
        desc_next = active and not d["desc"]
        arrow = (" ▼" if d["desc"] else " ▲") if active else ""
        sort_attr = (' aria-sort="descending"' if d["desc"] else ' aria-sort="ascending"') if active else ""
        heads.append(f'<th scope="col"{sort_attr}><a href="{esc(_view_url(app, d, _sort=key, _desc=desc_next))}">'
                     f'{esc(label)}<span aria-hidden="true">{arrow}</span></a></th>')
    body_rows = "".join(
        f'<tr><td>{iri_link(app, r["entity"], r["label"])}</td>'
        + "".join(f'<td>{_cell(app, r["values"][c["key"]])}</td>' for c in d["columns"]) + "</tr>"
        for r in d["rows"])
    facets = []
    for f in d["facets"]:
        items = []
        for v in f["values"]:
            chosen = list(d["filters"].get(f["key"], []))
            new = [x for x in chosen if x != v["value"]] if v["selected"] else [*chosen, v["value"]]
            chosen_attr = ' aria-current="true" class="chosen"' if v["selected"] else ""
            tick = "✓ " if v["selected"] else ""
            items.append(f'<li><a href="{esc(_view_url(app, d, **{f["key"]: new}))}"{chosen_attr}>'
                         f'{tick}{esc(v["label"])}</a> <span class="badge">{v["count"]}</span></li>')
        facets.append(f'<section class="facet" aria-label="{esc(f["label"])}"><h3>{esc(f["label"])}'
                      f'{" (year)" if f["date"] else ""}</h3><ul>{"".join(items)}</ul></section>')
    active = [f'{esc(k)} = {esc(", ".join(v))}' for k, v in d["filters"].items() if v]
    clear = (f'<p class="filters">Filtered by {"; ".join(active)} · '
             f'<a href="{esc(url(app, "/browse/" + d["local"]))}">clear filters</a></p>' if active else "")
    body = f"""<nav class="crumbs" aria-label="Breadcrumb"><a href="{esc(url(app, '/browse'))}">Browse</a> ›
{esc(d['label'])}</nav>
<h1>{esc(d['label'])} <span class="badge">{d['count']}</span></h1>
<p class="lede">{esc(d['definition'] or '')} <a href="{esc(url(app, term_path(d['class']) or '/'))}">About the class
<code>dk:{esc(d['local'])}</code></a>.</p>
{clear}
<div class="browse-layout">
<aside class="facets" aria-label="Filters"><details class="facet-box" open><summary>Filters</summary>
{''.join(facets) or '<p class="meta">No facets for this class.</p>'}</details></aside>
<div>
<p class="count">{d['count']} of {d['total']} · Download this view:
<a href="{esc(_view_url(app, d, _format='json'))}">JSON</a> ·
<a href="{esc(_view_url(app, d, _format='csv'))}">CSV</a></p>
<div class="table-wrap" role="region" aria-label="{esc(d['label'])} table" tabindex="0"><table class="browse">
<thead><tr>{''.join(heads)}</tr></thead><tbody>{body_rows}</tbody></table></div>
</div></div>"""
    return page(app, d["label"], body, current="/browse", json_href=_view_url(app, d, _format="json"))


def class_csv(d: Data) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["entity", "label"] + [c["key"] for c in d["columns"]])
    for r in d["rows"]:
        writer.writerow([r["entity"], r["label"]] + [" | ".join(v["value"] for v in r["values"][c["key"]])
                                                      for c in d["columns"]])
    return out.getvalue().encode("utf-8")


def class_view(app: App) -> Any:
    html_or_json = page_view(app, class_data, class_render)

    def view(req: Request) -> Response:
        if req.arg("_format") == "csv":
            d = class_data(app, req)
            name = f"{d['local']}.csv"
            return Response(200, class_csv(d), "text/csv; charset=utf-8",
                            [("Content-Disposition", f'inline; filename="{name}"')])
        return html_or_json(req)

    return view
