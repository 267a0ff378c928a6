"""One bench cell in a fresh process: load the artifact in one runtime, predict the test split, time it.

Run as `python -m sketch_edge.bench.worker JOB.json`. The process is new for
each cell, so its load time, first call and memory are the runtime's own, and a
crash or hang is that cell's failure alone. The timed call is the runtime's own
(`Runner.run` on an input prepared beforehand, as a bare loop of its API would
be); the adapter's whole path (`predict`: cast, quantize, run, dequantize) is
timed apart as the end-to-end figure.
"""

from __future__ import annotations

import json
import resource
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sketch_edge import amx
from sketch_edge.bench import noise
from sketch_edge.bench.profile import profile
from sketch_edge.bench.results import Latency
from sketch_edge.bench.timing import summarize, time_calls
from sketch_edge.isolation import Job, pin_to_core, serve
from sketch_edge.records import Count, Figure, Record
from sketch_edge.runtime import open_runner, runtime_for
from sketch_edge.runtime.base import predict_all

ACCURACY_BATCH = 64
PROFILE_CALLS = 200


@dataclass(frozen=True)
class CellJob(Job):
    """One cell as the bench stage asks for it; the paths are the stage's scratch files."""

    WORKER = "sketch_edge.bench.worker"

    path: str  # the artifact
    runtime: str
    threads: Count
    batch: Count
    arrays: str  # test.npz: the drawings to predict and to time on
    result: str  # CellMeasurement as JSON
    probs: str  # .npy of the test split's probabilities (not written with `timing_only`)
    latencies: str  # .npy of every timed call, in microseconds
    min_calls: Count
    min_seconds: Figure
    warmup_calls: Count
    warmup_seconds: Figure
    timing_only: bool = False  # a --repeat round after the first: timing alone
    pin_core: Count | None = None
    profile: str | None = None  # where to write the per-op profile, for runtimes with a profiler
    deny_amx: bool = False  # deny this process AMX before the runtime loads (sketch_edge.amx)


@dataclass(frozen=True)
class CellMeasurement(Record):
    """What one cell's process measured: the bench row's cost columns."""

    latency_us: Latency
    load_ms: Figure
    first_call_ms: Figure
    peak_rss_mb: Figure
    rss_growth_mb: float
    other_cpu: Figure | None = None
    e2e_latency_us: Latency | None = None  # not timed with `timing_only`


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


def work(job: CellJob) -> CellMeasurement:
    pin_to_core(job.pin_core)
    if job.deny_amx:
        amx.deny()  # before the runtime is imported: its kernels ask for AMX once, when they start
    path = Path(job.path)
    spec = runtime_for(path, job.runtime)
    # The runtime's import and the test arrays are the baseline memory growth is measured from: not the model's cost.
    spec.adapter_class()
    if spec.needs_tensorflow:
        import keras  # noqa: F401  (the Keras adapter imports it lazily)
    test = np.load(job.arrays)["test"]
    batch = test[np.arange(job.batch) % len(test)]  # a batch larger than the drawings repeats them: still that batch's cost
    rss_baseline = _rss_mb()

    started = time.perf_counter()
    runner = open_runner(path, threads=job.threads, runtime=spec.name)
    load_ms = (time.perf_counter() - started) * 1000
    started = time.perf_counter()
    runner.predict(batch)
    first_call_ms = (time.perf_counter() - started) * 1000

    end_to_end = None
    if not job.timing_only:
        probs = predict_all(runner, test, ACCURACY_BATCH)
        np.save(job.probs, probs)
        # The runtime is warm by now: a shorter loop gives the adapter's end-to-end figure.
        end_to_end = time_calls(
            lambda: runner.predict(batch),
            min_calls=max(1, job.min_calls // 2),
            min_seconds=job.min_seconds / 2,
            warmup_calls=10,
            warmup_seconds=0.1,
        )
    prepared = runner.prepare(batch)
    before = noise.sample()
    latencies = time_calls(
        lambda: runner.run(prepared),
        min_calls=job.min_calls,
        min_seconds=job.min_seconds,
        warmup_calls=job.warmup_calls,
        warmup_seconds=job.warmup_seconds,
    )
    other_cpu = noise.other_cpu(before, noise.sample())
    runner.close()
    np.save(job.latencies, latencies)
    peak_rss_mb = _peak_rss_mb()
    if job.profile and spec.profiler:
        ops = profile(spec, path, job.threads, batch, PROFILE_CALLS, Path(job.profile).parent)
        Path(job.profile).write_text(json.dumps(ops))
    return CellMeasurement(
        latency_us=summarize(latencies),
        load_ms=load_ms,
        first_call_ms=first_call_ms,
        peak_rss_mb=peak_rss_mb,
        rss_growth_mb=peak_rss_mb - rss_baseline,
        other_cpu=other_cpu,
        e2e_latency_us=None if end_to_end is None else summarize(end_to_end),
    )


def main() -> None:
    serve(CellJob, work, lambda job: Path(job.result))


if __name__ == "__main__":
    main()
