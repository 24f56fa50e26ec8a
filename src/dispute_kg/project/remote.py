"""The remote half of an addition sent to a `sparql:` store: the one SPARQL Update that applies it and
the one that undoes it, both written from the addition's quads. `additions.commit` applies it after the
journal keeps the quads; `state.rollback_journal` undoes it from them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyoxigraph as ox

REMOTE_ADD, REMOTE_REMOVE = "remote-add.nq", "remote-remove.nq"  # the journal's copies of the quads sent


def data_block(quads: list[ox.Quad]) -> str:
    """The quads as the body of INSERT DATA / DELETE DATA, one GRAPH block per graph."""
    by_graph: dict[str, list[str]] = {}
    for q in quads:
        by_graph.setdefault(str(q.graph_name), []).append(f"{q.subject} {q.predicate} {q.object} .")
    return " ".join(f"GRAPH {g} {{ {' '.join(lines)} }}" for g, lines in sorted(by_graph.items()))


class RemoteMirror:
    """A remote store that takes each addition's quads too, so that it keeps holding what the project's
    store holds (as `push` left it).

    The change is journalled before it is sent (`commit`): the journal names this store's selector and
    keeps the quads, so a process killed at any point leaves enough to undo it. `apply` is one SPARQL
    Update operation (one transaction on the server); `undo` deletes exactly the quads `apply` inserted and
    puts back the ones it deleted, and may be repeated: DELETE DATA of an absent quad and INSERT DATA of a
    present one change nothing. Additions carry no blank nodes (the input rules refuse them), so every quad
    can be named in DELETE DATA."""

    def __init__(self, store: Any) -> None:
        from ..stores.base import require

        require(store, "update")
        self.store = store

    @property
    def selector(self) -> str:
        return self.store.selector()

    def apply(self, add: list[ox.Quad], remove: list[ox.Quad]) -> None:
        if add and remove:  # one operation, so an error answer means nothing was applied
            self.store.update(f"DELETE {{ {data_block(remove)} }} INSERT {{ {data_block(add)} }} WHERE {{}}")
        elif add:
            self.store.update(f"INSERT DATA {{ {data_block(add)} }}")
        elif remove:
            self.store.update(f"DELETE DATA {{ {data_block(remove)} }}")

    def undo(self, add: list[ox.Quad], remove: list[ox.Quad]) -> None:
        # one operation per graph: Virtuoso 7.2 leaves language-tagged literals in place when one DELETE
        # DATA names several graphs
        parts = [f"DELETE DATA {{ {data_block(quads)} }}" for quads in _by_graph(add)]
        parts += [f"INSERT DATA {{ {data_block(quads)} }}" for quads in _by_graph(remove)]
        if parts:
            self.store.update(" ;\n".join(parts))


def _by_graph(quads: list[ox.Quad]) -> list[list[ox.Quad]]:
    groups: dict[str, list[ox.Quad]] = {}
    for q in quads:
        groups.setdefault(str(q.graph_name), []).append(q)
    return [groups[g] for g in sorted(groups)]


def undo_remote(journal_dir: Path, selector: str) -> None:
    """Undo the remote half of an interrupted addition, from the quads its journal kept in `journal_dir`
    (called by `state.rollback_journal`). Raises BackendUnavailable when the store cannot be reached:
    the journal then stays, and the next command tries again."""
    from ..stores.base import open_store

    def read(name: str) -> list[ox.Quad]:
        path = journal_dir / name
        return list(ox.parse(path.read_bytes(), format=ox.RdfFormat.N_QUADS)) if path.exists() else []

    RemoteMirror(open_store(selector)).undo(read(REMOTE_ADD), read(REMOTE_REMOVE))
