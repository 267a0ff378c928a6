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

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from sketch_edge.bench import noise
from sketch_edge.bench.results import KernelTiming, Peak
from sketch_edge.isolation import Job, pin_to_core, serve
from sketch_edge.records import Count, Figure, Record

SIZE = 1024
OPS = 2 * SIZE**3  # a multiply-accumulate counts as 2 operations
MIN_RUNS = 7


@dataclass(frozen=True, kw_only=True)
class Kernel:
    name: str  # what defines a peak, as the report says it
    runtime: str
    file: str
    kinds: tuple[str, ...]  # the compute kinds it bounds (fp16 files run in fp32 on CPUs)
    build: Callable[[Path], None]  # writes the GEMM model file the kernel runs
    recipe: str | None = None  # LiteRT: the export recipe that quantizes the GEMM (its libraries are the figure's)


def _onnx(op: str) -> Callable[[Path], None]:
    return lambda path: _onnx_gemm(path, op)


def _litert(name: str, file: str, kinds: tuple[str, ...], recipe: str) -> Kernel:
    """A LiteRT kernel: one Dense layer made by the export recipe whose files it bounds."""
    return Kernel(name=name, runtime="litert", file=file, kinds=kinds, build=lambda path: _tflite_gemm(path, recipe), recipe=recipe)


KERNELS = (
    Kernel(
        name="ONNX Runtime MatMul fp32 (MLAS)",
        runtime="onnxruntime",
        file="ort-matmul-fp32.onnx",
        kinds=("fp32", "fp16"),
        build=_onnx("MatMul"),
    ),
    Kernel(
        name="ONNX Runtime MatMulInteger u8 x s8 (MLAS)",
        runtime="onnxruntime",
        file="ort-matmulinteger.onnx",
        kinds=("int8", "dynamic-int8"),
        build=_onnx("MatMulInteger"),
    ),
    _litert("LiteRT FULLY_CONNECTED fp32 (XNNPACK)", "litert-fc-fp32.tflite", ("fp32", "fp16"), "tflite-fp32"),
    _litert("LiteRT FULLY_CONNECTED fp16 weights", "litert-fc-fp16.tflite", ("fp16",), "tflite-fp16"),
    _litert("LiteRT FULLY_CONNECTED dynamic-range int8", "litert-fc-dynamic.tflite", ("dynamic-int8",), "tflite-dynamic"),
    _litert("LiteRT FULLY_CONNECTED int8 (XNNPACK)", "litert-fc-int8.tflite", ("int8",), "tflite-int8"),
    _litert("LiteRT FULLY_CONNECTED int16x8", "litert-fc-int16x8.tflite", ("int16x8",), "tflite-int16x8"),
    Kernel(
        name="OpenVINO MatMul fp32 (oneDNN)", runtime="openvino", file="ov-matmul-fp32.onnx", kinds=("fp32", "fp16"), build=_onnx("MatMul")
    ),
    Kernel(
        name="OpenVINO MatMul int8 from QDQ (oneDNN)",
        runtime="openvino",
        file="ov-matmul-qdq.onnx",
        kinds=("int8", "dynamic-int8"),
        build=_onnx("QDQ MatMul"),
    ),
)


@dataclass(frozen=True)
class PeakJob(Job):
    """What one peak process does: `build` every kernel's model into `folder`, or `measure` one runtime's."""

    WORKER = "sketch_edge.bench.peak"

    action: Literal["build", "measure"]
    folder: str
    kernels: tuple[str, ...]
    result: str
    threads: Count = 1
    seconds: Figure = 0.5
    pin_core: Count | None = None


@dataclass(frozen=True)
class PeakTimings(Record):
    measured: tuple[KernelTiming, ...] = ()


def kernels_for(kinds: set[str], runtimes: set[str]) -> list[Kernel]:
    """The kernels that bound the given compute kinds, in the runtimes being benched."""
    return [k for k in KERNELS if k.runtime in runtimes and kinds & set(k.kinds)]


