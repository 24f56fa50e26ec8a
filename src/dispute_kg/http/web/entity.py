"""Entity pages (`/entity/<path after id/>`): labels, asserted and inferred types, every claim, position,
provision and statement that involves the entity with its supporting quotes (each linked to that span of
the source view), where the source mentions the entity itself, and its Wikidata link with the mapping
record's confidence or the reason it is pending review."""

from __future__ import annotations

import re
from typing import Any

from ...rdf.namespaces import DEF, ID, INFERRED_GRAPH, shorten
from ...rdf.terms import iri as iri_term
from ..app import App, HTTPError, Request
from .layout import Data, Redirect, ask, entity_path, esc, iri_link, page, results_table, span_path, url

_SAFE_PATH = re.compile(r"[A-Za-z0-9._~%!$&'()*+,;=:@/-]+")
KINDS = (("claims", DEF + "Claim"), ("provisions", DEF + "Provision"), ("statements", DEF + "Statement"),
         ("positions", DEF + "Position"))  # in priority order: a claim is also a position
TEXT_PROPERTIES = (DEF + "stance", DEF + "provides", DEF + "quote")
# ?e is bound by a VALUES block in the WHERE group (layout.ask): every group that uses ?e has it in a
# triple pattern, so bottom-up evaluation sees it bound; every query also projects ?e.
PREFIXES = f"""PREFIX rdf: <http://www.w3.org/1999/02/22-rdf-syntax-ns#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX sssom: <https://w3id.org/sssom/>
PREFIX schema: <http://schema.org/>
PREFIX org: <http://www.w3.org/ns/org#>
PREFIX dk: <{DEF}>
"""

# Who acts for a state: its government, and the offices of that government (whose holders' statements
# are made in office). Their positions and statements are gathered on the state's page.
AGENTS = PREFIXES + """SELECT DISTINCT ?agent ?agentLabel ?how ?e WHERE {
  { ?agent dk:governmentOf ?e . BIND ("its government" AS ?how) }
  UNION { ?agent org:postIn ?government . ?government dk:governmentOf ?e .
          BIND ("an office of its government" AS ?how) }
  UNION { ?agent org:postIn ?e . BIND ("its office" AS ?how) }
  OPTIONAL { ?agent rdfs:label ?agentLabel }
} ORDER BY ?how ?agent"""

DESCRIBE = PREFIXES + """SELECT ?p ?o ?oLabel ?g ?e WHERE {
  GRAPH ?g { ?e ?p ?o }
  FILTER (?p IN (rdf:type, rdfs:label, skos:prefLabel, skos:altLabel, skos:definition, rdfs:comment, dk:note))
  OPTIONAL { ?o rdfs:label ?oLabel . FILTER (isIRI(?o)) }
} ORDER BY ?p ?o"""

EXISTS = "SELECT ?e WHERE { { ?e ?p ?o } UNION { ?s ?p ?e } } LIMIT 1"

INVOLVED = PREFIXES + """SELECT DISTINCT ?node ?type ?label ?text ?prop ?propLabel ?via ?e WHERE {
  { ?node ?prop ?e . FILTER (?prop != prov:wasDerivedFrom) }
  UNION { ?e a ?anyType . BIND (?e AS ?node) }
  UNION { ?node dk:voices ?voiced . ?voiced ?prop ?e . FILTER (?prop != prov:wasDerivedFrom) BIND (true AS ?via) }
  ?node a ?type .
  FILTER (?type IN (dk:Claim, dk:Position, dk:Provision, dk:Statement))
  OPTIONAL { ?node rdfs:label ?label }
  OPTIONAL { ?node dk:stance|dk:provides|dk:quote ?text }
  OPTIONAL { ?prop rdfs:label ?propLabel }
} ORDER BY ?label ?node"""

QUOTES = PREFIXES + """SELECT DISTINCT ?node ?derivation ?source ?sourceLabel ?exact ?start ?end ?e WHERE {
  { ?node ?prop ?e . FILTER (?prop != prov:wasDerivedFrom) }
  UNION { ?node dk:voices ?voiced . ?voiced ?prop ?e . FILTER (?prop != prov:wasDerivedFrom) }
  UNION { ?e prov:wasDerivedFrom ?any . BIND (?e AS ?node) }
  ?node prov:wasDerivedFrom ?derivation .
  OPTIONAL {
    ?derivation oa:hasSource ?selectionSource ; oa:hasSelector ?q , ?p .
    ?q oa:exact ?exact . ?p oa:start ?start ; oa:end ?end .
  }
  BIND (COALESCE(?selectionSource, ?derivation) AS ?source)
  OPTIONAL { ?source rdfs:label ?sourceLabel }
} ORDER BY ?node ?start"""

