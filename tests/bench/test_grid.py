"""Which (threads, batch) cells a bench runs: the default pair, --full, or what was asked."""

from pathlib import Path

from sketch_edge.bench.plan import BenchConfig
from sketch_edge.isolation import cpu_count


def test_default_grid_is_batch_1_on_one_thread_and_batch_64_on_all_cores():
    assert BenchConfig(Path("a")).grid() == [(1, 1), (cpu_count(), 64)]


def test_full_grid_and_asked_cells_are_every_combination():
    cores = cpu_count()
    full = sorted({(t, b) for t in {1, cores} for b in (1, 64)})
    assert sorted(BenchConfig(Path("a"), full=True).grid()) == full
    assert BenchConfig(Path("a"), threads=(1,)).grid() == [(1, 1), (1, 64)]
    assert BenchConfig(Path("a"), threads=(1,), batches=(8,)).grid() == [(1, 8)]


def test_peaks_in_doubt_are_timed_again_and_a_peak_still_beaten_names_its_cells():
    from sketch_edge.bench.derive import mark_beaten, peaks_to_remeasure
    from sketch_edge.bench.results import KernelTiming, Peak, Row

    measured = [
        KernelTiming("ORT int8", "onnxruntime", 2, noisy=False),
        KernelTiming("LiteRT fp32", "litert", 1, noisy=True),
    ]
    rows = [
        Row("a", "onnx", "int8", "int8", "openvino", "a/openvino/t2/b64", threads=2, peak_kernel="ORT int8", peak_fraction=1.01),
        Row("b", "tflite", "fp32", "fp32", "litert", "b/litert/t1/b1", threads=1, peak_kernel="LiteRT fp32", peak_fraction=0.5),
    ]
    assert peaks_to_remeasure(rows, measured) == {("onnxruntime", 2), ("litert", 1)}  # beaten, and timed on a busy machine
    assert peaks_to_remeasure(rows[1:], measured[:1]) == set()
    peaks = {"2": {"int8": Peak(400.0, "ORT int8")}, "1": {"fp32": Peak(100.0, "LiteRT fp32")}}
    peaks = mark_beaten(rows, peaks)
    assert peaks["2"]["int8"].beaten_by == ("a/openvino/t2/b64",) and peaks["1"]["fp32"].beaten_by == ()


def test_amx_twins_are_the_batch_1_one_thread_cells_of_every_runtime_but_the_reference(tmp_path):
    from sketch_edge.bench.plan import AMX_DENIED_KEY, Cell, amx_twins, row_of

    def cell(recipe: str, runtime: str, threads: int, batch: int) -> Cell:
        fields = {"format": "tflite", "precision": "int8", "compute": "int8", "path": tmp_path / "f", "bytes": 1}
        return Cell(recipe=recipe, runtime=runtime, threads=threads, batch=batch, **fields)

    cells = [cell("tflite-int8", "litert", 1, 1), cell("tflite-int8", "litert", 2, 64), cell("keras", "keras", 1, 1)]
    cells.append(cell("onnx-int8", "onnxruntime", 1, 1))
    twins = amx_twins(cells)
    assert [(t.recipe, t.runtime) for t in twins] == [("tflite-int8", "litert"), ("onnx-int8", "onnxruntime")]
    assert all(t.deny_amx and t.key.endswith(AMX_DENIED_KEY) for t in twins)
    assert {t.key for t in twins}.isdisjoint(c.key for c in cells)  # a twin is a cell of its own in every table
    row = row_of(twins[0])
    assert row.amx_denied and row.shown_runtime == "litert no-AMX" and row.key == twins[0].key
