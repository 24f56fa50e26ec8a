"""`dispute-kg serve`: the graph over HTTP as a WSGI application, on the standard library only.

`make_app(kg, settings)` returns an `App`: a WSGI callable with a small route table, so a later web
UI adds its HTML pages from its own modules (`app.add_route("GET", r"/page/(?P<name>[^/]+)", view)`)
and tests call it in-process. Routes:

- `/sparql`: the SPARQL 1.1 Protocol (query by GET or POST, form-encoded or `application/sparql-query`;
  update by POST, only with `--allow-update` and the bearer token). Results are negotiated from the
  Accept header (or `format=`) among the writers in `results.WRITERS`. Without a query it answers the
  SPARQL 1.1 Service Description.
- `/api/queries`: the stored queries; `/api/queries/NAME?param=value&_format=&_limit=&_timeout=`: one
  stored query, with the CLI's parameter rules (the catalogue binds values as RDF terms). Errors are
  JSON `{"error": ..., "status": ...}`.
- `/openapi.json`: an OpenAPI 3 document generated from the query headers.

Every query has a time limit and a row cap; a capped answer says so (`"truncated": true` in the JSON
API and the `Dispute-KG-Truncated: true` header everywhere). A query with a `SERVICE` clause is refused
unless `allow_service` is set, so the server cannot be made to send requests to arbitrary hosts.
"""

from __future__ import annotations

import hmac
import io
import json
import math
import re
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from ..errors import BackendUnavailable, CapabilityError, DisputeKGError, InputError, QueryTimeout
from ..query.results import WRITERS, write
from ..rdf.sparqltext import is_update, tokens

UPDATE_TOKEN_ENV = "DISPUTE_KG_UPDATE_TOKEN"
MAX_BODY = 10 * 1024 * 1024
RESERVED = ("_format", "_limit", "_timeout")

# media type -> writer name; the first listed for a result kind is its default
MEDIA_TYPES: dict[str, str] = {
    "application/sparql-results+json": "json", "application/json": "json",
    "application/sparql-results+xml": "xml", "application/xml": "xml", "text/xml": "xml",
    "text/csv": "csv", "text/tab-separated-values": "tsv",
    "text/turtle": "ttl", "application/x-turtle": "ttl",
    "application/n-triples": "nt", "text/plain": "nt",
    "application/ld+json": "jsonld",
}
DEFAULT_WRITER = {"select": "json", "ask": "json", "graph": "ttl"}
FORMAT_ALIASES = {"turtle": "ttl", "ntriples": "nt", "n-triples": "nt", "json-ld": "jsonld", "srj": "json",
                  "srx": "xml"}


@dataclass
class Settings:
    """How `serve` behaves; `dispute-kg serve` fills it from its options and the environment."""

    allow_update: bool = False
    allow_service: bool = False
    update_token: str | None = None  # required for updates when allow_update is set
    timeout: float = 10.0  # seconds per query
    max_rows: int = 10000
    base_path: str = ""


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or []


STATUS_TEXT = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
               404: "Not Found", 405: "Method Not Allowed", 406: "Not Acceptable", 413: "Payload Too Large",
               415: "Unsupported Media Type", 500: "Internal Server Error", 502: "Bad Gateway",
               503: "Service Unavailable"}


