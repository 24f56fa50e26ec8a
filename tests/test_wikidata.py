"""Wikidata links: reconciliation against a real `oxigraph serve`, the client's retry behaviour
against a local HTTP server, `link --check`, the SSSOM export and the shipped links.

The Wikidata-shaped fixture below is TEST DATA: items Q9000000xx are made-up identifiers that exist
only here. Real class items (island Q23442, village Q532, ...) are the verified ones from
docs/wikidata-evidence.md.
"""

from __future__ import annotations

import http.server
import json
import re
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import ROOT, run_cli
from servers import free_port, oxigraph_process, stub_server

from dispute_kg import links as wd
from dispute_kg.errors import BackendUnavailable, InputError
from dispute_kg.project.folder import Project

ID = "https://w3id.org/dispute-kg/id/"

FIXTURE = """
# TEST DATA ONLY: made-up items (Q9000000xx) in Wikidata's vocabulary, with same-name distractors.
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .

wd:Q23442 rdfs:label "island"@en .
wd:Q532 rdfs:label "village"@en .
wd:Q50337 rdfs:label "prefecture of Japan"@en .
wd:Q3624078 rdfs:label "sovereign state"@en .
wd:Q3024240 rdfs:label "historical country"@en .
wd:Q7275 rdfs:label "state"@en .
wd:Q515 rdfs:label "city"@en .
wd:Q33837 rdfs:label "archipelago"@en .
wd:Q900000090 rdfs:label "film (test class)"@en .
wd:Q900000091 rdfs:label "volcanic island (test class)"@en ; wdt:P279 wd:Q23442 .

wd:Q900000001 rdfs:label "Shikotan"@en ; schema:description "test island"@en ; wdt:P31 wd:Q23442 ;
    wdt:P17 wd:Q900000010 .
wd:Q900000002 rdfs:label "Shikotan"@en ; schema:description "test village"@en ; wdt:P31 wd:Q532 ;
    wdt:P17 wd:Q900000010 .
wd:Q900000003 rdfs:label "Okinawa"@en ; schema:description "test prefecture"@en ; wdt:P31 wd:Q50337 .
wd:Q900000004 rdfs:label "Okinawa"@en ; schema:description "test island"@en ; wdt:P31 wd:Q23442 ;
    wdt:P17 wd:Q900000050 .
wd:Q900000010 rdfs:label "Russia"@en ; skos:altLabel "Russian Federation"@en ; wdt:P31 wd:Q3624078 ;
    wdt:P571 "1991-12-25T00:00:00Z"^^xsd:dateTime .
wd:Q900000011 rdfs:label "Russian Empire"@en ; skos:altLabel "Russia"@en ; wdt:P31 wd:Q3024240 ;
    wdt:P571 "1721-11-02T00:00:00Z"^^xsd:dateTime ; wdt:P576 "1917-09-14T00:00:00Z"^^xsd:dateTime .
wd:Q900000012 rdfs:label "Soviet Union"@en ; skos:altLabel "USSR"@en ; wdt:P31 wd:Q3024240 ;
    wdt:P571 "1922-12-30T00:00:00Z"^^xsd:dateTime ; wdt:P576 "1991-12-26T00:00:00Z"^^xsd:dateTime .
wd:Q900000013 rdfs:label "Soviet Union"@en ; schema:description "test film"@en ; wdt:P31 wd:Q900000090 .
wd:Q900000020 rdfs:label "Tokyo"@en ; wdt:P31 wd:Q515 ; wdt:P17 wd:Q900000050 .
wd:Q900000021 rdfs:label "Tokyo"@en ; wdt:P31 wd:Q7275 .
wd:Q900000030 rdfs:label "Iturup"@en ; wdt:P31 wd:Q900000091 ; wdt:P17 wd:Q900000010 .
wd:Q900000040 rdfs:label "Habomai"@en ; wdt:P31 wd:Q33837 ; wdt:P17 wd:Q900000010 .
wd:Q900000041 rdfs:label "Habomai"@en ; wdt:P31 wd:Q33837 ; wdt:P17 wd:Q900000010 .
wd:Q900000050 rdfs:label "Japan"@en ; wdt:P31 wd:Q3624078 .
"""

EXPECTED = {
    "territory/shikotan": "Q900000001",  # island beats the village of the same name
    "territory/okinawa": "Q900000004",  # island beats the prefecture
    "state/russian-federation": "Q900000010",  # beats the Russian Empire (alias "Russia", dissolved)
    "state/russian-empire": "Q900000011",
    "state/soviet-union": "Q900000012",  # beats a film of the same name
    "territory/iturup": "Q900000030",  # an instance of a subclass of island
    "state/japan": "Q900000050",
}


# -- a real `oxigraph serve` ----------------------------------------------------------------

