"""SHACL compiled to queries (`shacl_store` compiles them): each check as plain data, how its rows
become violations, and how a store runs them. Kept apart from the compiler so that `validate`,
which reads the checks the build compiled, runs them without importing rdflib."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, astuple, dataclass

import pyoxigraph as ox

from ..rdf.namespaces import shorten


@dataclass(frozen=True, order=True)
class Violation:
    focus: str
    message: str
    path: str = ""
    value: str = ""
    severity: str = "Violation"
    shape: str = ""

    def to_dict(self) -> dict:
        return asdict(self)

    def line(self) -> str:
        parts = [shorten(self.focus)]
        if self.path:
            parts.append(shorten(self.path))
        text = " ".join(parts) + f": {self.message}"
        if self.value and self.value not in self.message:
            text += f" (value: {shorten(self.value)})"
        return text


FOCUS_GRAPH = "urn:x-dispute-kg:focus"  # where `validate` names its focus nodes in its in-memory store
FOCUS_CLASS = "urn:x-dispute-kg:Focus"


class Unsupported(Exception):
    """A shape uses a SHACL feature this compiler does not translate (the caller uses pyshacl)."""


@dataclass
class Check:
    """One compiled constraint: the query, and how each of its rows becomes a violation. Plain data
    (no closures), so the compiled shapes can be stored by the build and read back by `validate`."""

    label: str
    sparql: str
    # "focus": a row per focus node; "values": with ?v and the number of components it ?failed;
    # "qualified": ?count against low/high; "sparql": SHACL-SPARQL
    kind: str
    message: str
    path: str = ""
    severity: str = "Violation"
    shape: str = ""
    low: int | None = None  # qualified bounds
    high: int | None = None
    target: str = ""
    prefixes: str = ""

    def to_violations(self, rows: list[dict[str, ox.Term | None]]) -> list[Violation]:
        if self.kind == "sparql":
            return self._sparql_violations(rows)
        out = []
        for r in rows:
            times = 1
            if self.kind == "qualified":
                n = int(r["count"].value)  # type: ignore[union-attr]
                times = (self.low is not None and n < self.low) + (self.high is not None and n > self.high)
            elif self.kind == "values":
                times = int(r["failed"].value)  # type: ignore[union-attr]
            value = _text(r.get("v")) if self.kind in ("value", "values") else ""
            out += [Violation(focus=_text(r["this"]), message=self.message, path=self.path, value=value,
                              severity=self.severity, shape=self.shape)] * times
        return out

    def _sparql_violations(self, rows: list[dict[str, ox.Term | None]]) -> list[Violation]:
        out, seen = [], set()
        for r in rows:
            if "failure" in r:
                raise Unsupported("?failure in a SPARQL constraint")
            key = tuple(sorted((k, str(v)) for k, v in r.items() if v is not None))
            if key in seen:  # pyshacl keeps one result per distinct solution
                continue
            seen.add(key)
            text = self.message
            for var, val in r.items():
                if val is not None:
                    text = text.replace("{?" + var + "}", _text(val)).replace("{$" + var + "}", _text(val))
            path = r.get("path")
            value = r.get("value") or r["this"]
            out.append(Violation(focus=_text(r["this"]), message=text, path=_text(path) if isinstance(
                path, ox.NamedNode) else "", value=_text(value), severity=self.severity, shape=self.shape))
        return out

    def to_data(self) -> tuple:
        return astuple(self)

    @classmethod
    def from_data(cls, data: tuple) -> Check:
        return cls(*data)


def _text(term: ox.Term | None) -> str:
    """What pyshacl writes for a term (rdflib's str): the IRI, or a literal's lexical form."""
    if term is None:
        return ""
    if isinstance(term, ox.BlankNode):
        return "_:" + term.value
    return term.value



def run_checks(store: ox.Store, checks: list[Check], *, union: bool = True,
               progress: Callable[[int, int, str], None] | None = None) -> list[Violation]:
    """The violations `checks` find in `store`: its union graph, or with `union=False` its default graph
    (for checks compiled `focus_only`)."""
    violations: list[Violation] = []
    # on a small store (a validation's, union=False) the question is asked for every target at once
    has_focus: dict[str, bool] = {} if union else _targets_selecting(store, checks)
    for i, check in enumerate(checks):
        if progress:
            progress(i, len(checks), check.label)
        violations.extend(check_violations(store, check, has_focus, union=union))
    if progress:
        progress(len(checks), len(checks), "")
    return sorted(violations)


def check_violations(store: ox.Store, check: Check, has_focus: dict[str, bool], *,
                     union: bool = True) -> list[Violation]:
    """The violations of one check. `has_focus` memoises whether a target selects anything; threads may
    share it (a race asks the same question twice, with the same answer)."""
    # a shape whose targets select nothing (a SPARQL target finds no broken selection, as on a valid
    # graph) cannot be violated: skip its constraints instead of running each one
    if check.target not in has_focus:
        has_focus[check.target] = bool(store.query(f"{check.prefixes}\nASK {{ {check.target} }}",
                                                   use_default_graph_as_union=union))
    if not has_focus[check.target]:
        return []
    solutions = store.query(check.sparql, use_default_graph_as_union=union)
    names = [v.value for v in solutions.variables]
    rows = [{n: s[n] for n in names} for s in solutions]
    return check.to_violations(rows)


def _targets_selecting(store: ox.Store, checks: list[Check]) -> dict[str, bool]:
    """Whether each check's target selects a node, in one query per set of prefixes (a query's parse
    and plan cost more than its answer on a small store): each target is a subquery with LIMIT 1 that
    binds ?i to its index, so a row for i says what `ASK { target }` would."""
    groups: dict[str, list[str]] = {}
    for check in checks:
        targets = groups.setdefault(check.prefixes, [])
        if check.target not in targets:
            targets.append(check.target)
    found: dict[str, bool] = {}
    for prefixes, targets in groups.items():
        branches = " UNION ".join(f"{{ SELECT ({i} AS ?i) WHERE {{ {t} }} LIMIT 1 }}" for i, t in enumerate(targets))
        hits = {int(s["i"].value) for s in store.query(f"{prefixes}\nSELECT ?i WHERE {{ {branches} }}",
                                                      use_default_graph_as_union=False)}
        found.update((t, i in hits) for i, t in enumerate(targets))
    return found