@dataclass
class Request:
    environ: dict[str, Any]
    method: str
    path: str
    args: dict[str, list[str]]
    params: dict[str, str]  # path parameters from the route

    def arg(self, name: str) -> str | None:
        values = self.args.get(name)
        return values[0] if values else None

    @property
    def accept(self) -> str:
        return self.environ.get("HTTP_ACCEPT", "*/*")

    @property
    def content_type(self) -> str:
        return self.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()

    def body(self) -> bytes:
        try:
            length = int(self.environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            raise HTTPError(400, "Content-Length is not a number") from None
        if length > MAX_BODY:
            raise HTTPError(413, f"request body over {MAX_BODY} bytes")
        return self.environ["wsgi.input"].read(length) if length else b""


@dataclass
class Response:
    status: int
    body: bytes
    content_type: str
    headers: list[tuple[str, str]]


View = Callable[[Request], Response]


def json_response(data: Any, status: int = 200, headers: list[tuple[str, str]] | None = None) -> Response:
    body = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
    return Response(status, body, "application/json; charset=utf-8", headers or [])


def negotiate(accept: str, kind: str) -> str:
    """The writer for `kind` ("select", "ask", "graph") the Accept header prefers; 406 if none fits."""
    offers: list[tuple[float, int, str]] = []
    for i, part in enumerate(accept.split(",")):
        media, *params = [p.strip() for p in part.split(";")]
        q = 1.0
        for p in params:
            if p.startswith("q="):
                try:
                    q = float(p[2:])
                except ValueError:
                    q = 0.0
        if media:
            offers.append((q, -i, media.lower()))
    for q, _, media in sorted(offers, reverse=True):
        if q <= 0:
            continue
        if media in ("*/*", "application/*", "text/*") or media.endswith("/*"):
            return DEFAULT_WRITER[kind]
        name = MEDIA_TYPES.get(media)
        if name and kind in WRITERS[name].kinds:
            return name
    fits = sorted({m for m, n in MEDIA_TYPES.items() if kind in WRITERS[n].kinds})
    raise HTTPError(406, f"cannot answer this query as {accept!r}; acceptable: {', '.join(fits)}")


def has_service(text: str) -> bool:
    """Whether the query has a SERVICE clause; comments, strings and IRIs are skipped."""
    return any(kind == "word" and value.upper() == "SERVICE" for kind, value, _ in tokens(text))


class App:
    """The WSGI application. `add_route` lets other modules add pages; the first matching route wins."""

    def __init__(self, kg: Any, settings: Settings | None = None) -> None:
        self.kg, self.settings = kg, settings or Settings()
        self.routes: list[tuple[set[str], re.Pattern[str], View]] = []

    def add_route(self, methods: str | Iterable[str], pattern: str, view: View) -> None:
        methods = {methods} if isinstance(methods, str) else set(methods)
        self.routes.append((set(methods) | ({"HEAD"} if "GET" in methods else set()),
                            re.compile(pattern + r"\Z"), view))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        response = self.dispatch(environ)
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))),
                   ("X-Content-Type-Options", "nosniff"), *response.headers]
        start_response(f"{response.status} {STATUS_TEXT.get(response.status, 'Unknown')}", headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else response.body]

    def dispatch(self, environ: dict[str, Any]) -> Response:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        base = self.settings.base_path.rstrip("/")
        if base and path.startswith(base):
            path = path[len(base):] or "/"
        args = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        allowed: set[str] = set()
        try:
            for methods, pattern, view in self.routes:
                m = pattern.match(path)
                if not m:
                    continue
                if method not in methods:
                    allowed |= methods
                    continue
                return view(Request(environ, method, path, args, m.groupdict()))
            if allowed:
                raise HTTPError(405, f"{method} is not allowed here", [("Allow", ", ".join(sorted(allowed)))])
            raise HTTPError(404, f"nothing at {path}; see /openapi.json")
        except HTTPError as exc:
            return json_response({"error": exc.message, "status": exc.status}, exc.status, exc.headers)
        except DisputeKGError as exc:
            status = error_status(exc)
            return json_response({"error": str(exc), "status": status}, status)
        except OSError as exc:  # the store, or a SERVICE endpoint, failed underneath
            return json_response({"error": f"the store failed: {exc}", "status": 502}, 502)
        except Exception as exc:  # answer, log, and keep serving
            import traceback

            traceback.print_exc()
            return json_response({"error": f"internal error: {type(exc).__name__}", "status": 500}, 500)


def error_status(exc: DisputeKGError) -> int:
    if isinstance(exc, QueryTimeout):
        return 503
    if isinstance(exc, BackendUnavailable):
        return 502
    if isinstance(exc, CapabilityError | InputError):
        return 400
    return 400 if exc.exit_code == 2 else 500


# -- views ------------------------------------------------------------------------------------------
def _render(result: Any, fmt: str, headers: list[tuple[str, str]] | None = None) -> Response:
    out = io.StringIO()
    write(result, fmt, out)
    media = WRITERS[fmt].media_type
    extra = list(headers or [])
    if result.truncated:
        extra.append(("Dispute-KG-Truncated", "true"))
    return Response(200, out.getvalue().encode("utf-8"), f"{media}; charset=utf-8", extra)


def _format(req: Request, kind: str, explicit: str | None) -> str:
    if explicit:
        name = FORMAT_ALIASES.get(explicit, explicit)
        if name not in WRITERS:
            name = MEDIA_TYPES.get(explicit, "")
        if name not in WRITERS:
            raise HTTPError(400, f"unknown format {explicit!r} (choose from {', '.join(WRITERS)})")
        if kind not in WRITERS[name].kinds:
            fits = ", ".join(n for n, w in WRITERS.items() if kind in w.kinds)
            raise HTTPError(400, f"format {name} does not fit this query; use one of: {fits}")
        return name
    return negotiate(req.accept, kind)


