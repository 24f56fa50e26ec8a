"""Materialised answers: every stored query that runs without parameters, answered once for each store
generation and kept beside its store, so that a page of a listing costs its own rows.

Why: Oxigraph evaluates and sorts every row of an `ORDER BY` before it hands over the first, so at a
million triples the first page of a listing (every claim, every event: about 9,000 rows) cost as much as
the whole answer, seconds on two cores. A published generation never changes, so neither does its
answer to a given text: the answer computed before the generation is published is the answer, and a
page is a slice of it. The engine still answers every other text (a bound parameter, an edited query,
an ad-hoc query) and every store that is not a held, published generation.

A generation's file, `views.marshal`: a magic line, the header's length and CRC-32, a marshal'ed header,
then for each query its rows in blocks of `BLOCK`, each block a marshal'ed list of rows (dicts of SPARQL
JSON terms, the shape `Result` holds), followed by the index of its blocks (offset, length and CRC-32 of
each). Every part read is checked against its CRC, so a damaged file gives the engine's answer, never a
wrong row. The header maps each query's name to the exact text answered, its variables, its row count
and where its index is, so a page reads the header, its query's index and one or two blocks. marshal,
not JSON: this module is on the quick route of `dispute-kg query run`, which imports nothing it can
avoid (json pulls in `re`), and marshal reads a block in microseconds; the file is written by the same
Python that built the generation, and a file it cannot read is treated as absent.
"""

from __future__ import annotations

import marshal
import os
from binascii import crc32

from ..rdf.terms import Result
from ..stores.generations import VIEWS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

    from ..stores.base import Store
    from .binding import StoredQuery

MAGIC = b"dispute-kg views\n"
FORMAT = 3
BLOCK = 64  # rows per block: a page of 50 reads one or two
MAX_ROWS = 200_000  # a larger answer is left to the engine: its file would cost more than it saves
# seconds one listing may take to answer before it is left to the engine (DISPUTE_KG_VIEW_SECONDS): the
# slowest took 3.3 s at a million triples; a query that runs away must not hold up a build or an addition
SECONDS = 60.0


def view_file(generation: str | os.PathLike[str]) -> str:
    return os.path.join(os.fspath(generation), VIEWS)


def read_header(path: str) -> dict | None:
    """The header of a views file (with `base`, where its blocks start), or None when there is none or it
    is not one this code wrote."""
    try:
        with open(path, "rb") as fh:
            if fh.read(len(MAGIC)) != MAGIC:
                return None
            size = int.from_bytes(fh.read(8), "little")
            check = int.from_bytes(fh.read(4), "little")
            if size > os.fstat(fh.fileno()).st_size:
                return None
            data = fh.read(size)
            if crc32(data) != check:
                return None
            header = marshal.loads(data)
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        return None
    header["base"] = len(MAGIC) + 12 + size
    return header


def page(path: str, name: str, text: str, limit: int | None, offset: int | None) -> Result | None:
    """Rows `offset` to `offset + limit` of the materialised answer of `name`, if the file holds the answer
    to exactly `text`; else None (the engine answers). `truncated` says more rows follow, as the
    engine's page does."""
    header = read_header(path)
    if header is None:
        return None
    try:
        return _slice(path, header, name, text, offset or 0, limit)
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, AttributeError, MemoryError):
        return None  # a file damaged past its header: the engine answers


def _slice(path: str, header: dict, name: str, text: str, start: int, limit: int | None) -> Result | None:
    entry = header["queries"].get(name)
    if entry is None or entry["text"] != text:
        return None
    total = entry["rows"]
    stop = total if limit is None else min(total, start + limit)
    rows: list[dict] = []
    if start < stop:
        first, last = start // BLOCK, (stop - 1) // BLOCK
        with open(path, "rb") as fh:
            # this query's block index, kept beside its blocks: a page costs what its own answer's
            # index and rows cost, not the other listings'
            at, length, check = entry["index"]
            fh.seek(header["base"] + at)
            index = fh.read(length)
            if crc32(index) != check:
                return None
            blocks = marshal.loads(index)[first:last + 1]
            size = blocks[-1][0] + blocks[-1][1] - blocks[0][0]
            fh.seek(header["base"] + blocks[0][0])
            data = fh.read(size)
        if len(data) != size:
            return None
        for at, length, check in blocks:
            chunk = data[at - blocks[0][0]:at - blocks[0][0] + length]
            if crc32(chunk) != check:
                return None  # a damaged block: the engine answers, never a wrong row
            rows.extend(marshal.loads(chunk))
        if len(rows) != min(total, (last + 1) * BLOCK) - first * BLOCK:
            return None
        skip = start - first * BLOCK
        rows = rows[skip:skip + stop - start]
    return Result("select", variables=list(entry["variables"]), rows=rows, truncated=stop < total)


