"""What a curator relies on: `link --check` reads the graph's own exactMatch triples, context keeps a
same-name item far away from becoming a link, failures change nothing, manual decisions stick, and the
SSSOM export passes sssom-py's validator and comes back in with `link import`.

Made-up Wikidata items here are TEST DATA with identifiers Q999xxxxxxxx, far outside Wikidata's range;
the real items (Q17, Q159, ...) and classes come from the shipped snapshot and its evidence.
"""

from __future__ import annotations

import http.server
import json
import subprocess
import sys
from pathlib import Path
from typing import ClassVar

import pytest
from conftest import run_cli, tree_hash
from servers import free_port, oxigraph_process, stub_server

from dispute_kg import links as wd
from dispute_kg.errors import InputError
from dispute_kg.project.folder import Project

ID = "https://w3id.org/dispute-kg/id/"
AUTHOR = "https://orcid.org/0000-0002-1825-0097"  # ORCID's own documented example identifier

FAR_HABOMAI = """
# TEST DATA ONLY: a made-up archipelago named Habomai, in a lake far from the Kuril Islands.
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix schema: <http://schema.org/> .
@prefix wd: <http://www.wikidata.org/entity/> .
@prefix wdt: <http://www.wikidata.org/prop/direct/> .
@prefix geo: <http://www.opengis.net/ont/geosparql#> .
wd:Q99900000001 rdfs:label "Habomai"@en ; schema:description "archipelago in a lake far away (test item)"@en ;
    wdt:P31 wd:Q33837 ; wdt:P625 "Point(-69.3 -15.9)"^^geo:wktLiteral .
"""


@pytest.fixture(scope="module")
def snapshot_server(tmp_path_factory):
    """`oxigraph serve` holding the shipped snapshot plus the far-away Habomai."""
    from conftest import ROOT

    snapshot = (ROOT / wd.SNAPSHOT_FILE).read_text(encoding="utf-8")
    with oxigraph_process(tmp_path_factory.mktemp("ox"), turtle=(snapshot, FAR_HABOMAI)) as base:
        yield base + "/query"


def cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    return run_cli("--project", str(project), *args)


def records(project: Path) -> dict[str, wd.Record]:
    return {r.subject[len(ID):]: r for r in wd.read_links(project / wd.LINKS_FILE)}


# -- link --check starts from the graph -------------------------------------------------------

def test_hand_edited_links_fail_the_check(project_copy):
    links = project_copy / wd.LINKS_FILE
    text = links.read_text(encoding="utf-8")
    japan = "<https://w3id.org/dispute-kg/id/state/japan> skos:exactMatch wd:Q17 ."
    assert japan in text
    links.write_text(text.replace(japan, japan.replace("Q17", "Q30")), encoding="utf-8")
    res = cli(project_copy, "link", "--offline", "--check")
    assert res.returncode == 1, res.stdout + res.stderr
    assert ("FAIL Japan -> Q30: skos:exactMatch in data/links/wikidata.ttl, but the mapping record links Q17"
            in res.stdout)
    assert "no label or alias of Q30" in res.stdout
    assert "FAIL Japan -> Q17: the mapping record links it but the graph has no skos:exactMatch triple" in res.stdout
    assert "PASS Russia -> Q159" in res.stdout

    links.write_text(text, encoding="utf-8")
    background = project_copy / "data" / "assertions" / "background.ttl"
    added = ("\n<https://w3id.org/dispute-kg/id/territory/iturup> <http://www.w3.org/2004/02/skos/core#exactMatch> "
             "<http://www.wikidata.org/entity/Q80389> .\n")
    background.write_text(background.read_text(encoding="utf-8") + added, encoding="utf-8")
    res = cli(project_copy, "link", "--offline", "--check")
    assert res.returncode == 1, res.stdout + res.stderr
    line = next(ln for ln in res.stdout.splitlines() if ln.startswith("FAIL Iturup -> Q80389"))
    assert "skos:exactMatch in data/assertions/background.ttl, but the mapping record says pending review" in line
    assert "not in the offline snapshot" in line  # not "does not exist": the snapshot is not Wikidata
    assert sum(ln.startswith("PASS") for ln in res.stdout.splitlines()) == 6


