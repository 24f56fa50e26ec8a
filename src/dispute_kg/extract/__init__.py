"""From a registered source text to a draft of candidate assertions, nothing entering the graph.

`extract(project, stem)` runs the rules (`rules`) with the project's names (`gazetteer`) and returns a
`Draft`; `write_draft` puts it under ``drafts/``: ``<stem>.ttl`` (Turtle that `dispute-kg add` takes once
the curator keeps only correct candidates; each candidate's rule and confidence are a comment line above
its block, so they are kept for the reader and ignored by the parser) and ``<stem>.json`` (the same
candidates as records, which the review page reads). Rejected candidates are remembered in
``drafts/<stem>.rejected.json`` by their stable key, and a rerun does not propose them again.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..project.folder import Project
from ..rdf.durable import write_atomic
from ..rdf.namespaces import source_iri
from .candidates import Candidate, block, header, triples

DRAFTS = "drafts"


@dataclass
class Draft:
    stem: str
    text: str
    published: str
    candidates: list[Candidate]
    rejected: int = 0
    reconciliation: list[dict[str, Any]] = field(default_factory=list)

    def turtle(self, keep: set[str] | None = None) -> str:
        parts = [f"# Draft of candidate assertions from {source_iri(self.stem)}\n"
                 "# Written by `dispute-kg extract`. Delete the blocks that are wrong, correct the rest, then\n"
                 f"# `dispute-kg add {DRAFTS}/{self.stem}.ttl`. Selections are computed from the stored text.\n",
                 header()]
        for c in self.candidates:
            if keep is not None and c.id not in keep:
                continue
            notes = "".join(f"#   {n}\n" for n in c.notes)
            parts.append(f"\n# {c.id} {c.kind} · rule {c.rule} · confidence {c.confidence:.2f}\n{notes}"
                         + block(triples(c, self.stem, self.text)))
        return "".join(parts)

    def to_dict(self) -> dict[str, Any]:
        return {"source": source_iri(self.stem), "stem": self.stem, "published": self.published,
                "sha256": hashlib.sha256(self.text.encode("utf-8")).hexdigest(), "rejected": self.rejected,
                "candidates": [c.to_dict() for c in self.candidates], "reconciliation": self.reconciliation}


def source_meta(project: Project, stem: str) -> tuple[str, dt.date | None]:
    text_path = project.root / "data" / "sources" / f"{stem}.txt"
    if not text_path.is_file():
        known = ", ".join(p.stem for p in project.source_texts) or "none"
        raise InputError(f"no registered source {stem!r} (data/sources/{stem}.txt is missing; registered: {known})")
    text = text_path.read_bytes().decode("utf-8")
    published = None
    meta = text_path.with_suffix(".ttl")
    if meta.is_file():
        import pyoxigraph as ox

        for t in ox.parse(meta.read_bytes(), format=ox.RdfFormat.TURTLE):
            if t.predicate.value == "http://purl.org/dc/terms/issued":
                try:
                    published = dt.date.fromisoformat(t.object.value[:10])
                except ValueError:
                    published = None
    return text, published


def rejections_path(project: Project, stem: str) -> Path:
    return project.root / DRAFTS / f"{stem}.rejected.json"


def load_rejections(project: Project, stem: str) -> set[str]:
    path = rejections_path(project, stem)
    if not path.exists():
        return set()
    try:
        return set(json.loads(path.read_text(encoding="utf-8")).get("rejected", []))
    except (ValueError, AttributeError) as exc:
        raise InputError(f"{path}: not a rejections file ({exc})") from None


def remember_rejections(project: Project, stem: str, keys: list[str]) -> None:
    """Add `keys` to the remembered rejections; a lock keeps two reviewers' rejections from overwriting."""
    import fcntl

    path = rejections_path(project, stem)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f".{path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        known = load_rejections(project, stem) | set(keys)
        write_atomic(path, json.dumps({"rejected": sorted(known)}, indent=1) + "\n")


def extract(project: Project, stem: str) -> Draft:
    from . import gazetteer, reconcile, rules

    text, published = source_meta(project, stem)
    gaz = gazetteer.load(project)
    nlp = rules.build_nlp(gaz)
    candidates = rules.Extraction(nlp, gaz, text, stem, published).run()
    rejected = load_rejections(project, stem)
    kept = [c for c in candidates if c.key not in rejected]
    for i, c in enumerate(kept, start=1):
        c.id = f"c{i:03d}"
    return Draft(stem, text, published.isoformat() if published else "", kept, len(candidates) - len(kept),
                 reconcile.pending(kept, gaz))


def write_draft(project: Project, draft: Draft, out: Path | None = None, *, force: bool = False) -> Path:
    """Write the draft's Turtle and JSON. A draft the curator has edited since it was written is not
    overwritten unless `force`: the JSON records the hash of the Turtle it was written with."""
    path = out or project.root / DRAFTS / f"{draft.stem}.ttl"
    meta = path.with_suffix(".json")
    if path.exists() and not force:
        try:
            written = json.loads(meta.read_text(encoding="utf-8")).get("turtle_sha256")
        except (OSError, ValueError):
            written = None
        if written != hashlib.sha256(path.read_bytes()).hexdigest():
            raise InputError(f"{path}: edited since `extract` wrote it; add it, move it, or pass --force to "
                             "overwrite it")
    turtle = draft.turtle()
    data = {**draft.to_dict(), "turtle_sha256": hashlib.sha256(turtle.encode("utf-8")).hexdigest()}
    write_atomic(meta, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    write_atomic(path, turtle)
    return path


def load_draft(project: Project, stem: str) -> Draft:
    path = project.root / DRAFTS / f"{stem}.json"
    if not path.exists():
        raise InputError(f"no draft for {stem!r}: run `dispute-kg extract {stem}` first")
    data = json.loads(path.read_text(encoding="utf-8"))
    text, _ = source_meta(project, stem)
    return Draft(stem, text, data.get("published", ""), [Candidate.from_dict(c) for c in data["candidates"]],
                 data.get("rejected", 0), data.get("reconciliation", []))


__all__ = ["Draft", "extract", "load_draft", "remember_rejections", "write_draft"]