MAPPING = PREFIXES + """SELECT ?record ?object ?objectLabel ?objectDescription ?confidence ?justification ?date
       ?comment ?e
WHERE {
  ?record sssom:subject_id ?e ; sssom:object_id ?object .
  OPTIONAL { ?record sssom:confidence ?confidence }
  OPTIONAL { ?record sssom:mapping_justification ?justification }
  OPTIONAL { ?record sssom:mapping_date ?date }
  OPTIONAL { ?record sssom:comment ?comment }
  OPTIONAL { ?object rdfs:label ?objectLabel }
  OPTIONAL { ?object schema:description ?objectDescription }
} ORDER BY ?record"""

EXACT_MATCH = PREFIXES + """SELECT ?object ?objectLabel ?e WHERE {
  ?e skos:exactMatch ?object .
  FILTER (STRSTARTS(STR(?object), "http://www.wikidata.org/entity/"))
  OPTIONAL { ?object rdfs:label ?objectLabel }
} ORDER BY ?object"""


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def quote_dict(row: dict[str, Any]) -> dict[str, Any]:
    source = _v(row, "source") or ""
    if _v(row, "exact") is None:
        return {"source": source, "source_label": _v(row, "sourceLabel"), "exact": None, "start": None,
                "end": None, "view": None, "background": source == ID + "source/background-knowledge"}
    start, end = int(_v(row, "start") or 0), int(_v(row, "end") or 0)
    return {"source": source, "source_label": _v(row, "sourceLabel"), "exact": _v(row, "exact"),
            "start": start, "end": end, "view": span_path(source, start, end), "background": False}


def entity_data(app: App, req: Request) -> Data:
    path = req.params["path"].strip("/")
    for prefix in (ID, ID.replace("https://", "https:/"), "id:"):  # a pasted IRI (a slash may be folded)
        if path.startswith(prefix) and len(path) > len(prefix):
            raise Redirect(entity_path(ID + path[len(prefix):]) or "/")
    if not path:
        raise HTTPError(404, "no entity named: /entity/ needs a path such as /entity/state/japan")
    if not _SAFE_PATH.fullmatch(path):
        raise HTTPError(404, f"no entity at /entity/{path}")
    iri = ID + path
    bind = {"e": iri_term(iri)}
    if not ask(app, EXISTS, **bind).rows:
        raise HTTPError(404, f"the graph has nothing about {shorten(iri)} (<{iri}>)")
    labels: list[str] = []
    aliases: list[str] = []
    notes: list[str] = []
    definitions: list[str] = []
    asserted: dict[str, str] = {}
    inferred: dict[str, str] = {}
    for row in ask(app, DESCRIBE, **bind).rows:
        p, o = row["p"]["value"], row["o"]["value"]
        graph = _v(row, "g")
        if p.endswith("#type"):
            target = inferred if graph == INFERRED_GRAPH else asserted
            target[o] = _v(row, "oLabel") or shorten(o)
        elif p.endswith(("#label", "#prefLabel")):
            labels.append(o)
        elif p.endswith("#altLabel"):
            aliases.append(o)
        elif p.endswith("#note"):
            notes.append(o)
        else:
            definitions.append(o)
    inferred = {k: v for k, v in inferred.items() if k not in asserted}
    quotes: dict[str, list[dict[str, Any]]] = {}
    nodes: dict[str, dict[str, Any]] = {}
    agents = [{"agent": iri, "label": None, "how": None}]
    agents += [{"agent": r["agent"]["value"], "label": _v(r, "agentLabel") or shorten(r["agent"]["value"]),
                "how": r["how"]["value"]} for r in ask(app, AGENTS, **bind).rows]
    for agent in agents:
        agent_bind = {"e": iri_term(agent["agent"])}
        for row in ask(app, QUOTES, **agent_bind).rows:
            q = quote_dict(row)
            bucket = quotes.setdefault(row["node"]["value"], [])
            if q not in bucket:
                bucket.append(q)
        for row in ask(app, INVOLVED, **agent_bind).rows:
            node = row["node"]["value"]
            if agent["how"] and node == agent["agent"]:
                continue
            entry = nodes.setdefault(node, {"iri": node, "label": _v(row, "label") or shorten(node),
                                            "page": entity_path(node), "types": set(), "text": None, "roles": [],
                                            "is_entity": node == iri})
            entry["types"].add(row["type"]["value"])
            if _v(row, "text") and not entry["text"]:
                entry["text"] = _v(row, "text")
            prop = _v(row, "prop")
            if prop and prop != "http://www.w3.org/1999/02/22-rdf-syntax-ns#type":
                label = _v(row, "propLabel") or shorten(prop)
                via = _v(row, "via") is not None
                text = f"{label} of a position it voices" if via else label
                if agent["how"]:
                    text += f" — {agent['how']}, {agent['label']}"
                role = {"property": prop, "label": text, "via": via, "agent": agent["agent"]}
                if role not in entry["roles"]:
                    entry["roles"].append(role)
    groups: dict[str, list[dict[str, Any]]] = {name: [] for name, _ in KINDS}
    for entry in nodes.values():
        types = entry.pop("types")
        kind = next(name for name, cls in KINDS if cls in types)
        entry["quotes"] = quotes.get(entry["iri"], [])
        groups[kind].append(entry)
    wikidata = None
    records = ask(app, MAPPING, **bind).rows
    matches = ask(app, EXACT_MATCH, **bind).rows
    if records or matches:
        rec = records[0] if records else {}
        obj = _v(rec, "object") or (_v(matches[0], "object") if matches else None)
        pending = obj == "https://w3id.org/sssom/NoTermFound"
        confidence = _v(rec, "confidence")
        wikidata = {"item": None if pending else obj,
                    "label": _v(rec, "objectLabel") or (_v(matches[0], "objectLabel") if matches else None),
                    "description": _v(rec, "objectDescription"), "record": _v(rec, "record"),
                    "confidence": float(confidence) if confidence else None,
                    "justification": _v(rec, "justification"), "date": _v(rec, "date"),
                    "pending": pending, "comment": _v(rec, "comment")}
    from ...links import link_state

    curation = link_state(app.kg.project, iri)  # the records `link accept|reject` read and write
    triples = app.kg.run_result("entity", {"id": iri}, limit=app.settings.max_rows).to_sparql_json()
    is_source = DEF + "Source" in asserted or DEF + "Source" in inferred
    return {"iri": iri, "curie": shorten(iri), "label": labels[0] if labels else shorten(iri), "labels": labels,
            "aliases": aliases, "definitions": definitions, "notes": notes,
            "types": {"asserted": [{"iri": k, "label": v} for k, v in asserted.items()],
                      "inferred": [{"iri": k, "label": v} for k, v in inferred.items()]},
            **groups, "mentions": quotes.get(iri, []), "wikidata": wikidata, "curation": curation,
            "can_update": bool(app.settings.allow_update),
            "source_view": f"/source/{path.rsplit('/', 1)[-1]}" if is_source else None,
            "acting_for_it": [a for a in agents if a["how"]],
            "triples": triples}


