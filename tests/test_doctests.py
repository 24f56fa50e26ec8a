"""The examples in the library's docstrings run, on the shipped graph, and say what they show."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

import dispute_kg.kg

MODULES = [dispute_kg.kg]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples_run(module, built_project: Path) -> None:
    from dispute_kg.kg import KnowledgeGraph

    with KnowledgeGraph.open(project=built_project) as graph:
        result = doctest.testmod(module, extraglobs={"EXAMPLE_PROJECT": built_project, "kg": graph},
                                 optionflags=doctest.ELLIPSIS, verbose=False)
    assert result.attempted >= 3, "the examples were not collected"
    assert result.failed == 0
