"""The WSGI application shell: settings, requests, responses, a route table, and the checks every request
passes before a view sees it (the Host allow-list, CORS, JSON errors).

Views are plain functions `Request -> Response`; pages and APIs register them with
`app.add_route(methods, pattern, view)` (the first matching route wins). The application knows nothing of
how it is served: `http.listener` runs it on waitress, and `call` answers one request in-process.

A view may also have an `answer_now` attribute, a function `Request -> Response | None` that answers from
memory alone (a kept stored-query answer) and returns None when the request needs a query worker or the
disk. `App.immediate` asks it, so the listener can answer such a request on its event loop instead of
handing it to a request thread (on a busy server the hand-off costs more than the answer).
"""

from __future__ import annotations

import functools
import hmac
import io
import json
import re
import traceback
import urllib.parse
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from ..errors import BackendUnavailable, CapabilityError, DisputeKGError, InputError, QueryTimeout

UPDATE_TOKEN_ENV = "DISPUTE_KG_UPDATE_TOKEN"
PREPARED = "dispute_kg.response"  # environ key: the Response `App.immediate` already made for this request
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@dataclass
class Settings:
    """How `serve` behaves; `dispute-kg serve` fills it from its options and the environment.

    Every limit here has the default `docs/scaling.md` lists."""

    allow_update: bool = False  # POST /api/additions (validated, recorded, written to a data file)
    allow_service: bool = False  # SERVICE clauses; federation is impossible without it
    update_token: str | None = None  # required for additions when allow_update is set
    timeout: float = 10.0  # wall-clock seconds per query; the worker running it is killed after that
    max_rows: int = 10000
    base_path: str = ""
    max_body: int = 1024 * 1024  # bytes of a request body (a query, a form, a Turtle addition)
    allowed_hosts: tuple[str, ...] = LOOPBACK_HOSTS  # Host header names answered; "*" answers any
    cors: bool = False  # Access-Control-Allow-Origin: * on read-only routes
    workers: int = 2  # query worker processes
    worker_memory_mb: int = 2048  # address space a worker may add beyond its footprint after start
    queue_timeout: float = 5.0  # seconds a request waits for a free worker before a 503
    cache_mb: int = 64  # stored-query answers kept per store generation (http.cache); 0 keeps none


