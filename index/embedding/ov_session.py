"""The one way this project opens an OpenVINO model: CPU, bounded threads, the ONNX Runtime calls it
is used through.

OpenVINO Runtime compiles the same exported ONNX graph as ONNX Runtime. On a CPU that computes in
bfloat16 natively (Intel AMX: Sapphire Rapids and later), its CPU plugin runs the matrix products in
bfloat16 by default (``INFERENCE_PRECISION_HINT``), and elsewhere in float32. Measured on this
project's 2-core machine (docs/PERFORMANCE.md): all-MiniLM-L6-v2 over 32 texts of 142 word pieces,
9,535 pieces a second on ONNX Runtime float32, 11,076 on OpenVINO float32, 31,719 in bfloat16; the
mean-pooled vectors of bfloat16 are within cosine 0.9999 of float32's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from index.errors import EmbedderError

PRECISIONS = ("auto", "f32", "bf16")
# The CPU plugin keeps the kernels it made for each input shape it has seen, 5,000 by default: a
# build meets a few hundred shapes (32 texts of every length up to the window), about 1.2 MB each.
# 16 keeps a question's few shapes warm (1.9 ms a question against 1.7 with 5,000, 2.3 with none)
# and bounds that memory.
SHAPE_CACHE = 16


@dataclass(frozen=True)
class _Input:
    name: str


class OpenVinoSession:
    """A compiled model behind ONNX Runtime's ``get_inputs()`` and ``run(None, feeds)``.

    Not thread-safe (one infer request): callers hold their own lock, as with ONNX Runtime's
    sessions here. Outputs are copied out of the request (the next run reuses its buffers).
    """

    def __init__(self, model: Path, threads: int = 2, precision: str = "auto") -> None:
        if precision not in PRECISIONS:
            raise EmbedderError(
                f"OpenVINO precision must be one of {', '.join(PRECISIONS)}, got {precision!r}"
            )
        try:
            import openvino as ov
        except ImportError:
            raise EmbedderError(
                "EMBED_BACKEND=openvino needs the openvino package (part of the default install: "
                "pip install openvino), or use EMBED_BACKEND=onnx"
            ) from None
        config: dict[str, Any] = {
            "INFERENCE_NUM_THREADS": threads,
            "PERFORMANCE_HINT": "LATENCY",  # one stream: one request at a time on all threads
            "CPU_RUNTIME_CACHE_CAPACITY": SHAPE_CACHE,
        }
        if precision != "auto":
            config["INFERENCE_PRECISION_HINT"] = precision
        core = ov.Core()
        self.config = config
        self._compiled = core.compile_model(core.read_model(str(model)), "CPU", config)
        self._request = self._compiled.create_infer_request()
        self._outputs = list(self._compiled.outputs)
        self.precision = self._compiled.get_property("INFERENCE_PRECISION_HINT").get_type_name()

    def get_inputs(self) -> list[_Input]:
        return [_Input(port.get_any_name()) for port in self._compiled.inputs]

    def run(self, output_names: None, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        del output_names  # every output, in the graph's order, as ONNX Runtime gives with None
        result = self._request.infer(feeds, share_outputs=False)
        return [np.asarray(result[port]) for port in self._outputs]
