"""Stored-query answers kept per store generation (`http.cache`): a repeat is answered from memory with the
same bytes, validators work, and no answer outlives the generation it was computed on, whoever publishes
the next one (an addition over HTTP, or another process)."""

from __future__ import annotations

import http.client
import json
import time
import urllib.parse
from pathlib import Path

from servers import dispute_kg_serve
from test_validate import HEAD, SEL_TTL, position

from dispute_kg.http.app import Settings, call
from dispute_kg.http.server import make_app
from dispute_kg.kg import KnowledgeGraph

TOKEN = "answer-cache-token"
JSON = {"Accept": "application/sparql-results+json"}
POSITIONS = "/api/queries/positions?holder=Japan"


def get(base: str, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    parsed = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)
    try:
        conn.request("GET", path, headers={**JSON, **(headers or {})})
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def holders_positions(body: bytes) -> set[str]:
    return {b["position"]["value"] for b in json.loads(body)["results"]["bindings"]}


def test_repeats_validators_and_a_new_generation_over_http(built_copy: Path) -> None:
    with dispute_kg_serve(built_copy, "--workers", "1", "--allow-update",
                          env={"DISPUTE_KG_UPDATE_TOKEN": TOKEN}) as base:
        status, first_headers, first = get(base, POSITIONS)
        assert status == 200 and first_headers["cache-status"] == "dispute-kg; fwd=miss; stored"
        status, headers, again = get(base, POSITIONS)
        assert status == 200 and headers["cache-status"] == "dispute-kg; hit"
        assert again == first and headers["etag"] == first_headers["etag"]
        assert headers["cache-control"] == "no-cache"  # a client may keep it, but must ask again
        # a client holding the answer revalidates: 304 without a body
        status, headers, body = get(base, POSITIONS, {"If-None-Match": f'W/"x", {first_headers["etag"]}'})
        assert status == 304 and body == b"" and headers["etag"] == first_headers["etag"]
        status, _, body = get(base, POSITIONS, {"If-None-Match": '"someone-else"'})
        assert status == 200 and body == first
        # asking for a fresh run runs the query, and the same data gives the same bytes
        status, headers, body = get(base, POSITIONS, {"Cache-Control": "no-cache"})
        assert status == 200 and headers["cache-status"] == "dispute-kg; fwd=bypass; stored" and body == first
        # another format, limit or parameter is another answer
        status, headers, csv = get(base, POSITIONS + "&_format=csv")
        assert status == 200 and headers["cache-status"].endswith("miss; stored") and csv.startswith(b"position")
        status, headers, capped = get(base, POSITIONS + "&_limit=1")
        assert json.loads(capped)["truncated"] is True and len(json.loads(capped)["results"]["bindings"]) == 1
        # errors are not kept
        for _ in range(2):
            status, headers, _ = get(base, "/api/queries/positions?holder=Atlantis")
            assert status == 400 and "cache-status" not in headers

        new = "https://w3id.org/dispute-kg/id/position/japan-believes-cached"
        assert new not in holders_positions(first)
        parsed = urllib.parse.urlsplit(base)
        conn = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=120)
        conn.request("POST", "/api/additions", (HEAD + position("japan-believes-cached") + SEL_TTL).encode(),
                     {"Content-Type": "text/turtle", "Authorization": f"Bearer {TOKEN}"})
        response = conn.getresponse()
        assert response.status == 201, response.read()[:500]
        conn.close()
        status, headers, after = get(base, POSITIONS)  # the very next request: the new generation's answer
        assert status == 200 and new in holders_positions(after), after[:300]
        assert headers["etag"] != first_headers["etag"]
        status, _, body = get(base, POSITIONS, {"If-None-Match": first_headers["etag"]})
        assert status == 200 and body == after  # the old tag no longer matches


