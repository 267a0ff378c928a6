"""`sketch-edge compare`: several models' bench results on one table and one plot, only on the same test drawings."""

from __future__ import annotations

import json

import pytest

from sketch_edge.bench.compare import compare
from sketch_edge.errors import BenchError
from tests.helpers import bench_results


def _row(recipe, runtime, p50, top1, status="ok", threads=1, batch=1):
    return {
        "recipe": recipe,
        "runtime": runtime,
        "compute": "int8" if "int8" in recipe else "fp32",
        "threads": threads,
        "batch": batch,
        "status": status,
        "bytes": 50_000,
        "top1": top1,
        "latency_us": {"p50": p50},
        "peak_fraction": 0.2,
        "peak_rss_mb": 60.0,
        "pareto": False,
    }


def _benched(tmp_path, name, kind, rows, drawings="same"):
    folder = tmp_path / name
    (folder / "bench").mkdir(parents=True)
    results = bench_results(rows, test_samples=170, model=name, input_kind=kind, test_drawings=drawings)
    (folder / "bench" / "results.json").write_text(json.dumps(results))
    return folder


def test_one_table_and_one_front_across_models(tmp_path):
    cnn = _benched(
        tmp_path,
        "cnn-bn",
        "bitmap",
        [
            _row("tflite-int8", "litert", 40, 0.90),
            _row("onnx-fp32", "onnxruntime", 120, 0.91),
            _row("tflite-int8", "litert", 30, 0.90, threads=2),
        ],
    )
    seq = _benched(
        tmp_path,
        "seq-conv",
        "strokes",
        [
            _row("tflite-int8", "litert", 35, 0.93),
            _row("onnx-int8", "onnxruntime", 80, 0.92),
            _row("onnx-fp32", "onnxruntime", 200, 0.94),
            _row("tflite-fp32", "litert", 20, 0.5, status="low-accuracy"),
            _row("x", "litert", None, None, status="failed"),
        ],
    )
    summary = compare([cnn, seq], tmp_path / "out")
    rows = {(r["model"], r["recipe"]): r for r in summary["rows"]}
    assert len(rows) == 6  # the 2-thread cell and the failed one are left out; the low-accuracy one is shown, never on the front
    front = {key for key, r in rows.items() if r["pareto"]}
    assert front == {("seq-conv", "tflite-int8"), ("seq-conv", "onnx-fp32")}  # seq-conv int8 beats cnn-bn's on both counts
    assert rows[("cnn-bn", "tflite-int8")]["input_kind"] == "bitmap" and rows[("seq-conv", "onnx-int8")]["input_kind"] == "strokes"
    md = (tmp_path / "out" / "compare.md").read_text()
    assert "| seq-conv | strokes | tflite-int8 | litert |" in md and "flags avx2" in md and "170 test drawings" in md
    assert (tmp_path / "out" / "compare.png").read_bytes()[:4] == b"\x89PNG"
    assert json.loads((tmp_path / "out" / "compare.json").read_text()) == summary


def test_other_test_drawings_are_refused(tmp_path):
    a = _benched(tmp_path, "cnn-bn", "bitmap", [_row("onnx-fp32", "onnxruntime", 100, 0.9)])
    b = _benched(tmp_path, "seq-conv", "strokes", [_row("onnx-fp32", "onnxruntime", 100, 0.9)], drawings="other")
    with pytest.raises(BenchError, match="seq-conv was tested on other drawings than cnn-bn"):
        compare([a, b], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_bad_requests(tmp_path):
    a = _benched(tmp_path, "cnn-bn", "bitmap", [_row("onnx-fp32", "onnxruntime", 100, 0.9)])
    with pytest.raises(BenchError, match="at least two"):
        compare([a], tmp_path / "out")
    with pytest.raises(BenchError, match="no bench results here"):
        compare([a, tmp_path / "absent"], tmp_path / "out")
    (tmp_path / "old" / "bench").mkdir(parents=True)
    (tmp_path / "old" / "bench" / "results.json").write_text(json.dumps({"source": {"model": "x"}}))
    with pytest.raises(BenchError, match="not a results.json of this version"):
        compare([a, tmp_path / "old"], tmp_path / "out")
    with pytest.raises(BenchError, match="no cell at 4 thread"):
        compare([a, a], tmp_path / "out", threads=4)