class HTTPError(Exception):
    def __init__(self, status: int, message: str, headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or []


@functools.lru_cache(maxsize=64)
def status_line(code: int) -> str:
    """`404 Not Found`: the standard library knows every registered status's phrase (301 included)."""
    from http import HTTPStatus

    try:
        return f"{code} {HTTPStatus(code).phrase}"
    except ValueError:
        return f"{code} Unknown"


@dataclass
class Request:
    environ: dict[str, Any]
    method: str
    path: str
    args: dict[str, list[str]]
    params: dict[str, str]  # path parameters from the route
    max_body: int = 1024 * 1024
    _body: bytes | None = field(default=None, repr=False)

    def arg(self, name: str) -> str | None:
        values = self.args.get(name)
        return values[0] if values else None

    @property
    def accept(self) -> str:
        return self.environ.get("HTTP_ACCEPT", "*/*") or "*/*"

    @property
    def content_type(self) -> str:
        return self.environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower()

    def header(self, name: str) -> str:
        return self.environ.get("HTTP_" + name.upper().replace("-", "_"), "")

    def body(self) -> bytes:
        """The request body; a chunked body arrives de-chunked from the server with its length set."""
        if self._body is not None:
            return self._body
        raw = (self.environ.get("CONTENT_LENGTH") or "").strip()
        if raw and not raw.isdigit():
            raise HTTPError(400, f"Content-Length must be a non-negative integer; got {raw!r}")
        length = int(raw or 0)
        if length > self.max_body:
            raise HTTPError(413, f"request body over {self.max_body} bytes")
        self._body = self.environ["wsgi.input"].read(length) if length else b""
        return self._body


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


def error_response(status: int, message: str, headers: list[tuple[str, str]] | None = None) -> Response:
    return json_response({"error": message, "status": status}, status, headers)


def error_status(exc: DisputeKGError) -> int:
    if isinstance(exc, QueryTimeout):
        return 503
    if isinstance(exc, BackendUnavailable):
        return 502
    if isinstance(exc, CapabilityError | InputError):
        return 400
    return 400 if exc.exit_code == 2 else 500


def host_name(host: str) -> str:
    """The name part of a Host header value (`[::1]:8000` -> `::1`, `Example.org.:80` -> `example.org`)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1:host.find("]")] if "]" in host else host
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return name.rstrip(".")


@functools.lru_cache(maxsize=16)
def _lowered(names: tuple[str, ...]) -> frozenset[str]:
    return frozenset(n.lower() for n in names)


class App:
    """The WSGI application. `add_route` lets other modules add pages; the first matching route wins."""

    def __init__(self, kg: Any, settings: Settings | None = None) -> None:
        self.kg, self.settings = kg, settings or Settings()
        self.routes: list[tuple[set[str], re.Pattern[str], View]] = []
        # what answers a GET that no route matches (the web pages' HTML "not found"); None: a JSON 404
        self.fallback: View | None = None

    def add_route(self, methods: str | Iterable[str], pattern: str, view: View) -> None:
        methods = {methods} if isinstance(methods, str) else set(methods)
        self.routes.append((set(methods) | ({"HEAD"} if "GET" in methods else set()),
                            re.compile(pattern + r"\Z"), view))

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        response = environ.get(PREPARED) or self.dispatch(environ)
        headers = [("Content-Type", response.content_type), ("Content-Length", str(len(response.body))),
                   ("X-Content-Type-Options", "nosniff"), *response.headers]
        start_response(status_line(response.status), headers)
        return [b"" if environ.get("REQUEST_METHOD") == "HEAD" else response.body]

    def host_allowed(self, environ: dict[str, Any]) -> bool:
        allowed = self.settings.allowed_hosts
        if "*" in allowed:
            return True
        host = environ.get("HTTP_HOST")
        if host is None:  # HTTP/1.0 without Host: the connection reached us, no name to rebind
            return True
        return host_name(host) in _lowered(allowed)

    def immediate(self, environ: dict[str, Any]) -> Response | None:
        """The response if it can be made from memory now (an error the shell answers, a view's
        `answer_now`), else None: the request goes to a request thread and `dispatch`."""
        response = self._dispatch(environ, now=True)
        return None if response is None else self._finish(response)

    def dispatch(self, environ: dict[str, Any]) -> Response:
        response = self._dispatch(environ)
        assert response is not None  # only `now` defers
        return self._finish(response)

    def _finish(self, response: Response) -> Response:
        if self.settings.cors:
            response.headers.append(("Access-Control-Allow-Origin", "*"))
            response.headers.append(("Access-Control-Expose-Headers", "ETag, Cache-Status, Dispute-KG-Truncated"))
        return response

    def _dispatch(self, environ: dict[str, Any], now: bool = False) -> Response | None:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "/") or "/"
        base = self.settings.base_path.rstrip("/")
        if base and path.startswith(base):
            path = path[len(base):] or "/"
        try:
            if not self.host_allowed(environ):
                # a page on another name (DNS rebinding) must not read this server through the browser
                raise HTTPError(421, f"this server does not answer for Host {environ.get('HTTP_HOST')!r}; "
                                     "start it with --allowed-host NAME to add a name")
            if method == "OPTIONS" and self.settings.cors:
                return Response(204, b"", "text/plain", [
                    ("Access-Control-Allow-Methods", "GET, POST, OPTIONS"),
                    ("Access-Control-Allow-Headers", "Accept, Content-Type, Cache-Control, If-None-Match"),
                    ("Access-Control-Max-Age", "600")])
            args = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
            allowed: set[str] = set()
            for methods, pattern, view in self.routes:
                m = pattern.match(path)
                if not m:
                    continue
                if method not in methods:
                    allowed |= methods
                    continue
                if now:
                    answer_now = getattr(view, "answer_now", None)
                    if answer_now is None:
                        return None
                    return answer_now(Request(environ, method, path, args, m.groupdict(), self.settings.max_body))
                return view(Request(environ, method, path, args, m.groupdict(), self.settings.max_body))
            if allowed:
                raise HTTPError(405, f"{method} is not allowed here", [("Allow", ", ".join(sorted(allowed)))])
            if self.fallback is not None and method in ("GET", "HEAD"):
                if now:
                    return None
                return self.fallback(Request(environ, method, path, args, {"rest": path.lstrip("/")},
                                             self.settings.max_body))
            raise HTTPError(404, f"nothing at {path}; see /openapi.json")
        except HTTPError as exc:
            return error_response(exc.status, exc.message, exc.headers)
        except DisputeKGError as exc:
            return error_response(error_status(exc), str(exc))
        except OSError as exc:  # the store failed underneath
            return error_response(502, f"the store failed: {exc}")
        except Exception as exc:  # answer, log, and keep serving
            traceback.print_exc()
            return error_response(500, f"internal error: {type(exc).__name__}")


def bearer_token(req: Request) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header (the scheme is case-insensitive, RFC 7235)."""
    scheme, _, token = req.header("Authorization").strip().partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def check_token(app: App, req: Request) -> None:
    """The one guard of every route that changes the project: `--allow-update`, then the update token."""
    if not app.settings.allow_update:
        raise HTTPError(403, "this server is read-only: start serve with --allow-update (and the token in "
                             f"{UPDATE_TOKEN_ENV}) to accept changes")
    challenge = [("WWW-Authenticate", 'Bearer realm="dispute-kg"')]
    token = bearer_token(req)
    if token is None:
        raise HTTPError(401, "changes need an Authorization: Bearer token (the update token)", challenge)
    expected = app.settings.update_token or ""
    if not expected or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPError(403, "the bearer token is not the update token", challenge)


def query_to_dict(q: Any) -> dict[str, Any]:
    """A stored query as the JSON API lists it."""
    return {"name": q.name, "summary": q.summary, "description": q.description, "tags": list(q.tags),
            "url": f"/api/queries/{q.name}",
            "parameters": [{"name": p.name, "type": p.type, "required": p.required, "example": p.example,
                            "description": p.description} for p in q.parameters],
            "columns": [{"name": c.name, "label": c.label, "description": c.description} for c in q.columns]}


MAX_OFFSET = 10**9


def offset_arg(req: Request) -> int | None:
    """`_offset`, the rows of an answer to skip before a page (API and web pages alike): a whole number
    from 0, or None when not given; 400 for anything else."""
    raw = (req.arg("_offset") or "").strip()
    if not raw:
        return None
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_OFFSET:
        raise HTTPError(400, f"_offset must be a whole number from 0 to {MAX_OFFSET}; got {raw!r}")
    return int(raw)


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
    environ.setdefault("HTTP_HOST", "localhost")
    captured: dict[str, Any] = {}

    def start_response(status: str, response_headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        captured["status"] = int(status.split()[0])
        captured["headers"] = dict(response_headers)

    chunks = app(environ, start_response)
    return captured["status"], captured["headers"], b"".join(chunks)
