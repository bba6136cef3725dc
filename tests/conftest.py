"""Shared fixtures: small corpora on disk, a fast fake embedder, the real model (session-wide), and
slices of the SQuAD data in ../shared (read at test time, never copied into the repository)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from index.config import DEFAULT_MODEL, Settings
from index.embedding.embedder import HashEmbedder
from index.process import gc_policy

if TYPE_CHECKING:
    from index.generations.generation import Generation

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

REPO = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
# The data sets live beside the checkout (CI has them there); tests that need them skip without them.
SHARED = REPO.parent / "shared"
SQUAD1 = SHARED / "eval" / "squad1"
# The three squad1 articles of the small CI evaluation (320 questions).
CI_EVAL_ARTICLES = ("1973-oil-crisis", "packet-switching", "sky-united-kingdom")

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


@pytest.fixture(autouse=True)
def _default_gc() -> Iterator[None]:
    """`articlebot` run in-process turns on the serving GC policy (index/process/gc_policy.py): each test
    starts and ends without it."""
    yield
    gc_policy.stop_serving()


def generation_of(folder: Path, articles: dict[str, str], **settings: object) -> Generation:
    """Articles (slug -> Markdown) written below ``folder``, indexed with HashEmbedder, loaded."""
    from index.build.builder import build_index
    from index.generations.generation import load_generation
    from index.generations.store import current_generation

    corpus = write_corpus(
        folder / "corpus", {f"{slug}.md": body for slug, body in articles.items()}
    )
    embedder = HashEmbedder()
    cfg = Settings(corpus_dir=corpus, index_dir=folder / "index", **settings)  # type: ignore[arg-type]
    build_index(cfg, embedder)
    return load_generation(current_generation(cfg.index_dir), embedder.name, embedder.dim)


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
    """The shipped retriever (all-MiniLM-L6-v2 fine-tuned) on the default backend (OpenVINO: bfloat16 on this machine's
    AMX cores, float32 elsewhere), loaded once per test session."""
    from index.config import Settings
    from index.embedding.embedder import load_embedder

    return load_embedder(DEFAULT_MODEL, Settings().embed_backend)


@pytest.fixture(scope="session")
def ort_embedder():
    """The shipped model on ONNX Runtime in float32 (EMBED_BACKEND=onnx): torch's vectors."""
    from index.embedding.embedder import load_embedder

    return load_embedder(DEFAULT_MODEL, "onnx")


@pytest.fixture(scope="session")
def sample_engine(real_embedder, tmp_path_factory: pytest.TempPathFactory):
    """The shipped sample corpus (copied) indexed once per session with the real model."""
    from index.build.builder import build_index
    from index.engine import Engine

    root = tmp_path_factory.mktemp("sample")
    corpus = shutil.copytree(REPO / "corpus", root / "corpus")
    settings = Settings.from_env({}, corpus_dir=corpus, index_dir=root / "index")
    report = build_index(settings, real_embedder)
    assert report.skipped == ()
    return Engine.open(settings, real_embedder)


def require_shared(path: Path) -> Path:
    """``path`` below ../shared, or skip the test with a reason naming what is missing."""
    if not path.exists():
        shown = f"../{path.relative_to(REPO.parent).as_posix()}"
        pytest.skip(
            f"{shown} not found ({path}): the SQuAD data sets are read from ../shared at test time"
        )
    return path


@dataclass(frozen=True)
class EvalSlice:
    corpus: Path  # a folder of article files
    questions: Path  # their questions, in the format of ../shared/eval/*/questions.jsonl
    articles: tuple[str, ...]


def squad1_slice(folder: Path, articles: tuple[str, ...] = CI_EVAL_ARTICLES) -> EvalSlice:
    """Copy ``articles`` of ../shared/eval/squad1 and their questions into ``folder`` (skips without it)."""
    source = require_shared(SQUAD1)
    corpus = folder / "corpus"
    corpus.mkdir(parents=True)
    for slug in articles:
        shutil.copyfile(require_shared(source / "corpus" / f"{slug}.md"), corpus / f"{slug}.md")
    lines = (source / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    kept = [line for line in lines if line.strip() and json.loads(line)["article"] in articles]
    questions = folder / "questions.jsonl"
    questions.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return EvalSlice(corpus, questions, articles)


@pytest.fixture(scope="session")
def squad1_ci_slice(tmp_path_factory: pytest.TempPathFactory) -> EvalSlice:
    """The small CI evaluation: 3 squad1 articles and their 320 questions, in a temporary folder."""
    return squad1_slice(tmp_path_factory.mktemp("squad1-ci"))
