"""Talking to a SPARQL endpoint the way Wikimedia asks: a descriptive User-Agent, timeouts, retries
with backoff honouring Retry-After, one request at a time; or the same queries over the offline snapshot."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pyoxigraph as ox

from ..errors import BackendUnavailable, InputError
from ..project.folder import Project
from ..stores.http_client import HttpClient, RetryPolicy, SparqlClient, parse_retry_after, user_agent
from .common import DEFAULT_ENDPOINT, OFFLINE, SNAPSHOT_FILE

__all__ = ["Endpoint", "RetryPolicy", "SnapshotEndpoint", "open_endpoint", "parse_retry_after", "user_agent"]

_ONE_AT_A_TIME = threading.Lock()  # Wikimedia asks for at most one concurrent query per client
WIKIDATA_RETRY = RetryPolicy(timeout=60.0, retries=4, backoff=2.0)


class Endpoint:
    """A remote SPARQL endpoint reached through the package's one SPARQL HTTP client, politely: one
    query at a time, retries with backoff honouring Retry-After, a wall-clock timeout per attempt."""

    def __init__(self, url: str = DEFAULT_ENDPOINT, policy: RetryPolicy | None = None,
                 sleep: Callable[[float], None] = time.sleep, log: Callable[[str], None] | None = None) -> None:
        self.url = url
        self.policy = policy or RetryPolicy(WIKIDATA_RETRY.timeout, WIKIDATA_RETRY.retries, WIKIDATA_RETRY.backoff)
        self.description = url
        self.http = HttpClient(self.policy, sleep=sleep, log=log,
                               hint=f"run with --offline to use {SNAPSHOT_FILE.as_posix()} instead")
        self.client = SparqlClient(url, http=self.http, what="the Wikidata endpoint")

    @property
    def hint(self) -> str:
        """What a failure message suggests (`wikidata refresh` has no --offline: it says something else)."""
        return self.http.hint

    @hint.setter
    def hint(self, text: str) -> None:
        self.http.hint = text.lstrip("; ")

    def select(self, query: str) -> list[dict[str, dict[str, str]]]:
        with _ONE_AT_A_TIME:
            rows = list(self.client.select(query)["results"]["bindings"])
        if not all(isinstance(r, dict) and all(isinstance(t, dict) and "value" in t for t in r.values())
                   for r in rows):
            raise BackendUnavailable(f"the endpoint {self.url} answered with malformed SPARQL JSON bindings")
        return rows

    def construct(self, query: str) -> bytes:
        with _ONE_AT_A_TIME:
            return self.client.construct(query, accept="text/turtle")


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
