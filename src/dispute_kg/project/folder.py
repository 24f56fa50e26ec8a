"""A project folder: where its ontology, data, shapes and queries are, and what the build read.

Commands work on a project as git works on a repository; the shipped repository is one project.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

RDF_SUFFIXES = {".ttl": "turtle", ".nt": "nt", ".trig": "trig", ".jsonld": "json-ld", ".nq": "nquads"}
STATE_DIR = ".dispute-kg"


@dataclass(frozen=True)
class Project:
    root: Path

    @classmethod
    def open(cls, path: str | os.PathLike[str] | None = None) -> Project:
        root = Path(path if path is not None else os.environ.get("DISPUTE_KG_PROJECT", ".")).resolve()
        if not (root / "ontology").is_dir():
            raise InputError(f"{root} is not a dispute-kg project: it has no ontology/ folder "
                             "(run inside a project or pass --project DIR)")
        return cls(root)

    # -- the files that feed a build -------------------------------------------------------
    def _rdf_files(self, folder: str) -> list[Path]:
        base = self.root / folder
        if not base.is_dir():
            return []
        return sorted(p for p in base.rglob("*") if p.is_file() and p.suffix in RDF_SUFFIXES)

    @property
    def ontology_files(self) -> list[Path]:
        return self._rdf_files("ontology")

    @property
    def shape_files(self) -> list[Path]:
        return self._rdf_files("shapes")

    @property
    def source_texts(self) -> list[Path]:
        return sorted((self.root / "data" / "sources").glob("*.txt"))

    @property
    def data_files(self) -> list[Path]:
        """Source metadata, assertions, links and the Wikidata snapshot: everything loaded as data."""
        return self._rdf_files("data")

    @property
    def query_files(self) -> list[Path]:
        return sorted((self.root / "queries").glob("*.rq"))

    @property
    def check_files(self) -> list[Path]:
        return sorted((self.root / "queries" / "checks").glob("*.rq"))

    @property
    def state_dir(self) -> Path:
        return self.root / STATE_DIR

    @property
    def store_path(self) -> Path:
        """The published generation's store (see state.py); a path that does not exist before the
        first build. A reader that keeps using a store holds its generation with `state.hold`."""
        from .state import generation_dir, read_pointer

        name = read_pointer(str(self.state_dir))
        if name is None:
            return self.state_dir / "stores" / "none" / "store"
        return Path(generation_dir(self.state_dir, name)) / "store"

    def relpath(self, path: Path) -> str:
        return path.resolve().relative_to(self.root).as_posix()

    def build_inputs(self) -> list[Path]:
        return [*self.ontology_files, *self.shape_files, *self.source_texts, *self.data_files,
                *self.check_files]

    def manifest(self) -> dict | None:
        """What the published generation records (its inputs' fingerprint, counts, verdict), if any."""
        from .state import current_manifest

        return current_manifest(self)[1]

    def is_fresh(self) -> bool:
        """Whether the embedded store was built from the files as they are now.

        Sizes and modification times are compared first; only when they differ is every file hashed,
        so a query on a large project does not read its whole data on each run.
        """
        manifest = self.manifest()
        if not manifest or not self.store_path.exists():
            return False
        if manifest.get("stat_signature") == self.stat_signature():
            return True
        return manifest.get("fingerprint") == self.fingerprint()

    def input_stats(self) -> list[tuple[str, int, int]]:
        """(relative path, size, mtime in ns) of every build input, in build order."""
        stats = []
        for path in self.build_inputs():
            st = path.stat()
            stats.append((self.relpath(path), st.st_size, st.st_mtime_ns))
        return stats

    def stat_signature(self, stats: list[tuple[str, int, int]] | None = None) -> str:
        h = hashlib.sha256()
        for rel, size, mtime_ns in self.input_stats() if stats is None else stats:
            h.update(f"{rel}\0{size}\0{mtime_ns}\n".encode())
        return h.hexdigest()

    def input_folders(self) -> list[str]:
        """Every folder the build inputs and stored queries are listed from, relative to the root:
        a file added, removed or renamed in one of them changes that folder's mtime."""
        folders = []
        for top in ("ontology", "shapes", "data"):
            base = self.root / top
            folders.append(top)
            if base.is_dir():
                folders += sorted(self.relpath(p) for p in base.rglob("*") if p.is_dir())
        return [*folders, "queries", "queries/checks"]

    def fingerprint(self) -> str:
        """Hash of every build input's path and bytes: the store is rebuilt when this changes."""
        h = hashlib.sha256()
        for path in self.build_inputs():
            h.update(self.relpath(path).encode())
            h.update(b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()
