"""The one way this project opens an ONNX Runtime session: CPU, bounded threads, spinning only while
a run lasts."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def cpu_session(model: Path, threads: int = 2) -> Any:
    """An InferenceSession on ``threads`` cores.

    Its worker threads spin between the operators of one run (a short question's run is many small
    operators, and waking a sleeping thread for each was about a third of its time) and stop spinning
    the moment the run returns (``session.force_spinning_stop``), so nothing spins between calls,
    where FAISS and the event loop need the cores. Measured (docs/PERFORMANCE.md): a question's
    encoding p50 2.9-3.4 -> 2.1-2.2 ms idle, 4.9-5.5 -> 3.1-3.3 ms with both cores busy elsewhere.
    """
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "1")
    options.add_session_config_entry("session.force_spinning_stop", "1")
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