# -- HTML ----------------------------------------------------------------------------------------
def quote_html(app: App, q: dict[str, Any]) -> str:
    if q["exact"] is None:
        what = "background knowledge" if q["background"] else (q["source_label"] or shorten(q["source"]))
        return (f'<p class="derivation">Also from {iri_link(app, q["source"], what)}: general knowledge the '
                'article does not state, so there is no quote.</p>')
    where = f'characters {q["start"]}–{q["end"]}'
    link = (f'<a class="quote-link" href="{esc(url(app, q["view"]))}">{esc(where)} of the source</a>'
            if q["view"] else esc(where))
    return (f'<figure class="quote"><blockquote>{esc(q["exact"])}</blockquote>'
            f'<figcaption>{link}</figcaption></figure>')


def assertion_html(app: App, a: dict[str, Any]) -> str:
    roles = ", ".join(esc(r["label"]) for r in a["roles"])
    role = (f'<p class="role">Linked to this entity as: <em>{roles}</em></p>' if roles and not a["is_entity"]
            else "")
    text = f'<p class="stance">{esc(a["text"])}</p>' if a["text"] else ""
    quotes = "".join(quote_html(app, q) for q in a["quotes"]) or '<p class="meta">No supporting quote.</p>'
    return (f'<li class="assertion"><h3>{iri_link(app, a["iri"], a["label"])}</h3>{role}{text}'
            f'<div class="quotes">{quotes}</div></li>')


SECTION_TITLES = {"claims": "Claims", "positions": "Positions", "provisions": "Agreement provisions",
                  "statements": "Statements"}


