"""The timing loop: warm up, then time single calls with perf_counter_ns until enough calls and seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sketch_edge.bench.results import Latency


def time_calls(
    call: Callable[[], Any], *, min_calls: int, min_seconds: float, warmup_calls: int = 50, warmup_seconds: float = 1.0
) -> np.ndarray:
    """Per-call latencies in microseconds. The loop body is one call and one clock read, so it measures the call."""
    deadline = time.perf_counter() + warmup_seconds
    done = 0
    while done < warmup_calls or time.perf_counter() < deadline:
        call()
        done += 1
    stamps = [time.perf_counter_ns()]
    stop_ns = stamps[0] + int(min_seconds * 1e9)
    while len(stamps) <= min_calls or stamps[-1] < stop_ns:
        call()
        stamps.append(time.perf_counter_ns())
    return np.diff(np.asarray(stamps, dtype=np.int64)) / 1000.0


def summarize(latencies_us: np.ndarray) -> Latency:
    p50, p90, p99 = np.percentile(latencies_us, [50, 90, 99])
    mean, std, low = float(latencies_us.mean()), float(latencies_us.std()), float(latencies_us.min())
    return Latency(p50=float(p50), p90=float(p90), p99=float(p99), mean=mean, std=std, min=low, calls=len(latencies_us))
