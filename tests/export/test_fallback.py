"""The float-fallback search on a tiny hand-built ONNX model and ONNX Runtime's real QDQ quantizer (no TensorFlow)."""

from dataclasses import replace

import numpy as np
import pytest

from sketch_edge.export.fallback import Validation, choose_float_layers
from sketch_edge.export.recipes import get_recipe
from sketch_edge.runtime import open_runner
from tests.helpers import linear_softmax_onnx

onnx = pytest.importorskip("onnx")
# Columns summing to zero, so no class wins on the inputs' mean: classes vary by drawing, some nearly tied,
# and int8 noise flips enough of those that the drop is no accident.
WEIGHTS = np.random.default_rng(0).normal(0, 1e-3, size=(784, 3)).astype(np.float32)
WEIGHTS -= WEIGHTS.mean(axis=0)
X = np.random.default_rng(1).integers(0, 256, size=(2000, 28, 28, 1)).astype(np.float32)


def _exporter(float_path):
    """The ONNX recipe's own quantization of the float file, `float_layers` as its `nodes_to_exclude`."""
    from sketch_edge.export.calibration import CalibrationReader
    from sketch_edge.export.onnx import _quantize_static

    def export(out, float_layers):
        _quantize_static(float_path, out, CalibrationReader(X[:200], "image"), list(float_layers))
        return get_recipe("onnx-int8-mixed").artifact(out)

    return export


def _predict(path, x):
    return open_runner(path).predict(x)


def _validation(float_path, min_agreement=0.98):
    answers = _predict(float_path, X).argmax(axis=1)
    return Validation(X, answers, answers, min_agreement, X[:64])  # the float model is right on every drawing


def test_a_real_drop_puts_the_noisiest_layer_in_float(tmp_path):
    float_path = linear_softmax_onnx(tmp_path / "float.onnx", WEIGHTS)
    out = tmp_path / "mixed.onnx"
    artifact, details = choose_float_layers(
        get_recipe("onnx-int8-mixed"), out, float_path, _exporter(float_path), _predict, _validation(float_path), max_drop=0.002
    )
    fallback = details.to_json()  # the Fallback record as the manifest holds it
    first = fallback["tried"][0]
    assert first["lost"] - first["gained"] > 2 * np.sqrt(first["lost"] + first["gained"]), first  # int8 alone: a real drop
    assert fallback["stopped"] == "aim reached" and fallback["k"] >= 1 and fallback["tried"][-1]["validation_top1"] >= 0.998
    assert fallback["float_layers"][0] == "logits" and fallback["float_ops"] >= 1  # the only layer that computes (its MatMul)
    ops = [node.op_type for node in onnx.load(str(out)).graph.node]
    assert "MatMul" in ops and not any(
        n.op_type == "DequantizeLinear" and n.output[0].startswith("w_") for n in onnx.load(str(out)).graph.node
    )
    assert artifact.name == "onnx-int8-mixed"


def test_a_drop_within_noise_is_not_chased(tmp_path):
    float_path = linear_softmax_onnx(tmp_path / "float.onnx", WEIGHTS)
    few = replace(_validation(float_path), x=X[:100])  # the same model on 100 drawings: a flip or two, no evidence
    few = replace(few, labels=few.labels[:100], keras_answers=few.keras_answers[:100], min_agreement=0.9)
    _, details = choose_float_layers(
        get_recipe("onnx-int8-mixed"), tmp_path / "m.onnx", float_path, _exporter(float_path), _predict, few, max_drop=-0.01
    )  # an aim int8 cannot reach: beat Keras by a point
    fallback = details.to_json()  # the Fallback record as the manifest holds it
    assert fallback["k"] == 0 and fallback["stopped"].startswith("drop within noise"), fallback
    assert fallback["tried"][0]["lost"] <= 4


