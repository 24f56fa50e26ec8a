"""The web interface in a real headless Chromium against a real server process on 127.0.0.1.

Uses Debian's `chromium` (/usr/bin/chromium) driven by Playwright for Python; Playwright's own browser
downloads are never used. Screenshots of every page go to tests/screenshots/ (git-ignored). Every page
visited must log no console error and have no failed request (nor any response with status >= 400).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import chromium, dispute_kg_serve, serious_axe_violations

SHOTS = Path(__file__).resolve().parent / "screenshots"
ISLANDS = ("Iturup", "Kunashir", "Shikotan", "Habomai")

# A real server process, started as a user would: `dispute-kg serve -p 0` picks a free port and says which.
@pytest.fixture(scope="module")
def base_url(built_project: Path) -> Iterator[str]:
    with dispute_kg_serve(built_project) as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


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
    claimants = page.locator("#results tbody td[data-var=claimant]").all_inner_texts()
    assert claimants == ["Japan"], claimants  # one claim: its claimant shown once, spanning its rows
    assert page.locator("#results tbody tr").count() == 4  # one row per island
    assert page.locator("#results table a[href='/entity/territory/iturup']").count() == 1
    # headed by the labels the query documents; the variable and its description are the header's description
    heads = page.get_by_role("columnheader").all_inner_texts()
    assert "Kind of claim" in heads and "Name the claimant uses" in heads, heads
    assert not set(heads) & {"claim", "claimant", "territory", "claimKind", "basis", "nameUsed", "quote"}, heads
    from playwright.sync_api import expect

    expect(page.get_by_role("columnheader", name="Kind of claim")).to_have_accessible_description(
        "What sort of claim it is, such as a territorial claim or undisputed sovereignty.")
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


def test_sparql_editor_runs_a_query_with_a_predeclared_prefix_and_its_link_reproduces_it(watched: Watched) -> None:
    page = watched.page
    watched.goto("/sparql-editor")
    editor = page.locator(".yasqe-holder .CodeMirror")
    assert editor.count() == 1, "YASGUI's editor replaces the textarea"
    assert page.locator("textarea#query").is_hidden()
    editor.click()
    page.keyboard.press("Control+A")
    page.keyboard.press("Delete")
    page.keyboard.type("SELECT ?island WHERE { ?t a dk:Island ; rdfs:label ?island } ORDER BY ?island")
    assert page.locator(".CodeMirror .cm-atom, .CodeMirror [class*='cm-']").count() > 3, "highlighted"
    assert page.locator(".yasqe .error, .CodeMirror-gutter-elt .error").count() == 0, "dk: is known"
    page.keyboard.press("Control+Enter")
    page.wait_for_url("**/sparql-editor?query=*")
    cells = page.locator("#results td[data-var=island]").all_inner_texts()
    assert cells == ["Iturup", "Kunashir", "Shikotan"], cells
    shared = page.locator("#share-link").get_attribute("href")
    assert shared and "query=" in shared
    other = Watched(page.context.browser, watched.base, viewport={"width": 1280, "height": 900})
    try:
        other.goto(shared)  # a fresh browser context: nothing but the link
        assert other.page.locator("#results td[data-var=island]").all_inner_texts() == cells
        text = other.page.evaluate("window.dkEditor.getValue()")
        assert "dk:Island" in text
    finally:
        other.close()
    page.click("a[data-example='timeline']")  # JS loads the stored query into the editor
    assert "dk:date ?date" in page.evaluate("window.dkEditor.getValue()")
    watched.shot("sparql")


def test_map_shows_the_four_islands_north_east_of_hokkaido_over_coastlines(watched: Watched) -> None:
    page = watched.page
    watched.goto("/map")
    land = page.locator("svg.map path.land")
    assert land.count() >= 6  # Japan, Russia and the four islands
    assert len(page.locator("svg.map path.land.claimant").get_attribute("d") or "") > 2000  # a real coastline
    hokkaido = page.locator("svg.map path.land.claimant").bounding_box()
    for island in ISLANDS:
        place = page.locator("svg.map a.place", has_text=island)
        assert place.count() == 1, island
        lat, lon = float(place.get_attribute("data-lat") or 0), float(place.get_attribute("data-lon") or 0)
        assert 43 <= lat <= 45.6 and 145 <= lon <= 148.9, (island, lat, lon)
        box = place.locator("circle").bounding_box()
        assert box and hokkaido and box["x"] > hokkaido["x"] + hokkaido["width"] * 0.5, island  # east of it
        assert place.locator("circle").is_visible()
    iturup = page.locator("svg.map a.place", has_text="Iturup").locator("circle").bounding_box()
    kunashir = page.locator("svg.map a.place", has_text="Kunashir").locator("circle").bounding_box()
    assert iturup and kunashir and iturup["y"] < kunashir["y"] and iturup["x"] > kunashir["x"]  # north-east
    watched.shot("map")
    watched.goto("/sources")
    watched.shot("sources")


@pytest.mark.parametrize(("words", "first"), [("Etorofu", "/entity/territory/iturup"),
                                               ("1956", "/entity/agreement/1956-soviet-japanese-joint-declaration"),
                                               ("Northern Territories", "/entity/territory/northern-territories")])
def test_the_header_search_finds_the_right_entity_first(watched: Watched, words: str, first: str) -> None:
    page = watched.page
    watched.goto("/timeline")
    page.fill("#site-q", words)
    page.keyboard.press("Enter")
    page.wait_for_url("**/search?q=*")
    assert page.locator("a.hit-title").first.get_attribute("href") == first
    page.locator("a.hit-title").first.click()
    page.wait_for_url("**" + first)


def test_a_class_page_sorts_and_filters(watched: Watched) -> None:
    page = watched.page
    watched.goto("/browse")
    page.click("a[href='/browse/Position']")
    page.wait_for_url("**/browse/Position")
    total = page.locator("table.browse tbody tr").count()
    page.click("table.browse th a:has-text('holder')")
    page.wait_for_url("**_sort=holder*")
    holders = page.locator("table.browse tbody td:nth-child(2)").all_inner_texts()
    filled = [h for h in holders if h]
    assert filled == sorted(filled, key=str.casefold), holders
    facet = page.locator("section.facet[aria-label='holder'] a", has_text="Japan").first
    expected = int(facet.locator("xpath=following-sibling::span").inner_text())
    facet.click()
    page.wait_for_url("**holder=*")
    rows = page.locator("table.browse tbody tr")
    assert rows.count() == expected < total
    assert all("Japan" in t for t in page.locator("table.browse tbody td:nth-child(2)").all_inner_texts())
    csv = page.locator("a", has_text="CSV").first.get_attribute("href") or ""
    assert "_format=csv" in csv and "holder=" in csv
    watched.shot("browse-position")


# Every page kind, audited by axe-core; any serious or critical violation fails.
# One page of each kind (the SPARQL page with results, once as a table and once as a chart).
AUDITED = ["/", "/query/claims?state=USSR", "/query/claims?state=Japan", "/entity/state/japan",
           "/source/urdupoint-2021-10-18", "/sources",
           "/timeline", "/map", "/sparql-editor?query=SELECT+%3Fs+WHERE+%7B%3Fs+a+dk%3AClaim%7D&view=table",
           "/sparql-editor?query=SELECT+%3Fk+%28COUNT%28*%29+AS+%3Fn%29+WHERE+%7B%3Fs+a+%3Fk%7D+GROUP+BY+%3Fk&view=chart",
           "/search?q=1956", "/browse", "/browse/Position?_sort=holder", "/ontology", "/ontology/Claim",
           "/no/such/page"]


@pytest.mark.parametrize("size", [{"width": 1280, "height": 900}, {"width": 390, "height": 844}],
                         ids=["desktop", "phone"])
def test_axe_finds_no_serious_or_critical_violation(browser: object, base_url: str, size: dict) -> None:
    found = []
    context = browser.new_context(viewport=size)  # type: ignore[attr-defined]
    page = context.new_page()
    try:
        for path in AUDITED:
            page.goto(base_url + path, wait_until="load")
            found += [f"{path}: {v}" for v in serious_axe_violations(page)]
    finally:
        context.close()
    assert found == [], "\n".join(found)


def test_a_tapped_span_shows_its_assertions_on_a_phone(browser: object, base_url: str) -> None:
    w = Watched(browser, base_url, viewport={"width": 390, "height": 844}, device_scale_factor=1, is_mobile=True,
                has_touch=True)
    try:
        w.goto("/source/urdupoint-2021-10-18")
        mark = w.page.locator("mark.s-467-678").first
        mark.scroll_into_view_if_needed()
        mark.tap()
        panel = w.page.locator("#span-panel")
        assert panel.is_visible()
        box = panel.bounding_box()
        assert box is not None and box["y"] >= 0 and box["y"] + 40 < 844, box  # on screen, not 2,458 px below
        assert "Japan's claim to the Northern Territories" in panel.inner_text()
        link = panel.locator("a", has_text="Japan's claim to the Northern Territories").first
        lb = link.bounding_box()
        assert lb is not None and 0 <= lb["y"] <= 844 - lb["height"], lb
        w.shot("phone-source-tapped")
        panel.locator("button.span-close").tap()
        assert panel.is_hidden()
    finally:
        w.close()


@pytest.mark.parametrize("path", ["/", "/entity/territory/iturup", "/source/urdupoint-2021-10-18", "/timeline",
                                  "/map", "/sparql-editor", "/search?q=1956", "/browse/Position", "/ontology/Claim"])
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
