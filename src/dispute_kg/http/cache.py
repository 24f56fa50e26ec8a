"""Stored-query answers kept per store generation, with HTTP validators.

A published store generation is never written again (`project/state.py`), and a stored query's text is
fixed by its file, so the bytes answering `claims?state=Japan` as SPARQL JSON are the same until a new
generation is published or the file changes. Re-running the query for every request costs a worker round
trip and the engine's time; this cache answers a repeat from memory instead. What it will not keep:

- answers of a store that has no generations (a `sparql:` endpoint, an explicit `oxigraph:PATH`, `memory:`),
  since they can change under the server;
- queries whose answer is not a function of the data: NOW(), RAND(), UUID(), STRUUID(), BNODE() or a
  SERVICE clause, decided on rdflib's algebra of the query (`rdf.sparql_parse.volatile`), once per query text;
- errors, and bodies over a tenth of the budget.

The budget counts each entry's body, key and a fixed overhead, so a client sending many distinct small
requests (other parameters, other Accept headers) evicts older answers rather than growing the process.

Every answer carries an `ETag` (generation and body digest) and `Cache-Control: no-cache`, so a client may
keep it but must revalidate; `If-None-Match` with that tag is answered 304. A request with
`Cache-Control: no-cache` (or `Pragma: no-cache`) is run afresh. `Cache-Status` (RFC 9211) says whether the
answer came from the cache.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

NAME = "dispute-kg"


@dataclass(frozen=True)
class Entry:
    status: int
    content_type: str
    body: bytes
    headers: tuple[tuple[str, str], ...]
    etag: str
    cost: int  # bytes counted against the budget: the body, the key and a fixed overhead


OVERHEAD = 512  # an entry's objects beyond its body and key, roughly: small answers still count


def key_cost(key: tuple[Any, ...]) -> int:
    return sum(len(str(part)) for part in key)


class AnswerCache:
    """A byte-bounded LRU of rendered answers for one generation at a time (a new generation empties it)."""

    def __init__(self, budget_bytes: int) -> None:
        self.budget = budget_bytes
        self.entries: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self.size = 0
        self.generation: str | None = None
        self.lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.budget > 0

    def get(self, generation: str, key: tuple[Any, ...]) -> Entry | None:
        with self.lock:
            if generation != self.generation:
                return None
            entry = self.entries.get(key)
            if entry is not None:
                self.entries.move_to_end(key)
            return entry

    def put(self, generation: str, key: tuple[Any, ...], status: int, content_type: str, body: bytes,
            headers: list[tuple[str, str]]) -> Entry:
        digest = hashlib.blake2b(body, digest_size=12).hexdigest()
        entry = Entry(status, content_type, body, tuple(headers), f'"{generation}-{digest}"',
                      len(body) + key_cost(key) + OVERHEAD)
        if entry.cost > self.budget // 10:
            return entry
        with self.lock:
            if generation != self.generation:
                self.entries.clear()
                self.size, self.generation = 0, generation
            old = self.entries.pop(key, None)
            if old is not None:
                self.size -= old.cost
            self.entries[key] = entry
            self.size += entry.cost
            while self.size > self.budget and self.entries:
                _, dropped = self.entries.popitem(last=False)
                self.size -= dropped.cost
        return entry


def wants_fresh(header: Callable[[str], str]) -> bool:
    """Whether the request asks to bypass stored answers (`Cache-Control: no-cache|no-store|max-age=0`,
    or the HTTP/1.0 `Pragma: no-cache`)."""
    directives = {d.strip().lower() for d in header("Cache-Control").split(",")}
    return bool(directives & {"no-cache", "no-store", "max-age=0"}) or "no-cache" in header("Pragma").lower()


def etag_matches(if_none_match: str, etag: str) -> bool:
    """RFC 9110's weak comparison of an If-None-Match list against our (strong) tag."""
    if not if_none_match:
        return False
    tags = [t.strip() for t in if_none_match.split(",")]
    return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
