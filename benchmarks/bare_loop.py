"""Does the bench time the runtime, or itself? Its batch-1 p50 against a bare loop of each runtime's own API.

    .venv/bin/python benchmarks/bare_loop.py [ARTIFACTS] [--rounds 7] [--calls 2000] [--json OUT.json]

For every artifact of ARTIFACTS/export/manifest.json (and the Keras model), in a
fresh process pinned to one core, one thread, batch 1, on a real test drawing:
- bench: the bench worker's own timing (`time_calls` around `Runner.run` on an
  input `Runner.prepare` made beforehand);
- bare: the loop an app would write with the runtime's API and nothing else
  (LiteRT `set_tensor`/`invoke`/`get_tensor` with the input already int8 where the
  model is int8; ONNX Runtime `session.run`; OpenVINO `InferRequest.infer` on a model
  compiled with the adapter's settings; a `tf.function` with a fixed signature), in
  every installed runtime that runs the file;
in interleaved rounds, so a noisy neighbour hits both alike. It reports each one's
best-round p50 and the ratio; the target is <= 1.05.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.timing import time_calls
from sketch_edge.data.saved_split import SavedSplit
from sketch_edge.isolation import cpu_affinity, pin_to_core
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime import open_runner, runtimes_for


def tflite_input(path: Path, x: np.ndarray) -> np.ndarray:
    """`x` in the .tflite file's input type, quantized with its scale and zero point where it is int8."""
    from ai_edge_litert.interpreter import Interpreter

    inp = Interpreter(model_path=str(path)).get_input_details()[0]
    scale, zero_point = inp["quantization"]
    if np.dtype(inp["dtype"]) == np.int8:
        x = np.clip(np.round(x / scale) + zero_point, -128, 127)
    return x.astype(inp["dtype"])


def bare_call(path: Path, x: np.ndarray, runtime: str) -> Callable[[], Any]:
    """The runtime's own API, written out here on purpose rather than taken from the adapters."""
    if runtime == "litert":
        from ai_edge_litert.interpreter import Interpreter

        interpreter = Interpreter(model_path=str(path), num_threads=1)
        interpreter.allocate_tensors()
        inp, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
        x = tflite_input(path, x)

        def call() -> Any:
            interpreter.set_tensor(inp["index"], x)
            interpreter.invoke()
            return interpreter.get_tensor(out["index"])

        return call
    if runtime == "onnxruntime":
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        feed = {session.get_inputs()[0].name: x}
        return lambda: session.run(None, feed)
    if runtime == "openvino":
        import openvino as ov

        settings = {"INFERENCE_NUM_THREADS": "1", "NUM_STREAMS": "1", "PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
        request = ov.Core().compile_model(str(path), "CPU", settings).create_infer_request()
        x = tflite_input(path, x) if path.suffix == ".tflite" else x
        return lambda: request.infer([x])
    import keras
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    model = keras.saving.load_model(path)
    serve = tf.function(lambda t: model(t, training=False), input_signature=[tf.TensorSpec((None, *x.shape[1:]), tf.float32)])
    tensor = tf.constant(x)
    return lambda: serve(tensor).numpy()


def plain_loop_p50(call: Callable[[], Any], calls: int) -> float:
    for _ in range(100):
        call()
    times = np.empty(calls)
    for i in range(calls):
        started = time.perf_counter_ns()
        call()
        times[i] = time.perf_counter_ns() - started
    return float(np.median(times)) / 1000


def one(path: Path, runtime: str, x: np.ndarray, rounds: int, calls: int) -> dict[str, Any]:
    runner = open_runner(path, threads=1, runtime=runtime)
    prepared = runner.prepare(x)
    bare = bare_call(path, x, runtime)
    bench_p50, bare_p50 = [], []
    for _ in range(rounds):
        lat = time_calls(lambda: runner.run(prepared), min_calls=calls, min_seconds=0, warmup_calls=100, warmup_seconds=0)
        bench_p50.append(float(np.median(lat)))
        bare_p50.append(plain_loop_p50(bare, calls))
    return {
        "bench_p50_us": min(bench_p50),
        "bare_p50_us": min(bare_p50),
        "ratio": min(bench_p50) / min(bare_p50),
        "rounds": rounds,
        "calls": calls,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("artifacts", type=Path, nargs="?", default=Path("artifacts"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--one", type=Path, default=None, help=argparse.SUPPRESS)  # the per-artifact child process
    parser.add_argument("--runtime", default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    layout = Layout(args.artifacts)
    x = SavedSplit.load(layout.split).test_x[:1].astype(np.float32)
    if args.one is not None:
        pin_to_core(max(cpu_affinity()))
        print(json.dumps(one(args.one, args.runtime, x, args.rounds, args.calls)))
        return 0
    manifest = Manifest.load(layout.manifest)
    paths = {"keras": layout.model} | {
        a.name: resolve(layout.export, a) for a in manifest.artifacts if a.status == "ok" and a.format in ("tflite", "onnx")
    }
    rows = {}
    print(f"{'artifact':20} {'runtime':12} {'bench p50 us':>13} {'bare p50 us':>12} {'ratio':>6}")
    for name, path in paths.items():
        for runtime in (spec.name for spec in runtimes_for(path) if spec.missing() is None):
            command = [
                sys.executable,
                __file__,
                str(args.artifacts),
                "--one",
                str(path),
                "--runtime",
                runtime,
                "--rounds",
                str(args.rounds),
                "--calls",
                str(args.calls),
            ]
            done = subprocess.run(command, capture_output=True, text=True, env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"})
            if done.returncode != 0:  # a file this runtime refuses: the bench shows it as a failed row too
                print(f"{name:20} {runtime:12} cannot run it: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
                continue
            row = json.loads(done.stdout.strip().splitlines()[-1]) | {"runtime": runtime}
            rows[f"{name}/{runtime}"] = row
            print(f"{name:20} {runtime:12} {row['bench_p50_us']:13.1f} {row['bare_p50_us']:12.1f} {row['ratio']:6.3f}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