def _positive(req: Request, name: str, cap: float, kind: type) -> Any:
    raw = req.arg(name)
    if raw is None or raw == "":
        return kind(cap)
    try:
        value = kind(raw)
    except ValueError:
        raise HTTPError(400, f"{name} must be a positive number; got {raw!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise HTTPError(400, f"{name} must be a positive number; got {raw!r}")
    return min(value, kind(cap))


def sparql_view(app: App) -> View:
    def view(req: Request) -> Response:
        query = update = None
        if req.method in ("GET", "HEAD"):
            query = req.arg("query")
            if req.arg("update") is not None:
                raise HTTPError(405, "updates must be sent by POST", [("Allow", "POST")])
        else:
            ctype = req.content_type
            if ctype == "application/sparql-query":
                query = req.body().decode("utf-8", "replace")
            elif ctype == "application/sparql-update":
                update = req.body().decode("utf-8", "replace")
            elif ctype in ("application/x-www-form-urlencoded", ""):
                form = urllib.parse.parse_qs(req.body().decode("utf-8", "replace"), keep_blank_values=True)
                query = (form.get("query") or [None])[0]
                update = (form.get("update") or [None])[0]
                req.args = {**req.args, **{k: v for k, v in form.items() if k not in ("query", "update")}}
            else:
                raise HTTPError(415, f"unsupported Content-Type {ctype!r}: use application/sparql-query, "
                                     "application/sparql-update or application/x-www-form-urlencoded")
        dataset = [k for k in ("default-graph-uri", "named-graph-uri", "using-graph-uri", "using-named-graph-uri")
                   if k in req.args]
        if dataset:
            raise HTTPError(400, f"{dataset[0]} is not supported: queries run over the union of all graphs "
                                 "(use GRAPH or FROM in the query)")
        if query is None and update is None:
            return service_description(app, req)
        if update is not None or is_update(query or ""):
            return _update(app, req, update if update is not None else query or "")
        text = query or ""
        if has_service(text) and not app.settings.allow_service:
            raise HTTPError(403, "SERVICE clauses are refused: this server does not send requests to other "
                                 "hosts (start it with --allow-service to allow them)")
        s = app.settings
        limit = _positive(req, "_limit", s.max_rows, int)
        timeout = _positive(req, "_timeout", s.timeout, float)
        result = app.kg.sparql(text, limit=limit, timeout=timeout)
        return _render(result, _format(req, result.kind, req.arg("format") or req.arg("_format")))

    return view


def _update(app: App, req: Request, text: str) -> Response:
    s = app.settings
    if req.method != "POST":
        raise HTTPError(405, "updates must be sent by POST", [("Allow", "POST")])
    if not s.allow_update:
        raise HTTPError(403, "this endpoint is read-only (start serve with --allow-update to accept updates)")
    auth = req.environ.get("HTTP_AUTHORIZATION", "")
    challenge = [("WWW-Authenticate", 'Bearer realm="dispute-kg"')]
    if not auth.startswith("Bearer "):
        raise HTTPError(401, "updates need an Authorization: Bearer token", challenge)
    if not s.update_token or not hmac.compare_digest(auth[7:].strip().encode(), s.update_token.encode()):
        raise HTTPError(403, "the bearer token is not the update token", challenge)
    if has_service(text) and not s.allow_service:
        raise HTTPError(403, "SERVICE clauses are refused (start serve with --allow-service to allow them)")
    app.kg.sparql(text, allow_update=True)
    return Response(204, b"", "text/plain", [])


def service_description(app: App, req: Request) -> Response:
    """The SPARQL 1.1 Service Description of /sparql, as Turtle (or JSON-LD / N-Triples on request)."""
    from ..rdf.terms import Result, iri

    host = req.environ.get("HTTP_HOST") or f"{req.environ.get('SERVER_NAME', 'localhost')}:" \
                                          f"{req.environ.get('SERVER_PORT', '80')}"
    endpoint = f"{req.environ.get('wsgi.url_scheme', 'http')}://{host}{app.settings.base_path}/sparql"
    sd = "http://www.w3.org/ns/sparql-service-description#"
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    node = {"type": "bnode", "value": "service"}
    triples = [(node, iri(rdf_type), iri(sd + "Service")), (node, iri(sd + "endpoint"), iri(endpoint)),
               (node, iri(sd + "supportedLanguage"), iri(sd + "SPARQL11Query")),
               (node, iri(sd + "feature"), iri(sd + "UnionDefaultGraph"))]
    if app.settings.allow_update:
        triples.append((node, iri(sd + "supportedLanguage"), iri(sd + "SPARQL11Update")))
    for name in WRITERS:
        if name != "table":
            fmt = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
                   "tsv": "SPARQL_Results_TSV", "ttl": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD"}[name]
            triples.append((node, iri(sd + "resultFormat"), iri("http://www.w3.org/ns/formats/" + fmt)))
    result = Result("graph", triples=triples)
    return _render(result, _format(req, "graph", req.arg("format") or req.arg("_format")))


def query_to_dict(q: Any) -> dict[str, Any]:
    return {"name": q.name, "summary": q.summary, "description": q.description, "tags": list(q.tags),
            "url": f"/api/queries/{q.name}",
            "parameters": [{"name": p.name, "type": p.type, "required": p.required, "example": p.example,
                            "description": p.description} for p in q.parameters]}


def queries_view(app: App) -> View:
    def view(req: Request) -> Response:
        return json_response({"queries": [query_to_dict(q) for q in app.kg.queries()]})

    return view


def stored_query_view(app: App) -> View:
    def view(req: Request) -> Response:
        name = req.params["name"]
        query = app.kg.catalog.get(name)  # InputError (400) names close matches
        params: dict[str, str] = {}
        for key, values in req.args.items():
            if key.startswith("_"):
                if key not in RESERVED:
                    raise HTTPError(400, f"unknown option {key!r} (options: {', '.join(RESERVED)})")
                continue
            if len(values) > 1:
                raise HTTPError(400, f"parameter {key!r} is given twice")
            params[key] = values[0]
        s = app.settings
        limit = _positive(req, "_limit", s.max_rows, int)
        timeout = _positive(req, "_timeout", s.timeout, float)
        if has_service(query.text) and not s.allow_service:
            raise HTTPError(403, f"stored query {name!r} has a SERVICE clause; start serve with --allow-service")
        result = app.kg.run_result(name, params, limit=limit, timeout=timeout)
        fmt = _format(req, result.kind, req.arg("_format"))
        if fmt == "json" and result.kind == "select":
            doc = result.to_sparql_json()
            if result.truncated:
                doc["truncated"] = True
            headers = [("Dispute-KG-Truncated", "true")] if result.truncated else []
            body = json.dumps(doc, indent=2, ensure_ascii=False).encode("utf-8") + b"\n"
            return Response(200, body, WRITERS["json"].media_type + "; charset=utf-8", headers)
        return _render(result, fmt)

    return view


def openapi_view(app: App) -> View:
    def view(req: Request) -> Response:
        return json_response(openapi(app))

    return view


def openapi(app: App) -> dict[str, Any]:
    """An OpenAPI 3.0 document: /sparql, /api/queries and one path per stored query, from its header."""
    error = {"description": "Bad input: an unknown, missing or mistyped parameter, or a malformed query",
             "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    timeout = {"description": "The query ran past its time limit and was stopped",
               "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    tabular = {m: {"schema": {"type": "string"}} for m in ("text/csv", "text/tab-separated-values",
                                                           "application/sparql-results+xml")}
    results = {"description": "SPARQL 1.1 results (JSON, XML, CSV, TSV) or RDF (Turtle, N-Triples, JSON-LD)",
               "content": {"application/sparql-results+json": {"schema": {"$ref": "#/components/schemas/Results"}},
                           **tabular, "text/turtle": {"schema": {"type": "string"}},
                           "application/n-triples": {"schema": {"type": "string"}},
                           "application/ld+json": {"schema": {"type": "object"}}}}
    options = [
        {"name": "_format", "in": "query", "required": False, "description": "Output format (else Accept header)",
         "schema": {"type": "string", "enum": sorted(WRITERS)}},
        {"name": "_limit", "in": "query", "required": False,
         "description": f"Row cap (at most {app.settings.max_rows}); a capped answer has truncated: true",
         "schema": {"type": "integer", "minimum": 1, "maximum": app.settings.max_rows}},
        {"name": "_timeout", "in": "query", "required": False,
         "description": f"Seconds before the query is stopped (at most {app.settings.timeout:g})",
         "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": app.settings.timeout}},
    ]
    paths: dict[str, Any] = {
        "/sparql": {
            "get": {"summary": "SPARQL 1.1 Protocol query (without `query`: the service description)",
                    "operationId": "sparqlGet",
                    "parameters": [{"name": "query", "in": "query", "required": False,
                                    "schema": {"type": "string"}}, *options[1:]],
                    "responses": {"200": results, "400": error, "403": {"description": "SERVICE refused"},
                                  "503": timeout}},
            "post": {"summary": "SPARQL 1.1 Protocol query or update (update needs a bearer token)",
                     "operationId": "sparqlPost",
                     "requestBody": {"required": True, "content": {
                         "application/sparql-query": {"schema": {"type": "string"}},
                         "application/sparql-update": {"schema": {"type": "string"}},
                         "application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "properties": {"query": {"type": "string"},
                                                              "update": {"type": "string"}}}}}},
                     "responses": {"200": results, "204": {"description": "Update applied"}, "400": error,
                                   "401": {"description": "Update without a bearer token"},
                                   "403": {"description": "Wrong token, updates disabled, or SERVICE refused"},
                                   "503": timeout}},
        },
        "/api/queries": {"get": {"summary": "The stored queries", "operationId": "listQueries",
                                 "responses": {"200": {"description": "Stored queries with their parameters",
                                                       "content": {"application/json": {"schema": {
                                                           "type": "object"}}}}}}},
    }
    types = {"iri": {"type": "string"}, "xsd:date": {"type": "string", "format": "date"},
             "integer": {"type": "integer"}, "string": {"type": "string"}}
    for q in app.kg.queries():
        params = []
        for p in q.parameters:
            desc = p.description or p.name
            if p.type == "iri":
                desc += " (an IRI, a CURIE such as id:state/japan, or a label or alias)"
            entry = {"name": p.name, "in": "query", "required": p.required, "description": desc,
                     "schema": dict(types.get(p.type, {"type": "string"}))}
            if p.example:
                entry["example"] = p.example
            params.append(entry)
        op_id = "query_" + re.sub(r"[^A-Za-z0-9_]", "_", q.name)
        paths[f"/api/queries/{q.name}"] = {"get": {
            "summary": q.summary, "description": q.description or q.summary, "operationId": op_id,
            "tags": list(q.tags) or ["queries"], "parameters": params + options,
            "responses": {"200": results, "400": error, "503": timeout}}}
    return {
        "openapi": "3.0.3",
        "info": {"title": "dispute-kg", "version": _version(),
                 "description": "Stored SPARQL queries and a SPARQL 1.1 endpoint over the dispute-kg graph."},
        "paths": paths,
        "components": {"schemas": {
            "Error": {"type": "object", "required": ["error", "status"],
                      "properties": {"error": {"type": "string"}, "status": {"type": "integer"}}},
            "Results": {"type": "object", "properties": {
                "head": {"type": "object"}, "results": {"type": "object"}, "boolean": {"type": "boolean"},
                "truncated": {"type": "boolean"}}}}},
    }


