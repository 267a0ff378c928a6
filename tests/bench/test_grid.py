"""Which (threads, batch) cells a bench runs: the default pair, --full, or what was asked."""

from pathlib import Path

from sketch_edge.bench.stage import BenchConfig
from sketch_edge.isolation import cpu_count


def test_default_grid_is_batch_1_on_one_thread_and_batch_64_on_all_cores():
    assert BenchConfig(Path("a")).grid() == [(1, 1), (cpu_count(), 64)]


def test_full_grid_and_asked_cells_are_every_combination():
    cores = cpu_count()
    full = sorted({(t, b) for t in {1, cores} for b in (1, 64)})
    assert sorted(BenchConfig(Path("a"), full=True).grid()) == full
    assert BenchConfig(Path("a"), threads=(1,)).grid() == [(1, 1), (1, 64)]
    assert BenchConfig(Path("a"), threads=(1,), batches=(8,)).grid() == [(1, 8)]
