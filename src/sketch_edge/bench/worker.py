"""One bench cell in a fresh process: load the artifact in one runtime, predict the test split, time it.

Run as `python -m sketch_edge.bench.worker JOB.json`. The process is new for
each cell, so its load time, first call and memory are the runtime's own, and a
crash or hang is that cell's failure alone.
"""

from __future__ import annotations

import importlib
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

from sketch_edge.bench.timing import summarize, time_calls
from sketch_edge.runtime import RUNTIMES, open_runner

ADAPTER_MODULES = {
    "litert": "sketch_edge.runtime.litert",
    "onnxruntime": "sketch_edge.runtime.onnxruntime",
    "keras": "sketch_edge.runtime.keras",
}
ACCURACY_BATCH = 64


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    """This process's own high-water mark. (getrusage's ru_maxrss survives exec, so it would report the parent's.)"""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def run_cell(job: dict) -> dict:
    path = Path(job["path"])
    runtime = RUNTIMES[path.suffix]
    # Importing the runtime is the baseline that memory growth is measured from, not part of the model's cost.
    importlib.import_module(ADAPTER_MODULES[runtime])
    if runtime == "keras":
        import keras  # noqa: F401  (the Keras adapter imports it lazily)
    rss_imported = _rss_mb()

    arrays = np.load(job["arrays"])
    test = arrays["test"]
    batch = test[: job["batch"]]
    started = time.perf_counter()
    runner = open_runner(path, threads=job["threads"])
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    runner.predict(batch)
    first_call_ms = (time.perf_counter() - started) * 1000

    probs = np.concatenate([runner.predict(test[i : i + ACCURACY_BATCH]) for i in range(0, len(test), ACCURACY_BATCH)])
    latencies = time_calls(
        lambda: runner.predict(batch),
        min_calls=job["min_calls"],
        min_seconds=job["min_seconds"],
        warmup_calls=job["warmup_calls"],
        warmup_seconds=job["warmup_seconds"],
    )
    runner.close()
    peak_rss_mb = _peak_rss_mb()
    np.save(job["probs"], probs)
    np.save(job["latencies"], latencies)
    return {
        "latency_us": summarize(latencies),
        "load_ms": load_ms,
        "first_call_ms": first_call_ms,
        "peak_rss_mb": peak_rss_mb,
        "rss_growth_mb": peak_rss_mb - rss_imported,
    }


def main() -> None:
    job = json.loads(Path(sys.argv[1]).read_text())
    Path(job["result"]).write_text(json.dumps(run_cell(job)))


if __name__ == "__main__":
    main()
