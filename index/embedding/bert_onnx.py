"""A BERT encoder as an ONNX graph, built from a model folder's config.json and safetensors: no torch.

The graph is written node by node with onnx's helper API and the weights are read straight from the
safetensors file(s), so the default install needs neither torch nor transformers. It computes what
transformers' ``BertModel`` computes in eval mode (embeddings, then ``num_hidden_layers`` post-norm
self-attention blocks) and returns ``last_hidden_state``; pooling stays with the caller. Only
``model_type: "bert"`` with absolute positions is built; any other architecture is refused with a
clear error (use EMBED_BACKEND=torch for those).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import EmbedderError

OPSET = 17  # LayerNormalization; onnxruntime >= 1.14 runs it
IR_VERSION = 8  # the IR of opset 17, so older onnxruntime builds load the file
OUTPUT = "last_hidden_state"
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
_ACTIVATIONS = ("gelu", "gelu_new", "gelu_pytorch_tanh", "relu")
_TORCH_HINT = "use EMBED_BACKEND=torch (pip install 'articlebot[torch]') for other models"


@dataclass(frozen=True)
class BertConfig:
    hidden: int
    heads: int
    layers: int
    eps: float
    activation: str


def read_config(model_path: Path) -> BertConfig:
    """The encoder's shape from config.json; an architecture this module cannot build is refused."""
    file = model_path / "config.json"
    try:
        config = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise EmbedderError(f"cannot read {file} ({exc})") from None
    model_type = config.get("model_type")
    if model_type != "bert":
        raise EmbedderError(
            f"{file}: model_type {model_type!r} is not supported by the ONNX backend, which runs "
            f"BERT models (model_type 'bert'); {_TORCH_HINT}"
        )
    positions = config.get("position_embedding_type", "absolute")
    activation = config.get("hidden_act", "gelu")
    if positions != "absolute" or activation not in _ACTIVATIONS:
        raise EmbedderError(
            f"{file}: position_embedding_type {positions!r} / hidden_act {activation!r} is not "
            f"supported by the ONNX backend (absolute / {', '.join(_ACTIVATIONS)}); {_TORCH_HINT}"
        )
    try:
        built = BertConfig(
            hidden=int(config["hidden_size"]),
            heads=int(config["num_attention_heads"]),
            layers=int(config["num_hidden_layers"]),
            eps=float(config.get("layer_norm_eps", 1e-12)),
            activation=activation,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EmbedderError(f"{file}: missing or invalid field {exc}") from None
    if built.hidden % built.heads:
        raise EmbedderError(f"{file}: hidden_size is not a multiple of num_attention_heads")
    return built


_DTYPES = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "BF16": "<u2"}


