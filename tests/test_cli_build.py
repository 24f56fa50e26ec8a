"""build, check, coverage and export through the real command line, on the default and memory stores."""

from __future__ import annotations

import json

import pytest
import rdflib
from conftest import run_cli


def test_build_reports_counts_and_verdict_then_is_up_to_date(project_copy):
    first = run_cli("--project", str(project_copy), "build")
    assert first.returncode == 0, first.stderr
    assert first.stdout.startswith("store built: ") and "verdict: PASS" in first.stdout
    second = run_cli("--project", str(project_copy), "build")
    assert second.returncode == 0 and second.stdout.startswith("store up to date: ")
    (project_copy / "data/assertions/background.ttl").write_text(
        (project_copy / "data/assertions/background.ttl").read_text() + "\n")
    third = run_cli("--project", str(project_copy), "build")
    assert third.stdout.startswith("store built: "), third.stdout


def test_check_runs_on_the_memory_store_too(built_project):
    result = run_cli("--project", str(built_project), "--store", "memory:", "check", "--format", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    assert {c["name"] for c in report["checks"]} >= {"undefined-term", "entity-without-label",
                                                     "assertion-without-provenance", "iri-used-but-not-described"}


def test_coverage_exits_0_and_lists_uncited_as_none(built_project):
    result = run_cli("--project", str(built_project), "coverage")
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("17 sentence(s), 0 uncited")
    assert result.stdout.count("[title]") == 2


@pytest.mark.parametrize("fmt,parser", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_export_parses_back(built_project, fmt, parser):
    plain = run_cli("--project", str(built_project), "export", "--format", fmt)
    full = run_cli("--project", str(built_project), "export", "--format", fmt, "--inferred")
    assert plain.returncode == 0 and full.returncode == 0, plain.stderr + full.stderr
    g1 = rdflib.Graph().parse(data=plain.stdout, format=parser)
    g2 = rdflib.Graph().parse(data=full.stdout, format=parser)
    party = rdflib.URIRef("https://w3id.org/dispute-kg/def#party")
    assert not list(g1.triples((None, party, None)))  # derived, never asserted
    assert len(list(g2.triples((None, party, None)))) == 8
    assert len(g2) > len(g1) > 1500


def test_export_trig_keeps_graphs(built_project):
    result = run_cli("--project", str(built_project), "export", "--format", "trig", "--inferred")
    ds = rdflib.Dataset()
    ds.parse(data=result.stdout, format="trig")
    names = {str(g.identifier) for g in ds.graphs()}
    assert "https://w3id.org/dispute-kg/graph/inferred" in names
    assert "https://w3id.org/dispute-kg/graph/data/assertions/background.ttl" in names