def entity_render(app: App, d: Data) -> str:
    types = "".join(f'<li class="chip">{iri_link(app, t["iri"], t["label"])}</li>' for t in d["types"]["asserted"])
    types += "".join(f'<li class="chip inferred" title="inferred by the OWL 2 RL closure">'
                     f'{iri_link(app, t["iri"], t["label"])} <span class="chip-note">inferred</span></li>'
                     for t in d["types"]["inferred"])
    aliases = (f'<p><span class="meta">Also called</span> {", ".join(esc(a) for a in d["aliases"])}</p>'
               if d["aliases"] else "")
    other_labels = d["labels"][1:]
    more = (f'<p><span class="meta">Other labels</span> {", ".join(esc(a) for a in other_labels)}</p>'
            if other_labels else "")
    defs = "".join(f"<p>{esc(x)}</p>" for x in d["definitions"])
    notes = "".join(f'<p class="note"><strong>Note:</strong> {esc(n)}</p>' for n in d["notes"])
    source_view = (f'<p><a class="button" href="{esc(url(app, d["source_view"]))}">'
                   'Read the text with its cited spans</a></p>' if d["source_view"] else "")
    summary = " · ".join(f'<a href="#{k}">{len(d[k])} {SECTION_TITLES[k].lower()}</a>'
                         for k in SECTION_TITLES if d[k])
    sections = []
    for key, title in SECTION_TITLES.items():
        if d[key]:
            items = "".join(assertion_html(app, a) for a in d[key])
            sections.append(f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{title} '
                            f'<span class="badge">{len(d[key])}</span></h2>'
                            f'<ul class="assertions">{items}</ul></section>')
    if d["mentions"]:
        quotes = "".join(quote_html(app, q) for q in d["mentions"])
        sections.append(f'<section id="mentions" aria-labelledby="mentions-h"><h2 id="mentions-h">Where the source '
                        f'mentions it</h2><div class="quotes">{quotes}</div></section>')
    sections.append(f'<section id="wikidata" aria-labelledby="wd-h"><h2 id="wd-h">Wikidata</h2>'
                    f'{wikidata_html(app, d)}{curation_html(app, d)}</section>')
    sections.append(f'<section id="triples"><details><summary>Every triple about {esc(d["label"])}</summary>'
                    f'{results_table(app, d["triples"])}</details></section>')
    body = f"""
<nav class="crumbs" aria-label="Breadcrumb"><a href="{esc(url(app, '/'))}">Home</a> › entity</nav>
<h1>{esc(d['label'])}</h1>
<p class="iri"><code>{esc(d['curie'])}</code> ·
<a href="{esc(d['iri'])}" rel="external noopener">{esc(d['iri'])}</a></p>
<ul class="chips" aria-label="Types">{types}</ul>
{more}{aliases}{defs}{notes}{source_view}
{f'<p class="summary">{summary}</p>' if summary else ''}
{''.join(sections)}"""
    script = (f'<script src="{esc(url(app, "/static/links.js"))}" defer></script>'
              if d["can_update"] and d["curation"] else "")
    return page(app, d["label"], body, head=script,
                json_href=url(app, entity_path(d["iri"]) or "/") + "?_format=json")


def wikidata_html(app: App, d: Data) -> str:
    wd = d["wikidata"]
    if wd is None:
        return '<p class="meta">No Wikidata mapping has been made for this entity.</p>'
    if wd["pending"] or not wd["item"]:
        return (f'<p class="pending"><strong>Pending review</strong>: not linked to Wikidata yet.</p>'
                f'<p>{esc(_unprefixed(wd["comment"]) or "No reason recorded.")}</p>')
    qid = wd["item"].rsplit("/", 1)[-1]
    conf = f"{wd['confidence']:.2f}" if wd["confidence"] is not None else "not recorded"
    how = shorten(wd["justification"]) if wd["justification"] else "not recorded"
    how = how.replace("https://w3id.org/semapv/vocab/", "semapv:")
    desc = f" — {esc(wd['description'])}" if wd["description"] else ""
    return (f'<p><code>skos:exactMatch</code> <a href="{esc(wd["item"])}" rel="external noopener">{esc(qid)}</a>'
            f' {esc(wd["label"] or "")}{desc}</p>'
            f'<dl class="kv"><dt>confidence</dt><dd>{esc(conf)}</dd><dt>justification</dt><dd>{esc(how)}</dd>'
            f'<dt>mapped on</dt><dd>{esc(wd["date"] or "")}</dd></dl>'
            + (f'<p class="meta">{esc(wd["comment"])}</p>' if wd["comment"] else ""))


def _unprefixed(comment: str | None) -> str:
    return (comment or "").removeprefix("PENDING REVIEW:").strip()


