"""Export the graph in a standard RDF syntax, deterministically ordered."""

from __future__ import annotations

from typing import Any

from .namespaces import INFERRED_GRAPH, PREFIXES


def export_graph(kg: Any, fmt: str, *, inferred: bool = False) -> bytes:
    import rdflib

    from ..stores.memory import json_to_node

    quad_formats = fmt in ("trig", "nquads")
    dataset = rdflib.Dataset() if quad_formats else None
    graph = rdflib.Graph()
    for s, p, o, g in kg.store.quads():
        if g is not None and g["value"] == INFERRED_GRAPH and not inferred:
            continue
        triple = (json_to_node(s), json_to_node(p), json_to_node(o))
        if dataset is not None:
            dataset.graph(json_to_node(g) if g else rdflib.graph.DATASET_DEFAULT_GRAPH_ID).add(triple)
        else:
            graph.add(triple)
    target = dataset if dataset is not None else graph
    for prefix, ns in PREFIXES.items():
        target.bind(prefix, ns)
    if fmt == "nt":
        lines = sorted(graph.serialize(format="nt").splitlines())
        return ("\n".join(line for line in lines if line) + "\n").encode()
    text = target.serialize(format=fmt)
    return text.encode() if isinstance(text, str) else text
