"""OpenVINO adapter (CPU plugin): reads `.onnx` and `.tflite` files directly, threads set like the other runtimes.

Settings, the same for every file: one stream, `INFERENCE_NUM_THREADS` as asked, the
latency hint, and `INFERENCE_PRECISION_HINT=f32`. The last matters: on a CPU with
bf16 instructions OpenVINO otherwise runs fp32 models in bf16, which is not the
arithmetic the recipe promises (and not what the fp32 peak measures). The batch
dimension is made dynamic so one compiled model takes any batch size.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sketch_edge.errors import ModelError
from sketch_edge.formats import read_metadata
from sketch_edge.runtime.base import (
    EVERY_COMPUTE_KIND,
    PROFILE_WARMUP,
    InputTensor,
    Runner,
    RuntimeSpec,
    TensorInfo,
    fixed_batch,
    pixel_input,
)

if TYPE_CHECKING:
    import openvino as ov

RUNTIME = RuntimeSpec(
    name="openvino",
    formats=("onnx", "tflite"),
    adapter="sketch_edge.runtime.openvino:OpenVINORunner",
    kernels="OpenVINO CPU plugin (oneDNN)",
    thread_safe=False,
    compute_kinds=EVERY_COMPUTE_KIND,
    package="openvino",
    libraries=("openvino",),
    extra="openvino",
    marker="D",
    profiler="sketch_edge.runtime.openvino:profile_nodes",
    refuses={"ort": "OpenVINO reads .onnx and .tflite files, not ONNX Runtime's own .ort format"},
)

CONFIG = {"PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": "1", "INFERENCE_PRECISION_HINT": "f32"}
_core: ov.Core | None = None


def core() -> ov.Core:
    """One `Core` per process: creating it loads the plugins."""
    global _core
    if _core is None:
        import openvino as ov

        _core = ov.Core()
    return _core


def read_model(path: Path) -> ov.Model:
    """The file's graph with a dynamic batch axis: one compiled model takes any batch size, as the other runtimes do;
    except a file whose batch is fixed (the mobile recipes: its graph's shapes are folded for that batch)."""
    model = core().read_model(str(path))
    shape = model.inputs[0].get_partial_shape()
    if shape.rank.is_static and _declared_batch(path, shape) is None:
        model.reshape({model.inputs[0]: [-1, *list(shape)[1:]]})
    return model


def _declared_batch(path: Path, shape: ov.PartialShape) -> int | None:
    """The batch the file fixes, or None. OpenVINO's TFLite reader shows batch 1 for any file (the flatbuffer's
    `shape`); the dynamic axis is its `shape_signature`, which LiteRT reads."""
    if path.suffix == ".tflite":
        from sketch_edge.runtime.litert import file_tensor_infos

        return fixed_batch(file_tensor_infos(path)[0])
    return shape[0].get_length() if shape[0].is_static else None


def compile_model(model: ov.Model, threads: int, config: dict[str, str] = CONFIG) -> ov.CompiledModel:
    """The settings every OpenVINO model of the project is compiled with (adapter and peaks), or others to compare."""
    return core().compile_model(model, "CPU", config | {"INFERENCE_NUM_THREADS": str(threads)})


class OpenVINORunner(Runner):
    name = RUNTIME.name
    thread_safe = False  # one infer request holds one set of tensors

    def __init__(self, compiled: ov.CompiledModel, path: Path, metadata: dict[str, Any] | None) -> None:
        self._compiled = compiled
        self._request = compiled.create_infer_request()
        self.input_spec, self.output_spec = self._tensor_infos(compiled, path)
        self.metadata = metadata
        self._to_tensor = InputTensor(self.input_spec, pixel_input(self.input_spec, metadata))
        self._input: np.ndarray | None = None  # the request's own input tensor's memory, for the batch size last run

    @staticmethod
    def _tensor_infos(compiled: ov.CompiledModel, path: Path) -> tuple[TensorInfo, TensorInfo]:
        """Names, shapes and types as OpenVINO sees them; a `.tflite` file's int8 scale and zero point from the file
        itself (OpenVINO's TFLite reader folds them into the graph and does not expose them)."""
        infos = []
        for port in (compiled.inputs[0], compiled.outputs[0]):
            shape = tuple(d.get_length() if d.is_static else None for d in port.get_partial_shape())
            infos.append(TensorInfo(name=port.get_any_name(), shape=shape, dtype=np.dtype(port.get_element_type().to_dtype()).name))
        if path.suffix == ".tflite" and any(i.dtype in ("int8", "uint8", "int16") for i in infos):
            from sketch_edge.runtime.litert import file_tensor_infos

            declared = file_tensor_infos(path)
            infos = [TensorInfo(i.name, i.shape, i.dtype, d.scale, d.zero_point) for i, d in zip(infos, declared, strict=True)]
        return infos[0], infos[1]

    @classmethod
    def load(cls, path: Path, threads: int) -> OpenVINORunner:
        try:
            model = read_model(path)
            compiled = compile_model(model, threads)
        except Exception as exc:  # OpenVINO raises RuntimeError or its own GeneralFailure for files it refuses
            raise ModelError(f"{path}: OpenVINO cannot load it ({_message(exc)})") from None
        return cls(compiled, path, read_metadata(path))

    def prepare(self, batch: np.ndarray) -> np.ndarray:
        return self._to_tensor(batch)

    def run(self, prepared: np.ndarray) -> np.ndarray:
        """The input copied into the request's own tensor, then `infer()`: passing the array to `infer([x])` instead
        (shared or copied) cost about 50 us more per call at batch 1 (92 against 141 us for an int8 file on a Zen 4
        EPYC), more than the copy it saves. The tensor is reshaped only when the batch size changes."""
        if self._input is None or self._input.shape != prepared.shape:
            tensor = self._request.get_input_tensor(0)
            tensor.shape = list(prepared.shape)
            self._input = tensor.data
        self._input[...] = prepared
        self._request.infer()
        return self._request.get_output_tensor(0).data.copy()

    def profiling_info(self) -> list[Any]:
        """The last inference's per-node counters (compiled with PERF_COUNT: the bench's profile)."""
        return self._request.get_profiling_info()

    def close(self) -> None:
        self._input = None
        self._request = None
        self._compiled = None


def _message(exc: Exception) -> str:
    """OpenVINO's own message, without the "Exception from src/...cpp:NN:" location lines it starts with."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip() and not line.lstrip().startswith("Exception from ")]
    return lines[0] if lines else type(exc).__name__


def profile_nodes(path: Path, threads: int, batch: np.ndarray, calls: int, scratch: Path) -> dict[str, dict[str, Any]]:
    """Run `calls` predictions with OpenVINO's performance counters on: each executed node's time and kernel."""
    runner = OpenVINORunner(compile_model(read_model(path), threads, CONFIG | {"PERF_COUNT": "YES"}), path, metadata=None)
    prepared = runner.prepare(batch)
    for _ in range(PROFILE_WARMUP):  # the first calls allocate and pack weights: not the steady operator time
        runner.run(prepared)
    nodes: dict[str, dict[str, Any]] = {}
    for _ in range(calls):
        runner.run(prepared)
        for info in runner.profiling_info():
            if info.real_time.total_seconds() > 0:
                op = f"{info.node_type} ({info.exec_type})"  # the kernel says whether int8 ran as int8
                node = nodes.setdefault(info.node_name, {"node": info.node_name, "op": op, "total_us": 0.0})
                node["total_us"] += info.real_time.total_seconds() * 1e6
    return nodes
