"""Shared fixtures: small corpora on disk, a fast fake embedder, and the real model (session-wide)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from index.config import DEFAULT_MODEL, Settings
from index.embedding import HashEmbedder

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"

SMALL_CORPUS = {
    "tea.md": (
        "---\ntitle: Tea\nurl: https://example.org/tea\n---\n# Tea\n\n"
        "Tea is an aromatic beverage prepared by pouring hot water over cured leaves. "
        "It originated in southwest China during the Shang dynasty.\n\n"
        "After water, tea is the most widely consumed drink in the world."
    ),
    "volcano.md": (
        "# Volcano\n\nA volcano is a rupture in the crust of a planet. "
        "Magma, volcanic ash and gases escape from a magma chamber below the surface.\n\n"
        "Mount Etna in Sicily is one of the most active volcanoes in Europe."
    ),
    "notes/bicycle.txt": (
        "Bicycle\n\nA bicycle is a two-wheeled vehicle propelled by pedals. "
        "Bicycles were introduced in the 19th century in Europe."
    ),
}


def write_corpus(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    return write_corpus(tmp_path / "corpus", SMALL_CORPUS)


@pytest.fixture
def settings(tmp_path: Path, corpus_dir: Path) -> Settings:
    return Settings.from_env({}, corpus_dir=corpus_dir, index_dir=tmp_path / "index")


@pytest.fixture
def fake_embedder() -> HashEmbedder:
    return HashEmbedder(dim=64)


@pytest.fixture(scope="session")
def real_embedder():
    """The shipped all-MiniLM-L6-v2 on the default backend (ONNX), loaded once per test session."""
    from index.embedding import load_embedder

    return load_embedder(DEFAULT_MODEL, "onnx")


@pytest.fixture(scope="session")
def sample_engine(real_embedder, tmp_path_factory: pytest.TempPathFactory):
    """The shipped sample corpus (copied) indexed once per session with the real model."""
    import shutil

    from index.build import build_index
    from index.engine import Engine

    root = tmp_path_factory.mktemp("sample")
    corpus = shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=root / "index")
    report = build_index(settings, real_embedder)
    assert report.skipped == ()
    return Engine.open(settings, real_embedder)
