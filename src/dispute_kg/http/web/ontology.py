"""Ontology pages (`/ontology`, `/ontology/<local name>`): one page per class and property of
`ontology/dispute.ttl`, with its label, definition, super- and subclasses (or -properties), domain
and range, the SHACL shapes that apply to it and the stored queries that use it.

The terms come from the graph (the ontology is loaded into the store) through `kg.sparql`. Shapes
are read from the project's shape files with rdflib; "applies" means the shape targets the class
(`sh:targetClass`, or is the class itself) or constrains the property (`sh:path`). "Uses" is decided
on each stored query's parsed algebra (every IRI rdflib's SPARQL parser resolved), not on its text.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from ...rdf.namespaces import DEF, shorten
from ...rdf.terms import iri as iri_term
from ..app import App, HTTPError, Request
from .layout import Data, ask, esc, iri_link, page, url

PREFIXES = f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX owl: <http://www.w3.org/2002/07/owl#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX dk: <{DEF}>
"""
TERMS = PREFIXES + """SELECT DISTINCT ?term ?kind ?label ?definition WHERE {
  GRAPH ?g { ?term a ?kind }
  FILTER (?kind IN (owl:Class, owl:ObjectProperty, owl:DatatypeProperty, owl:AnnotationProperty))
  FILTER (STRSTARTS(STR(?term), STR(dk:)))
  OPTIONAL { ?term rdfs:label ?label }
  OPTIONAL { ?term skos:definition ?definition }
} ORDER BY ?kind ?label"""
RELATED = PREFIXES + """SELECT DISTINCT ?rel ?other ?otherLabel WHERE {
  { ?t rdfs:subClassOf ?other . BIND ("super" AS ?rel) }
  UNION { ?other rdfs:subClassOf ?t . BIND ("sub" AS ?rel) }
  UNION { ?t rdfs:subPropertyOf ?other . BIND ("super" AS ?rel) }
  UNION { ?other rdfs:subPropertyOf ?t . BIND ("sub" AS ?rel) }
  UNION { ?t rdfs:domain ?other . BIND ("domain" AS ?rel) }
  UNION { ?t rdfs:range ?other . BIND ("range" AS ?rel) }
  UNION { ?other rdfs:domain ?t . BIND ("property" AS ?rel) }
  UNION { ?other rdfs:range ?t . BIND ("used as range by" AS ?rel) }
  UNION { ?t owl:inverseOf ?other . BIND ("inverse" AS ?rel) }
  FILTER (isIRI(?other) && ?other != ?t)
  OPTIONAL { ?other rdfs:label ?otherLabel }
} ORDER BY ?rel ?otherLabel"""
COUNT = PREFIXES + """SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { { ?s a ?t } UNION { ?s ?t ?o } }"""
KIND_NAMES = {"http://www.w3.org/2002/07/owl#Class": "class",
              "http://www.w3.org/2002/07/owl#ObjectProperty": "object property",
              "http://www.w3.org/2002/07/owl#DatatypeProperty": "datatype property",
              "http://www.w3.org/2002/07/owl#AnnotationProperty": "annotation property"}
_LOCAL = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def terms(app: App) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for row in ask(app, TERMS).rows:
        t = row["term"]["value"]
        out.setdefault(t, {"iri": t, "local": t[len(DEF):], "kind": KIND_NAMES[row["kind"]["value"]],
                           "label": _v(row, "label") or t[len(DEF):], "definition": _v(row, "definition"),
                           "page": "/ontology/" + t[len(DEF):]})
    return list(out.values())


@lru_cache(maxsize=8)
def _query_iris(text: str) -> frozenset[str]:
    from rdflib import URIRef
    from rdflib.plugins.sparql import prepareQuery

    found: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, URIRef):
            found.add(str(node))
        elif isinstance(node, dict):
            for value in node.values():
                walk(value)
        elif isinstance(node, (list, tuple, set, frozenset)):
            for value in node:
                walk(value)

    try:
        walk(prepareQuery(text).algebra)
    except Exception:  # a query rdflib cannot parse uses nothing we can show; the catalog checks syntax
        return frozenset()
    return frozenset(found)


def queries_using(app: App, iri: str) -> list[dict[str, str]]:
    return [{"name": q.name, "summary": q.summary, "page": f"/query/{q.name}"}
            for q in app.kg.queries() if iri in _query_iris(q.text)]


def shapes_for(app: App, iri: str) -> list[dict[str, str]]:
    from rdflib import RDF, URIRef
    from rdflib.namespace import SH

    graph = _shapes(app)
    term = URIRef(iri)
    found: dict[str, dict[str, str]] = {}
    for shape in set(graph.subjects(SH.targetClass, term)) | ({term} if (term, RDF.type, SH.NodeShape) in graph
                                                              else set()):
        found[str(shape)] = _shape_dict(graph, shape, "targets this class")
    for prop_shape in graph.subjects(SH.path, term):
        parents = list(graph.subjects(SH.property, prop_shape)) or [prop_shape]
        for parent in parents:
            found.setdefault(str(parent), _shape_dict(graph, parent, "constrains this property"))
    for sparql in graph.subjects(SH.select, None):
        text = str(graph.value(sparql, SH.select))
        if iri in _query_iris(_with_shape_prefixes(graph, text)):
            for parent in graph.subjects(SH.sparql, sparql):
                found.setdefault(str(parent), _shape_dict(graph, parent, "its SPARQL constraint uses this term"))
    return sorted(found.values(), key=lambda s: s["name"])


