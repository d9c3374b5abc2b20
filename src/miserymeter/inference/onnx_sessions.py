"""One ONNX Runtime session on the CPU, set up alike for every model the runtime loads."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort


def cpu_session(path: Path, *, n_threads: int) -> ort.InferenceSession:
    """A session over `path` using `n_threads` for each operator and one for the graph, quiet
    but for errors."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = n_threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=options, providers=["CPUExecutionProvider"])
