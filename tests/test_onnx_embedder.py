"""The ONNX backend gives the torch model's vectors and token counts, and caches its export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import index.onnx_embedder as onnx_embedder
from index.config import DEFAULT_MODEL
from index.embedding import EmbedderError, SentenceTransformerEmbedder, load_embedder
from index.onnx_embedder import OnnxEmbedder

pytestmark = pytest.mark.integration

TEXTS = [
    "When was Tesla born?",
    "Tesla was born on 10 July [O.S. 28 June] 1856 into a Serb family.",
    "word " * 400,  # over the window: truncated the way sentence-transformers truncates
    "",
    "Ünïcode café — 東京",
]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_same_vectors_and_counts_as_torch(real_embedder, torch_embedder) -> None:
    assert isinstance(real_embedder, OnnxEmbedder)
    a, b = torch_embedder.encode(TEXTS), real_embedder.encode(TEXTS)
    assert a.shape == b.shape == (len(TEXTS), 384)
    assert np.allclose((a * b).sum(axis=1), 1.0, atol=1e-4)
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert real_embedder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)
    assert (real_embedder.name, real_embedder.dim, real_embedder.max_tokens) == (
        torch_embedder.name,
        torch_embedder.dim,
        torch_embedder.max_tokens,
    )


def test_batch_order_does_not_change_vectors(real_embedder) -> None:
    together = real_embedder.encode(TEXTS)
    alone = np.vstack([real_embedder.encode([t]) for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)


def test_int8_is_close_and_named_apart(tmp_path: Path, torch_embedder) -> None:
    int8 = OnnxEmbedder(DEFAULT_MODEL, quantized=True, cache_dir=tmp_path)
    assert int8.name == "all-MiniLM-L6-v2/int8"  # an fp32 index is not served with int8 vectors
    cos = (int8.encode(TEXTS[:2]) * torch_embedder.encode(TEXTS[:2])).sum(axis=1)
    assert (cos > 0.97).all()


def test_export_is_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    OnnxEmbedder(DEFAULT_MODEL, cache_dir=tmp_path)
    exported = list(tmp_path.rglob("model.onnx"))
    assert len(exported) == 1

    def no_export(*args: object) -> None:
        raise AssertionError("exported again")

    monkeypatch.setattr(onnx_embedder, "_export", no_export)
    OnnxEmbedder(DEFAULT_MODEL, cache_dir=tmp_path)
    assert not list(tmp_path.rglob("*.tmp"))


def test_unknown_backend_is_a_clear_error() -> None:
    with pytest.raises(EmbedderError, match="EMBED_BACKEND"):
        load_embedder(DEFAULT_MODEL, "tensorflow")


def test_model_folder_without_mean_pooling_is_refused(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="EMBED_BACKEND=torch"):
        OnnxEmbedder(str(tmp_path), cache_dir=tmp_path / "cache")


def test_unwritable_cache_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(EmbedderError, match="ARTICLEBOT_CACHE_DIR"):
        OnnxEmbedder(DEFAULT_MODEL, cache_dir=blocker / "cache")


def test_cache_dir_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("ARTICLEBOT_CACHE_DIR", str(tmp_path))
    assert onnx_embedder.default_cache_dir() == tmp_path / "onnx"