def test_another_process_publishing_a_generation_ends_the_kept_answers(built_copy: Path) -> None:
    kg = KnowledgeGraph.open(project=built_copy, auto_build=False)
    kg.follow = True
    app = make_app(kg, Settings())
    try:
        status, headers, before = call(app, POSITIONS, headers=JSON)
        assert status == 200 and call(app, POSITIONS, headers=JSON)[1]["Cache-Status"] == "dispute-kg; hit"
        addition = built_copy / "addition.ttl"
        addition.write_text(HEAD + position("japan-believes-elsewhere") + SEL_TTL, encoding="utf-8")
        with KnowledgeGraph.open(project=built_copy, auto_build=False) as writer:
            report, added = writer.add([addition])
        assert added is not None, report.to_text()
        status, later_headers, after = call(app, POSITIONS, headers=JSON)
        assert later_headers["Cache-Status"] == "dispute-kg; fwd=miss; stored"
        elsewhere = "https://w3id.org/dispute-kg/id/position/japan-believes-elsewhere"
        assert elsewhere not in holders_positions(before) and elsewhere in holders_positions(after)
        assert later_headers["ETag"] != headers["ETag"]
    finally:
        kg.close()


def test_what_is_never_kept(built_copy: Path, tmp_path: Path) -> None:
    (built_copy / "queries" / "clock.rq").write_text(
        "#+ summary: The clock and a fresh identifier\n#+ columns:\n#+   - name: now\n#+     label: Now\n"
        "#+   - name: id\n#+     label: Fresh identifier\nSELECT (NOW() AS ?now) (STRUUID() AS ?id) WHERE {}\n",
        encoding="utf-8")
    kg = KnowledgeGraph.open(project=built_copy)
    try:
        app = make_app(kg, Settings())
        status, headers, first = call(app, "/api/queries/clock", headers=JSON)
        assert status == 200 and "Cache-Status" not in headers and "ETag" not in headers
        time.sleep(0.01)
        assert call(app, "/api/queries/clock", headers=JSON)[2] != first  # run again, not replayed
        off = make_app(kg, Settings(cache_mb=0))
        for _ in range(2):
            status, headers, _ = call(off, POSITIONS, headers=JSON)
            assert status == 200 and "Cache-Status" not in headers
    finally:
        kg.close()
    memory = KnowledgeGraph.open("memory:", project=built_copy)
    try:  # a memory: store changes under the server (its additions go straight in): nothing kept
        app = make_app(memory, Settings())
        for _ in range(2):
            status, headers, _ = call(app, POSITIONS, headers=JSON)
            assert status == 200 and "Cache-Status" not in headers
    finally:
        memory.close()


def test_many_distinct_requests_stay_within_the_budget() -> None:
    """A client varying parameters and Accept headers evicts old answers; memory stays at the budget."""
    from dispute_kg.http.cache import AnswerCache

    cache = AnswerCache(200_000)
    for i in range(5_000):
        key = ("claims", b"digest", (("state", "x" * 1000 + str(i)),), 10, None, "a/b;q=" + str(i) * 50)
        cache.put("7", key, 200, "application/json", b"{}", [])
        assert cache.size <= cache.budget
    assert 0 < len(cache.entries) < 5_000 and cache.get("7", key) is not None
    assert cache.get("8", key) is None  # another generation sees nothing of this one
    cache.put("8", ("other",), 200, "application/json", b"{}", [])
    assert list(cache.entries) == [("other",)]


def test_parsing_from_many_request_threads_decides_as_one_thread_does() -> None:
    """rdflib's parser is not thread-safe; the server's threads take turns, so a valid query is never judged
    volatile (and then never kept) because another thread parsed at the same moment."""
    import threading

    from dispute_kg.http.policy import has_service
    from dispute_kg.rdf.sparql_parse import volatile

    texts = [f"SELECT ?s ?o WHERE {{ ?s <http://example.org/p{i}> ?o OPTIONAL {{ ?o ?q \"{i}\" }} }}"
             for i in range(40)]
    answers: list[tuple[bool, bool]] = []
    start = threading.Barrier(8)

    def judge(chunk: list[str]) -> None:
        start.wait()
        for text in chunk:
            answers.append((volatile(text), has_service(text)))

    threads = [threading.Thread(target=judge, args=(texts[i::8],)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [(False, False)] * len(texts)
