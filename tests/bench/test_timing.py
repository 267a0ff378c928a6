import time

import numpy as np
import pytest

from sketch_edge.bench.timing import summarize, time_calls


def test_loop_runs_until_enough_calls_and_seconds():
    calls = []
    lat = time_calls(lambda: calls.append(1), min_calls=30, min_seconds=0.05, warmup_calls=7, warmup_seconds=0)
    assert len(lat) >= 30 and lat.sum() >= 0.05 * 1e6 * 0.9 and len(calls) == len(lat) + 7


def test_latencies_measure_the_call():
    lat = time_calls(lambda: time.sleep(0.002), min_calls=20, min_seconds=0, warmup_calls=1, warmup_seconds=0)
    assert 1900 <= np.median(lat) <= 5000


def test_summary():
    s = summarize(np.arange(1, 101, dtype=float))
    assert s.min == 1 and s.p50 == pytest.approx(50.5) and s.p99 == pytest.approx(99.01) and s.calls == 100


def test_the_median_interval_holds_the_median_about_95_times_in_100():
    from sketch_edge.bench.timing import median_interval

    rng = np.random.default_rng(3)
    true_median = np.exp(0.0)  # of a lognormal(0, 0.5): long-tailed, as latencies are
    held = []
    for _ in range(1000):
        low, high = median_interval(rng.lognormal(0.0, 0.5, 301))
        held.append(low <= true_median <= high)
    assert 0.93 < np.mean(held) < 0.98
    low, high = median_interval(np.array([5.0]))
    assert low == high == 5.0
