"""The runtime adapter interface: load, input spec, predict a batch, close."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np


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