@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with oxigraph_process(tmp_path_factory.mktemp("ox"), turtle=(FIXTURE,)) as base:
        yield base


def update(base: str, sparql: str) -> None:
    req = urllib.request.Request(base + "/update", data=sparql.encode(), method="POST",
                                 headers={"Content-Type": "application/sparql-update"})
    urllib.request.urlopen(req, timeout=10).close()


def fresh_project(project_copy: Path) -> Project:
    (project_copy / "data" / "links" / "wikidata.ttl").unlink()
    return Project.open(project_copy)


def endpoint(url: str, **kw) -> wd.Endpoint:
    return wd.Endpoint(url, wd.RetryPolicy(**{"timeout": 5, "retries": 1, "backoff": 0.05, **kw}))


def links_of(project: Project) -> dict[str, str]:
    return {r.subject[len(ID):]: wd.qid(r.object) for r in wd.read_links(project.root / wd.LINKS_FILE)
            if not r.pending}


def test_reconciliation_picks_right_items_and_rejects_distractors(server, project_copy):
    project = fresh_project(project_copy)
    report = wd.reconcile(project, endpoint(server + "/query"), min_score=80)
    assert links_of(project) == EXPECTED
    by = {o.entity.slug: o for o in report.outcomes}
    assert {c.id for c in by["territory/shikotan"].rejected} == {"Q900000002"}
    assert {c.id for c in by["territory/okinawa"].rejected} == {"Q900000003"}
    assert {c.id for c in by["state/soviet-union"].rejected} == {"Q900000013"}
    assert {c.id for c in by["place/tokyo"].rejected} == {"Q900000021"}  # a state, not a city
    # the city fits by name and type, but nothing in our graph places Tokyo: kept for review, not linked
    assert by["place/tokyo"].status == "context" and by["place/tokyo"].candidates[0].id == "Q900000020"
    emp = next(c for c in by["state/russian-federation"].candidates if c.id == "Q900000011")
    assert emp.score < by["state/russian-federation"].winner.score and not emp.match
    # Reconciliation API shape
    api = by["territory/shikotan"].to_dict()["result"][0]
    assert set(api) == {"id", "name", "description", "score", "match", "type"}
    assert api["match"] is True and 0 <= api["score"] <= 100 and api["type"][0]["id"] == "Q23442"


def test_ambiguity_is_reported_not_resolved(server, project_copy):
    project = fresh_project(project_copy)
    report = wd.reconcile(project, endpoint(server + "/query"))
    habomai = next(o for o in report.outcomes if o.entity.slug == "territory/habomai")
    assert habomai.status == "ambiguous"
    assert {c.id for c in habomai.candidates} == {"Q900000040", "Q900000041"}
    assert not any(c.match for c in habomai.candidates)
    pending = {r.subject[len(ID):]: r for r in wd.read_links(project.root / wd.LINKS_FILE) if r.pending}
    assert "ambiguous" in pending["territory/habomai"].comment


def test_second_run_changes_nothing_and_cli_path(server, project_copy):
    project = fresh_project(project_copy)
    res = run_cli("--project", str(project.root), "link", "--endpoint", server + "/query", "--format", "json")
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["written"] is True
    path = project.root / wd.LINKS_FILE
    first = path.read_bytes()
    assert links_of(project) == EXPECTED
    res = run_cli("--project", str(project.root), "link", "--endpoint", server + "/query")
    assert res.returncode == 0, res.stderr
    assert "unchanged" in res.stdout
    assert path.read_bytes() == first
    assert not [ln for ln in first.decode().splitlines() if "sameAs" in ln and not ln.startswith("#")]


def test_link_check_catches_changed_type_and_missing_item(server, project_copy):
    project = fresh_project(project_copy)
    ep = endpoint(server + "/query")
    wd.reconcile(project, ep)
    path = project.root / wd.LINKS_FILE
    records = [r for r in wd.read_links(path) if r.subject != ID + "territory/kunashir"]
    records.append(wd.Record(ID + "territory/kunashir", "Kunashir", wd.WD + "Q900000999", "Kunashir"))
    path.write_text(wd.render_links(records), encoding="utf-8")
    assert all(c.ok for c in wd.check_links(project, ep) if c.subject != ID + "territory/kunashir")
    update(server, """PREFIX wd: <http://www.wikidata.org/entity/> PREFIX wdt: <http://www.wikidata.org/prop/direct/>
        DELETE DATA { wd:Q900000001 wdt:P31 wd:Q23442 } ;
        INSERT DATA { wd:Q900000001 wdt:P31 wd:Q532 }""")
    try:
        checks = {c.subject[len(ID):]: c for c in wd.check_links(project, ep)}
        assert "compatible type" in " ".join(checks["territory/shikotan"].problems)
        assert "has no statements" in " ".join(checks["territory/kunashir"].problems)
        assert checks["state/japan"].ok
        res = run_cli("--project", str(project.root), "link", "--check", "--endpoint", server + "/query")
        assert res.returncode == 1
        assert "FAIL Shikotan -> Q900000001" in res.stdout and "FAIL Kunashir -> Q900000999" in res.stdout
    finally:
        update(server, """PREFIX wd: <http://www.wikidata.org/entity/> PREFIX wdt: <http://www.wikidata.org/prop/direct/>
            DELETE DATA { wd:Q900000001 wdt:P31 wd:Q532 } ;
            INSERT DATA { wd:Q900000001 wdt:P31 wd:Q23442 }""")


