"""Scale on real SPARQL servers: push a synthetic project to OpenLink Virtuoso 7 and to `oxigraph serve`
in the same run, then time every stored query through the `sparql:` backend against the same query on
the embedded store.

    python bench/remote_scale.py                  # 1,000,000 triples, 5 runs a query
    python bench/remote_scale.py --size 100000 --runs 3 --no-write

Each server runs on free loopback ports with its files in a temporary folder (tests/servers.py starts
them, as the tests do). `push` verifies every graph's triple count itself; a mismatch stops the run.
Each stored query runs with its documented example parameters (an IRI example the synthetic graph lacks
is replaced by the first entity of the parameter's class) and a 10,000-row cap. Writes its section of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from build_scale import example_params  # noqa: E402
from results import write_section  # noqa: E402
from servers import oxigraph_serve, virtuoso_serve  # noqa: E402
from synthetic import generate_project  # noqa: E402


def push(root: Path, selector: str) -> tuple[float, int]:
    t = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(root), "push", "--to", selector],
                         capture_output=True, text=True)
    seconds = time.monotonic() - t
    if out.returncode != 0:
        raise SystemExit(f"push to {selector} failed ({out.returncode}): {out.stderr.strip()}")
    triples = int(out.stdout.split("pushed ", 1)[1].split(" ", 1)[0])
    return seconds, triples


def p50_ms(kg, name: str, params: dict, runs: int) -> tuple[float, int, str]:
    samples, rows = [], 0
    for _ in range(runs):
        t = time.perf_counter()
        try:
            rows = len(kg.run_result(name, params, limit=10000, timeout=120).rows)
        except Exception as exc:  # an engine refusing a query is a finding, not a crash of the bench
            return float("nan"), 0, f"{type(exc).__name__}: {str(exc)[:120]}"
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000, rows, ""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--no-write", action="store_true", help="Print the section; do not update RESULTS.md.")
    ap.add_argument("--project", type=Path, default=None,
                    help="A synthetic project generated and built earlier (bench/synthetic.py); it is only read, "
                         "and its build is not timed again.")
    args = ap.parse_args()

    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    with tempfile.TemporaryDirectory(prefix="remote-scale-") as tmp:
        if args.project:
            root = args.project
            report = build(Project.open(root))  # up to date: reads the manifest's counts
            built = float("nan")
        else:
            root = Path(tmp) / "project"
            generate_project(root, args.size)
            t = time.monotonic()
            report = build(Project.open(root), force=True)
            built = time.monotonic() - t
        local = KnowledgeGraph.open(project=root)
        queries = [(q.name, example_params(local, q)) for q in local.queries()]
        embedded = {name: p50_ms(local, name, params, args.runs) for name, params in queries}

        pushes: dict[str, tuple[float, int]] = {}
        remote: dict[str, dict[str, tuple[float, int, str]]] = {}
        servers = {"Virtuoso 7": virtuoso_serve, "oxigraph serve": oxigraph_serve}
        for label, serve in servers.items():
            with serve(Path(tmp) / label.split()[0].lower()) as selector:
                pushes[label] = push(root, selector)
                with KnowledgeGraph.open(selector, project=root) as kg:
                    remote[label] = {name: p50_ms(kg, name, params, args.runs) for name, params in queries}

    how_built = "built earlier" if built != built else f"built in {built:.1f} s"
    lines = [f"Synthetic project of {report.asserted:,} asserted + {report.inferred:,} inferred triples "
             f"(`bench/synthetic.py`, {how_built}), pushed to each server by `dispute-kg push` "
             "(every graph's count verified).", "",
             "| server | push (s) | triples | triples/s |", "|---|---|---|---|"]
    for label, (seconds, triples) in pushes.items():
        lines.append(f"| {label} | {seconds:.1f} | {triples:,} | {triples / seconds:,.0f} |")
    lines += ["", f"Stored queries, p50 of {args.runs} runs (ms), rows in brackets; the `sparql:` backend "
              "against the embedded store:", "",
              "| query | embedded | " + " | ".join(pushes) + " |", "|---|---" + "|---" * len(pushes) + "|"]
    notes = []
    for name, _ in queries:
        ms, rows, _ = embedded[name]
        cells = [f"{ms:,.1f} ({rows:,})"]
        for label in pushes:
            rms, rrows, err = remote[label][name]
            if err:
                cells.append("refused")
                notes.append(f"- `{name}` on {label}: {err}")
            else:
                cells.append(f"{rms:,.1f} ({rrows:,})" + (" rows differ" if rrows != rows else ""))
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    if notes:
        lines += ["", "Refused:", *notes]
    body = "\n".join(lines)
    print(body)
    if not args.no_write:
        write_section("remote-scale", f"Push and stored queries on real servers ({report.asserted:,} triples)",
                      body, script="bench/remote_scale.py")


if __name__ == "__main__":
    main()
