"""Incremental validation gives the same violations as a full validation of the whole graph.

A small synthetic project (bench/synthetic.py, trimmed to the states and people its units use) is
built once; hypothesis then draws random small inputs from templates that touch claims, positions,
statements, signings, dates, territories and new nodes, many of them invalid. For each, the
incremental pipeline (focus nodes + neighbourhood + local owlrl closure) must report exactly the
SHACL violations that pyshacl reports on the whole graph plus the input, closed from scratch."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from dispute_kg.project.build import build
from dispute_kg.project.folder import Project
from dispute_kg.validation.pipeline import full_validation, validate
from dispute_kg.validation.schema import load_schema

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from synthetic import DK, ID, LABEL, PROV, XSD, generate_project  # noqa: E402
from synthetic import RDF_TYPE as TYPE  # noqa: E402


def _trim_registry(root: Path) -> None:
    """Keep only the registry's states and people that the units refer to (smaller, still valid)."""
    units = "".join(p.read_text() for p in (root / "data" / "assertions").glob("synthetic-0*.nt"))
    registry = root / "data" / "assertions" / "synthetic-registry.nt"
    keep_subjects: set[str] = set()
    lines = registry.read_text().splitlines()
    for line in lines:
        s = line.split(" ", 1)[0]
        if "/state/" in s or "/person/" in s:
            if s in units:
                keep_subjects.add(s)
        elif "/organisation/" in s:
            keep_subjects.add(s)
    for line in lines:
        s, p, o = line.split(" ", 2)
        if s in keep_subjects and p == f"<{PROV}>":
            sel = o.rstrip(" .")
            keep_subjects |= {sel, sel[:-1] + "/quote>", sel[:-1] + "/position>"}
    registry.write_text("\n".join(line for line in lines if line.split(" ", 1)[0] in keep_subjects) + "\n")


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory: pytest.TempPathFactory) -> dict:
    root = generate_project(tmp_path_factory.mktemp("synthetic") / "project", 250, seed=11)
    _trim_registry(root)
    report = build(Project.open(root))
    assert not report.inconsistencies
    nodes: dict[str, list[str]] = {}
    for path in sorted((root / "data" / "assertions").glob("*.nt")):
        for line in path.read_text().splitlines():
            s, p, _ = line.split(" ", 2)
            if p == f"<{TYPE}>":
                kind = s.strip("<>")[len(ID):].split("/", 1)[0]
                nodes.setdefault(kind, [])
                if s.strip("<>") not in nodes[kind]:
                    nodes[kind].append(s.strip("<>"))
    # the base graph conforms, so full(G + input) reports exactly what the input causes
    with_nothing = full_validation(Project.open(root), [_write(root.parent / "noop.nt", [])], )
    assert not [v for v in with_nothing if v.severity == "Violation"], with_nothing
    return {"root": root, "nodes": nodes}


def _write(path: Path, triples: list[str]) -> Path:
    # a triple already in the graph keeps the file non-empty when a draw produces nothing
    base = f"<{ID}state/synthetic-0> <{LABEL}> \"unused\"@xx ."
    path.write_text("\n".join(triples or [base]) + "\n", encoding="utf-8")
    return path


def iri(x: str) -> str:
    return f"<{x}>"


def edits(nodes: dict[str, list[str]]) -> st.SearchStrategy[list[str]]:
    def pick(*kinds: str) -> st.SearchStrategy[str]:
        return st.sampled_from([n for k in kinds for n in nodes.get(k, [])])

    dates = st.sampled_from([f'"1999-01-01"^^<{XSD}date>', f'"1900"^^<{XSD}gYear>', '"someday"',
                             f'"2030-05"^^<{XSD}gYearMonth>'])
    years = st.sampled_from([f'"{y}"^^<{XSD}gYear>' for y in (1800, 1950, 1990, 2025)])
    t = st.tuples
    templates = st.one_of(
        t(pick("claim"), st.just(DK + "claimant"), pick("state", "territory", "person")),
        t(pick("claim"), st.just(DK + "claimedTerritory"), pick("territory", "state")),
        t(pick("position"), st.just(DK + "holder"), pick("state", "territory", "person")),
        t(pick("position"), st.just(DK + "topic"), pick("agreement", "territory", "person")),
        t(pick("event"), st.just(DK + "signatory"), pick("state", "territory")),
        t(pick("event"), st.just(DK + "date"), dates),
        t(pick("event"), st.just(DK + "after"), pick("event")),
        t(pick("state", "territory", "claim", "event"), st.just(LABEL), st.just('"Another name"@en')),
        t(pick("statement"), st.just(DK + "voices"), pick("position", "claim", "territory")),
        t(pick("territory"), st.just(DK + "partOf"), pick("territory", "state")),
        t(pick("state"), st.sampled_from([DK + "inception", DK + "dissolution"]), years),
        t(pick("agreement"), st.just(DK + "agreementStatus"),
          st.sampled_from([DK + "NeverConcluded", DK + "Signed"])),
        t(pick("provision"), st.just(DK + "provisionKind"),
          st.sampled_from([DK + "ConsiderTransfer", DK + "NotAddressed"])),
        t(st.just(ID + "position/hypothesis-new"),
          st.sampled_from([TYPE, DK + "holder", DK + "stanceKind", LABEL, PROV]), pick("state", "selection")),
        # what an assertion means: its holder's lifetime, dates after the source, the quote it cites
        t(pick("position", "claim"), st.sampled_from([DK + "heldDuring", DK + "heldAfter", DK + "heldBefore"]),
          pick("event")),
        t(pick("statement"), st.just(DK + "date"), dates),
        t(pick("event"), st.just(TYPE), st.just(DK + "ExpectedEvent")),
        t(pick("claim"), st.just(DK + "citesBasis"), pick("agreement")),
        t(pick("claim"), st.just(DK + "deliberateInference"), pick("agreement", "territory")),
        t(pick("claim"), st.just(PROV), pick("selection")),
    )

    def render(triple: tuple[str, str, str]) -> str:
        s, p, o = triple
        if p == TYPE and s == ID + "position/hypothesis-new":
            o = DK + "Position"
        if p == DK + "stanceKind":
            o = DK + "Belief"
        if p == LABEL and not o.startswith('"'):
            o = '"a new position"@en'
        obj = o if o.startswith('"') else iri(o)
        return f"{iri(s)} {iri(p)} {obj} ."

    return st.lists(templates.map(render), min_size=1, max_size=4, unique=True)


