"""`extract`: candidates from a source text, in a project without the text's own assertions."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest

ROOT = Path(__file__).resolve().parents[1]
STEM = "urdupoint-2021-10-18"
OA = "http://www.w3.org/ns/oa#"
DK = "https://w3id.org/dispute-kg/def#"


@pytest.fixture(scope="module")
def bare(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Ontology, shapes, queries, background and the Wikidata snapshot; the article registered, not curated."""
    proj = tmp_path_factory.mktemp("bare")
    for folder in ("ontology", "shapes", "queries"):
        shutil.copytree(ROOT / folder, proj / folder)
    shutil.copytree(ROOT / "data/wikidata", proj / "data/wikidata")
    (proj / "data/assertions").mkdir(parents=True)
    shutil.copy(ROOT / "data/assertions/background.ttl", proj / "data/assertions")
    (proj / "data/sources").mkdir()
    for suffix in (".txt", ".ttl"):
        shutil.copy(ROOT / f"data/sources/{STEM}{suffix}", proj / "data/sources")
    return proj


def run(proj: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dispute_kg", "--project", str(proj), *args],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def draft(bare: Path) -> dict:
    res = run(bare, "extract", STEM)
    assert res.returncode == 0, res.stderr
    assert "candidate(s)" in res.stdout
    return json.loads((bare / "drafts" / f"{STEM}.json").read_text())


def test_draft_is_turtle_whose_selectors_reproduce_the_text(bare: Path, draft: dict) -> None:
    text = (bare / "data/sources" / f"{STEM}.txt").read_text()
    quads = list(ox.parse((bare / "drafts" / f"{STEM}.ttl").read_bytes(), format=ox.RdfFormat.TURTLE))
    exact = {q.subject.value.rsplit("/", 1)[0]: q.object.value for q in quads if q.predicate.value == OA + "exact"}
    starts = {q.subject.value.rsplit("/", 1)[0]: int(q.object.value) for q in quads
              if q.predicate.value == OA + "start"}
    ends = {q.subject.value.rsplit("/", 1)[0]: int(q.object.value) for q in quads if q.predicate.value == OA + "end"}
    assert len(exact) > 30
    for sel, quote in exact.items():
        assert text[starts[sel]:ends[sel]] == quote, sel
    # nothing entered the project's data
    assert sorted(p.name for p in (bare / "data/assertions").iterdir()) == ["background.ttl"]


def test_proposes_the_claims_statements_and_new_things(draft: dict) -> None:
    by_kind: dict[str, list[dict]] = {}
    for c in draft["candidates"]:
        by_kind.setdefault(c["kind"], []).append(c)
        assert c["rule"] and 0 < c["confidence"] <= 1
    claims = {c["fields"]["claimKind"][0]["iri"].rsplit("#")[-1]: c for c in by_kind["claim"]}
    assert set(claims) == {"TerritorialClaim", "UndisputedSovereignty"}
    territories = {v["iri"].rsplit("/", 1)[-1] for v in claims["TerritorialClaim"]["fields"]["claimedTerritory"]}
    assert territories == {"iturup", "kunashir", "shikotan", "habomai"}
    assert claims["TerritorialClaim"]["fields"]["nameUsed"][0]["text"] == "Northern Territories"
    statements = by_kind["statement"]
    assert len(statements) == 4
    assert {s["fields"]["date"][0]["value"] for s in statements} == {"2021-10-18"}
    modes = sorted(s["fields"]["speechMode"][0]["iri"].rsplit("#")[-1] for s in statements)
    assert modes == ["DirectQuote", "DirectQuote", "ReportedSpeech", "ReportedSpeech"]
    note = "resolved from 'Monday' against publication 2021-10-18"
    resolved = [n for s in statements for n in s["notes"] if note in n]
    assert resolved, "the relative date is marked as resolved"
    new = {(c["type"], c["fields"]["label"][0]["text"]) for c in by_kind["entity"]}
    assert ("Person", "Hirokazu Matsuno") in new and ("Group", "observers") in new
    signing = [c for c in by_kind["event"] if c["type"] == "Signing"]
    assert "1956-10-19" in {s["fields"].get("date", [{}])[0].get("value") for s in signing}


def test_rejections_are_remembered(bare: Path, draft: dict) -> None:
    from dispute_kg.extract import extract, remember_rejections
    from dispute_kg.project.folder import Project

    project = Project.open(bare)
    first = extract(project, STEM)
    victim = next(c for c in first.candidates if c.kind == "position")
    remember_rejections(project, STEM, [victim.key])
    second = extract(project, STEM)
    assert victim.key not in {c.key for c in second.candidates}
    assert second.rejected == 1 and len(second.candidates) == len(first.candidates) - 1
    (bare / "drafts" / f"{STEM}.rejected.json").unlink()


def test_unknown_source_is_a_usage_error(bare: Path) -> None:
    res = run(bare, "extract", "no-such-source")
    assert res.returncode == 2, res.stderr
    assert "no registered source 'no-such-source'" in res.stderr and "Traceback" not in res.stderr


def test_kept_candidates_pass_validation(bare: Path, draft: dict) -> None:
    """The curator keeps the claims and the territories they name: `validate` finds nothing wrong with them.

    (The bare project's background describes nodes that only the article's own file types, so problems on
    those are the project's, not the draft's.)"""
    from dispute_kg.extract import load_draft
    from dispute_kg.project.folder import Project

    project = Project.open(bare)
    d = load_draft(project, STEM)
    claims = [c for c in d.candidates if c.kind == "claim"]
    needed = {v["iri"] for c in claims for p in ("claimant", "claimedTerritory", "citesBasis", "statesCoreference")
              for v in c.fields.get(p, [])}
    keep = {c.id for c in claims} | {c.id for c in d.candidates
                                     if c.kind in ("entity", "coreference") and c.node in needed}
    out = bare / "kept.ttl"
    out.write_text(d.turtle(keep))
    res = run(bare, "validate", "--format", "json", str(out))
    assert res.returncode in (0, 1), res.stderr
    problems = json.loads(res.stdout)["problems"]
    ours = {c.node for c in d.candidates if c.id in keep}
    from dispute_kg.rdf.namespaces import shorten

    ours |= {shorten(n) for n in ours}
    assert [p for p in problems if p["focus"] in ours] == []


WORDS = ["Japan", "Russia", "China", "insists", "that", "its", "sovereignty", "over", "the", "islands", "is",
         "undisputed", "lays", "claims", "to", "Iturup", ",", "and", "Habomai", "said", "on", "Monday", ".", "\"",
         "“", "”", "Foreign", "Minister", "Ana", "Torres", "believes", "must", "will", "\n\n", "𝔘nicode", "é",
         "Treaty", "of", "Peace", "signed", "October", "19", "1956", "Observers", "believe", "(", ")", "TOKYO"]


def test_any_text_gives_spans_that_reproduce_their_quotes(bare: Path) -> None:
    """Random reports (quotes left open, astral characters, headlines): every candidate span is a span of the
    text, and the draft is Turtle whose selectors reproduce it."""
    import datetime as dt

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from dispute_kg.extract import Draft, gazetteer, rules
    from dispute_kg.project.folder import Project

    gaz = gazetteer.load(Project.open(bare))
    nlp = rules.build_nlp(gaz)

    @settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(st.lists(st.sampled_from(WORDS), min_size=1, max_size=60))
    def check(words: list[str]) -> None:
        text = " ".join(words)
        cands = rules.Extraction(nlp, gaz, text, "fuzz", dt.date(2021, 10, 18)).run()
        for i, c in enumerate(cands, start=1):
            c.id = f"c{i:03d}"
            for s, e in c.spans:
                assert 0 <= s < e <= len(text)
        draft = Draft("fuzz", text, "2021-10-18", cands)
        quads = list(ox.parse(draft.turtle().encode(), format=ox.RdfFormat.TURTLE))
        starts = {q.subject.value: int(q.object.value) for q in quads if q.predicate.value == OA + "start"}
        ends = {q.subject.value: int(q.object.value) for q in quads if q.predicate.value == OA + "end"}
        for q in quads:
            if q.predicate.value == OA + "exact":
                pos = q.subject.value.rsplit("/", 1)[0] + "/position"
                assert text[starts[pos]:ends[pos]] == q.object.value

    check()


def test_an_edited_draft_is_not_overwritten(bare: Path, draft: dict) -> None:
    path = bare / "drafts" / f"{STEM}.ttl"
    edited = path.read_text() + "\n# the curator was here\n"
    path.write_text(edited)
    res = run(bare, "extract", STEM)
    assert res.returncode == 2 and "edited since `extract` wrote it" in res.stderr, res.stderr
    assert path.read_text() == edited
    res = run(bare, "extract", STEM, "--force")
    assert res.returncode == 0, res.stderr
    assert "the curator was here" not in path.read_text()
