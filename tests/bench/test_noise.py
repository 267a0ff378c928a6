"""bench.noise: the others' CPU time on a cell's cores, and the `noisy` flag it gives a real bench cell."""

import subprocess
import sys
import time
from contextlib import contextmanager

import pytest

from sketch_edge.bench import noise
from sketch_edge.bench.plan import BenchConfig
from sketch_edge.bench.stage import run
from sketch_edge.isolation import cpu_affinity
from tests.helpers import copy_artifacts

STAT = """cpu  900 0 300 5000 10 0 5 7 0 0
cpu0 100 0 50 2000 5 0 2 3 0 0
cpu1 800 2 250 3000 5 1 3 4 0 0
intr 12345
"""


def test_busy_time_is_summed_over_the_watched_cores_only(tmp_path):
    stat = tmp_path / "stat"
    stat.write_text(STAT)
    hz = noise.os.sysconf("SC_CLK_TCK")
    assert noise.cores_busy_s({0}, stat) == pytest.approx((100 + 50 + 2 + 3) / hz)  # user nice system irq softirq steal
    assert noise.cores_busy_s({1}, stat) == pytest.approx((800 + 2 + 250 + 1 + 3 + 4) / hz)
    assert noise.cores_busy_s({0, 1}, stat) == pytest.approx((155 + 1060) / hz)  # the "cpu" total line is not counted again
    assert noise.cores_busy_s({0}, tmp_path / "absent") is None


def test_other_cpu_is_the_busy_time_not_our_own_per_second_of_window():
    before = noise.CpuSample(wall_s=10.0, busy_s=100.0, own_s=5.0)
    assert noise.other_cpu(before, noise.CpuSample(12.0, 103.0, 6.0)) == pytest.approx(1.0)  # 3 s busy, 1 s ours, over 2 s
    assert noise.other_cpu(before, noise.CpuSample(12.0, 101.0, 6.0)) == 0.0  # tick rounding never gives less than nothing
    assert noise.other_cpu(None, before) is None and noise.other_cpu(before, before) is None
    assert noise.is_noisy(noise.NOISY_ABOVE + 0.01) and not noise.is_noisy(noise.NOISY_ABOVE) and noise.is_noisy(None) is None


@contextmanager
def busy_process(core: int):
    """A process spinning on `core` alone, for the length of the block."""
    code = f"import os\nos.sched_setaffinity(0, {{{core}}})\nwhile True:\n    pass\n"
    proc = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.3)  # running, and on its core
        yield
    finally:
        proc.kill()
        proc.wait()


def _others_on(core: int, seconds: float = 0.5) -> float:
    """What other processes use of `core` now, while this one sleeps."""
    before = noise.sample({core})
    time.sleep(seconds)
    return noise.other_cpu(before, noise.sample({core}))


def _pinned_cell(root):
    config = BenchConfig(
        artifacts=root, recipes=("onnx-fp32",), runtimes=("onnxruntime",), threads=(1,), batches=(1,), quick=True, pin=True, profile=False
    )
    results = run(config)[0].to_json()  # as results.json holds it
    (row,) = results["results"]
    return results, row


pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(noise.os, "sched_setaffinity") or noise.cores_busy_s({0}) is None, reason="needs Linux"),
]


def test_a_cell_timed_beside_a_busy_process_on_its_core_is_flagged(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "a")
    core = max(cpu_affinity())  # where --pin runs single-thread cells
    with busy_process(core):
        results, row = _pinned_cell(root)
    assert row["status"] == "ok" and row["other_cpu"] > 0.3 and row["noisy"] is True, row["other_cpu"]
    assert results["settings"]["pin_core"] == core
    assert all(m["noisy"] for m in results["peak_kernels"] if m["gops"] is not None and m["threads"] == 1)


def test_a_cell_on_a_quiet_core_is_not_flagged(exported, tmp_path):
    root = copy_artifacts(exported[0], tmp_path / "a")
    core = max(cpu_affinity())
    if _others_on(core) > noise.NOISY_ABOVE / 2:
        pytest.skip(f"core {core} is busy with another process now: no quiet core to test on")
    others = [c for c in cpu_affinity() if c != core]
    if others:  # a neighbour on another core is not on the cell's core
        with busy_process(others[0]):
            _, row = _pinned_cell(root)
    else:
        _, row = _pinned_cell(root)
    assert row["status"] == "ok" and row["noisy"] is False and 0 <= row["other_cpu"] <= noise.NOISY_ABOVE, row["other_cpu"]
