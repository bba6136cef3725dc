"""scripts/train_reader.py's float16 twin: the file the bfloat16 backend reads, beside the int8 one."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from index.reader.model import float_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import train_reader


def tiny_float32_model(path: Path, weight: np.ndarray) -> None:
    """y = x @ weight, float32, a dynamic batch."""
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])],
        "tiny",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", weight.shape[0]])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", weight.shape[1]])],
        [numpy_helper.from_array(weight, "w")],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def test_the_twin_is_written_where_the_reader_looks_and_computes_the_same(tmp_path: Path) -> None:
    import openvino as ov

    weight = np.random.default_rng(3).standard_normal((64, 32)).astype(np.float32)
    fp32 = tmp_path / "reader.fp32.onnx"
    tiny_float32_model(fp32, weight)
    target = tmp_path / "reader.onnx"
    train_reader.float_twin(fp32, target)
    twin = float_file(target)
    assert twin == tmp_path / "reader-float.xml"
    assert twin.is_file() and twin.with_suffix(".bin").is_file()
    # float16 weights: the .bin holds about half of float32's bytes
    assert twin.with_suffix(".bin").stat().st_size < weight.nbytes * 0.6
    compiled = ov.Core().compile_model(str(twin), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    x = np.random.default_rng(4).standard_normal((2, 64)).astype(np.float32)
    y = compiled([x])[0]
    np.testing.assert_allclose(y, x @ weight, rtol=0, atol=0.05)
