"""`dispute-kg query list|show|run|docs` and `sparql`: output formats parse back with standard parsers,
bad input gets one line and the right exit code."""

from __future__ import annotations

import io
import json
import re

import pytest
import rdflib
from click.testing import CliRunner
from conftest import ROOT, run_cli
from rdflib.query import Result as RdflibResult

from dispute_kg.cli.common import cli
from dispute_kg.rdf.namespaces import ID

ISLANDS = {"Iturup", "Kunashir", "Shikotan", "Habomai"}


@pytest.fixture(scope="module")
def invoke(built_project):
    runner = CliRunner()

    def go(*args: str):
        result = runner.invoke(cli, ["--project", str(built_project), *args], catch_exceptions=True)
        return result

    return go


@pytest.mark.parametrize("fmt", ["json", "xml", "csv", "tsv"])
def test_select_formats_parse_back(invoke, fmt: str) -> None:
    res = invoke("query", "run", "claims", "-p", "state=Japan", "--format", fmt)
    assert res.exit_code == 0, res.output
    parsed = RdflibResult.parse(io.StringIO(res.stdout), format=fmt)
    rows = list(parsed)
    assert len(rows) == 4
    assert {str(r["territoryLabel"]) for r in rows} == ISLANDS
    assert {str(r["territory"]) for r in rows} == {ID + "territory/" + i.lower() for i in ISLANDS}
    if fmt != "csv":  # CSV loses term types by design; the others keep them
        assert all(isinstance(r["territory"], rdflib.URIRef) for r in rows)
        assert {r["territoryLabel"].language for r in rows} == {"en"}


def test_json_is_sparql_results_json(invoke) -> None:
    res = invoke("query", "run", "timeline", "--format", "json")
    doc = json.loads(res.output)
    assert doc["head"]["vars"][:2] == ["date", "precision"]
    first = doc["results"]["bindings"][0]["date"]
    assert first == {"type": "literal", "value": "1855", "datatype": "http://www.w3.org/2001/XMLSchema#gYear"}