def test_shipped_links_pass_and_a_link_without_record_fails(project_copy):
    assert cli(project_copy, "link", "--offline", "--check").returncode == 0
    links = project_copy / wd.LINKS_FILE
    kept = [r for r in wd.read_links(links) if not r.subject.endswith("state/united-states")]
    links.write_text(wd.render_links(kept) + "\n<https://w3id.org/dispute-kg/id/state/united-states> "
                     "<http://www.w3.org/2004/02/skos/core#exactMatch> <http://www.wikidata.org/entity/Q30> .\n",
                     encoding="utf-8")
    res = cli(project_copy, "link", "--offline", "--check", "--format", "json")
    assert res.returncode == 1
    bad = [c for c in json.loads(res.stdout) if not c["ok"]]
    assert [(c["entity"], c["item"]) for c in bad] == [(ID + "state/united-states", wd.WD + "Q30")]
    assert "has no mapping record" in bad[0]["problems"][0]


# -- context ----------------------------------------------------------------------------------

def test_same_name_item_far_away_is_not_linked(snapshot_server, project_copy):
    before = records(project_copy)["territory/habomai"]
    assert before.see_also and before.note
    res = cli(project_copy, "link", "--endpoint", snapshot_server, "--format", "json")
    assert res.returncode == 0, res.stderr
    outcome = next(o for o in json.loads(res.stdout)["outcomes"] if o["entity"] == ID + "territory/habomai")
    assert outcome["status"] == "below-threshold", outcome
    assert [c["id"] for c in outcome["result"]] == ["Q99900000001"]
    assert outcome["result"][0]["match"] is False
    after = records(project_copy)["territory/habomai"]
    assert after.pending
    assert (after.see_also, after.note) == (before.see_also, before.note)  # the curator's words stay
    [cand] = after.candidates
    assert cand.object == wd.WD + "Q99900000001" and float(cand.confidence) < 0.8
    assert "coordinates" in cand.comment and "km from every related item" in cand.comment
    assert cand.match_string == "Habomai" and float(cand.similarity_score) == 1.0
    # the shipped links are untouched, and a second run changes nothing
    from conftest import ROOT

    shipped = {r.subject: r.object for r in wd.read_links(ROOT / wd.LINKS_FILE) if not r.pending}
    assert {ID + k: r.object for k, r in records(project_copy).items() if not r.pending} == shipped
    first = (project_copy / wd.LINKS_FILE).read_bytes()
    assert cli(project_copy, "link", "--endpoint", snapshot_server).returncode == 0
    assert (project_copy / wd.LINKS_FILE).read_bytes() == first


# -- failures change nothing ------------------------------------------------------------------

class Stub(http.server.BaseHTTPRequestHandler):
    """Answers 200 with whatever `body` says, whatever was asked."""

    body: ClassVar[bytes] = b""
    content_type: ClassVar[str] = "text/html"

    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", Stub.content_type)
        self.send_header("Content-Length", str(len(Stub.body)))
        self.end_headers()
        self.wfile.write(Stub.body)

    def log_message(self, *args):
        pass


@pytest.fixture
def stub():
    with stub_server(Stub) as url:

        def start(body: bytes, content_type: str) -> str:
            Stub.body, Stub.content_type = body, content_type
            return url

        yield start


HTML = b"<!doctype html><html><body><h1>Maintenance</h1></body></html>"
BAD_BINDINGS = json.dumps({"head": {"vars": ["item"]}, "results": {"bindings": [{"item": "Q1"}]}}).encode()


@pytest.mark.parametrize("command, body, content_type, message", [
    (("link",), HTML, "text/html", "not SPARQL JSON results"),
    (("link",), BAD_BINDINGS, "application/sparql-results+json", "malformed SPARQL JSON"),
    (("link", "--check"), HTML, "text/html", "not SPARQL JSON results"),
    (("link", "accept", "territory/iturup", "Q99900000001", "--author", AUTHOR), HTML, "text/html",
     "not SPARQL JSON results"),
    (("wikidata", "refresh"), HTML, "text/html", "not text/turtle"),
])
def test_malformed_answers_exit_3_and_change_nothing(stub, project_copy, command, body, content_type, message):
    url = stub(body, content_type)
    before = tree_hash(project_copy / "data")
    res = cli(project_copy, *command, "--endpoint", url, "--retries", "0")
    assert res.returncode == 3, res.stdout + res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    assert tree_hash(project_copy / "data") == before


def test_unreachable_endpoint_exits_3_and_refresh_never_copies_the_snapshot(project_copy):
    url = f"http://127.0.0.1:{free_port()}/sparql"
    before = tree_hash(project_copy / "data")
    res = cli(project_copy, "wikidata", "refresh", "--endpoint", url, "--retries", "0")
    assert res.returncode == 3
    assert "cannot reach the Wikidata endpoint" in res.stderr and "--offline" not in res.stderr
    res = cli(project_copy, "link", "--endpoint", url, "--retries", "0")
    assert res.returncode == 3 and "--offline" in res.stderr
    assert tree_hash(project_copy / "data") == before
    with pytest.raises(InputError, match="from itself"):
        wd.refresh_snapshot(Project.open(project_copy), wd.SnapshotEndpoint(project_copy / wd.SNAPSHOT_FILE))
    assert tree_hash(project_copy / "data") == before


