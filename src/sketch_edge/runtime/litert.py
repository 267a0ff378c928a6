"""LiteRT (`ai_edge_litert`) adapter: XNNPACK on, threads set, int8 I/O handled here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from ai_edge_litert.interpreter import Interpreter

from sketch_edge.errors import ModelError
from sketch_edge.runtime.base import TensorInfo, dequantize, quantize
from sketch_edge.runtime.metadata import tflite_metadata


def _tensor_info(detail: dict) -> TensorInfo:
    scale, zero_point = detail["quantization"]
    quantized = np.dtype(detail["dtype"]).kind in "iu" and scale != 0
    shape = tuple(None if d < 0 else int(d) for d in detail.get("shape_signature", detail["shape"]))
    return TensorInfo(
        name=detail["name"],
        shape=shape,
        dtype=np.dtype(detail["dtype"]).name,
        scale=float(scale) if quantized else None,
        zero_point=int(zero_point) if quantized else None,
    )


class LiteRTRunner:
    name = "litert"
    thread_safe = False  # one interpreter holds one set of tensors

    def __init__(self, interpreter: Interpreter, metadata: dict[str, Any] | None = None) -> None:
        self._interpreter = interpreter
        self.metadata = metadata
        self._input = interpreter.get_input_details()[0]
        self._output = interpreter.get_output_details()[0]
        self._batch = int(self._input["shape"][0])
        self.input_spec = _tensor_info(self._input)
        self.output_spec = _tensor_info(self._output)

    @classmethod
    def load(cls, path: Path, threads: int) -> LiteRTRunner:
        try:
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: LiteRT cannot load it ({str(exc).strip().splitlines()[0]})") from None
        return cls(interpreter, tflite_metadata(path))

    def predict(self, batch: np.ndarray) -> np.ndarray:
        if len(batch) != self._batch:
            self._interpreter.resize_tensor_input(self._input["index"], [len(batch), *self._input["shape"][1:]])
            self._interpreter.allocate_tensors()
            self._input = self._interpreter.get_input_details()[0]
            self._output = self._interpreter.get_output_details()[0]
            self._batch = len(batch)
        spec_in, spec_out = self.input_spec, self.output_spec
        x = quantize(batch, spec_in) if spec_in.scale is not None else batch.astype(self._input["dtype"])
        self._interpreter.set_tensor(self._input["index"], x)
        self._interpreter.invoke()
        y = self._interpreter.get_tensor(self._output["index"])
        return dequantize(y, spec_out) if spec_out.scale is not None else y.astype(np.float32)

    def close(self) -> None:
        self._interpreter = None
