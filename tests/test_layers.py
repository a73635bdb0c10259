"""The import graph: layers import only downward, and no module imports itself in a circle.

store (`gql.kv`) -> domain (`resolvers`) -> GraphQL (`gql.schema`) -> web (`gql.web`) ->
commands (`gql.commands`, `gql.__main__`). Every import counts, also those inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LAYERS = ("gql.kv", "resolvers", "gql.schema", "gql.web", "gql.commands")
TOP = {"gql": len(LAYERS) - 1, "gql.__main__": len(LAYERS) - 1}


def _modules() -> dict[str, Path]:
    found = {}
    for package in ("gql", "resolvers"):
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def layer(module: str) -> int:
    """The layer of one of our modules (0 = store)."""
    if module in TOP:
        return TOP[module]
    for rank, prefix in enumerate(LAYERS):
        if module == prefix or module.startswith(prefix + "."):
            return rank
    raise AssertionError(f"{module} is in no layer: add it to LAYERS")


def imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """Our modules that `path` imports, anywhere in the file."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [f"{node.module}.{alias.name}" for alias in node.names] + [node.module]
        else:
            continue
        for name in names:
            # `from gql.kv import models` imports the module gql.kv.models; `from gql.kv
            # import Store` only the package.
            if name in modules:
                found.add(name)
    return found


def graph() -> dict[str, set[str]]:
    """Module -> the modules of ours it imports (a package's own __init__ excluded)."""
    modules = _modules()
    edges = {}
    for name, path in modules.items():
        targets = imports(path, modules)
        # `from gql.kv.base import X` also names the package `gql.kv`: only keep the package
        # when nothing more specific under it was imported.
        edges[name] = {
            t for t in targets if not any(o.startswith(t + ".") for o in targets) and t != name
        }
    return edges


def test_every_module_has_a_layer() -> None:
    for name in _modules():
        layer(name)


def test_imports_run_only_downward() -> None:
    upward = [
        f"{src} ({LAYERS[layer(src)] if src not in TOP else 'top'}) imports {dst}"
        for src, targets in graph().items()
        for dst in targets
        if layer(dst) > layer(src)
    ]
    assert upward == []


def test_no_import_cycles() -> None:
    edges = graph()
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*path[path.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, [*path, nxt])
        state[node] = 2

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    assert cycles == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk finds imports inside functions, so a late import cannot hide a cycle."""
    source = tmp_path / "m.py"
    source.write_text("def f():\n    from gql.web.app import create_app\n", encoding="utf-8")
    assert imports(source, _modules()) == {"gql.web.app"}
