"""Wall time of one Reconciliation API batch of 50 queries through `dispute-kg serve` (target: under 1 s).

    python bench/reconcile_bench.py                 # 50 queries a batch, 20 batches, shipped project
    python bench/reconcile_bench.py --queries 100 --batches 10

Starts `python -m dispute_kg serve -p 0` on the shipped project (built first if needed), times the first
batch (which reads the service's index from the store) apart from the rest, then POSTs the same
OpenRefine-shaped batch (`queries=` form field; names as a spreadsheet has them: other case, other
language, "Island(s)" added or missing, a type on most) and reports the median and worst wall time
against the 1 s target, and writes its section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from results import write_section
from serve_load import ROOT, start_server

TARGET_S = 1.0
NAMES = [
    ("Iturup", "Island"), ("etorofu island", "Island"), ("KUNASHIRI", "Territory"), ("Habomai Islands", None),
    ("shikotan", "Island"), ("Kuril Islands", "Territory"), ("Northern Territories", None), ("Okinawa", "Territory"),
    ("Japan", "State"), ("Russian Federation", "State"), ("Soviet Union", "State"), ("Russian Empire", "State"),
    ("United States of America", "State"), ("Tokyo", "Place"), ("Singapore", None), ("Hirokazu Matsuno", "Person"),
    ("Matsuno", "Person"), ("Chief Cabinet Secretary", "Office"), ("Treaty of Shimoda", "Agreement"),
    ("1956 Joint Declaration", "Agreement"), ("peace treaty", "Agreement"), ("World War II", None),
    ("Sputnik", None), ("UrduPoint", None), ("Zzyzx", None),
]


def batch(n: int) -> dict[str, dict]:
    out = {}
    for i in range(n):
        name, kind = NAMES[i % len(NAMES)]
        q: dict = {"query": name if i < len(NAMES) else name.lower(), "type_strict": "should"}
        if kind:
            q["type"] = kind
        out[f"q{i}"] = q
    return out


def post(port: int, body: bytes) -> tuple[float, dict]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("POST", "/reconcile", body, {"Content-Type": "application/x-www-form-urlencoded"})
    resp = conn.getresponse()
    data = resp.read()
    elapsed = time.perf_counter() - started
    conn.close()
    if resp.status != 200:
        raise SystemExit(f"/reconcile answered {resp.status}: {data[:200]!r}")
    return elapsed, json.loads(data)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--queries", type=int, default=50)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--project", type=Path, default=ROOT)
    ap.add_argument("--no-write", action="store_true", help="Print only; leave bench/RESULTS.md alone.")
    args = ap.parse_args()
    if args.queries < 1 or args.batches < 1:
        ap.error("--queries and --batches must be at least 1")
    body = urllib.parse.urlencode({"queries": json.dumps(batch(args.queries))}).encode()
    proc, port = start_server(args.project, None)
    try:
        first, answer = post(port, body)
        if len(answer) != args.queries:
            raise SystemExit(f"asked {args.queries} queries, got {len(answer)} results")
        matched = sum(1 for r in answer.values() if r["result"] and r["result"][0]["match"])
        times = [post(port, body)[0] for _ in range(args.batches)]
    finally:
        proc.terminate()
        proc.wait(10)
    median, worst = statistics.median(times), max(times)
    table = (f"| batch | queries | wall time | ratio to the {TARGET_S:g} s target |\n|---|---|---|---|\n"
             f"| first (reads the index from the store) | {args.queries} | {first:.3f} s | {first / TARGET_S:.2f} |\n"
             f"| median of {args.batches} | {args.queries} | {median:.3f} s | {median / TARGET_S:.2f} |\n"
             f"| worst of {args.batches} | {args.queries} | {worst:.3f} s | {worst / TARGET_S:.2f} |\n\n"
             f"{matched} of {args.queries} queries had a `match: true` top candidate. One POST of the "
             "whole batch as the form field `queries`, as OpenRefine sends it, to `dispute-kg serve` on "
             "127.0.0.1 (shipped project, embedded store), wall time including HTTP.")
    print(table)
    if not args.no_write:
        write_section("reconcile", "Reconciliation API: a batch of queries", table, script="bench/reconcile_bench.py")


if __name__ == "__main__":
    main()
