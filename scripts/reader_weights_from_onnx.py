"""Recover the reader's float weights from its int8 ONNX file (index/data/reader.onnx), or, exactly,
from its float16 twin (index/data/reader-float.xml/.bin, with ``--twin``).

The shipped reader exists only as the per-channel dynamically quantized export of the training model of
scripts/train_reader.py. Every weight of it is still there: float initializers (biases, LayerNorm) under
their torch names, embeddings as int8/uint8 tables with one scale and zero point (read through
DequantizeLinear), and every Linear weight as a ``[in, out]`` int8 matrix with a scale and zero point per
output column (read by MatMulInteger). This script dequantizes them, ``(q - zero_point) * scale``, transposes
the matrices to torch's ``[out, in]``, names them from the MatMulInteger node they feed, and writes the
folder that ``train_reader.py --init`` reads (float16 safetensors parts). Then it checks the result: the
recovered torch model and the ONNX file read the same (question, sentence) pairs from SQuAD 1.1 train and
their answer logits and spans are compared.

    python scripts/reader_weights_from_onnx.py --out var/reader-recovered
    python scripts/reader_weights_from_onnx.py --twin index/data/reader-float.xml --out var/reader-news9

The twin (written by train_reader.export since session 19, OpenVINO IR, weights compressed to float16)
holds the trained weights as train_reader saves them (float16), so its recovery loses nothing: the
training parts of a shipped reader can be rebuilt from the repository alone, for a next stage's
``--init``, when var/ is gone. OpenVINO keeps no torch names on its constants; each is named from the
node it feeds (twin_state).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

import reader_data  # noqa: E402
import train_reader  # noqa: E402

from index.reader.input import Encoder, Pair, best_span  # noqa: E402

# "/bert/encoder/layer.0/attention/self/query/MatMul_output_0_output_quantized" -> the Linear's name
_NODE_OUTPUT = re.compile(r"^/(.+)/(?:MatMul|Gemm)_output_0")


def dequantize(q: np.ndarray, scale: np.ndarray, zero: np.ndarray) -> np.ndarray:
    """(q - zero_point) * scale; per-channel parameters run along the last axis (the output column)."""
    return (q.astype(np.float32) - zero.astype(np.float32)) * scale.astype(np.float32)


def float_state(onnx_path: Path) -> dict[str, np.ndarray]:
    """The training model's state dict (torch names and layouts, float32) rebuilt from the ONNX file."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(onnx_path)).graph
    init = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    state: dict[str, np.ndarray] = {}
    for name, value in init.items():
        if value.dtype == np.float32 and not name.endswith("_scale") and "::" not in name:
            state[name] = value.copy()
    # Embedding tables: quantized per tensor, gathered then dequantized.
    for name in list(init):
        if name.startswith("bert.embeddings.") and name.endswith(".weight_quantized"):
            base = name.removesuffix("_quantized")
            state[base] = dequantize(init[name], init[base + "_scale"], init[base + "_zero_point"])
    # Linear weights: each MatMulInteger's second input, named after the node's output.
    for node in graph.node:
        if node.op_type != "MatMulInteger":
            continue
        weight, zero_name = node.input[1], node.input[3]
        match = _NODE_OUTPUT.match(node.output[0])
        if match is None or not weight.endswith("_quantized"):
            raise SystemExit(f"unexpected MatMulInteger node {node.name}: {list(node.output)}")
        layer = match.group(1).replace("/", ".")
        scale = init[weight.removesuffix("_quantized") + "_scale"]
        w = dequantize(init[weight], scale, init[zero_name])  # [in, out]
        state[f"{layer}.weight"] = np.ascontiguousarray(w.T)  # torch Linear: [out, in]
    return state


# "/bert/encoder/layer.0/attention/self/query/MatMul" -> "bert.encoder.layer.0.attention.self.query"
_IR_LAYER = re.compile(r"^/(.+)/(MatMul|Add|Gemm/WithoutBiases|Gemm|LayerNormalization)$")


def _consumers(output) -> list:  # type: ignore[no-untyped-def]
    return [t for t in output.get_target_inputs()]


