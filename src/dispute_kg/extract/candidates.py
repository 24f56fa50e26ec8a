"""Candidates: what the extractor proposes, and their one conversion to triples and to draft Turtle.

A candidate is a plain record (kind, node, type, fields, spans, rule, confidence). Its triples are made
from its fields here and nowhere else: the command-line draft, the review page's accept and its edits all
go through `triples()`, and the selections come from the same helper `source add` uses.

Fields map a property (a dk: local name, or `label`/`altLabel`/`postIn`) to values; a value is
``{"iri": ...}``, ``{"text": ..., "lang": "en"}`` or ``{"value": ..., "datatype": "gYear"}``.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict, dataclass, field
from typing import Any

import pyoxigraph as ox

from ..rdf.namespaces import DEF, PREFIXES
from ..validation.provenance import selection_triples

RDF_TYPE = ox.NamedNode(PREFIXES["rdf"] + "type")
SPECIAL = {"label": PREFIXES["rdfs"] + "label", "altLabel": PREFIXES["skos"] + "altLabel",
           "postIn": PREFIXES["org"] + "postIn"}
XSD = PREFIXES["xsd"]
LOCAL = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


@dataclass
class Candidate:
    kind: str  # entity (a new thing), mention (a known thing cited again), statement, position, claim, event
    node: str
    type: str  # dk: class local name; "" for a mention of a known thing
    fields: dict[str, list[dict[str, Any]]]
    spans: list[tuple[int, int]]
    rule: str
    confidence: float
    notes: list[str] = field(default_factory=list)  # what the rule resolved (dates, anaphora), for the reviewer
    id: str = ""

    @property
    def key(self) -> str:
        """Stable across reruns of the same rules on the same text, so a rejection can be remembered."""
        spans = ",".join(f"{s}-{e}" for s, e in sorted(self.spans))
        return hashlib.sha256(f"{self.kind}|{self.type}|{self.node}|{spans}".encode()).hexdigest()[:16]

    @property
    def label(self) -> str:
        for v in self.fields.get("label", []):
            return v.get("text", "")
        return ""

    def iris(self, prop: str) -> list[str]:
        return [v["iri"] for v in self.fields.get(prop, []) if "iri" in v]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["spans"] = [list(s) for s in self.spans]
        d["key"] = self.key
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Candidate:
        return cls(d["kind"], d["node"], d.get("type", ""), d.get("fields", {}),
                   [(int(s), int(e)) for s, e in d.get("spans", [])], d.get("rule", ""),
                   float(d.get("confidence", 0)), list(d.get("notes", [])), d.get("id", ""))


def term(value: dict[str, Any]) -> ox.NamedNode | ox.Literal:
    if "iri" in value:
        return ox.NamedNode(value["iri"])
    if "text" in value:
        lang = value.get("lang")
        return ox.Literal(value["text"], language=lang) if lang else ox.Literal(value["text"])
    dt = value.get("datatype", "string")
    return ox.Literal(str(value["value"]), datatype=ox.NamedNode(XSD + dt))


def triples(c: Candidate, stem: str, text: str) -> list[tuple]:
    node = ox.NamedNode(c.node)
    out: list[tuple] = []
    if c.type:
        out.append((node, RDF_TYPE, ox.NamedNode(DEF + c.type)))
    for prop, values in c.fields.items():
        pred = ox.NamedNode(SPECIAL.get(prop, DEF + prop))
        out.extend((node, pred, term(v)) for v in values)
    for start, end in c.spans:
        out.extend(selection_triples(stem, text, start, end, node))
    return out


def _show(t: Any) -> str:
    if isinstance(t, ox.NamedNode):
        for prefix, ns in PREFIXES.items():
            if t.value.startswith(ns) and LOCAL.match(t.value[len(ns):]):
                return f"{prefix}:{t.value[len(ns):]}"
        return str(t)
    if isinstance(t, ox.Literal) and t.datatype.value.startswith(XSD) and not t.language:
        dt = t.datatype.value[len(XSD):]
        lexical = str(ox.Literal(t.value))
        if dt == "integer" and t.value.lstrip("-").isdigit():
            return t.value
        return lexical if dt == "string" else f"{lexical}^^xsd:{dt}"
    return str(t)


def block(triples_: list[tuple]) -> str:
    """Turtle for one candidate: subjects in first-seen order, one predicate per line."""
    by_subject: dict[str, list[tuple]] = {}
    for s, p, o in triples_:
        rows = by_subject.setdefault(_show(s), [])
        if (p, o) not in rows:
            rows.append((p, o))
    out = []
    for s, rows in by_subject.items():
        by_pred: dict[Any, list[Any]] = {}
        for p, o in rows:
            by_pred.setdefault(p, []).append(o)
        lines = [f"    {'a' if p == RDF_TYPE else _show(p)} " + " ,\n        ".join(_show(o) for o in objs)
                 for p, objs in by_pred.items()]
        out.append(s + "\n" + " ;\n".join(lines) + " .\n")
    return "\n".join(out)


def header() -> str:
    used = ["dk", "oa", "org", "prov", "rdfs", "skos", "xsd"]
    return "".join(f"PREFIX {p}: <{PREFIXES[p]}>\n" for p in used)