# -- the client against a misbehaving server ----------------------------------------------

EMPTY = json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": []}}).encode()


class Flaky(http.server.BaseHTTPRequestHandler):
    script: ClassVar[list[str]] = []  # one action per request: "429", "503", "slow", "ok"
    seen: ClassVar[list[tuple[float, str]]] = []

    def do_GET(self):
        Flaky.seen.append((time.monotonic(), self.headers.get("User-Agent", "")))
        action = Flaky.script[min(len(Flaky.seen), len(Flaky.script)) - 1]
        if action == "429":
            self.send_response(429)
            self.send_header("Retry-After", "1")
            self.end_headers()
        elif action == "503":
            self.send_response(503)
            self.end_headers()
        elif action == "slow":
            time.sleep(1.2)
            self._ok()
        else:
            self._ok()

    def _ok(self):
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/sparql-results+json")
            self.send_header("Content-Length", str(len(EMPTY)))
            self.end_headers()
            self.wfile.write(EMPTY)
        except OSError:
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def flaky():
    Flaky.seen = []
    with stub_server(Flaky) as url:

        def start(*script: str) -> str:
            Flaky.script = list(script)
            return url

        yield start


def test_429_honours_retry_after_then_gives_up(flaky):
    url = flaky("429")
    started = time.monotonic()
    with pytest.raises(BackendUnavailable, match="HTTP 429"):
        endpoint(url, retries=1, backoff=0.01).select("SELECT * WHERE { ?s ?p ?o }")
    assert len(Flaky.seen) == 2
    assert Flaky.seen[1][0] - Flaky.seen[0][0] >= 0.95  # waited Retry-After, not the 0.01 s backoff
    assert time.monotonic() - started < 5


def test_503_retries_with_backoff_then_succeeds(flaky):
    url = flaky("503", "503", "ok")
    assert endpoint(url, retries=2, backoff=0.05).select("SELECT * WHERE { ?s ?p ?o }") == []
    assert len(Flaky.seen) == 3
    gaps = [b[0] - a[0] for a, b in zip(Flaky.seen, Flaky.seen[1:], strict=False)]
    assert gaps[0] >= 0.045 and gaps[1] >= 0.095  # exponential backoff
    ua = Flaky.seen[0][1]
    assert ua.startswith("dispute-kg/") and "https://w3id.org/dispute-kg" in ua and "SPARQLWrapper/" in ua


def test_503_every_time_exhausts_retries(flaky):
    url = flaky("503")
    with pytest.raises(BackendUnavailable, match=r"HTTP 503.*3 attempt"):
        endpoint(url, retries=2, backoff=0.01).select("SELECT * WHERE { ?s ?p ?o }")
    assert len(Flaky.seen) == 3


def test_slow_answer_times_out(flaky):
    url = flaky("slow")
    with pytest.raises(BackendUnavailable, match="did not answer within"):
        endpoint(url, timeout=0.3, retries=1, backoff=0.01).select("SELECT * WHERE { ?s ?p ?o }")
    assert len(Flaky.seen) == 2


def test_connection_refused(project_copy):
    url = f"http://127.0.0.1:{free_port()}/sparql"
    with pytest.raises(BackendUnavailable, match="cannot connect"):
        endpoint(url, retries=1, backoff=0.01).select("SELECT * WHERE { ?s ?p ?o }")
    links = project_copy / "data" / "links" / "wikidata.ttl"
    before = links.read_bytes()
    res = run_cli("--project", str(project_copy), "link", "--endpoint", url, "--retries", "1", "--backoff", "0.01")
    assert res.returncode == 3
    assert "cannot reach the Wikidata endpoint" in res.stderr and "--offline" in res.stderr
    assert links.read_bytes() == before


def test_cli_exit_3_after_503s_leaves_links_file_unchanged(flaky, project_copy):
    url = flaky("503")
    links = project_copy / "data" / "links" / "wikidata.ttl"
    links.unlink()  # every entity would be queried; the first one fails
    res = run_cli("--project", str(project_copy), "link", "--endpoint", url, "--retries", "2", "--backoff", "0.01")
    assert res.returncode == 3, res.stderr
    assert "HTTP 503" in res.stderr
    assert not links.exists()  # nothing written after a failure


