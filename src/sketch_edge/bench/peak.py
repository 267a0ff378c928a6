"""This machine's compute limit per compute kind, measured by each runtime's own kernels.

A large GEMM is the best case for a CPU: what a runtime's kernel reaches on it is
the ceiling a small model's latency is compared against. Each kernel below runs
one 1024^3 GEMM in one runtime and bounds the compute kinds listed with it; the
machine's peak for a kind is the highest of its kernels, so no artifact can
honestly show more than 100% of it. LiteRT's GEMMs are made by the export
stage's own TFLite recipes (one Dense layer), so each is the kernel an artifact
of that recipe really runs (XNNPACK's fp32, dynamic-range qd8 and qs8 kernels).

Run as `python -m sketch_edge.bench.peak JOB.json` (build the models, or time
them in one runtime at one thread count), each in a fresh process.
"""

from __future__ import annotations

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench import noise
from sketch_edge.isolation import die_with_parent, pin_to_core

SIZE = 1024
OPS = 2 * SIZE**3  # a multiply-accumulate counts as 2 operations
MIN_RUNS = 7


@dataclass(frozen=True)
class Kernel:
    name: str  # what defines a peak, as the report says it
    runtime: str
    file: str
    kinds: tuple[str, ...]  # the compute kinds it bounds (fp16 files run in fp32 on CPUs)
    recipe: str | None = None  # LiteRT: the export recipe that quantizes the GEMM


KERNELS = (
    Kernel("ONNX Runtime MatMul fp32 (MLAS)", "onnxruntime", "ort-matmul-fp32.onnx", ("fp32", "fp16")),
    Kernel("ONNX Runtime MatMulInteger u8 x s8 (MLAS)", "onnxruntime", "ort-matmulinteger.onnx", ("int8", "dynamic-int8")),
    Kernel("LiteRT FULLY_CONNECTED fp32 (XNNPACK)", "litert", "litert-fc-fp32.tflite", ("fp32", "fp16"), "tflite-fp32"),
    Kernel("LiteRT FULLY_CONNECTED fp16 weights", "litert", "litert-fc-fp16.tflite", ("fp16",), "tflite-fp16"),
    Kernel("LiteRT FULLY_CONNECTED dynamic-range int8", "litert", "litert-fc-dynamic.tflite", ("dynamic-int8",), "tflite-dynamic"),
    Kernel("LiteRT FULLY_CONNECTED int8 (XNNPACK)", "litert", "litert-fc-int8.tflite", ("int8",), "tflite-int8"),
    Kernel("LiteRT FULLY_CONNECTED int16x8", "litert", "litert-fc-int16x8.tflite", ("int16x8",), "tflite-int16x8"),
    Kernel("OpenVINO MatMul fp32 (oneDNN)", "openvino", "ov-matmul-fp32.onnx", ("fp32", "fp16")),
    Kernel("OpenVINO MatMul int8 from QDQ (oneDNN)", "openvino", "ov-matmul-qdq.onnx", ("int8", "dynamic-int8")),
)


def kernels_for(kinds: set[str], runtimes: set[str]) -> list[Kernel]:
    """The kernels that bound the given compute kinds, in the runtimes being benched."""
    return [k for k in KERNELS if k.runtime in runtimes and kinds & set(k.kinds)]


def machine_peaks(measured: list[dict[str, Any]]) -> dict[str, dict[str, dict[str, Any]]]:
    """{threads: {kind: {"gops", "kernel", "other_cpu", "noisy"}}}: for each kind, the fastest timing of a kernel that
    bounds it (a kernel timed twice counts at its faster round), and how busy the machine was during that timing."""
    peaks: dict[str, dict[str, dict[str, Any]]] = {}
    for m in measured:
        if m.get("gops") is None:
            continue
        for kind in m["kinds"]:
            best = peaks.setdefault(str(m["threads"]), {}).get(kind)
            if best is None or m["gops"] > best["gops"]:
                peaks[str(m["threads"])][kind] = {
                    "gops": m["gops"],
                    "kernel": m["kernel"],
                    "other_cpu": m.get("other_cpu"),
                    "noisy": m.get("noisy"),
                }
    return peaks


# --- in the worker process -------------------------------------------------------------------------------


def build(job: dict[str, Any]) -> dict[str, Any]:
    """Write every kernel's model file into `job["folder"]`."""
    folder = Path(job["folder"])
    for kernel in (k for k in KERNELS if k.name in job["kernels"]):
        if kernel.runtime == "onnxruntime":
            _onnx_gemm(folder / kernel.file, integer="Integer" in kernel.name)
        elif kernel.runtime == "openvino":
            _onnx_gemm(folder / kernel.file, qdq="QDQ" in kernel.name)
        else:
            _tflite_gemm(folder / kernel.file, kernel.recipe)
    return {}


