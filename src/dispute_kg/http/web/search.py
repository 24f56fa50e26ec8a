"""The search page (`/search?q=...`): labels, aliases in every language, dates, stances and cited quotes,
ranked by `query.search` and grouped by kind. The box in every page's header submits here."""

from __future__ import annotations

import re
import urllib.parse

from ...query.search import grouped, search
from ..app import App, Request
from .layout import Data, entity_path, esc, iri_link, page, term_path, url

MAX_QUERY = 200
FIELD_NAMES = {"label": "label", "alias": "also called", "date": "date", "text": "stance or quote",
               "quote": "cited text"}


def search_data(app: App, req: Request) -> Data:
    q = (req.arg("q") or "").strip()[:MAX_QUERY]
    hits = search(app.kg, q) if q else []
    for h in hits:
        h.page = entity_path(h.entity)  # type: ignore[attr-defined]
    groups = grouped(hits)
    for g in groups:
        g["page"] = term_path(g["kind"]) if g["kind"] else None
        for h in g["hits"]:
            h["page"] = entity_path(h["entity"])
    return {"q": q, "count": len(hits), "groups": groups,
            "first": {"entity": hits[0].entity, "label": hits[0].label} if hits else None}


def _snippet(text: str) -> str:
    """FTS5 marks matches with [ ]; show them as <mark> after escaping everything else."""
    return re.sub(r"\[([^\[\]]*)\]", r"<mark>\1</mark>", esc(text))


def search_render(app: App, d: Data) -> str:
    if not d["q"]:
        results = '<p class="meta">Type a name, an alias in any language, a year or words from a quote.</p>'
    elif not d["groups"]:
        results = (f'<p class="count empty">Nothing matches “{esc(d["q"])}”. Search looks at labels, aliases, '
                   'dates, stances and the cited text; every word must match the start of a word.</p>')
    else:
        parts = [f'<p class="count">{d["count"]} result{"s" if d["count"] != 1 else ""} for “{esc(d["q"])}”</p>']
        for g in d["groups"]:
            kind = iri_link(app, g["kind"], g["label"]) if g["kind"] else esc(g["label"])
            items = "".join(
                f'<li class="hit"><a class="hit-title" href="{esc(url(app, h["page"] or "/"))}">{esc(h["label"])}</a>'
                f'<span class="meta"> — {esc(FIELD_NAMES.get(h["field"], h["field"]))}:</span> '
                f'<span class="snippet">{_snippet(h["snippet"])}</span></li>' for h in g["hits"])
            parts.append(f'<section class="hit-group" aria-label="{esc(g["label"])}"><h2>{kind} '
                         f'<span class="badge">{len(g["hits"])}</span></h2><ol class="hits">{items}</ol></section>')
        results = "".join(parts)
    body = f"""<h1>Search</h1>
<form class="search-form" role="search" aria-label="Search page" method="get" action="{esc(url(app, '/search'))}">
  <label for="q">Search the graph</label>
  <div class="inline-field"><input id="q" name="q" type="search" value="{esc(d['q'])}" enterkeyhint="search">
  <button type="submit">Search</button></div>
</form>
{results}"""

    return page(app, f"Search: {d['q']}" if d["q"] else "Search", body, search=d["q"],
                json_href=url(app, "/search?" + urllib.parse.urlencode({"q": d["q"], "_format": "json"})))
