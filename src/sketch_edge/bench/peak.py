"""This machine's compute limit, measured by the runtime's own GEMM kernels (ONNX Runtime MatMul / MatMulInteger).

A large square GEMM is the best case for a CPU: what it reaches is the ceiling a
small CNN's latency is compared against.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

SIZE = 1024


def _gemm_model(path: Path, integer: bool) -> None:
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    if integer:
        weights = numpy_helper.from_array(rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int8), "w")
        node = helper.make_node("MatMulInteger", ["a", "w"], ["y"])
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    else:
        weights = numpy_helper.from_array(rng.normal(size=(SIZE, SIZE)).astype(np.float32), "w")
        node = helper.make_node("MatMul", ["a", "w"], ["y"])
        a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    graph = helper.make_graph(
        [node],
        "gemm",
        [helper.make_tensor_value_info("a", a_type, [SIZE, SIZE])],
        [helper.make_tensor_value_info("y", y_type, [SIZE, SIZE])],
        [weights],
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def measure_peaks(scratch: Path, threads: int, seconds: float = 1.0) -> dict[str, float]:
    """GFLOP/s of an fp32 GEMM and GOP/s of a u8 x s8 GEMM (a multiply-accumulate counts as 2 operations)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    result = {}
    for integer, key in ((False, "fp32_gflops"), (True, "int8_gops")):
        path = scratch / f"gemm-{key}.onnx"
        _gemm_model(path, integer)
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        a = np.random.default_rng(1).integers(0, 255, size=(SIZE, SIZE)).astype(np.uint8 if integer else np.float32)
        session.run(None, {"a": a})
        best = float("inf")
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            session.run(None, {"a": a})
            best = min(best, time.perf_counter() - started)
        result[key] = 2 * SIZE**3 / best / 1e9
    return result
