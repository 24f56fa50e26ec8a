"""`add`, `history` and `retract`: validated input committed atomically, under a lock, with a PROV
record of every change.

An addition writes two files and publishes a new store generation (state.py):

- ``data/assertions/addition-<id>.ttl``: the new triples (input minus what the graph already has),
  deterministically serialised;
- ``data/history/<id>.ttl``: a ``dk:Addition`` (when, who, input SHA-256, note, the file it added);
- a copy of the current generation with both files' named graphs and the new OWL 2 RL entailments
  added in one SPARQL update, and a manifest fingerprinting the files as written, so the next command
  does not rebuild. Readers of the previous generation are never disturbed.

Atomicity: everything runs under the project's writer lock. The new generation is prepared first
(invisible to readers); then a journal (``.dispute-kg/journal.json``, naming the generation it will
publish and keeping copies of any file it removes) is written before data/ changes; the pointer
rename that publishes the generation is the commit point. A command that finds a journal left by a
dead process looks at the pointer: if it names the journal's generation the change is complete and
the journal is dropped; otherwise created files are deleted and removed files restored. An addition
sent to a remote store too is journalled before the remote update (the store's selector and the quads),
and recovery undoes that update with the rest (`RemoteMirror`). Each writer
validates only after it holds the lock, against the store as the previous writer left it, so
neither of two racing additions is lost, and a build waiting for the lock reads the addition's file.

Every rename and fsync passes a named fault point (state.fault) the tests crash or pause at.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyoxigraph as ox

from ..errors import CheckFailed, InputError
from ..query import search
from ..rdf.namespaces import DEF, DERIVED_GRAPHS, GRAPH, ID, INFERRED_GRAPH, PREFIXES, file_graph
from . import state
from .folder import Project
from .remote import REMOTE_ADD, REMOTE_REMOVE, RemoteMirror, data_block

PROV = "http://www.w3.org/ns/prov#"
XSD = "http://www.w3.org/2001/XMLSchema#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"


# ------------------------------------------------------------------------------------------
# Journal and recovery
# ------------------------------------------------------------------------------------------

def _quads_nq(quads: list[ox.Quad]) -> bytes:
    return ox.serialize(quads, format=ox.RdfFormat.N_QUADS) if quads else b""


def update_store(path: Path, add: list[ox.Quad], remove: list[ox.Quad], *,
                 point: str) -> tuple[list[ox.Quad], list[ox.Quad]]:
    """Remove and add quads in one SPARQL update (one Oxigraph transaction) on an unpublished store,
    with the changes they make to the lookup graph (reasoning/lookups.py); returns all that was added and
    removed, for the mirror and the manifest."""
    from ..reasoning.lookups import lookup_changes

    store = ox.Store(str(path))
    try:
        plus, minus = lookup_changes(store, add, remove)
        add, remove = add + plus, remove + minus
        parts = []
        if remove:
            parts.append(f"DELETE DATA {{ {data_block(remove)} }}")
        if add:
            parts.append(f"INSERT DATA {{ {data_block(add)} }}")
        if parts:
            store.update(" ;\n".join(parts))
        state.fault(f"{point}:store-flush")
        store.flush()
    finally:
        del store
    return add, remove


def recover(project: Project) -> bool:
    """Finish or roll back a change a dead process left half done; True if there was one."""
    return state.recover(project)


project_lock = state.writer_lock  # the writer lock, under the name other modules know it by


# ------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------

@dataclass
class Addition:
    id: str
    time: str
    agent: str
    files: list[str] = field(default_factory=list)
    note: str = ""
    input_sha256: str = ""
    retracts: str = ""
    retracted_by: str = ""
    triples: int = 0

    @property
    def iri(self) -> str:
        return addition_iri(self.id)

    def to_dict(self) -> dict:
        return asdict(self)


def addition_iri(ident: str) -> str:
    return f"{ID}addition/{ident}"


def slug(text: str) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s or "anonymous"


def default_agent() -> str:
    try:
        return os.environ.get("DISPUTE_KG_AGENT") or getpass.getuser()
    except Exception:
        return "anonymous"


LOCAL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
INTEGER = re.compile(r"^[+-]?[0-9]+$")


def _serialise(triples: list[tuple], header: str) -> bytes:
    """Deterministic Turtle written from the terms as parsed, so no literal's lexical form changes:
    the used prefixes sorted, subjects sorted, `a` first, then predicates and objects sorted; nodes
    under id/ written in full, as in the hand-written files."""
    used: dict[str, str] = {}

    def name(term: Any, compact: bool) -> str:
        if isinstance(term, ox.NamedNode):
            if compact:
                for prefix, ns in PREFIXES.items():
                    local = term.value[len(ns):]
                    if term.value.startswith(ns) and LOCAL_NAME.match(local):
                        used[prefix] = ns
                        return f"{prefix}:{local}"
            return f"<{term.value}>"
        if isinstance(term, ox.Literal) and not term.language and term.datatype.value.startswith(XSD):
            local = term.datatype.value[len(XSD):]
            if local == "string":
                return str(term)
            if local == "integer" and INTEGER.match(term.value):
                return term.value
            used["xsd"] = XSD
            return str(ox.Literal(term.value)) + f"^^xsd:{local}"
        return str(term)

    by_subject: dict[str, dict[str, list[str]]] = {}
    rdf_type = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
    for s, p, o in triples:
        pred = "a" if p.value == rdf_type else name(p, True)
        obj = name(o, not o.value.startswith(ID)) if isinstance(o, ox.NamedNode) else name(o, False)
        by_subject.setdefault(name(s, False), {}).setdefault(pred, []).append(obj)
    blocks = []
    for subject in sorted(by_subject, key=lambda x: x.strip("<>")):
        preds = by_subject[subject]
        lines = [subject]
        for pred in sorted(preds, key=lambda x: (x != "a", x)):
            objs = sorted(set(preds[pred]))
            if len(objs) == 1:
                lines.append(f"    {pred} {objs[0]} ;")
            else:
                lines.append(f"    {pred}\n" + " ,\n".join(f"        {o}" for o in objs) + " ;")
        lines.append(".")
        blocks.append("\n".join(lines))
    head = "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in sorted(used.items()))
    return (header + head + "\n" + "\n\n".join(blocks) + "\n").encode("utf-8")


def history_record(ident: str, *, when: str, agent: str, note: str, files: list[str], input_sha256: str,
                   retracts: str = "") -> list[tuple]:
    a = ox.NamedNode(addition_iri(ident))
    agent_iri = ox.NamedNode(f"{ID}agent/{slug(agent)}")
    t = [
        (a, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(DEF + "Addition")),
        (a, ox.NamedNode(RDFS + "label"), ox.Literal(("retraction " if retracts else "addition ") + ident)),
        (a, ox.NamedNode(PROV + "startedAtTime"), ox.Literal(when, datatype=ox.NamedNode(XSD + "dateTime"))),
        (a, ox.NamedNode(DEF + "addedBy"), agent_iri),
        (a, ox.NamedNode(DEF + "inputSha256"), ox.Literal(input_sha256)),
        (agent_iri, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode(PROV + "Agent")),
        (agent_iri, ox.NamedNode(RDFS + "label"), ox.Literal(agent)),
    ]
    for rel in files:
        t.append((a, ox.NamedNode(DEF + "addedFile"), ox.NamedNode(file_graph(rel))))
    if note:
        t.append((a, ox.NamedNode(DEF + "note"), ox.Literal(note)))
    if retracts:
        t.append((a, ox.NamedNode(DEF + "retracts"), ox.NamedNode(addition_iri(retracts))))
    return t


def history(project: Project) -> list[Addition]:
    """Every addition and retraction recorded under data/history/, oldest first."""
    folder = project.root / "data" / "history"
    out: dict[str, Addition] = {}
    for path in sorted(folder.glob("*.ttl")) if folder.is_dir() else []:
        quads = list(ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))
        by_subject: dict[str, dict[str, list[Any]]] = {}
        for q in quads:
            by_subject.setdefault(q.subject.value, {}).setdefault(q.predicate.value, []).append(q.object)
        for subject, props in by_subject.items():
            if not subject.startswith(f"{ID}addition/"):
                continue
            ident = subject.rsplit("/", 1)[-1]
            agent_iri = props.get(DEF + "addedBy", [None])[0]
            agent = ""
            if agent_iri is not None:
                agent = next((o.value for o in by_subject.get(agent_iri.value, {}).get(RDFS + "label", [])),
                             agent_iri.value)
            files = sorted(o.value[len(GRAPH):] for o in props.get(DEF + "addedFile", []))
            out[ident] = Addition(
                id=ident, time=props.get(PROV + "startedAtTime", [ox.Literal("")])[0].value, agent=agent,
                files=files, note=" ".join(o.value for o in props.get(DEF + "note", [])),
                input_sha256=props.get(DEF + "inputSha256", [ox.Literal("")])[0].value,
                retracts=props.get(DEF + "retracts", [ox.NamedNode(ID)])[0].value.rsplit("/", 1)[-1]
                if DEF + "retracts" in props else "")
    for a in out.values():
        if a.retracts and a.retracts in out:
            out[a.retracts].retracted_by = a.id
        a.triples = sum(_count_triples(project.root / rel) for rel in a.files
                        if rel.endswith((".ttl", ".nt")) and (project.root / rel).exists())
    return sorted(out.values(), key=lambda a: (a.time, a.id))


def _count_triples(path: Path) -> int:
    try:
        return sum(1 for _ in ox.parse(path.read_bytes(), format=ox.RdfFormat.TURTLE))
    except (SyntaxError, ValueError):
        return 0


# ------------------------------------------------------------------------------------------
# Commit
# ------------------------------------------------------------------------------------------

def _now() -> tuple[str, str]:
    t = time.time()
    return (time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(t)),
            time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t % 1 * 1e6):06d}Z")


def ensure_built(project: Project) -> None:
    """Recover, and rebuild if an input changed (under the writer lock, re-entrant)."""
    from .build import build

    with state.writer_lock(project):
        recover(project)
        if not project.is_fresh():
            build(project)


def sparql_mirror(store: Any) -> RemoteMirror:
    """`store` (a `sparql:` store with update) as the mirror of an addition."""
    return RemoteMirror(store)


def commit(project: Project, *, files: dict[str, bytes], graph_triples: dict[str, list[tuple]],
           inferred: list[tuple], uninferred: list[tuple], op: str, ident: str,
           mirror: RemoteMirror | None = None) -> None:
    """Write `files` and publish a store generation holding their quads, all or nothing (caller holds
    the lock).

    The current generation is copied and the quads applied to the copy, which readers cannot see
    until the pointer names it; then the journal, the remote update (with a `mirror`), the files, the
    copy's manifest (fingerprinting the files as written) and the pointer, which is the commit point.
    The journal is written before the remote store is touched and keeps what it will be sent, so a
    process killed at any point before the pointer is rolled back everywhere by the next command, the
    remote store included, and one killed after it has completed everywhere."""
    add = [ox.Quad(s, p, o, ox.NamedNode(file_graph(rel))) for rel, triples in graph_triples.items()
           for s, p, o in triples]
    add += [ox.Quad(s, p, o, ox.NamedNode(INFERRED_GRAPH)) for s, p, o in inferred]
    remove = [ox.Quad(s, p, o, ox.NamedNode(INFERRED_GRAPH)) for s, p, o in uninferred]
    for rel in files:
        if (project.root / rel).exists():
            raise InputError(f"{rel} already exists; refusing to overwrite it")
    base = project.manifest() or {}
    generation = state.new_generation(project)
    state.copy_store(project.store_path, generation / "store")
    add, remove = update_store(generation / "store", add, remove, point=op)
    from .build import materialise_views

    materialise_views(project, generation, point=op)
    journal = {"op": op, "id": ident, "created": sorted(files), "removed": [],
               "previous": base.get("generation"), "generation": generation.name}
    extra = {}
    if mirror is not None:
        journal["remote"] = mirror.selector
        extra = {REMOTE_ADD: _quads_nq(add), REMOTE_REMOVE: _quads_nq(remove)}
    state.begin_journal(project, journal, point=op, extra=extra)
    try:
        if mirror is not None:
            state.fault(f"{op}:remote:update")
            try:
                mirror.apply(add, remove)
            except BaseException as exc:
                if getattr(exc, "unapplied", False):
                    journal.pop("remote")  # the server did not act on it: nothing to undo there
                raise
            state.fault(f"{op}:remote:updated")
        for rel, data in sorted(files.items()):
            state.write_atomic(project.root / rel, data, point=f"{op}:file")
        _write_manifest(project, generation, base, add, remove, point=op)
    except BaseException:
        state.abandon_journal(project, journal)
        raise
    state.publish(project, generation, point=op)
    state.end_journal(project, point=op)
    from ..query.index import refresh

    refresh(project)
    search.refresh(project, changed=[*add, *remove], previous=base)


def _write_manifest(project: Project, generation: Path, base: dict, add: list[ox.Quad], remove: list[ox.Quad],
                    *, point: str) -> None:
    """The manifest of a generation derived from `base`'s by adding and removing quads."""
    from .build import write_manifest

    manifest = dict(base)
    graphs = dict(manifest.get("graphs", {}))
    for q in add:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) + 1
    for q in remove:
        graphs[q.graph_name.value] = graphs.get(q.graph_name.value, 0) - 1
    manifest["graphs"] = dict(sorted(graphs.items()))
    manifest["inferred"] = graphs.get(INFERRED_GRAPH, 0)
    manifest["asserted"] = sum(n for g, n in graphs.items() if g not in DERIVED_GRAPHS)
    manifest["stat_signature"] = project.stat_signature()  # stats before bytes, as build does
    manifest["fingerprint"] = project.fingerprint()
    manifest["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    write_manifest(generation, manifest, point=point)


def add(project: Project, inputs: Any, *, agent: str | None = None, note: str | None = None,
        strict: bool = False, mirror: RemoteMirror | None = None) -> tuple[Any, Addition | None]:
    """Validate `inputs` and, only if they conform, commit them as one addition.

    Returns the validation report and the Addition (None when refused)."""
    from ..validation.pipeline import validate

    agent = agent or default_agent()
    with state.writer_lock(project):
        ensure_built(project)
        report = validate(project, inputs, strict=strict)
        if not report.conforms:
            return report, None
        stamp, when = _now()
        ident = f"{stamp}-{report.input_sha256[:8]}"
        while (project.root / "data" / "history" / f"{ident}.ttl").exists():
            ident += "x"
        assertions_rel = f"data/assertions/addition-{ident}.ttl"
        history_rel = f"data/history/{ident}.ttl"
        header = (f"# Addition {ident}: validated and added by `dispute-kg add`; its record is {history_rel}.\n"
                  f"# Retract it with `dispute-kg retract {ident}`, not by editing this file.\n")
        triples = sorted(report.new_triples, key=lambda t: (str(t[0]), str(t[1]), str(t[2])))
        record = history_record(ident, when=when, agent=agent, note=note or "", files=[assertions_rel],
                                input_sha256=report.input_sha256)
        files = {
            assertions_rel: _serialise(triples, header),
            history_rel: _serialise(record, f"# The record of addition {ident}.\n"),
        }
        record_inferred = _record_entailments(project, record)
        commit(project, files=files, graph_triples={assertions_rel: triples, history_rel: record},
               inferred=_dedupe(report.inferred + record_inferred), uninferred=report.uninferred, op="add",
               ident=ident, mirror=mirror)
        addition = Addition(ident, when, agent, [assertions_rel], note or "", report.input_sha256,
                            triples=len(triples))
        return report, addition


def _dedupe(triples: list[tuple]) -> list[tuple]:
    seen: set = set()
    out = []
    for t in triples:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def _record_entailments(project: Project, record: list[tuple]) -> list[tuple]:
    """The OWL 2 RL entailments a rebuild would derive from a history record (agent types and the
    like), so the store after a commit equals a rebuild's."""
    from ..validation.neighbourhood import View, local_closure
    from ..validation.pipeline import open_store_read_only
    from ..validation.schema import load_schema

    schema = load_schema(project)
    store = open_store_read_only(project)
    try:
        view = View(store)
        view.add_local(record)
        inferred, _ = local_closure(schema, view, record)
    finally:
        del store
    return inferred


def retract(project: Project, ident: str, *, agent: str | None = None, note: str | None = None) -> Addition:
    """Remove exactly the files one addition added, record the retraction, and rebuild the store.

    Refused (and nothing changed) when the graph without the addition fails its checks, e.g. when a
    later addition relies on it."""
    from ..stores.oxigraph import OxigraphStore
    from ..validation.verdict import check_store
    from .build import build_generation

    agent = agent or default_agent()
    with state.writer_lock(project):
        ensure_built(project)
        records = {a.id: a for a in history(project)}
        if ident not in records:
            known = ", ".join(sorted(records)[-5:]) or "none yet"
            raise InputError(f"no addition {ident!r} in data/history/ (latest: {known}; see `dispute-kg history`)")
        target = records[ident]
        if target.retracts:
            raise InputError(f"{ident} is itself a retraction; add the retracted file again instead")
        if target.retracted_by:
            raise InputError(f"{ident} was already retracted by {target.retracted_by}")
        missing = [rel for rel in target.files if not (project.root / rel).exists()]
        if missing:
            raise InputError(f"{ident} added {', '.join(missing)}, which no longer exist(s)")
        stamp, when = _now()
        digest = hashlib.sha256(b"".join((project.root / rel).read_bytes() for rel in target.files)).hexdigest()
        rident = f"{stamp}-{digest[:8]}"
        history_rel = f"data/history/{rident}.ttl"
        record = history_record(rident, when=when, agent=agent, note=note or "", files=[],
                                input_sha256=digest, retracts=ident)
        generation = state.new_generation(project)  # named now so the journal can say what commits it
        journal = {"op": "retract", "id": rident, "created": [history_rel], "removed": list(target.files),
                   "previous": (project.manifest() or {}).get("generation"), "generation": generation.name}
        state.begin_journal(project, journal, point="retract")
        try:
            for rel in target.files:
                state.remove_durably(project.root / rel, point="retract:file")
            state.write_atomic(project.root / history_rel,
                               _serialise(record, f"# The record of retraction {rident}.\n"), point="retract:file")
            build_generation(project, point="retract", generation=generation)
            manifest = json.loads((generation / state.MANIFEST).read_text(encoding="utf-8"))
            store = OxigraphStore.at(str(generation / "store"), read_only=True)
            try:  # the verdict `check` would give on the new generation, before anyone can read it
                result = check_store(store, project, inconsistencies=manifest.get("inconsistencies", []),
                                     embedded=True)
            finally:
                store.close()
        except BaseException:
            state.abandon_journal(project, journal)
            raise
        if not result.passed:
            state.abandon_journal(project, journal)
            problems = result.problems()
            raise CheckFailed(f"retracting {ident} would break the graph, so nothing was changed:\n  "
                              + "\n  ".join(problems[:20]))
        state.publish(project, generation, point="retract")
        state.end_journal(project, point="retract")
        from ..query.index import refresh

        refresh(project)
        search.refresh(project)
        return Addition(rident, when, agent, [], note or "", digest, retracts=ident)
