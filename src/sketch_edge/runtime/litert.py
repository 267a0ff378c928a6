"""LiteRT (`ai_edge_litert`) adapter: XNNPACK on, threads set, int8 I/O quantized outside the timed call."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sketch_edge.errors import ModelError, first_line
from sketch_edge.formats import read_metadata
from sketch_edge.runtime.base import EVERY_COMPUTE_KIND, InputTensor, Runner, RuntimeSpec, TensorInfo, pixel_input

if TYPE_CHECKING:
    from ai_edge_litert.interpreter import Interpreter

RUNTIME = RuntimeSpec(
    name="litert",
    formats=("tflite",),
    adapter="sketch_edge.runtime.litert:LiteRTRunner",
    kernels="XNNPACK delegate",
    delegate_line="Created TensorFlow Lite XNNPACK delegate",
    fallback="LiteRT built-in kernels",
    thread_safe=False,
    compute_kinds=EVERY_COMPUTE_KIND,
    package="ai_edge_litert",
    libraries=("ai-edge-litert",),
    extra="litert",
    marker="o",
    no_profiler="LiteRT's Python API has no per-op profiler",
)


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


def file_tensor_infos(path: Path) -> tuple[TensorInfo, TensorInfo]:
    """The first input and output as the file declares them (with int8 scale and zero point), without allocating tensors."""
    from ai_edge_litert.interpreter import Interpreter

    try:
        interpreter = Interpreter(model_path=str(path))
    except (ValueError, RuntimeError) as exc:
        raise ModelError(f"{path}: LiteRT cannot read it ({first_line(exc)})") from None
    return _tensor_info(interpreter.get_input_details()[0]), _tensor_info(interpreter.get_output_details()[0])


class LiteRTRunner(Runner):
    name = RUNTIME.name
    thread_safe = False  # one interpreter holds one set of tensors

    def __init__(self, interpreter: Interpreter, metadata: dict[str, Any] | None = None) -> None:
        self._interpreter = interpreter
        self.metadata = metadata
        input_detail, output_detail = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        self._input, self._output = input_detail["index"], output_detail["index"]
        self._shape = tuple(int(d) for d in input_detail["shape"])
        self.input_spec = _tensor_info(input_detail)
        self.output_spec = _tensor_info(output_detail)
        self._to_tensor = InputTensor(self.input_spec, pixel_input(self.input_spec, metadata))

    @classmethod
    def load(cls, path: Path, threads: int) -> LiteRTRunner:
        from ai_edge_litert.interpreter import Interpreter

        try:
            interpreter = Interpreter(model_path=str(path), num_threads=threads)
            interpreter.allocate_tensors()
        except (ValueError, RuntimeError) as exc:
            raise ModelError(f"{path}: LiteRT cannot load it ({first_line(exc)})") from None
        return cls(interpreter, read_metadata(path))

    def output_step(self) -> float | None:
        """The output's scale; for a float output made by a DEQUANTIZE op (TensorFlow's converter keeps float input and
        output around an int8 graph unless told otherwise), the scale of the int8 tensor it dequantizes."""
        if self.output_spec.scale is not None:
            return self.output_spec.scale
        ops = self._interpreter._get_ops_details()
        producer = next((op for op in ops if self._output in list(op["outputs"])), None)
        if producer is None or producer["op_name"] != "DEQUANTIZE":
            return None
        scale, _ = self._interpreter._get_tensor_details(int(producer["inputs"][0]), 0)["quantization"]
        return float(scale) or None

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        """The input in the tensor's own type (int8 quantized with its scale and zero point); resizes for a new batch size."""
        tensor = self._to_tensor(batch)
        if tensor.shape != self._shape:
            self._interpreter.resize_tensor_input(self._input, list(tensor.shape))
            self._interpreter.allocate_tensors()
            self._shape = tuple(tensor.shape)
        return tensor

    def run(self, prepared: np.ndarray) -> np.ndarray:
        self._interpreter.set_tensor(self._input, prepared)
        self._interpreter.invoke()
        return self._interpreter.get_tensor(self._output)

    def close(self) -> None:
        self._interpreter = None