def twin_state(xml: Path) -> dict[str, np.ndarray]:
    """The training model's state dict (torch names, float32) from the float16 OpenVINO twin.

    Each float16 constant feeds a Convert; what the Convert feeds names it: a MatMul (input 1) is a
    Linear's weight (``[out, in]`` when the MatMul transposes its second input, as the export does), an
    Add a bias (``.../LayerNorm/LayerNormalization``: the LayerNorm's bias), a Multiply whose result
    feeds a LayerNorm's Add its weight, a Gather an embedding table (named already)."""
    import openvino as ov

    model = ov.Core().read_model(str(xml))
    state: dict[str, np.ndarray] = {}
    for op in model.get_ordered_ops():
        if (
            op.get_type_name() != "Constant"
            or op.get_output_element_type(0).get_type_name() != "f16"
        ):
            continue
        value = op.get_data().astype(np.float32)
        if value.ndim == 0:
            continue  # a scalar of the graph (the attention mask's fill), no weight
        (convert,) = [t.get_node() for t in _consumers(op.output(0))]
        users = _consumers(convert.output(0))
        if len(users) != 1:
            raise SystemExit(f"{xml}: constant {op.get_friendly_name()} feeds {len(users)} nodes")
        user, slot = users[0].get_node(), users[0].get_index()
        kind, name = user.get_type_name(), user.get_friendly_name()
        if kind == "Gather":
            state[op.get_friendly_name().removesuffix("_compressed")] = value
            continue
        if kind == "Multiply":
            (after,) = [t.get_node() for t in _consumers(user.output(0))]
            match = _IR_LAYER.match(after.get_friendly_name())
            if match is None or match.group(2) != "LayerNormalization":
                raise SystemExit(
                    f"{xml}: unexpected Multiply {name} -> {after.get_friendly_name()}"
                )
            state[match.group(1).replace("/", ".") + ".weight"] = value.reshape(-1)
            continue
        match = _IR_LAYER.match(name)
        if match is None:
            raise SystemExit(
                f"{xml}: constant {op.get_friendly_name()} feeds unknown {kind} {name}"
            )
        layer, role = match.group(1).replace("/", "."), match.group(2)
        if kind == "MatMul" and slot == 1:
            if not user.get_attributes().get("transpose_b", False):
                value = value.T
            state[layer + ".weight"] = np.ascontiguousarray(value)
        elif role in ("Add", "Gemm", "LayerNormalization"):
            state[
                layer.removesuffix(".LayerNorm") + ".LayerNorm.bias"
                if role == "LayerNormalization"
                else layer + ".bias"
            ] = value.reshape(-1)
        else:
            raise SystemExit(f"{xml}: constant {op.get_friendly_name()} feeds {kind} {name}")
    return state


def recover(onnx_path: Path, model_dir: Path, out: Path):  # type: ignore[no-untyped-def]
    """Load the recovered weights into the training model, check shapes, save as --init reads them."""
    import torch

    model = train_reader.make_model(model_dir)
    own = model.state_dict()
    twin = onnx_path.suffix == ".xml"
    state = twin_state(onnx_path) if twin else float_state(onnx_path)
    missing, extra = set(own) - set(state), set(state) - set(own)
    if missing or extra:
        raise SystemExit(f"names differ: missing {sorted(missing)[:5]}, extra {sorted(extra)[:5]}")
    for name, value in state.items():
        if tuple(own[name].shape) != value.shape:
            raise SystemExit(
                f"{name}: shape {value.shape}, the model wants {tuple(own[name].shape)}"
            )
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    train_reader.save_parts(model, out)
    (out / "recovered.json").write_text(
        json.dumps(
            {
                "from": str(onnx_path),
                "how": "the float16 twin's constants, named from the nodes they feed"
                if twin
                else "int8 per-channel dequantized ((q - zero_point) * scale), saved as float16",
                "tensors": len(state),
            },
            indent=1,
        )
        + "\n",
        encoding="utf-8",
    )
    return model


def sample_pairs(data: Path, n: int, seed: int) -> list[Pair]:
    """``n`` (question, sentence) pairs: half answer sentences, half other sentences of the paragraph."""
    rng = random.Random(seed)
    questions = reader_data.read_questions(data)
    chosen = rng.sample(questions, n)
    wanted = {str(q["article"]) for q in chosen}
    articles = reader_data.read_articles(data, only=wanted)
    pairs = []
    for k, q in enumerate(chosen):
        article = articles[str(q["article"])]
        sents = article.paragraphs[int(q["paragraph_index"])]  # type: ignore[call-overload]
        gold, _, _ = reader_data.locate(sents, [str(a) for a in q["answers"]], str(q["question"]))  # type: ignore[attr-defined]
        i = gold if (k % 2 == 0 and gold >= 0) else rng.randrange(len(sents))
        pairs.append(Pair(str(q["question"]), sents[i], sents[i - 1] if i else "", article.title))
    return pairs


