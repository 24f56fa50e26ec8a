"""One small store interface, a selector string that names a backend, and a lazy registry.

A selector is `scheme:rest` (`oxigraph:.dispute-kg/store`, `memory:`,
`sparql:http://127.0.0.1:7878/query;update=http://127.0.0.1:7878/update`). It is parsed into a plain
`Selector` record first and opened second, so the parser is a pure function. Every backend returns
query results in the SPARQL 1.1 JSON `bindings` shape, which is what the rest of the package reads.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ..errors import CapabilityError, InputError
from ..rdf.terms import QuadTerms, Result, Term

CAPABILITIES = ("update", "named_graphs", "transactions", "persistent", "graph_store")


class Store(Protocol):
    """What every backend offers. Optional operations are guarded by `capabilities`."""

    name: str
    capabilities: frozenset[str]

    def query(self, sparql: str, bindings: Mapping[str, Term] | None = None, *,
              limit: int | None = None, timeout: float | None = None) -> Result: ...

    def update(self, sparql: str) -> None: ...

    def add_quads(self, quads: Iterable[QuadTerms]) -> None: ...

    def quads(self) -> Iterator[QuadTerms]: ...

    def count(self, graph: str | None = None) -> int: ...

    def close(self) -> None: ...


def require(store: Store, capability: str) -> None:
    """Fail with one clear error when the backend cannot do what is asked."""
    if capability not in store.capabilities:
        raise CapabilityError(f"the {store.name} backend does not support {capability.replace('_', ' ')}")


@dataclass(frozen=True)
class Selector:
    scheme: str
    location: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def option(self, name: str) -> str | None:
        return dict(self.options).get(name)


REGISTRY: dict[str, str] = {
    "oxigraph": "dispute_kg.stores.oxigraph:OxigraphStore",
    "memory": "dispute_kg.stores.memory:MemoryStore",
    "sparql": "dispute_kg.stores.sparql:SparqlStore",
}
DEFAULT_SCHEME = "oxigraph"


def parse_selector(text: str | None) -> Selector:
    """`scheme:location;key=value;...` -> Selector. A bare path means the default (oxigraph)."""
    if not text:
        return Selector(DEFAULT_SCHEME, "")
    scheme, sep, rest = text.partition(":")
    if not sep or scheme not in REGISTRY:
        if sep and scheme.isalpha() and len(scheme) > 1:
            known = ", ".join(f"{k}:" for k in REGISTRY)
            raise InputError(f"unknown store scheme {scheme!r} in {text!r} (known: {known})")
        return Selector(DEFAULT_SCHEME, text)
    location, *opts = rest.split(";")
    options = []
    for opt in opts:
        key, eq, value = opt.partition("=")
        if not eq or not key:
            raise InputError(f"store option {opt!r} in {text!r} is not key=value")
        options.append((key.strip(), value.strip()))
    return Selector(scheme, location, tuple(options))


def backend_class(scheme: str) -> type:
    try:
        module_name, class_name = REGISTRY[scheme].split(":")
    except KeyError:
        raise InputError(f"no backend registered for {scheme!r}") from None
    return getattr(importlib.import_module(module_name), class_name)


def open_store(selector: str | Selector | None, *, project: Any = None, read_only: bool = False) -> Store:
    sel = selector if isinstance(selector, Selector) else parse_selector(selector)
    return backend_class(sel.scheme).open(sel, project=project, read_only=read_only)
