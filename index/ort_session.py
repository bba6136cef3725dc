"""The one way this project opens an ONNX Runtime session: CPU, bounded threads, no spinning."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(model: Path, threads: int = 2) -> Any:
    """An InferenceSession on ``threads`` cores. Spinning threads would steal the cores FAISS and the
    event loop need between calls, so spinning is off."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
