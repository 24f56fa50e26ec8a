"""`validate` and a refused `add`: more than twenty distinct bad inputs, each refused with a message
located in the input, and the repository and the store byte-identical afterwards."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import ARTICLE, copy_project, run_cli, store_dir, tree_hash

from dispute_kg.project.additions import add
from dispute_kg.project.build import build
from dispute_kg.project.folder import Project

ID = "https://w3id.org/dispute-kg/id/"
SOURCE = f"{ID}source/urdupoint-2021-10-18"
HEAD = """@prefix dk: <https://w3id.org/dispute-kg/def#> .
@prefix oa: <http://www.w3.org/ns/oa#> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
"""


def expand(turtle: str) -> str:
    """`id:kind/slug` -> full IRI (Turtle local names cannot hold a slash)."""
    return re.sub(r"\bid:([\w./-]+[\w-])", lambda m: f"<{ID}{m.group(1)}>", turtle)


def selection(quote: str, *, source: str = SOURCE, shift: int = 0, occurrence: str | None = None) -> tuple[str, str]:
    """A selection of `quote` in the article (offsets shifted by `shift` to break it): (iri, turtle)."""
    text = occurrence if occurrence is not None else ARTICLE
    start = text.find(quote)
    assert start >= 0, quote
    end = start + len(quote)
    slug = source.rsplit("/", 1)[-1]
    sel = f"{ID}selection/{slug}/{start}-{end}"
    return sel, f"""
<{sel}> a dk:TextSelection ; oa:hasSource <{source}> ;
    oa:hasSelector <{sel}/quote>, <{sel}/position> .
<{sel}/quote> a oa:TextQuoteSelector ; oa:exact {json.dumps(quote)} .
<{sel}/position> a oa:TextPositionSelector ; oa:start {start + shift} ; oa:end {end + shift} .
"""


QUOTE = "The Japanese government believes"
SEL, SEL_TTL = selection(QUOTE)


def position(slug: str = "japan-believes-test", *, extra: str = "", holder: str = "id:state/japan",
             derived: str | None = None, kind: str = "dk:Belief") -> str:
    derived = derived if derived is not None else f"prov:wasDerivedFrom <{SEL}> ;"
    return expand(f"""
id:position/{slug} a dk:Position ; rdfs:label "Japan: a test position"@en ; {derived}
    dk:holder {holder} ; dk:stanceKind {kind} ; dk:stance "the issue must be settled"@en ;
    dk:topic id:issue/northern-territories-dispute {extra} .
""")


GOOD = HEAD + position() + SEL_TTL




@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = copy_project(tmp_path_factory.mktemp("validate") / "project")
    build(Project.open(root))
    return root


def _bad_cases() -> list[tuple[str, str, str | bytes, str, str]]:
    """(id, file name, content, expected stage, expected words in a message)."""
    s2, s2_ttl = selection("Japan lays claims")
    wrong_sel, wrong_ttl = selection(QUOTE, shift=1)
    fake_sel, fake_ttl = selection("Japan lays claims", source=f"{ID}source/not-registered",
                                   occurrence=ARTICLE)
    prefixes = "".join(f"@prefix p{i}: <http://example.org/{i}#> .\n" for i in range(1000))
    article_claim = (Path(__file__).resolve().parent.parent / "data/assertions/urdupoint-2021-10-18.ttl"
                     ).read_text(encoding="utf-8").split("\n\n")
    prefix_block = article_claim[0]
    claim_block = next(b for b in article_claim if b.startswith("<https://w3id.org/dispute-kg/id/claim/japan"))
    return [
        ("syntax-error", "a.ttl", HEAD + position().replace(" .\n", " \n", 1) + SEL_TTL, "parse", "syntax error"),
        ("unknown-term", "a.ttl", GOOD.replace("dk:holder", "dk:holdr"), "vocabulary", "did you mean dk:holder"),
        ("misspelt-prov-term", "a.ttl", GOOD.replace("prov:wasDerivedFrom", "prov:wasDerivedFromm", 1), "vocabulary",
         "uses prov:wasDerivedFromm, which PROV-O does not define; did you mean prov:wasDerivedFrom?"),
        ("misspelt-rdfs-term", "a.ttl", GOOD.replace("rdfs:label", "rdfs:lable", 1), "vocabulary",
         "did you mean rdfs:label?"),
        ("misspelt-selector-class", "a.ttl", GOOD.replace("oa:TextQuoteSelector", "oa:TextQuoteSelecter", 1),
         "vocabulary", "the Web Annotation vocabulary does not define; did you mean oa:TextQuoteSelector?"),
        ("misspelt-datatype", "a.ttl", GOOD.replace("oa:start 194", 'oa:start "194"^^xsd:integr', 1),
         "vocabulary", "uses xsd:integr, which XML Schema datatypes does not define; did you mean xsd:integer?"),
        ("wrong-datatype", "a.ttl", HEAD + SEL_TTL + expand(f"""
