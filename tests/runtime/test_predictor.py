"""The TensorFlow-free Predictor: on a hand-built ONNX model (fast), and on the exported artifacts (slow)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from sketch_edge.data.drawing import parse_drawing
from sketch_edge.data.image import bitmap_from_image
from sketch_edge.data.raster import rasterize
from sketch_edge.errors import DataError, ModelError
from sketch_edge.runtime import Predictor
from tests.helpers import SQUARE, TRIANGLE, linear_softmax_onnx

pytest.importorskip("onnx")

LABELS = ["left", "right", "top"]
METADATA = {
    "labels": LABELS,
    "input": {"kind": "bitmap", "shape": [28, 28, 1], "scaling": "inside the model: x / 255"},
    "model": "linear",
    "recipe": "onnx-fp32",
}
RAW_ZIGZAG = [[[10.5, 200.25, 30.0, 310.0], [5.0, 40.5, 90.0, 120.0], [0, 10, 20, 30]]]
FORBIDDEN = ("tensorflow", "keras", "tf2onnx", "onnx", "tensorflow_datasets", "matplotlib")


def _weights() -> np.ndarray:
    """Ink in the left half, the right half, the top rows: a classifier whose answers are easy to predict."""
    w = np.zeros((28, 28, 3), dtype=np.float32)
    w[:, :14, 0] = w[:, 14:, 1] = w[:10, :, 2] = 0.002
    return w.reshape(784, 3)


@pytest.fixture(scope="module")
def model_path(tmp_path_factory) -> Path:
    return linear_softmax_onnx(tmp_path_factory.mktemp("linear") / "linear.onnx", _weights(), METADATA)


@pytest.fixture(scope="module")
def predictor(model_path) -> Predictor:
    with Predictor(model_path) as p:
        yield p


def _bitmap(region: str) -> np.ndarray:
    x = np.zeros((28, 28), dtype=np.uint8)
    {"left": x[12:20, 2:8], "right": x[12:20, 20:26], "top": x[0:4, 10:18]}[region][...] = 255
    return x


def test_one_array_gives_ranked_label_probability_pairs(predictor):
    top = predictor.predict(_bitmap("left"), top=3)
    assert [label for label, _ in top][0] == "left"
    assert sorted({label for label, _ in top}) == sorted(LABELS)
    probs = [p for _, p in top]
    assert probs == sorted(probs, reverse=True) and sum(probs) == pytest.approx(1.0, abs=1e-5)


def test_a_batch_gives_one_list_per_item_matching_single_calls(predictor):
    batch = np.stack([_bitmap("left"), _bitmap("right"), _bitmap("top")])
    results = predictor.predict(batch, top=1)
    assert [r[0][0] for r in results] == ["left", "right", "top"]
    assert results == [predictor.predict(b, top=1) for b in batch]


@pytest.mark.parametrize(
    "convert",
    [lambda b: b.astype(np.float32), lambda b: b.astype(np.float64)[..., None], lambda b: b.reshape(784), lambda b: b.astype(int)],
)
def test_array_forms_agree(predictor, convert):
    assert predictor.predict(convert(_bitmap("right"))) == predictor.predict(_bitmap("right"))


def test_drawings_are_rasterized_as_in_training(predictor):
    expected = predictor.probabilities(rasterize(TRIANGLE))
    for form in (TRIANGLE, {"word": "x", "drawing": TRIANGLE}, [tuple(map(tuple, s)) for s in TRIANGLE]):
        np.testing.assert_array_equal(predictor.probabilities(form), expected)
    raw, _ = parse_drawing(RAW_ZIGZAG, "raw")
    np.testing.assert_array_equal(predictor.probabilities(RAW_ZIGZAG), predictor.probabilities(rasterize(raw)))


def test_images_and_image_files(predictor, tmp_path):
    image = Image.fromarray(255 - np.kron(_bitmap("left"), np.ones((9, 9), np.uint8)))  # big, dark ink on white
    image.convert("RGB").save(tmp_path / "left.png")
    expected = predictor.probabilities(bitmap_from_image(image))
    np.testing.assert_array_equal(predictor.probabilities(image), expected)
    np.testing.assert_array_equal(predictor.probabilities(tmp_path / "left.png"), expected)
    np.testing.assert_array_equal(predictor.probabilities(str(tmp_path / "left.png")), expected)


def test_a_mixed_batch(predictor, tmp_path):
    results = predictor.predict([_bitmap("top"), SQUARE, {"drawing": TRIANGLE}], top=2)
    assert len(results) == 3 and all(len(r) == 2 for r in results)
    assert results[1] == predictor.predict(SQUARE, top=2)


def test_probabilities_sum_to_one(predictor):
    probs = predictor.probabilities(np.random.default_rng(0).integers(0, 256, size=(16, 28, 28), dtype=np.uint8))
    assert probs.shape == (16, 3) and probs.dtype == np.float32
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_top_is_capped_at_the_number_of_classes(predictor):
    assert len(predictor.predict(_bitmap("left"), top=10)) == 3
    with pytest.raises(ModelError, match="top: must be from 1"):
        predictor.predict(_bitmap("left"), top=0)


def test_labels_and_contract_come_from_the_metadata(predictor):
    assert predictor.labels == tuple(LABELS) and predictor.model_name == "linear"


def test_a_file_without_metadata_needs_labels(tmp_path):
    path = linear_softmax_onnx(tmp_path / "bare.onnx", _weights())
    with pytest.raises(ModelError, match="no sketch-edge metadata.*labels"):
        Predictor(path)
    assert Predictor(path, labels=["l", "r", "t"]).predict(_bitmap("right"), top=1)[0][0] == "r"
    (tmp_path / "labels.txt").write_text("l\nr\nt\n")
    assert Predictor(path, labels=tmp_path / "labels.txt").labels == ("l", "r", "t")
    with pytest.raises(ModelError, match="3 outputs but 2 labels"):
        Predictor(path, labels=["l", "r"])
    with pytest.raises(ModelError, match="cannot read the labels file"):
        Predictor(path, labels=tmp_path / "missing.txt")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("missing.onnx", None, "no such model file"),
        ("corrupt.onnx", b"\x08\x07garbage" * 10, "ONNX Runtime cannot load it"),
        ("corrupt.tflite", b"not a flatbuffer" * 10, "LiteRT cannot load it"),
        ("model.keras", b"", "runs .tflite, .onnx, .ort files"),
    ],
)
def test_bad_model_files(tmp_path, name, content, problem):
    if content is not None:
        (tmp_path / name).write_bytes(content)
    with pytest.raises(ModelError, match=problem) as info:
        Predictor(tmp_path / name)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("metadata", "problem"),
    [
        ({"labels": 5}, "'labels' should be a list of strings, not int"),
        ({"labels": None}, "'labels' should be a list of strings, not NoneType"),
        ({"labels": ["l", 2, "t"]}, "'labels' should be a list of strings"),
        ({"labels": LABELS, "input": "bitmap"}, "'input' should be an object, not str"),
    ],
)
def test_metadata_of_the_wrong_types_is_one_line(tmp_path, metadata, problem):
    path = linear_softmax_onnx(tmp_path / "m.onnx", _weights(), metadata)
    with pytest.raises(ModelError, match=problem):
        Predictor(path)


def test_a_model_with_another_input_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "strokes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 128, 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 128, 3])],
    )
    path = tmp_path / "strokes.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    with pytest.raises(ModelError, match=r"not the bitmap input \(28, 28, 1\)"):
        Predictor(path, labels=["a", "b", "c"])


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (np.zeros((27, 28), np.uint8), "got shape"),
        (np.zeros((2, 3, 28, 28), np.uint8), "got shape"),
        (np.zeros((28, 28), bool), "dtype bool"),
        (np.full((28, 28), np.nan, np.float32), "NaN or infinite"),
        (np.full((28, 28), np.inf), "NaN or infinite"),
        (np.full((28, 28), 256.0), "0-255"),
        (np.full((28, 28), -1), "0-255"),
        (np.zeros((0, 28, 28), np.uint8), "empty batch"),
        ([], "empty batch"),
        ([[[], []]], "zero length"),
        ({"word": "cat"}, "without a 'drawing'"),
        ({"drawing": "circle"}, "non-empty list of strokes"),
        ([[[0, 300], [0, 10]]], "0-255"),
        ([[[0, float("nan")], [0, 10]]], "NaN"),
        ({"drawing": [[[0, 1e308, -1e308], [0, 1e308, 1], [0, 1, 2]]]}, "beyond ±1e\\+09"),  # its extent overflows
        ("no/such/image.png", "no such image file"),
        (3.5, "got float"),
        ([np.zeros((2, 28, 28))], "batch inside a batch"),
    ],
)
def test_bad_inputs_raise_the_projects_value_error(predictor, bad, problem):
    with pytest.raises(DataError, match=problem) as info:
        predictor.predict(bad)
    assert isinstance(info.value, ValueError)


def test_undecodable_image_file(predictor, tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
    with pytest.raises(DataError, match="broken.png: cannot decode"):
        predictor.predict(tmp_path / "broken.png")


def test_one_predictor_serves_many_threads(predictor):
    inputs = np.random.default_rng(1).integers(0, 256, size=(64, 28, 28), dtype=np.uint8)
    expected = [predictor.predict(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(predictor.predict, inputs)) == expected


def _modules_loaded_by_prediction(path: Path) -> set[str]:
    """Top-level modules a fresh process holds after predicting an array, a drawing and an image."""
    code = f"""
