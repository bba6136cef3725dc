"""The same sentence-transformers model run by ONNX Runtime: same vectors, faster, no torch at query time.

The model folder is exported once to ONNX (torch and transformers are imported only for that) and
cached; later starts load the cached file in well under a second. Only mean-pooling models (like
all-MiniLM-L6-v2) are supported here; others use EMBED_BACKEND=torch.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from index.errors import EmbedderError
from index.model_path import model_display_name, resolve_model_path

log = logging.getLogger(__name__)

EXPORT_VERSION = "1"  # bump when the export recipe changes, so caches are rebuilt
BATCH = 32


def default_cache_dir() -> Path:
    """ARTICLEBOT_CACHE_DIR, else $XDG_CACHE_HOME/articlebot, else ~/.cache/articlebot (+ /onnx)."""
    explicit = os.environ.get("ARTICLEBOT_CACHE_DIR")
    if explicit:
        return Path(explicit) / "onnx"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "articlebot" / "onnx"


class OnnxEmbedder:
    """all-MiniLM-L6-v2 (or another local mean-pooling model) on ONNX Runtime, CPU, offline."""

    def __init__(
        self,
        model: str,
        *,
        quantized: bool = False,
        cache_dir: Path | None = None,
        threads: int = 2,
    ) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

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
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        # Spinning threads would steal the cores FAISS and the event loop need between calls.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        if not texts:
            return []
        encoded = self._counter.encode_batch(list(texts), add_special_tokens=False)
        return [len(e.ids) for e in encoded]

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        encodings = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")  # less padding
        with self._lock:
            for start in range(0, len(order), BATCH):
                rows = order[start : start + BATCH]
                out[rows] = self._run([encodings[i] for i in rows])
        return out

    def _run(self, batch: list) -> np.ndarray:  # type: ignore[type-arg]
        width = max(len(e.ids) for e in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64)
        for row, enc in enumerate(batch):
            n = len(enc.ids)
            ids[row, :n], mask[row, :n], types[row, :n] = enc.ids, enc.attention_mask, enc.type_ids
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        hidden = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _check_model(path: Path) -> tuple[int, int]:
    """(token window, dimension) of a mean-pooling sentence-transformers folder, or a clear error."""
    try:
        pooling = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
        st_config = json.loads((path / "sentence_bert_config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EmbedderError(
            f"{path} is not a sentence-transformers model folder the ONNX backend can read "
            f"({exc}); set EMBED_BACKEND=torch"
        ) from None
    if not pooling.get("pooling_mode_mean_tokens") or not (path / "tokenizer.json").is_file():
        raise EmbedderError(
            f"the ONNX backend supports mean-pooling models with a tokenizer.json; {path} is not "
            "one: set EMBED_BACKEND=torch"
        )
    window = min(int(st_config.get("max_seq_length", 256)), int(config["max_position_embeddings"]))
    return window, int(pooling["word_embedding_dimension"])


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
        log.info("exporting %s to ONNX (once; cached in %s)", model_path, folder)
        _atomic(fp32, lambda tmp: _export(model_path, tmp))
    if quantized:
        _atomic(target, lambda tmp: _quantize(fp32, tmp))
    return target


def _cache_key(model_path: Path) -> str:
    h = hashlib.sha256(EXPORT_VERSION.encode())
    for name in ("config.json", "tokenizer.json"):
        h.update((model_path / name).read_bytes())
    for weights in sorted(model_path.glob("*.safetensors")) + sorted(model_path.glob("*.bin")):
        h.update(f"{weights.name}:{weights.stat().st_size}".encode())
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


def _export(model_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModel

    class LastHidden(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = LastHidden(AutoModel.from_pretrained(str(model_path), local_files_only=True)).eval()
    example = torch.ones((2, 8), dtype=torch.int64)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (example, example, torch.zeros_like(example)),
            str(out),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )


def _quantize(fp32: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logging.getLogger().disabled, was = True, logging.getLogger().disabled  # its advice is noise
    try:
        quantize_dynamic(str(fp32), str(out), weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logging.getLogger().disabled = was
