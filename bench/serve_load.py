"""Requests per second of one stored query through `dispute-kg serve`, 4 concurrent clients on loopback.

    python bench/serve_load.py                         # claims?state=Japan, 4 clients, 2000 requests or 30 s
    python bench/serve_load.py --path '/api/queries/timeline' --clients 8 --requests 500 --seconds 10

Starts `python -m dispute_kg serve -p 0` on the shipped project (built first if needed), waits until it
answers, warms it up, then runs the clients (threads using http.client with keep-alive off, as most
SPARQL clients do) until the request budget or the time budget is spent, whichever comes first, and
stops the server. Prints Markdown for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import http.client
import os
import platform
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def start_server(project: Path, store: str | None) -> tuple[subprocess.Popen, int]:
    args = [sys.executable, "-m", "dispute_kg", "--project", str(project)]
    if store:
        args += ["--store", store]
    proc = subprocess.Popen([*args, "serve", "-p", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    match = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not match:
        proc.kill()
        raise SystemExit(f"serve did not start: {line}{proc.stderr.read()}")
    port = int(match.group(1))
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/")
            if conn.getresponse().status == 200:
                return proc, port
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("serve did not answer within 30 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--path", default="/api/queries/claims?state=Japan")
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--requests", type=int, default=2000, help="Total request budget.")
    ap.add_argument("--seconds", type=float, default=30.0, help="Time budget.")
    ap.add_argument("--project", type=Path, default=ROOT)
    ap.add_argument("--store", default=None, help="Store selector for serve (default: the embedded store).")
    args = ap.parse_args()

    subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(args.project), "build"],
                   check=True, capture_output=True)
    proc, port = start_server(args.project, args.store)
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    issued = 0
    stop_at = 0.0

    def take() -> bool:
        nonlocal issued
        with lock:
            if issued >= args.requests or time.monotonic() >= stop_at:
                return False
            issued += 1
            return True

    def client() -> None:
        while take():
            t = time.perf_counter()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", args.path, headers={"Accept": "application/sparql-results+json"})
                response = conn.getresponse()
                response.read()
                conn.close()
                ok = response.status == 200
            except OSError as exc:
                ok, response = False, exc
            elapsed = time.perf_counter() - t
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors.append(str(getattr(response, "status", response)))

    try:
        for _ in range(20):  # warm-up: imports, catalogue, label lookups
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            conn.request("GET", args.path)
            conn.getresponse().read()
            conn.close()
        stop_at = time.monotonic() + args.seconds
        started = time.perf_counter()
        threads = [threading.Thread(target=client) for _ in range(args.clients)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        wall = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(10)

    done = len(latencies)
    ms = sorted(x * 1000 for x in latencies)
    print(f"Measured {time.strftime('%Y-%m-%d')} on CPython {platform.python_version()}, {platform.machine()}, "
          f"{os.cpu_count()} CPUs, `python bench/serve_load.py {' '.join(sys.argv[1:])}`.\n")
    print("| request | clients | budget | answered | errors | wall (s) | requests/s | median (ms) | p95 (ms) |")
    print("|---|---|---|---|---|---|---|---|---|")
    p95 = ms[int(0.95 * (done - 1))] if done else float("nan")
    print(f"| `GET {args.path}` | {args.clients} | {args.requests} req or {args.seconds:g} s | {done} | "
          f"{len(errors)} | {wall:.1f} | {done / wall:.0f} | {statistics.median(ms) if ms else float('nan'):.1f} | "
          f"{p95:.1f} |")


if __name__ == "__main__":
    main()
