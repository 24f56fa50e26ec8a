"""Stored queries at 10k, 100k and 1M triples: does each one's cost follow its answer, not the graph?

    python bench/query_scale.py                              # 10k, 100k and 1M, rdflib at 100k
    python bench/query_scale.py --sizes 10000 100000 --keep /tmp/scale

For each size a synthetic project (bench/synthetic.py, fixed seed) is generated and built
(`dispute_kg.project.build.build`, no verdict), then every stored query runs with its documented
example parameters (an IRI example the synthetic graph lacks is replaced by the first entity of the
parameter's class) `--runs` times through `KnowledgeGraph.run_result` with a 10,000-row cap. Reported:
rows, p50 wall-clock time, p50 CPU time of this process (the engine evaluates in the calling thread, so
CPU time is what the query costs even when other processes share the cores), the growth of the p50 from
100k to 1M, and rdflib's in-memory graph (`memory:`) at 100k with the same query. The table is
written into bench/RESULTS.md (section `query-scale`) by `results.write_section`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from build_scale import example_params  # noqa: E402
from results import write_section  # noqa: E402
from synthetic import generate_project  # noqa: E402


def built(work: Path, size: int) -> Path:
    """The synthetic project of `size` triples under `work`, generated and built once."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    root = work / f"synthetic-{size}"
    if not (root / ".dispute-kg" / "current").exists():  # the published generation's pointer
        shutil.rmtree(root, ignore_errors=True)
        generate_project(root, size)
        build(Project.open(root), force=True)
    # the project's stored queries are this checkout's (they are not build inputs)
    for old in (root / "queries").glob("*.rq"):
        old.unlink()
    for rq in (HERE.parent / "queries").glob("*.rq"):
        shutil.copy(rq, root / "queries" / rq.name)
    build(Project.open(root))  # publishes the listings' answers again when the queries changed (query/views.py)
    return root


def answered_from(kg, query, params: dict) -> str:
    """Whether the stored query with these parameters is read from its materialised answer, evaluated
    by the engine and ordered by the layer (`rdf/ordering.py`), or evaluated and ordered by the engine."""
    from dispute_kg.query import views
    from dispute_kg.query.binding import _ordered_here, bind, bound_text

    text = bound_text(query, bind(query, params, kg.store))
    views_file = getattr(kg.store, "views", None)
    if views_file and views.page(views_file, query.name, text, 1, 0) is not None:
        return "file"
    return "engine, ordered here" if _ordered_here(kg.store, query, text, 1, 0, None) is not None else "engine"


def engine_alone(kg, name: str, params: dict, runs: int, timeout: float) -> dict:
    """`measure` with the materialised answers and the layer's ordering out of the way: what the engine
    costs for the same answer, ordered by its own ORDER BY."""
    held, kg.store.views, kg.store.order_here = kg.store.views, None, False
    try:
        return measure(kg, name, params, runs, timeout, give_up=10.0)
    finally:
        kg.store.views, kg.store.order_here = held, True


def filter_params(kg, query) -> dict[str, str]:
    """Each optional IRI parameter bound to the most referenced member of its class (the state with the
    most claims, say), so that a filtered listing is timed as a user filters it; {} if it has none."""
    params = {}
    for p in query.parameters:
        if p.required or p.type != "iri":
            continue
        cls = p.cls or "https://w3id.org/dispute-kg/def#State"
        rows = kg.store.query(f"SELECT ?s (COUNT(*) AS ?n) WHERE {{ ?s a <{cls}> . ?x ?p ?s }} "
                              "GROUP BY ?s ORDER BY DESC(?n) ?s LIMIT 1").rows
        if rows:
            params[p.name] = rows[0]["s"]["value"]
    return params


def measure(kg, name: str, params: dict, runs: int, timeout: float, give_up: float, limit: int = 10000,
            offset: int = 0) -> dict:
    """p50 wall and CPU milliseconds over `runs`, stopping early once one run passes `give_up` s."""
    from dispute_kg.errors import QueryTimeout

    walls, cpus, rows = [], [], 0
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        try:
            rows = len(kg.run_result(name, params, limit=limit, offset=offset or None, timeout=timeout).rows)
        except QueryTimeout:
            return {"wall": float("inf"), "cpu": float("inf"), "rows": rows}
        except Exception as exc:  # rdflib fails on some queries: say which and go on
            return {"wall": float("nan"), "cpu": float("nan"), "rows": rows, "error": type(exc).__name__}
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
        if walls[-1] > give_up:
            break
    return {"wall": statistics.median(walls) * 1000, "cpu": statistics.median(cpus) * 1000, "rows": rows}


