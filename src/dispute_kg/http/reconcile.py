"""The Reconciliation Service API routes on `serve`: `/reconcile` (manifest, or a query batch by GET or
POST `queries=`), `/reconcile/preview?id=`, `/reconcile/suggest/{entity,type,property}?prefix=&cursor=`.

Every answer allows cross-origin access, as the specification requires, and an OPTIONS preflight is
answered; the logic is in `links.service`, read once from the store on first use.
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from typing import Any

from .app import App, HTTPError, Request, Response, json_response

CORS = [("Access-Control-Allow-Origin", "*"), ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
        ("Access-Control-Allow-Headers", "Content-Type")]


def install(app: App) -> None:
    """Register the routes on `app` (through `app.add_route(methods, pattern, view)` only)."""
    state: dict[str, Any] = {}
    lock = threading.Lock()

    def service() -> Any:
        with lock:
            if "service" not in state:
                from ..links.service import ReconciliationService

                state["service"] = ReconciliationService(app.kg)
            return state["service"]

    def base(req: Request) -> str:
        env = req.environ
        host = env.get("HTTP_HOST") or f"{env.get('SERVER_NAME', '127.0.0.1')}:{env.get('SERVER_PORT', '80')}"
        return f"{env.get('wsgi.url_scheme', 'http')}://{host}{app.settings.base_path.rstrip('/')}/reconcile"

    def answer(data: Any, status: int = 200) -> Response:
        return json_response(data, status, list(CORS))

    def preflight(req: Request) -> Response:
        return Response(204, b"", "text/plain", [*CORS, ("Access-Control-Max-Age", "86400")])

    def endpoint(req: Request) -> Response:
        if req.method == "OPTIONS":
            return preflight(req)
        raw = req.arg("queries")
        if req.method == "POST":
            if req.content_type not in ("application/x-www-form-urlencoded", ""):
                raise HTTPError(415, "send the batch as a form field `queries` (application/x-www-form-urlencoded)")
            form = urllib.parse.parse_qs(req.body().decode("utf-8", "replace"), keep_blank_values=True)
            raw = (form.get("queries") or [raw])[0]
        if raw is None:
            return answer(service().manifest(base(req)))
        try:
            batch = json.loads(raw)
        except ValueError as exc:
            raise HTTPError(400, f"`queries` is not JSON: {exc}") from None
        return answer(service().reconcile_batch(batch))

    def preview(req: Request) -> Response:
        if req.method == "OPTIONS":
            return preflight(req)
        ident = req.arg("id")
        if not ident:
            raise HTTPError(400, "give the entity as ?id=")
        try:
            page = service().preview(ident, base(req).rsplit("/reconcile", 1)[0])
        except KeyError:
            raise HTTPError(404, f"no entity {ident!r}") from None
        return Response(200, page.encode("utf-8"), "text/html; charset=utf-8", list(CORS))

    def suggest(req: Request) -> Response:
        if req.method == "OPTIONS":
            return preflight(req)
        prefix = req.arg("prefix")
        if prefix is None:
            raise HTTPError(400, "give the text typed so far as ?prefix=")
        raw_cursor = req.arg("cursor") or "0"
        try:
            cursor = int(raw_cursor)
        except ValueError:
            raise HTTPError(400, f"cursor must be a non-negative integer; got {raw_cursor!r}") from None
        if cursor < 0:
            raise HTTPError(400, f"cursor must be a non-negative integer; got {raw_cursor!r}")
        return answer(service().suggest(req.params["kind"], prefix, cursor))

    app.add_route(("GET", "POST", "OPTIONS"), "/reconcile", endpoint)
    app.add_route(("GET", "OPTIONS"), "/reconcile/preview", preview)
    app.add_route(("GET", "OPTIONS"), r"/reconcile/suggest/(?P<kind>entity|type|property)", suggest)
