"""The runtime adapter interface (load, input spec, predict a batch, close) and `open_runner`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from sketch_edge.errors import ModelError

RUNTIMES = {".tflite": "litert", ".onnx": "onnxruntime", ".keras": "keras"}


@dataclass(frozen=True)
class TensorInfo:
    """A model input or output as its file declares it."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str
    scale: float | None = None  # quantized tensors: real = scale * (q - zero_point)
    zero_point: int | None = None


class Runner(Protocol):
    name: str
    input_spec: TensorInfo  # as the file declares it (int8 models: with scale and zero point)
    output_spec: TensorInfo
    metadata: dict[str, Any] | None  # what the export stage embedded (labels, input contract), if anything
    thread_safe: bool  # may `predict` run from several threads at once

    @classmethod
    def load(cls, path: Path, threads: int) -> Runner: ...

    def predict(self, batch: np.ndarray) -> np.ndarray:
        """float32 inputs as the model contract states them (0-255 bitmaps) -> float32 probabilities."""

    def close(self) -> None: ...


def quantize(x: np.ndarray, info: TensorInfo) -> np.ndarray:
    """Real values -> the integer type of a quantized tensor, with its own scale and zero point."""
    dtype = np.dtype(info.dtype)
    q = np.round(x / info.scale) + info.zero_point
    return np.clip(q, np.iinfo(dtype).min, np.iinfo(dtype).max).astype(dtype)


def dequantize(q: np.ndarray, info: TensorInfo) -> np.ndarray:
    return (q.astype(np.float32) - info.zero_point) * np.float32(info.scale)


def open_runner(path: str | Path, threads: int = 1) -> Runner:
    """Load `path` in the runtime that runs its format (imported only then: apps load just the one they use)."""
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
