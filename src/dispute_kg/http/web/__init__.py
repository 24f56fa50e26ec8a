"""The web interface: server-rendered HTML pages over the same library calls as the JSON API.

`install(app)` adds the pages to a `server.App`:

- `/` home: what the graph holds and the stored queries as forms; `/query/NAME`: one stored query's results
- `/entity/<path>`: one entity (the path after `https://w3id.org/dispute-kg/id/`)
- `/sources`, `/source/<slug>`: the sources, and one source's text with its cited spans highlighted
- `/timeline`, `/map`: dated events to scale, and places from the Wikidata snapshot, as inline SVG
- `/search?q=`: labels, aliases, dates and cited quotes, ranked and grouped by kind (`query.search`)
- `/browse`, `/browse/<Class>`: classes with counts; one class's members, sortable, faceted, as JSON/CSV
- `/ontology`, `/ontology/<term>`: every class and property with its neighbours, shapes and queries
- `/sparql-editor`: YASGUI's editor (vendored) over a form whose queries go to `/sparql`, shareable by GET
- `/static/<file>`: the stylesheet, scripts and icon, served from this package (no CDN)

Every page also answers `?_format=json` with the data it renders. One module per page kind; the page
shell and shared fragments are in `layout`. Pages work without JavaScript; `static/app.js` only
enhances them.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from ..app import App, HTTPError, Request, Response, View

STATIC_DIR = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
                ".svg": "image/svg+xml"}


def static_view(app: App) -> View:
    files = {p.name: p for p in STATIC_DIR.iterdir() if p.suffix in STATIC_TYPES} if STATIC_DIR.is_dir() else {}

    def view(req: Request) -> Response:
        path = files.get(req.params["name"])
        if path is None:
            raise HTTPError(404, f"no static file {req.params['name']!r}")
        body = path.read_bytes()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        return Response(200, body, STATIC_TYPES[path.suffix], [("Cache-Control", "no-cache"), ("ETag", etag)])

    return view


def routes(app: App) -> list[tuple[Any, str, View]]:
    from .browse import class_view, classes_data, classes_render
    from .entity import entity_data, entity_render
    from .home import home_data, home_render, prefers_json, query_data, query_render
    from .layout import page_view
    from .map import map_data, map_render
    from .ontology import ontology_index_data, ontology_index_render, term_data, term_render
    from .review import routes as review_routes
    from .search import search_data, search_render
    from .source import source_data, source_render, sources_data, sources_render
    from .sparql_editor import editor_data, editor_render
    from .timeline import timeline_data, timeline_render

    return [
        ("GET", "/", page_view(app, home_data, home_render, json_default=prefers_json)),
        ("GET", r"/query/(?P<name>[^/]+)", page_view(app, query_data, query_render)),
        ("GET", r"/entity/?(?P<path>.*)", page_view(app, entity_data, entity_render)),
        ("GET", "/search", page_view(app, search_data, search_render)),
        ("GET", "/browse", page_view(app, classes_data, classes_render)),
        ("GET", r"/browse/(?P<name>[^/]+)", class_view(app)),
        ("GET", "/ontology", page_view(app, ontology_index_data, ontology_index_render)),
        ("GET", r"/ontology/(?P<name>[^/]+)", page_view(app, term_data, term_render)),
        ("GET", "/sources", page_view(app, sources_data, sources_render)),
        ("GET", r"/source/(?P<slug>[A-Za-z0-9._-]+)", page_view(app, source_data, source_render)),
        ("GET", "/timeline", page_view(app, timeline_data, timeline_render)),
        ("GET", "/map", page_view(app, map_data, map_render)),
        (("GET", "POST"), "/sparql-editor", page_view(app, editor_data, editor_render)),
        ("GET", r"/static/(?P<name>[A-Za-z0-9._-]+)", static_view(app)),
        *review_routes(app),
    ]


# paths whose "not found" stays the API's JSON answer, whatever the client accepts
API_PATHS = re.compile(r"/(?:sparql|api|openapi\.json|reconcile)(?:/|$)")


def not_found(app: App, req: Request) -> dict[str, Any]:
    raise HTTPError(404, f"no page at /{req.params['rest']}")


def not_found_render(app: App, data: dict[str, Any]) -> str:  # never called: not_found always raises
    raise AssertionError


def install(app: App) -> App:
    """Add the HTML pages to `app` and return it.

    `make_app` installs them before its own routes, so the HTML home page answers `/` (the first
    matching route wins). The JSON index stays reachable as the home page's JSON form (`/?_format=json`,
    or a request to `/` whose Accept header asks for JSON and not HTML); `/sparql`, `/api/...` and
    `/openapi.json` are not pages. Installing twice is a no-op.
    """
    if getattr(app, "web_installed", False):
        return app
    for methods, pattern, view in routes(app):
        app.add_route(methods, pattern, view)
    from .layout import page_view

    html_not_found = page_view(app, not_found, not_found_render)

    def fallback(req: Request) -> Response:
        # a GET no route matched: an HTML page for a person, the API's own JSON 404 on its paths
        if API_PATHS.match(req.path):
            raise HTTPError(404, f"nothing at {req.path}; see /openapi.json")
        return html_not_found(req)

    app.fallback = fallback
    app.web_installed = True  # type: ignore[attr-defined]
    return app


def page_patterns(app: App) -> list[str]:
    """The URL patterns `install` adds (for docs and tests)."""
    return [re.sub(r"\(\?P<(\w+)>[^)]*\)", r"<\1>", pattern) for _, pattern, _ in routes(app)]


__all__ = ["install"]