def _with_shape_prefixes(graph: Any, text: str) -> str:
    decls = "".join(f"PREFIX {p}: <{n}>\n" for p, n in graph.namespaces() if p)
    return decls + text


def _shape_dict(graph: Any, shape: Any, how: str) -> dict[str, str]:
    from rdflib import BNode, Literal
    from rdflib.namespace import RDFS, SH

    message = graph.value(shape, SH.message) or graph.value(shape, RDFS.comment)
    name = shorten(str(shape)) if not isinstance(shape, BNode) else "(an unnamed shape)"
    return {"name": name, "how": how, "message": str(message) if isinstance(message, Literal) else ""}


def _shapes(app: App) -> Any:
    cache = getattr(app, "_web_shapes", None)
    if cache is None:
        from ...validation.shacl import load_shapes

        cache = load_shapes(app.kg.project.shape_files)
        app._web_shapes = cache  # type: ignore[attr-defined]
    return cache


def ontology_index_data(app: App, req: Request) -> Data:
    return {"terms": terms(app)}


def ontology_index_render(app: App, d: Data) -> str:
    sections = []
    for kind in ("class", "object property", "datatype property", "annotation property"):
        items = [t for t in d["terms"] if t["kind"] == kind]
        if not items:
            continue
        lis = "".join(f'<li><a href="{esc(url(app, t["page"]))}">{esc(t["label"])}</a> '
                      f'<code>dk:{esc(t["local"])}</code></li>' for t in items)
        sections.append(f'<section aria-labelledby="k-{kind[:3]}"><h2 id="k-{kind[:3]}">{esc(kind.capitalize())}'
                        f'{"es" if kind == "class" else "s"} <span class="badge">{len(items)}</span></h2>'
                        f'<ul class="columns">{lis}</ul></section>')
    body = (f'<h1>Ontology</h1><p class="lede">Every class and property of <code>ontology/dispute.ttl</code> '
            f'(<code>dk:</code> = <code>{esc(DEF)}</code>).</p>{"".join(sections)}')
    return page(app, "Ontology", body, current="/browse", json_href=url(app, "/ontology?_format=json"))


def term_data(app: App, req: Request) -> Data:
    local = req.params["name"]
    if not _LOCAL.fullmatch(local):
        raise HTTPError(404, f"no ontology term dk:{local}")
    iri = DEF + local
    found = next((t for t in terms(app) if t["iri"] == iri), None)
    if found is None:
        raise HTTPError(404, f"the ontology has no class or property dk:{local} (see /ontology for the list)")
    related: dict[str, list[dict[str, str]]] = {}
    for row in ask(app, RELATED, t=iri_term(iri)).rows:
        other = row["other"]["value"]
        entry = {"iri": other, "label": _v(row, "otherLabel") or shorten(other)}
        bucket = related.setdefault(row["rel"]["value"], [])
        if entry not in bucket:
            bucket.append(entry)
    n = int(ask(app, COUNT, t=iri_term(iri)).rows[0]["n"]["value"])
    browse = f"/browse/{local}" if found["kind"] == "class" else None
    return {**found, "related": related, "shapes": shapes_for(app, iri), "queries": queries_using(app, iri),
            "used_by": n, "browse": browse}


REL_TITLES = {"super": "Broader", "sub": "Narrower", "domain": "Domain", "range": "Range",
              "property": "Properties whose domain it is", "used as range by": "Properties whose range it is",
              "inverse": "Inverse of"}


def term_render(app: App, d: Data) -> str:
    rel = "".join(f'<dt>{esc(REL_TITLES.get(k, k))}</dt><dd><ul class="inline">'
                  + "".join(f"<li>{iri_link(app, o['iri'], o['label'])}</li>" for o in v) + "</ul></dd>"
                  for k, v in d["related"].items())
    shapes = "".join(f'<li><code>{esc(s["name"])}</code> — {esc(s["how"])}'
                     f'{": " + esc(s["message"]) if s["message"] else ""}</li>' for s in d["shapes"])
    queries = "".join(f'<li><a href="{esc(url(app, q["page"]))}">{esc(q["name"])}</a> '
                      f'<span class="meta">{esc(q["summary"])}</span></li>' for q in d["queries"])
    browse = (f'<p><a class="button" href="{esc(url(app, d["browse"]))}">Browse the {d["used_by"]} '
              f'{esc(d["label"])} entities</a></p>' if d["browse"] and d["used_by"] else
              f'<p class="meta">Used by {d["used_by"]} subject(s) in the graph.</p>')
    body = f"""<nav class="crumbs" aria-label="Breadcrumb"><a href="{esc(url(app, '/ontology'))}">Ontology</a> ›
{esc(d['kind'])}</nav>
<h1>{esc(d['label'])}</h1>
<p class="iri"><code>dk:{esc(d['local'])}</code> · {esc(d['kind'])} · <code>{esc(d['iri'])}</code></p>
<p class="definition">{esc(d['definition'] or 'No definition.')}</p>
{browse}
<dl class="kv">{rel}</dl>
<section aria-labelledby="shapes-h"><h2 id="shapes-h">Shapes that apply</h2>
<ul>{shapes or '<li class="meta">No shape targets or constrains it.</li>'}</ul></section>
<section aria-labelledby="queries-h"><h2 id="queries-h">Stored queries that use it</h2>
<ul>{queries or '<li class="meta">No stored query uses it.</li>'}</ul></section>"""
    return page(app, f"dk:{d['local']}", body, current="/browse",
                json_href=url(app, f"/ontology/{d['local']}?_format=json"))
