"""Talking to a SPARQL endpoint the way Wikimedia asks: a descriptive User-Agent, timeouts, retries
with backoff honouring Retry-After, one request at a time; or the same queries over the offline snapshot."""

from __future__ import annotations

import email.utils
import json
import socket
import threading
import time
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import BackendUnavailable, InputError
from ..project.folder import Project
from .common import CONTACT_URL, DEFAULT_ENDPOINT, OFFLINE, SNAPSHOT_FILE, tool_version


def user_agent() -> str:
    """Wikimedia's User-Agent policy: tool name/version, a contact URL, and the library."""
    try:
        import SPARQLWrapper

        lib = f" SPARQLWrapper/{SPARQLWrapper.__version__}"
    except Exception:  # pragma: no cover - SPARQLWrapper is a dependency
        lib = ""
    return f"dispute-kg/{tool_version()} ({CONTACT_URL}; dispute-kg maintainers){lib}"



_ONE_AT_A_TIME = threading.Lock()  # Wikimedia asks for at most one concurrent query per client


@dataclass
class RetryPolicy:
    timeout: float = 60.0  # seconds per request
    retries: int = 4  # further attempts after the first
    backoff: float = 2.0  # first wait; doubled after every failed attempt
    max_wait: float = 120.0  # cap on any single wait, including Retry-After

    def wait(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        return min(self.backoff * (2 ** attempt), self.max_wait)


def parse_retry_after(value: str | None) -> float | None:
    """`Retry-After` is delay-seconds or an HTTP date (RFC 9110 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class Endpoint:
    """A remote SPARQL endpoint reached through SPARQLWrapper, politely."""

    def __init__(self, url: str = DEFAULT_ENDPOINT, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.log = log
        self.description = url
        # what to suggest when the endpoint cannot be reached; `wikidata refresh` has no --offline
        self.hint = f"; run with --offline to use {SNAPSHOT_FILE.as_posix()} instead"

    def _request(self, query: str, fmt: str) -> Any:
        from SPARQLWrapper import GET, JSON, TURTLE, SPARQLWrapper

        sw = SPARQLWrapper(self.url, agent=user_agent())
        sw.setMethod(GET)
        sw.setTimeout(max(1, round(self.policy.timeout)) if self.policy.timeout >= 1 else 1)
        sw.setReturnFormat(JSON if fmt == "json" else TURTLE)
        sw.setQuery(query)
        # SPARQLWrapper only takes whole seconds; enforce sub-second timeouts on the socket too.
        old = socket.getdefaulttimeout()
        socket.setdefaulttimeout(self.policy.timeout)
        try:
            result = sw.query()
            if fmt == "json":
                return json.loads(result.response.read().decode("utf-8"))
            return result.response.read()
        finally:
            socket.setdefaulttimeout(old)

    def _run(self, query: str, fmt: str) -> Any:
        from SPARQLWrapper.SPARQLExceptions import EndPointInternalError, EndPointNotFound, QueryBadFormed

        attempts = self.policy.retries + 1
        last = ""
        with _ONE_AT_A_TIME:
            for attempt in range(attempts):
                retry_after: float | None = None
                try:
                    started = time.monotonic()
                    answer = self._request(query, fmt)
                    if time.monotonic() - started > self.policy.timeout:
                        raise TimeoutError("response took longer than the timeout")
                    return answer
                except QueryBadFormed as exc:
                    raise InputError(f"the endpoint {self.url} rejected the query: {exc}") from None
                except urllib.error.HTTPError as exc:
                    if exc.code != 429 and exc.code < 500:
                        raise BackendUnavailable(f"Wikidata endpoint {self.url} answered HTTP {exc.code} "
                                                 f"{exc.reason}") from None
                    retry_after = parse_retry_after(exc.headers.get("Retry-After") if exc.headers else None)
                    last = f"HTTP {exc.code} {exc.reason}"
                except EndPointInternalError:
                    last = "HTTP 500 internal server error"
                except EndPointNotFound:
                    raise BackendUnavailable(f"Wikidata endpoint {self.url} answered HTTP 404: "
                                             "no SPARQL service at that address") from None
                except TimeoutError:
                    last = f"no answer within {self.policy.timeout:g} s"
                except urllib.error.URLError as exc:
                    reason = exc.reason
                    if isinstance(reason, TimeoutError):
                        last = f"no answer within {self.policy.timeout:g} s"
                    else:
                        last = f"cannot connect ({reason})"
                except (ConnectionError, OSError) as exc:
                    last = f"cannot connect ({exc})"
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:  # not the format asked for: final
                    raise BackendUnavailable(f"the endpoint {self.url} answered with something that is not "
                                             f"{'SPARQL JSON results' if fmt == 'json' else 'Turtle'} "
                                             f"({str(exc).splitlines()[0][:120]})") from None
                if attempt + 1 < attempts:
                    delay = self.policy.wait(attempt, retry_after)
                    if self.log:
                        self.log(f"{self.url}: {last}; retrying in {delay:.2f} s "
                                 f"(attempt {attempt + 2} of {attempts})")
                    self.sleep(delay)
        raise BackendUnavailable(f"cannot reach the Wikidata endpoint {self.url}: {last} "
                                 f"(gave up after {attempts} attempt(s)){self.hint}")

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        answer = self._run(query, "json")
        try:
            rows = list(answer["results"]["bindings"])
        except (KeyError, TypeError):
            raise BackendUnavailable(f"the endpoint {self.url} did not answer with SPARQL JSON results") from None
        if not all(isinstance(r, dict) and all(isinstance(t, dict) and "value" in t for t in r.values())
                   for r in rows):
            raise BackendUnavailable(f"the endpoint {self.url} answered with malformed SPARQL JSON bindings")
        return rows

    def construct(self, query: str) -> bytes:
        return self._run(query, "turtle")


class SnapshotEndpoint:
    """The same queries, answered in-process from the snapshot file."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            raise InputError("the Wikidata snapshot is missing; run `dispute-kg wikidata refresh` online",
                             path=str(path))
        self.store = ox.Store()
        self.store.load(path.read_bytes(), format=ox.RdfFormat.TURTLE)
        self.url = "offline"
        self.description = OFFLINE

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        solutions = self.store.query(query)
        return list(json.loads(solutions.serialize(format=ox.QueryResultsFormat.JSON))["results"]["bindings"])

    def construct(self, query: str) -> bytes:
        return self.store.query(query).serialize(format=ox.RdfFormat.TURTLE)


def open_endpoint(url: str | None, offline: bool, project: Project, *, timeout: float = 60.0, retries: int = 4,
                  backoff: float = 2.0, log: Callable[[str], None] | None = None) -> Endpoint | SnapshotEndpoint:
    """The live endpoint, or the offline snapshot when (and only when) --offline asks for it.

    Never a silent fallback: an endpoint that cannot be reached is an error (exit 3) naming it, so
    snapshot answers are never passed off as live ones."""
    if offline and url is not None:
        raise InputError("--offline and --endpoint contradict each other: give one")
    if offline:
        return SnapshotEndpoint(project.root / SNAPSHOT_FILE)
    return Endpoint(url or DEFAULT_ENDPOINT, RetryPolicy(timeout=timeout, retries=retries, backoff=backoff), log=log)
