"""What validating an input found, and its renderings (text, JSON, a SHACL report graph): the
objects every step reports into and the CLI, the API and `add` read."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from ..rdf.namespaces import PREFIXES, shorten
from .common import Triple


@dataclass(frozen=True, order=True)
class Problem:
    """One finding, located in the input when it can be."""

    stage: str  # parse, input, vocabulary, shacl, provenance, consistency, check, duplicate
    focus: str
    message: str
    path: str = ""
    value: str = ""
    severity: str = "Violation"  # Violation (refuses), Warning (refuses only with --strict), Info
    expects: str = ""
    file: str = ""
    line: int = 0
    column: int = 0
    shape: str = ""

    def where(self) -> str:
        if not self.file:
            return ""
        out = self.file
        if self.line:
            out += f":{self.line}"
            if self.column:
                out += f":{self.column}"
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class ValidationReport:
    """What validating one input found; `conforms` is the verdict, `exit_code` the CLI's."""

    inputs: list[str]
    problems: list[Problem] = field(default_factory=list)
    readable: bool = True
    strict: bool = False
    triples: int = 0  # triples in the input
    new_triples: list[Triple] = field(default_factory=list)  # what `add` would store
    duplicates: list[Triple] = field(default_factory=list)
    inferred: list[Triple] = field(default_factory=list)  # new OWL 2 RL entailments
    uninferred: list[Triple] = field(default_factory=list)  # inferred triples the input now asserts
    focus_nodes: list[str] = field(default_factory=list)
    neighbourhood: int = 0  # triples the shapes were run on
    seconds: dict[str, float] = field(default_factory=dict)
    shacl_report: Any = None  # rdflib.Graph: pyshacl's sh:ValidationReport, when pyshacl ran the shapes
    input_sha256: str = ""
    stopped: str = ""  # the stage after which the pipeline stopped, if it did

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Violation"]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "Warning"]

    @property
    def conforms(self) -> bool:
        return self.readable and not self.errors and not (self.strict and self.warnings)

    @property
    def exit_code(self) -> int:
        if not self.readable:
            return 2
        return 0 if self.conforms else 1

    # -- rendering ------------------------------------------------------------------------
    def to_text(self) -> str:
        lines: list[str] = []
        names = ", ".join(self.inputs) or "(graph)"
        if not self.readable:
            lines.append(f"{names}: cannot be read")
        groups: dict[str, list[Problem]] = {}
        for p in sorted(self.problems, key=lambda p: (p.line or 10**9, p.focus, p.stage, p.message)):
            if p.severity == "Info":
                continue
            groups.setdefault(p.focus, []).append(p)
        for focus, probs in groups.items():
            where = next((p.where() for p in probs if p.file), "")
            head = shorten(focus) if focus else "(input)"
            lines.append(f"{head}" + (f"  ({where})" if where else ""))
            for p in probs:
                kind = "error" if p.severity == "Violation" else p.severity.lower()
                parts = [f"  {kind} [{p.stage}]"]
                if p.path:
                    parts.append(shorten(p.path))
                if p.value and p.value != p.focus:
                    parts.append(("= " if p.path else "") + _show(p.value))
                lines.append(" ".join(parts) + f": {p.message}")
                if p.expects and p.expects != p.message:
                    lines.append(f"      expects: {p.expects}")
        infos = [p for p in self.problems if p.severity == "Info"]
        for p in infos:
            lines.append(f"note: {p.where() + ': ' if p.where() else ''}{p.message}")
        if self.readable and self.stopped:
            lines.append(f"{self.triples} triple(s) read; stopped after the {self.stopped} check (fix these first)")
        elif self.readable:
            lines.append(
                f"{self.triples} triple(s) read, {len(self.new_triples)} new, {len(self.duplicates)} already "
                f"present, {len(self.inferred)} inferred; {len(self.focus_nodes)} focus node(s) validated on "
                f"{self.neighbourhood} triple(s) in {sum(self.seconds.values()):.2f} s")
        nerr, nwarn = len(self.errors), len(self.warnings)
        if self.conforms:
            verdict = "CONFORMS" + (f" ({nwarn} warning(s))" if nwarn else "")
        elif not self.readable:
            verdict = "UNREADABLE"
        else:
            verdict = f"REFUSED ({nerr} violation(s)" + (f", {nwarn} warning(s), --strict" if
                                                        self.strict and nwarn else "") + ")"
        lines.append("verdict: " + verdict)
        return "\n".join(lines) + "\n"

    def to_json(self) -> str:
        return json.dumps({
            "inputs": self.inputs,
            "conforms": self.conforms,
            "readable": self.readable,
            "exit_code": self.exit_code,
            "triples": self.triples,
            "new_triples": len(self.new_triples),
            "duplicates": [[_nt(t) for t in d] for d in self.duplicates],
            "inferred": len(self.inferred),
            "focus_nodes": self.focus_nodes,
            "neighbourhood_triples": self.neighbourhood,
            "seconds": self.seconds,
            "input_sha256": self.input_sha256,
            "problems": [p.to_dict() for p in self.problems],
        }, indent=2, sort_keys=True)

    def report_graph(self) -> Any:
        """The SHACL validation report, with the pipeline's other findings as results too."""
        import rdflib
        from rdflib.namespace import SH as RSH

        g = rdflib.Graph()
        for prefix, ns in PREFIXES.items():
            g.bind(prefix, ns)
        g.bind("dksh", "https://w3id.org/dispute-kg/shapes#")
        if self.shacl_report is not None:
            for t in self.shacl_report:
                g.add(t)
        reports = list(g.subjects(rdflib.RDF.type, RSH.ValidationReport))
        report = reports[0] if reports else rdflib.BNode()
        g.set((report, rdflib.RDF.type, RSH.ValidationReport))
        g.set((report, RSH.conforms, rdflib.Literal(self.conforms)))
        # the shapes' findings are in pyshacl's report when pyshacl ran them; else they are written here
        for i, p in enumerate(x for x in self.problems if x.severity != "Info"
                              and (x.stage != "shacl" or self.shacl_report is None)):
            r = rdflib.BNode(f"pipeline{i}")
            g.add((report, RSH.result, r))
            g.add((r, rdflib.RDF.type, RSH.ValidationResult))
            if p.focus.startswith("http"):
                g.add((r, RSH.focusNode, rdflib.URIRef(p.focus)))
            if p.path.startswith("http"):
                g.add((r, RSH.resultPath, rdflib.URIRef(p.path)))
            if p.value:
                g.add((r, RSH.value, rdflib.Literal(p.value)))
            g.add((r, RSH.resultMessage, rdflib.Literal(p.message)))
            g.add((r, RSH.resultSeverity, RSH[p.severity]))
            g.add((r, RSH.sourceShape, rdflib.URIRef(p.shape if p.stage == "shacl" and p.shape.startswith("http")
                                                     else f"https://w3id.org/dispute-kg/shapes#pipeline-{p.stage}")))
        return g

    def to_turtle(self) -> str:
        return self.report_graph().serialize(format="longturtle")


def _show(value: str) -> str:
    if value.startswith("http"):
        return ", ".join(shorten(v) if v.startswith("http") else v for v in value.split(", "))
    return value if len(value) <= 80 else value[:77] + "..."


def _nt(term: Any) -> str:
    return str(term)
