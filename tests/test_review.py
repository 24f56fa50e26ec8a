"""The review routes in-process: the page, the guard on writes, checked input, a located refusal."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from dispute_kg.http.server import Settings, call, make_app

ROOT = Path(__file__).resolve().parents[1]
STEM = "falklands-illustrative-1"
TOKEN = "review-token"


@pytest.fixture(scope="module")
def project(built_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review-routes") / "project"
    shutil.copytree(built_template, root)
    for args in (["source", "add", str(ROOT / "bench/extract" / f"{STEM}.txt"), "--title", "Falklands talks",
                  "--published", "2024-01-03", "--publisher", "Illustrative Wire", "--id", STEM],
                 ["extract", STEM]):
        res = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(root), *args],
                             capture_output=True, text=True)
        assert res.returncode == 0, res.stdout + res.stderr
    return root


@pytest.fixture(scope="module")
def app(project: Path):
    from dispute_kg.kg import KnowledgeGraph

    kg = KnowledgeGraph.open(project=project)
    yield make_app(kg, Settings(allow_update=True, update_token=TOKEN))
    kg.close()


def post(app, body: object, token: str | None = TOKEN) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    status, _, raw = call(app, f"/review/{STEM}/accept", "POST", json.dumps(body).encode(), headers)
    return status, json.loads(raw)


def test_page_shows_every_candidate_highlighted(app) -> None:
    status, _, raw = call(app, f"/review/{STEM}?_format=json")
    data = json.loads(raw)
    assert status == 200 and data["can_update"] is True and len(data["candidates"]) > 10
    status, hdrs, html = call(app, f"/review/{STEM}")
    assert status == 200 and hdrs["Content-Type"].startswith("text/html")
    for c in data["candidates"]:
        assert f'id="cand-{c["id"]}"' in html.decode()
        assert f'data-c="{c["id"]}' in html.decode() or f' {c["id"]}' in html.decode()
    status, _, _ = call(app, "/review/no-such-source?_format=json")
    assert status == 400 or status == 404


def test_writes_need_update_mode_and_the_token(app, project: Path) -> None:
    from dispute_kg.kg import KnowledgeGraph

    assert post(app, {"accept": []}, token=None)[0] == 401
    assert post(app, {"accept": []}, token="wrong")[0] == 403
    with KnowledgeGraph.open(project=project) as kg:
        read_only = make_app(kg, Settings())
        status, _, _ = call(read_only, f"/review/{STEM}/accept", "POST", b"{}",
                            {"Authorization": f"Bearer {TOKEN}"})
        assert status == 403
    status, _, _ = call(app, f"/review/{STEM}/accept")
    assert status == 405


@pytest.mark.parametrize("body,needle", [
    ({"accept": ["c999"]}, "candidate ids"),
    ({"accept": "c001"}, "candidate ids"),
    ({"accept": ["c001"], "edits": {"c001": {"label": [{"iri": "not an iri"}]}}}, "is not an IRI"),
    ({"accept": ["c001"], "edits": {"c001": {"label": [{"value": "x", "datatype": "evil"}]}}}, "known datatype"),
    ({"new": [{"type": "Position", "start": 5, "end": 99999}]}, "not a span"),
    ({"new": [{"type": "Bomb", "start": 1, "end": 2}]}, "type must be"),
])
def test_bad_input_is_refused_with_a_reason(app, body: dict, needle: str) -> None:
    status, out = post(app, body)
    assert status == 400 and needle in out["error"], out


def test_a_refused_addition_changes_nothing_and_names_the_candidate(app, project: Path) -> None:
    data = json.loads(call(app, f"/review/{STEM}?_format=json")[2])
    claim = next(c for c in data["candidates"] if c["kind"] == "claim")
    territory = claim["fields"]["claimedTerritory"][0]["iri"]
    fields = {**claim["fields"], "claimant": [{"iri": territory}]}  # a territory cannot claim
    before = sorted(p.name for p in (project / "data/assertions").iterdir())
    status, out = post(app, {"accept": [claim["id"]], "edits": {claim["id"]: fields}})
    assert status == 422 and out["conforms"] is False
    assert any(p["candidate"] == claim["id"] and p["severity"] == "Violation" for p in out["problems"]), out
    assert sorted(p.name for p in (project / "data/assertions").iterdir()) == before
