"""Curating a new report in a real headless Chromium: `source add`, `extract`, the review page of a real
`serve --allow-update` process, accept / reject / a new assertion from a selection, then `check`.

Screenshots go to tests/screenshots/ (git-ignored), or to $DISPUTE_KG_SHOTS (docs/curation_screenshots.py
sets it to docs/images so the guide's pictures come from this very run).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api
from servers import chromium, dispute_kg_serve

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path(os.environ.get("DISPUTE_KG_SHOTS") or Path(__file__).resolve().parent / "screenshots")
STEM = "senkaku-illustrative-1"
REPORT = ROOT / "bench" / "extract" / f"{STEM}.txt"
TOKEN = "review-e2e-token"
OBSERVERS = "Observers believe the dispute will remain a source of tension between the two countries"


def cli(project: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(project), *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def project(built_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("review") / "project"
    shutil.copytree(built_template, root)
    res = cli(root, "source", "add", str(REPORT), "--title", "China protests Japanese patrols near disputed islands",
              "--published", "2023-03-14", "--publisher", "Illustrative Wire", "--id", STEM)
    assert res.returncode == 0, res.stdout + res.stderr
    res = cli(root, "extract", STEM)
    assert res.returncode == 0, res.stderr
    return root


@pytest.fixture(scope="module")
def base_url(project: Path) -> Iterator[str]:
    with dispute_kg_serve(project, "--allow-update", env={"DISPUTE_KG_UPDATE_TOKEN": TOKEN}) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


SELECT = """([start, end]) => {
  const root = document.getElementById("review-text");
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  let pos = 0, range = document.createRange(), node;
  while ((node = walker.nextNode())) {
    const len = node.textContent.length;
    if (pos <= start && start <= pos + len) range.setStart(node, start - pos);
    if (pos <= end && end <= pos + len) { range.setEnd(node, end - pos); break; }
    pos += len;
  }
  const sel = window.getSelection(); sel.removeAllRanges(); sel.addRange(range);
  root.dispatchEvent(new MouseEvent("mouseup", {bubbles: true}));
  return sel.toString();
}"""


def test_review_accept_reject_and_new_from_selection(project: Path, base_url: str, browser: object) -> None:
    draft = json.loads((project / "drafts" / f"{STEM}.json").read_text())
    text = (project / "data" / "sources" / f"{STEM}.txt").read_text()
    # the observers' view is proposed with a stance kind the text does not support ("will" read as intention):
    # the curator rejects it and makes the position again from the selection, as an assessment
    wrong = [c for c in draft["candidates"] if c["kind"] == "position"
             and any(text[s:e].startswith("Observers") for s, e in c["spans"])]
    assert len(wrong) == 1
    problems: list[str] = []
    context = browser.new_context(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page = context.new_page()
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    response = page.goto(f"{base_url}/review/{STEM}")
    assert response is not None and response.ok
    marks = page.locator("#review-text span[data-c]")
    assert marks.count() > 10
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "review-page.png"), full_page=True)
    page.locator(f'input[name="d-{wrong[0]["id"]}"][value="reject"]').check()
    page.click("#accept-all")
    claim = next(c for c in draft["candidates"] if c["kind"] == "claim")
    page.click(f'#cand-{claim["id"]} a.pick')
    assert page.locator("#editor").is_visible()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "review-candidate.png"), full_page=False)
    start = text.index(OBSERVERS)
    selected = page.evaluate(SELECT, [start, start + len(OBSERVERS)])
    assert selected == OBSERVERS
    assert page.locator("#from-selection").is_visible()
    page.select_option("#new-type", "Position")
    page.fill("#new-label", "Observers: the dispute will remain a source of tension")
    page.fill("#new-actor", "https://w3id.org/dispute-kg/id/group/observers")
    page.select_option("#new-stance", "Assessment")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "review-selection.png"), full_page=False)
    page.click("#add-new")
    page.fill("#token", TOKEN)
    page.click("#submit")
    verdict = page.locator("#verdict")
    playwright_api.expect(verdict).to_have_text(re.compile(r"^(added|refused|the )"), timeout=180_000)
    assert verdict.text_content().startswith("added"), page.locator("#messages").inner_text()
    page.evaluate("() => window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / "review-added.png"), full_page=False)
    assert problems == []
    context.close()

    # the addition is in the project's files and passes every check
    added = sorted((project / "data" / "assertions").glob("addition-*.ttl"))
    assert added, "no addition file"
    body = added[-1].read_text()
    assert f"selection/{STEM}/{start}-{start + len(OBSERVERS)}" in body
    import pyoxigraph as ox

    kinds = {q.object.value.rsplit("#", 1)[-1] for q in ox.parse(body.encode(), format=ox.RdfFormat.TURTLE)
             if q.subject.value == wrong[0]["node"] and q.predicate.value.endswith("#stanceKind")}
    assert kinds == {"Assessment"}, "the curator's position from the selection, not the rejected candidate"
    res = cli(project, "check")
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr
    # the rejection is remembered: a rerun does not propose it again
    rejected = json.loads((project / "drafts" / f"{STEM}.rejected.json").read_text())["rejected"]
    assert wrong[0]["key"] in rejected
    res = cli(project, "extract", STEM, "--format", "json")
    assert res.returncode == 0, res.stderr
    assert wrong[0]["key"] not in {c["key"] for c in json.loads(res.stdout)["candidates"]}
