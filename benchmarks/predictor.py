"""What embedding costs an app: the figures of the predictor, measured, not asserted in unit tests.

    python benchmarks/predictor.py artifacts/export/onnx-int8.onnx [--json OUT.json]

- import + load: `from sketch_edge.runtime import Predictor; Predictor(path)` in fresh processes
  (interpreter start-up excluded, reported apart);
- predict overhead: p50 of `predictor.predict(uint8 28x28)` over p50 of a bare `session.run` on the
  same array already shaped as float32, interleaved rounds, best round of each;
- resident memory of an app process holding one predictor after 2,000 mixed predictions (VmRSS, VmHWM).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort

from sketch_edge.bench.timing import time_calls
from sketch_edge.runtime import Predictor

COLD_START = """
import json, time
started = time.perf_counter()
from sketch_edge.runtime import Predictor
imported = time.perf_counter()
predictor = Predictor({path!r})
loaded = time.perf_counter()
print(json.dumps({{"import_s": imported - started, "load_s": loaded - imported}}))
"""

RESIDENT = """
import json
import numpy as np
from sketch_edge.runtime import Predictor
predictor = Predictor({path!r})
rng = np.random.default_rng(0)
square = [[[0, 255, 255, 0, 0], [0, 0, 255, 255, 0]]]
for i in range(1000):
    predictor.predict(rng.integers(0, 256, size=(28, 28), dtype=np.uint8))
    predictor.predict(square)
status = dict(line.split(":", 1) for line in open("/proc/self/status"))
print(json.dumps({{key: int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM")}}))
"""


def cold_start(path: Path, runs: int) -> dict[str, float]:
    samples, walls = [], []
    for _ in range(runs):
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", COLD_START.format(path=str(path))], capture_output=True, text=True, check=True)
        walls.append(time.perf_counter() - started)
        samples.append(json.loads(done.stdout))
    total = [s["import_s"] + s["load_s"] for s in samples]
    return {
        "import_s_median": statistics.median(s["import_s"] for s in samples),
        "load_s_median": statistics.median(s["load_s"] for s in samples),
        "import_and_load_s_median": statistics.median(total),
        "import_and_load_s_max": max(total),
        "process_wall_s_median": statistics.median(walls),
        "runs": runs,
    }


def bare_session(path: Path) -> ort.InferenceSession:
    """The session an app would make itself: one thread, all graph optimizations."""
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def overheads(path: Path, rounds: int, calls: int) -> dict[str, float]:
    x = np.random.default_rng(1).integers(0, 256, size=(28, 28), dtype=np.uint8)
    feed_array = x.astype(np.float32).reshape(1, 28, 28, 1)
    session = bare_session(path)
    feed = {session.get_inputs()[0].name: feed_array}
    predictor = Predictor(path, threads=1)

    def timed(call) -> float:
        return float(np.median(time_calls(call, min_calls=calls, min_seconds=0, warmup_calls=100, warmup_seconds=0)))

    bare, predict = [], []
    for _ in range(rounds):  # interleaved, so a noisy neighbour hits both alike
        bare.append(timed(lambda: session.run(None, feed)))
        predict.append(timed(lambda: predictor.predict(x)))
    return {
        "session_run_p50_us": min(bare),
        "predict_p50_us": min(predict),
        "predict_over_session_run": min(predict) / min(bare),
        "rounds": rounds,
        "calls_per_round": calls,
    }


def resident(path: Path) -> dict[str, float]:
    done = subprocess.run([sys.executable, "-c", RESIDENT.format(path=str(path))], capture_output=True, text=True, check=True)
    rss = json.loads(done.stdout)
    return {"rss_mb": rss["VmRSS"], "peak_rss_mb": rss["VmHWM"]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", type=Path, nargs="?", default=Path("artifacts/export/onnx-int8.onnx"))
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--cold-runs", type=int, default=7)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args()
    if not args.model.is_file():
        parser.error(f"{args.model}: no such model (run `make export` first)")
    figures = {
        "model": str(args.model),
        "bytes": args.model.stat().st_size,
        "onnxruntime": ort.__version__,
        **cold_start(args.model, args.cold_runs),
        **overheads(args.model, args.rounds, args.calls),
        **resident(args.model),
    }
    for key, value in figures.items():
        print(f"{key:32} {value:.4g}" if isinstance(value, float) else f"{key:32} {value}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