def _version() -> str:
    from .. import __version__

    return __version__


def index_view(app: App) -> View:
    def view(req: Request) -> Response:
        return json_response({"name": "dispute-kg", "sparql": "/sparql", "queries": "/api/queries",
                              "openapi": "/openapi.json", "read_only": not app.settings.allow_update})

    return view


def make_app(kg: Any, settings: Settings | None = None) -> App:
    """The WSGI application for `kg` (a `KnowledgeGraph`)."""
    from .web import install

    app = App(kg, settings)
    install(app)  # the HTML pages first: the first matching route wins, and the home page owns `/`
    app.add_route("GET", "/", index_view(app))
    app.add_route(("GET", "POST"), "/sparql", sparql_view(app))
    app.add_route("GET", "/api/queries", queries_view(app))
    app.add_route("GET", r"/api/queries/(?P<name>[^/]+)", stored_query_view(app))
    app.add_route("GET", "/openapi.json", openapi_view(app))
    from .reconcile import install as install_reconcile

    install_reconcile(app)
    return app


# -- running it ------------------------------------------------------------------------------------
def make_server(app: App, host: str = "127.0.0.1", port: int = 8000, quiet: bool = True) -> Any:
    """A threading wsgiref server for `app` (port 0 picks a free port: read `server.server_port`)."""
    import socketserver
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    class Server(socketserver.ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    class Handler(WSGIRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            if not quiet:
                super().log_message(format, *args)

    if ":" in host and not host.startswith("["):
        import socket

        Server.address_family = socket.AF_INET6
    server = Server((host.strip("[]"), port), Handler)
    server.set_app(app)
    return server


def call(app: App, path: str, method: str = "GET", body: bytes = b"",
         headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    """Answer one request in-process (for `serve --get` and tests): (status, headers, body)."""
    from wsgiref.util import setup_testing_defaults

    path_part, _, query = path.partition("?")
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": urllib.parse.unquote(path_part),
                               "QUERY_STRING": query, "wsgi.input": io.BytesIO(body),
                               "CONTENT_LENGTH": str(len(body))}
    for key, value in (headers or {}).items():
        name = key.upper().replace("-", "_")
        environ[name if name in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + name] = value
    setup_testing_defaults(environ)
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    return captured["status"], captured["headers"], b"".join(chunks)
