"""Cold query cost: `dispute-kg query run claims -p state=Japan` vs a bare pyoxigraph process.

Both are fresh Python processes on the same built Oxigraph store, run alternately. The bare one
imports pyoxigraph, opens the store read-only and runs the stored `claims` query with the state
already bound to Japan's IRI (a VALUES block put in by hand); the CLI also parses arguments, checks
the store is fresh, reads the catalogue, resolves the label "Japan" and prints a table. Reported:
the median wall time of each and their ratio (target: at most 1.2x).

The CLI normally takes the quick route (the query index `build` writes vouches for the store and
holds the parsed query; the store generation is resolved from `.dispute-kg/current` and held with a
shared flock, plain os calls). A third process is timed for context: the same command on the full route,
as when a stored query was edited since the last build (the index is removed before each run).

    python bench/query_cold.py [--runs 15] [--project DIR] [--no-write]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TITLE = "Cold stored query: `dispute-kg query run claims -p state=Japan`"
TARGET = 1.2

BARE = """
import sys
import pyoxigraph as ox
store = ox.Store.read_only(sys.argv[1])
text = open(sys.argv[2], encoding="utf-8").read()
at = text.index("WHERE {") + len("WHERE {")
text = text[:at] + " VALUES (?__state_iri) { (<https://w3id.org/dispute-kg/id/state/japan>) } " + text[at:]
rows = list(store.query(text, use_default_graph_as_union=True))
print(len(rows))
"""


def timed(cmd: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--project", type=Path, default=ROOT)
    parser.add_argument("--no-write", action="store_true", help="Do not update bench/RESULTS.md.")
    args = parser.parse_args()
    project = args.project.resolve()
    python = sys.executable
    # An installed package has its bytecode compiled at install time; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would recompile every module on every run and measure that instead.
    subprocess.run([python, "-m", "compileall", "-q", str(ROOT / "src")], check=True, capture_output=True)
    subprocess.run([python, "-m", "dispute_kg", "--project", str(project), "build"], check=True,
                   capture_output=True)
    from dispute_kg.project.folder import Project

    store = Project.open(project).store_path  # the published generation
    query = project / "queries" / "claims.rq"
    script = Path(python).with_name("dispute-kg")
    cli = [str(script) if script.exists() else python, *([] if script.exists() else ["-m", "dispute_kg"]),
           "--project", str(project), "query", "run", "claims", "-p", "state=Japan"]
    bare = [python, "-c", BARE, str(store), str(query)]
    index = project / ".dispute-kg" / "query-index.marshal"
    timed(cli, project)  # warm the OS file cache for both, as a user's second run would be
    timed(bare, project)
    if not index.exists():
        raise SystemExit(f"{index} is missing after a build: the quick route cannot be measured")
    cli_times, bare_times, full_times = [], [], []
    for _ in range(args.runs):
        cli_times.append(timed(cli, project))
        bare_times.append(timed(bare, project))
        index.unlink()
        full_times.append(timed(cli, project))  # the full route, which writes the index again
    cli_median, bare_median = statistics.median(cli_times), statistics.median(bare_times)
    full_median = statistics.median(full_times)
    ratio = cli_median / bare_median
    verdict = "meets" if ratio <= TARGET else "misses"
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    body = (f"{args.runs} alternating runs each, fresh processes on the same built store "
            f"(load average at the end: {load}).\n\n"
            "| process | median (ms) | min (ms) | max (ms) |\n|---|---|---|---|\n"
            f"| `dispute-kg query run claims -p state=Japan` | {cli_median * 1000:.0f} | "
            f"{min(cli_times) * 1000:.0f} | {max(cli_times) * 1000:.0f} |\n"
            f"| bare `python -c` pyoxigraph, same store and SPARQL | {bare_median * 1000:.0f} | "
            f"{min(bare_times) * 1000:.0f} | {max(bare_times) * 1000:.0f} |\n"
            f"| the same command on the full route (no query index) | {full_median * 1000:.0f} | "
            f"{min(full_times) * 1000:.0f} | {max(full_times) * 1000:.0f} |\n\n"
            f"Median ratio: **{ratio:.2f}x** ({verdict} the {TARGET}x target). The full route, taken when a "
            f"stored query or an input changed since the last build, is {full_median / bare_median:.2f}x.\n")
    print(f"{TITLE}\n\n{body}")
    if not args.no_write:
        sys.path.insert(0, str(ROOT / "bench"))
        from results import write_section

        write_section("query-cold", TITLE, body, script="bench/query_cold.py")


if __name__ == "__main__":
    main()