@pytest.mark.parametrize(("fmt", "rdflib_format"), [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_graph_formats_parse_back(invoke, fmt: str, rdflib_format: str) -> None:
    query = ("PREFIX rdfs: <http://www.w3.org/2000/01/rdf-schema#> "
             "CONSTRUCT { ?t rdfs:label ?l } WHERE { <https://w3id.org/dispute-kg/id/claim/japan-northern-territories>"
             " <https://w3id.org/dispute-kg/def#claimedTerritory> ?t . ?t rdfs:label ?l }")
    res = invoke("sparql", query, "--format", fmt)
    assert res.exit_code == 0, res.output
    graph = rdflib.Graph().parse(data=res.output, format=rdflib_format)
    assert {str(o) for o in graph.objects()} == ISLANDS


def test_ask_formats() -> None:
    # Written directly: the oxigraph backend does not yet turn pyoxigraph 0.5's QueryBoolean into an answer.
    from dispute_kg.query.results import write
    from dispute_kg.rdf.terms import Result

    for answer in (True, False):
        for fmt in ("json", "xml"):
            out = io.StringIO()
            write(Result("ask", boolean=answer), fmt, out)
            assert RdflibResult.parse(io.StringIO(out.getvalue()), format=fmt).askAnswer is answer


def test_table_fits_80_columns(invoke) -> None:
    for args in (("query", "run", "claims", "-p", "state=Japan"), ("query", "run", "agreements"),
                 ("query", "run", "sources"), ("query", "list")):
        res = invoke(*args)
        assert res.exit_code == 0, res.output
        assert max(len(line) for line in res.output.splitlines()) <= 80, args
    out = invoke("query", "run", "claims", "-p", "state=Japan").output
    assert "id:territory/iturup" in out and "(4 rows)" in out


def test_limit_reports_truncation(invoke) -> None:
    res = invoke("query", "run", "timeline", "--limit", "2", "--format", "csv")
    assert len(res.stdout.strip().splitlines()) == 3 and "stopped after 2 rows" in res.stderr
    assert "truncated" in invoke("query", "run", "timeline", "--limit", "2").output


def test_format_mismatch_and_unknown_format(invoke) -> None:
    res = invoke("query", "run", "timeline", "--format", "ttl")
    assert res.exit_code != 0 and "does not fit" in str(res.exception)
    res = invoke("query", "run", "timeline", "--format", "yaml")
    assert res.exit_code == 2 and "yaml" in res.output


def test_list_and_show(invoke) -> None:
    out = invoke("query", "list").output
    for name in ("claims", "agreement-provisions", "timeline", "entity"):
        assert name in out
    assert "agreement*" in out
    show = invoke("query", "show", "positions").output
    assert "?__before_xsd_date" in show and "xsd:date, optional" in show and "SELECT" in show


def test_docs_check(invoke) -> None:
    res = invoke("query", "docs", "--check", "-o", str(ROOT / "docs" / "queries.md"))
    assert res.exit_code == 0, res.output


def _examples() -> list[str]:
    from dispute_kg.cli import query as query_cmds

    found = []
    for obj in (query_cmds.query, query_cmds.list_queries, query_cmds.show_query, query_cmds.run_query,
                query_cmds.sparql, query_cmds.query_docs):
        found += re.findall(r"Example: (dispute-kg .+)", obj.help or "")
    return found


@pytest.mark.parametrize("example", _examples())
def test_docstring_examples_run(invoke, example: str) -> None:
    import shlex

    args = shlex.split(example)[1:]
    if args[:2] == ["query", "docs"]:
        args += ["-o", str(ROOT / "docs" / "queries.md")]
    res = invoke(*args)
    assert res.exit_code == 0, (example, res.output, res.exception)


# -- real processes: one-line errors and exit codes ------------------------------------------------
def _one_line(proc) -> str:
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def test_unknown_query_name_suggests(built_project) -> None:
    proc = run_cli("--project", str(built_project), "query", "run", "claim")
    assert proc.returncode == 2
    assert "did you mean 'claims'" in _one_line(proc)


def test_missing_required_parameter(built_project) -> None:
    proc = run_cli("--project", str(built_project), "query", "run", "agreement-provisions")
    assert proc.returncode == 2
    line = _one_line(proc)
    assert "'agreement'" in line and "-p agreement=" in line


def test_bad_parameter_value(built_project) -> None:
    proc = run_cli("--project", str(built_project), "query", "run", "positions", "-p", "before=yesterday")
    assert proc.returncode == 2 and "'before' expects an xsd:date" in _one_line(proc)
    proc = run_cli("--project", str(built_project), "query", "run", "claims", "-p", "state=Atlantis")
    assert proc.returncode == 2 and "Atlantis" in _one_line(proc)


def test_sparql_syntax_error_has_line_and_column(built_project, tmp_path) -> None:
    bad = tmp_path / "bad.rq"
    bad.write_text("SELECT ?s\nWHERE {\n  ?s ?p ?o . FILTER (?s = )\n}\n", encoding="utf-8")
    proc = run_cli("--project", str(built_project), "sparql", f"@{bad}")
    assert proc.returncode == 2
    # oxigraph reports where its parser gave up (line:column)
    assert re.search(r"bad\.rq:\d+:\d+: SPARQL syntax error", _one_line(proc))


def test_stored_query_syntax_error_names_the_file(built_project, tmp_path) -> None:
    import shutil

    project = tmp_path / "p"
    shutil.copytree(built_project, project)
    broken = "#+ summary: broken\nSELECT ?s WHERE {\n  ?s ?p ?o . FILTER (?s = )\n}\n"
    (project / "queries" / "broken.rq").write_text(broken, encoding="utf-8")
    proc = run_cli("--project", str(project), "query", "run", "broken")
    assert proc.returncode == 2
    assert re.search(r"queries/broken\.rq:\d+:\d+: SPARQL syntax error", _one_line(proc))


def test_timeout_stops_the_query_with_exit_3(built_project) -> None:
    """A timeout says nothing about the data, so it is not exit 1 (a failed check): the store did not
    answer in time, exit 3."""
    slow = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    proc = run_cli("--project", str(built_project), "sparql", slow, "--timeout", "0.5", timeout=60)
    assert proc.returncode == 3
    assert "stopped after 0.5 s" in _one_line(proc)


def test_updates_are_refused_without_allow_update(built_project) -> None:
    proc = run_cli("--project", str(built_project), "sparql", "DROP ALL")
    assert proc.returncode == 2 and "--allow-update" in _one_line(proc)
    count = run_cli("--project", str(built_project), "sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }",
                    "--format", "csv")
    assert int(count.stdout.split()[1]) > 1000


def test_what_is_an_update_is_decided_by_the_parsers(built_project) -> None:
    """Comments, strings and IRIs that spell query words do not make an update a query, nor the reverse."""
    hidden = "# SELECT * WHERE { ?s ?p ?o }\nDELETE WHERE { ?s ?p ?o }"
    proc = run_cli("--project", str(built_project), "sparql", hidden)
    assert proc.returncode == 2 and "--allow-update" in _one_line(proc)
    spelled = 'SELECT ?s WHERE { ?s ?p "INSERT DATA" } LIMIT 1 # DROP ALL'
    proc = run_cli("--project", str(built_project), "sparql", spelled, "--format", "csv")
    assert proc.returncode == 0 and proc.stdout.strip() == "s", proc.stderr
    proc = run_cli("--project", str(built_project), "sparql", "SELEKT * WHERE { ?s ?p ?o }")
    assert proc.returncode == 2 and "syntax error" in _one_line(proc)


def test_traceback_only_when_asked(built_project) -> None:
    proc = run_cli("--project", str(built_project), "--traceback", "query", "run", "claim")
    assert proc.returncode == 2 and "Traceback" in proc.stderr


def test_query_path_does_not_import_rdflib(built_project) -> None:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dispute_kg", "--project", str(built_project),
                           "query", "run", "claims", "-p", "state=Japan"], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    imported = {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines() if "|" in line}
    assert not imported & {"rdflib", "pyshacl", "owlrl", "SPARQLWrapper"}
