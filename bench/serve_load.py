"""Requests per second and latency of `dispute-kg serve` against `oxigraph serve`, on the same data and the
same bound query, with 1 and 4 keep-alive clients.

    python bench/serve_load.py                 # 5 s per measurement, writes the serve-load section of RESULTS.md
    python bench/serve_load.py --seconds 2 --no-write

Builds the shipped project, exports its graph (asserted and inferred) to N-Quads and loads it into a fresh
`oxigraph serve --union-default-graph` store (the `oxigraph` PyPI package), starts `python -m dispute_kg serve`
with its defaults, and measures two requests on each server:

- the stored query `claims?state=Japan`: `/api/queries/claims?state=Japan` on dispute-kg, and on Oxigraph the
  same query text with the same VALUES block the catalogue binds (`query.binding.bound_text`);
- a plain `SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10` on `/sparql` and on Oxigraph's `/query`.

Each client is a process (so the clients do not share one interpreter lock) holding one HTTP/1.1 keep-alive
connection, asking for SPARQL JSON results as fast as answers come, for `--seconds`. The table gives
requests/s over all clients, the median and 99th-percentile latency, and dispute-kg's requests/s as a ratio
of Oxigraph's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
PLAIN = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 10"
ACCEPT = {"Accept": "application/sparql-results+json"}


def wait_up(port: int, path: str, proc: subprocess.Popen, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{proc.args[:3]} exited with {proc.returncode}")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", path, headers=ACCEPT)
            if conn.getresponse().status == 200:
                conn.close()
                return
        except OSError:
            time.sleep(0.1)
    raise SystemExit(f"no answer on port {port} within {seconds} s")


def start_dispute_kg(project: Path) -> tuple[subprocess.Popen, int]:
    proc = subprocess.Popen([sys.executable, "-m", "dispute_kg", "--project", str(project), "serve", "-p", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", proc.stdout.readline())
    if not match:
        proc.kill()
        raise SystemExit("dispute-kg serve did not start")
    return proc, int(match.group(1))


def start_oxigraph(location: Path) -> tuple[subprocess.Popen, int]:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("oxigraph")
    proc = subprocess.Popen([str(exe), "serve", "--location", str(location),
                             "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, port


def answer(port: int, path: str) -> list[str]:
    """The bindings of a SPARQL JSON answer, as sorted canonical JSON strings."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", path, headers=ACCEPT)
    doc = json.loads(conn.getresponse().read())
    conn.close()
    return sorted(json.dumps(b, sort_keys=True) for b in doc["results"]["bindings"])


def client(port: int, path: str, seconds: float, out: multiprocessing.Queue, headers: dict[str, str]) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    latencies: list[float] = []
    errors = 0
    stop = time.monotonic() + seconds
    while time.monotonic() < stop:
        t = time.perf_counter()
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        response.read()
        if response.status == 200:
            latencies.append(time.perf_counter() - t)
        else:
            errors += 1
    conn.close()
    out.put((latencies, errors))


