"""CPU runtimes behind one interface, importing only numpy and the runtime they wrap.

Apps embed the LiteRT and ONNX Runtime adapters without TensorFlow; only `.keras`
files (the bench's reference row) load it. `open_runner(path)` picks the adapter by file type.
"""

from __future__ import annotations

from pathlib import Path

from sketch_edge.errors import ModelError
from sketch_edge.runtime.base import Runner

RUNTIMES = {".tflite": "litert", ".onnx": "onnxruntime", ".keras": "keras"}


def open_runner(path: str | Path, threads: int = 1) -> Runner:
    """Load `path` in the runtime that runs its format."""
    path = Path(path)
    kind = RUNTIMES.get(path.suffix)
    if kind is None:
        raise ModelError(f"{path}: no runtime for {path.suffix or 'files without a suffix'} (expected {', '.join(RUNTIMES)})")
    if kind == "litert":
        from sketch_edge.runtime.litert import LiteRTRunner

        return LiteRTRunner.load(path, threads)
    if kind == "keras":
        from sketch_edge.runtime.keras import KerasRunner

        return KerasRunner.load(path, threads)
    from sketch_edge.runtime.onnxruntime import OnnxRuntimeRunner

    return OnnxRuntimeRunner.load(path, threads)
