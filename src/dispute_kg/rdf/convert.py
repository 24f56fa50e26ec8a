"""The one place RDF terms change representation: pyoxigraph terms, rdflib terms, SPARQL 1.1 JSON
result terms (`rdf.terms.Term`, the shape every backend returns), and N-Triples text.

One literal rule everywhere: a literal keeps its lexical form exactly (`"01"^^xsd:integer` stays
`"01"`; rdflib terms are made with `normalize=False`), a plain literal has no datatype key, a
language-tagged one no datatype, and language tags are lower case (RDF 1.1 allows it, pyoxigraph's
parser and store always do it, so every other route does it too). So the embedded store, the memory
store, a remote endpoint, SHACL in `check` and in `validate`, and the result writers all see the same
literal, except where a store itself keeps values rather than text: Oxigraph stores xsd numbers and
date-times by value, so `"01"^^xsd:integer` is read back from it as `"1"`.

N-Triples is written by pyoxigraph (`str()` of a term, `pyoxigraph.serialize`), never escaped by
hand. pyoxigraph is imported at load (the quick route of `query run` has it loaded already);
rdflib only inside the functions that need it.
"""

from __future__ import annotations

import pyoxigraph as ox

from .terms import XSD_STRING, QuadTerms, Term

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    import rdflib

OxTerm = "ox.NamedNode | ox.BlankNode | ox.Literal"
RDF_LANG_STRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
XSD_BOOLEAN = "http://www.w3.org/2001/XMLSchema#boolean"
_BOOLEAN_CANONICAL = {"1": "true", "0": "false"}


# -- pyoxigraph <-> Term ------------------------------------------------------------------------
def term_from_ox(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> Term:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != XSD_STRING:
            out["datatype"] = term.datatype.value
        return out
    raise TypeError(f"unsupported term {term!r}")


def term_to_ox(term: Term) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """The pyoxigraph term; ValueError for an IRI, language tag or blank node label it refuses."""
    kind = term["type"]
    if kind == "uri":
        return ox.NamedNode(term["value"])
    if kind == "bnode":
        return ox.BlankNode(term["value"])
    if kind not in ("literal", "typed-literal"):
        raise ValueError(f"unknown term type {kind!r}")
    if term.get("xml:lang"):
        return ox.Literal(term["value"], language=term["xml:lang"])
    if term.get("datatype"):
        return ox.Literal(term["value"], datatype=ox.NamedNode(term["datatype"]))
    return ox.Literal(term["value"])


def quad_to_terms(q: ox.Quad) -> QuadTerms:
    graph = None if isinstance(q.graph_name, ox.DefaultGraph) else term_from_ox(q.graph_name)
    return term_from_ox(q.subject), term_from_ox(q.predicate), term_from_ox(q.object), graph


def terms_to_quad(q: QuadTerms) -> ox.Quad:
    s, p, o, g = q
    return ox.Quad(term_to_ox(s), term_to_ox(p), term_to_ox(o), term_to_ox(g) if g else ox.DefaultGraph())


# -- SPARQL JSON results as sent by any endpoint -> Term ------------------------------------------
def term_from_json(raw: dict) -> Term:
    """A term from an endpoint's SPARQL JSON results in the package's one shape: `typed-literal`
    (SPARQL 2005 JSON, Virtuoso) is a literal, xsd:string and rdf:langString are implicit. The lexical
    form is kept as sent, except an xsd:boolean's: `1` and `0` become `true` and `false`, the canonical
    forms Oxigraph and rdflib store and answer (Virtuoso, which has no boolean type, writes every
    xsd:boolean as 1 or 0). KeyError/TypeError for a term without a type or value."""
    kind, value = raw["type"], raw["value"]
    if not isinstance(value, str):
        raise TypeError(f"term value {value!r} is not a string")
    if kind in ("literal", "typed-literal"):
        out = {"type": "literal", "value": value}
        if raw.get("xml:lang"):
            out["xml:lang"] = raw["xml:lang"].lower()
        elif raw.get("datatype") and raw["datatype"] not in (XSD_STRING, RDF_LANG_STRING):
            out["datatype"] = raw["datatype"]
            if raw["datatype"] == XSD_BOOLEAN and value in _BOOLEAN_CANONICAL:
                out["value"] = _BOOLEAN_CANONICAL[value]
        return out
    if kind not in ("uri", "bnode"):
        raise ValueError(f"unknown term type {kind!r}")
    return {"type": kind, "value": value}


# -- rdflib <-> Term and pyoxigraph ----------------------------------------------------------------
def term_from_rdflib(node: rdflib.term.Node) -> Term:
    import rdflib

    if isinstance(node, rdflib.URIRef):
        return {"type": "uri", "value": str(node)}
    if isinstance(node, rdflib.BNode):
        return {"type": "bnode", "value": str(node)}
    if not isinstance(node, rdflib.Literal):
        raise TypeError(f"unsupported term {node!r}")
    out = {"type": "literal", "value": str(node)}
    if node.language:
        out["xml:lang"] = node.language.lower()
    elif node.datatype is not None and str(node.datatype) != XSD_STRING:
        out["datatype"] = str(node.datatype)
    return out


def term_to_rdflib(term: Term) -> rdflib.term.Node:
    import rdflib

    kind = term["type"]
    if kind == "uri":
        return rdflib.URIRef(term["value"])
    if kind == "bnode":
        return rdflib.BNode(term["value"])
    if term.get("xml:lang"):
        return rdflib.Literal(term["value"], lang=term["xml:lang"].lower(), normalize=False)
    if term.get("datatype"):
        return rdflib.Literal(term["value"], datatype=rdflib.URIRef(term["datatype"]), normalize=False)
    return rdflib.Literal(term["value"], normalize=False)


def ox_to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> rdflib.term.Node:
    """Direct, for the bulk paths (reasoning, SHACL); the same rule as going through `Term`."""
    import rdflib

    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language, normalize=False)
    dt = term.datatype.value
    if dt == XSD_STRING:
        return rdflib.Literal(term.value, normalize=False)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(dt), normalize=False)


