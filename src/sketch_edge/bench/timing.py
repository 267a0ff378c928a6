"""The timing loop: warm up, then time single calls with perf_counter_ns until enough calls and seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from sketch_edge.bench.results import Latency
from sketch_edge.metrics import Z95


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
    p50_low, p50_high = median_interval(latencies_us)
    return Latency(
        p50=float(p50),
        p90=float(p90),
        p99=float(p99),
        mean=mean,
        std=std,
        min=low,
        calls=len(latencies_us),
        p50_low=p50_low,
        p50_high=p50_high,
    )


def median_interval(samples: np.ndarray, z: float = Z95) -> tuple[float, float]:
    """The distribution-free 95% interval of the median: the order statistics n/2 -+ z*sqrt(n)/2 (no assumption on
    the shape of a latency distribution, whose tail is long). It speaks of one process's calls only; a second process
    may sit elsewhere, which `--repeat` measures."""
    ordered = np.sort(samples)
    n = len(ordered)
    half = z * np.sqrt(n) / 2
    low, high = int(np.floor(n / 2 - half)), int(np.ceil(n / 2 + half))
    return float(ordered[max(0, low)]), float(ordered[min(n - 1, high)])