id:event/test-meeting a dk:Event ; rdfs:label "a meeting"@en ; prov:wasDerivedFrom <{SEL}> ;
    dk:date "October 19, 1956" ."""), "shacl", "xsd:date, xsd:gYearMonth or xsd:gYear"),
        ("missing-provenance", "a.ttl", HEAD + position(derived=""), "shacl", "has no provenance"),
        ("offsets-not-matching", "a.ttl", HEAD + position(derived=f"prov:wasDerivedFrom <{wrong_sel}> ;")
         + wrong_ttl, "provenance", "not 'The Japanese government believes'"),
        ("unregistered-source", "a.ttl", HEAD + position(derived=f"prov:wasDerivedFrom <{fake_sel}> ;") + fake_ttl,
         "provenance", "not a registered source"),
        ("territory-typed-as-state", "a.ttl", HEAD + expand("id:territory/iturup a dk:State ."), "consistency",
         "Disjoint classes"),
        ("claim-with-two-claimants", "a.ttl", HEAD + expand(
            "id:claim/japan-northern-territories dk:claimant id:state/united-states ."), "shacl",
         "exactly one claimant"),
        ("date-in-impossible-order", "a.ttl", HEAD + SEL_TTL + expand(f"""
id:state/test-state a dk:State ; rdfs:label "Teststan"@en ; prov:wasDerivedFrom <{SEL}> ;
    dk:inception "1990"^^xsd:gYear ; dk:dissolution "1980"^^xsd:gYear ."""), "shacl",
         "dissolved (1980) before it came into being (1990)"),
        ("event-after-a-later-event", "a.ttl", HEAD + expand(
            'id:event/1855-conclusion-of-treaty dk:after id:event/1956-signing-of-joint-declaration .'),
         "shacl", "is recorded as after"),
        ("duplicate", "a.ttl", prefix_block + "\n\n" + claim_block + "\n", "duplicate", "nothing new"),
        ("same-assertion-new-iri", "a.ttl", prefix_block + "\n\n" + claim_block.replace(
            "claim/japan-northern-territories", "claim/japan-northern-territories-again") + "\n", "duplicate",
         "repeats the existing assertion"),
        ("empty-file", "a.ttl", "# nothing here\n\n", "parse", "empty input"),
        ("binary-file", "a.ttl", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "parse", "binary"),
        ("fifty-megabytes", "a.nt", b"# padding\n" * 5_300_000, "parse", "MB"),
        ("thousand-prefixes", "a.ttl", prefixes + GOOD, "parse", "more than 256 prefixes"),
        ("blank-node", "a.ttl", HEAD + position(extra='; dk:voicedIn [ a dk:Statement ]') + SEL_TTL, "input",
         "blank nodes are not accepted"),
        ("edits-the-ontology", "a.ttl", HEAD + 'dk:Claim rdfs:label "claim!"@en .', "input",
         "may only describe nodes under"),
        ("writes-source-text", "a.ttl", HEAD + f'<{SOURCE}> dk:text "forged" .', "input", "dk:text is added by"),
        ("territory-holds-a-position", "a.ttl", HEAD + position(holder="id:territory/iturup") + SEL_TTL,
         "consistency", "Disjoint classes https://w3id.org/dispute-kg/def#Actor and"),
        ("stance-kind-not-a-stance", "a.ttl", HEAD + position(kind="dk:Signed") + SEL_TTL, "shacl",
         "stance kind from dk:StanceKindScheme"),
        ("quote-as-language-string", "a.ttl", HEAD + s2_ttl + expand(f"""
