"""Imports flow one way (docs/architecture.md, "Layers"): no circle among routeyard's modules,
no module importing one of a higher layer, and no project import hidden in a function (only
the CLI defers its imports, to start fast). Read from the source, TYPE_CHECKING blocks
included, without importing anything."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "routeyard"

# Lowest first. A module belongs to the longest prefix listed; it may import its own layer and
# those below. Keep in step with docs/architecture.md.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("foundation", ("routeyard.errors", "routeyard.ids", "routeyard.prices", "routeyard.keys",
                    "routeyard.logs", "routeyard.accesslog", "routeyard.metrics",
                    "routeyard.models", "routeyard.preferences")),
    ("pure maths", ("routeyard.health", "routeyard.accounting.periods",
                    "routeyard.accounting.records", "routeyard.accounting.wire",
                    "routeyard.accounting.usage_table")),
    ("settings and limits", ("routeyard.config", "routeyard.ratelimit",
                             "routeyard.accounting.shared")),
    ("upstream client", ("routeyard.upstream",)),
    ("serving format", ("routeyard.wire", "routeyard.snapshot")),
    ("store", ("routeyard.store",)),
    ("catalog", ("routeyard.catalog",)),
    ("router", ("routeyard.router",)),
    ("monitor", ("routeyard.monitor", "routeyard.accounting.service", "routeyard.accounting")),
    ("process", ("routeyard.service", "routeyard.runtime")),
    ("api", ("routeyard.api",)),
    ("web", ("routeyard.web",)),
    ("entry points", ("routeyard", "routeyard.app", "routeyard.server", "routeyard.cli",
                      "routeyard.fake_provider")),
]
DEFERRED_OK = {"routeyard.cli"}  # imports inside functions allowed here only
# The Store owns every transaction: the database libraries are imported in store/ only.
STORE_ONLY = ("sqlalchemy", "alembic")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted((SRC / PACKAGE).rglob("*.py"))
            if "migrations" not in p.parts}


def layer_of(module: str) -> int:
    best, found = -1, None
    for index, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, found = len(prefix), index
    assert found is not None, f"{module} is in no layer: add it to LAYERS"
    return found


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[str, int, bool]]:
    """(imported project module, line, inside a function) for each project import."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    in_function: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            in_function |= {id(n) for n in ast.walk(node) if n is not node}
    found: list[tuple[str, int, bool]] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")
                parent = parent[:len(parent) - node.level + 1]
                base = ".".join([*parent, *([base] if base else [])])
            # `from routeyard.api import admin` imports the module routeyard.api.admin
            names = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base
                     for a in node.names]
        for name in names:
            if name == PACKAGE or name.startswith(PACKAGE + "."):
                while name not in known and "." in name:
                    name = name.rpartition(".")[0]
                found.append((name, node.lineno, id(node) in in_function))
    return found


def graph() -> dict[str, set[str]]:
    found = modules()
    known = set(found)
    return {m: {target for target, _, _ in imports_of(m, p, known) if target != m}
            for m, p in found.items()}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
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
                out.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def upward(edges: dict[str, set[str]]) -> list[str]:
    return [f"{m} ({LAYERS[layer_of(m)][0]}) imports {t} ({LAYERS[layer_of(t)][0]})"
            for m, targets in sorted(edges.items()) for t in sorted(targets)
            if layer_of(t) > layer_of(m)]


def test_the_graph_is_read() -> None:
    edges = graph()
    assert "routeyard.api.deps" in edges["routeyard.api.admin"]
    assert "routeyard.api.admin" in edges["routeyard.api"]  # `from routeyard.api import admin`
    assert "routeyard.models" in edges["routeyard.wire"]
    assert len(edges) > 50


def test_no_import_circle() -> None:
    assert cycles(graph()) == []


def test_no_upward_import() -> None:
    assert upward(graph()) == []


def test_no_project_import_inside_a_function() -> None:
    found = modules()
    known = set(found)
    hidden = [f"{m}:{line} imports {target}" for m, p in found.items() if m not in DEFERRED_OK
              for target, line, deferred in imports_of(m, p, known) if deferred]
    assert hidden == []


def third_party_imports(path: Path) -> list[tuple[str, int]]:
    """(top-level package, line) of each absolute import of ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module.split(".")[0], node.lineno))
    return found


def store_only_imports_outside_the_store() -> list[str]:
    return [f"{module}:{line} imports {name}" for module, path in modules().items()
            if not (module == "routeyard.store" or module.startswith("routeyard.store."))
            for name, line in third_party_imports(path) if name in STORE_ONLY]


def test_only_the_store_imports_sqlalchemy_and_alembic() -> None:
    assert store_only_imports_outside_the_store() == []


# The pure layer (health maths, periods, records) does no I/O: no event loop, sockets, files
# of the database, nor the client to providers.
IO_MODULES = ("asyncio", "socket", "ssl", "sqlite3", "psycopg", "httptools", "urllib", "http")


def io_imports_in_the_pure_layer() -> list[str]:
    pure = dict(LAYERS)["pure maths"]
    return [f"{module}:{line} imports {name}" for module, path in modules().items()
            if any(module == p or module.startswith(p + ".") for p in pure)
            for name, line in third_party_imports(path) if name in IO_MODULES]


def test_the_pure_layer_does_no_io() -> None:
    assert io_imports_in_the_pure_layer() == []


def test_a_database_import_outside_the_store_is_found(tmp_path: Path) -> None:
    source = tmp_path / "m.py"
    source.write_text("import os\nfrom sqlalchemy.exc import SQLAlchemyError\nimport alembic.command\n")
    assert third_party_imports(source) == [("os", 1), ("sqlalchemy", 2), ("alembic", 3)]


def test_the_layers_are_those_docs_architecture_lists() -> None:
    text = (SRC.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d+) \| ([a-z ]+) \|", text, flags=re.MULTILINE)
    assert sorted((int(n), name) for n, name in rows) == [
        (i + 1, name) for i, (name, _) in enumerate(LAYERS)]


def test_every_module_has_a_layer() -> None:
    for module in modules():
        layer_of(module)


@pytest.mark.parametrize(("edges", "expected"), [
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"b"}, "b": set()}, []),
])
def test_cycles_are_found(edges: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert cycles(edges) == expected


def test_an_upward_arrow_is_named() -> None:
    assert upward({"routeyard.store.health": {"routeyard.runtime"}}) == [
        "routeyard.store.health (store) imports routeyard.runtime (process)"]
    assert upward({"routeyard.runtime": {"routeyard.store"}}) == []
