"""The house's shape (issue 17): no import cycle among index/ and bot/ modules, counting every
import (module level, inside functions, under TYPE_CHECKING), and folders small enough to read."""

from __future__ import annotations

import ast
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")
MAX_ROOT_MODULES = 6  # index/'s root: the shared vocabulary and the engine's entry
MAX_FOLDER_MODULES = 15


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _files() -> list[Path]:
    return [p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))]


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The dotted names an import statement may bind, most specific first."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # relative: from the module's package, one level up per extra dot
        base = module.split(".") if is_package else module.split(".")[:-1]
        base = base[: len(base) - (node.level - 1)]
        prefix = ".".join([*base, node.module] if node.module else base)
    else:
        prefix = node.module or ""
    return [f"{prefix}.{a.name}" for a in node.names] + [prefix]


def import_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports. An edge to a module's own package (its __init__)
    is not a knot: a package's __init__ here imports nothing."""
    files = _files()
    known = {_module_name(p) for p in files}
    graph: dict[str, set[str]] = {}
    for path in files:
        module = _module_name(path)
        deps: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            for name in _targets(node, module, path.name == "__init__.py"):
                while name and name not in known:
                    name = name.rpartition(".")[0]
                if name and name != module and not module.startswith(name + "."):
                    deps.add(name)
        graph[module] = deps
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycle_among_index_and_bot_modules() -> None:
    assert cycles(import_graph()) == []


def test_the_cycle_finder_finds_a_knot() -> None:
    """The check above can fail: a two-module knot and a three-module one are both reported."""
    graph = {"a": {"b"}, "b": {"a"}, "c": {"d"}, "d": {"e"}, "e": {"c"}, "f": {"a"}}
    assert sorted(cycles(graph)) == [["a", "b"], ["c", "d", "e"]]


def test_lazy_and_type_checking_imports_count() -> None:
    tree = ast.parse(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from index.engine import Engine\n"
        "def f():\n    from index.answer import retrieval\n"
    )
    names = [t for node in ast.walk(tree) for t in _targets(node, "index.x", False)]
    assert "index.engine.Engine" in names and "index.answer.retrieval" in names


def test_cogs_never_import_each_other() -> None:
    graph = import_graph()
    cogs = {m for m in graph if m.startswith("bot.cogs.")}
    assert {(m, d) for m in cogs for d in graph[m] if d in cogs} == set()


def test_folders_stay_small() -> None:
    sizes = Counter(
        p.parent.relative_to(ROOT).as_posix() for p in _files() if p.name != "__init__.py"
    )
    assert sizes["index"] <= MAX_ROOT_MODULES, sizes["index"]
    big = {folder: n for folder, n in sizes.items() if n > MAX_FOLDER_MODULES}
    assert big == {}
