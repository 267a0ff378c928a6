"""bench.answer: the file to ship per target is the fastest of those as accurate as the best, by the export's paired
test; its neighbours in accuracy and latency are named; each target takes only the cells that stand for it."""

import numpy as np

from sketch_edge.bench import answer
from sketch_edge.bench.results import Latency, Row
from sketch_edge.export.recipes import CLIENTS, RECIPES

Y = np.arange(400) % 4  # 400 drawings of 4 classes


def _answers(wrong: int, offset: int = 0) -> np.ndarray:
    """Answers to Y that are wrong on `wrong` drawings, starting at `offset`."""
    got = Y.copy()
    got[offset : offset + wrong] = (got[offset : offset + wrong] + 1) % 4
    return got


def _row(recipe: str, runtime: str, p50: float, *, spread: float = 1.0, threads: int = 1, batch: int = 1, e2e: float | None = None) -> Row:
    def latency(p: float) -> Latency:
        return Latency(p50=p, p90=p, p99=p, mean=p, std=0.0, min=p, calls=100, p50_low=p - spread, p50_high=p + spread)

    spec = RECIPES[recipe]
    return Row(
        recipe,
        spec.format,
        spec.precision,
        spec.compute,
        runtime,
        key=f"{recipe}/{runtime}/t{threads}/b{batch}",
        threads=threads,
        batch=batch,
        top1=0.9,
        latency_us=latency(p50),
        e2e_latency_us=None if e2e is None else latency(e2e),
        throughput_per_s=batch / p50 * 1e6,
    )


def _cpu(rows, predicted):
    target = next(t for t in answer.TARGETS if t.name == "cpu-latency")
    return answer.answer(target, rows, predicted, Y)


def test_the_fastest_file_within_noise_of_the_most_accurate_is_shipped():
    rows = [_row("tflite-fp32", "litert", 100.0), _row("tflite-int8", "litert", 50.0), _row("onnx-int8", "onnxruntime", 40.0)]
    predicted = {
        rows[0].key: _answers(10),  # the most accurate
        rows[1].key: _answers(13, offset=5),  # 3 more wrong: chance
        rows[2].key: _answers(60),  # 50 more wrong: a real drop, though fastest
    }
    shipped = _cpu(rows, predicted)
    assert shipped.cell == rows[1].key and shipped.us == 50.0
    assert shipped.same_accuracy == (rows[0].key,)
    assert shipped.top1 == (400 - 13) / 400
    low, high = shipped.top1_interval
    assert low < shipped.top1 < high and high - low < 0.1
    assert shipped.candidates == 3


def test_cells_whose_intervals_overlap_are_named_as_fast():
    rows = [_row("tflite-int8", "litert", 50.0, spread=2.0), _row("onnx-int8", "onnxruntime", 53.0, spread=2.0)]
    rows.append(_row("tflite-fp32", "litert", 58.0, spread=2.0))
    predicted = {r.key: _answers(10) for r in rows}
    shipped = _cpu(rows, predicted)
    assert shipped.cell == rows[0].key
    assert shipped.same_latency == (rows[1].key,)
    assert set(shipped.same_accuracy) == {rows[1].key, rows[2].key}


def test_each_target_takes_only_the_cells_that_stand_for_it():
    rows = [
        _row("tflite-int8", "litert", 30.0),
        _row("tflite-mobile-int8", "litert", 60.0),
        _row("tflite-mobile-int8", "openvino", 20.0),  # MediaPipe runs LiteRT, not OpenVINO
        _row("onnx-int8", "onnxruntime", 40.0, e2e=45.0),
        _row("tflite-dynamic", "litert", 35.0, e2e=80.0),
        _row("onnx-fp32", "onnxruntime", 10.0, threads=2, batch=64),
    ]
    predicted = {r.key: _answers(10) for r in rows}
    shipped = {a.target: a for a in answer.answers_for(rows, {k: np.eye(4)[v] for k, v in predicted.items()}, Y)}
    assert shipped["cpu-latency"].cell == "tflite-mobile-int8/openvino/t1/b1"  # any file, any runtime
    assert shipped["cpu-throughput"].cell == "onnx-fp32/onnxruntime/t2/b64"
    assert shipped["mediapipe"].cell == "tflite-mobile-int8/litert/t1/b1"
    assert shipped["browser"].recipe == "onnx-int8"  # the page serves ONNX files
    assert shipped["python-app"].recipe == "onnx-int8" and shipped["python-app"].us == 45.0  # the predictor's path
    assert shipped["onnxruntime-mobile"].cell is None and shipped["onnxruntime-mobile"].note


def test_failed_and_low_accuracy_cells_are_never_shipped():
    from dataclasses import replace

    rows = [_row("tflite-int8", "litert", 30.0), _row("tflite-fp32", "litert", 90.0)]
    rows[0] = replace(rows[0], status="low-accuracy")
    predicted = {r.key: _answers(10) for r in rows}
    assert _cpu(rows, predicted).cell == rows[1].key


def test_every_mobile_client_is_a_target_and_names_a_runtime_that_exists():
    from sketch_edge.runtime import RUNTIMES

    names = [t.name for t in answer.TARGETS]
    assert len(names) == len(set(names)) and set(CLIENTS) <= set(names) and answer.BROWSER in names
    assert all(c.runs_here in RUNTIMES for c in CLIENTS.values())


def test_the_contenders_are_the_answers_and_the_as_accurate_cells_close_behind():
    rows = [
        _row("tflite-int8", "litert", 50.0),
        _row("onnx-int8", "onnxruntime", 55.0),  # 10% behind: could be as fast across processes
        _row("tflite-fp32", "litert", 150.0),  # far behind
        _row("tflite-dynamic", "litert", 45.0),  # faster, but less accurate beyond chance
    ]
    wrong = {rows[0].key: 10, rows[1].key: 10, rows[2].key: 10, rows[3].key: 60}
    probs = {key: np.eye(4)[_answers(n)] for key, n in wrong.items()}
    close = answer.contenders(rows, probs, Y)
    assert rows[0].key in close and rows[1].key in close
    assert rows[2].key not in close and rows[3].key not in close
