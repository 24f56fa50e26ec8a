"""Stored-query headers: YAML behind `#+`, read strictly, every refusal located to line and column."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_cli
from hypothesis import given, settings
from hypothesis import strategies as st

from dispute_kg.errors import InputError
from dispute_kg.query.headers import projected_variables, read_header

ROOT = Path(__file__).resolve().parent.parent
BODY = "SELECT ?s WHERE { ?s ?p ?o }\n"


@pytest.mark.parametrize(("header", "expected"), [
    ("#+ summary: Claims\n", {"summary": "Claims"}),
    ("#+ summary: Claims # reviewed in 2024\n", {"summary": "Claims"}),  # a YAML comment, not the value
    ("#+ summary: Claims #1 of 3\n", {"summary": "Claims"}),  # ` #` starts a comment in YAML, as in grlc
    ("#+ summary: 'Claims #1 of 3'\n", {"summary": "Claims #1 of 3"}),
    ("#+ summary: Use dk#Claim\n", {"summary": "Use dk#Claim"}),  # no space before #: part of the value
    ("#+summary: no space after the prefix\n", {"summary": "no space after the prefix"}),
    ("#+ tags:\n#+   - claims\n#+   - territory\n", {"tags": ["claims", "territory"]}),
    ("#+ tags: []\n#+ defaults: []\n", {"tags": [], "defaults": []}),
    ("#+ defaults:\n#+   - state: https://w3id.org/dispute-kg/id/state/japan\n",
     {"defaults": [{"state": "https://w3id.org/dispute-kg/id/state/japan"}]}),
    ("#+ parameters:\n#+   - name: state\n#+     type: iri\n#+     required: false\n",
     {"parameters": [{"name": "state", "type": "iri", "required": False}]}),
    ("", {}),
])
def test_headers_that_are_read(header: str, expected: dict) -> None:
    assert read_header(header + BODY, "q.rq") == (expected, BODY.rstrip("\n"))


@pytest.mark.parametrize(("header", "line", "column", "message"), [
    # a line without a colon
    ("#+ summary Claims\n", 1, 4, "must be `key: value` lines"),
    ("#+ summary: Claims\n#+ description Claims by state\n#+ tags: []\n", 2, 4, "expected ':'"),
    # a stray line between a list and the next key
    ("#+ tags:\n#+   - claims\n#+ stray\n#+ defaults: []\n", 3, 4, "expected ':'"),
    # a key given twice
    ("#+ summary: one\n#+ summary: two\n", 2, 4, r"given twice \(first at line 1\)"),
    # a value containing ': ' unquoted
    ("#+ summary: uses dk: terms\n", 1, 20, "not valid YAML"),
    # a typo in a key is not silently ignored
    ("#+ sumary: Claims\n", 1, 4, "unknown header key 'sumary'"),
    # values of the wrong kind
    ("#+ tags: claims\n", 1, 10, "'tags' must be a list"),
    ("#+ summary:\n#+   - a\n", 2, 6, "'summary' must be text"),
    ("#+ tags:\n#+   - a: b\n", 2, 8, "each item of 'tags' must be text"),
    ("#+ parameters:\n#+   - state\n", 2, 8, "each item of 'parameters' must be a mapping"),
    # tabs are not YAML indentation
    ("#+ tags:\n#+ \t- claims\n", 2, 4, "not valid YAML"),
])
def test_headers_that_are_refused_with_their_location(header: str, line: int, column: int, message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_header(header + BODY, "queries/q.rq")
    assert (caught.value.path, caught.value.line, caught.value.column) == ("queries/q.rq", line, column), caught.value
    assert str(caught.value).startswith(f"queries/q.rq:{line}:{column}: ")


def test_a_header_line_after_the_query_has_begun_is_refused() -> None:
    text = "#+ summary: Claims\nPREFIX dk: <https://w3id.org/dispute-kg/def#>\n#+ tags: [claims]\n" + BODY
    with pytest.raises(InputError, match="after the query has begun") as caught:
        read_header(text, "q.rq")
    assert (caught.value.line, caught.value.column) == (3, 1)


def test_every_shipped_header_is_valid() -> None:
    for path in sorted((ROOT / "queries").rglob("*.rq")):
        header, _ = read_header(path.read_text(encoding="utf-8"), str(path))
        assert isinstance(header.get("summary"), str) and header["summary"], path


def test_a_broken_header_stops_the_cli_with_its_location(built_copy: Path) -> None:
    (built_copy / "queries" / "broken.rq").write_text("#+ summary: Broken\n#+ tags\n#+   - x\n" + BODY,
                                                      encoding="utf-8")
    proc = run_cli("--project", str(built_copy), "query", "run", "broken")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: queries/broken.rq:2:4: ") and "Traceback" not in proc.stderr


def test_the_quick_route_does_not_import_yaml(built_project: Path) -> None:
    code = ("import sys; sys.argv = ['dispute-kg', '--project', sys.argv[1], 'query', 'run', 'sources'];"
            "from dispute_kg.entry import main\ntry:\n    main()\nexcept SystemExit as e:\n"
            "    assert e.code == 0, e.code\n    print('yaml' in sys.modules, file=sys.stderr)")
    proc = subprocess.run([sys.executable, "-c", code, str(built_project)], capture_output=True, text=True,
                          timeout=60)
    assert proc.stderr.strip().splitlines()[-1] == "False", proc.stderr


@settings(max_examples=400, deadline=None)
@given(lines=st.lists(st.text(alphabet=st.sampled_from(list("ab:- #'\"[]{}\t|>&*!%@`,?")), max_size=20),
                      min_size=1, max_size=6))
def test_any_header_is_read_or_refused_with_a_location_never_crashes(lines: list[str]) -> None:
    text = "".join(f"#+ {line}\n" for line in lines) + BODY
    try:
        header, _ = read_header(text, "q.rq")
    except InputError as exc:
        assert exc.path == "q.rq" and exc.line is not None and 1 <= exc.line <= len(lines) + 1, exc
        return
    assert isinstance(header, dict) and set(header) <= {"summary", "description", "tags", "defaults", "parameters",
                                                        "endpoint", "method", "pagination", "enumerate", "transform",
                                                        "endpoint_in_url", "columns"}


# -- columns: documented against the projection the SPARQL parser reports -----------------------------
CLAIMS = "SELECT ?claim ?claimKind WHERE { ?claim ?p ?claimKind }\n"


def column(name: str, label: str | None = "A label", description: str | None = None) -> str:
    text = f"#+   - name: {name}\n"
    if label is not None:
        text += f"#+     label: {label}\n"
    if description is not None:
        text += f"#+     description: {description}\n"
    return text


@pytest.mark.parametrize(("columns", "body", "expected"), [
    # given in another order: returned in the order the query projects them
    (column("claimKind", "Kind of claim", "What sort of claim.") + column("claim", "Claim"), CLAIMS,
     [{"name": "claim", "label": "Claim", "description": ""},
      {"name": "claimKind", "label": "Kind of claim", "description": "What sort of claim."}]),
    # an expression's alias is projected, the variable inside it is not
    (column("n", "Claims"), "SELECT (COUNT(?c) AS ?n) WHERE { ?c a ?k }\n", [{"name": "n", "label": "Claims",
                                                                            "description": ""}]),
    # SELECT * projects the variables in scope
    (column("o", "Object"), "SELECT * WHERE { ?s ?p ?o }\n", [{"name": "o", "label": "Object", "description": ""}]),
    # some columns may be left out: only the shipped queries must document all (test below)
    (column("claim", "Claim"), CLAIMS, [{"name": "claim", "label": "Claim", "description": ""}]),
])
def test_columns_that_are_read(columns: str, body: str, expected: list[dict]) -> None:
    header, _ = read_header("#+ columns:\n" + columns + body, "queries/q.rq")
    assert header["columns"] == expected


@pytest.mark.parametrize(("columns", "body", "line", "column_no", "message"), [
    # a variable the query does not project, named with what it does project
    (column("kind"), CLAIMS, 2, 14,
     r"'kind' is not a variable the query projects \(it projects \?claim, \?claimKind\)"),
    # decided on the parsed projection, not the SELECT line's text: a variable in a comment, in a string,
    # only inside an aggregate, or in a sub-select that the outer query does not project
    (column("b"), "SELECT ?a # ?b\nWHERE { ?a ?p ?b }\n", 2, 14, "'b' is not a variable the query projects"),
    (column("b"), 'SELECT ?a WHERE { ?a ?p "?b" }\n', 2, 14, "'b' is not a variable the query projects"),
    (column("c"), "SELECT (COUNT(?c) AS ?n) WHERE { ?c a ?k }\n", 2, 14, r"it projects \?n\)"),
    (column("x"), "SELECT ?a WHERE { ?a ?p ?o { SELECT ?x WHERE { ?x ?q ?a } } }\n", 2, 14,
     "'x' is not a variable the query projects"),
    # a column documented twice
    (column("claim") + column("claim"), CLAIMS, 4, 14, r"column 'claim' is documented twice \(first at line 2\)"),
    # a missing or empty label
    (column("claim", label=None, description="The claim."), CLAIMS, 2, 8, "column 'claim' has no `label:`"),
    (column("claim", label="''"), CLAIMS, 3, 15, "column 'claim' has no `label:`"),
    # a typo in a column's key, a name written as a variable, a name that is not text, no name at all
    ("#+   - name: claim\n#+     lable: Claim\n", CLAIMS, 3, 8, "unknown key 'lable' in a column"),
    (column("?claim"), CLAIMS, 2, 14, "write the column name without '\\?'"),
    (column("3"), CLAIMS, 2, 14, "a column's 'name' must be text"),
    ("#+   - label: Claim\n", CLAIMS, 2, 8, "each column needs a `name:`"),
    # a description is one line
    (column("claim", description="|\n#+       one\n#+       two"), CLAIMS, 4, 21, "must be one line"),
    # only a SELECT query has columns
    (column("s"), "CONSTRUCT WHERE { ?s ?p ?o }\n", 2, 6, "only a SELECT query has columns"),
])
def test_columns_that_are_refused_name_the_file_and_the_key(columns: str, body: str, line: int, column_no: int,
                                                             message: str) -> None:
    with pytest.raises(InputError, match=message) as caught:
        read_header("#+ columns:\n" + columns + body, "queries/q.rq")
    where = (caught.value.path, caught.value.line, caught.value.column)
    assert where == ("queries/q.rq", line, column_no), caught.value
    assert str(caught.value).startswith(f"queries/q.rq:{line}:{column_no}: header key 'columns': "), caught.value


def test_columns_of_a_query_that_does_not_parse_are_refused_with_the_parsers_message() -> None:
    with pytest.raises(InputError, match="SPARQL syntax error") as caught:
        read_header("#+ columns:\n" + column("s") + "SELECT ?s WHERE { ?s ?p }\n", "queries/q.rq")
    assert str(caught.value).startswith("queries/q.rq: ")


def test_every_shipped_select_query_documents_every_column() -> None:
    undocumented = []
    for path in sorted((ROOT / "queries").rglob("*.rq")):
        text = path.read_text(encoding="utf-8")
        projected = projected_variables(text, str(path))
        if projected is None:
            continue
        header, _ = read_header(text, str(path))
        columns = header.get("columns") or []
        documented = [c["name"] for c in columns]
        undocumented += [f"{path.relative_to(ROOT)}: ?{v}" for v in projected if v not in documented]
        for c in columns:
            assert c["label"] and c["description"], (path, c)
            assert c["label"] != c["name"], (path, c)  # a label people read, not the variable again
    assert undocumented == []


def test_a_column_the_query_does_not_project_stops_the_cli(built_copy: Path) -> None:
    (built_copy / "queries" / "broken.rq").write_text("#+ summary: Broken\n#+ columns:\n" + column("nope") + BODY,
                                                      encoding="utf-8")
    proc = run_cli("--project", str(built_copy), "query", "run", "broken")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("Error: queries/broken.rq:3:14: header key 'columns': 'nope' is not a variable "
                                  "the query projects (it projects ?s)"), proc.stderr
    assert "Traceback" not in proc.stderr


def test_query_show_lists_the_columns_with_labels_and_descriptions(built_project: Path) -> None:
    proc = run_cli("--project", str(built_project), "query", "show", "claims")
    assert proc.returncode == 0, proc.stderr
    shown = proc.stdout.split("columns:", 1)[1].split("example:", 1)[0].splitlines()[1:]
    header, _ = read_header((ROOT / "queries" / "claims.rq").read_text(encoding="utf-8"))
    assert [line.split()[0] for line in shown] == [f"?{c['name']}" for c in header["columns"]]
    assert "?claimKind       Kind of claim: What sort of claim it is" in proc.stdout


@settings(max_examples=300, deadline=None)
@given(items=st.lists(st.tuples(
    st.sampled_from(["claim", "claimKind", "kind", "?claim", "", "3", "[a]", "{a: b}", "null", "'claim'"]),
    st.sampled_from(["Claim", "", "''", "null", "[x]", "'Kind: of claim'", "a: b", "- x"]),
    st.sampled_from(["name", "label", "description", "lable", "[k]"])), max_size=4))
def test_any_columns_header_is_read_or_refused_with_a_location_never_crashes(items: list[tuple[str, str, str]]
                                                                             ) -> None:
    text = "#+ columns:\n" + "".join(f"#+   - name: {name}\n#+     {key}: {label}\n" for name, label, key in items)
    try:
        header, _ = read_header(text + CLAIMS, "q.rq")
    except InputError as exc:
        assert exc.path == "q.rq" and exc.line is not None and 1 <= exc.line <= 2 * len(items) + 2, exc
        return
    columns = header.get("columns") or []
    names = [c["name"] for c in columns]
    assert len(names) == len(set(names)) and set(names) <= {"claim", "claimKind"}, header
    assert all(c["label"] for c in columns), header
