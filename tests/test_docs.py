"""The docs are generated from the project and kept honest: fresh, complete, and their examples run."""

from __future__ import annotations

import shlex

import pytest
from conftest import ROOT, run_cli

from dispute_kg.cli.docsgen import command_names, pages
from dispute_kg.project.folder import Project
from dispute_kg.query.headers import read_header


def test_generated_pages_are_fresh():
    for path, text in pages(Project.open(ROOT)).items():
        assert path.read_text(encoding="utf-8") == text, f"{path} is stale: run `dispute-kg docs`"


def test_every_check_is_documented_with_its_summary():
    page = (ROOT / "docs/checks.md").read_text()
    checks = sorted((ROOT / "queries/checks").glob("*.rq"))
    assert len(checks) >= 7
    for path in checks:
        assert f"[`{path.stem}`]" in page
        header, _ = read_header(path.read_text(encoding="utf-8"), str(path))
        assert header["summary"] in page


def test_every_command_is_in_the_reference_and_top_level_ones_in_the_readme():
    page = (ROOT / "docs/cli.md").read_text()
    readme = (ROOT / "README.md").read_text()
    names = command_names()
    assert {"build", "check", "coverage", "export", "query run", "sparql", "link", "docs"} <= set(names)
    for name in names:
        assert f"## dispute-kg {name}\n" in page
        if " " not in name:
            assert f"dispute-kg {name}" in readme, name


def examples() -> list[tuple[str, str]]:
    """Every `Example:` line of every command's help, as (command, example)."""
    out = []
    for name, text in ((n, (ROOT / "docs/cli.md").read_text().split(f"## dispute-kg {n}\n", 1)[1].split("\n## ")[0])
                       for n in command_names()):
        for line in text.splitlines():
            if "Example:" in line or "Examples:" in line:
                for example in line.split(":", 1)[1].split(" ; "):
                    out.append((name, example.strip()))
    return out


READ_ONLY = ("query", "sparql", "check", "coverage", "export", "docs --check", "link --check", "link --offline")


def test_every_command_has_an_example():
    documented = {name for name, _ in examples()}
    leaves = [n for n in command_names() if not any(o.startswith(n + " ") for o in command_names())]
    assert set(leaves) <= documented, set(leaves) - documented


@pytest.mark.parametrize("name,example",
                         [e for e in examples() if e[1].removeprefix("dispute-kg ").startswith(READ_ONLY)],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_read_only_examples_run(built_project, tmp_path, name, example):
    args = shlex.split(example)[1:]
    if "-o" in args:
        args[args.index("-o") + 1] = str(tmp_path / "out")
    result = run_cli("--project", str(built_project), *args, cwd=tmp_path)
    assert result.returncode == 0, f"{example}\n{result.stdout}\n{result.stderr}"
