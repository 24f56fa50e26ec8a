"""Build at scale, and stored-query latency on memory: vs oxigraph:.

    python bench/build_scale.py                      # 100k and 1M builds, query latency at 100k
    python bench/build_scale.py --sizes 100000 --latency-size 100000 --runs 5

For each size: generate a synthetic project (bench/synthetic.py, fixed seed), then time
`dispute_kg.project.build.build` (read and parse every file, OWL 2 RL closure, write the Oxigraph store; the
reasoner is chosen as `dispute-kg build` chooses it: rules above 50k asserted triples) and, separately,
each QC check on the built store (bounded by --check-timeout). `dispute-kg build` then also
validates with SHACL (pyshacl over rdflib), which is not part of the number: see docs/scaling.md.

Latency: every stored query with its documented example parameters, `--runs` times each, on the
embedded store (oxigraph:) and on the in-process rdflib store (memory:), median of each and the ratio.
Prints Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synthetic import generate_project  # noqa: E402


def example_params(kg, query) -> dict[str, str]:
    """The documented examples of required parameters; an IRI example the graph does not have (a synthetic
    graph has other entities) is replaced by the first entity of the parameter's class, or the first state."""
    from dispute_kg.errors import InputError
    from dispute_kg.query.binding import to_term

    params = {}
    for p in query.parameters:
        if not p.example or not p.required:  # optional filters off: the whole answer, capped at 10,000 rows
            continue
        try:
            to_term(p, p.example, kg.store)
            params[p.name] = p.example
        except InputError:
            cls = p.cls or "https://w3id.org/dispute-kg/def#State"
            rows = kg.store.query(f"SELECT ?s WHERE {{ ?s a <{cls}> }} ORDER BY ?s LIMIT 1").rows
            params[p.name] = rows[0]["s"]["value"]
    return params


def build_once(root: Path, size: int, check_timeout: float) -> dict:
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    t = time.monotonic()
    generate_project(root, size)
    generated = time.monotonic() - t
    project = Project.open(root)
    t = time.monotonic()
    report = build(project, force=True)
    seconds = time.monotonic() - t
    checks: dict[str, str] = {}
    for path in project.check_files:
        # one process per check, killed at the time limit (a stopped query's thread cannot be cancelled)
        code = ("import sys, time, pyoxigraph as ox; s = ox.Store.read_only(sys.argv[1]); "
                "q = open(sys.argv[2]).read(); t = time.monotonic(); "
                "n = sum(1 for _ in s.query(q, use_default_graph_as_union=True)); "
                "print(time.monotonic() - t, n)")
        try:
            out = subprocess.run([sys.executable, "-c", code, str(project.store_path), str(path)], capture_output=True,
                                 text=True, timeout=check_timeout, check=True).stdout.split()
            checks[path.stem] = f"{float(out[0]):.1f}" + ("" if out[1] == "0" else f" FAIL ({out[1]} rows)")
        except subprocess.TimeoutExpired:
            checks[path.stem] = f"> {check_timeout:g}"
    return {"size": size, "asserted": report.asserted, "inferred": report.inferred, "build": seconds,
            "generate": generated, "checks": checks, "inconsistencies": len(report.inconsistencies)}


