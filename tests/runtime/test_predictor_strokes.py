"""The Predictor on stroke models: drawings through training's own sequence preprocessing, everything else refused."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from sketch_edge.data.drawing import parse_drawing
from sketch_edge.data.sequence import CHANNELS, STEPS, to_sequence
from sketch_edge.errors import DataError, ModelError
from sketch_edge.runtime import Predictor
from tests.helpers import SQUARE, TRIANGLE, linear_softmax_onnx, linear_strokes_onnx

pytest.importorskip("onnx")

LABELS = ["a", "b", "c"]
METADATA = {"labels": LABELS, "input": {"kind": "strokes", "shape": [STEPS, CHANNELS]}, "model": "linear-strokes", "recipe": "onnx-fp32"}
WEIGHTS = np.random.default_rng(0).normal(0, 0.002, size=(STEPS * CHANNELS, 3)).astype(np.float32)
RAW = [[[10.5, 200.25, 30.0, 310.0], [5.0, 40.5, 90.0, 120.0], [0, 10, 20, 30]]]


def stroke_model(path, metadata=METADATA):
    return linear_strokes_onnx(path, WEIGHTS, metadata)


@pytest.fixture(scope="module")
def predictor(tmp_path_factory):
    with Predictor(stroke_model(tmp_path_factory.mktemp("strokes") / "m.onnx")) as p:
        yield p


def _expected(drawing=None, rows=None) -> np.ndarray:
    rows = to_sequence(drawing) if rows is None else rows
    logits = rows.reshape(-1).astype(np.float64) @ WEIGHTS
    e = np.exp(logits - logits.max())
    return e / e.sum()


def test_a_drawing_is_fed_as_its_point_rows(predictor):
    assert predictor.kind == "strokes"
    for drawing in (SQUARE, TRIANGLE, SQUARE + TRIANGLE, [[[7], [9]]]):  # a single point too
        np.testing.assert_allclose(predictor.probabilities(drawing)[0], _expected(drawing), rtol=1e-4)
        top = predictor.predict(drawing, top=3)
        assert [label for label, _ in top] == [LABELS[i] for i in np.argsort(-_expected(drawing), kind="stable")]


def test_raw_strokes_records_and_batches(predictor):
    simplified, _ = parse_drawing(RAW, "raw")
    assert predictor.predict(RAW) == predictor.predict(simplified) == predictor.predict({"word": "x", "drawing": RAW})
    batch = predictor.predict([SQUARE, {"drawing": TRIANGLE}, RAW])
    assert batch == [predictor.predict(SQUARE), predictor.predict(TRIANGLE), predictor.predict(RAW)]


def test_thousands_of_points_are_cut_to_the_first_steps(predictor):
    long = [[list(np.arange(3000) % 256), list((np.arange(3000) * 7) % 256)]]
    rows = to_sequence([[long[0][0][:STEPS], long[0][1][:STEPS]]])
    rows[-1, 2] = 0  # the stroke was cut: it does not end within the sequence
    np.testing.assert_allclose(predictor.probabilities(long)[0], _expected(rows=rows), rtol=1e-4)


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        (np.zeros((28, 28), np.uint8), "reads strokes \\(input kind 'strokes'\\).*not an array of shape \\(28, 28\\)"),
        (np.zeros((STEPS, CHANNELS), np.float32), "reads strokes.*not an array"),
        ("sketch.png", "reads strokes.*not the file path 'sketch.png'"),
        ([SQUARE, np.zeros((28, 28))], "item 1: this model reads strokes"),
        ([], "empty batch"),
        ([[[], []]], "zero length"),
        ([[[0, 1, 2], [0, 1]]], "ragged"),
        ([[[0, float("nan")], [0, 10]]], "NaN"),
        ([[[0, 300], [0, 10]]], "0-255"),
    ],
)
def test_anything_but_drawings_is_refused_naming_the_input_kind(predictor, bad, problem):
    with pytest.raises(DataError, match=problem):
        predictor.predict(bad)


def test_an_image_is_refused(predictor):
    with pytest.raises(DataError, match="reads strokes.*not an image"):
        predictor.predict(Image.new("L", (28, 28)))


def test_a_bitmap_model_given_point_rows_names_its_kind(tmp_path):
    metadata = {"labels": LABELS, "input": {"kind": "bitmap"}, "model": "linear"}
    bitmap = Predictor(linear_softmax_onnx(tmp_path / "b.onnx", np.zeros((784, 3), np.float32), metadata))
    with pytest.raises(DataError, match="reads bitmaps \\(input kind 'bitmap'\\)"):
        bitmap.predict(np.zeros((STEPS, CHANNELS), np.float32))


@pytest.mark.parametrize(
    ("kind", "problem"), [("audio", "input kind is 'audio'"), (["strokes"], "input kind is \\['strokes'\\]"), ("bitmap", "not the bitmap")]
)
def test_a_file_whose_metadata_disagrees_with_its_input_is_refused(tmp_path, kind, problem):
    path = stroke_model(tmp_path / "m.onnx", METADATA | {"input": {"kind": kind}})
    with pytest.raises(ModelError, match=problem):
        Predictor(path)


@pytest.mark.slow
def test_exported_stroke_models_agree_with_keras(exported_strokes):
    """The real seq-conv: TFLite and ONNX, fp32 and int8, through the predictor, on the test drawings."""
    from sketch_edge.data import DataRequest, split
    from tests.helpers import TINY_DATA

    root, manifest = exported_strokes
    assert all(a.status == "ok" for a in manifest.artifacts), [(a.name, a.error) for a in manifest.artifacts]
    test = split(DataRequest(**TINY_DATA).load(), seed=TINY_DATA["seed"]).test
    reference = Predictor(root / "export" / "onnx-fp32.onnx").probabilities(test.drawings)
    for name in ("onnx-int8.onnx", "tflite-int8.tflite", "tflite-fp32.tflite"):
        p = Predictor(root / "export" / name)
        assert p.kind == "strokes" and p.labels == test.labels
        probs = p.probabilities(test.drawings)
        assert (probs.argmax(1) == reference.argmax(1)).mean() >= 0.95, name
        with pytest.raises(DataError, match="reads strokes"):
            p.predict(test.bitmaps[0])