def test_float_layers_are_keras_layers_with_all_their_ops():
    """An unrolled LSTM's hundreds of ops go to float together; ranked by the noisiest op of each layer."""
    from sketch_edge.export.fallback import _by_keras_layer
    from sketch_edge.export.sensitivity import LayerFailure, Sensitivity

    def op(tensor, noise):
        return LayerFailure(tensor, "OP", (tensor,), 30.0, noise, 0.1)

    ranking = Sensitivity(
        "q.tflite",
        "f.tflite",
        64,
        layers=(
            op("seq_lstm_1/lstm_1/lstm_cell_195/Tanh", 0.4),
            op("cnn_bn_1/re_lu_1/Relu;cnn_bn_1/conv2d_1/convolution", 0.5),
            op("seq_lstm_1/lstm_1/lstm_cell_3/MatMul", 0.1),
            op("Conv__42:0", 0.05),
            op("seq_lstm_1/flatten_1/Reshape", 0.0),
        ),
    )
    assert _by_keras_layer(ranking) == [
        ("re_lu_1", ["cnn_bn_1/re_lu_1/Relu;cnn_bn_1/conv2d_1/convolution"]),
        ("lstm_1", ["seq_lstm_1/lstm_1/lstm_cell_195/Tanh", "seq_lstm_1/lstm_1/lstm_cell_3/MatMul"]),
        ("Conv__42:0", ["Conv__42:0"]),
    ]  # a layer adding no noise is not a candidate


def _scripted(monkeypatch, tmp_path, agreements):
    """A search over fake files: file k (k layers in float) answers like Keras on `agreements[k]` of 100 drawings."""
    from sketch_edge.export import fallback
    from sketch_edge.export.sensitivity import LayerFailure, Sensitivity

    layers = tuple(LayerFailure(f"m/dense_{i}/MatMul", "FC", (f"m/dense_{i}/MatMul",), 20.0, 0.5 - 0.1 * i, 0.1) for i in range(2))
    monkeypatch.setattr(fallback, "measure", lambda *args: Sensitivity("q", "f", 64, layers=layers))
    labels = np.zeros(100, dtype=int)

    def export(out, float_layers):
        out.write_text(str(len(float_layers)))
        return get_recipe("onnx-int8-mixed").artifact(out)

    def predict(path, x):
        right = int(100 * agreements[int(path.read_text())])
        return np.eye(2)[[0] * right + [1] * (100 - right)]

    validation = Validation(np.zeros((100, 1)), labels, labels, 0.98, np.zeros((4, 1)))
    return export, predict, validation


def test_the_search_keeps_its_best_file_when_a_later_one_is_worse(monkeypatch, tmp_path):
    export, predict, validation = _scripted(monkeypatch, tmp_path, agreements=[0.5, 0.97, 0.6])
    out = tmp_path / "mixed.onnx"
    _, details = choose_float_layers(get_recipe("onnx-int8-mixed"), out, tmp_path / "f.onnx", export, predict, validation, 0.002)
    fallback = details.to_json()  # the Fallback record as the manifest holds it
    assert [t["agreement"] for t in fallback["tried"]] == [0.5, 0.97, 0.6] and fallback["k"] == 1
    assert out.read_text() == "1" and fallback["float_layers"] == ["dense_0"]  # the file on disk is the one reported
    assert fallback["stopped"] == "no quantized layer adds noise; the file with 1 float layer(s) was the best"


def test_a_budget_spent_ends_the_search_with_a_file_not_a_time_out(monkeypatch, tmp_path):
    export, predict, validation = _scripted(monkeypatch, tmp_path, agreements=[0.5, 0.99, 1.0])
    out = tmp_path / "mixed.onnx"
    _, details = choose_float_layers(
        get_recipe("onnx-int8-mixed"), out, tmp_path / "f.onnx", export, predict, validation, 0.002, budget_s=0.0
    )
    fallback = details.to_json()  # the Fallback record as the manifest holds it
    assert fallback["stopped"] == "budget of 0 s spent" and fallback["k"] == 0 and len(fallback["tried"]) == 1
    assert out.read_text() == "0" and fallback["budget_s"] == 0.0 and fallback["seconds"] >= 0