def measure(port: int, path: str, clients: int, seconds: float, headers: dict[str, str] = ACCEPT
            ) -> dict[str, float]:
    statuses = set()
    for _ in range(30):  # warm-up on one connection
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        assert response.read()
        statuses.add(response.getheader("Cache-Status"))
        conn.close()
    out: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client, args=(port, path, seconds, out, headers))
             for _ in range(clients)]
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    ms = sorted(x * 1000 for lat, _ in results for x in lat)
    errors = sum(e for _, e in results)
    return {"cache": " / ".join(sorted(str(x) for x in statuses)), "rps": len(ms) / seconds,
            "p50": ms[len(ms) // 2] if ms else float("nan"),
            "p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))] if ms else float("nan"), "errors": errors,
            "n": len(ms)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--seconds", type=float, default=5.0, help="Seconds per measurement.")
    ap.add_argument("--project", type=Path, default=ROOT)
    ap.add_argument("--no-write", action="store_true", help="Print only; leave bench/RESULTS.md alone.")
    args = ap.parse_args()

    dk = [sys.executable, "-m", "dispute_kg", "--project", str(args.project)]
    subprocess.run([*dk, "build"], check=True, capture_output=True)
    from dispute_kg.kg import KnowledgeGraph
    from dispute_kg.query.binding import bind, bound_text

    with KnowledgeGraph.open(project=args.project, auto_build=False) as kg:
        stored = kg.catalog.get("claims")
        bound = bound_text(stored, bind(stored, {"state": "Japan"}, kg.store))
    tmp = Path(tempfile.mkdtemp(prefix="serve-load-"))
    servers: list[subprocess.Popen] = []
    try:
        nq = tmp / "graph.nq"
        subprocess.run([*dk, "export", "--format", "nq", "--inferred", "-o", str(nq)], check=True,
                       capture_output=True)
        exe = Path(sys.executable).with_name("oxigraph")
        subprocess.run([str(exe), "load", "--location", str(tmp / "ox"), "--file", str(nq)], check=True,
                       capture_output=True)
        ours, our_port = start_dispute_kg(args.project)
        servers.append(ours)
        theirs, their_port = start_oxigraph(tmp / "ox")
        servers.append(theirs)
        stored_paths = ("/api/queries/claims?state=Japan", "/query?query=" + urllib.parse.quote(bound, safe=""))
        # the stored query twice: as clients repeat it (answered from the answers kept for this store
        # generation), and run afresh each time (Cache-Control: no-cache), which is what a first asker pays
        requests = {
            "stored query `claims?state=Japan`, repeated": (*stored_paths, ACCEPT),
            "stored query `claims?state=Japan`, run each time (`Cache-Control: no-cache`)":
                (*stored_paths, {**ACCEPT, "Cache-Control": "no-cache"}),
            "plain `SELECT ... LIMIT 10`": ("/sparql?query=" + urllib.parse.quote(PLAIN, safe=""),
                                            "/query?query=" + urllib.parse.quote(PLAIN, safe=""), ACCEPT),
        }
        wait_up(our_port, "/api/queries/claims?state=Japan", ours)
        wait_up(their_port, "/query?query=ASK%7B%7D", theirs)
        for label, (our_path, their_path, _) in requests.items():  # the same question gets the same answer
            if "LIMIT" not in label:
                assert answer(our_port, our_path) == answer(their_port, their_path), label
        rows = []
        for label, (our_path, their_path, headers) in requests.items():
            for clients in (1, 4):
                a = measure(our_port, our_path, clients, args.seconds, headers)
                b = measure(their_port, their_path, clients, args.seconds)
                rows.append((label, clients, a, b))
                print(f"{label}, {clients} client(s): dispute-kg {a['rps']:.0f} req/s p50 {a['p50']:.2f} ms "
                      f"p99 {a['p99']:.2f} ms; oxigraph {b['rps']:.0f} req/s p50 {b['p50']:.2f} ms p99 "
                      f"{b['p99']:.2f} ms; ratio {a['rps'] / b['rps']:.2f}x", flush=True)
    finally:
        for proc in servers:
            proc.terminate()
            proc.wait(10)
        shutil.rmtree(tmp, ignore_errors=True)

    lines = ["| request | clients | dispute-kg req/s | p50 (ms) | p99 (ms) | Cache-Status seen | oxigraph req/s "
             "| p50 (ms) | p99 (ms) | ratio | errors |", "|---|---|---|---|---|---|---|---|---|---|---|"]
    for label, clients, a, b in rows:
        lines.append(f"| {label} | {clients} | {a['rps']:.0f} | {a['p50']:.2f} | {a['p99']:.2f} | {a['cache']} "
                     f"| {b['rps']:.0f} | "
                     f"{b['p50']:.2f} | {b['p99']:.2f} | {a['rps'] / b['rps']:.2f}x | {a['errors'] + b['errors']} |")
    body = (f"Keep-alive clients (one process each), {args.seconds:g} s per row, SPARQL JSON results; "
            "`dispute-kg serve` with its defaults (query worker processes, waitress) against `oxigraph serve "
            "--union-default-graph` on the same graph (asserted and inferred) and the same bound query text. "
            "Ratio: dispute-kg requests/s over Oxigraph's. Oxigraph runs every request; dispute-kg answers a "
            "repeated stored query from the answers it keeps for the current store generation, unless the "
            "request says `Cache-Control: no-cache`.\n\n" + "\n".join(lines))
    load = ", ".join(f"{x:.1f}" for x in __import__("os").getloadavg())
    body += f"\n\nLoad average when the run ended (1, 5, 15 min): {load}."
    print("\n" + body)
    if not args.no_write:
        from results import write_section

        write_section("serve-load", "HTTP serving: dispute-kg serve against oxigraph serve", body,
                      script="bench/serve_load.py")


if __name__ == "__main__":
    main()
