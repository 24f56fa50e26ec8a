"""The query index: what a plain `dispute-kg query run` needs, read in one `marshal.load`.

Checking that the store is fresh (the manifest is JSON, the signature a SHA-256), reading a query's
`#+` header (a YAML subset parsed with `re`) and building value objects (dataclasses, typing) cost
more imports than running the query does. So `build`, and every `add` or `retract`, writes
`.dispute-kg/query-index.marshal`: the store generation it describes, the size and mtime of each build
input and stored query, the mtime of each folder they are listed from, and every stored query already
parsed. `lookup` trusts it only while all of these still match (as
`Project.is_fresh` trusts sizes and mtimes); on any difference it returns None and the caller takes
the full route, which reads the files themselves and gives the same answer. A query edited since the
last build is therefore read from its file until the next `dispute-kg build` refreshes the index.

`lookup` is on the quick route and imports only `os`, `marshal` and `fcntl` (for the shared lock that
holds the generation while the query runs, see project/state.py).
"""

from __future__ import annotations

import marshal
import os

from .binding import Column, Parameter, StoredQuery

TYPE_CHECKING = False
if TYPE_CHECKING:
    from ..project.folder import Project
    from ..stores.generations import Held
    from .catalog import Catalog

INDEX_NAME = "query-index.marshal"
FORMAT = 7


def _encode(query: StoredQuery) -> dict[str, object]:
    return {"name": query.name, "file": query.file, "summary": query.summary, "description": query.description,
            "tags": list(query.tags), "parameters": [list(p.astuple()) for p in query.parameters],
            "defaults": dict(query.defaults), "text": query.text, "where_at": query.where_at,
            "columns": [list(c.astuple()) for c in query.columns],
            "inner_at": [[at, list(names)] for at, names in query.inner_at],
            "order": _encode_order(query.ordering()), "deferred": query.deferred()}


def _encode_order(order: tuple[int, int, tuple[tuple[str, bool], ...]] | None) -> list | None:
    return None if order is None else [order[0], order[1], [list(key) for key in order[2]]]


def _decode(entry: dict) -> StoredQuery:
    query = StoredQuery(entry["name"], entry["file"], entry["summary"], entry["description"], tuple(entry["tags"]),
                        tuple(Parameter(*p) for p in entry["parameters"]), dict(entry["defaults"]), entry["text"],
                        entry["where_at"], tuple(Column(*c) for c in entry["columns"]),
                        tuple((at, tuple(names)) for at, names in entry["inner_at"]))
    query._order = _decode_order(entry["order"])
    query._deferred = entry["deferred"]
    return query


def _decode_order(order: list | None) -> tuple[int, int, tuple[tuple[str, bool], ...]] | None:
    return None if order is None else (order[0], order[1], tuple((v, bool(d)) for v, d in order[2]))


def catalog(project: Project) -> Catalog:
    """The project's stored queries, each knowing its ORDER BY from the index when the last build saw its
    text (`known_orders`)."""
    from .catalog import Catalog

    return Catalog(project.query_files, orders=known_orders(os.fspath(project.state_dir)))


def known_orders(state_dir: str) -> dict[str, tuple]:
    """Each indexed query text's `StoredQuery.ordering()` and `deferred()`, whatever the index's
    freshness: both depend on the text alone, and reading them here spares the full route rdflib's parser
    (about 0.3 s to import) for every stored query the last build saw. {} without a readable index."""
    try:
        with open(os.path.join(state_dir, INDEX_NAME), "rb") as fh:
            data = marshal.load(fh)
        if data.get("format") != FORMAT:
            return {}
        return {entry["text"]: (_decode_order(entry["order"]), entry["deferred"])
                for entry in data["queries"].values()}
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError, AttributeError):
        return {}


def _folder_mtime(path: str) -> int | None:
    try:
        return os.stat(path).st_mtime_ns
    except FileNotFoundError:
        return None


def refresh(project: Project) -> bool:
    """Write the index if the store is fresh by the manifest's stat signature and the index differs
    from what is there; returns whether it wrote. Stats are taken before the files are read, so a
    file changed meanwhile leaves an index that no longer matches rather than a wrong one."""
    from ..errors import DisputeKGError
    from ..rdf.durable import write_atomic
    from ..stores.generations import published_manifest
    from .catalog import Catalog

    root = os.fspath(project.root)
    index_path = project.state_dir / INDEX_NAME
    folders = [(rel, _folder_mtime(os.path.join(root, rel))) for rel in project.input_folders()]
    inputs = project.input_stats()
    generation, manifest = published_manifest(os.fspath(project.state_dir))
    if generation is None:
        return False
    fresh = manifest and manifest.get("stat_signature") == project.stat_signature(inputs)
    if not fresh or not project.store_path.is_dir():
        index_path.unlink(missing_ok=True)  # the store is not known to match the files: no quick route
        return False
    query_files = [(project.relpath(p), st.st_size, st.st_mtime_ns) for p in project.query_files
                   for st in [p.stat()]]
    catalog = Catalog(project.query_files)
    queries = {}
    for name in catalog.names():
        try:
            queries[name] = _encode(catalog.get(name))
        except DisputeKGError:
            continue  # a broken query takes the full route, which reports it
    data = {"format": FORMAT, "generation": generation,
            "folders": [list(f) for f in folders], "files": [list(f) for f in inputs + query_files],
            "queries": queries}
    blob = marshal.dumps(data)
    try:
        if index_path.read_bytes() == blob:
            return False
    except OSError:
        pass
    write_atomic(index_path, blob, point="index")
    return True


def _valid_index(root: str) -> dict | None:
    """The index of the project at `root` if everything it recorded still matches, else None."""
    from ..stores.generations import read_pointer

    state = os.path.join(root, ".dispute-kg")
    try:
        with open(os.path.join(state, INDEX_NAME), "rb") as fh:
            data = marshal.load(fh)
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            return None
        if os.path.exists(os.path.join(state, "journal.json")):
            return None  # an add or retract is under way or died half done: the full route recovers it
        if data["generation"] != read_pointer(state):
            return None  # another generation was published since: its index is written by its writer
        for rel, mtime in data["folders"]:
            if _folder_mtime(os.path.join(root, rel)) != mtime:
                return None
        for rel, size, mtime in data["files"]:
            st = os.stat(os.path.join(root, rel))
            if st.st_size != size or st.st_mtime_ns != mtime:
                return None
        return data
    except (OSError, ValueError, EOFError, TypeError, KeyError, IndexError):
        return None  # no index, an unreadable one, or a file gone: the full route decides


def lookup(root: str, name: str) -> tuple[StoredQuery, Held] | None:
    """The stored query `name` and its store generation, held (release it when done), when the index
    shows that neither the store's inputs nor the stored queries changed since it was written;
    otherwise None."""
    from ..stores.generations import hold_named

    data = _valid_index(root)
    if data is None:
        return None
    try:
        entry = data["queries"].get(name)
        if entry is None:
            return None
        query = _decode(entry)
    except (AttributeError, KeyError, TypeError, IndexError):
        return None
    held = hold_named(os.path.join(root, ".dispute-kg"), data["generation"])
    return (query, held) if held is not None else None


def ensure(project: Project) -> None:
    """Refresh a stale or missing index for a store the caller has found fresh. A project folder
    that cannot be written is left as it is: the quick route is only an optimisation."""
    if _valid_index(os.fspath(project.root)) is None:
        try:
            refresh(project)
        except OSError:
            pass