@pytest.mark.parametrize("args, message", [
    (("link", "--offline", "--endpoint", "http://127.0.0.1:9/sparql"), "contradict"),
    (("link", "--retries", "-1"), "--retries"),
    (("link", "--timeout", "0"), "--timeout"),
    (("link", "--timeout", "nan"), "--timeout"),
    (("link", "--backoff", "inf"), "--backoff"),
    (("link", "--backoff", "-2"), "--backoff"),
    (("wikidata", "refresh", "--timeout", "-1"), "--timeout"),
    (("link", "accept", "state/japan", "Q0", "--offline", "--author", AUTHOR), "not a Wikidata item"),
    (("link", "accept", "state/japan", "X17", "--offline", "--author", AUTHOR), "not a Wikidata item"),
    (("link", "accept", "state/nowhere", "Q17", "--offline", "--author", AUTHOR), "no linkable entity"),
    (("link", "accept", "state/japan", "Q17", "--offline"), "--author"),
    (("link", "reject", "state/japan", "Q17", "--author", "someone"), "not an IRI"),
])
def test_bad_options_exit_2(project_copy, args, message):
    before = tree_hash(project_copy / "data")
    res = cli(project_copy, *args)
    assert res.returncode == 2, res.stdout + res.stderr
    assert message in res.stderr and "Traceback" not in res.stderr
    assert tree_hash(project_copy / "data") == before


# -- manual decisions -------------------------------------------------------------------------

def test_reject_and_accept_stick_through_automatic_runs(project_copy):
    res = cli(project_copy, "link", "reject", "state/japan", "Q17", "--author", AUTHOR, "--note", "testing")
    assert res.returncode == 0, res.stderr
    japan = records(project_copy)["state/japan"]
    assert japan.pending and [r.object for r in japan.rejected] == [wd.WD + "Q17"]
    rejection = japan.rejected[0]
    assert (rejection.author_id, rejection.predicate_modifier) == (AUTHOR, "Not")
    assert rejection.justification.endswith("ManualMappingCuration") and rejection.date
    text = (project_copy / wd.LINKS_FILE).read_text(encoding="utf-8")
    assert "state/japan> skos:exactMatch" not in text
    # Q17 would win on every count, but a rejection is never undone by an automatic run
    assert cli(project_copy, "link", "--offline").returncode == 0
    assert records(project_copy)["state/japan"].pending

    before = tree_hash(project_copy / "data")
    for wrong, why in (("Q30", "no label or alias of Q30"), ("Q80389", "not in the offline snapshot")):
        res = cli(project_copy, "link", "accept", "state/japan", wrong, "--offline", "--author", AUTHOR)
        assert res.returncode == 1 and why in res.stderr, res.stderr
    assert tree_hash(project_copy / "data") == before

    res = cli(project_copy, "link", "accept", "state/japan", "Q17", "--offline", "--author", AUTHOR,
              "--author-label", "Josiah Carberry")
    assert res.returncode == 0, res.stderr
    japan = records(project_copy)["state/japan"]
    assert japan.object == wd.WD + "Q17" and japan.manual and japan.author_id == AUTHOR and not japan.rejected
    res = cli(project_copy, "link", "--offline")
    assert "manual          Japan: already linked to Q17" in res.stdout
    assert cli(project_copy, "link", "--offline", "--check").returncode == 0


# -- SSSOM out and in -------------------------------------------------------------------------

def sssom_validate(path: Path) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("sssom")
    return subprocess.run([str(exe), "validate", "-V", "JsonSchema", "-V", "StrictCurieFormat", "-V",
                           "PrefixMapCompleteness", str(path)], capture_output=True, text=True, timeout=300)


def clean(res: subprocess.CompletedProcess) -> bool:
    out = (res.stdout + res.stderr).lower()
    return res.returncode == 0 and not any(w in out for w in ("error", "not well-formed", "incorrect value",
                                                               "traceback", "not a valid"))


