"""Project state: the one module that owns `.dispute-kg/`, the writer lock, store generations, atomic
file writes and the fault-injection hooks the tests kill processes with.

Layout of `.dispute-kg/`::

    lock                   fcntl.flock'ed exclusively by every writer (build, the automatic rebuild a
                           read command triggers, add, retract, source add, link and snapshot writes)
    current                the published generation's name: one line, replaced by one atomic rename
    stores/<generation>/   store/ (Oxigraph), manifest.json (what this generation was built from),
                           readers.lock (readers hold a shared flock on it while they use the store)
    query-index.marshal    what the quick `query run` route needs, naming the generation it indexed
    journal.json, journal/ an add or retract under way (see additions.py)

A published generation is never written again. A build writes a new one beside it and publishes it by
replacing `current`; an addition copies the current generation (hard links for RocksDB's immutable
table files), applies its quads to the copy and publishes that. So a reader that resolved `current`
keeps a complete, unchanging store for as long as it holds it, and the next reader sees the new one.
Generations other than the current one are removed by writers (under the lock) once no reader holds
a shared lock on them.

Writers call `recover` under the lock first: it rolls an interrupted add or retract back (or forward,
when its generation was published), removes temporary files dead processes left
(`.<name>.tmp-<pid>` under data/ and .dispute-kg/) and unpublished or unheld old generations.

Fault injection, for the tests: every rename and fsync of a project write passes a named point.
``DISPUTE_KG_FAULT_LOG=FILE`` appends each point's name to FILE; ``DISPUTE_KG_CRASH_AT=NAME`` (or
``NAME#K``, the K-th time NAME is passed) makes the process ``os._exit(97)`` there; and
``DISPUTE_KG_PAUSE_AT=NAME`` (or ``*``, every point) with ``DISPUTE_KG_PAUSE_DIR=DIR`` writes the
point's name to DIR/paused there and waits until DIR/resume exists (which it removes), so a test can
copy the project as a crash at that point would leave it, or start a racing command.

The functions a plain `query run` needs (`read_pointer`, `hold`) use only `os` and `fcntl`.
"""

from __future__ import annotations

import os

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .folder import Project

STATE_DIR = ".dispute-kg"
POINTER = "current"
STORES = "stores"
LOCK = "lock"
READERS_LOCK = "readers.lock"
MANIFEST = "manifest.json"
CRASH_EXIT = 97

_HELD: dict[tuple[str, int], int] = {}  # (project root, thread) -> depth of the writer lock it holds
_PASSED: dict[str, int] = {}  # fault point -> times passed in this process


# ------------------------------------------------------------------------------------------
# Fault injection
# ------------------------------------------------------------------------------------------

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


# ------------------------------------------------------------------------------------------
# Atomic writes
# ------------------------------------------------------------------------------------------

def temp_name(path: str | os.PathLike[str]) -> str:
    """The temporary file `write_atomic` writes beside `path` (recovery knows the pattern)."""
    folder, name = os.path.split(os.fspath(path))
    return os.path.join(folder, f".{name}.tmp-{os.getpid()}")


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
    at worst a `.<name>.tmp-<pid>` file that recovery removes. `point` names the fault points."""
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


# ------------------------------------------------------------------------------------------
# The writer lock
# ------------------------------------------------------------------------------------------

def ensure_state_dir(project: Project) -> Path:
    state = project.state_dir
    state.mkdir(exist_ok=True)
    gitignore = state / ".gitignore"
    if not gitignore.exists():
        write_atomic(gitignore, "*\n")
    return state


def _key(project: Project) -> tuple[str, int]:
    import _thread

    return str(project.root), _thread.get_ident()


def holds_lock(project: Project) -> bool:
    """Whether this thread holds the project's writer lock."""
    return bool(_HELD.get(_key(project)))