def read_safetensors(model_path: Path) -> dict[str, np.ndarray]:
    """Every floating-point tensor of the folder's *.safetensors files, as float32 arrays.

    The format is an 8-byte little-endian header length, a JSON header (name -> dtype, shape, byte
    offsets) and the raw tensors; reading it takes a few lines, so no library is needed.
    """
    files = sorted(model_path.glob("*.safetensors"))
    if not files:
        raise EmbedderError(
            f"{model_path} has no .safetensors weights; the ONNX backend reads only safetensors "
            f"(not pytorch_model.bin): {_TORCH_HINT}"
        )
    tensors: dict[str, np.ndarray] = {}
    for file in files:
        try:
            data = file.read_bytes()
            size = int.from_bytes(data[:8], "little")
            header = json.loads(data[8 : 8 + size])
            for name, info in header.items():
                if name == "__metadata__" or info["dtype"] not in _DTYPES:
                    continue
                start, end = (8 + size + int(o) for o in info["data_offsets"])
                raw = np.frombuffer(data[start:end], dtype=_DTYPES[info["dtype"]])
                if info["dtype"] == "BF16":
                    raw = (raw.astype(np.uint32) << 16).view(np.float32)
                tensors[name.removeprefix("bert.")] = raw.astype(np.float32).reshape(info["shape"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise EmbedderError(f"{file} is not a readable safetensors file ({exc})") from None
    return tensors


class _Graph:
    """Nodes and initializers with generated names: each method returns its output's name."""

    def __init__(self, weights: dict[str, np.ndarray], source: Path) -> None:
        self.nodes: list = []  # type: ignore[type-arg]
        self.initializers: list = []  # type: ignore[type-arg]
        self._weights = weights
        self._source = source
        self._count = 0

    def op(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        from onnx import helper

        self._count += 1
        out = f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, list(inputs), [out], **attrs))
        return out

    def const(self, value: np.ndarray | float | list[int], name: str | None = None) -> str:
        from onnx import numpy_helper

        array = np.asarray(value, dtype=np.int64 if isinstance(value, list) else np.float32)
        self._count += 1
        name = name or f"const_{self._count}"
        self.initializers.append(numpy_helper.from_array(array, name))
        return name

    def weight(self, key: str, transpose: bool = False) -> str:
        if key not in self._weights:
            raise EmbedderError(
                f"{self._source}: tensor {key!r} is missing, so this is not a BERT checkpoint the "
                f"ONNX backend can build; {_TORCH_HINT}"
            )
        array = self._weights[key]
        return self.const(np.ascontiguousarray(array.T if transpose else array), key)

    def linear(self, x: str, prefix: str) -> str:
        """x @ W.T + b, with W stored transposed so the weight is MatMul's constant second input."""
        product = self.op("MatMul", x, self.weight(f"{prefix}.weight", transpose=True))
        return self.op("Add", product, self.weight(f"{prefix}.bias"))

    def layer_norm(self, x: str, prefix: str, eps: float) -> str:
        gamma, beta = self.weight(f"{prefix}.weight"), self.weight(f"{prefix}.bias")
        return self.op("LayerNormalization", x, gamma, beta, axis=-1, epsilon=eps)

    def activation(self, x: str, kind: str) -> str:
        if kind == "relu":
            return self.op("Relu", x)
        half = self.const(0.5)
        if kind == "gelu":  # exact: x * 0.5 * (1 + erf(x / sqrt 2)); onnxruntime fuses this shape
            erf = self.op("Erf", self.op("Div", x, self.const(math.sqrt(2.0))))
            return self.op("Mul", self.op("Mul", x, self.op("Add", erf, self.const(1.0))), half)
        # tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = self.op("Mul", self.op("Mul", x, x), x)
        inner = self.op("Add", x, self.op("Mul", cube, self.const(0.044715)))
        tanh = self.op("Tanh", self.op("Mul", inner, self.const(math.sqrt(2.0 / math.pi))))
        return self.op("Mul", self.op("Mul", x, self.op("Add", tanh, self.const(1.0))), half)


def build_bert_onnx(model_path: Path):  # type: ignore[no-untyped-def]  # -> onnx.ModelProto
    """The encoder of ``model_path`` as an ONNX model: (input_ids, attention_mask,
    token_type_ids) int64 [batch, tokens] -> last_hidden_state float32 [batch, tokens, hidden]."""
    from onnx import TensorProto, helper

    cfg = read_config(model_path)
    g = _Graph(read_safetensors(model_path), model_path)
    size = cfg.hidden // cfg.heads

    # Embeddings: word + position (the first `tokens` rows) + token type, then LayerNorm.
    tokens = g.op("Slice", g.op("Shape", "input_ids"), g.const([1]), g.const([2]))
    positions = g.op(
        "Slice", g.weight("embeddings.position_embeddings.weight"), g.const([0]), tokens
    )
    x = g.op(
        "Add", g.op("Gather", g.weight("embeddings.word_embeddings.weight"), "input_ids"), positions
    )
    x = g.op(
        "Add",
        x,
        g.op("Gather", g.weight("embeddings.token_type_embeddings.weight"), "token_type_ids"),
    )
    x = g.layer_norm(x, "embeddings.LayerNorm", cfg.eps)

    # Padding keys get the lowest float added to their scores (as transformers does): [B, 1, 1, T].
    keep = g.op("Cast", "attention_mask", to=TensorProto.FLOAT)
    lowest = g.const(float(np.finfo(np.float32).min))
    bias = g.op("Mul", g.op("Sub", g.const(1.0), keep), lowest)
    bias = g.op("Unsqueeze", bias, g.const([1, 2]))
    split_heads = g.const([0, 0, cfg.heads, size])
    merge_heads = g.const([0, 0, cfg.hidden])
    scale = g.const(1.0 / math.sqrt(size))

    for i in range(cfg.layers):
        p = f"encoder.layer.{i}"
        q, k, v = (
            g.op("Reshape", g.linear(x, f"{p}.attention.self.{name}"), split_heads)
            for name in ("query", "key", "value")
        )
        q = g.op("Transpose", q, perm=[0, 2, 1, 3])  # [B, heads, T, size]
        k = g.op("Transpose", k, perm=[0, 2, 3, 1])  # [B, heads, size, T]
        v = g.op("Transpose", v, perm=[0, 2, 1, 3])
        scores = g.op("Add", g.op("Mul", g.op("MatMul", q, k), scale), bias)
        context = g.op("MatMul", g.op("Softmax", scores, axis=-1), v)
        context = g.op("Reshape", g.op("Transpose", context, perm=[0, 2, 1, 3]), merge_heads)
        attended = g.linear(context, f"{p}.attention.output.dense")
        x = g.layer_norm(g.op("Add", attended, x), f"{p}.attention.output.LayerNorm", cfg.eps)
        inner = g.activation(g.linear(x, f"{p}.intermediate.dense"), cfg.activation)
        x = g.layer_norm(
            g.op("Add", g.linear(inner, f"{p}.output.dense"), x), f"{p}.output.LayerNorm", cfg.eps
        )
    g.nodes.append(helper.make_node("Identity", [x], [OUTPUT]))

    dims = ["batch", "tokens"]
    graph = helper.make_graph(
        g.nodes,
        "bert_encoder",
        [helper.make_tensor_value_info(name, TensorProto.INT64, dims) for name in INPUTS],
        [helper.make_tensor_value_info(OUTPUT, TensorProto.FLOAT, [*dims, cfg.hidden])],
        initializer=g.initializers,
    )
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="articlebot"
    )
    model.ir_version = IR_VERSION
    return model


def write_bert_onnx(model_path: Path, out: Path) -> None:
    """Build the encoder of ``model_path`` and save it to ``out`` (one file, weights inline)."""
    import onnx

    onnx.save_model(build_bert_onnx(model_path), str(out))
