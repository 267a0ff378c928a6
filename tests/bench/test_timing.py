import time

import numpy as np
import pytest

from sketch_edge.bench.timing import summarize, time_calls
from sketch_edge.runtime import open_runner
from tests.runtime.test_runtime import linear_softmax_onnx


def test_loop_runs_until_enough_calls_and_seconds():
    calls = []
    lat = time_calls(lambda: calls.append(1), min_calls=30, min_seconds=0.05, warmup_calls=7, warmup_seconds=0)
    assert len(lat) >= 30 and lat.sum() >= 0.05 * 1e6 * 0.9 and len(calls) == len(lat) + 7


def test_latencies_measure_the_call():
    lat = time_calls(lambda: time.sleep(0.002), min_calls=20, min_seconds=0, warmup_calls=1, warmup_seconds=0)
    assert 1900 <= np.median(lat) <= 5000


def test_summary():
    s = summarize(np.arange(1, 101, dtype=float))
    assert s["min"] == 1 and s["p50"] == pytest.approx(50.5) and s["p99"] == pytest.approx(99.01) and s["calls"] == 100


def test_harness_measures_the_runtime_not_itself(tmp_path):
    """The bench's p50 of a cell is within 10% of a bare loop of session.run() calls on the same input."""
    weights = np.random.default_rng(0).normal(0, 0.01, size=(784, 1500)).astype(np.float32)
    runner = open_runner(linear_softmax_onnx(tmp_path / "m.onnx", weights), threads=1)
    session, x = runner._session, np.random.default_rng(1).integers(0, 256, size=(1, 28, 28, 1)).astype(np.float32)
    feed = {"image": x}

    def bare_loop_us(n: int = 400) -> float:
        started = time.perf_counter_ns()
        for _ in range(n):
            session.run(None, feed)
        return (time.perf_counter_ns() - started) / n / 1000

    bench, bare = [], []
    for _ in range(5):  # interleaved rounds, so a noisy neighbour hits both alike
        bench.append(np.median(time_calls(lambda: runner.predict(x), min_calls=400, min_seconds=0, warmup_calls=20, warmup_seconds=0)))
        bare.append(bare_loop_us())
    ratio = min(bench) / min(bare)
    assert 0.9 <= ratio <= 1.1, f"bench p50 {min(bench):.1f} us vs bare loop {min(bare):.1f} us"
