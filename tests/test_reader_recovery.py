"""scripts/reader_weights_from_onnx.py: the shipped reader's training weights rebuilt from the repository.

Two independent recoveries of the same trained weights must agree: from the int8 file (dequantized,
torch names from the MatMulInteger nodes) and from the float16 twin (torch names from the nodes each
constant feeds). Same names, same torch shapes, values within int8's rounding."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
import reader_weights_from_onnx as recovery  # noqa: E402

DATA = ROOT / "index/data"


@pytest.fixture(scope="module")
def both() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    return recovery.twin_state(DATA / "reader-float.xml"), recovery.float_state(
        DATA / "reader.onnx"
    )


def test_the_twin_names_every_weight_the_int8_file_holds(both) -> None:  # type: ignore[no-untyped-def]
    twin, int8 = both
    assert set(twin) == set(int8)
    # 6 layers x 16 tensors, 5 of the embeddings, 2 heads x 2
    assert len(twin) == 6 * 16 + 5 + 4
    for name in twin:
        assert twin[name].shape == int8[name].shape, name


def test_the_twin_holds_the_values_int8_rounds(both) -> None:  # type: ignore[no-untyped-def]
    twin, int8 = both
    for name, value in twin.items():
        scale = float(np.abs(value).max()) or 1.0
        # int8 keeps 255 levels over a column's (or a table's) range: within one level of the float
        assert float(np.abs(value - int8[name]).max()) <= scale / 100, name
    # a Linear's layout is torch's [out, in]: the intermediate layer widens 384 -> 1536
    assert twin["bert.encoder.layer.0.intermediate.dense.weight"].shape == (1536, 384)
    assert twin["answer.weight"].shape == (1, 384)