id:statement/test a dk:Statement ; rdfs:label "a test statement"@en ; prov:wasDerivedFrom <{s2}> ;
    dk:speaker id:person/hirokazu-matsuno ; dk:speechMode dk:DirectQuote ; dk:quote "Japan lays claims"@en ."""),
         "shacl", "non-empty quote, as a plain string"),
        ("dangling-reference", "a.ttl", HEAD + position(holder="id:state/atlantis") + SEL_TTL, "shacl",
         "has no label"),
        ("territory-signs-a-treaty", "a.ttl", HEAD + expand(
            "id:event/1956-signing-of-joint-declaration dk:signatory id:territory/iturup ."), "shacl",
         "only states can sign"),
        ("unsupported-extension", "a.xml", "<rdf:RDF/>", "parse", "unsupported extension"),
        ("broken-json-ld", "a.jsonld", '{"@id": "https://w3id.org/dispute-kg/id/x", ', "parse", ""),
        ("relative-iri-in-n-triples", "a.nt", "<x> <y> <z> .\n", "parse", ""),
    ]


BAD = _bad_cases()


@pytest.mark.parametrize("name,filename,content,stage,words", BAD, ids=[c[0] for c in BAD])
def test_bad_input_is_refused_located_and_changes_nothing(project, tmp_path, name, filename, content, stage, words):
    path = tmp_path / filename
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    data_before, store_before = tree_hash(project / "data"), tree_hash(store_dir(project))
    manifest_before = (store_dir(project).parent / "manifest.json").read_bytes()

    report, addition = add(Project.open(project), [path], agent="test")

    assert addition is None
    assert not report.conforms and report.exit_code in (1, 2)
    if stage == "parse":
        assert report.exit_code == 2 and not report.readable
    hits = [p for p in report.problems if p.stage == stage and words in p.message and p.severity == "Violation"]
    assert hits, report.to_text()
    located = [p for p in hits if p.file == str(path) and (p.line or stage == "parse")]
    assert located, f"no located {stage} problem in:\n" + report.to_text()
    text = report.to_text()
    assert str(path) in text and ("REFUSED" in text or "UNREADABLE" in text)
    assert tree_hash(project / "data") == data_before
    assert tree_hash(store_dir(project)) == store_before
    assert (store_dir(project).parent / "manifest.json").read_bytes() == manifest_before
    assert not (project / ".dispute-kg" / "journal.json").exists()


def test_at_least_twenty_distinct_bad_inputs():
    assert len({c[0] for c in BAD}) >= 20


def test_good_input_conforms_and_validate_changes_nothing(project, tmp_path):
    path = tmp_path / "good.ttl"
    path.write_text(GOOD, encoding="utf-8")
    before = tree_hash(project / "data"), tree_hash(store_dir(project))
    result = run_cli("--project", str(project), "validate", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "verdict: CONFORMS" in result.stdout
    assert (tree_hash(project / "data"), tree_hash(store_dir(project))) == before


def test_cli_exit_codes_and_formats(project, tmp_path):
    bad = tmp_path / "bad.ttl"
    bad.write_text(HEAD + position(kind="dk:Signed", holder="id:agreement/1855-treaty-on-trade-and-borders")
                   + SEL_TTL, encoding="utf-8")
    text = run_cli("--project", str(project), "validate", str(bad))
    assert text.returncode == 1, text.stdout + text.stderr
    # grouped by focus node, with the input line where the node is defined and the rule in plain words
    assert re.search(r"id:position/japan-believes-test  \(.*bad\.ttl:7:1\)", text.stdout), text.stdout
    assert "error [shacl] dk:stanceKind = dk:Signed: a position needs a stance kind" in text.stdout
    assert "Disjoint classes" in text.stdout and "Error: refused" in text.stderr

    as_json = run_cli("--project", str(project), "validate", "--format", "json", str(bad))
    assert as_json.returncode == 1
    data = json.loads(as_json.stdout)
    assert data["conforms"] is False and any(p["stage"] == "shacl" and p["line"] == 7 for p in data["problems"])

    as_ttl = run_cli("--project", str(project), "validate", "--format", "ttl", str(bad))
    assert as_ttl.returncode == 1
    import rdflib
    from rdflib.namespace import SH

    g = rdflib.Graph().parse(data=as_ttl.stdout, format="turtle")
    report = next(g.subjects(rdflib.RDF.type, SH.ValidationReport))
    assert g.value(report, SH.conforms).toPython() is False
    assert len(list(g.objects(report, SH.result))) >= 2

    unreadable = tmp_path / "broken.ttl"
    unreadable.write_text(HEAD + "<a> <b> ", encoding="utf-8")
    result = run_cli("--project", str(project), "validate", str(unreadable))
    assert result.returncode == 2
    assert re.search(r"broken\.ttl:\d+:\d+", result.stdout), result.stdout


def test_warnings_refuse_only_with_strict(tmp_path):
    root = copy_project(tmp_path / "project")
    (root / "shapes" / "zz-advice.ttl").write_text("""
@prefix dk: <https://w3id.org/dispute-kg/def#> .
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix dksh: <https://w3id.org/dispute-kg/shapes#> .
dksh:PositionNoteAdvice a sh:NodeShape ; sh:targetClass dk:Position ;
    sh:property [ sh:path dk:note ; sh:minCount 1 ; sh:severity sh:Warning ;
                  sh:message "a reviewer would like a dk:note on a new position" ] .
""", encoding="utf-8")
    build(Project.open(root))
    path = tmp_path / "good.ttl"
    path.write_text(GOOD, encoding="utf-8")
    plain = run_cli("--project", str(root), "validate", str(path))
    assert plain.returncode == 0, plain.stdout + plain.stderr
    assert "warning [shacl] dk:note" in plain.stdout and "CONFORMS (1 warning(s))" in plain.stdout
    strict = run_cli("--project", str(root), "validate", "--strict", str(path))
    assert strict.returncode == 1 and "--strict" in strict.stdout


def test_python_api_validates_a_graph(project):
    import rdflib

    from dispute_kg.kg import KnowledgeGraph

    g = rdflib.Graph().parse(data=GOOD, format="turtle")
    with KnowledgeGraph.open(project=project) as kg:
        report = kg.validate(g)
        assert report.conforms, report.to_text()
        bad = rdflib.Graph().parse(data=HEAD + position(derived=""), format="turtle")
        refused = kg.validate(bad)
    assert not refused.conforms
    assert any("has no provenance" in p.message for p in refused.problems)
