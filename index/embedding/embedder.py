"""Text -> normalized float32 vectors. The `Embedder` protocol is the seam tests fake."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.config import DEFAULT_MODEL
from index.embedding.model_path import model_display_name, resolve_model_path
from index.errors import EmbedderError
from index.text.chunking import word_count_tokens

if TYPE_CHECKING:
    from tokenizers import Tokenizer

log = logging.getLogger(__name__)


class Embedder(Protocol):
    name: str  # recorded in the index manifest; an index built with another model is refused
    dim: int
    max_tokens: int  # word pieces per text, special tokens excluded

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32, each row of unit length."""
        ...


def shortest_first(embedder: Embedder, texts: Sequence[str], rows: Iterable[int]) -> list[int]:
    """``rows`` (positions in ``texts``) ordered by their texts' token counts, shortest first:
    batches of similar lengths pad little (35% of the tokens computed were padding when only each
    batch was sorted)."""
    wanted = list(rows)
    lengths = embedder.count_tokens([texts[i] for i in wanted])
    return [i for _, i in sorted(zip(lengths, wanted, strict=True))]


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 (or any local sentence-transformers model) on the CPU, loaded offline."""

    def __init__(self, model: str = DEFAULT_MODEL, *, batch_size: int = 32) -> None:
        path = resolve_model_path(model)
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
        try:
            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging
        except ImportError:
            raise EmbedderError(
                "EMBED_BACKEND=torch needs torch and sentence-transformers, which the default "
                "install leaves out: pip install 'articlebot[torch]' (or use EMBED_BACKEND=onnx)"
            ) from None

        hf_logging.disable_progress_bar()

        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot load EMBED_MODEL from {path}: {exc}") from None
        self.name = model_display_name(model)
        get_dim = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        dim = get_dim()
        if dim is None:
            raise EmbedderError(f"model at {path} does not report its embedding dimension")
        self.dim = int(dim)
        window = self._model.max_seq_length
        if window is None:
            raise EmbedderError(f"model at {path} does not report its max_seq_length")
        self.max_tokens = int(window) - 2
        self._tokenizer = self._model.tokenizer
        self._counter = _untruncated_copy(self._tokenizer)
        self._batch_size = batch_size
        self._lock = threading.Lock()  # one encode at a time: 2 cores, no oversubscription

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        if self._counter is not None:
            encoded = self._counter.encode_batch(list(texts), add_special_tokens=False)
            return [len(e.ids) for e in encoded]
        encoded = self._tokenizer(list(texts), add_special_tokens=False, truncation=False)
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        return np.ascontiguousarray(vectors, dtype=np.float32)


def _untruncated_copy(tokenizer: object) -> Tokenizer | None:
    """A copy of a fast tokenizer's backend that counts every token of long texts, silently.

    Measuring texts longer than the window is the point of counting, so neither truncation nor
    transformers' "sequence length is longer" warning applies.
    """
    from tokenizers import Tokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return None
    copy = Tokenizer.from_str(backend.to_str())
    copy.no_truncation()
    copy.no_padding()
    return copy


class HashEmbedder:
    """Deterministic bag-of-words vectors for fast unit tests: texts sharing words are close."""

    def __init__(self, dim: int = 64, max_tokens: int = 254, name: str = "hash-test") -> None:
        self.name = name
        self.dim = dim
        self.max_tokens = max_tokens
        self.calls: list[int] = []  # sizes of encode() batches, for tests that count work

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return word_count_tokens(texts)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(len(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row, h % self.dim] += 1.0 if h & 1 << 31 else -1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else np.eye(1, self.dim, dtype=np.float32)[0]
        return out


BACKENDS = ("openvino", "onnx", "onnx-int8", "torch")


def describe(embedder: Embedder) -> str:
    """How ``embedder`` computes, for reports: "openvino bf16", "onnxruntime f32", "torch", ..."""
    runtime = getattr(embedder, "runtime", None)
    if runtime is None:
        return "torch" if isinstance(embedder, SentenceTransformerEmbedder) else embedder.name
    return f"{runtime} {getattr(embedder, 'precision', '')}".strip()


def load_embedder(model: str, backend: str = "openvino") -> Embedder:
    """The model on OpenVINO (default: bfloat16 where the CPU has it, float32 elsewhere), ONNX
    Runtime (float32, the same vectors as torch), ONNX Runtime int8, or torch."""
    if backend == "torch":
        return SentenceTransformerEmbedder(model)
    if backend in ("openvino", "onnx", "onnx-int8"):
        from index.embedding.onnx import OnnxEmbedder

        runtime = "openvino" if backend == "openvino" else "onnxruntime"
        return OnnxEmbedder(model, quantized=backend == "onnx-int8", runtime=runtime)
    raise EmbedderError(f"EMBED_BACKEND must be one of {', '.join(BACKENDS)}, got {backend!r}")
