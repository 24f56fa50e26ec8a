"""Incremental validation of a 10-assertion input vs a full pyshacl validation of the whole graph.

    python bench/validate_incremental.py                          # ~100k and ~1M triples
    python bench/validate_incremental.py --sizes 100000 --full-budget 600

For each size: generate a synthetic project (bench/synthetic.py, seed 7), build it (`build`; above
50k asserted triples the build reasons with rules.py), write an input of 10 new positions (label,
holder, stance kind, stance, topic, provenance from an existing selection: 60 triples), then time

- incremental: `dispute_kg.validation.pipeline.validate` in this process, the same call `dispute-kg
  validate` makes: parse, vocabulary, neighbourhood from the store, OWL 2 RL on it, the shapes (compiled
  to queries) on the focus nodes, provenance, consistency, QC checks, duplicates. "cold" includes
  reading the ontology and shapes the build compiled (once per process); "warm" is the median of the
  next runs; "command" is `dispute-kg validate` as a new process (imports, store open, all of it);
- add: the same input committed by `add` on a copy of the project, and the part of it spent
  materialising the new generation's listings (`query/views.py`);
- full: pyshacl (same shapes, same settings) over the whole store (asserted + inferred graphs, read
  into rdflib) plus the input, in a child process stopped after --full-budget seconds; then the
  result is a lower bound. It does not even re-close the graph under OWL 2 RL, which would cost more.

Writes its section of bench/RESULTS.md (`results.write_section`) and prints it.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

ID = "https://w3id.org/dispute-kg/id/"
DK = "https://w3id.org/dispute-kg/def#"


def make_input(root: Path, dest: Path, n: int = 10) -> Path:
    """n new positions held by existing states, each derived from an existing selection."""
    first = sorted((root / "data" / "assertions").glob("synthetic-0*.nt"))[0].read_text()
    selections = re.findall(rf"<({ID}selection/synthetic-\d+/\d+-\d+)> <http://www.w3.org/1999/02/22-rdf-"
                            r"syntax-ns#type>", first)[:n]
    states = sorted(set(re.findall(rf"<({ID}state/synthetic-\d+)>", first)))
    lines = ["@prefix dk: <https://w3id.org/dispute-kg/def#> .",
             "@prefix prov: <http://www.w3.org/ns/prov#> .",
             "@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .", ""]
    agreements = sorted(set(re.findall(rf"<({ID}agreement/synthetic-\d+)>", first)))
    for i in range(n):
        lines.append(f"""<{ID}position/bench-{i}> a dk:Position ;
    rdfs:label "benchmark position {i}"@en ;
    prov:wasDerivedFrom <{selections[i % len(selections)]}> ;
    dk:holder <{states[i % len(states)]}> ;
    dk:stanceKind dk:Hope ;
    dk:stance "the matter should be settled soon ({i})"@en ;
    dk:topic <{agreements[i % len(agreements)]}> .
