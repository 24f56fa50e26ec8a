"""The import rules docs/architecture.md states, checked on the source itself: data flows one way
(cli and http -> the library -> store backends -> rdf terms), no module imports itself back through
others, backends import nothing above them, and web pages reach the graph only through the library.

Every import counts, including those inside functions: a lazy import is still a dependency.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "src" / "dispute_kg"
ROOT_NAME = "dispute_kg"

# Layers, top first, by module path under dispute_kg (the longest entry that names a module decides).
# A module may import its own package and anything in a lower layer. The project folder and its state
# sit low because every part of the library reads where the files are and writes through one lock;
# building, adding and pushing sit high because they use the rest.
LAYERS: list[set[str]] = [
    {"", "entry", "__main__"},
    {"cli"},
    {"http"},
    {"kg"},
    {"project"},
    {"validation", "links", "extract"},
    {"query", "reasoning"},
    {"project.folder", "project.state", "project.remote"},
    {"stores"},
    {"rdf"},
    {"errors"},
]


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of the file except those under `if TYPE_CHECKING:`, which are never run."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            skipped.update(id(n) for child in node.body for n in ast.walk(child))
    return [n for n in ast.walk(tree) if id(n) not in skipped]


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Every project module `name` imports when it runs, at any depth in the file."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in runtime_nodes(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            # `from pkg import sub` imports the submodule; `from mod import name` imports mod
            targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod for a in node.names]
        for target in targets:
            if not target.startswith(ROOT_NAME):
                continue
            # the longest known module the target names (a name imported from a module is not a module)
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def top_package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def layer_of(module: str) -> int:
    path = module.partition(".")[2]
    best = None
    for i, layer in enumerate(LAYERS):
        for entry in layer:
            if (path == entry or path.startswith(entry + ".") or entry == "" == path) and \
                    (best is None or len(entry) > len(best[1])):
                best = (i, entry)
    if best is None:
        raise AssertionError(f"{module} is in no layer of docs/architecture.md; add its package to LAYERS")
    return best[0]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


EDGES = graph()


def test_the_checker_sees_imports() -> None:
    # guards the guard: if parsing broke, every rule below would pass vacuously
    assert "dispute_kg.stores.base" in EDGES["dispute_kg.kg"]
    assert len(EDGES) > 40 and sum(map(len, EDGES.values())) > 150


def test_no_import_cycles() -> None:
    found = cycles(EDGES)
    assert not found, "import cycles:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_cycle_finder_finds_a_cycle() -> None:
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_data_flows_down_the_layers() -> None:
    # the root package is exempt as a target: its __init__ imports nothing at import time (only
    # `__version__` is read from it), so importing it adds no dependency
    upward = [f"{m} imports {t}" for m, targets in EDGES.items() for t in sorted(targets)
              if t != "dispute_kg" and layer_of(t) < layer_of(m)
              and not (top_package(m) == top_package(t) and layer_of(m) == layer_of(t))]
    assert not upward, "imports against the layers:\n" + "\n".join(upward)


@pytest.mark.parametrize("package", ["stores", "rdf"])
def test_low_layers_import_nothing_above_them(package: str) -> None:
    allowed = {"stores": {"stores", "rdf", ""}, "rdf": {"rdf", ""}}[package]
    bad = [f"{m} imports {t}" for m, targets in EDGES.items() if top_package(m) == package
           for t in sorted(targets) if top_package(t) not in allowed and t != "dispute_kg.errors"]
    assert not bad, "\n".join(bad)


def test_web_pages_never_touch_a_store() -> None:
    """Pages call the library (KnowledgeGraph, stored queries); they neither import a backend nor
    reach through the library for its store object."""
    bad = []
    for name, path in modules().items():
        if not name.startswith("dispute_kg.http.web"):
            continue
        bad += [f"{name} imports {t}" for t in sorted(EDGES[name]) if top_package(t) == "stores"]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "store":
                bad.append(f"{name}:{node.lineno} reads .store")
    assert not bad, "\n".join(bad)


def test_architecture_doc_names_every_package() -> None:
    doc = (PKG.parents[1] / "docs" / "architecture.md").read_text(encoding="utf-8")
    packages = sorted({top_package(m) for m in EDGES if top_package(m) and (PKG / top_package(m)).is_dir()})
    missing = [p for p in packages if f"`{p}/`" not in doc]
    assert not missing, f"docs/architecture.md does not describe {missing}"


def test_readme_layout_names_every_package() -> None:
    readme = (PKG.parents[1] / "README.md").read_text(encoding="utf-8")
    layout = readme.split("## Layout", 1)[1].split("```")[1]
    packages = sorted(p.name for p in PKG.iterdir() if p.is_dir() and (p / "__init__.py").exists())
    missing = [p for p in packages if f"{p}/" not in layout]
    assert not missing, f"README's layout section does not name {missing}"
