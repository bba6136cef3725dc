"""scripts/pack_embedder.py: the shipped model's folder written again in float16 gives its vectors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from index.config import BASE_MODEL
from index.embedding.bert_onnx import read_safetensors
from index.embedding.embedder import load_embedder
from index.embedding.model_path import resolve_model_path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import pack_embedder

TEXTS = [
    "who wnated Tibet's independence?",
    "India and Japan agreed to cooperate in new fields such as space and cyber security.",
]


def test_packed_model_is_float16_and_gives_the_same_vectors(tmp_path: Path) -> None:
    base = resolve_model_path(BASE_MODEL)
    out = tmp_path / "packed"
    pack_embedder.pack(base, out, base)
    header_size = int.from_bytes((out / "model.safetensors").read_bytes()[:8], "little")
    header = json.loads((out / "model.safetensors").read_bytes()[8 : 8 + header_size])
    assert {v["dtype"] for k, v in header.items() if k != "__metadata__"} == {"F16"}
    weights, packed = read_safetensors(base), read_safetensors(out)
    assert set(weights) == set(packed)
    assert json.loads((out / "config.json").read_text())["torch_dtype"] == "float32"
    a = load_embedder(str(base), "onnx").encode(TEXTS)
    b = load_embedder(str(out), "onnx").encode(TEXTS)
    assert np.all((a * b).sum(axis=1) > 0.9999)


def test_a_model_with_other_tensors_is_refused(tmp_path: Path) -> None:
    base = resolve_model_path(BASE_MODEL)
    other = tmp_path / "other"
    other.mkdir()
    pack_embedder.write_safetensors(other / "model.safetensors", {"x": np.zeros((2, 2))})
    try:
        pack_embedder.pack(other, tmp_path / "out", base)
    except SystemExit as exc:
        assert "not the base model's tensors" in str(exc)
    else:
        raise AssertionError("a folder of other tensors was packed")
    assert not (tmp_path / "out").exists()


def test_two_fine_tunings_of_one_size_never_share_a_cached_graph(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Same configuration, tokenizer and file size, other weights: other vectors (the ONNX graph
    cache once told them apart by size alone)."""
    monkeypatch.setenv("ARTICLEBOT_CACHE_DIR", str(tmp_path / "cache"))
    base = resolve_model_path(BASE_MODEL)
    first, second = tmp_path / "first", tmp_path / "second"
    pack_embedder.pack(base, first, base)
    pack_embedder.pack(base, second, base)
    weights = read_safetensors(second)
    weights["encoder.layer.5.output.dense.weight"] *= -1.0
    pack_embedder.write_safetensors(second / "model.safetensors", weights)
    sizes = {(p / "model.safetensors").stat().st_size for p in (first, second)}
    assert len(sizes) == 1
    a = load_embedder(str(first), "onnx").encode(TEXTS)
    b = load_embedder(str(second), "onnx").encode(TEXTS)
    assert np.all((a * b).sum(axis=1) < 0.999)