def violations_of_incremental(report) -> set[tuple]:
    return {(p.focus, p.message, p.path, p.value, p.severity) for p in report.problems if p.stage == "shacl"}


def violations_of_full(found) -> set[tuple]:
    return {(v.focus, v.message, v.path, v.value, v.severity) for v in found}


# 12 fixed examples keep the suite fast; DISPUTE_KG_HYPOTHESIS_EXAMPLES=200 explores more (random seed)
EXAMPLES = int(os.environ.get("DISPUTE_KG_HYPOTHESIS_EXAMPLES", "12"))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES == 12,
          phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.data_too_large])
@given(data=st.data())
def test_incremental_equals_full_on_random_inputs(synthetic, tmp_path_factory, data):
    triples = data.draw(edits(synthetic["nodes"]))
    root = synthetic["root"]
    path = _write(tmp_path_factory.mktemp("input") / "input.nt", triples)
    project = Project.open(root)
    incremental = validate(project, [path])
    assert incremental.readable, incremental.to_text()
    full = full_validation(project, [path])
    assert violations_of_incremental(incremental) == violations_of_full(full), "\n".join(triples)
    if not incremental.problems:
        assert incremental.conforms


def test_incremental_reads_a_small_neighbourhood(synthetic, tmp_path):
    """A one-claim change validates a handful of nodes, not the graph."""
    nodes = synthetic["nodes"]
    path = _write(tmp_path / "one.nt", [f"<{nodes['claim'][0]}> <{DK}claimant> <{nodes['state'][-1]}> ."])
    report = validate(Project.open(synthetic["root"]), [path])
    assert not report.conforms
    assert len(report.focus_nodes) < 40 and report.neighbourhood < 2000


def test_shape_paths_follow_sparql_patterns_backwards():
    """A date on a conclusion event reaches the statements that voice positions about its agreement."""
    schema = load_schema(Project.open(ROOT))
    prefixes = {prefix for prefix, _ in schema.shape_paths.by_predicate[DK + "date"]}
    assert ((DK + "voices", True), (DK + "topic", True), (DK + "concludes", False)) in prefixes
    inverse = {prefix for prefix, _ in schema.shape_paths.by_predicate[DK + "concludes"]}
    assert ((DK + "voices", True), (DK + "citesBasis", True)) in inverse


def _axiom_inputs(nodes: dict[str, list[str]]) -> list[list[str]]:
    """Inputs that state an axiom of their own: validation then reads the axioms again instead of the
    ontology's it keeps, and must still equal a full validation."""
    claim, territory, position = nodes["claim"][0], nodes["territory"][0], nodes["position"][0]
    sub_property = f"{ID}property/holds"
    sub_class = f"{ID}class/special-position"
    return [
        # a property of the input's own under dk:holder: its use entails a holder (a territory: violation)
        [f"<{sub_property}> <http://www.w3.org/2000/01/rdf-schema#subPropertyOf> <{DK}holder> .",
         f"<{claim}> <{sub_property}> <{territory}> ."],
        # a class of the input's own under dk:Position, given to an existing position
        [f"<{sub_class}> <http://www.w3.org/2000/01/rdf-schema#subClassOf> <{DK}Position> .",
         f"<{position}> <{TYPE}> <{sub_class}> ."],
    ]


@pytest.mark.parametrize("case", [0, 1])
def test_an_input_stating_axioms_equals_full(synthetic, tmp_path, case):
    triples = _axiom_inputs(synthetic["nodes"])[case]
    path = _write(tmp_path / "axioms.nt", triples)
    project = Project.open(synthetic["root"])
    incremental = validate(project, [path])
    assert incremental.readable, incremental.to_text()
    assert not incremental.stopped, incremental.to_text()  # it reaches the reasoner
    assert violations_of_incremental(incremental) == violations_of_full(full_validation(project, [path]))
