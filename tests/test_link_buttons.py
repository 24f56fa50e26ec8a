"""Wikidata link decisions over HTTP and from the entity page: a real `dispute-kg serve --allow-update`
process, the `requests` client, and Debian's Chromium driven by Playwright.

The decisions go through `links.decide`, the path of `dispute-kg link accept|reject`, so a decision made
over HTTP must leave the very bytes the command leaves, refusals must leave every byte of the project as
it was, and racing requests must leave one consistent record. The only real item used is Q17 (Japan, the
item of the shipped link, in the shipped snapshot); Q99900000xxx are made-up TEST identifiers, far outside
Wikidata's range, used only for rejections (which never ask Wikidata).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from conftest import run_cli, tree_hash
from servers import chromium, dispute_kg_serve, serious_axe_violations

from dispute_kg import links as wd

TOKEN = "link-buttons-test-token"
AUTHOR = "https://orcid.org/0000-0002-1825-0097"  # ORCID's own documented example identifier
JAPAN = "https://w3id.org/dispute-kg/id/state/japan"
Q17 = wd.WD + "Q17"
SERVE_ENV = {"DISPUTE_KG_UPDATE_TOKEN": TOKEN, "DISPUTE_KG_AUTHOR": ""}
ASK_LINK = (f"ASK {{ <{JAPAN}> <http://www.w3.org/2004/02/skos/core#exactMatch> <{Q17}> }}")


def copy_of(template: Path, dest: Path) -> Path:
    shutil.copytree(template, dest)
    return dest


def japan(project: Path) -> wd.Record:
    return next(r for r in wd.read_links(project / wd.LINKS_FILE) if r.subject == JAPAN)


def post(base: str, action: str, body: object, token: str | None = TOKEN, **headers: str) -> requests.Response:
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers.setdefault("Content-Type", "application/json")
    return requests.post(f"{base}/api/links/{action}", data=data, headers=headers, timeout=120)


def linked_in_graph(base: str) -> bool:
    answer = requests.get(f"{base}/sparql", params={"query": ASK_LINK},
                          headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()["boolean"]


@pytest.fixture(scope="module")
def project(pending_link_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_of(pending_link_template, tmp_path_factory.mktemp("links-api") / "project")


@pytest.fixture(scope="module")
def base(project: Path) -> Iterator[str]:
    with dispute_kg_serve(project, "--allow-update", env=SERVE_ENV) as url:
        yield url


def test_read_only_page_shows_the_records_without_buttons_and_refuses_decisions(pending_link_template: Path):
    """Without --allow-update the page lists the link state and offers no button, and the routes say 403."""
    from dispute_kg.http.server import call, make_app
    from dispute_kg.kg import KnowledgeGraph

    before = tree_hash(pending_link_template)
    with KnowledgeGraph.open(project=pending_link_template) as kg:
        app = make_app(kg)
        status, _, body = call(app, "/entity/state/japan")
        html = body.decode()
        assert status == 200
        assert 'id="wd-candidates"' in html and ">Q17</a></td><td>Japan</td><td>0.95</td><td>1.00</td>" in html
        assert "link-decide" not in html and "links.js" not in html and "This server is read-only" in html
        status, _, body = call(app, "/entity/state/japan?_format=json")
        curation = json.loads(body)["curation"]
        assert (curation["pending"], [(c["qid"], c["confidence"]) for c in curation["candidates"]]) == (
            True, [("Q17", 0.95)])
        status, _, body = call(app, "/api/links/accept", "POST", json.dumps({"entity": "state/japan", "qid": "Q17"})
                               .encode(), {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"})
        assert status == 403 and "read-only" in json.loads(body)["error"], body
        status, headers, _ = call(app, "/api/links/accept")
        assert status == 405 and headers["Allow"] == "POST"
    assert tree_hash(pending_link_template) == before


def test_the_page_offers_a_button_per_decision_and_never_the_token(base: str):
    html = requests.get(f"{base}/entity/state/japan", timeout=60).text
    assert 'data-action="accept" data-qid="Q17"' in html and 'data-action="reject" data-qid="Q17"' in html
    assert 'id="link-token"' in html and "/static/links.js" in html
    assert TOKEN not in html
    assert TOKEN not in requests.get(f"{base}/static/links.js", timeout=60).text


@pytest.mark.parametrize(("action", "body", "token", "content_type", "status", "words"), [
    ("accept", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR}, None, None, 401, "Bearer token"),
    ("accept", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR}, "wrong", None, 403, "not the update token"),
    ("reject", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR}, TOKEN[:-1], None, 403, "update token"),
    ("accept", {"entity": "state/japan", "qid": "17", "author": AUTHOR}, TOKEN, None, 400, "not a Wikidata item"),
    ("reject", {"entity": "state/japan", "qid": "Q0", "author": AUTHOR}, TOKEN, None, 400, "not a Wikidata item"),
    ("accept", {"entity": "state/japan", "qid": "Q17 ; drop", "author": AUTHOR}, TOKEN, None, 400,
     "not a Wikidata item"),
    ("accept", {"entity": "state/atlantis", "qid": "Q17", "author": AUTHOR}, TOKEN, None, 400, "no linkable entity"),
    ("reject", {"entity": "claim/japan-northern-territories", "qid": "Q17", "author": AUTHOR}, TOKEN, None, 400,
     "no linkable entity"),
    ("accept", {"entity": "state/japan", "qid": "Q17"}, TOKEN, None, 400, "say who decides"),
    ("accept", {"entity": "state/japan", "qid": "Q17", "author": "not an iri"}, TOKEN, None, 400, "is not an IRI"),
    ("accept", {"entity": "state/japan"}, TOKEN, None, 400, "qid is missing"),
    ("accept", {"entity": "state/japan", "qid": 17, "author": AUTHOR}, TOKEN, None, 400, "qid must be a string"),
    ("accept", {"entity": "state/japan", "qid": "Q17", "who": "me"}, TOKEN, None, 400, "unknown field"),
    ("accept", ["state/japan", "Q17"], TOKEN, None, 400, "JSON object"),
    ("accept", b"{not json", TOKEN, None, 400, "not JSON"),
    ("reject", b'{"entity": "state/japan", "qid": "Q17", "note": "\\ud800", "author": "' + AUTHOR.encode() + b'"}',
     TOKEN, None, 400, "note is not valid Unicode"),
    ("reject", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR, "note": "x" * 2_000_000}, TOKEN, None,
     413, "Too Large"),
    ("accept", b"entity=state/japan&qid=Q17", TOKEN, "application/x-www-form-urlencoded", 415, "application/json"),
    # type or name disagree (the checks of `link --check`), or the snapshot cannot verify it: 422
    ("accept", {"entity": "state/japan", "qid": "Q30", "author": AUTHOR}, TOKEN, None, 422, "no label or alias of Q30"),
    ("accept", {"entity": "state/japan", "qid": "Q80389", "author": AUTHOR}, TOKEN, None, 422,
     "not in the offline snapshot"),
], ids=lambda v: v if isinstance(v, str | int) else None)
def test_refusals_answer_one_line_and_change_no_byte(base, project, action, body, token, content_type, status, words):
    before = tree_hash(project)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = post(base, action, body, token, **headers)
    assert answer.status_code == status, answer.text
    error = answer.json()["error"]
    assert words in error and "\n" not in error and "Traceback" not in error, error
    assert tree_hash(project) == before


def test_reject_then_accept_is_recorded_as_the_command_records_it(base, project, pending_link_template, tmp_path):
    """The server's decisions leave the links file the commands leave, and the graph, the search index and
    the page follow at once, with no restart."""
    answer = post(base, "reject", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR, "note": "checking"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == ["rejected state/japan -> Q17"]
    rec = japan(project)
    assert rec.pending and not rec.candidates and [r.object for r in rec.rejected] == [Q17]
    assert (rec.rejected[0].author_id, rec.rejected[0].predicate_modifier) == (AUTHOR, "Not")
    assert rec.rejected[0].justification == "https://w3id.org/semapv/vocab/ManualMappingCuration"
    assert not linked_in_graph(base)
    assert answer.json()["record"]["rejected"][0]["qid"] == "Q17"

    answer = post(base, "accept", {"entity": JAPAN, "qid": "wd:Q17", "author": AUTHOR,
                                   "author_label": "Josiah Carberry", "note": "same item as the snapshot's Japan"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["result"] == ["accepted state/japan -> Q17 'Japan'"]
    link = answer.json()["record"]["link"]
    assert (link["qid"], link["author"], link["author_label"], link["confidence"]) == ("Q17", AUTHOR,
                                                                                       "Josiah Carberry", 1.0)
    rec = japan(project)
    assert rec.object == Q17 and rec.manual and rec.author_id == AUTHOR and not rec.rejected
    assert linked_in_graph(base)  # the store was rebuilt and the workers reopened it
    page = requests.get(f"{base}/entity/state/japan", timeout=60).text
    assert 'id="wd-current">Linked to <a href="http://www.wikidata.org/entity/Q17"' in page
    assert "semapv:ManualMappingCuration by Josiah Carberry" in page
    found = requests.get(f"{base}/search", params={"q": "Japan exactMatch", "_format": "json"}, timeout=60).json()
    assert "Japan exactMatch Wikidata Q17" in json.dumps(found)

    # the same two decisions from the command line, on another copy, write the same bytes
    other = copy_of(pending_link_template, tmp_path / "cli")
    for args in (("reject", "state/japan", "Q17", "--note", "checking"),
                 ("accept", JAPAN, "wd:Q17", "--offline", "--author-label", "Josiah Carberry", "--note",
                  "same item as the snapshot's Japan")):
        res = run_cli("--project", str(other), "link", *args, "--author", AUTHOR)
        assert res.returncode == 0, res.stderr
    assert (other / wd.LINKS_FILE).read_bytes() == (project / wd.LINKS_FILE).read_bytes()
    assert run_cli("--project", str(project), "link", "--offline", "--check").returncode == 0

    # deciding again changes nothing and rebuilds nothing
    before = tree_hash(project)
    answer = post(base, "accept", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR})
    assert answer.status_code == 200 and answer.json()["result"][0].startswith("unchanged"), answer.text
    assert tree_hash(project) == before


def test_racing_decisions_on_one_entity_leave_one_consistent_record(base, project):
    """Accepts and rejections of one entity sent together: each is applied once, under the writer lock,
    and the file is one whole record that `link --check` passes."""
    post(base, "reject", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR})  # start unlinked
    assert japan(project).pending
    bodies = ([("accept", {"entity": "state/japan", "qid": "Q17", "author": AUTHOR, "note": f"racer {i}"})
               for i in range(4)] + [("reject", {"entity": "state/japan", "qid": "Q99900000701", "author": AUTHOR})])
    answers: list[requests.Response] = []
    start = threading.Barrier(len(bodies))

    def send(action: str, body: dict) -> None:
        start.wait()
        answers.append(post(base, action, body))

    threads = [threading.Thread(target=send, args=b) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join(300)
    assert sorted(a.status_code for a in answers) == [200] * 5, [a.text for a in answers]
    results = [a.json()["result"][0] for a in answers]
    assert sum(r.startswith("accepted state/japan -> Q17") for r in results) == 1, results
    assert sum(r.startswith("unchanged state/japan -> Q17") for r in results) == 3, results
    rec = japan(project)
    assert rec.object == Q17 and rec.manual and [r.object for r in rec.rejected] == [wd.WD + "Q99900000701"]
    assert sum(1 for r in wd.read_links(project / wd.LINKS_FILE) if r.subject == JAPAN) == 1
    assert linked_in_graph(base)


# A process answering one decision in-process (the server's own code path, without its worker pool, so
# it starts in seconds), to be killed at a named fault point of the write or of the rebuild after it.
ONE_DECISION = """
import json, sys
from dispute_kg.http.server import Settings, call, make_app
from dispute_kg.kg import KnowledgeGraph
app = make_app(KnowledgeGraph.open(project=sys.argv[1]), Settings(allow_update=True, update_token="t"))
body = json.dumps({"entity": "state/japan", "qid": "Q17", "author": sys.argv[2]}).encode()
print(call(app, "/api/links/reject", "POST", body, {"Content-Type": "application/json", "Authorization": "Bearer t"}))
"""


@pytest.mark.parametrize("point", ["links:rename", "build:pointer:rename"])
def test_a_server_killed_mid_decision_leaves_the_old_or_the_new_record(point, pending_link_template, tmp_path):
    """Killed before the links file is replaced: not a byte changed. Killed after it, while the store is
    rebuilt: the decision is in the file, and the next reader rebuilds the store from it."""
    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.project.folder import Project
    from dispute_kg.project.state import recover

    root = copy_of(pending_link_template, tmp_path / "project")
    data_before = tree_hash(root / "data")
    res = subprocess.run([sys.executable, "-c", ONE_DECISION, str(root), AUTHOR], capture_output=True, text=True,
                         timeout=300, env={**os.environ, "DISPUTE_KG_CRASH_AT": point})
    assert res.returncode == 97, res.stdout + res.stderr
    decided = point != "links:rename"
    recover(Project.open(root))  # what the next writer does first: remove the dead process's temporary file
    assert (tree_hash(root / "data") == data_before) != decided
    rec = japan(root)
    assert rec.rejects(Q17) == decided and [c.object for c in rec.candidates] == ([] if decided else [Q17])
    rejection = "https://w3id.org/dispute-kg/id/mapping/wikidata/state/japan/rejected/Q17"
    with KnowledgeGraph.open(project=root) as kg:  # recovers, and rebuilds when the files are newer
        in_graph = kg.sparql(f"ASK {{ <{rejection}> ?p ?o }}").boolean
    assert in_graph == decided


def test_accept_button_in_chromium_records_the_link(pending_link_template: Path, tmp_path: Path):
    """A curator types the token and their IRI, clicks Accept beside the candidate, and the page, reloaded
    by its script, shows the link; axe-core finds nothing serious on the page with its buttons."""
    root = copy_of(pending_link_template, tmp_path / "project")
    with dispute_kg_serve(root, "--allow-update", env=SERVE_ENV) as url, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        try:
            page.goto(f"{url}/entity/state/japan", wait_until="load")
            accept = page.locator('#wd-candidates button[data-action="accept"][data-qid="Q17"]')
            accept.wait_for(state="visible")
            assert serious_axe_violations(page) == []
            page.set_viewport_size({"width": 390, "height": 844})  # and on a phone
            assert serious_axe_violations(page) == []
            page.set_viewport_size({"width": 1280, "height": 900})
            page.fill("#link-token", TOKEN)
            page.fill("#link-author", AUTHOR)
            page.fill("#link-note", "clicked in a browser")
            with page.expect_navigation(timeout=120_000):
                accept.click()
            current = page.locator("#wd-current")
            assert "Linked to Q17 Japan" in " ".join(current.inner_text().split())
            assert page.locator("#wd-candidates").count() == 0
            assert page.locator('#wd-current button[data-action="reject"]').is_visible()
        finally:
            context.close()
    assert errors == []
    rec = japan(root)
    assert rec.object == Q17 and rec.manual and rec.author_id == AUTHOR
    assert rec.comment == "accepted by a curator: clicked in a browser"
