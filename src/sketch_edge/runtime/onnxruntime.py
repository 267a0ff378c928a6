"""ONNX Runtime adapter: CPU provider, all graph optimizations, intra-op threads set, one inter-op thread."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sketch_edge.errors import ModelError, first_line
from sketch_edge.formats import read_metadata
from sketch_edge.runtime.base import PROFILE_WARMUP, Runner, RuntimeSpec, TensorInfo

if TYPE_CHECKING:
    import onnxruntime as ort

RUNTIME = RuntimeSpec(
    name="onnxruntime",
    formats=("onnx", "ort"),
    adapter="sketch_edge.runtime.onnxruntime:OnnxRuntimeRunner",
    kernels="ONNX Runtime CPU execution provider (MLAS)",  # the only provider the adapter asks for
    thread_safe=True,
    compute_kinds=("fp32", "dynamic-int8", "int8"),
    package="onnxruntime",
    libraries=("onnxruntime",),
    marker="^",
    profiler="sketch_edge.runtime.onnxruntime:profile_nodes",
    browser="onnxruntime-web (WebAssembly, SIMD)",
    browser_formats=("onnx",),
)

_ONNX_TYPES = {"tensor(float)": "float32", "tensor(float16)": "float16", "tensor(int8)": "int8", "tensor(uint8)": "uint8"}


def _tensor_info(arg: ort.NodeArg) -> TensorInfo:
    shape = tuple(d if isinstance(d, int) else None for d in arg.shape)
    return TensorInfo(name=arg.name, shape=shape, dtype=_ONNX_TYPES.get(arg.type, arg.type))


def session_options(threads: int) -> ort.SessionOptions:
    """The settings every ONNX Runtime session of the project uses (adapter, peaks, profiles)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    return options


class OnnxRuntimeRunner(Runner):
    name = RUNTIME.name
    thread_safe = True  # InferenceSession.run is documented as safe to call concurrently

    def __init__(self, session: ort.InferenceSession, path: Path) -> None:
        self._session = session
        self.metadata = read_metadata(path)
        self.input_spec = _tensor_info(session.get_inputs()[0])
        self.output_spec = _tensor_info(session.get_outputs()[0])
        self._outputs = [self.output_spec.name]
        self._input_name = self.input_spec.name

    @classmethod
    def load(cls, path: Path, threads: int) -> OnnxRuntimeRunner:
        import onnxruntime as ort

        try:
            session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
        except Exception as exc:  # ORT raises its own Fail/InvalidGraph/NoSuchFile types
            raise ModelError(f"{path}: ONNX Runtime cannot load it ({first_line(exc)})") from None
        return cls(session, path)

    def prepare(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        return {self._input_name: np.ascontiguousarray(batch, dtype=np.float32)}

    def run(self, prepared: dict[str, np.ndarray]) -> np.ndarray:
        return self._session.run(self._outputs, prepared)[0]

    def close(self) -> None:
        self._session = None


def profile_nodes(path: Path, threads: int, batch: np.ndarray, calls: int, scratch: Path) -> dict[str, dict[str, Any]]:
    """Run `calls` predictions under ONNX Runtime's profiler: each node's kernel time (bench.profile sums them)."""
    import onnxruntime as ort

    options = session_options(threads)
    options.enable_profiling = True
    options.profile_file_prefix = str(scratch / "ort-profile")
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: np.ascontiguousarray(batch, dtype=np.float32)}
    for _ in range(PROFILE_WARMUP + calls):
        session.run(None, feed)
    trace = Path(session.end_profiling())
    try:
        events = json.loads(trace.read_text())
    finally:
        trace.unlink(missing_ok=True)
    return trace_nodes(events, skip=PROFILE_WARMUP)


def trace_nodes(events: list[dict[str, Any]], skip: int = 0) -> dict[str, dict[str, Any]]:
    """ONNX Runtime's Chrome-trace events -> {node: {"node", "op", "total_us"}}, leaving out each node's first `skip`
    runs (the warm-up calls)."""
    nodes: dict[str, dict[str, Any]] = {}
    seen: dict[str, int] = {}
    for event in sorted(events, key=lambda e: float(e.get("ts", 0))):
        if event.get("cat") != "Node" or not event.get("name", "").endswith("_kernel_time"):
            continue
        name = event["name"].removesuffix("_kernel_time")
        seen[name] = seen.get(name, 0) + 1
        if seen[name] <= skip:
            continue
        node = nodes.setdefault(name, {"node": name, "op": event.get("args", {}).get("op_name", "?"), "total_us": 0.0})
        node["total_us"] += float(event.get("dur", 0))
    return nodes
