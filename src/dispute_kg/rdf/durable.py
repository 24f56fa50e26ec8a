"""Durable file writes and the fault points the tests crash at: the bottom of every write the project
makes (project/state.py re-exports them with the lock and generations).

Fault injection: every rename and fsync passes a named point. ``DISPUTE_KG_FAULT_LOG=FILE`` appends each
point's name to FILE; ``DISPUTE_KG_CRASH_AT=NAME`` (or ``NAME#K``, the K-th time NAME is passed) makes
the process ``os._exit(97)`` there; ``DISPUTE_KG_PAUSE_AT=NAME`` (or ``*``, every point) with
``DISPUTE_KG_PAUSE_DIR=DIR`` writes the point's name to DIR/paused and waits until DIR/resume exists
(which it removes), so a test can copy the project as a crash there would leave it, or start a racing
command. Without those variables a point costs one dictionary lookup.
"""

from __future__ import annotations

import os

CRASH_EXIT = 97
_PASSED: dict[str, int] = {}  # fault point -> times passed in this process


def fault(point: str) -> None:
    """A named point where a test may log, kill or pause this process (no-op unless asked)."""
    env = os.environ
    if "DISPUTE_KG_FAULT_LOG" not in env and "DISPUTE_KG_CRASH_AT" not in env and "DISPUTE_KG_PAUSE_AT" not in env:
        return
    count = _PASSED[point] = _PASSED.get(point, 0) + 1
    log = env.get("DISPUTE_KG_FAULT_LOG")
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{point}#{count}\n")
    crash = env.get("DISPUTE_KG_CRASH_AT")
    if crash and crash in (point, f"{point}#{count}"):
        os._exit(CRASH_EXIT)
    pause = env.get("DISPUTE_KG_PAUSE_AT")
    if pause and pause in ("*", point, f"{point}#{count}"):
        import time

        folder = env.get("DISPUTE_KG_PAUSE_DIR", ".")
        paused, resume = os.path.join(folder, "paused"), os.path.join(folder, "resume")
        with open(paused + ".tmp", "w", encoding="utf-8") as fh:
            fh.write(f"{point}#{count}")
        os.replace(paused + ".tmp", paused)
        deadline = time.monotonic() + 300
        while not os.path.exists(resume) and time.monotonic() < deadline:
            time.sleep(0.005)
        try:
            os.unlink(resume)
        except FileNotFoundError:
            pass


def temp_name(path: str | os.PathLike[str]) -> str:
    """The temporary file `write_atomic` writes beside `path`: `.<name>.tmp-<pid>-<thread>`, so that two
    threads of one process writing the same file (readers refreshing the query index) never share one;
    recovery reads the pid from it."""
    import _thread  # not threading: the quick route writes the query index and imports little

    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}-{_thread.get_ident()}")


def fsync_dir(folder: str | os.PathLike[str]) -> None:
    """Make a rename or unlink in `folder` durable."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_atomic(path: str | os.PathLike[str], data: bytes | str, *, point: str = "write") -> None:
    """Replace `path` with `data` in one step: a temporary file in the same folder, fsync, rename,
    fsync of the folder. A reader sees the old bytes or the new ones, never a mix, and a crash leaves
    at worst a `.<name>.tmp-<pid>-<thread>` file that recovery removes. `point` names the fault points."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = os.fspath(path)
    folder = os.path.dirname(path) or "."
    os.makedirs(folder, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            fault(f"{point}:fsync")
            os.fsync(fh.fileno())
        fault(f"{point}:rename")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    fault(f"{point}:fsync-dir")
    fsync_dir(folder)


def remove_durably(path: str | os.PathLike[str], *, point: str = "remove") -> None:
    """Unlink `path` (if there) and make the removal durable."""
    fault(f"{point}:unlink")
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fault(f"{point}:fsync-dir")
    fsync_dir(os.path.dirname(os.fspath(path)) or ".")