def _onnx_gemm(path: Path, integer: bool = False, qdq: bool = False) -> None:
    """A 1024^3 MatMul: fp32, MatMulInteger on u8 x s8 (ONNX Runtime's int8 kernel), or float MatMul between
    QuantizeLinear/DequantizeLinear pairs, the QDQ form an int8 artifact has (OpenVINO runs it in int8)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    if integer:
        weights = [numpy_helper.from_array(rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int8), "w")]
        nodes = [helper.make_node("MatMulInteger", ["a", "w"], ["y"])]
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    elif qdq:
        scalar = numpy_helper.from_array
        weights = [
            scalar(rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int8), "w"),
            scalar(np.float32(0.01), "ws"),
            scalar(np.int8(0), "wz"),
            scalar(np.float32(0.02), "as"),
            scalar(np.uint8(128), "az"),
        ]
        nodes = [
            helper.make_node("QuantizeLinear", ["a", "as", "az"], ["aq"]),
            helper.make_node("DequantizeLinear", ["aq", "as", "az"], ["ad"]),
            helper.make_node("DequantizeLinear", ["w", "ws", "wz"], ["wd"]),
            helper.make_node("MatMul", ["ad", "wd"], ["y"]),
        ]
    else:
        weights = [numpy_helper.from_array(rng.normal(size=(SIZE, SIZE)).astype(np.float32), "w")]
        nodes = [helper.make_node("MatMul", ["a", "w"], ["y"])]
    graph = helper.make_graph(
        nodes,
        "gemm",
        [helper.make_tensor_value_info("a", a_type, [SIZE, SIZE])],
        [helper.make_tensor_value_info("y", y_type, [SIZE, SIZE])],
        weights,
    )
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))


def _tflite_gemm(path: Path, recipe_name: str | None) -> None:
    """One Dense layer through the export stage's own TFLite recipe, so the kernel is the one artifacts get."""
    import keras

    from sketch_edge.export.calibration import CalibrationReader
    from sketch_edge.export.recipes import get_recipe
    from sketch_edge.export.tflite import export_tflite

    inputs = keras.Input(shape=(SIZE,), name="a")
    model = keras.Model(inputs, keras.layers.Dense(SIZE, use_bias=False)(inputs))
    samples = np.random.default_rng(0).normal(size=(16, SIZE)).astype(np.float32)
    export_tflite(model, path, input_spec=None, recipe=get_recipe(recipe_name), calibration=CalibrationReader(samples, "a"))


def measure(job: dict[str, Any]) -> dict[str, Any]:
    """Median GOP/s of each kernel's GEMM in one runtime at one thread count, after warm-up."""
    pin_to_core(job.get("pin_core"))
    folder, threads = Path(job["folder"]), job["threads"]
    results = []
    for kernel in (k for k in KERNELS if k.name in job["kernels"]):
        path = folder / kernel.file
        # ONNX Runtime's MatMulInteger takes uint8 input, which its adapter (float contract) does not make.
        call = _ort_caller(path, threads) if kernel.runtime == "onnxruntime" else _adapter_caller(path, threads, kernel.runtime)
        for _ in range(2):
            call()
        times: list[float] = []
        before = noise.sample()
        deadline = time.perf_counter() + job["seconds"]
        while len(times) < MIN_RUNS or time.perf_counter() < deadline:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        results.append(
            {
                "kernel": kernel.name,
                "runtime": kernel.runtime,
                "kinds": list(kernel.kinds),
                "threads": threads,
                "gops": OPS / seconds / 1e9,
                "median_ms": seconds * 1e3,
                "runs": len(times),
                "other_cpu": noise.other_cpu(before, noise.sample()),
            }
        )
    return {"measured": results}


def _ort_caller(path: Path, threads: int) -> Callable[[], Any]:
    import onnxruntime as ort

    from sketch_edge.runtime.onnxruntime import session_options

    session = ort.InferenceSession(str(path), session_options(threads), providers=["CPUExecutionProvider"])
    spec = session.get_inputs()[0]
    a = np.random.default_rng(1).integers(0, 255, size=(SIZE, SIZE)).astype(np.uint8 if spec.type == "tensor(uint8)" else np.float32)
    feed = {spec.name: a}
    return lambda: session.run(None, feed)


def _adapter_caller(path: Path, threads: int, runtime: str) -> Callable[[], Any]:
    """The runtime's own call through its adapter (LiteRT, OpenVINO), on an input prepared once, as the bench times cells."""
    from sketch_edge.runtime import open_runner

    runner = open_runner(path, threads, runtime)
    prepared = runner.prepare(np.random.default_rng(1).normal(size=(SIZE, SIZE)).astype(np.float32))
    return lambda: runner.run(prepared)


def main() -> None:
    die_with_parent()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    job = json.loads(Path(sys.argv[1]).read_text())
    result = build(job) if job["action"] == "build" else measure(job)
    Path(job["result"]).write_text(json.dumps(result))


if __name__ == "__main__":
    main()
