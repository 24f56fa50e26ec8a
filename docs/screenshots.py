"""Screenshots of every page kind at desktop (1280x900) and phone (390x844) sizes, for docs/web.md.

    .venv/bin/python docs/screenshots.py [--project DIR] [--only NAME ...]

Starts `dispute-kg serve -p 0` on the project (the shipped repository by default), drives Debian's
Chromium (/usr/bin/chromium, or $DISPUTE_KG_CHROMIUM) through Playwright, and writes
docs/screenshots/<page>-<size>.png. The viewport is captured, not the whole page: what a reader sees
first. Exits 2 when Chromium is missing and 3 when the server does not start.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = os.environ.get("DISPUTE_KG_CHROMIUM", "/usr/bin/chromium")
SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# page kind -> (path, what to do before the shot: None, or a CSS selector to click)
PAGES: dict[str, tuple[str, str | None]] = {
    "home": ("/", None),
    "search": ("/search?q=1956", None),
    "browse": ("/browse/Position?_sort=holder", None),
    "ontology": ("/ontology/Claim", None),
    "entity": ("/entity/state/japan", None),
    "query": ("/query/claims?state=Japan#results", None),
    "source": ("/source/urdupoint-2021-10-18", "mark.cite"),
    "map": ("/map", None),
    "timeline": ("/timeline", None),
    "sparql": ("/sparql-editor?query=SELECT+%3Fclaim+%3Flabel+WHERE+%7B+%3Fclaim+a+dk%3AClaim+%3B+rdfs%3Alabel"
               "+%3Flabel+%7D&view=table", None),
    "error": ("/entity/no/such/thing", None),
}


def serve(project: Path) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(project), "serve", "-p", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.terminate()
        print(f"the server did not start: {line!r}", file=sys.stderr)
        raise SystemExit(3)
    return proc, f"http://127.0.0.1:{match.group(1)}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--only", nargs="*", default=None, help="page kinds to shoot (default: all)")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"{CHROMIUM} is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    proc, base = serve(args.project)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True,
                                        args=["--no-sandbox", "--disable-gpu", "--no-first-run"])
            for size, viewport in SIZES.items():
                context = browser.new_context(viewport=viewport, device_scale_factor=1,
                                              is_mobile=size == "phone", has_touch=size == "phone")
                page = context.new_page()
                for name, (path, click) in PAGES.items():
                    if args.only and name not in args.only:
                        continue
                    page.goto(base + path, wait_until="networkidle")
                    if click:
                        target = page.locator(click).nth(3)
                        if size == "phone":
                            target.tap()
                        else:
                            target.click()
                        page.wait_for_timeout(200)
                    file = OUT / f"{name}-{size}.png"
                    page.screenshot(path=str(file))
                    print(f"wrote {file.relative_to(ROOT)}")
                context.close()
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
