"""Every exit code from a real process, on both command-line routes (the click-free `query run` and
click): 0 ok, 1 a check failed, 2 bad input or usage, 3 a store or endpoint unreachable or too slow,
4 an internal error, reported in one line with the way to see its traceback."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line(proc: subprocess.CompletedProcess) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    return lines[0]


def test_0_on_both_routes(built_project: Path) -> None:
    fast = run_cli("--project", str(built_project), "query", "run", "sources", "-f", "csv")
    slow = run_cli("--project", str(built_project), "-v", "query", "run", "sources", "-f", "csv")
    assert fast.returncode == slow.returncode == 0, fast.stderr + slow.stderr
    assert fast.stdout == slow.stdout and fast.stdout.startswith("source,")


def test_1_when_a_check_fails(project_copy: Path) -> None:
    cli_md = project_copy / "docs" / "cli.md"
    cli_md.write_text(cli_md.read_text(encoding="utf-8") + "\nedited by hand\n", encoding="utf-8")
    proc = run_cli("--project", str(project_copy), "docs", "--check")
    assert proc.returncode == 1, proc.stdout + proc.stderr


@pytest.mark.parametrize(("args", "says"), [
    (["link", "--retries", "-1"], "--retries"),
    (["link", "--timeout", "0"], "--timeout"),
    (["link", "--backoff", "-1"], "--backoff"),
    (["link", "--endpoint", "ftp://example.org/sparql"], "not an http:// or https:// URL"),
    (["wikidata", "refresh", "--timeout", "nan"], "--timeout"),
    (["source", "add", "x.txt", "--title", "t", "--published", "2021-01-01", "--publisher", "p",
      "--url", "http://a>b"], "is not a valid URL"),
    (["source", "add", "x.txt", "--title", "t", "--published", "2021-01-01", "--publisher", "p",
      "--url", "http:///nohost"], "has no host"),
    (["query", "run", "sources", "--timeout", "inf"], "--timeout"),
    (["query", "run", "sources", "--timeout", "0"], "--timeout"),
    (["query", "run", "sources", "--limit", "-5"], "--limit"),
    (["query", "run", "no-such-query"], "no-such-query"),
    (["-s", "sparql:http://127.0.0.1:9/q;timeout=0", "query", "run", "sources"], "timeout"),
    (["-s", "sparql:http://127.0.0.1:9/q;retries=-1", "query", "run", "sources"], "retries"),
    (["-s", "sparql:http://a>b/q", "query", "run", "sources"], "not a valid URL"),
    (["no-such-command"], "No such command"),
])
def test_2_for_bad_input_or_usage_checked_up_front(built_project: Path, args: list[str], says: str) -> None:
    before = sorted(p.name for p in (built_project / "data" / "sources").iterdir())
    proc = run_cli("--project", str(built_project), *args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert says in proc.stderr and "Traceback" not in proc.stderr
    assert sorted(p.name for p in (built_project / "data" / "sources").iterdir()) == before


def test_3_when_a_store_or_endpoint_is_unreachable(built_project: Path, tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{closed_port()}/query"
    proc = run_cli("--project", str(built_project), "-s", f"sparql:{url};retries=0", "query", "run", "sources")
    assert proc.returncode == 3 and "cannot reach SPARQL endpoint" in one_line(proc)
    proc = run_cli("--project", str(built_project), "link", "--endpoint", url, "--retries", "0")
    assert proc.returncode == 3 and "--offline" in one_line(proc)


CRASH = """
import sys
import {module} as target
def boom(*args, **kwargs):
    raise ZeroDivisionError("injected fault")
setattr(target, {name!r}, boom)
sys.argv = ["dispute-kg", *sys.argv[1:]]
from dispute_kg.entry import main
main()
"""


def crash(module: str, name: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The real entry point with one library function made to raise: a bug cannot be had on demand."""
    return subprocess.run([sys.executable, "-c", CRASH.format(module=module, name=name), *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, **(env or {})})


@pytest.mark.parametrize(("module", "name", "args"), [
    ("dispute_kg.query.binding", "run_query", ["query", "run", "sources"]),  # the click-free route
    ("dispute_kg.query.catalog", "load_query", ["query", "list"]),  # the click route
])
def test_4_for_an_internal_error_in_one_line(built_project: Path, module: str, name: str, args: list[str]) -> None:
    proc = crash(module, name, "--project", str(built_project), *args)
    assert proc.returncode == 4, proc.stderr
    line = one_line(proc)
    assert line.startswith("Error: internal error (ZeroDivisionError: injected fault)") and "--debug" in line
    debug = crash(module, name, "--project", str(built_project), *args, env={"DISPUTE_KG_DEBUG": "1"})
    assert debug.returncode == 4 and "Traceback" in debug.stderr and "injected fault" in debug.stderr


def test_debug_and_its_older_name_show_the_traceback_with_the_same_code(built_project: Path) -> None:
    for flag in ("--debug", "--traceback"):
        proc = crash("dispute_kg.query.catalog", "load_query", "--project", str(built_project), flag,
                     "query", "list")
        assert proc.returncode == 4 and "Traceback" in proc.stderr, proc.stderr
