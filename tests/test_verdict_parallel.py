"""The verdict's steps on several threads: results in the order of the steps whatever order they end
in, the first failure raised (not lost in a thread), and a progress report for every step."""

from __future__ import annotations

import threading
import time

import pytest

from dispute_kg.validation.verdict import run_steps


def test_results_keep_the_order_of_the_steps():
    def slow(n: int, delay: float):
        def run() -> int:
            time.sleep(delay)
            return n
        return run

    heard: list[tuple[int, int, str]] = []
    when: list[float] = []

    def progress(done: int, total: int, label: str) -> None:
        heard.append((done, total, label))
        when.append(time.monotonic())

    steps = [(f"step {i}", slow(i, 0.05 * (5 - i))) for i in range(5)]  # the first step ends last
    assert run_steps(steps, workers=3, progress=progress) == [0, 1, 2, 3, 4]
    assert [d for d, _, _ in heard] == [1, 2, 3, 4, 5] and {t for _, t, _ in heard} == {5}
    assert heard[0][2] != "step 0"  # reported as they end, not as they were listed
    assert when[-1] - when[0] > 0.05  # and when they end, not all at once after the last


def test_steps_share_the_threads():
    seen: set[str] = set()

    def note() -> None:
        seen.add(threading.current_thread().name)
        time.sleep(0.05)

    run_steps([("s", note)] * 4, workers=2)
    assert len(seen) == 2 and all(name.startswith("verdict") for name in seen)
    seen.clear()
    run_steps([("s", note)] * 2, workers=1)
    assert seen == {threading.current_thread().name}


def test_a_failing_step_is_raised():
    def boom() -> None:
        raise ValueError("broken step")

    with pytest.raises(ValueError, match="broken step"):
        run_steps([("ok", lambda: 1), ("bad", boom), ("ok", lambda: 2)], workers=2)


def test_a_failing_index_rebuild_fails_the_build_after_the_verdict(project_copy, monkeypatch):
    """The search index is rebuilt on its own thread while `alongside` (the CLI's verdict) runs: the
    verdict still runs to its end, and the index's failure reaches the caller instead of dying with its
    thread."""
    from dispute_kg.project import build as build_module
    from dispute_kg.project.folder import Project

    def fail(project, graph=None) -> None:
        time.sleep(0.2)
        raise OSError("index not written")

    monkeypatch.setattr(build_module.search, "refresh", fail)
    judged: list[int] = []
    with pytest.raises(OSError, match="index not written"):
        build_module.build(Project.open(project_copy), force=True,
                           alongside=lambda report: judged.append(report.asserted))
    assert judged and judged[0] > 1000