def _decide_buttons(item: dict[str, Any], *, accept: bool, reject: bool) -> str:
    """Accept / Reject for one item; hidden until `static/links.js` runs, since only a script can send the
    token in a header. The visually hidden QID tells a screen reader which row a button decides."""
    which = f'<span class="visually-hidden"> {esc(item["qid"])}</span>'
    out = []
    if accept:
        out.append(f'<button type="button" class="link-decide" data-action="accept" data-qid="{esc(item["qid"])}" '
                   f'hidden>Accept{which}</button>')
    if reject:
        out.append(f'<button type="button" class="link-decide secondary" data-action="reject" '
                   f'data-qid="{esc(item["qid"])}" hidden>Reject{which}</button>')
    return " ".join(out)


def _how(justification: str) -> str:
    return shorten(justification).replace("https://w3id.org/semapv/vocab/", "semapv:") if justification else ""


def _score(value: float | None) -> str:
    return f"{value:.2f}" if value is not None else "—"


def curation_html(app: App, d: Data) -> str:
    """The entity's link records: its link, its scored candidates and its rejections; with updates allowed,
    a button for each decision `dispute-kg link accept|reject` could make."""
    c = d["curation"]
    if c is None:
        return ""
    can = d["can_update"]
    out = ['<h3 id="wd-records-h">Link records</h3>']
    if c["link"]:
        link = c["link"]
        who = f' by {esc(link["author_label"] or link["author"])}' if link["author"] else ""
        out.append(f'<p id="wd-current">Linked to <a href="{esc(link["item"])}" rel="external noopener">'
                   f'{esc(link["qid"])}</a> {esc(link["label"])} ({esc(_how(link["justification"]))}'
                   f'{who}, {esc(link["date"])}) {_decide_buttons(link, accept=False, reject=can)}</p>')
    else:
        out.append('<p id="wd-current">Not linked: pending review.</p>')
    if c["candidates"]:
        rows = "".join(
            f'<tr><td><a href="{esc(x["item"])}" rel="external noopener">{esc(x["qid"])}</a></td>'
            f'<td>{esc(x["label"])}</td><td>{_score(x["confidence"])}</td><td>{_score(x["score"])}</td>'
            + (f'<td>{_decide_buttons(x, accept=True, reject=True)}</td>' if can else "") + "</tr>"
            for x in c["candidates"])
        head = "<th scope=\"col\">Decision</th>" if can else ""
        out.append(f'<div class="table-wrap"><table id="wd-candidates"><caption>Candidates found by '
                   f'<code>dispute-kg link</code>, best first</caption><thead><tr><th scope="col">Item</th>'
                   f'<th scope="col">Label</th><th scope="col">Score</th><th scope="col">Name similarity</th>'
                   f'{head}</tr></thead><tbody>{rows}</tbody></table></div>')
    elif c["pending"]:
        out.append('<p class="meta">No candidate was found.</p>')
    if c["rejected"]:
        items = "".join(f'<li><a href="{esc(x["item"])}" rel="external noopener">{esc(x["qid"])}</a> '
                        f'{esc(x["label"])} ({esc(x["author_label"] or x["author"])}, {esc(x["date"])})</li>'
                        for x in c["rejected"])
        out.append(f'<p>Rejected by a curator:</p><ul id="wd-rejected">{items}</ul>')
    if can:
        api = url(app, "/api/links/")
        out.append(f"""<form id="link-curation" class="link-curation" data-api="{esc(api)}"
 data-entity="{esc(c["entity"])}" hidden><fieldset><legend>Decide as a curator</legend>
<p class="meta">Each decision is checked and recorded as <code>dispute-kg link accept|reject</code> records it
(items are verified against the offline snapshot).</p>
<label for="link-token">Update token</label> <input type="password" id="link-token" autocomplete="off">
<label for="link-author">Your IRI (ORCID, mailto: or https:)</label>
<input type="text" id="link-author" autocomplete="off" placeholder="https://orcid.org/0000-…">
<label for="link-author-label">Your name</label> <input type="text" id="link-author-label" autocomplete="name">
<label for="link-note">Why (kept in the record)</label> <input type="text" id="link-note">
<label for="link-qid">Another item</label> <input type="text" id="link-qid" placeholder="Q…" autocomplete="off">
<button type="button" class="link-decide" data-action="accept" data-qid="" hidden>Accept the item</button>
<button type="button" class="link-decide secondary" data-action="reject" data-qid="" hidden>Reject the item</button>
</fieldset><p id="link-status" role="status" aria-live="polite"></p></form>""")
    elif c["candidates"] or c["pending"]:
        out.append('<p class="meta">This server is read-only: decide with <code>dispute-kg link accept|reject</code>'
                   ', or start <code>serve --allow-update</code> for buttons here.</p>')
    return "".join(out)
