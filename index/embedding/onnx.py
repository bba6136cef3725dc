"""The same sentence-transformers model run by ONNX Runtime or OpenVINO Runtime: no torch at all.

ONNX Runtime gives the same vectors as torch; OpenVINO (the default backend) runs the same graph in
bfloat16 where the CPU computes it natively, about three times faster, its vectors within cosine
0.9999 of float32's (index/embedding/ov_session.py), and in float32 elsewhere.

The model folder's BERT encoder is built once as an ONNX graph from its config.json and safetensors
(index/embedding/bert_onnx.py: onnx's helper API, no torch or transformers) and cached; later starts load the
cached file in well under a second. Supported: BERT encoders with mean pooling (like
all-MiniLM-L6-v2); other models are refused with a clear error and run with EMBED_BACKEND=torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.embedding.bert_onnx import read_config, write_bert_onnx
from index.embedding.model_path import model_display_name, resolve_model_path
from index.embedding.ort_session import cpu_session
from index.errors import EmbedderError

log = logging.getLogger(__name__)

EXPORT_VERSION = "2"  # bump when the graph recipe changes, so caches are rebuilt (2: bert_onnx)
BATCH = 32


def default_cache_dir() -> Path:
    """ARTICLEBOT_CACHE_DIR, else $XDG_CACHE_HOME/articlebot, else ~/.cache/articlebot (+ /onnx)."""
    explicit = os.environ.get("ARTICLEBOT_CACHE_DIR")
    if explicit:
        return Path(explicit) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "articlebot" / "onnx"


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (or another local mean-pooling model) on the CPU, offline: its ONNX graph run
    by ONNX Runtime (``runtime="onnxruntime"``, float32, or int8 when ``quantized``) or OpenVINO
    (``runtime="openvino"``: bfloat16 where the CPU has it, float32 elsewhere)."""

    def __init__(
        self,
        model: str,
        *,
        quantized: bool = False,
        cache_dir: Path | None = None,
        threads: int = 2,
        runtime: str = "onnxruntime",
    ) -> None:
        from tokenizers import Tokenizer

        if runtime not in ("onnxruntime", "openvino"):
            raise EmbedderError(f"runtime must be onnxruntime or openvino, got {runtime!r}")
        if runtime == "openvino" and quantized:
            raise EmbedderError(
                "the int8 graph runs on ONNX Runtime only (EMBED_BACKEND=onnx-int8)"
            )
        path = resolve_model_path(model)
        window, self.dim = _check_model(path)
        self.max_tokens = window - 2
        self.name = model_display_name(model) + ("/int8" if quantized else "")
        self._tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._counter = Tokenizer.from_file(str(path / "tokenizer.json"))
        self._counter.no_truncation()
        self._counter.no_padding()
        self._tokenizer.enable_truncation(max_length=window)
        self._tokenizer.no_padding()
        onnx_file = ensure_onnx(path, cache_dir or default_cache_dir(), quantized)
        if runtime == "openvino":
            from index.embedding.ov_session import OpenVinoSession

            session = OpenVinoSession(onnx_file, threads)
            self.precision = session.precision
            self._session: Any = session
        else:
            self._session = cpu_session(onnx_file, threads)
            self.precision = "int8" if quantized else "f32"
        self.runtime = runtime
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for rows, _, hidden, mask in self._passes(texts):
            out[rows] = _unit(_mean(hidden, mask))
        return out

    def encode_pooled(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """Each text's vector, and a vector for each of its character ``spans`` pooled from the
        same pass: the mean of the token states inside the span (the model's own pooling, over
        part of the text), unit length. A span with no token in the window (cut off by truncation)
        is encoded on its own instead."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        parts = [np.zeros((len(s), self.dim), dtype=np.float32) for s in spans]
        alone: list[tuple[int, int]] = []
        for rows, batch, hidden, mask in self._passes(texts):
            out[rows] = _unit(_mean(hidden, mask))
            for j, i in enumerate(rows.tolist()):
                alone += _pool_spans(hidden[j], batch[j].offsets, spans[i], parts[i], i)
        if alone:
            vecs = self.encode([texts[i][slice(*spans[i][k])] for i, k in alone])
            for (i, k), vec in zip(alone, vecs, strict=True):
                parts[i][k] = vec
        return out, parts

    def _passes(
        self, texts: Sequence[str]
    ) -> Iterator[tuple[np.ndarray, list[Any], np.ndarray, np.ndarray]]:
        """The model's passes over ``texts``, shortest first in batches of BATCH (less padding):
        (the texts' positions, their encodings, the token states, the attention mask), one
        pass at a time under the lock."""
        if not texts:
            return
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        with self._lock:
            for start in range(0, len(order), BATCH):
                rows = order[start : start + BATCH]
                batch = [encodings[i] for i in rows]
                yield (rows, batch, *self._hidden(batch))

    def _hidden(self, batch: list) -> tuple[np.ndarray, np.ndarray]:  # type: ignore[type-arg]
        """The last layer's token states of a batch, and its attention mask."""
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        for row, enc in enumerate(batch):
            n = len(enc.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = enc.ids, enc.attention_mask, enc.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        return hidden, mask


def _mean(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    return (vectors / np.clip(norms, 1e-12, None)).astype(np.float32)


def _pool_spans(
    hidden: np.ndarray,
    offsets: Sequence[tuple[int, int]],
    spans: Sequence[tuple[int, int]],
    into: np.ndarray,
    text: int,
) -> list[tuple[int, int]]:
    """Fill ``into`` with each span's mean token state; the (text, span) pairs with no token."""
    offs = np.asarray(offsets, dtype=np.int64).reshape(-1, 2)
    starts, ends = offs[:, 0], offs[:, 1]
    real = ends > starts  # special tokens have an empty offset
    missing = []
    for k, (lo, hi) in enumerate(spans):
        inside = real & (starts >= lo) & (ends <= hi)
        if inside.any():
            into[k] = _unit(hidden[: len(offs)][inside].mean(axis=0))
        else:
            missing.append((text, k))
    return missing


_MODULES = {
    "Transformer",
    "Pooling",
    "Normalize",
}  # what this file computes: encoder, mean, unit length


def _check_model(path: Path) -> tuple[int, int]:
    """(token window, dimension) of a BERT mean-pooling sentence-transformers folder, or a clear error."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        kinds = {m["type"].rsplit(".", 1)[-1]: m.get("path", "") for m in modules}
        pooling_file = path / kinds.get("Pooling", "1_Pooling") / "config.json"
        pooling = json.loads(pooling_file.read_text(encoding="utf-8"))
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise EmbedderError(
            f"{path} is not a sentence-transformers model folder the ONNX backend can read "
            f"({exc}); set EMBED_BACKEND=torch"
        ) from None
    extra = sorted(set(kinds) - _MODULES)
    if extra or not _mean_pooling(pooling) or not (path / "tokenizer.json").is_file():
        raise EmbedderError(
            f"the ONNX backend supports mean-pooling models with a tokenizer.json and no modules "
            f"besides {', '.join(sorted(_MODULES))}; {path} is not one"
            + (f" (it has {', '.join(extra)})" if extra else "")
            + ": set EMBED_BACKEND=torch"
        )
    read_config(path)  # refuses an architecture the graph builder cannot build, before any caching
    window = min(int(st_config.get("max_seq_length", 256)), int(config["max_position_embeddings"]))
    dim = pooling.get("word_embedding_dimension", pooling.get("embedding_dimension"))
    if dim is None:
        raise EmbedderError(f"{pooling_file} does not say the embedding dimension")
    return window, int(dim)


def _mean_pooling(pooling: dict[str, object]) -> bool:
    """Mean pooling, in either way sentence-transformers writes it: ``pooling_mode_mean_tokens``
    (up to version 5) or ``pooling_mode: "mean"`` (a model saved by version 6)."""
    return bool(pooling.get("pooling_mode_mean_tokens")) or pooling.get("pooling_mode") == "mean"


def ensure_onnx(model_path: Path, cache_dir: Path, quantized: bool) -> Path:
    """The cached ONNX export of ``model_path`` (made now if missing; written atomically)."""
    folder = cache_dir / _cache_key(model_path)
    target = folder / ("model.int8.onnx" if quantized else "model.onnx")
    if target.is_file():
        return target
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EmbedderError(
            f"cannot create the model cache {folder} ({exc.strerror}); set ARTICLEBOT_CACHE_DIR "
            "to a writable folder, or EMBED_BACKEND=torch"
        ) from None
    fp32 = folder / "model.onnx"
    if not fp32.is_file():
        log.info("building the ONNX graph of %s (once; cached in %s)", model_path, folder)
        _atomic(fp32, lambda tmp: write_bert_onnx(model_path, tmp))
    if quantized:
        _atomic(target, lambda tmp: _quantize(fp32, tmp))
    return target


def _cache_key(model_path: Path) -> str:
    """The weights' bytes, not only their size: two fine-tunings of one model have the same
    configuration, tokenizer and file sizes, and must not share a cached graph (about 0.1 s a
    start for all-MiniLM-L6-v2's 90 MB)."""
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "tokenizer.json"):
        h.update((model_path / name).read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        h.update(weights.name.encode())
        with weights.open("rb") as f:
            h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()[:16]


def _atomic(target: Path, write: object) -> None:
    fd, name = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)  # type: ignore[operator]
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _quantize(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # its advice is noise
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().disabled = was
