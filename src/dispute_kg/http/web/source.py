"""The source view (`/source/<slug>`): a source's stored text with every cited span highlighted, and
the list of sources (`/sources`).

Spans may nest or overlap, so the text is split at every span and sentence boundary into segments,
each marked with all the spans that cover it (`s-467-484 s-467-678`). The segments and an empty anchor
at the start of each span (`#span-467-484`) are siblings in one element, so a CSS rule per span
(`#span-467-484:target ~ .s-467-484`) highlights the whole span a link points at, without JavaScript.
Each highlighted segment is focusable and lists the assertions derived from its spans in its `title`
and, on focus, in a CSS popover; `app.js` adds a side panel with links.
"""

from __future__ import annotations

import bisect
import itertools
from typing import Any

from ...rdf.namespaces import DEF, INFERRED_GRAPH, shorten
from ...rdf.terms import iri as iri_term
from ...validation.provenance import coverage, source_texts, source_titles
from ..app import App, HTTPError, Request
from .layout import SOURCE_PREFIX, Data, GraphQueries, ask, dumps, entity_path, esc, iri_link, page, url

SPANS = f"""PREFIX oa: <http://www.w3.org/ns/oa#>
PREFIX prov: <http://www.w3.org/ns/prov#>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
SELECT DISTINCT ?selection ?start ?end ?exact ?node ?label ?typeLabel ?src WHERE {{
  ?selection oa:hasSource ?src ; oa:hasSelector ?p , ?q .
  ?p oa:start ?start ; oa:end ?end .
  ?q oa:exact ?exact .
  OPTIONAL {{
    ?node prov:wasDerivedFrom ?selection .
    OPTIONAL {{ ?node rdfs:label ?label }}
    OPTIONAL {{ GRAPH ?g {{ ?node a ?type }} FILTER (?g != <{INFERRED_GRAPH}>) ?type rdfs:label ?typeLabel }}
  }}
}} ORDER BY ?start DESC(?end) ?label ?node"""

SOURCE_META = f"""PREFIX dct: <http://purl.org/dc/terms/>
PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>
PREFIX dk: <{DEF}>
SELECT ?label ?title ?issued ?sha256 ?publisher ?src WHERE {{
  ?src a dk:Source .
  OPTIONAL {{ ?src rdfs:label ?label }} OPTIONAL {{ ?src dct:title ?title }} OPTIONAL {{ ?src dct:issued ?issued }}
  OPTIONAL {{ ?src dk:sha256 ?sha256 }} OPTIONAL {{ ?src dct:publisher ?p . ?p rdfs:label ?publisher }}
}}"""


def _v(row: dict[str, Any], name: str) -> str | None:
    term = row.get(name)
    return term["value"] if term else None


def source_data(app: App, req: Request) -> Data:
    slug = req.params["slug"]
    source = SOURCE_PREFIX + slug
    store = GraphQueries(app)
    texts = source_texts(store)
    if source not in texts:
        known = ", ".join(s[len(SOURCE_PREFIX):] for s in sorted(texts)) or "none"
        raise HTTPError(404, f"no source text named {slug!r} (sources with text: {known})")
    text = texts[source]
    bind = {"src": iri_term(source)}
    meta_rows = ask(app, SOURCE_META, **bind).rows
    meta = meta_rows[0] if meta_rows else {}
    spans: dict[str, dict[str, Any]] = {}
    for row in ask(app, SPANS, **bind).rows:
        start, end = int(row["start"]["value"]), int(row["end"]["value"])
        key = f"{start}-{end}"
        span = spans.setdefault(key, {"key": key, "start": start, "end": end, "exact": row["exact"]["value"],
                                      "selection": row["selection"]["value"], "assertions": []})
        node = _v(row, "node")
        if node and not any(a["iri"] == node for a in span["assertions"]):
            span["assertions"].append({"iri": node, "label": _v(row, "label") or shorten(node),
                                       "kind": _v(row, "typeLabel") or "", "page": entity_path(node)})
    sentences = [{"start": c.start, "end": c.end, "text": c.text, "cited_by": c.cited_by, "is_title": c.is_title}
                 for c in coverage(store, source_titles(store)) if c.source == source]
    ordered = sorted(spans.values(), key=lambda s: (s["start"], -s["end"]))
    return {"source": source, "slug": slug, "label": _v(meta, "label"), "title": _v(meta, "title"),
            "issued": _v(meta, "issued"), "publisher": _v(meta, "publisher"), "sha256": _v(meta, "sha256"),
            "page": entity_path(source), "length": len(text), "text": text, "spans": ordered,
            "sentences": sentences,
            "uncited": [s for s in sentences if not s["cited_by"] and not s["is_title"]]}