def run_onnx(onnx_path: Path, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The file's three outputs for ``feeds``: ONNX Runtime for .onnx, OpenVINO in float32 for the
    twin (.xml)."""
    if onnx_path.suffix == ".xml":
        import openvino as ov

        compiled = ov.Core().compile_model(
            str(onnx_path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"}
        )
        result = compiled(feeds)
        return [np.asarray(result[compiled.output(i)]) for i in range(3)]
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 2
    session = ort.InferenceSession(str(onnx_path), opts, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)  # type: ignore[no-any-return]


def check(  # type: ignore[no-untyped-def]
    model, onnx_path: Path, model_dir: Path, data: Path, n: int, seed: int, reexport: Path | None
) -> dict[str, float]:
    """Torch (recovered weights) against ONNX Runtime (the int8 file) on the same pairs; with
    ``reexport``, also the recovered model exported and quantized again against the shipped file."""
    import torch
    from tokenizers import Tokenizer

    encoder = Encoder(Tokenizer.from_file(str(model_dir / "tokenizer.json")))
    batch = encoder.encode(sample_pairs(data, n, seed))
    feeds = {
        "input_ids": batch.input_ids,
        "attention_mask": batch.attention_mask,
        "token_type_ids": batch.token_type_ids,
    }
    o_logit, o_start, o_end = run_onnx(onnx_path, feeds)
    model.eval()
    with torch.no_grad():
        t_logit, t_start, t_end = (
            x.numpy()
            for x in model(*(torch.from_numpy(feeds[k]) for k in feeds))  # same order as forward
        )
    extra: dict[str, float] = {}
    if reexport is not None:
        train_reader.export(model, reexport)
        r_logit = run_onnx(reexport, feeds)[0]
        extra = {
            "reexported_int8_vs_shipped_logit_correlation": float(
                np.corrcoef(r_logit, o_logit)[0, 1]
            ),
            "reexported_int8_vs_shipped_logit_max_abs_diff": float(np.abs(r_logit - o_logit).max()),
        }
    mask = batch.attention_mask.astype(bool)
    same_span = []
    for i in range(n):
        first, count = int(batch.sentence_from[i]), int(batch.sentence_tokens[i])
        a = best_span(t_start[i], t_end[i], first, count)[:2]
        b = best_span(o_start[i], o_end[i], first, count)[:2]
        same_span.append(a == b)
    return {
        "pairs": n,
        "answer_logit_correlation": float(np.corrcoef(t_logit, o_logit)[0, 1]),
        "answer_logit_max_abs_diff": float(np.abs(t_logit - o_logit).max()),
        "answer_logit_range": float(o_logit.max() - o_logit.min()),
        "span_logits_correlation": float(
            np.corrcoef(
                np.concatenate([t_start[mask], t_end[mask]]),
                np.concatenate([o_start[mask], o_end[mask]]),
            )[0, 1]
        ),
        "span_logits_max_abs_diff": float(
            max(np.abs(t_start - o_start)[mask].max(), np.abs(t_end - o_end)[mask].max())
        ),
        "argmax_span_agreement": float(np.mean(same_span)),
        "answers_sign_agreement": float(np.mean((t_logit > 0) == (o_logit > 0))),
        **extra,
    }


def main(argv: list[str] | None = None) -> int:
    import torch

    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--onnx", type=Path, default=ROOT / "index/data/reader.onnx")
    ap.add_argument(
        "--twin",
        type=Path,
        default=None,
        help="recover from this float16 twin (reader-float.xml) instead of --onnx: exact",
    )
    ap.add_argument("--out", type=Path, default=ROOT / "var/reader-recovered")
    ap.add_argument(
        "--model", type=Path, default=None, help="base model folder (config, tokenizer)"
    )
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared/train/squad1-train")
    ap.add_argument("--pairs", type=int, default=64)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument(
        "--no-reexport",
        action="store_true",
        help="skip exporting the recovered weights to int8 again for comparison",
    )
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    model_dir = args.model or train_reader.default_model()
    source = args.twin or args.onnx
    recover(source, model_dir, args.out)
    train_reader.log(f"wrote {args.out} from {source}")
    # Check what --init will actually load: the saved float16 parts, read back into a fresh model.
    model = train_reader.make_model(model_dir)
    train_reader.load_parts(model, args.out)
    reexport = None if args.no_reexport or args.twin else args.out / "reexported.onnx"
    report = check(model, source, model_dir, args.data, args.pairs, args.seed, reexport)
    train_reader.log(f"recovery check: {json.dumps(report)}")
    (args.out / "recovery_check.json").write_text(json.dumps(report, indent=1) + "\n")
    if report["answer_logit_correlation"] < 0.99:
        train_reader.log("WARNING: answer logits correlate below 0.99: the recovery is suspect")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