def answerable(query: StoredQuery) -> str | None:
    """The text a listing runs with no parameter given, when a materialised answer can stand for it: no
    required parameter, no default (the text is the file's), no LIMIT/OFFSET of its own (a page of such
    a query is refused by the engine's route, and must be here too), and an answer that depends on the
    data alone (no clock, randomness, fresh blank nodes or SERVICE: nor does a build call other hosts).
    Both decided on rdflib's parse of the query."""
    from ..rdf.sparql_parse import has_own_slice, volatile

    if not runs_without_parameters(query):
        return None
    if has_own_slice(query.text) is not False or volatile(query.text):
        return None
    return query.text


def runs_without_parameters(query: StoredQuery) -> bool:
    """Whether the query runs, as its file's text, when no parameter is given."""
    return not query.defaults and not any(p.required for p in query.parameters)


def candidates(queries: Iterable[StoredQuery]) -> list[tuple[str, str]]:
    """(name, text) of each query that runs without parameters given: what a views file must cover."""
    return sorted((q.name, q.text) for q in queries if runs_without_parameters(q))


def stale(path: str, queries: Iterable[StoredQuery]) -> bool:
    """Whether the views file at `path` misses a query of `queries` or answered an earlier text of one."""
    header = read_header(path)
    return header is None or sorted(header.get("texts", {}).items()) != candidates(queries)


def plan(queries: Iterable[StoredQuery], previous: str | None = None) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """What a generation's views file holds for `queries`: the texts to answer by name (`answerable`),
    and every (name, text) it covers, answered or not (`candidates`), so `stale` can tell an edited or
    new query from one that has no view by design. A text the `previous` views file (the published
    generation's) covered is judged as it was there: `answerable` parses with rdflib, about 0.1 s a
    query, which every addition would otherwise pay again for unchanged queries."""
    queries = list(queries)
    header = read_header(previous) if previous else None
    before = header.get("texts", {}) if header else {}
    judged = header.get("judged", {}) if header else {}
    texts = {}
    for q in queries:
        if before.get(q.name) == q.text and q.name in judged:
            if judged[q.name]:
                texts[q.name] = q.text
        elif (text := answerable(q)) is not None:
            texts[q.name] = text
    return texts, candidates(queries)


def materialise(store: Store, texts: dict[str, str], covered: list[tuple[str, str]], generation: Path, *,
                point: str, seconds: float = SECONDS) -> dict[str, int]:
    """Answer each text of `texts` (from `plan`) on `store` (the new generation's graph, unpublished) and
    write the generation's views file: one atomic write. Returns rows by query name. A query the engine
    refuses, answers with more than `MAX_ROWS` rows or with a graph, or has not answered after `seconds`,
    has no view (the engine answers it when asked, with its own errors and time limit). Threads:
    pyoxigraph releases the GIL while it evaluates, but cannot be stopped: a query past its time keeps a
    thread busy until the process ends, which is why a build runs this in a process of its own
    (`project/listings.py`)."""
    from concurrent.futures import ThreadPoolExecutor

    from ..rdf.durable import write_atomic

    def answer(name: str) -> tuple[str, Result | None]:
        try:
            result = store.query(texts[name], None, limit=MAX_ROWS, timeout=seconds)
        except Exception:  # the engine's own errors (OSError, RuntimeError, a timeout) are the reader's to
            return name, None  # see, from the engine, when they run it
        if result.kind != "select" or result.truncated:
            return name, None
        return name, result

    with ThreadPoolExecutor(max_workers=max(1, min(len(texts), os.cpu_count() or 1)),
                            thread_name_prefix="dispute-kg-views") as pool:
        answers = dict(pool.map(answer, sorted(texts)))
    # `judged`: whether each covered text was found answerable, for the next writer's `plan`
    header: dict = {"format": FORMAT, "queries": {}, "texts": dict(covered),
                    "judged": {name: name in texts for name, _ in covered}}
    chunks: list[bytes] = []
    at = 0  # offsets count from the end of the header
    for name, result in sorted(answers.items()):
        if result is None:
            continue
        blocks = []
        for i in range(0, len(result.rows), BLOCK):
            chunk = marshal.dumps(result.rows[i:i + BLOCK])
            blocks.append((at, len(chunk), crc32(chunk)))
            chunks.append(chunk)
            at += len(chunk)
        index = marshal.dumps(blocks)
        header["queries"][name] = {"text": texts[name], "variables": result.variables, "rows": len(result.rows),
                                   "index": (at, len(index), crc32(index))}
        chunks.append(index)
        at += len(index)
    head = marshal.dumps(header)
    write_atomic(view_file(generation), b"".join([MAGIC, len(head).to_bytes(8, "little"),
                                                  crc32(head).to_bytes(4, "little"), head, *chunks]),
                 point=f"{point}:views")
    return {name: entry["rows"] for name, entry in header["queries"].items()}

