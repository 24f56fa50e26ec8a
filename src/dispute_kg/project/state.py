"""Project state: the one module that owns `.dispute-kg/`, the writer lock, store generations, atomic
file writes and the fault-injection hooks the tests kill processes with.

Layout of `.dispute-kg/`::

    lock                   fcntl.flock'ed exclusively by every writer (build, the automatic rebuild a
                           read command triggers, add, retract, source add, link and snapshot writes)
    current                the published generation's name: one line, replaced by one atomic rename
    stores/<generation>/   store/ (Oxigraph), manifest.json (what this generation was built from),
                           views.marshal (its listings' answers, query/views.py), readers.lock
                           (readers hold a shared flock on it while they use the store)
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

Readers resolve and hold generations with `stores/generations.py` (os and fcntl only, so the quick
`query run` route stays light); everything that writes is here.
"""

from __future__ import annotations

import json
import os
import shutil

from ..rdf.durable import CRASH_EXIT, fault, fsync_dir, remove_durably, temp_name, write_atomic
from ..stores.generations import (  # the readers' side of generations, re-exported for writers
    MANIFEST,
    POINTER,
    READERS_LOCK,
    STORES,
    Held,
    generation_dir,
    hold,
    hold_named,
    published_manifest,
    read_pointer,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .folder import Project

STATE_DIR = ".dispute-kg"
LOCK = "lock"
__all__ = ["CRASH_EXIT", "MANIFEST", "POINTER", "READERS_LOCK", "STORES", "Held", "fault", "fsync_dir",
           "generation_dir", "hold", "hold_named", "read_pointer", "remove_durably", "temp_name", "write_atomic"]

_HELD: dict[tuple[str, int], int] = {}  # (project root, thread) -> depth of the writer lock it holds


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
    """`.<name>.tmp-<pid>[-<thread>]` files (and `store.tmp-<pid>` folders) under data/ and .dispute-kg/
    whose process is gone."""
    from pathlib import Path

    out = []
    for top in (project.root / "data", project.state_dir):
        if not top.is_dir():
            continue
        for folder, dirs, files in os.walk(top):
            for name in [*files, *dirs]:
                stem, sep, tail = name.rpartition(".tmp-")
                pid = tail.split("-", 1)[0]
                if sep and stem and pid.isdigit() and not _pid_alive(int(pid)):
                    out.append(Path(folder) / name)
    return out


def remove_temp_files(project: Project) -> list[Path]:
    found = stale_temp_files(project)
    for path in found:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return found


# ------------------------------------------------------------------------------------------
# The journal of an add or retract, and recovery
# ------------------------------------------------------------------------------------------

JOURNAL = "journal.json"
_ACTIVE: set[str] = set()  # projects this process has a journal open for (recovery leaves those alone)


def journal_dir(project: Project) -> Path:
    return project.state_dir / "journal"


def notice(message: str) -> None:
    """Tell the person at the terminal what recovery did (stderr, so that no command's output changes)."""
    import sys

    print(f"note: {message}", file=sys.stderr)


def recover_journal(project: Project) -> bool:
    """Called by `recover` under the writer lock. The journal names the generation the change
    was to publish: if `current` already names it, the change is complete (roll forward: drop the
    journal); otherwise delete the files it created, restore the ones it removed and undo its update of
    a remote store. A remote store that cannot be reached keeps the journal (BackendUnavailable): the
    next command tries again."""
    journal_path = project.state_dir / JOURNAL
    if str(project.root) in _ACTIVE:
        return False
    if not journal_path.exists():
        shutil.rmtree(journal_dir(project), ignore_errors=True)  # backups of a change that never began
        return False
    try:
        journal = json.loads(journal_path.read_text(encoding="utf-8"))
    except ValueError:
        journal = None  # torn before its rename completed: nothing was changed yet
    what = f"an interrupted {journal.get('op', 'change')} ({journal.get('id', '?')})" if journal else None
    remote = f", and {journal['remote']}" if journal and journal.get("remote") else ""
    if journal is not None and read_pointer(str(project.state_dir)) != journal.get("generation"):
        rollback_journal(project, journal)
        notice(f"rolled back {what}: the project's files and store{remote} are as they were before it")
    elif journal is not None:
        notice(f"{what} had completed: it stands in the project's files and store{remote}")
    end_journal(project)
    return True


def rollback_journal(project: Project, journal: dict) -> None:
    jdir = journal_dir(project)
    for rel in journal.get("created", []):
        remove_durably(project.root / rel, point="rollback")
    for rel in journal.get("removed", []):
        backup = jdir / "backup" / rel
        target = project.root / rel
        if backup.exists() and not target.exists():
            write_atomic(target, backup.read_bytes(), point="rollback")
    if journal.get("remote"):
        from ..errors import BackendUnavailable, DisputeKGError
        from .remote import undo_remote

        fault("rollback:remote")
        try:
            undo_remote(journal_dir(project), journal["remote"])
        except DisputeKGError as exc:
            raise BackendUnavailable(
                f"{journal.get('op', 'a change')} {journal.get('id', '')} was interrupted after it may have "
                f"updated {journal['remote']}, and undoing that failed ({exc}); the project's files and store "
                "are as before it, and the next command tries the remote store again") from None


def begin_journal(project: Project, journal: dict, *, point: str, extra: dict[str, bytes] | None = None) -> None:
    """Write the journal (and backups of the files to be removed, and `extra` files recovery needs)
    before anything in data/ or a remote store changes."""
    jdir = journal_dir(project)
    shutil.rmtree(jdir, ignore_errors=True)
    jdir.mkdir(parents=True)
    for rel in journal.get("removed", []):
        write_atomic(jdir / "backup" / rel, (project.root / rel).read_bytes(), point=f"{point}:backup")
    for name, data in sorted((extra or {}).items()):
        write_atomic(jdir / name, data, point=f"{point}:intent")
    write_atomic(project.state_dir / JOURNAL, json.dumps(journal, indent=2), point=f"{point}:journal")
    _ACTIVE.add(str(project.root))


def abandon_journal(project: Project, journal: dict) -> None:
    """Undo a change that raised before its commit point, in this process. When its remote half cannot
    be undone the journal stays for the next command (and BackendUnavailable is raised)."""
    try:
        rollback_journal(project, journal)
    except BaseException:
        _ACTIVE.discard(str(project.root))
        raise
    end_journal(project, point="abandon")
    clean_generations(project)


def end_journal(project: Project, *, point: str = "end") -> None:
    remove_durably(project.state_dir / JOURNAL, point=f"{point}:journal")
    _ACTIVE.discard(str(project.root))
    shutil.rmtree(journal_dir(project), ignore_errors=True)


def recover(project: Project) -> bool:
    """Under the writer lock: finish or roll back an interrupted add/retract, remove dead processes'
    temporary files and generations nobody holds. True if a journal was found."""
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
    return published_manifest(os.fspath(project.state_dir))