""")
    dest.write_text("\n".join(lines), encoding="utf-8")
    return dest


def full_child(root: str, input_path: str) -> None:
    """Run in a child process: pyshacl over the whole store plus the input; print seconds as JSON."""
    import pyoxigraph as ox

    from dispute_kg.project.folder import Project
    from dispute_kg.rdf.convert import ox_to_rdflib as to_rdflib
    from dispute_kg.rdf.convert import quads_to_graph
    from dispute_kg.validation.shacl import load_shapes, run_shacl

    project = Project.open(root)
    started = time.perf_counter()
    store = ox.Store.read_only(str(project.store_path))
    graph = quads_to_graph(store)
    for q in ox.parse(path=input_path, format=ox.RdfFormat.TURTLE):
        graph.add((to_rdflib(q.subject), to_rdflib(q.predicate), to_rdflib(q.object)))
    loaded = time.perf_counter() - started
    result = run_shacl(graph, load_shapes(project.shape_files))
    print(json.dumps({"seconds": time.perf_counter() - started, "load": loaded, "triples": len(graph),
                      "violations": len(result.errors)}))


def run_full(root: Path, input_path: Path, budget: float) -> dict:
    started = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, __file__, "--full-child", str(root), str(input_path)],
                             capture_output=True, text=True, timeout=budget)
    except subprocess.TimeoutExpired:
        return {"seconds": time.perf_counter() - started, "lower_bound": True}
    if out.returncode != 0:
        raise RuntimeError(out.stderr[-2000:])
    data = json.loads(out.stdout.strip().splitlines()[-1])
    data["lower_bound"] = False
    return data


def bench(size: int, workdir: Path, budget: float, runs: int) -> dict:
    from synthetic import generate_project

    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project
    from dispute_kg.validation.pipeline import validate

    root = workdir / f"synthetic-{size}"
    if not (root / ".dispute-kg" / "current").exists():
        t = time.perf_counter()
        generate_project(root, size)
        generated = time.perf_counter() - t
    else:
        generated = 0.0
    project = Project.open(root)
    t = time.perf_counter()
    report = build(project)
    built = time.perf_counter() - t
    input_path = make_input(root, workdir / f"input-{size}.ttl")

    t = time.perf_counter()
    first = validate(project, [input_path])
    cold = time.perf_counter() - t
    assert first.conforms, first.to_text()
    warm_times, warm_cpu, stages = [], [], []
    for _ in range(runs):
        t, c = time.perf_counter(), time.process_time()
        last = validate(project, [input_path])
        warm_times.append(time.perf_counter() - t)
        warm_cpu.append(time.process_time() - c)  # this process's CPU: less swayed by other work on the machine
        stages.append(last.seconds)
    full = run_full(root, input_path, budget) if budget > 0 else {"seconds": float("nan"), "lower_bound": True}
    process = []
    for _ in range(3):  # the whole command in a new process: imports, store open, schema read, validation
        t = time.perf_counter()
        out = subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(root), "validate", str(input_path)],
                             capture_output=True, text=True)
        process.append(time.perf_counter() - t)
        assert out.returncode == 0, out.stdout + out.stderr
    warm = statistics.median(warm_times)
    add_s, views_s = commit_once(root, input_path, workdir / f"add-{size}")
    return {"add_s": add_s, "add_views_s": views_s,
            "size": size, "asserted": report.asserted, "inferred": report.inferred, "generated_s": generated,
            "build_s": built, "input_triples": first.triples, "focus_nodes": len(last.focus_nodes),
            "neighbourhood": last.neighbourhood, "cold_s": cold, "warm_s": warm, "warm_all": warm_times,
            "stages": {k: statistics.median(st.get(k, 0.0) for st in stages) for k in last.seconds},
            "warm_cpu_s": statistics.median(warm_cpu), "full": full, "speedup": full["seconds"] / warm,
            "process_s": statistics.median(process)}


def commit_once(root: Path, input_path: Path, dest: Path) -> tuple[float, float]:
    """`add` of the same input, timed on a copy of the project (the kept one stays as it was): wall seconds
    for the whole addition and for the part spent materialising the new generation's listings."""
    import os
    import shutil

    import dispute_kg.project.build as build_module
    from dispute_kg.project.additions import add
    from dispute_kg.project.folder import Project

    shutil.rmtree(dest, ignore_errors=True)
    # RocksDB's table files are never written again: linked, not copied; everything else is copied, so that
    # nothing the addition rewrites in place (the search index) is shared with the kept project
    shutil.copytree(root, dest, copy_function=lambda a, b: os.link(a, b) if a.endswith(".sst") else shutil.copy2(a, b))
    spent = []
    real = build_module.materialise_views

    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            spent.append(time.perf_counter() - t)

    build_module.materialise_views = timed
    try:
        t = time.perf_counter()
        report, addition = add(Project.open(dest), [input_path], agent="bench")
        total = time.perf_counter() - t
    finally:
        build_module.materialise_views = real
        shutil.rmtree(dest, ignore_errors=True)
    assert addition is not None, report.to_text()
    return total, sum(spent)


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--full-child":
        full_child(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--full-budget", type=float, default=900.0,
                        help="seconds the full validation may take before it is stopped (then a lower bound); "
                             "0 skips it")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="dispute-kg-validate-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for size in args.sizes:
        r = bench(size, workdir, args.full_budget, args.runs)
        results.append(r)
        print(json.dumps(r), file=sys.stderr, flush=True)
    lines = ["Synthetic projects from `bench/synthetic.py` (seed 7), built by `build`. Input: 10 new positions "
             "(label, holder, stance kind, stance, topic, provenance from an existing selection); it conforms. "
             "Incremental = `dispute_kg.validation.pipeline.validate` in this process (cold: the first call, "
             "reading ontology and shapes; warm: median of the next runs). Command = `dispute-kg validate "
             "input.ttl` as a new process (median of 3). Full = pyshacl with the same shapes over the whole "
             "store plus the input, in a child process stopped after the budget (then a lower bound). Warm CPU = "
             "the CPU time this process spent in a warm run (median), which other work on the machine sways less "
             "than the wall clock.", "",
             "| graph (asserted + inferred) | input | focus nodes / triples read | incremental cold | "
             "incremental warm (median) | warm CPU (median) | command, new process | full pyshacl | "
             "speed-up (full / warm) |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        full = r["full"]
        if full["seconds"] != full["seconds"]:  # NaN: not run
            full_text, speed = "not run", "-"
        else:
            full_text = (f"> {full['seconds']:.0f} s (stopped: lower bound)" if full["lower_bound"]
                         else f"{full['seconds']:.1f} s")
            speed = f"{'> ' if full['lower_bound'] else ''}{r['speedup']:.0f}x"
        lines.append(f"| {r['asserted']:,} + {r['inferred']:,} | {r['input_triples']} triples (10 positions) | "
                     f"{r['focus_nodes']} / {r['neighbourhood']} | {r['cold_s']:.2f} s | {r['warm_s']:.2f} s | "
                     f"{r['warm_cpu_s']:.2f} s | {r['process_s']:.2f} s | {full_text} | {speed} |")
    lines += ["", "Committing the same input with `add` (validation, a copy of the store generation with the "
              "input applied, its listings materialised, the files and the history record written, published), "
              "on a copy of the project: " + "; ".join(
                  f"{r['size']:,}: {r['add_s']:.1f} s, of which materialising the listings {r['add_views_s']:.1f} s"
                  for r in results) + "."]
    lines += ["", "Where a warm run's time goes (median per step, wall clock): " + "; ".join(
        f"{r['size']:,}: " + ", ".join(f"{name} {seconds * 1000:.0f} ms" for name, seconds in r["stages"].items())
        for r in results) + "."]
    load = ", ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    lines += ["", f"Load average when the run ended (1, 5, 15 min): {load}; figures measured on a busy machine "
              "are slower than its cores alone would give."]
    body = "\n".join(lines)
    print(body)
    from results import write_section

    write_section("validate-incremental", "Incremental validation of new assertions "
                  "(`bench/validate_incremental.py`)", body,
                  script="bench/validate_incremental.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
