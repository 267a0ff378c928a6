"""The ONNX exporter's graph pass: the input rescaling folded into the first convolution, exactly."""

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from sketch_edge.export.onnx import fold_input_scale


def rescaled_conv(shared_weights: bool = False, reshape: bool = True, offset: float | None = None) -> onnx.ModelProto:
    """image (N,8,8,1) -> Mul(1/255) -> [Add(offset)] -> [Reshape to (N,1,8,8)] -> Conv 3x3 with 4 filters and a bias
    (-> a second Conv with the same weights, when they are shared)."""
    rng = np.random.default_rng(0)
    inits = [
        numpy_helper.from_array(np.array(1 / 255, np.float32), "scale"),
        numpy_helper.from_array(np.array([-1, 1, 8, 8], np.int64), "shape"),
        numpy_helper.from_array(rng.normal(size=(4, 1, 3, 3)).astype(np.float32), "w"),
        numpy_helper.from_array(rng.normal(size=(4,)).astype(np.float32), "b"),
    ]
    inits += [numpy_helper.from_array(np.array(offset, np.float32), "offset")] if offset is not None else []
    conv_input = "reshaped" if reshape else "scaled"
    nodes = [helper.make_node("Mul", ["image", "scale"], ["scaled" if offset is None else "scaled0"])]
    nodes += [helper.make_node("Add", ["scaled0", "offset"], ["scaled"])] if offset is not None else []
    nodes += [helper.make_node("Reshape", ["scaled", "shape"], ["reshaped"])] if reshape else []
    nodes += [helper.make_node("Conv", [conv_input, "w", "b"], ["out"], pads=[1, 1, 1, 1])]
    outputs = [helper.make_tensor_value_info("out", TensorProto.FLOAT, [None, 4, 8, 8])]
    if shared_weights:
        nodes.append(helper.make_node("Conv", ["out2_in", "w", "b"], ["out2"], pads=[1, 1, 1, 1]))
        nodes.insert(0, helper.make_node("Identity", ["image2"], ["out2_in"]))
        outputs.append(helper.make_tensor_value_info("out2", TensorProto.FLOAT, [None, 4, 8, 8]))
    inputs = [helper.make_tensor_value_info("image", TensorProto.FLOAT, [None, 8, 8, 1] if reshape else [None, 1, 8, 8])]
    if shared_weights:
        inputs.append(helper.make_tensor_value_info("image2", TensorProto.FLOAT, [None, 1, 8, 8]))
    graph = helper.make_graph(nodes, "g", inputs, outputs, inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def run(model: onnx.ModelProto, x: np.ndarray) -> np.ndarray:
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feed = {"image": x} | ({"image2": x.reshape(-1, 1, 8, 8)} if len(session.get_inputs()) > 1 else {})
    return session.run(["out"], feed)[0]


@pytest.mark.parametrize(("reshape", "offset"), [(True, None), (False, None), (True, 0.0)])
def test_the_rescaling_folds_into_the_conv_and_the_output_is_unchanged(reshape, offset):
    model = rescaled_conv(reshape=reshape, offset=offset)
    x = np.random.default_rng(1).integers(0, 256, size=(2, *([8, 8, 1] if reshape else [1, 8, 8]))).astype(np.float32)
    before = run(model, x)
    assert fold_input_scale(model)
    onnx.checker.check_model(model)
    assert [n.op_type for n in model.graph.node] == (["Reshape"] if reshape else []) + ["Conv"]
    assert not {"scale", "offset"} & {i.name for i in model.graph.initializer}
    np.testing.assert_allclose(run(model, x), before, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("model", [rescaled_conv(shared_weights=True), rescaled_conv(offset=0.5)], ids=["shared", "offset"])
def test_graphs_it_cannot_fold_exactly_are_left_alone(model):
    original = model.SerializeToString()
    assert not fold_input_scale(model)
    assert model.SerializeToString() == original
