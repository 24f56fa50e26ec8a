"""Export the graph in a standard RDF syntax, deterministically ordered.

N-Triples is written by pyoxigraph (through `convert.ntriples`, lines sorted); Turtle, TriG, N-Quads
and JSON-LD by rdflib's serialisers, with the project's prefixes. Terms go to rdflib through
`rdf.convert`, so literals keep their lexical form.
"""

from __future__ import annotations

from typing import Any

from .namespaces import INFERRED_GRAPH, PREFIXES


def export_graph(kg: Any, fmt: str, *, inferred: bool = False) -> bytes:
    quads = [q for q in kg.store.quads()
             if inferred or q[3] is None or q[3]["value"] != INFERRED_GRAPH]
    if fmt == "nt":
        from .convert import ntriples

        lines = sorted(set(ntriples(quads).decode("utf-8").splitlines()))
        return ("\n".join(line for line in lines if line) + "\n").encode()
    import rdflib

    from .convert import term_to_rdflib

    quad_formats = fmt in ("trig", "nquads")
    dataset = rdflib.Dataset() if quad_formats else None
    graph = rdflib.Graph()
    for s, p, o, g in quads:
        triple = (term_to_rdflib(s), term_to_rdflib(p), term_to_rdflib(o))
        if dataset is not None:
            dataset.graph(term_to_rdflib(g) if g else rdflib.graph.DATASET_DEFAULT_GRAPH_ID).add(triple)
        else:
            graph.add(triple)
    target = dataset if dataset is not None else graph
    for prefix, ns in PREFIXES.items():
        target.bind(prefix, ns)
    text = target.serialize(format=fmt)
    return text.encode() if isinstance(text, str) else text
