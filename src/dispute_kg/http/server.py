"""`dispute-kg serve`: the graph over HTTP. The routes of the API; the shell is `app`, execution `workers`.

Routes:

- `/sparql`: the SPARQL 1.1 Protocol (query by GET or POST, form-encoded or `application/sparql-query`;
  `default-graph-uri` / `named-graph-uri`, or FROM / FROM NAMED, choose the dataset, else the default graph
  is the union of the asserted and inferred graphs). Results are negotiated from the Accept header, or named
  by `format=`. Without a query it answers the SPARQL 1.1 Service Description. The update operation is not
  applied: a change goes through validation and history, so it is answered with a pointer to
  `/api/additions`.
- `/api/additions` (POST, Turtle, bearer token, only with `--allow-update`): `KnowledgeGraph.add`, the path
  `dispute-kg add` takes: validated, recorded in `data/history/`, written to a data file; the JSON answer is
  the validation report.
- `/api/links/accept`, `/api/links/reject` (POST, JSON, bearer token, only with `--allow-update`): a curator's
  decision on an entity's Wikidata link, through `links.decide` as `dispute-kg link accept|reject` (`http.links`).
- `/api/queries`: the stored queries; `/api/queries/NAME?param=value&_format=&_limit=&_timeout=`: one
  stored query, with the CLI's parameter rules (the catalogue binds values as RDF terms).
- `/openapi.json`: an OpenAPI 3 document generated from the query headers.

Every query has a time limit and a row cap; a capped answer says so (`"truncated": true` in the JSON
API and the `Dispute-KG-Truncated: true` header everywhere). Every error on these routes is JSON
`{"error": ..., "status": ...}`.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
import tempfile
import urllib.parse
from pathlib import Path
from typing import Any

from ..query.binding import StoredQuery
from ..query.results import WRITERS
from ..rdf.sparql_parse import volatile
from .app import (
    MAX_OFFSET,
    UPDATE_TOKEN_ENV,
    App,
    HTTPError,
    Request,
    Response,
    Settings,
    View,
    call,
    check_token,
    error_status,
    json_response,
    offset_arg,
    query_to_dict,
)
from .cache import NAME as CACHE_NAME
from .cache import AnswerCache, Entry, etag_matches, wants_fresh
from .policy import has_service
from .protocol import FORMAT_NAMES, choose_writer, negotiate, render

__all__ = ["UPDATE_TOKEN_ENV", "App", "HTTPError", "Request", "Response", "Settings", "View", "call",
           "error_status", "has_service", "json_response", "make_app", "negotiate"]

RESERVED = ("_format", "_limit", "_offset", "_timeout")
UPDATE_REFUSED = ("SPARQL Update is not applied over HTTP: every change is validated and recorded in the "
                  "project's history. Send the new triples as Turtle to POST /api/additions (serve "
                  "--allow-update, with the bearer token) or run `dispute-kg add FILE`")


def _answer(reply: tuple[Any, ...]) -> Response:
    if reply[0] == "error":
        raise HTTPError(reply[1], reply[2], list(reply[3]) if len(reply) > 3 else [])
    _, status, ctype, body, headers = reply
    return Response(status, body, ctype, list(headers))


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


def _utf8(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HTTPError(400, f"the request body is not UTF-8 (byte {exc.start})") from None


def sparql_view(app: App) -> View:
    def view(req: Request) -> Response:
        query = update = None
        args = {k: list(v) for k, v in req.args.items()}
        if req.method in ("GET", "HEAD"):
            query = req.arg("query")
            if req.arg("update") is not None:
                raise HTTPError(405, "updates must be sent by POST", [("Allow", "POST")])
        else:
            ctype = req.content_type
            if ctype == "application/sparql-query":
                query = _utf8(req.body())
            elif ctype == "application/sparql-update":
                update = _utf8(req.body())
            elif ctype in ("application/x-www-form-urlencoded", ""):
                form = urllib.parse.parse_qs(_utf8(req.body()), keep_blank_values=True)
                query = (form.get("query") or [None])[0]
                update = (form.get("update") or [None])[0]
                for key, values in form.items():
                    if key not in ("query", "update"):
                        args.setdefault(key, []).extend(values)
            else:
                raise HTTPError(415, f"unsupported Content-Type {ctype!r}: use application/sparql-query, "
                                     "application/sparql-update or application/x-www-form-urlencoded")
        if update is not None:
            raise HTTPError(403, UPDATE_REFUSED)
        if query is None:
            return service_description(app, req)
        req.args = args
        default_graphs = args.get("default-graph-uri")
        named_graphs = args.get("named-graph-uri")
        s = app.settings
        limit = _positive(req, "_limit", s.max_rows, int)
        timeout = _positive(req, "_timeout", s.timeout, float)
        fmt = req.arg("format") or req.arg("_format") or req.arg("output")
        return _answer(app.kg.executor.call(("sparql", query, default_graphs, named_graphs, limit, fmt,
                                             req.accept), timeout))

    return view


def additions_view(app: App) -> View:
    """POST Turtle: `KnowledgeGraph.add` (validate, then commit to a data file with a history record)."""

    def view(req: Request) -> Response:
        check_token(app, req)
        if req.content_type not in ("text/turtle", "application/x-turtle"):
            raise HTTPError(415, "send the new triples as text/turtle")
        body = req.body()
        if not body.strip():
            raise HTTPError(400, "the request body is empty: send the new triples as Turtle")
        agent = req.arg("agent") or req.header("X-Dispute-KG-Agent") or "http"
        note = req.arg("note")
        with tempfile.TemporaryDirectory(prefix="dispute-kg-addition-") as tmp:
            path = Path(tmp) / "request-body.ttl"
            path.write_bytes(body)
            with app.additions_lock:  # type: ignore[attr-defined]
                report, addition = app.kg.add([path], agent=agent, note=note, strict=req.arg("strict") == "true")
        data = json.loads(report.to_json())
        if addition is None:
            return json_response(data, 422)
        data["addition"] = addition.to_dict()
        return json_response(data, 201)

    return view


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
    names = {"json": "SPARQL_Results_JSON", "xml": "SPARQL_Results_XML", "csv": "SPARQL_Results_CSV",
             "tsv": "SPARQL_Results_TSV", "ttl": "Turtle", "nt": "N-Triples", "jsonld": "JSON-LD",
             "rdfxml": "RDF_XML"}
    for name in WRITERS:
        if name in names:
            triples.append((node, iri(sd + "resultFormat"), iri("http://www.w3.org/ns/formats/" + names[name])))
    result = Result("graph", triples=triples)
    fmt = choose_writer("graph", req.arg("format") or req.arg("_format"), req.accept)
    status, ctype, body, headers = render(result, fmt)
    return Response(status, body, ctype, headers)


def queries_view(app: App) -> View:
    def view(req: Request) -> Response:
        return json_response({"queries": [query_to_dict(q) for q in app.kg.queries()]})

    return view


def _generation(app: App) -> str | None:
    """The published store generation answers may be kept for, or None (no cache, or a store that can change
    under the server: see `http.cache`)."""
    if not app.answers.enabled or app.kg.kg.held is None:  # type: ignore[attr-defined]
        return None
    from ..stores.generations import read_pointer

    return read_pointer(app.kg.state_dir)  # type: ignore[attr-defined]


def _with_validators(req: Request, entry: Entry, status: str) -> Response:
    headers = [*entry.headers, ("ETag", entry.etag), ("Cache-Control", "no-cache"),
               ("Cache-Status", f"{CACHE_NAME}; {status}")]
    if etag_matches(req.header("If-None-Match"), entry.etag):
        return Response(304, b"", entry.content_type, headers)
    return Response(entry.status, entry.body, entry.content_type, headers)


def _stored_request(app: App, req: Request) -> tuple[Any, dict[str, str], int, int | None, float, tuple[Any, ...]]:
    """A stored-query request read: (the query, its parameters, row cap, offset, time limit, the key of its
    answer)."""
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
    offset = offset_arg(req)
    timeout = _positive(req, "_timeout", s.timeout, float)
    key = (name, _text_digest(query.text), tuple(sorted(params.items())), limit, offset, req.arg("_format"),
           req.accept)
    return query, params, limit, offset, timeout, key


@functools.lru_cache(maxsize=512)
def _text_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode(), digest_size=16).digest()


def stored_query_view(app: App) -> View:
    def kept(req: Request, key: tuple[Any, ...]) -> Response | None:
        """The answer kept for this generation, if any. Only answers of queries judged not volatile are ever
        put (the key holds the text's digest), so a hit needs no second judgement."""
        if wants_fresh(req.header):
            return None
        generation = _generation(app)
        entry = app.answers.get(generation, key) if generation is not None else None  # type: ignore[attr-defined]
        return _with_validators(req, entry, "hit") if entry is not None else None

    def answer_now(req: Request) -> Response | None:
        if wants_fresh(req.header):  # decided before reading the rest: a run is coming anyway
            return None
        return kept(req, _stored_request(app, req)[5])

    def view(req: Request) -> Response:
        query, params, limit, offset, timeout, key = _stored_request(app, req)
        response = kept(req, key)
        if response is not None:
            return response
        generation = _generation(app)
        if generation is not None and volatile(query.text):
            generation = None
        fresh = wants_fresh(req.header)
        response = _answer(app.kg.executor.call(("stored", key[0], params, limit, offset, req.arg("_format"),
                                                 req.accept), timeout))
        # kept only if no new generation was published while it ran (the worker may have read the newer one)
        if generation is not None and response.status == 200 and _generation(app) == generation:
            entry = app.answers.put(generation, key, response.status, response.content_type,  # type: ignore[attr-defined]
                                    response.body, response.headers)
            return _with_validators(req, entry, "fwd=" + ("bypass" if fresh else "miss") + "; stored")
        return response

    view.answer_now = answer_now  # type: ignore[attr-defined]
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
         "schema": {"type": "string", "enum": sorted(FORMAT_NAMES)}},
        {"name": "_limit", "in": "query", "required": False,
         "description": f"Row cap (at most {app.settings.max_rows}); a capped answer has truncated: true",
         "schema": {"type": "integer", "minimum": 1, "maximum": app.settings.max_rows}},
        {"name": "_offset", "in": "query", "required": False,
         "description": "Rows to skip before the page (with _limit: one page of the answer, in the query's order)",
         "schema": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET}},
        {"name": "_timeout", "in": "query", "required": False,
         "description": f"Seconds before the query is stopped (at most {app.settings.timeout:g})",
         "schema": {"type": "number", "exclusiveMinimum": True, "minimum": 0, "maximum": app.settings.timeout}},
    ]
    paths: dict[str, Any] = {
        "/sparql": {
            "get": {"summary": "SPARQL 1.1 Protocol query (without `query`: the service description)",
                    "operationId": "sparqlGet",
                    "parameters": [{"name": "query", "in": "query", "required": False,
                                    "schema": {"type": "string"}},
                                   *(o for o in options if o["name"] in ("_limit", "_timeout"))],
                    "responses": {"200": results, "400": error, "403": {"description": "SERVICE refused"},
                                  "503": timeout}},
            "post": {"summary": "SPARQL 1.1 Protocol query (the update operation is refused: see /api/additions)",
                     "operationId": "sparqlPost",
                     "requestBody": {"required": True, "content": {
                         "application/sparql-query": {"schema": {"type": "string"}},
                         "application/sparql-update": {"schema": {"type": "string"}},
                         "application/x-www-form-urlencoded": {"schema": {
                             "type": "object", "properties": {"query": {"type": "string"},
                                                              "update": {"type": "string"}}}}}},
                     "responses": {"200": results, "400": error,
                                   "403": {"description": "SERVICE refused, or an update (see /api/additions)"},
                                   "503": timeout}},
        },
        "/api/additions": {"post": {
            "summary": "Add assertions (Turtle): validated, then written to a data file with a history record",
            "operationId": "addAssertions",
            "requestBody": {"required": True, "content": {"text/turtle": {"schema": {"type": "string"}}}},
            "responses": {"201": {"description": "Added: the validation report and the addition",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "401": {"description": "No bearer token"},
                          "403": {"description": "Wrong token, or the server is read-only"},
                          "422": {"description": "Refused: the validation report; nothing changed",
                                  "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        **{f"/api/links/{action}": {"post": {
            "summary": f"{action.capitalize()} a Wikidata item for an entity, as `dispute-kg link {action}` does",
            "operationId": f"link{action.capitalize()}",
            "requestBody": {"required": True, "content": {"application/json": {"schema": {
                "type": "object", "required": ["entity", "qid"], "additionalProperties": False,
                "properties": {"entity": {"type": "string", "example": "state/japan"},
                               "qid": {"type": "string", "example": "Q17"}, "note": {"type": "string"},
                               "author": {"type": "string", "description": "an ORCID, mailto: or https: IRI"},
                               "author_label": {"type": "string"}}}}}},
            "responses": {"200": {"description": "Recorded (or already so): the entity's link records now",
                                  "content": {"application/json": {"schema": {"type": "object"}}}},
                          "400": error, "401": {"description": "No bearer token"},
                          "403": {"description": "Wrong token, or the server is read-only"},
                          "422": {"description": "The item fails the checks of `link --check`; nothing changed",
                                  "content": {"application/json": {"schema": {
                                      "$ref": "#/components/schemas/Error"}}}}}}}
           for action in ("accept", "reject")},
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
            "summary": q.summary, "description": _description(q), "operationId": op_id,
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


def _description(q: StoredQuery) -> str:
    """The query's description, then its documented result columns (by variable, as the results name them)."""
    text = q.description or q.summary
    if q.columns:
        text += "\n\nResult columns (named by variable in every format):\n\n" + "\n".join(
            f"- `{c.name}`: {c.label}" + (f". {c.description}" if c.description else "") for c in q.columns)
    return text


def _version() -> str:
    from .. import __version__

    return __version__


def index_view(app: App) -> View:
    def view(req: Request) -> Response:
        return json_response({"name": "dispute-kg", "sparql": "/sparql", "queries": "/api/queries",
                              "openapi": "/openapi.json", "read_only": not app.settings.allow_update})

    return view


def make_app(kg: Any, settings: Settings | None = None, executor: Any = None) -> App:
    """The WSGI application for `kg` (a `KnowledgeGraph`). Queries run on `executor` (a `workers.Pooled`
    pool in `serve`); without one they run in this process (`serve --get`, in-process tests)."""
    import threading

    from .web import install
    from .workers import InProcess, ServedGraph

    settings = settings or Settings()
    app = App(ServedGraph(kg, executor or InProcess(kg, settings), settings), settings)
    app.additions_lock = threading.Lock()  # type: ignore[attr-defined]
    app.answers = AnswerCache(settings.cache_mb * 1024 * 1024)  # type: ignore[attr-defined]
    install(app)  # the HTML pages first: the first matching route wins, and the home page owns `/`
    app.add_route("GET", "/", index_view(app))
    app.add_route(("GET", "POST"), "/sparql", sparql_view(app))
    app.add_route("POST", "/api/additions", additions_view(app))
    app.add_route("GET", "/api/queries", queries_view(app))
    app.add_route("GET", r"/api/queries/(?P<name>[^/]+)", stored_query_view(app))
    app.add_route("GET", "/openapi.json", openapi_view(app))
    from .links import install as install_links
    from .reconcile import install as install_reconcile

    install_links(app)
    install_reconcile(app)
    return app
