"""QC checks: SPARQL queries under queries/checks/ that must return no rows (ODK's `*-violation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InputError
from ..rdf.terms import Term
from ..stores.base import Store


@dataclass
class CheckResult:
    name: str
    summary: str
    rows: list[dict[str, Term]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.rows


def check_summary(path: Path) -> str:
    return summary_of(path.read_text(encoding="utf-8"), path.name)


def summary_of(text: str, file_name: str) -> str:
    """The `summary` of a check's `#+` header (yaml is imported here only)."""
    from ..query.headers import read_header

    header, _ = read_header(text, f"queries/checks/{file_name}")
    return str(header.get("summary", ""))


def run_check(store: Store, path: Path) -> CheckResult:
    text = path.read_text(encoding="utf-8")
    return run_check_text(store, path.stem, summary_of(text, path.name), text, path.name)


def run_check_text(store: Store, name: str, summary: str, text: str, file_name: str) -> CheckResult:
    """Run one check already read (its name, header summary and query text)."""
    try:
        result = store.query(text)
    except InputError as exc:
        raise InputError(str(exc), path=f"queries/checks/{file_name}", line=exc.line, column=exc.column) from None
    return CheckResult(name, summary, result.rows)


def run_checks(store: Store, paths: list[Path]) -> list[CheckResult]:
    return [run_check(store, p) for p in paths]


# Every term the graph uses: properties, IRI objects and datatypes, one query each (Virtuoso 7's SPARQL
# compiler stops with an internal error on the three as one UNION with a BIND in a branch). The project's
# own IRIs are left out of the objects: no reused vocabulary lives under them, and they are most of the
# objects (hundreds of thousands at a million triples, each turned into a Python dict for nothing).
OWN_IRIS = "https://w3id.org/dispute-kg/"
TERMS_QUERIES = ("SELECT DISTINCT ?term WHERE { ?s ?term ?o }",
                 "SELECT DISTINCT ?term WHERE { ?s ?p ?term "
                 f"FILTER (isIRI(?term) && !STRSTARTS(STR(?term), \"{OWN_IRIS}\")) }}",
                 "SELECT DISTINCT (DATATYPE(?o) AS ?term) WHERE { ?s ?p ?o FILTER (isLiteral(?o)) }")
EXAMPLE_QUERY = """SELECT ?entity ?property ?value ?term WHERE {
  { ?entity ?property ?value FILTER (?property = ?term) } UNION
  { ?entity ?property ?value FILTER (?value = ?term) } UNION
  { ?entity ?property ?value FILTER (isLiteral(?value) && DATATYPE(?value) = ?term) }
} LIMIT 1"""
VOCABULARY_CHECK = "standard-vocabulary-terms"


def check_standard_terms(store: Store) -> CheckResult:
    """Terms from a reused vocabulary (SKOS, PROV-O, Web Annotation, ...) that it does not define:
    one row per such term (`value`), with the subject and property of one triple that uses it. A
    SPARQL check cannot do this, since the lists of defined terms are not in the graph (see
    `vocabularies`)."""
    from ..rdf.vocabularies import unknown_term

    rows = []
    terms: dict[str, dict] = {}
    for query in TERMS_QUERIES:
        for row in store.query(query).rows:
            if row.get("term") is not None:
                terms.setdefault(row["term"]["value"], row["term"])
    for _, term in sorted(terms.items()):
        if term is None or term["type"] != "uri" or unknown_term(term["value"]) is None:
            continue
        example = store.query(EXAMPLE_QUERY, {"term": term}).rows
        # the unknown term is the value to show: the fix is there, whether it is used as a property,
        # a class, an object or a datatype
        found = {k: example[0][k] for k in ("entity", "property") if example and k in example[0]}
        rows.append({**found, "value": term})
    rows.sort(key=lambda r: (r.get("value", {}).get("value", ""), r.get("entity", {}).get("value", "")))
    return CheckResult(VOCABULARY_CHECK, "Terms from reused vocabularies (SKOS, PROV-O, Web Annotation, ...) "
                       "that those vocabularies do not define", rows)


LINK_CHECK = "wikidata-link-type"


def check_wikidata_links(store: Store, project: object) -> CheckResult:
    """Wikidata links stated in assertion files: each item is in the snapshot and of a type the type map
    allows for the entity's class (the rule `link` applies; see `wikidata_links`)."""
    from ..rdf.terms import iri, literal
    from .wikidata_links import stated_link_problems

    rows = [{"entity": iri(p.entity), "property": iri(p.property), "value": iri(p.item),
             "message": literal(p.message)} for p in stated_link_problems(project, store)]  # type: ignore[arg-type]
    return CheckResult(LINK_CHECK, "Wikidata links in assertion files are to known items of a compatible type "
                       "(the type map against the snapshot, as `link` checks them)", rows)


def shape_explanations(shape_files: list[Path]) -> list[tuple[str, str, str]]:
    """(shape name, file name, why) for every named shape, from its rdfs:comment or else its messages:
    the reference page lists the shapes `check` and `validate` run, with their reasons."""
    import rdflib
    from rdflib.namespace import RDFS, SH

    out = []
    for path in shape_files:
        g = rdflib.Graph().parse(path, format="turtle")
        for shape in sorted(set(g.subjects(rdflib.RDF.type, SH.NodeShape)), key=str):
            if not isinstance(shape, rdflib.URIRef):
                continue
            comment = g.value(shape, RDFS.comment)
            if comment is not None:
                why = " ".join(str(comment).split())
            else:
                messages = [g.value(c, SH.message) for kind in (SH.property, SH.sparql) for c in g.objects(shape, kind)]
                why = "; ".join(sorted({str(m) for m in messages if m is not None}))
            out.append((str(shape).rsplit("#", 1)[-1], path.name, why))
    return out