def fmt(ms: float, timeout: float) -> str:
    if ms != ms:
        return "fails"
    if ms == float("inf"):
        return f"> {timeout * 1000:,.0f}"
    return f"{ms:,.1f}" if ms < 100 else f"{ms:,.0f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--rdflib-size", type=int, default=100_000, help="Size at which rdflib (memory:) is timed; 0: not.")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--timeout", type=float, default=120.0, help="Seconds one query may run.")
    ap.add_argument("--keep", type=Path, default=None, help="Keep (and reuse) the built projects here.")
    ap.add_argument("--page", type=int, default=100,
                    help="Rows of one page: its first and second page are also timed at the largest size; 0: not.")
    ap.add_argument("--no-write", action="store_true", help="Print the table; leave bench/RESULTS.md alone.")
    args = ap.parse_args()
    from dispute_kg.kg import KnowledgeGraph

    work = Path(args.keep or tempfile.mkdtemp(prefix="dispute-kg-scale-"))
    work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()[0]
    table: dict[str, dict[int, dict]] = {}
    pages: dict[str, dict[str, dict]] = {}
    filtered: dict[str, dict[int, dict]] = {}
    source: dict[str, str] = {}  # at the largest size: "file" (materialised answer) or "engine"
    engine: dict[str, dict] = {}  # the same answers evaluated by the engine, for the listings read from a file
    for size in args.sizes:
        root = built(work, size)
        with KnowledgeGraph.open(project=root) as kg:
            for q in kg.queries():
                r = measure(kg, q.name, example_params(kg, q), args.runs, args.timeout, give_up=10.0)
                table.setdefault(q.name, {})[size] = r
                print(f"{size:>9,} {q.name:24} rows {r['rows']:>6,}  p50 {fmt(r['wall'], args.timeout):>9} ms  "
                      f"cpu {fmt(r['cpu'], args.timeout):>9} ms", flush=True)
                given = filter_params(kg, q)
                if given:
                    r = measure(kg, q.name, {**example_params(kg, q), **given}, args.runs, args.timeout,
                                give_up=10.0)
                    filtered.setdefault(q.name, {})[size] = dict(r, given=", ".join(given))
                    print(f"{size:>9,} {q.name:24} filtered by {given} rows {r['rows']:>6,}  "
                          f"p50 {fmt(r['wall'], args.timeout):>9} ms  cpu {fmt(r['cpu'], args.timeout):>9} ms",
                          flush=True)
                if size == max(args.sizes):
                    source[q.name] = answered_from(kg, q, example_params(kg, q))
                    if source[q.name] != "engine":
                        engine[q.name] = engine_alone(kg, q.name, example_params(kg, q), args.runs, args.timeout)
                        print(f"{size:>9,} {q.name:24} engine alone p50 {fmt(engine[q.name]['wall'], args.timeout)}"
                              " ms", flush=True)
                if args.page and size == max(args.sizes):
                    for which, offset in (("first", 0), ("second", args.page)):
                        r = measure(kg, q.name, example_params(kg, q), args.runs, args.timeout, give_up=10.0,
                                    limit=args.page, offset=offset)
                        pages.setdefault(q.name, {})[which] = r
                        print(f"{size:>9,} {q.name:24} {which} page rows {r['rows']:>4,}  "
                              f"p50 {fmt(r['wall'], args.timeout):>9} ms", flush=True)
    rdflib: dict[str, dict] = {}
    if args.rdflib_size:
        root = built(work, args.rdflib_size)
        with KnowledgeGraph.open(project=root) as ox_kg:
            params = {q.name: example_params(ox_kg, q) for q in ox_kg.queries()}
        with KnowledgeGraph.open("memory:", project=root) as mem:
            for name, p in params.items():
                # a stopped rdflib query cannot be cancelled: one run each, so none disturbs the next
                rdflib[name] = measure(mem, name, p, 1, args.timeout, give_up=0.0)
                print(f"rdflib {args.rdflib_size:,} {name:24} {fmt(rdflib[name]['wall'], args.timeout)} ms",
                      flush=True)
    load = max(load, os.getloadavg()[0])
    big, mid = max(args.sizes), (100_000 if 100_000 in args.sizes else None)
    def size_head() -> list[str]:
        head = [f"rows {s:,}" for s in args.sizes] + [f"p50 {s:,} (ms)" for s in args.sizes]
        head += [f"cpu {s:,} (ms)" for s in args.sizes]
        return head + ([f"growth {mid:,} to {big:,} (cpu)"] if mid and big != mid else [])

    def size_cells(by_size: dict[int, dict]) -> list[str]:
        """Rows, p50 and CPU at each size, and the CPU's growth from 100k to the largest."""
        cells = [f"{by_size[s]['rows']:,}" for s in args.sizes]
        cells += [fmt(by_size[s]["wall"], args.timeout) for s in args.sizes]
        cells += [fmt(by_size[s]["cpu"], args.timeout) for s in args.sizes]
        if mid and big != mid:
            a, b = by_size[mid], by_size[big]
            same = "" if a["rows"] == b["rows"] else " (answer grows)"
            cells.append(f"{b['cpu'] / a['cpu']:.1f}x{same}" if a["cpu"] > 0 else "-")
        return cells

    head = ["query", *size_head(), f"answered at {big:,} from", f"engine alone at {big:,} (ms)"]
    if pages:
        head += [f"first page of {args.page} at {big:,}: rows, p50 (ms)", f"second page at {big:,}: rows, p50 (ms)"]
    if rdflib:
        head += [f"rdflib {args.rdflib_size:,} (ms)", f"rdflib / oxigraph at {args.rdflib_size:,}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, by_size in sorted(table.items()):
        cells = [name, *size_cells(by_size), source.get(name, "-"),
                 fmt(engine[name]["wall"], args.timeout) if name in engine else "-"]
        if pages:
            for which in ("first", "second"):
                r = pages[name][which]
                cells.append(f"{r['rows']:,}, {fmt(r['wall'], args.timeout)}")
        if rdflib:
            r = rdflib[name]
            ox_ms = by_size.get(args.rdflib_size, {}).get("wall", float("nan"))
            cells.append(r.get("error", fmt(r["wall"], args.timeout)))
            stopped = min(r["wall"], args.timeout * 1000)  # a stopped rdflib query counts at its limit
            ratio = stopped / ox_ms if ox_ms and r["wall"] == r["wall"] else float("nan")
            cells.append("-" if ratio != ratio else (">" if r["wall"] == float("inf") else "") + f"{ratio:.0f}x")
        lines.append("| " + " | ".join(cells) + " |")
    shared = (f"The machine was shared with other engineers' work during the run (load average up to "
              f"{load:.1f} on {os.cpu_count()} cores), so wall-clock times are inflated; CPU times are this "
              "process's own.") if load > (os.cpu_count() or 1) * 0.75 else (
              f"Load average during the run: up to {load:.1f} on {os.cpu_count()} cores.")
    body = (f"Every stored query with its documented example parameters, median of {args.runs} runs "
            f"(a run over 10 s is not repeated), row cap 10,000, through the Python API on the embedded store; "
            f"at the largest size also the first and second page of {args.page} rows (`limit`/`offset`). A "
            f"query that runs without parameters is answered from its materialised answer, written beside the "
            f"store generation by the build (\"file\", `query/views.py`); the engine answers the rest, and the "
            f"layer applies an ORDER BY on projected variables to the rows (\"engine, ordered here\", "
            f"`rdf/ordering.py`). \"Engine alone\" is what the same answer costs with neither: the engine "
            f"evaluating and ordering it itself. rdflib (`memory:`, which has "
            f"no materialised answers) one run, stopped at {args.timeout:g} s. {shared}\n\n" + "\n".join(lines))
    if filtered:
        head = ["query", "filtered by", *size_head()]
        more = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for name, by_size in sorted(filtered.items()):
            cells = [name, next(iter(by_size.values()))["given"], *size_cells(by_size)]
            more.append("| " + " | ".join(cells) + " |")
        body += ("\n\nThe listings with an optional filter, each filter parameter bound to the most referenced "
                 "member of its class (the same runs and cap):\n\n" + "\n".join(more))
    print("\n" + body)
    if not args.no_write:
        write_section("query-scale", "Stored queries at scale (`bench/query_scale.py`)", body,
                      script="bench/query_scale.py " + " ".join(sys.argv[1:]))
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