def test_sssom_export_passes_sssom_validate_and_imports_back(snapshot_server, project_copy, tmp_path):
    assert cli(project_copy, "link", "--endpoint", snapshot_server).returncode == 0  # a candidate for Habomai
    assert cli(project_copy, "link", "reject", "territory/okinawa", "Q766445", "--author", AUTHOR).returncode == 0
    out = tmp_path / "links.sssom.tsv"
    assert cli(project_copy, "link", "export", "--format", "sssom", "-o", str(out)).returncode == 0
    text = out.read_text(encoding="utf-8")
    res = sssom_validate(out)
    assert clean(res), res.stdout + res.stderr
    meta = [ln for ln in text.splitlines() if ln.startswith("#")]
    for key in ("mapping_set_id", "mapping_set_version", "mapping_provider", "license"):
        assert any(ln.startswith(f"#{key}: ") for ln in meta), key
    header = next(ln for ln in text.splitlines() if not ln.startswith("#")).split("\t")
    rows = [dict(zip(header, ln.split("\t"), strict=True)) for ln in text.splitlines()[len(meta) + 1:]]
    assert {r["object_source"] for r in rows} == {"wikidata:Q2013"}
    cand = next(r for r in rows if r["object_id"] == "wikidata:Q99900000001")
    assert cand["match_string"] == "Habomai" and cand["subject_match_field"] == "rdfs:label"
    assert cand["object_match_field"] == "rdfs:label" and cand["similarity_score"] == "1.00"
    rej = next(r for r in rows if r["object_id"] == "wikidata:Q766445")
    assert rej["predicate_modifier"] == "Not" and rej["author_id"] == "orcid:0000-0002-1825-0097"
    assert all(r["see_also"].startswith("dkdoc:") for r in rows if r["see_also"])

    # the validator really objects to a broken file (so the check above can fail)
    broken = tmp_path / "broken.sssom.tsv"
    broken.write_text(text.replace("\tskos:exactMatch\t", "\tskos exactMatch\t"), encoding="utf-8")
    assert not clean(sssom_validate(broken))

    # a curator rejects the far Habomai in their tool and accepts Russia's item again; both come back
    edited = []
    for ln in text.splitlines():
        cells = ln.split("\t")
        if not ln.startswith("#") and "wikidata:Q99900000001" in cells:
            row = dict(zip(header, cells, strict=True))
            row.update(predicate_modifier="Not", mapping_justification="semapv:ManualMappingCuration",
                       author_id="orcid:0000-0002-1825-0097")
            ln = "\t".join(row[h] for h in header)
        edited.append(ln)
    reviewed = tmp_path / "reviewed.sssom.tsv"
    reviewed.write_text("\n".join(edited) + "\n", encoding="utf-8")
    res = cli(project_copy, "link", "import", str(reviewed), "--offline")
    assert res.returncode == 0, res.stderr
    habomai = records(project_copy)["territory/habomai"]
    assert [r.object for r in habomai.rejected] == [wd.WD + "Q99900000001"] and not habomai.candidates
    assert habomai.rejected[0].author_id == AUTHOR
    # a later run does not bring the rejected item back as a candidate
    assert cli(project_copy, "link", "--endpoint", snapshot_server).returncode == 0
    assert not records(project_copy)["territory/habomai"].candidates

    # an accepted row that fails the checks is refused, and nothing of the file is applied
    bad = tmp_path / "bad.sssom.tsv"
    lines = [ln for ln in edited if ln.startswith("#") or ln.split("\t")[0] == "subject_id"]
    row = dict.fromkeys(header, "")
    row.update(subject_id="dkid:state/japan", predicate_id="skos:exactMatch", object_id="wikidata:Q30",
               mapping_justification="semapv:ManualMappingCuration", author_id="orcid:0000-0002-1825-0097")
    row2 = dict(row, subject_id="dkid:territory/kunashir", object_id="wikidata:Q17", predicate_modifier="Not")
    bad.write_text("\n".join([*lines, "\t".join(row[h] for h in header), "\t".join(row2[h] for h in header)]) + "\n",
                   encoding="utf-8")
    before = tree_hash(project_copy / "data")
    res = cli(project_copy, "link", "import", str(bad), "--offline")
    assert res.returncode == 1 and "refused, nothing written" in res.stderr, res.stderr
    assert tree_hash(project_copy / "data") == before


def test_concurrent_decisions_are_all_kept(project_copy):
    """Each decision reads, changes and writes the links file; run together, none may be lost."""
    pending = sorted(s for s, r in records(project_copy).items() if r.pending)[:6]
    procs = [subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(project_copy), "link", "reject",
                               slug, f"Q{99900000500 + i}", "--author", AUTHOR],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for i, slug in enumerate(pending)]
    for p in procs:
        _, err = p.communicate(timeout=300)
        assert p.returncode == 0, err
    after = records(project_copy)
    assert {s: [wd.qid(r.object) for r in after[s].rejected] for s in pending} == {
        s: [f"Q{99900000500 + i}"] for i, s in enumerate(pending)}
