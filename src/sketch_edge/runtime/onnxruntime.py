"""ONNX Runtime adapter: CPU provider, all graph optimizations, intra-op threads set, one inter-op thread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort

from sketch_edge.errors import ModelError
from sketch_edge.runtime.base import TensorInfo
from sketch_edge.runtime.metadata import onnx_metadata

_ONNX_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}


def _tensor_info(arg: ort.NodeArg) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else None for d in arg.shape)
    return TensorInfo(name=arg.name, shape=shape, dtype=_ONNX_TYPES.get(arg.type, arg.type))


class OnnxRuntimeRunner:
    name = "onnxruntime"
    thread_safe = True  # InferenceSession.run is documented as safe to call concurrently

    def __init__(self, session: ort.InferenceSession, path: Path) -> None:
        self._session = session
        self.metadata = onnx_metadata(session.get_modelmeta().custom_metadata_map, path)
        self._input = session.get_inputs()[0]
        self._output = session.get_outputs()[0]
        self.input_spec = _tensor_info(self._input)
        self.output_spec = _tensor_info(self._output)

    @classmethod
    def load(cls, path: Path, threads: int) -> OnnxRuntimeRunner:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/NoSuchFile types
            raise ModelError(f"{path}: ONNX Runtime cannot load it ({str(exc).strip().splitlines()[0]})") from None
        return cls(session, path)

    def predict(self, batch: np.ndarray) -> np.ndarray:
        (y,) = self._session.run([self._output.name], {self._input.name: batch.astype(np.float32, copy=False)})
        return y.astype(np.float32, copy=False)

    def close(self) -> None:
        self._session = None
