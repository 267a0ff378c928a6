"""What embedding costs an app: the predictor's time over the runtime's bare call, for every file and runtime it runs.

    python benchmarks/predictor.py [--artifacts artifacts] [FILE ...] [--json OUT.json]

Without FILEs, every file of the artifacts' manifest that the predictor runs (.tflite, .onnx, .ort), in each
predictor runtime that reads it (LiteRT, ONNX Runtime, OpenVINO). For each:

- bare: p50 of the runtime's own API on an input already in the tensor's type and shape, written here as an app
  author would (`set_tensor`/`invoke`/`get_tensor`; `session.run`; a copy into the request's input tensor, `infer`,
  a copy of its output), on a session
  made with the adapter's settings (threads, optimization level), so the ratio is the predictor's cost alone;
- predict: p50 of `Predictor(path, threads=1, runtime=...).predict(bitmap)` on a uint8 28x28 bitmap, what an app
  holds, with its default top 3 (labels and probabilities);
- ratio: predict over bare, from interleaved rounds (a busy neighbour hits both alike), the best round of each.

Optionally (`--app`), per file: import + load in fresh processes, and the resident memory of an app process.
Run it on a quiet machine: nothing else timed at the same time.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.bench.machine import environment
from sketch_edge.bench.timing import time_calls
from sketch_edge.errors import ModelError
from sketch_edge.layout import Layout
from sketch_edge.manifest import Manifest, resolve
from sketch_edge.runtime import RUNTIMES, Predictor
from sketch_edge.runtime.base import to_tensor
from sketch_edge.runtime.predictor import SUFFIXES
from sketch_edge.runtime.registry import open_runner

COLD_START = """
import json, time
started = time.perf_counter()
from sketch_edge.runtime import Predictor
imported = time.perf_counter()
predictor = Predictor({path!r}, runtime={runtime!r})
loaded = time.perf_counter()
print(json.dumps({{"import_s": imported - started, "load_s": loaded - imported}}))
"""

RESIDENT = """
import json
import numpy as np
from sketch_edge.runtime import Predictor
predictor = Predictor({path!r}, runtime={runtime!r})
rng = np.random.default_rng(0)
square = [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]
for i in range(1000):
    predictor.predict(rng.integers(0, 256, size=(28, 28), dtype=np.uint8))
    predictor.predict(square)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({{key: int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}}))
"""


def bare_litert(path: Path, tensor: np.ndarray) -> Callable[[], Any]:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path), num_threads=1)
    interpreter.allocate_tensors()
    source, sink = interpreter.get_input_details()[0]["index"], interpreter.get_output_details()[0]["index"]

    def call() -> Any:
        interpreter.set_tensor(source, tensor)
        interpreter.invoke()
        return interpreter.get_tensor(sink)

    return call


def bare_onnxruntime(path: Path, tensor: np.ndarray) -> Callable[[], Any]:
    import onnxruntime as ort

    from sketch_edge.runtime.onnxruntime import session_options

    session = ort.InferenceSession(str(path), session_options(1), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: tensor}
    return lambda: session.run(None, feed)


def bare_openvino(path: Path, tensor: np.ndarray) -> Callable[[], Any]:
    from sketch_edge.runtime.openvino import compile_model, read_model

    request = compile_model(read_model(path), 1).create_infer_request()
    source = request.get_input_tensor(0)
    source.shape = list(tensor.shape)
    memory = source.data  # the request's own input: infer([x]) costs ~50 us more at batch 1 (runtime/openvino.py)

    def call() -> Any:
        memory[...] = tensor
        request.infer()
        return request.get_output_tensor(0).data.copy()

    return call


BARE = {"litert": bare_litert, "onnxruntime": bare_onnxruntime, "openvino": bare_openvino}
"""Each predictor runtime's bare call, as an app would write it (a new predictor runtime needs one here)."""