import json, sys
import numpy as np
from PIL import Image
from sketch_edge.runtime import Predictor
p = Predictor({str(path)!r})
image = Image.new("L", (64, 64), 255)
image.paste(0, (10, 20, 50, 24))
p.predict(np.zeros((28, 28), np.uint8)); p.predict({SQUARE!r}); p.predict(image)
print(json.dumps(sorted(m.split(".")[0] for m in sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(json.loads(out.stdout))


def test_prediction_loads_no_tensorflow(model_path):
    loaded = _modules_loaded_by_prediction(model_path)
    assert "onnxruntime" in loaded
    assert not loaded & {*FORBIDDEN, "ai_edge_litert"}, loaded & {*FORBIDDEN, "ai_edge_litert"}


@pytest.mark.slow
def test_exported_int8_models_agree_with_keras(exported):
    """The real thing: int8 ONNX (QDQ) and int8 TFLite (quantized input and output) through the predictor."""
    from sketch_edge.data import DataRequest, split
    from tests.helpers import TINY_DATA

    root, _ = exported
    data = DataRequest(**TINY_DATA).load()
    test = split(data, seed=TINY_DATA["seed"]).test
    reference = Predictor(root / "export" / "onnx-fp32.onnx").probabilities(test.bitmaps)
    for name in ("onnx-int8.onnx", "tflite-int8.tflite", "tflite-fp32.tflite"):
        p = Predictor(root / "export" / name)
        assert p.labels == data.labels
        probs = p.probabilities(test.bitmaps)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)
        assert (probs.argmax(1) == reference.argmax(1)).mean() >= 0.9, name
        drawn = p.probabilities(test.drawings[:5])
        np.testing.assert_array_equal(drawn.argmax(1), probs[:5].argmax(1))
        # predict ranks a quantized output's integers (its scale cancels): the same pairs as the probabilities give
        for x, row in zip(test.bitmaps[:20].astype(np.uint8), probs[:20], strict=True):
            pairs = p.predict(x, top=3)
            assert [label for label, _ in pairs] == [p.labels[j] for j in np.argsort(-row, kind="stable")[:3]], name
            np.testing.assert_allclose([q for _, q in pairs], np.sort(row)[::-1][:3], atol=1e-6)


@pytest.mark.slow
def test_litert_predictor_is_thread_safe_and_tensorflow_free(exported):
    root, _ = exported
    path = root / "export" / "tflite-int8.tflite"
    p = Predictor(path)
    inputs = np.random.default_rng(2).integers(0, 256, size=(48, 28, 28), dtype=np.uint8)
    expected = [p.predict(x) for x in inputs]
    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(p.predict, inputs)) == expected
    loaded = _modules_loaded_by_prediction(path)
    assert "ai_edge_litert" in loaded
    assert not loaded & {*FORBIDDEN, "onnxruntime"}, loaded & {*FORBIDDEN, "onnxruntime"}


@pytest.mark.parametrize("top", ["3", 2.5, float("nan"), True, None, 0])
def test_a_top_that_is_not_a_count_is_one_line(predictor, top):
    with pytest.raises(ModelError, match="^top: "):
        predictor.predict(_bitmap("left"), top=top)


@pytest.mark.parametrize("labels", [5, [1, 2, 3], {"a": 1}, b"abc"])
def test_labels_that_are_not_names_are_one_line(tmp_path, labels):
    path = linear_softmax_onnx(tmp_path / "bare.onnx", _weights())
    with pytest.raises(ModelError, match="labels: expected a list of strings or a labels.txt path"):
        Predictor(path, labels=labels)


def test_a_batch_too_large_for_one_runtime_call_runs_in_chunks(predictor):
    batch = np.repeat(np.stack([_bitmap("left"), _bitmap("right")]), 700, axis=0)  # 1,400 drawings: six runtime calls
    top = predictor.predict(batch, top=1)
    assert len(top) == 1400 and [t[0][0] for t in top[:2]] == ["left", "left"] and top[-1][0][0] == "right"
    assert predictor.probabilities(batch).shape == (1400, 3)
