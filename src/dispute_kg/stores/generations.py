"""Store generations, the readers' side: which generation `.dispute-kg/current` names, and holding it.

A project's embedded store is a series of generations under `<state>/stores/<name>/` (store/,
manifest.json, readers.lock); `<state>/current` names the published one. A published generation is
never written again (project/state.py publishes and removes them), so a reader that resolved the
pointer and holds a shared flock on the generation's readers.lock has a store that neither changes
nor disappears until it lets go.

This module knows directories only, no project, and imports only `os` and `fcntl`: it is on the quick
route of `dispute-kg query run`.
"""

from __future__ import annotations

import os

POINTER = "current"
STORES = "stores"
READERS_LOCK = "readers.lock"
MANIFEST = "manifest.json"
VIEWS = "views.marshal"  # the materialised answers of the stored listings (query/views.py)


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

    @property
    def views_path(self) -> str:
        return os.path.join(self.path, VIEWS)

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


def published_manifest(state_dir: str) -> tuple[str | None, dict | None]:
    """(name, manifest) of the generation `current` names; (None, None) before the first build."""
    import json

    name = read_pointer(state_dir)
    if name is None:
        return None, None
    try:
        with open(os.path.join(generation_dir(state_dir, name), MANIFEST), encoding="utf-8") as fh:
            return name, json.load(fh)
    except (OSError, ValueError):
        return name, None