def overheads(path: Path, runtime: str, rounds: int, calls: int) -> dict[str, Any]:
    bitmap = np.random.default_rng(1).integers(0, 256, size=(28, 28), dtype=np.uint8)
    predictor = Predictor(path, threads=1, runtime=runtime)
    runner = open_runner(path, 1, runtime)  # only to read the input tensor's type, scale and shape
    tensor = np.ascontiguousarray(to_tensor(bitmap.astype(np.float32).reshape(1, 28, 28, 1), runner.input_spec))
    runner.close()
    bare = BARE[runtime](path, tensor)

    def timed(call: Callable[[], Any]) -> float:
        return float(np.median(time_calls(call, min_calls=calls, min_seconds=0, warmup_calls=100, warmup_seconds=0)))

    bare_p50, predict_p50 = [], []
    for _ in range(rounds):
        bare_p50.append(timed(bare))
        predict_p50.append(timed(lambda: predictor.predict(bitmap)))
    predictor.close()
    return {"bare_p50_us": min(bare_p50), "predict_p50_us": min(predict_p50), "ratio": min(predict_p50) / min(bare_p50)}


def app_figures(path: Path, runtime: str, runs: int) -> dict[str, float]:
    loads = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", COLD_START.format(path=str(path), runtime=runtime)], capture_output=True, text=True, check=True
        )
        loads.append(json.loads(done.stdout))
    done = subprocess.run(
        [sys.executable, "-c", RESIDENT.format(path=str(path), runtime=runtime)], capture_output=True, text=True, check=True
    )
    rss = json.loads(done.stdout)
    return {
        "import_s_median": statistics.median(s["import_s"] for s in loads),
        "load_s_median": statistics.median(s["load_s"] for s in loads),
        "rss_mb": rss["VmRSS"],
        "peak_rss_mb": rss["VmHWM"],
    }


def files_of(artifacts: Path) -> list[Path]:
    layout = Layout(artifacts)
    manifest = Manifest.load(layout.manifest)
    files = [resolve(layout.export, a) for a in manifest.artifacts if a.status == "ok" and a.path]
    return [f for f in files if f.suffix in SUFFIXES]


def pairs(files: list[Path]) -> list[tuple[Path, str]]:
    """Each file with every installed predictor runtime that reads it."""
    return [
        (path, name)
        for path in files
        for name, spec in RUNTIMES.items()
        if name in BARE and path.suffix in spec.suffixes and spec.missing() is None
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", type=Path, nargs="*", help="model files (default: every file of --artifacts)")
    parser.add_argument("--artifacts", type=Path, default=Path("artifacts"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--app", type=int, default=0, metavar="RUNS", help="also import+load (RUNS fresh processes) and RSS")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    files = args.files or files_of(args.artifacts)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        parser.error(f"{', '.join(missing)}: no such model file (run `make export` first)")
    rows = []
    print(f"{'file':34} {'runtime':12} {'bare us':>9} {'predict us':>11} {'ratio':>6}")
    for path, runtime in pairs(files):
        try:
            figures = {"file": path.name, "runtime": runtime, **overheads(path, runtime, args.rounds, args.calls)}
        except ModelError as exc:  # a file this runtime does not load (the bench says so too): not the predictor's cost
            print(f"{path.name:34} {runtime:12} not loaded: {exc}")
            continue
        if args.app:
            figures |= app_figures(path, runtime, args.app)
        rows.append(figures)
        print(f"{path.name:34} {runtime:12} {figures['bare_p50_us']:9.1f} {figures['predict_p50_us']:11.1f} {figures['ratio']:6.3f}")
    worst = max(rows, key=lambda r: r["ratio"]) if rows else None
    if worst:
        print(f"worst: {worst['file']} on {worst['runtime']}, {worst['ratio']:.3f}x")
    if args.json:
        machine = environment(("numpy", "ai-edge-litert", "onnxruntime", "openvino")).to_json()
        args.json.write_text(json.dumps({"machine": machine, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
