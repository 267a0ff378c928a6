"""Per-layer sensitivity on a tiny hand-built ONNX model, checked against a direct numpy computation."""

import json

import numpy as np
import pytest

from sketch_edge.export.sensitivity import MAX_SQNR_DB, measure, sqnr_db
from tests.helpers import linear_softmax_onnx

onnx = pytest.importorskip("onnx")
WEIGHTS = np.random.default_rng(0).normal(0, 5e-4, size=(784, 3)).astype(np.float32)  # logits of a few units: softmax not saturated
X = np.random.default_rng(1).integers(0, 256, size=(32, 28, 28, 1)).astype(np.float32)


def _qdq(float_path, out):
    from onnxruntime.quantization import QuantFormat, QuantType, quantize_static

    class Reader:
        def __init__(self):
            self.items = iter([{"image": X[i : i + 1]} for i in range(len(X))])

        def get_next(self):
            return next(self.items, None)

    quantize_static(
        str(float_path),
        str(out),
        Reader(),
        quant_format=QuantFormat.QDQ,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        per_channel=False,
    )
    return out


def _param(graph, name):
    from onnx import numpy_helper

    return numpy_helper.to_array(next(i for i in graph.initializer if i.name == name))


def test_sqnr_of_known_signals():
    signal = np.ones(100)
    assert sqnr_db(signal, signal) == MAX_SQNR_DB
    assert sqnr_db(signal, signal * 1.1) == pytest.approx(20.0)  # |noise| is a tenth of |signal|
    assert sqnr_db(signal, signal * 2.0) == pytest.approx(0.0)


def test_one_layer_against_a_direct_computation(tmp_path):
    float_path = linear_softmax_onnx(tmp_path / "float.onnx", WEIGHTS)
    quant_path = _qdq(float_path, tmp_path / "int8.onnx")
    report = measure("onnx", float_path, quant_path, X)

    # The MatMul's output by hand: the quantized model's own scales and zero points, numpy arithmetic.
    graph = onnx.load(str(quant_path)).graph
    dq = {n.output[0]: n for n in graph.node if n.op_type == "DequantizeLinear"}
    w_node, a_node, out_node = dq["w_DequantizeLinear_Output"], dq["flat_DequantizeLinear_Output"], dq["logits_DequantizeLinear_Output"]

    def qdq(values, node):
        scale, zero = _param(graph, node.input[1]), _param(graph, node.input[2])
        info = np.iinfo(zero.dtype)
        return (np.clip(np.round(values / scale) + zero, info.min, info.max) - zero) * scale

    weights = (_param(graph, w_node.input[0]).astype(np.float32) - _param(graph, w_node.input[2])) * _param(graph, w_node.input[1])
    flat = X.reshape(len(X), -1)
    expected = sqnr_db(flat @ WEIGHTS, qdq(qdq(flat, a_node) @ weights, out_node))

    layer = next(e for e in report.layers if e.tensor == "logits")
    assert layer.op == "MatMul" and layer.nodes == (next(n.name for n in graph.node if n.output[0] == "logits"),)
    assert layer.sqnr_db == pytest.approx(expected, abs=0.2)
    assert layer.max_abs_error == pytest.approx(np.abs(flat @ WEIGHTS - qdq(qdq(flat, a_node) @ weights, out_node)).max(), rel=0.05)
    assert report.worst is not None and report.worst.added_noise > 0 and report.samples == len(X)
    assert 10 < report.output_sqnr_db < MAX_SQNR_DB

    report.write(tmp_path / "s.json", tmp_path / "s.png")
    saved = json.loads((tmp_path / "s.json").read_text())
    assert saved["worst"]["tensor"] == report.worst.tensor and (tmp_path / "s.png").stat().st_size > 1000


def test_unmatched_layers_are_listed_not_a_crash(tmp_path):
    float_path = linear_softmax_onnx(tmp_path / "float.onnx", WEIGHTS)
    quant_path = _qdq(float_path, tmp_path / "int8.onnx")
    model = onnx.load(str(quant_path))
    outputs = {o.name for o in model.graph.output}
    renames = {name: f"other_{name}" for node in model.graph.node for name in node.output if name not in outputs}
    for node in model.graph.node:  # the same graph with its layer outputs named otherwise: nothing can be paired
        node.input[:] = [renames.get(n, n) for n in node.input]
        node.output[:] = [renames.get(n, n) for n in node.output]
    for info in model.graph.value_info:
        info.name = renames.get(info.name, info.name)
    onnx.save(model, str(tmp_path / "renamed.onnx"))
    report = measure("onnx", float_path, tmp_path / "renamed.onnx", X)
    assert {"flat", "logits"} <= set(report.skipped) and all(e.tensor not in ("flat", "logits") for e in report.layers)
    summary = report.summary()
    assert summary.skipped == len(report.skipped) and summary.layers == len(report.layers)
