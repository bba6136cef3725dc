"""The error family (index/errors.py): one module, importing nothing from the project (cycles:
tests/test_house.py)."""

from __future__ import annotations

import ast
from pathlib import Path

from index import errors

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("index", "bot")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _imports(path: Path, known: set[str]) -> set[str]:
    """Project modules that ``path`` imports anywhere (lazy and TYPE_CHECKING imports count too)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        found.update(n for n in names if n in known)
    return found


def _graph() -> dict[str, set[str]]:
    files = [p for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")]
    known = {_module_name(p) for p in files}
    graph = {_module_name(p): _imports(p, known) for p in files}
    # A package's modules importing each other through the package __init__ is not a cycle.
    return {m: {d for d in deps if d != m} for m, deps in graph.items()}


def test_errors_module_imports_nothing_from_the_project() -> None:
    assert _graph()["index.errors"] == set()


def test_the_bot_and_cli_take_error_classes_only_from_index_errors() -> None:
    """No `from index.generations.store import ...Error`: the family lives in one module."""
    offenders = []
    for path in [*(ROOT / "bot").rglob("*.py"), *(ROOT / "index" / "cli").glob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module not in (None, "index.errors"):
                for alias in node.names:
                    if node.module.startswith("index.") and alias.name in _FAMILY:
                        offenders.append(f"{path.name}: {node.module}.{alias.name}")
    assert offenders == []


_FAMILY = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.ArticlebotError)
}


def test_every_error_has_one_line_and_an_exit_code() -> None:
    samples = [
        errors.UsageError("-k must be at least 1"),
        errors.CorruptIndex(Path("/x/meta.sqlite"), "checksum mismatch"),
        errors.DiskFull(Path("/x/generations"), 3 * 2**20),
        errors.BuildInProgress("another build of /x is running"),
        errors.IndexUnavailable("line one\n  line two"),
    ]
    for exc in samples:
        assert "\n" not in exc.user_line() and exc.user_line()
        assert exc.exit_code in (errors.EXIT_USAGE, errors.EXIT_IO, errors.EXIT_TEMPFAIL)
    assert "index --full" in str(samples[1]) and "/x/meta.sqlite" in str(samples[1])
    assert "/x/generations" in str(samples[2]) and "3.0 MiB" in str(samples[2])
    assert samples[3].exit_code == errors.EXIT_TEMPFAIL
