"""The one HTTP client for SPARQL endpoints: the `sparql:` backend and the Wikidata linker both use it.

SPARQLWrapper forms each SPARQL protocol request (query or update, GET or form-encoded POST, the
`query=`/`update=` parameters); this module sends it. SPARQLWrapper's own transport is not used
because it cannot give what a polite, scriptable client needs:

- a wall-clock limit per attempt: `urlopen(timeout=)` bounds each socket read, so a server that sends
  a byte every half second holds it forever. Here a timer shuts the socket at the attempt's deadline.
- no process-wide settings: its digest auth calls `urllib.request.install_opener`, and a sub-second
  timeout would need `socket.setdefaulttimeout`, both of which change every request of the process.
  Here everything is per request.
- retries with exponential backoff that honour `Retry-After` (RFC 9110 10.2.3), on 429, 502, 503,
  504, refused connections and timeouts; a request that may have changed something (an update) is
  repeated only when the server cannot have acted on it (a refused connection, 429 or 503).
- HTTP basic and digest auth (digest through the standard library's `AbstractDigestAuthHandler`),
  a bearer token, and a descriptive User-Agent, as Wikimedia requires.

Every failure ends as one of the package's errors with a one-line message: a timeout is
`QueryTimeout`, a refused connection or an answer that is not what was asked for (an HTML page with
status 200) `BackendUnavailable`, a request the endpoint calls malformed `InputError`.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import socket
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field

from ..errors import BackendUnavailable, DisputeKGError, InputError, QueryTimeout

CONTACT_URL = "https://w3id.org/dispute-kg"
GET_LIMIT = 1500  # longer queries are POSTed: URLs past ~2 kB are refused by some servers and proxies
ENV_USER, ENV_PASSWORD, ENV_TOKEN = "DISPUTE_KG_SPARQL_USER", "DISPUTE_KG_SPARQL_PASSWORD", "DISPUTE_KG_SPARQL_TOKEN"
RETRY_STATUSES = frozenset({429, 502, 503, 504})
UNPROCESSED_STATUSES = frozenset({429, 503})  # the server says it did not act on the request
MAX_BODY_IN_MESSAGE = 200


def user_agent() -> str:
    """Tool name/version, a contact URL and the libraries, as Wikimedia's User-Agent policy asks."""
    from importlib.metadata import PackageNotFoundError, version

    def v(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0"

    return (f"dispute-kg/{v('dispute-kg')} ({CONTACT_URL}; dispute-kg maintainers) "
            f"SPARQLWrapper/{v('SPARQLWrapper')} Python-http.client")


@dataclass(frozen=True)
class Auth:
    """Credentials for an endpoint: a bearer token, or a user and password (basic, or digest when the
    server asks for it)."""

    user: str | None = None
    password: str | None = None
    token: str | None = None

    @classmethod
    def from_env(cls) -> Auth | None:
        """From the environment, never the command line (where `ps` and shell history show them)."""
        token = os.environ.get(ENV_TOKEN)
        user, password = os.environ.get(ENV_USER), os.environ.get(ENV_PASSWORD)
        if token:
            return cls(token=token)
        if user and password is not None:
            return cls(user=user, password=password)
        return None

    def header(self) -> str | None:
        if self.token:
            return f"Bearer {self.token}"
        if self.user is not None and self.password is not None:
            import base64

            return "Basic " + base64.b64encode(f"{self.user}:{self.password}".encode()).decode("ascii")
        return None


@dataclass
class RetryPolicy:
    timeout: float = 60.0  # wall-clock seconds per attempt, from connecting to the last byte
    retries: int = 2  # further attempts after the first
    backoff: float = 1.0  # first wait; doubled after every failed attempt
    max_wait: float = 120.0  # cap on any single wait, including Retry-After
    # Repeat an attempt that ran out of time? Yes for short lookups (Wikidata); no where the timeout is
    # the user's limit on one query (the `sparql:` backend), which a repeat would multiply.
    retry_timeouts: bool = True

    def __post_init__(self) -> None:
        if not self.timeout > 0 or self.retries < 0 or self.backoff < 0 or self.max_wait < 0:
            raise InputError(f"invalid retry policy {self}: the timeout must be above 0 and the rest at least 0")

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        return min(self.backoff * (2 ** attempt), self.max_wait)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` is delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()


class _Failure(Exception):
    """One failed attempt: `kind` is timeout, connect, status or answer; `sent` whether the server
    may have acted on the request."""

    def __init__(self, kind: str, message: str, *, status: int = 0, retry_after: float | None = None,
                 sent: bool = True, body: str = "") -> None:
        super().__init__(message)
        self.kind, self.status, self.retry_after, self.sent, self.body = kind, status, retry_after, sent, body


@dataclass
class HttpClient:
    """Sends requests to one endpoint with the policy's timeout and retries; thread-safe (no shared
    connection), one request per call."""

    policy: RetryPolicy = field(default_factory=RetryPolicy)
    auth: Auth | None = None
    agent: str = field(default_factory=user_agent)
    sleep: Callable[[float], None] = time.sleep
    log: Callable[[str], None] | None = None
    hint: str = ""  # appended to the final error, e.g. how to work offline

    def send(self, method: str, url: str, body: bytes | None = None, headers: dict[str, str] | None = None, *,
             idempotent: bool = True, what: str = "the endpoint") -> Response:
        """One request, repeated per the policy; a 2xx response, or one of the package's errors."""
        attempts = self.policy.retries + 1
        for attempt in range(attempts):
            try:
                # one spelling per header name: urllib's Request says "User-agent", http.client sends both
                return self._attempt(method, url, body, {k.title(): v for k, v in (headers or {}).items()})
            except _Failure as failure:
                retryable = (failure.kind == "connect" or failure.status in RETRY_STATUSES
                             or (failure.kind == "timeout" and self.policy.retry_timeouts))
                if not idempotent and failure.sent and failure.status not in UNPROCESSED_STATUSES:
                    retryable = False
                if not retryable or attempt + 1 == attempts:
                    raise self._error(failure, url, what, attempt + 1) from None
                delay = self.policy.wait(attempt, failure.retry_after)
                if self.log:
                    self.log(f"{urllib.parse.urlsplit(url).netloc}: {failure}; retrying in {delay:.2f} s "
                             f"(attempt {attempt + 2} of {attempts})")
                self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _attempt(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        headers.setdefault("User-Agent", self.agent)
        auth = self.auth.header() if self.auth else None
        if auth:
            headers["Authorization"] = auth
        response = self._exchange(method, url, body, headers)
        if response.status == 401 and self.auth and self.auth.user is not None:
            challenge = response.headers.get("WWW-Authenticate", "")
            if challenge.lower().startswith("digest "):
                headers["Authorization"] = _digest_header(self.auth, method, url, body, challenge)
                response = self._exchange(method, url, body, headers)
        if 200 <= response.status < 300:
            return response
        text = response.body.decode("utf-8", "replace")
        raise _Failure("status", f"HTTP {response.status} {_one_line(text)}".rstrip(), status=response.status,
                       retry_after=parse_retry_after(response.headers.get("Retry-After")), body=text)

    def _exchange(self, method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Response:
        """One HTTP exchange that ends by the deadline: a timer shuts the socket when it passes, so a
        server trickling bytes cannot hold the attempt longer (socket timeouts bound each read only)."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise InputError(f"{url!r} is not an http:// or https:// URL")
        timeout = self.policy.timeout
        conn_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        conn = conn_class(parts.hostname, parts.port, timeout=timeout)
        target = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
        expired = threading.Event()

        def expire() -> None:
            expired.set()
            sock = conn.sock
            if sock is not None:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

        timer = threading.Timer(timeout, expire)
        timer.daemon = True
        sent = False
        timer.start()
        try:
            try:
                conn.connect()
            except (TimeoutError, OSError) as exc:
                if expired.is_set() or isinstance(exc, TimeoutError):
                    raise _Failure("timeout", f"no connection within {timeout:g} s", sent=False) from None
                raise _Failure("connect", f"cannot connect ({_reason(exc)})", sent=False) from None
            if expired.is_set():  # the timer fired while connecting, before the socket existed
                raise _Failure("timeout", f"no connection within {timeout:g} s", sent=False)
            try:
                conn.request(method, target, body=body, headers=headers)
                sent = True
                resp = conn.getresponse()
                data = resp.read()
            except (TimeoutError, OSError, http.client.HTTPException) as exc:
                if expired.is_set() or isinstance(exc, TimeoutError):
                    raise _Failure("timeout", f"no complete answer within {timeout:g} s") from None
                raise _Failure("connect", f"connection failed ({_reason(exc)})", sent=sent) from None
            if expired.is_set():
                raise _Failure("timeout", f"no complete answer within {timeout:g} s")
            return Response(resp.status, resp.headers, data)
        finally:
            timer.cancel()
            conn.close()

    def _error(self, failure: _Failure, full_url: str, what: str, attempts: int) -> Exception:
        error = self._error_for(failure, full_url, what, attempts)
        # a gateway's 502/504 may come after the server behind it acted; any other answer is the server's own
        error.unapplied = not failure.sent or (failure.kind == "status" and failure.status not in (502, 504))
        return error

    def _error_for(self, failure: _Failure, full_url: str, what: str, attempts: int) -> DisputeKGError:
        parts = urllib.parse.urlsplit(full_url)
        url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))  # not the whole query
        tried = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        hint = f"; {self.hint}" if self.hint else ""
        if failure.kind == "timeout":
            phase = "" if failure.sent else " (no connection)"
            return QueryTimeout(f"{what} {url} did not answer within {self.policy.timeout:g} s{phase}{tried}{hint}")
        if failure.kind == "connect":
            return BackendUnavailable(f"cannot reach {what} {url}: {failure}{tried}{hint}")
        status = failure.status
        if status == 400:
            return InputError(f"{what} {url} refused the request as malformed: {_one_line(failure.body)}")
        if status in (401, 403):
            return BackendUnavailable(f"{what} {url} answered HTTP {status}: set {ENV_TOKEN}, or {ENV_USER} and "
                                      f"{ENV_PASSWORD}, to credentials it accepts")
        if status in (408, 504) or "timeout" in failure.body.lower() or "timed out" in failure.body.lower():
            return QueryTimeout(f"{what} {url} stopped the query ({failure}){tried}")
        return BackendUnavailable(f"{what} {url} answered {failure}{tried}{hint}")


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_BODY_IN_MESSAGE else line[:MAX_BODY_IN_MESSAGE] + "..."


def _digest_header(auth: Auth, method: str, url: str, body: bytes | None, challenge: str) -> str:
    """The `Authorization: Digest ...` answer to a challenge (RFC 7616), computed by the standard
    library's handler on a request object only (no opener is installed)."""
    manager = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    manager.add_password(None, url, auth.user, auth.password)
    handler = urllib.request.HTTPDigestAuthHandler(manager)
    request = urllib.request.Request(url, data=body, method=method)
    chal = urllib.request.parse_keqv_list(filter(None, urllib.request.parse_http_list(challenge[7:])))
    answer = handler.get_authorization(request, chal)
    if not answer:
        raise BackendUnavailable(f"{url} asked for digest authentication in a form this client cannot answer")
    return f"Digest {answer}"


# -- the SPARQL protocol on top --------------------------------------------------------------------
JSON_RESULTS = "application/sparql-results+json"
RESULT_TYPES = {JSON_RESULTS, "application/json"}


class SparqlClient:
    """SPARQL 1.1 Protocol queries and updates over `HttpClient`; SPARQLWrapper forms the requests."""

    def __init__(self, query_url: str, update_url: str | None = None, *, http: HttpClient | None = None,
                 what: str = "SPARQL endpoint") -> None:
        self.query_url, self.update_url = query_url, update_url
        self.http = http or HttpClient()
        self.what = what

    def _request(self, text: str, accept: str, *, update: bool) -> Response:
        from SPARQLWrapper import GET, POST, URLENCODED, SPARQLWrapper

        from ..rdf.sparqltext import query_form

        sw = SPARQLWrapper(self.query_url, updateEndpoint=self.update_url or self.query_url, agent=self.http.agent)
        sw.setQuery(text)
        # SPARQLWrapper guesses the kind with a regex that comments and strings can fool (a header saying
        # "insert" made it send a query as an update); we know the kind, from sparqltext's tokens
        sw.queryType = "INSERT" if update else (query_form(text) or "SELECT")
        sw.setMethod(POST if update or len(text) > GET_LIMIT else GET)
        sw.setRequestMethod(URLENCODED)
        # content negotiation by the Accept header only: SPARQLWrapper would also add format=xml&output=xml,
        # which Fuseki and Virtuoso obey over the Accept header
        sw.setOnlyConneg(True)
        request = sw._createRequest()  # the protocol request only; it is sent below, not by SPARQLWrapper
        headers = {k: v for k, v in request.header_items()}
        headers["Accept"] = accept
        url = request.full_url
        return self.http.send(request.get_method(), url, request.data, headers, idempotent=not update,
                              what=self.what)

    def select(self, text: str) -> dict:
        """A SELECT or ASK answer as the SPARQL 1.1 JSON results document, checked for its shape."""
        response = self._request(text, JSON_RESULTS, update=False)
        try:
            doc = json.loads(response.body)
        except ValueError:
            doc = None
        ok = isinstance(doc, dict) and (
            isinstance(doc.get("boolean"), bool)
            or (isinstance(doc.get("head"), dict) and isinstance(doc.get("results"), dict)
                and isinstance(doc["results"].get("bindings"), list)))
        if not ok:
            raise BackendUnavailable(self._not_what_was_asked(response, "SPARQL JSON results"))
        return doc  # type: ignore[return-value]

    def construct(self, text: str, accept: str = "application/n-triples") -> bytes:
        response = self._request(text, accept, update=False)
        if response.content_type.startswith("text/html"):
            raise BackendUnavailable(self._not_what_was_asked(response, accept))
        return response.body

    def update(self, text: str) -> None:
        if not self.update_url:
            raise InputError(f"no update URL for {self.query_url}")
        self._request(text, "*/*", update=True)

    def _not_what_was_asked(self, response: Response, wanted: str) -> str:
        got = response.content_type or "no Content-Type"
        head = _one_line(response.body.decode("utf-8", "replace"))[:80]
        return (f"{self.what} {self.query_url} answered HTTP {response.status} with {got}, not {wanted}"
                f" (it starts: {head!r}); is this the endpoint's SPARQL URL?")
