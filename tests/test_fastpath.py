"""The click-free `query run` and `validate` route: what it accepts, and that it answers exactly as the
click CLI does (for `validate`, tests/test_compiled_schema.py runs both routes)."""

from __future__ import annotations

import pytest
from conftest import run_cli

from dispute_kg.cli.fastpath import Plan, ValidatePlan, parse


@pytest.mark.parametrize("argv,expected", [
    (["query", "run", "claims"], Plan("claims")),
    (["query", "run", "claims", "-p", "state=Japan", "-f", "csv"], Plan("claims", ["state=Japan"], "csv")),
    (["--project", "/x", "-s", "memory:", "query", "run", "timeline", "--limit", "3", "--timeout", "2.5"],
     Plan("timeline", [], "table", 3, 2.5, "/x", "memory:")),
    (["query", "run", "claims", "--param", "state=a=b"], Plan("claims", ["state=a=b"])),
])
def test_plain_query_run_is_parsed(argv, expected):
    assert parse(argv) == expected


@pytest.mark.parametrize("argv,expected", [
    (["validate", "a.ttl"], ValidatePlan(["a.ttl"])),
    (["--project", "/x", "validate", "a.ttl", "--strict", "b.nt", "--format", "json"],
     ValidatePlan(["a.ttl", "b.nt"], "json", True, "/x")),
    (["validate", "--format", "ttl", "a.ttl"], ValidatePlan(["a.ttl"], "ttl")),
])
def test_plain_validate_is_parsed(argv, expected):
    assert parse(argv) == expected


@pytest.mark.parametrize("argv", [
    ["validate"], ["validate", "--help"], ["validate", "a.ttl", "--help"], ["validate", "--format", "xml", "a.ttl"],
    ["validate", "--format"], ["validate", "--format=json", "a.ttl"], ["validate", "-", "a.ttl"],
    ["validate", "--", "a.ttl"], ["validate", ""], ["-s", "memory:", "validate", "a.ttl"],
    ["--traceback", "validate", "a.ttl"], ["validate", "a.ttl", "--debug"],
])
def test_validate_with_anything_else_goes_to_click(argv):
    assert parse(argv) is None


@pytest.mark.parametrize("argv", [
    [], ["query"], ["query", "list"], ["query", "run"], ["query", "run", "--help"],
    ["query", "run", "claims", "--help"], ["query", "run", "claims", "-p"], ["query", "run", "claims", "-o", "x"],
    ["query", "run", "claims", "--format", "yaml"], ["query", "run", "claims", "--limit", "0"],
    ["query", "run", "claims", "--limit", "-1"], ["query", "run", "claims", "--timeout", "nan"],
    ["query", "run", "claims", "--timeout", "soon"], ["-v", "query", "run", "claims"],
    ["--traceback", "query", "run", "x"],
    ["sparql", "ASK {}"], ["--project"],
])
def test_anything_else_goes_to_click(argv):
    assert parse(argv) is None


@pytest.mark.parametrize("args", [
    ["query", "run", "claims", "-p", "state=Japan", "-f", "csv"],
    ["query", "run", "timeline", "-f", "json", "--limit", "2"],
    ["query", "run", "agreement-provisions", "-p", "agreement=Soviet-Japanese Joint Declaration"],
    ["query", "run", "claims", "-p", "state=Narnia"],
    ["query", "run", "claimz"],
    ["query", "run", "agreement-provisions"],
])
def test_fast_route_answers_as_click_does(built_project, args):
    fast = run_cli("--project", str(built_project), *args)
    via_click = run_cli("--project", str(built_project), "-v", *args)  # -v is not on the fast route
    assert (fast.returncode, fast.stdout, fast.stderr) == (via_click.returncode, via_click.stdout, via_click.stderr)
