"""Shared fixtures: the shipped project, copies of it to break on purpose, and a CLI runner."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from servers import virtuoso_serve

ROOT = Path(__file__).resolve().parent.parent
ARTICLE = (ROOT / "data" / "sources" / "urdupoint-2021-10-18.txt").read_text(encoding="utf-8")
PROJECT_DIRS = ("ontology", "data", "shapes", "queries", "docs")


def copy_project(dest: Path) -> Path:
    for name in PROJECT_DIRS:
        shutil.copytree(ROOT / name, dest / name)
    return dest


@pytest.fixture(scope="session")
def built_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the shipped project, shared read-only by the tests that only query it."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    root = copy_project(tmp_path_factory.mktemp("shipped"))
    build(Project.open(root))
    return root


@pytest.fixture(scope="session")
def kg(built_project: Path):
    from dispute_kg.kg import KnowledgeGraph

    with KnowledgeGraph.open(project=built_project) as graph:
        yield graph


@pytest.fixture(scope="session")
def built_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the shipped project that tests copy (store included) instead of rebuilding."""
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project

    root = copy_project(tmp_path_factory.mktemp("template") / "project")
    build(Project.open(root))
    return root


@pytest.fixture(scope="session")
def pending_link_template(built_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A built copy of the shipped project in which Japan is pending review with one scored candidate,
    Q17 (the item of the shipped link), as `dispute-kg link` leaves an entity whose best candidate did not
    clear the threshold. Tests copy it (store included) to decide on it."""
    from dataclasses import replace

    from dispute_kg import links as wd
    from dispute_kg.links.reconcile import save_links
    from dispute_kg.links.records import LEXICAL, NO_TERM_FOUND, UNSPECIFIED
    from dispute_kg.project.build import build
    from dispute_kg.project.folder import Project
    from dispute_kg.rdf.namespaces import ID

    root = tmp_path_factory.mktemp("pending-link") / "project"
    shutil.copytree(built_template, root)
    path = root / wd.LINKS_FILE
    records = {r.subject: r for r in wd.read_links(path)}
    japan = records[ID + "state/japan"]
    candidate = wd.Record(japan.subject, japan.subject_label, wd.WD + "Q17", "Japan", LEXICAL, "0.95",
                          tool_version=japan.tool_version, date="2026-12-01", similarity_score="1.00")
    records[japan.subject] = replace(japan, object=NO_TERM_FOUND, object_label="", justification=UNSPECIFIED,
                                     confidence=None, author_id="", author_label="", see_also="",
                                     comment="PENDING REVIEW: Q17 scored below --min-score", note="",
                                     candidates=(candidate,))
    save_links(path, records.values())
    build(Project.open(root))
    return root


@pytest.fixture
def built_copy(built_template: Path, tmp_path: Path) -> Path:
    """A fresh built copy of the shipped project that a test may change."""
    root = tmp_path / "built"
    shutil.copytree(built_template, root)
    return root


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh, unbuilt copy of the shipped project that a test may change."""
    return copy_project(tmp_path / "project")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `python -m dispute_kg` in a real process, as a user would (with `env` added to the environment)."""
    return subprocess.run([sys.executable, "-m", "dispute_kg", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **env} if env else None)


def store_dir(root: Path) -> Path:
    """The store directory of the generation a project's `.dispute-kg/current` names."""
    from dispute_kg.project.folder import Project

    return Project.open(root).store_path


def tree_hash(folder: Path) -> str:
    """One digest of every file's path and bytes under `folder`: equal digests mean nothing changed."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="session")
def virtuoso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One Virtuoso for the session's tests that only read or that restore what they change."""
    with virtuoso_serve(tmp_path_factory.mktemp("virtuoso")) as selector:
        yield selector