def rdflib_to_ox(node: rdflib.term.Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    import rdflib

    if isinstance(node, rdflib.URIRef):
        return ox.NamedNode(str(node))
    if isinstance(node, rdflib.BNode):
        return ox.BlankNode(str(node))
    if isinstance(node, rdflib.Literal):
        if node.language:
            return ox.Literal(str(node), language=node.language)  # pyoxigraph lower-cases it
        if node.datatype is not None:
            return ox.Literal(str(node), datatype=ox.NamedNode(str(node.datatype)))
        return ox.Literal(str(node))
    raise TypeError(f"cannot convert {node!r}")


def quads_to_graph(quads: Iterable[ox.Quad], graph: rdflib.Graph | None = None) -> rdflib.Graph:
    """Merge the quads' triples into one rdflib graph (graph names are dropped)."""
    import rdflib

    g = graph if graph is not None else rdflib.Graph()
    add = g.add
    for q in quads:
        add((ox_to_rdflib(q.subject), ox_to_rdflib(q.predicate), ox_to_rdflib(q.object)))
    return g


def graph_to_quads(g: Iterable[tuple], graph: str) -> list[ox.Quad]:
    target = ox.NamedNode(graph)
    return [ox.Quad(rdflib_to_ox(s), rdflib_to_ox(p), rdflib_to_ox(o), target) for s, p, o in g]


def terms_to_rdflib_graph(triples: Iterable[tuple[Term, Term, Term]], graph: rdflib.Graph | None = None
                          ) -> rdflib.Graph:
    import rdflib

    g = graph if graph is not None else rdflib.Graph()
    for s, p, o in triples:
        g.add((term_to_rdflib(s), term_to_rdflib(p), term_to_rdflib(o)))
    return g


# -- N-Triples text ------------------------------------------------------------------------------
def term_text(term: Term) -> str:
    """One term in N-Triples (and SPARQL, and SPARQL TSV) syntax, as pyoxigraph writes it; its
    constructors refuse an IRI, language tag or blank node label that could not round-trip, so a value
    can never end the term it is written in (InputError)."""
    from ..errors import InputError

    try:
        return str(term_to_ox(term))
    except (ValueError, KeyError, TypeError) as exc:
        if term.get("xml:lang"):
            try:
                ox.Literal("", language=term["xml:lang"])
            except ValueError:
                raise InputError(f"{term['xml:lang']!r} is not a language tag ({exc})") from None
        if term.get("type") == "uri" or term.get("datatype"):
            raise InputError(f"cannot send {term.get('datatype') or term.get('value')!r} as an IRI: {exc}") from None
        raise InputError(f"cannot send {term!r} as an RDF term: {exc}") from None


def ntriples(triples: Iterable[tuple[Term, Term, Term]]) -> bytes:
    """N-Triples for the triples (graph names, if given as a fourth item, are ignored)."""
    return ox.serialize([ox.Triple(term_to_ox(t[0]), term_to_ox(t[1]), term_to_ox(t[2])) for t in triples],
                        format=ox.RdfFormat.N_TRIPLES)


# -- terms as SPARQL text: for a VALUES block that binds a stored query's parameters ---------------
def values_block(bindings: dict[str, Term]) -> str:
    """`VALUES (?a ?b) { (<x> "y") }`: one row of bindings. Names and terms are written by pyoxigraph,
    whose constructors refuse what could not round-trip (`convert.term_text`)."""
    import pyoxigraph

    from ..errors import InputError

    names = []
    for name in bindings:
        try:
            names.append(str(pyoxigraph.Variable(name)))
        except ValueError:
            raise InputError(f"{name!r} is not a SPARQL variable name") from None
    row = " ".join(term_text(bindings[n]) for n in bindings)
    return f"VALUES ({' '.join(names)}) {{ ({row}) }}"


def insert_values(sparql: str, where_at: int, bindings: dict[str, Term],
                  inner: tuple[tuple[int, tuple[str, ...]], ...] = ()) -> str:
    """The query with a VALUES block of `bindings` just inside the `{` at offset `where_at` (the
    outermost WHERE group, found by `sparqltext.where_brace`), and in each subquery group of `inner`
    (`sparqltext.subquery_groups`) a block of the bound variables it uses. No newline is added, so a
    syntax error is still reported at its line in the stored file."""
    points = [(where_at, bindings)] + [(at, {v: bindings[v] for v in names if v in bindings}) for at, names in inner]
    for at, values in sorted(points, key=lambda point: point[0], reverse=True):
        if values:
            sparql = f"{sparql[:at + 1]} {values_block(values)} {sparql[at + 1:]}"
    return sparql