def segments(text: str, spans: list[dict[str, Any]], sentences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The text cut at every span and sentence boundary: (start, end, covering span keys, sentence)."""
    cuts = {0, len(text)}
    for s in spans:
        cuts.update((s["start"], s["end"]))
    for s in sentences:
        cuts.update((s["start"], s["end"]))
    points = sorted(c for c in cuts if 0 <= c <= len(text))
    starts = [s["start"] for s in sentences]
    out = []
    for a, b in itertools.pairwise(points):
        if a == b:
            continue
        covering = [s["key"] for s in spans if s["start"] <= a and s["end"] >= b]
        i = bisect.bisect_right(starts, a) - 1
        sentence = sentences[i] if i >= 0 and sentences[i]["start"] <= a and b <= sentences[i]["end"] else None
        out.append({"start": a, "end": b, "spans": covering, "sentence": sentence})
    return out


def source_render(app: App, d: Data) -> str:
    text, spans = d["text"], d["spans"]
    by_key = {s["key"]: s for s in spans}
    starting: dict[int, list[str]] = {}
    for s in spans:
        starting.setdefault(s["start"], []).append(s["key"])
    parts = []
    for seg in segments(text, spans, d["sentences"]):
        for key in starting.pop(seg["start"], []):
            parts.append(f'<span class="anchor" id="span-{key}"></span>')
        chunk = esc(text[seg["start"]:seg["end"]])
        sentence = seg["sentence"]
        uncited = sentence is not None and not sentence["cited_by"] and not sentence["is_title"]
        if seg["spans"]:
            lines = []
            for key in seg["spans"]:
                for a in by_key[key]["assertions"]:
                    lines.append(f"• {a['label']}" + (f" ({a['kind']})" if a["kind"] else ""))
            tip = "\n".join(dict.fromkeys(lines)) or "cited span"
            classes = " ".join(["cite", f"d{min(len(seg['spans']), 4)}", *(f"s-{k}" for k in seg["spans"]),
                                *(["uncited"] if uncited else [])])
            parts.append(f'<mark class="{classes}" tabindex="0" data-spans="{esc(" ".join(seg["spans"]))}" '
                         f'title="{esc(tip)}" data-tip="{esc(tip)}">{chunk}</mark>')
        elif uncited:
            parts.append(f'<span class="uncited" title="No assertion cites this sentence">{chunk}</span>')
        elif sentence is not None and sentence["is_title"]:
            parts.append(f'<span class="headline">{chunk}</span>')
        else:
            parts.append(chunk)
    target_css = "\n".join(f"#span-{s['key']}:target ~ .s-{s['key']}" + "{background:var(--target);"
                           "box-shadow:0 2px 0 var(--target-ring);}" for s in spans)
    span_json = {s["key"]: {"exact": s["exact"],
                            "assertions": [{"label": a["label"], "kind": a["kind"],
                                            "href": url(app, a["page"]) if a["page"] else None}
                                           for a in s["assertions"]]} for s in spans}
    span_script = dumps(span_json).replace("</", "<\\/")
    rows = []
    for s in spans:
        links = ", ".join(iri_link(app, a["iri"], a["label"]) for a in s["assertions"]) or "—"
        rows.append(f'<tr><td><a href="#span-{s["key"]}">{s["start"]}–{s["end"]}</a></td>'
                    f'<td class="q">“{esc(s["exact"])}”</td><td>{links}</td></tr>')
    uncited = ("".join(f'<li>{esc(s["text"])} <span class="meta">({s["start"]}–{s["end"]})</span></li>'
                       for s in d["uncited"])
               if d["uncited"] else "<li>None: every sentence (apart from the headline) is cited.</li>")
    cited = sum(1 for s in d["sentences"] if s["cited_by"])
    body_sentences = sum(1 for s in d["sentences"] if not s["is_title"])
    meta = " · ".join(esc(x) for x in (d["publisher"], d["issued"]) if x)
    sha = f'<span>SHA-256 <code>{esc(d["sha256"][:16])}…</code></span>' if d["sha256"] else ""
    body = f"""
<nav class="crumbs" aria-label="Breadcrumb"><a href="{esc(url(app, '/sources'))}">Sources</a> › {esc(d['slug'])}</nav>
<h1>{esc(d['title'] or d['label'] or d['slug'])}</h1>
<p class="meta">{meta} · {iri_link(app, d['source'], 'about this source')} · {len(spans)} cited spans ·
{cited} of {body_sentences} sentences cited · {sha}</p>
<div class="legend" aria-hidden="true"><span><mark class="cite d1">cited once</mark></span>
<span><mark class="cite d3">cited by overlapping spans</mark></span>
<span><span class="uncited">no assertion cites this</span></span></div>
<p class="hint">Tap, hover over or tab to a highlighted passage to see the assertions derived from it.</p>
<div class="source-layout">
  <article class="source-text" aria-label="Source text">{''.join(parts)}</article>
  <aside class="span-panel" id="span-panel" aria-labelledby="span-panel-h" hidden>
    <div class="span-panel-head"><h2 id="span-panel-h">Assertions from this passage</h2>
    <button type="button" class="secondary span-close">Close</button></div>
    <div class="span-panel-body" aria-live="polite"></div>
  </aside>
</div>
<script type="application/json" id="span-data">{span_script}</script>
<section aria-labelledby="uncited-h"><h2 id="uncited-h">Sentences no assertion cites</h2>
<p class="meta">{body_sentences} sentences in the body; the headline lines are not counted.</p>
<ul>{uncited}</ul></section>
<section aria-labelledby="spans-h"><h2 id="spans-h">Every cited span</h2>
<div class="table-wrap" role="region" aria-label="Cited spans" tabindex="0"><table class="spans">
<thead><tr><th scope="col">characters</th><th scope="col">text</th>
<th scope="col">assertions derived from it</th></tr></thead>
<tbody>{''.join(rows)}</tbody></table></div></section>"""
    return page(app, d["title"] or d["slug"], body, current="/sources", head=f"<style>{target_css}</style>",
                json_href=url(app, f"/source/{d['slug']}?_format=json"))


def sources_data(app: App, req: Request) -> Data:
    texts = source_texts(GraphQueries(app))
    out = []
    for row in app.kg.run_result("sources").rows:
        iri = row["source"]["value"]
        out.append({"iri": iri, "label": _v(row, "label"), "publisher": _v(row, "publisher"),
                    "issued": _v(row, "issued"), "sha256": _v(row, "sha256"),
                    "assertions": int(_v(row, "assertions") or 0), "page": entity_path(iri),
                    "view": f"/source/{iri[len(SOURCE_PREFIX):]}" if iri in texts else None})
    return {"sources": out}


def sources_render(app: App, d: Data) -> str:
    items = []
    for s in d["sources"]:
        view = (f'<a class="button" href="{esc(url(app, s["view"]))}">Read with cited spans</a>' if s["view"]
                else '<span class="meta">no stored text (general knowledge used for structure)</span>')
        items.append(f'<li class="card"><h2>{iri_link(app, s["iri"], s["label"])}</h2>'
                     f'<p class="meta">{esc(s["publisher"] or "")} {esc(s["issued"] or "")} · '
                     f'{s["assertions"]} assertions derived from it</p>{view}</li>')
    body = f'<h1>Sources</h1><ul class="cards plain">{"".join(items)}</ul>'
    return page(app, "Sources", body, current="/sources", json_href=url(app, "/sources?_format=json"))


__all__ = ["source_data", "source_render", "sources_data", "sources_render"]