def writer_lock(project: Project) -> Iterator[None]:
    """Hold the project's writer lock: every change to data/ or .dispute-kg/ happens under it.
    Re-entrant within one thread, so a writer may call another writer (add -> build); other threads
    of the process wait like other processes (each takes the flock on its own descriptor)."""
    import contextlib
    import fcntl

    @contextlib.contextmanager
    def held() -> Iterator[None]:
        key = _key(project)
        if _HELD.get(key):
            _HELD[key] += 1
            try:
                yield
            finally:
                _HELD[key] -= 1
            return
        ensure_state_dir(project)
        fd = os.open(project.state_dir / LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            _HELD[key] = 1
            try:
                yield
            finally:
                _HELD[key] = 0
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)

    return held()


# ------------------------------------------------------------------------------------------
# Generations: resolving and holding (the quick route's part: os and fcntl only)
# ------------------------------------------------------------------------------------------

def read_pointer(state_dir: str) -> str | None:
    """The published generation's name, or None when nothing was built yet."""
    try:
        with open(os.path.join(state_dir, POINTER), "rb") as fh:
            name = fh.read(64).decode("ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if name.isdigit() else None


def generation_dir(state_dir: str | os.PathLike[str], name: str) -> str:
    return os.path.join(os.fspath(state_dir), STORES, name)


class Held:
    """A generation a reader holds: its store and manifest stay on disk until `release`."""

    __slots__ = ("fd", "name", "path")

    def __init__(self, name: str, path: str, fd: int) -> None:
        self.name, self.path, self.fd = name, path, fd

    @property
    def store_path(self) -> str:
        return os.path.join(self.path, "store")

    @property
    def manifest_path(self) -> str:
        return os.path.join(self.path, MANIFEST)

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)  # closing the descriptor drops its flock
            self.fd = -1

    def __del__(self) -> None:  # a store object dropped by a reader that follows new generations
        self.release()

    def __enter__(self) -> Held:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def hold_named(state_dir: str, name: str) -> Held | None:
    """Hold generation `name` (a shared flock on its readers.lock), or None if it is gone."""
    import fcntl

    path = generation_dir(state_dir, name)
    try:
        fd = os.open(os.path.join(path, READERS_LOCK), os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        if os.fstat(fd).st_nlink == 0:  # a cleaner removed it while we waited
            os.close(fd)
            return None
    except OSError:
        os.close(fd)
        return None
    return Held(name, path, fd)


def hold(state_dir: str, attempts: int = 20) -> Held | None:
    """Resolve `current` and hold the generation it names; None when nothing is built. A pointer
    that moved on between reading it and locking is read again."""
    for _ in range(attempts):
        name = read_pointer(state_dir)
        if name is None:
            return None
        held = hold_named(state_dir, name)
        if held is not None:
            return held
    return None


# ------------------------------------------------------------------------------------------
# Generations: writing, publishing and cleaning (writers only, under the lock)
# ------------------------------------------------------------------------------------------

def _generation_names(state_dir: Path) -> list[str]:
    base = state_dir / STORES
    if not base.is_dir():
        return []
    return sorted(p.name for p in base.iterdir() if p.name.isdigit())


def new_generation(project: Project) -> Path:
    """Make an empty, unpublished generation directory (with its readers.lock) and return it."""
    assert holds_lock(project), "a generation is created under the writer lock"
    state = ensure_state_dir(project)
    names = _generation_names(state)
    current = read_pointer(os.fspath(state))
    top = max([int(n) for n in names] + [int(current) if current else 0])
    path = state / STORES / f"{top + 1:08d}"
    path.mkdir(parents=True)
    with open(path / READERS_LOCK, "wb"):
        pass
    return path


def copy_store(src: Path, dest: Path) -> None:
    """Copy an Oxigraph (RocksDB) store that nobody writes: table files (`*.sst`, never modified once
    written) are hard-linked, everything else (MANIFEST, WAL, OPTIONS) copied, so the copy can be
    opened for writing while readers keep reading the original."""
    import shutil

    dest.mkdir()
    for entry in sorted(src.iterdir()):
        target = dest / entry.name
        if entry.is_dir():
            shutil.copytree(entry, target)
        elif entry.suffix == ".sst":
            try:
                os.link(entry, target)
            except OSError:
                shutil.copy2(entry, target)
        else:
            shutil.copy2(entry, target)
    fsync_dir(dest)


def sync_tree(path: Path, point: str) -> None:
    """fsync every file and folder under `path` (a new generation) before it is published."""
    fault(f"{point}:fsync")
    for folder, _, files in os.walk(path):
        for name in files:
            fd = os.open(os.path.join(folder, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
        fsync_dir(folder)
    fsync_dir(path.parent)


def publish(project: Project, generation: Path, *, point: str = "publish") -> None:
    """Make `generation` the current one: one atomic rename of the pointer. Then remove what no
    reader holds any more."""
    assert holds_lock(project), "generations are published under the writer lock"
    sync_tree(generation, f"{point}:generation")
    write_atomic(project.state_dir / POINTER, generation.name + "\n", point=f"{point}:pointer")
    clean_generations(project)


def clean_generations(project: Project) -> list[str]:
    """Remove every generation but the current one that no reader holds (and the store folder and
    manifest an earlier layout kept). Returns the names removed."""
    import fcntl
    import shutil

    assert holds_lock(project), "generations are removed under the writer lock"
    state = project.state_dir
    current = read_pointer(os.fspath(state))
    removed = []
    for name in _generation_names(state):
        if name == current:
            continue
        path = state / STORES / name
        try:
            fd = os.open(path / READERS_LOCK, os.O_RDONLY)
        except FileNotFoundError:
            shutil.rmtree(path, ignore_errors=True)  # half made: nobody can hold it
            removed.append(name)
            continue
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a reader still uses it; a later writer removes it
            os.unlink(path / READERS_LOCK)  # new readers fail to open it and read the pointer again
            shutil.rmtree(path, ignore_errors=True)
            removed.append(name)
        finally:
            os.close(fd)
    for legacy in ("store", "manifest.json"):
        target = state / legacy
        if target.is_dir():
            shutil.rmtree(target, ignore_errors=True)
        elif target.exists():
            target.unlink()
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def stale_temp_files(project: Project) -> list[Path]:
    """`.<name>.tmp-<pid>` files (and `store.tmp-<pid>` folders) under data/ and .dispute-kg/ whose
    process is gone."""
    from pathlib import Path

    out = []
    for top in (project.root / "data", project.state_dir):
        if not top.is_dir():
            continue
        for folder, dirs, files in os.walk(top):
            for name in [*files, *dirs]:
                stem, sep, pid = name.rpartition(".tmp-")
                if sep and stem and pid.isdigit() and not _pid_alive(int(pid)):
                    out.append(Path(folder) / name)
    return out


def remove_temp_files(project: Project) -> list[Path]:
    import shutil

    found = stale_temp_files(project)
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


def recover(project: Project) -> bool:
    """Under the writer lock: finish or roll back an interrupted add/retract, remove dead processes'
    temporary files and generations nobody holds. True if a journal was found."""
    from .additions import recover_journal

    with writer_lock(project):
        found = recover_journal(project)
        remove_temp_files(project)
        if project.state_dir.is_dir():
            clean_generations(project)
        return found


def needs_recovery(project: Project) -> bool:
    """Whether a dead writer left a journal (cheap: one stat), so a reader should call `recover`."""
    return os.path.exists(os.path.join(project.state_dir, "journal.json"))


def current_manifest(project: Project) -> tuple[str | None, dict | None]:
    """(generation name, its manifest) as published now."""
    import json

    name = read_pointer(os.fspath(project.state_dir))
    if name is None:
        return None, None
    try:
        with open(os.path.join(generation_dir(project.state_dir, name), MANIFEST), encoding="utf-8") as fh:
            return name, json.load(fh)
    except (OSError, ValueError):
        return name, None
