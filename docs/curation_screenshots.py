"""Make the pictures of docs/curation.md: runs the review page's browser test with its screenshots going to
docs/images/ (a real `serve --allow-update`, Debian's Chromium driven by Playwright).

    python docs/curation_screenshots.py
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

if __name__ == "__main__":
    env = {**os.environ, "DISPUTE_KG_SHOTS": str(ROOT / "docs" / "images")}
    raise SystemExit(subprocess.call([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                                      str(ROOT / "tests" / "test_review_e2e.py")], cwd=ROOT, env=env))