def machine_peaks(measured: list[KernelTiming]) -> dict[str, dict[str, Peak]]:
    """{threads: {kind: peak}}: for each kind, the fastest timing of a kernel that bounds it (a kernel timed
    twice counts at its faster round), and how busy the machine was during that timing."""
    peaks: dict[str, dict[str, Peak]] = {}
    for m in measured:
        if m.gops is None:
            continue
        for kind in m.kinds:
            best = peaks.setdefault(str(m.threads), {}).get(kind)
            if best is None or m.gops > best.gops:
                peaks[str(m.threads)][kind] = Peak(m.gops, m.kernel, m.other_cpu, m.noisy)
    return peaks


# --- in the worker process -------------------------------------------------------------------------------


def build(job: PeakJob) -> PeakTimings:
    """Write every kernel's model file into the job's folder."""
    for kernel in (k for k in KERNELS if k.name in job.kernels):
        kernel.build(Path(job.folder) / kernel.file)
    return PeakTimings()


def _onnx_gemm(path: Path, op: str) -> None:
    """A 1024^3 MatMul: fp32, MatMulInteger on u8 x s8 (ONNX Runtime's int8 kernel), or float MatMul between
    QuantizeLinear/DequantizeLinear pairs, the QDQ form an int8 artifact has (OpenVINO runs it in int8)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    a_type, y_type = TensorProto.FLOAT, TensorProto.FLOAT
    if op == "MatMulInteger":
        weights = [numpy_helper.from_array(rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int8), "w")]
        nodes = [helper.make_node("MatMulInteger", ["a", "w"], ["y"])]
        a_type, y_type = TensorProto.UINT8, TensorProto.INT32
    elif op == "QDQ MatMul":
        scalar = numpy_helper.from_array
        weights = [
            scalar(rng.integers(-127, 128, size=(SIZE, SIZE), dtype=np.int8), "w"),
            scalar(np.array(0.01, dtype=np.float32), "ws"),
            scalar(np.array(0, dtype=np.int8), "wz"),
            scalar(np.array(0.02, dtype=np.float32), "as"),
            scalar(np.array(128, dtype=np.uint8), "az"),
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


def _tflite_gemm(path: Path, recipe_name: str) -> None:
    """One Dense layer through the export stage's own TFLite recipe, so the kernel is the one artifacts get."""
    import keras

    from sketch_edge.data import INPUT_SPECS
    from sketch_edge.export.calibration import CalibrationReader
    from sketch_edge.export.recipes import get_recipe
    from sketch_edge.export.tflite import export_tflite

    inputs = keras.Input(shape=(SIZE,), name="a")
    model = keras.Model(inputs, keras.layers.Dense(SIZE, use_bias=False)(inputs))
    samples = np.random.default_rng(0).normal(size=(16, SIZE)).astype(np.float32)
    export_tflite(
        model, path, input_spec=INPUT_SPECS["bitmap"], recipe=get_recipe(recipe_name), calibration=CalibrationReader(samples, "a")
    )


def measure(job: PeakJob) -> PeakTimings:
    """Median GOP/s of each kernel's GEMM in one runtime at one thread count, after warm-up."""
    pin_to_core(job.pin_core)
    results = []
    for kernel in (k for k in KERNELS if k.name in job.kernels):
        path = Path(job.folder) / kernel.file
        # ONNX Runtime's MatMulInteger takes uint8 input, which its adapter (float contract) does not make.
        call = _ort_caller(path, job.threads) if kernel.runtime == "onnxruntime" else _adapter_caller(path, job.threads, kernel.runtime)
        for _ in range(2):
            call()
        times: list[float] = []
        before = noise.sample()
        deadline = time.perf_counter() + job.seconds
        while len(times) < MIN_RUNS or time.perf_counter() < deadline:
            started = time.perf_counter()
            call()
            times.append(time.perf_counter() - started)
        seconds = statistics.median(times)
        other = noise.other_cpu(before, noise.sample())
        timing = KernelTiming(kernel.name, kernel.runtime, job.threads, kernel.kinds, OPS / seconds / 1e9, seconds * 1e3, len(times), other)
        results.append(timing)
    return PeakTimings(tuple(results))


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


def work(job: PeakJob) -> Record:
    """Build the GEMM models, or time them: what the job's action says."""
    return build(job) if job.action == "build" else measure(job)


def main() -> None:
    serve(PeakJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