def latency(root: Path, runs: int, timeout: float) -> list[tuple[str, float, float, int, bool]]:
    """(query, memory ms, oxigraph ms, rows, disturbed): every query on oxigraph: first, then on memory:.
    Memory ms is inf when a run passed `timeout`; a stopped rdflib query cannot be cancelled and keeps
    running in the background, so later memory: timings are marked disturbed."""
    from dispute_kg.errors import QueryTimeout
    from dispute_kg.kg import KnowledgeGraph

    errors: dict[str, str] = {}

    def median_ms(kg, name: str, params: dict) -> tuple[float, int]:
        samples, rows = [], 0
        for _ in range(runs):
            t = time.perf_counter()
            try:
                rows = len(kg.run_result(name, params, limit=10000, timeout=timeout).rows)
            except QueryTimeout:
                return float("inf"), rows
            except Exception as exc:  # rdflib fails on some queries: say so and go on
                errors[name] = type(exc).__name__
                return float("nan"), rows
            samples.append(time.perf_counter() - t)
        return statistics.median(samples) * 1000, rows

    with KnowledgeGraph.open(project=root) as ox_kg:
        queries = [(q.name, example_params(ox_kg, q)) for q in ox_kg.queries()]
        on_ox = {name: median_ms(ox_kg, name, params) for name, params in queries}
    out, stopped = [], 0
    with KnowledgeGraph.open("memory:", project=root) as mem_kg:
        for name, params in queries:
            ms, _ = median_ms(mem_kg, name, params)
            out.append((name, ms, on_ox[name][0], on_ox[name][1], stopped > 0))
            stopped += ms == float("inf")
    return out, errors


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--latency-size", type=int, default=100_000,
                    help="Synthetic size for the latency table (0: the shipped article graph).")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--check-timeout", type=float, default=60.0, help="Seconds each QC check may run.")
    ap.add_argument("--query-timeout", type=float, default=60.0, help="Seconds a memory: query may run.")
    ap.add_argument("--keep", type=Path, default=None, help="Keep the generated projects under this folder.")
    args = ap.parse_args()
    out: list[str] = []

    def say(*parts: object, flush: bool = False) -> None:
        """Print a line of the report and keep it for bench/RESULTS.md."""
        line = " ".join(str(p) for p in parts)
        out.append(line)
        print(line, flush=True)
    work = Path(args.keep or tempfile.mkdtemp(prefix="dispute-kg-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.sizes:
        say("| synthetic size | asserted | inferred | inconsistencies | build (s) |")
        say("|---|---|---|---|---|")
    check_times = {}
    for size in args.sizes:
        root = work / f"synthetic-{size}"
        shutil.rmtree(root, ignore_errors=True)
        r = build_once(root, size, args.check_timeout)
        check_times[size] = r["checks"]
        say(f"| {size:,} | {r['asserted']:,} | {r['inferred']:,} | {r['inconsistencies']} | {r['build']:.1f} |",
              flush=True)
        if size != args.latency_size and not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    if check_times:
        say(f"\nQC checks on the built store, seconds each (stopped after {args.check_timeout:g} s):\n")
        say("| check | " + " | ".join(f"{s:,}" for s in args.sizes) + " |")
        say("|---|" + "---|" * len(args.sizes))
    for name in next(iter(check_times.values()), {}):
        say(f"| {name} | " + " | ".join(check_times[s][name] for s in args.sizes) + " |", flush=True)
    if args.latency_size:
        root = work / f"synthetic-{args.latency_size}"
        if not root.exists():
            generate_project(root, args.latency_size)
        where = f"synthetic {args.latency_size:,}"
    else:
        root = HERE.parent
        where = "the shipped article graph"
    rows, errors = latency(root, args.runs, args.query_timeout)
    say(f"\nStored-query latency on {where}, median of {args.runs} runs, example parameters:\n")
    say("| query | rows | memory: (ms) | oxigraph: (ms) | memory/oxigraph |")
    say("|---|---|---|---|---|")
    for name, mem, oxi, n, disturbed in rows:
        if name in errors:
            say(f"| {name} | {n} | fails: {errors[name]} | {oxi:.1f} | - |")
            continue
        shown = f"> {args.query_timeout * 1000:.0f}" if mem == float("inf") else f"{mem:.1f}" + "†" * disturbed
        say(f"| {name} | {n} | {shown} | {oxi:.1f} | {'>' if mem == float('inf') else ''}"
              f"{min(mem, args.query_timeout * 1000) / oxi:.1f}x |", flush=True)
    ratios = [min(m, args.query_timeout * 1000) / o for name, m, o, _, _ in rows if name not in errors]
    if any(r[4] for r in rows):
        say("\n† measured while an earlier, stopped memory: query was still running in the background.")
    say(f"\nMedian ratio memory/oxigraph: {statistics.median(ratios):.1f}x")
    from results import write_section

    write_section("build-scale", "Build at scale and stored-query latency by backend (`bench/build_scale.py`)",
                  "\n".join(out), script="bench/build_scale.py " + " ".join(sys.argv[1:]))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
