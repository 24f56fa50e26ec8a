"""QC checks: SPARQL queries under queries/checks/ that must return no rows (ODK's `*-violation`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import InputError
from .headers import read_header
from .store import Store, Term


@dataclass
class CheckResult:
    name: str
    summary: str
    rows: list[dict[str, Term]] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.rows


def check_summary(path: Path) -> str:
    header, _ = read_header(path.read_text(encoding="utf-8"))
    return str(header.get("summary", ""))


def run_check(store: Store, path: Path) -> CheckResult:
    text = path.read_text(encoding="utf-8")
    header, _ = read_header(text)
    try:
        result = store.query(text)
    except InputError as exc:
        raise InputError(str(exc), path=f"queries/checks/{path.name}", line=exc.line, column=exc.column) from None
    return CheckResult(path.stem, str(header.get("summary", "")), result.rows)


def run_checks(store: Store, paths: list[Path]) -> list[CheckResult]:
    return [run_check(store, p) for p in paths]
