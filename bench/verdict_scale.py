"""How long the build's verdict (SHACL, QC checks, spans) takes on a large synthetic project.

    python bench/verdict_scale.py                          # 1M
    python bench/verdict_scale.py --size 100000 --keep /tmp/scale

Generates (bench/synthetic.py, fixed seed) and builds the project unless `--keep` already holds it,
then runs `dispute-kg build --force` as a user would (store, then verdict on one thread per core beside
the search index's rebuild) and times, in this process,
each part of the verdict `KnowledgeGraph.check` computes: SHACL compiled to queries in the store
(validation/shacl_store.py), each QC check of queries/checks/, the standard-vocabulary check and the
span check, then the whole verdict as the build runs it, on one thread and on one per core. The build
runs its verdict on an in-memory copy of the new graph (made from the quads it has just read); so do
these timings, on a copy made here from the published store (its time is shown
apart), unless `--on-disk`. Written into bench/RESULTS.md (section `verdict-scale`) by
`results.write_section`.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from results import write_section  # noqa: E402
from synthetic import generate_project  # noqa: E402


def timed(fn):
    t, c = time.perf_counter(), time.process_time()
    value = fn()
    return value, time.perf_counter() - t, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--keep", type=Path, default=None, help="Keep (and reuse) the generated project here.")
    ap.add_argument("--no-cli", action="store_true", help="Skip the `dispute-kg build --force` run.")
    ap.add_argument("--no-qc", action="store_true",
                    help="Skip the QC checks of queries/checks/ (bench/build_scale.py times each in its own process).")
    ap.add_argument("--on-disk", action="store_true",
                    help="Time the parts on the published on-disk store rather than an in-memory copy.")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    import pyoxigraph as ox

    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.stores.oxigraph import OxigraphStore
    from dispute_kg.validation.checks import check_standard_terms, run_check
    from dispute_kg.validation.provenance import check_spans
    from dispute_kg.validation.shacl import load_shapes
    from dispute_kg.validation.shacl_store import compile_shapes, run_shacl_in_store
    from dispute_kg.validation.verdict import check_store

    work = Path(args.keep or tempfile.mkdtemp(prefix="dispute-kg-verdict-"))
    root = work / f"synthetic-{args.size}"
    if not (root / "ontology").exists():
        generate_project(root, args.size)
    for folder in ("shapes", "queries/checks"):  # this checkout's rules, on the synthetic data
        for old in (root / folder).glob("*.*"):
            old.unlink()
        for f in (HERE.parent / folder).glob("*.*"):
            (root / folder / f.name).write_bytes(f.read_bytes())
    load = os.getloadavg()[0]
    lines = []
    if not args.no_cli:
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(root), "build", "--force"],
                             capture_output=True, text=True)
        total = time.perf_counter() - t
        store_s = re.search(r"\(([\d.]+) s\)", out.stdout)
        verdict = next((ln for ln in out.stdout.splitlines() if ln.startswith("verdict:")), "no verdict printed")
        lines.append(f"`dispute-kg build --force`: **{total:.1f} s** to the verdict line (`{verdict}`), "
                     f"of which the store {store_s.group(1) if store_s else '?'} s; exit code {out.returncode}.")
        print(lines[-1], flush=True)
    rows = []
    copied = ""
    with KnowledgeGraph.open(project=root, auto_build=False) as kg:
        store = kg.store
        if not args.on_disk:
            def copy():
                mem = ox.Store()
                mem.bulk_load(store.store.dump(format=ox.RdfFormat.N_QUADS), format=ox.RdfFormat.N_QUADS)
                return OxigraphStore(mem, None, read_only=True)
            store, wall, cpu = timed(copy)
            copied = (f" The parts below ran on an in-memory copy of the graph, as the build's verdict does "
                      f"(this script's copy, through N-Quads, took {wall:.1f} s wall / {cpu:.1f} s CPU; the "
                      f"build copies from the quads it has just read).")
        shapes = load_shapes(kg.project.shape_files)
        n = len(compile_shapes(shapes))
        found, wall, cpu = timed(lambda: run_shacl_in_store(store.store, shapes))
        rows.append((f"SHACL in the store ({n} constraint queries)", wall, cpu, len(found)))
        print(rows[-1], flush=True)
        for path in [] if args.no_qc else kg.project.check_files:
            res, wall, cpu = timed(lambda p=path: run_check(store, p))
            rows.append((f"check {path.stem}", wall, cpu, len(res.rows)))
            print(rows[-1], flush=True)
        res, wall, cpu = timed(lambda: check_standard_terms(store))
        rows.append(("check standard-vocabulary-terms", wall, cpu, len(res.rows)))
        spans, wall, cpu = timed(lambda: check_spans(store))
        rows.append(("span check (Python)", wall, cpu, len(spans)))
        print(rows[-2:], flush=True)
        whole = []  # the parts above as check_store runs them in the build: one thread, then one per core
        for workers in sorted({1, os.cpu_count() or 1}):
            report, wall, cpu = timed(lambda w=workers: check_store(store, kg.project, inconsistencies=[],
                                                                    embedded=True, workers=w))
            whole.append((workers, wall, cpu, "PASS" if report.passed else "FAIL"))
            print(whole[-1], flush=True)
    load = max(load, os.getloadavg()[0])
    table = ["| part of the verdict | wall (s) | CPU of this process (s) | violations |", "|---|---|---|---|"]
    table += [f"| {name} | {w:.1f} | {c:.1f} | {v} |" for name, w, c, v in rows]
    table.append(f"| **total** | **{sum(r[1] for r in rows):.1f}** | **{sum(r[2] for r in rows):.1f}** | |")
    table += ["", "The whole verdict as the build runs it (`check_store`, every part above as one pool of steps):", "",
              "| threads | wall (s) | CPU of this process, all threads (s) | verdict |", "|---|---|---|---|"]
    table += [f"| {w} | {wall:.1f} | {cpu:.1f} | {v} |" for w, wall, cpu, v in whole]
    shared = (f"The machine was shared with other engineers' work (load average up to {load:.1f} on "
              f"{os.cpu_count()} cores): wall-clock times are inflated, CPU times are this process's own."
              if load > (os.cpu_count() or 1) * 0.75 else f"Load average up to {load:.1f} on {os.cpu_count()} cores.")
    skipped = " The QC checks of queries/checks/ were not run (`--no-qc`)." if args.no_qc else ""
    body = (f"Synthetic project of {args.size:,} triples (bench/synthetic.py). {shared}{skipped}{copied}\n\n"
            + "\n".join(lines) + "\n\n" + "\n".join(table))
    print("\n" + body)
    if not args.no_write:
        write_section("verdict-scale", "The build's verdict at scale (`bench/verdict_scale.py`)", body,
                      script="bench/verdict_scale.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
