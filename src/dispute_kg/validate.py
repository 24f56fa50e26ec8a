"""Validate new assertions against the current graph, incrementally, without changing anything.

The public entry points; the pipeline lives in the `validating` package, a module a step (its
docstring describes them). `dispute-kg validate`, `add`, `source add`, `KnowledgeGraph.validate`
and the benchmarks call `validate` from here.
"""

from __future__ import annotations

from .validating.pipeline import full_validation as full_validation
from .validating.pipeline import validate as validate
from .validating.report import Problem as Problem
from .validating.report import ValidationReport as ValidationReport
from .validating.schema import load_schema as load_schema
