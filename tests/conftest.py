"""Shared fixtures: the shipped project, copies of it to break on purpose, and a CLI runner."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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
    from dispute_kg.build import build
    from dispute_kg.project import Project

    root = copy_project(tmp_path_factory.mktemp("shipped"))
    build(Project.open(root))
    return root


@pytest.fixture(scope="session")
def kg(built_project: Path):
    from dispute_kg.kg import KnowledgeGraph

    with KnowledgeGraph.open(project=built_project) as graph:
        yield graph


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """A fresh, unbuilt copy of the shipped project that a test may change."""
    return copy_project(tmp_path / "project")


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run `python -m dispute_kg` in a real process, as a user would."""
    return subprocess.run([sys.executable, "-m", "dispute_kg", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout)
