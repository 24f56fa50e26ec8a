"""The lookup graph and the page's deferred lookups against what they replace, in one process, turn about.

    python bench/lookups_ab.py --keep /work/bench-work        # the 1M synthetic project, built if missing

Timings on this shared machine drift by a third between runs of `query_scale.py` (other work on the
host), so each change is measured against its predecessor here, alternating the two on the same store
in the same process, and reported as a ratio as well as in ms:

- `agreements` for the most referenced party and `timeline` (the whole answer, by the engine, as the
  build materialises it): the kind read from the lookup graph (`dk:kind`, reasoning/lookups.py)
  against the kind found with a NOT EXISTS over the node's types;
- `provenance` for its example subject (the most linked state), its first page of 100 rows through
  the API: with the page's lookups deferred (`sparql_parse.deferred_lookups`) and the start read from the lookup graph
  (`dk:quoteStart`), with the start from the lookup graph alone, and as before (`oa:hasSelector/oa:start`,
  every lookup made for every row).

The table is written into bench/RESULTS.md (section `lookups-ab`) by `results.write_section`.
"""

from __future__ import annotations

import argparse
import copy
import os
import statistics
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent / "tests"))

from build_scale import example_params  # noqa: E402
from query_scale import built, filter_params  # noqa: E402
from results import write_section  # noqa: E402

OLD_KIND = """  OPTIONAL {{
    ?{node} a ?kindClass .
    ?kindClass rdfs:label ?kind .
    FILTER (?kindClass = dk:{cls} || EXISTS {{ ?kindClass rdfs:subClassOf dk:{cls} }}
            || EXISTS {{ ?kindClass rdfs:subClassOf/rdfs:subClassOf dk:{cls} }}
            || EXISTS {{ ?kindClass rdfs:subClassOf/rdfs:subClassOf/rdfs:subClassOf dk:{cls} }})
    FILTER NOT EXISTS {{
      ?{node} a ?narrower .
      ?narrower rdfs:subClassOf ?kindClass .
      FILTER (?narrower != ?kindClass)
    }}
  }}
"""


def old_kind(text: str, node: str, cls: str) -> str:
    start = text.index(f"  OPTIONAL {{\n    ?{node} dk:kind ?kindClass")
    end = text.index("  }\n", start) + 4
    return text[:start] + OLD_KIND.format(node=node, cls=cls) + text[end:]


def variant(query, text: str | None = None, deferred: bool = True):
    """The stored query with another text (read as a file, so its binding places and ORDER BY are found
    again) or without deferred lookups."""
    import tempfile

    from dispute_kg.query.catalog import load_query

    if text is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"{query.name}.rq"
            path.write_text(text, encoding="utf-8")
            query = load_query(path)
    else:
        query = copy.copy(query)
    if not deferred:
        query._deferred = None
    return query


def turn_about(runs: dict, n: int) -> dict[str, float]:
    """Median ms of each callable, run in turn `n` times after one warm-up each."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for fn in runs.values():
        fn()
    for _ in range(n):
        for name, fn in runs.items():
            t = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - t) * 1000)
    return {name: statistics.median(ts) for name, ts in times.items()}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--size", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--keep", type=Path, required=True, help="Where the synthetic project is (or is built).")
    ap.add_argument("--no-write", action="store_true")
    args = ap.parse_args()
    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.query.binding import bind, bound_text, run_bound

    root = built(args.keep, args.size)
    rows: list[tuple[str, str, str, float, float]] = []
    with KnowledgeGraph.open(project=root) as kg:
        store = kg.store
        store.views = None  # the engine answers, as when the build materialises the listings

        def engine(text: str):
            return lambda: store.query(text)

        agreements = kg.catalog.get("agreements")
        party = filter_params(kg, agreements)
        new = bound_text(agreements, bind(agreements, party, store))
        before = variant(agreements, old_kind(agreements.text, "agreement", "Agreement"))
        old = bound_text(before, bind(before, party, store))
        assert store.query(new).rows == store.query(old).rows
        got = turn_about({"new": engine(new), "old": engine(old)}, args.runs)
        rows.append((f"agreements, party = {party['party'].rsplit('/', 1)[-1]}",
                     f"{len(store.query(new).rows):,}", "kind by NOT EXISTS over the types", got["old"], got["new"]))

        timeline = kg.catalog.get("timeline")
        new_t, old_t = timeline.text, old_kind(timeline.text, "event", "Event")
        assert store.query(new_t).rows == store.query(old_t).rows
        got = turn_about({"new": engine(new_t), "old": engine(old_t)}, args.runs)
        rows.append(("timeline (whole answer, engine)", f"{len(store.query(new_t).rows):,}",
                     "kind by NOT EXISTS over the types", got["old"], got["new"]))

        provenance = kg.catalog.get("provenance")
        params = example_params(kg, provenance)  # the subject query_scale.py times (the most linked state)
        subject = params["subject"]
        path_start = variant(provenance, provenance.text.replace("?derivation dk:quoteStart ?start",
                                                                  "?derivation oa:hasSelector/oa:start ?start"),
                             deferred=False)
        no_defer = variant(provenance, deferred=False)
        assert provenance.deferred() is not None

        def page(query):
            text = bound_text(query, bind(query, params, store))
            return lambda: run_bound(store, query, text, limit=100)

        first = page(provenance)().rows
        assert first == page(no_defer)().rows == page(path_start)().rows
        got = turn_about({"new": page(provenance), "start": page(no_defer), "old": page(path_start)}, args.runs)
        label = f"provenance, subject = {subject.rsplit('/', 1)[-1]}, first page of 100"
        rows.append((label, "100", "start through the selectors, every lookup for every row", got["old"], got["new"]))
        rows.append((label, "100", "start from the lookup graph, every lookup for every row", got["start"],
                     got["new"]))

    load = os.getloadavg()
    body = (f"Synthetic project of {args.size:,} triples (bench/synthetic.py, built by `build`); each pair run in "
            f"turn {args.runs} times in one process on the same store, median; the answers of the two are "
            "checked equal first. The materialised listings are off, so the engine answers.\n\n"
            "| query | rows | before (what it replaces) | before (ms) | now (ms) | before / now |\n"
            "|---|---|---|---|---|---|\n")
    for name, n, before, old_ms, new_ms in rows:
        body += f"| {name} | {n} | {before} | {old_ms:.1f} | {new_ms:.1f} | {old_ms / new_ms:.2f}x |\n"
    body += f"\nLoad average when the run ended (1, 5, 15 min): {load[0]:.1f}, {load[1]:.1f}, {load[2]:.1f}.\n"
    print(body)
    if not args.no_write:
        write_section("lookups-ab", "The lookup graph and deferred lookups against what they replace "
                      "(`bench/lookups_ab.py`)", body, script="bench/lookups_ab.py " + " ".join(sys.argv[1:]))


if __name__ == "__main__":
    main()