# -- the shipped links ---------------------------------------------------------------------

def test_shipped_links_are_type_compatible_in_the_snapshot():
    project = Project.open(ROOT)
    snapshot = wd.SnapshotEndpoint(ROOT / wd.SNAPSHOT_FILE)
    checks = wd.check_links(project, snapshot)
    assert checks, "no shipped links"
    assert [c.problems for c in checks if not c.ok] == []
    type_map = wd.load_type_map(project)
    entities = {e.iri: e for e in wd.project_entities(project)}
    for c in checks:
        compatible = " ".join(f"<{x}>" for cls in entities[c.subject].classes for x in type_map.get(cls, []))
        ask = snapshot.store.query(f"ASK {{ VALUES ?c {{ {compatible} }} <{c.item}> "
                                   f"<{wd.WDT}P31>/<{wd.WDT}P279>* ?c }}")
        assert bool(ask), c.subject


def test_every_shipped_qid_is_in_the_evidence_file():
    evidence = (ROOT / "docs" / "wikidata-evidence.md").read_text(encoding="utf-8")
    evidence += (ROOT / "docs" / "wikidata.md").read_text(encoding="utf-8")
    shipped = set()
    for rel in ("data/links/wikidata.ttl", "data/wikidata/snapshot.ttl", "data/wikidata/type-map.tsv"):
        text = (ROOT / rel).read_text(encoding="utf-8")
        assert not [ln for ln in text.splitlines() if "sameAs" in ln and not ln.startswith("#")]
        shipped |= set(re.findall(r"\bwd:(Q\d+)", text)) | set(re.findall(r"entity/(Q\d+)", text))
        assert not re.search(r"Q9000000\d\d|Q999\d{8}", text), f"test identifiers in {rel}"
    missing = sorted(q for q in shipped if not re.search(rf"(?<![\dQ]){q}(?!\d)|,{q[1:]}(?!\d)", evidence))
    assert missing == []


def test_offline_run_on_shipped_project_changes_nothing(project_copy):
    before = (project_copy / wd.LINKS_FILE).read_bytes()
    res = run_cli("--project", str(project_copy), "link", "--offline")
    assert res.returncode == 0, res.stderr
    assert (project_copy / wd.LINKS_FILE).read_bytes() == before
    res = run_cli("--project", str(project_copy), "link", "--offline", "--check")
    assert res.returncode == 0, res.stdout + res.stderr


def test_sssom_export(project_copy):
    res = run_cli("--project", str(project_copy), "link", "export", "--format", "sssom")
    assert res.returncode == 0, res.stderr
    lines = [ln for ln in res.stdout.splitlines() if not ln.startswith("#")]
    header = lines[0].split("\t")
    assert header[:4] == ["subject_id", "subject_label", "predicate_id", "object_id"]
    rows = [dict(zip(header, ln.split("\t"), strict=True)) for ln in lines[1:]]
    japan = next(r for r in rows if r["subject_id"] == "dkid:state/japan")
    assert japan["object_id"] == "wikidata:Q17" and japan["predicate_id"] == "skos:exactMatch"
    assert japan["mapping_justification"] == "semapv:ManualMappingCuration"
    assert any(r["object_id"] == "sssom:NoTermFound" for r in rows)


def test_retry_after_parsing():
    assert wd.parse_retry_after("3") == 3.0
    assert wd.parse_retry_after(None) is None
    assert 0 <= wd.parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") < 1
    assert wd.RetryPolicy(backoff=1, max_wait=5).wait(3, None) == 5
    assert wd.RetryPolicy(backoff=1).wait(0, 2.5) == 2.5


def test_refresh_rebuilds_a_snapshot_that_answers_offline(server, project_copy, tmp_path):
    project = fresh_project(project_copy)
    ep = endpoint(server + "/query")
    wd.reconcile(project, ep)
    out = tmp_path / "snapshot.ttl"
    path, n = wd.refresh_snapshot(project, ep, output=out)
    text = out.read_text(encoding="utf-8")
    assert path == out and n > 0 and text.startswith("# SNAPSHOT of Wikidata (not live data)")
    assert "wdt:P279" in text  # the subclass step Iturup needs (volcanic island -> island)
    offline = wd.SnapshotEndpoint(out)
    checks = wd.check_links(project, offline)
    assert len(checks) == len(EXPECTED) and all(c.ok for c in checks)


def test_no_silent_fallback_to_the_snapshot(project_copy):
    project = Project.open(project_copy)
    # without --offline the endpoint is always the live one, reachable or not
    assert isinstance(wd.open_endpoint(None, False, project), wd.Endpoint)
    assert isinstance(wd.open_endpoint(None, True, project), wd.SnapshotEndpoint)
    with pytest.raises(InputError, match="contradict"):
        wd.open_endpoint("http://127.0.0.1:9/sparql", True, project)
