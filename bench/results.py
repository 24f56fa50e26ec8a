"""Writing measurements into bench/RESULTS.md: each bench script owns one section, replaced whole in
the run that measured it, stamped with the date, the commit and the machine. Nothing else writes
figures there, so every number in the file was produced by the script named in its section.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"
HEADER = ("# Benchmark results\n\n"
          "Every section below is written by the bench script it names, in the run that measured it "
          "(`bench/results.py`); none is edited by hand.\n")


def commit() -> str:
    """The commit measured, marked `+dirty` when the work tree differs from it."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True, check=True).stdout.strip()
        return head + ("+dirty" if dirty else "")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def stamp(script: str) -> str:
    """One line saying when, on what and by what the figures below it were measured."""
    return (f"Measured {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} at commit `{commit()}` by "
            f"`python {script}`, on {platform.python_implementation()} {platform.python_version()}, "
            f"{platform.machine()}, {os.cpu_count()} cores.")


def write_section(name: str, title: str, body: str, *, script: str) -> str:
    """Replace (or append) the section `name` of RESULTS.md with `title`, the stamp and `body`."""
    begin, end = f"<!-- begin {name} -->", f"<!-- end {name} -->"
    block = f"{begin}\n## {title}\n\n{stamp(script)}\n\n{body.strip()}\n{end}"
    text = RESULTS.read_text(encoding="utf-8") if RESULTS.exists() else HEADER
    if begin in text and end in text:
        head, _, rest = text.partition(begin)
        _, _, tail = rest.partition(end)
        text = head + block + tail
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    tmp = RESULTS.with_name(f".{RESULTS.name}.tmp-{os.getpid()}")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, RESULTS)
    return block
