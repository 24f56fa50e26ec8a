"""The web interface in a real headless Chromium against a real server process on 127.0.0.1.

Uses Debian's `chromium` (/usr/bin/chromium) driven by Playwright for Python; Playwright's own browser
downloads are never used. Screenshots of every page go to tests/screenshots/ (git-ignored). Every page
visited must log no console error and have no failed request (nor any response with status >= 400).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright import sync_api as playwright_api

CHROMIUM = os.environ.get("DISPUTE_KG_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parent / "screenshots"
ISLANDS = ("Iturup", "Kunashir", "Shikotan", "Habomai")

# A real server process, started as a user would: `dispute-kg serve -p 0` picks a free port and says which.
@pytest.fixture(scope="module")
def base_url(built_project: Path) -> Iterator[str]:
    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(built_project), "serve", "-p", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
        assert match, f"server did not start: {line!r} {proc.stderr.read() if proc.stderr else ''}"
        yield f"http://127.0.0.1:{match.group(1)}"
        assert proc.poll() is None, "the server died during the tests"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium (browser downloads are not used)")
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield b
        b.close()


class Watched:
    """A page that records console errors, failed requests and HTTP errors."""

    def __init__(self, browser: object, base: str, **context: object) -> None:
        self.context = browser.new_context(**context)  # type: ignore[attr-defined]
        self.page = self.context.new_page()
        self.base = base
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"console {m.type}: {m.text}")
                     if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"failed: {r.url} {r.failure}"))
        self.page.on("response", lambda r: self.problems.append(f"HTTP {r.status}: {r.url}")
                     if r.status >= 400 else None)

    def goto(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.ok, path

    def shot(self, name: str) -> None:
        SHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()
        assert self.problems == [], self.problems


@pytest.fixture
def watched(browser: object, base_url: str) -> Iterator[Watched]:
    w = Watched(browser, base_url, viewport={"width": 1280, "height": 900})
    yield w
    w.close()


def test_home_runs_claims_for_japan_from_its_form(watched: Watched) -> None:
    page = watched.page
    watched.goto("/")
    assert page.title().startswith("Home")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    watched.shot("home")
    form = page.locator('form[data-query="claims"]')
    form.locator('input[name="state"]').fill("Japan")
    assert page.locator("datalist#labels-dk-Actor option[value='Japan']").count() == 1
    form.locator("button[type=submit]").click()
    page.wait_for_url("**/query/claims?state=Japan")
    table = page.locator("#results table")
    text = table.inner_text()
    for island in ISLANDS:
        assert island in text
    claimants = page.locator("#results tbody tr td:nth-child(2)").all_inner_texts()
    assert claimants == ["Japan"] * 4, claimants  # only Japan's claims, one row per island
    assert page.locator("#results table a[href='/entity/territory/iturup']").count() == 1
    assert "dispute-kg query run claims -p state=Japan" in page.locator("pre.cli").inner_text()
    assert page.locator("a[href='/api/queries/claims?state=Japan&_format=csv']").count() == 1
    watched.shot("query-claims")


def test_entity_quote_leads_to_the_highlighted_span(watched: Watched) -> None:
    page = watched.page
    watched.goto("/entity/territory/iturup")
    assert page.locator("h1").inner_text() == "Iturup"
    assert "Etorofu" in page.locator("main").inner_text()
    watched.shot("entity-iturup")
    claim = page.locator("#claims li.assertion", has_text="Japan's claim to the Northern Territories")
    quote = claim.locator("blockquote").inner_text()
    link = claim.locator("a.quote-link")
    assert link.get_attribute("href") == "/source/urdupoint-2021-10-18#span-467-678"
    link.click()
    page.wait_for_url("**/source/urdupoint-2021-10-18#span-467-678")
    assert page.evaluate("document.querySelector(':target').id") == "span-467-678"
    marks = page.locator("mark.s-467-678")
    assert marks.count() >= 2
    joined = page.evaluate("[...document.querySelectorAll('mark.s-467-678')].map(m => m.textContent).join('')")
    assert joined == quote
    background = marks.first.evaluate("m => getComputedStyle(m).backgroundColor")
    assert background == "rgb(184, 224, 255)", background  # the :target colour
    box = marks.first.bounding_box()
    assert box is not None and 0 <= box["y"] < page.viewport_size["height"], "the span is scrolled into view"
    # focusing a highlight lists its assertions in the side panel (JS) and its title (no JS)
    marks.first.focus()
    panel = page.locator("#span-panel")
    assert panel.is_visible()
    assert "Japan's claim to the Northern Territories" in panel.inner_text()
    assert "Japan's claim to the Northern Territories" in (marks.first.get_attribute("title") or "")
    watched.shot("source-span-467-678")


def test_timeline_places_the_1956_declaration_to_scale(watched: Watched) -> None:
    page = watched.page
    watched.goto("/timeline")
    watched.shot("timeline")
    dot = page.locator('circle[data-date="1956-10-19"]')
    assert dot.count() == 1
    event = page.locator("a.event", has=dot)
    assert "Soviet-Japanese Joint Declaration" in (event.text_content() or "")

    def centre(locator: object) -> float:
        box = locator.bounding_box()  # type: ignore[attr-defined]
        return box["x"] + box["width"] / 2

    x1940 = centre(page.locator('text.tick[data-year="1940"]'))
    x1960 = centre(page.locator('text.tick[data-year="1960"]'))
    day = dt.date(1956, 10, 19)
    fraction = 1956 + (day - dt.date(1956, 1, 1)).days / 366 - 1940
    expected = x1940 + fraction / 20 * (x1960 - x1940)
    assert abs(centre(dot) - expected) < 1.0, (centre(dot), expected)
    band = page.locator('rect[data-date="1855"]')
    assert band.get_attribute("data-precision") == "year"
    b = band.bounding_box()
    assert b is not None and abs(b["width"] - (x1960 - x1940) / 20) < 0.5  # one year wide
    event.locator("text").click()
    page.wait_for_url("**/entity/agreement/1956-soviet-japanese-joint-declaration")


def test_sparql_page_runs_a_query_and_loads_examples(watched: Watched) -> None:
    page = watched.page
    watched.goto("/sparql-editor")
    page.fill("#query", "PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#>\n"
                        "SELECT ?island WHERE { ?t a <https://w3id.org/dispute-kg/def#Island> ; rdfs:label ?island }"
                        " ORDER BY ?island")
    page.click("form.sparql-form button[type=submit]:not([formaction])")
    page.wait_for_url("**/sparql-editor#results")
    rows = page.locator("#results tbody tr")
    assert rows.count() == 3
    assert rows.all_inner_texts() == ["Iturup", "Kunashir", "Shikotan"]
    page.click("a[data-example='timeline']")  # JS loads the stored query into the editor
    assert "dk:date ?date" in page.input_value("#query")
    assert page.url.endswith("/sparql-editor#results")
    watched.shot("sparql")


def test_map_and_sources_pages_render(watched: Watched) -> None:
    page = watched.page
    watched.goto("/map")
    assert page.locator("svg.map a.place").count() >= 1
    assert page.locator("svg.map a.place.claimant, svg.map a.place.both").count() >= 1
    assert "pending review" in page.locator(".missing").inner_text().lower()
    watched.shot("map")
    watched.goto("/sources")
    watched.shot("sources")


@pytest.mark.parametrize("path", ["/", "/entity/territory/iturup", "/source/urdupoint-2021-10-18", "/timeline",
                                  "/map", "/sparql-editor"])
def test_pages_fit_a_phone(browser: object, base_url: str, path: str) -> None:
    w = Watched(browser, base_url, viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True)
    try:
        w.goto(path)
        overflow = w.page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{path} scrolls sideways by {overflow}px on a phone"
        name = "phone-" + (path.strip("/").replace("/", "-") or "home")
        w.shot(name)
    finally:
        w.close()
