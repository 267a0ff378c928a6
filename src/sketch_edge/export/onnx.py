"""ONNX recipes: tf2onnx fp32 (opset 17, dynamic batch) after ONNX Runtime's quantization pre-processing, then
ONNX Runtime quantization of that same graph.

The fp32 artifact is the pre-processed graph (shapes inferred, MatMul+Add fused
to Gemm: what ORT does at load anyway), so it is node for node the float twin
of the quantized ones: the sensitivity report matches their tensors, and a
node it names is a node `nodes_to_exclude` knows (`float_layers` option).

The mobile recipes (`mobile` option) fix the batch to 1 and save the graph once
through ONNX Runtime's basic optimizations, which fold the shape arithmetic
(Shape, Gather, Concat) a fixed batch leaves constant: what ONNX Runtime
Mobile's NNAPI and CoreML providers need to take every node (its usability
checker, `export.mobile`), and what `.ort` files are converted from.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.common import OUTPUT_NAME, serving_function
from sketch_edge.export.recipes import Recipe
from sketch_edge.manifest import Artifact

OPSET = 17


def export_onnx(
    model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader, float_layers: tuple[str, ...] = ()
) -> Artifact:
    from onnxruntime.quantization.shape_inference import quant_pre_process

    quantization = recipe.quantization
    mobile = recipe.mobile
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=fileio.owned_prefix(".convert-")) as scratch:
        converted, fp32, made = Path(scratch) / "converted.onnx", Path(scratch) / "fp32.onnx", Path(scratch) / "made.onnx"
        _convert_fp32(model, input_spec, converted, batch=1 if mobile else None)
        quant_pre_process(str(converted), str(fp32))
        if quantization is None:
            fp32.replace(made)
        elif quantization == "static-qdq":
            _quantize_static(fp32, made, calibration, list(float_layers))
        elif quantization == "dynamic":
            from onnxruntime.quantization import QuantType, quantize_dynamic

            quantize_dynamic(str(fp32), str(made), weight_type=QuantType.QInt8)
        else:
            raise ValueError(f"unknown ONNX quantization {quantization!r}")
        with fileio.atomic_path(out) as tmp:
            if mobile:
                fold_constant_shapes(made, tmp)
            else:
                made.replace(tmp)
    return recipe.artifact(out)


def fold_constant_shapes(path: Path, out: Path) -> None:
    """The graph after ONNX Runtime's basic optimizations (constant folding, redundant nodes removed), saved as ONNX:
    with a fixed batch, every Shape/Gather/Concat chain folds to a constant. QDQ pairs are kept (no fusion at this level)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    options.optimized_model_filepath = str(out)
    options.log_severity_level = 3
    ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _convert_fp32(model: Any, input_spec: InputSpec, path: Path, batch: int | None = None) -> None:
    """tf2onnx from a traced tf.function (its `from_keras` fails on Keras 3), output renamed to `probabilities`."""
    import onnx
    import tf2onnx

    serve = serving_function(model, input_spec, batch)
    proto, _ = tf2onnx.convert.from_function(serve, input_signature=serve.input_signature, opset=OPSET)
    _captured_constants(proto, serve)
    old = proto.graph.output[0].name
    for node in proto.graph.node:
        node.output[:] = [OUTPUT_NAME if name == old else name for name in node.output]
    proto.graph.output[0].name = OUTPUT_NAME
    assert proto.graph.input[0].name == input_spec.name, proto.graph.input[0].name
    fold_input_scale(proto)
    onnx.save(proto, str(path))


def _captured_constants(proto: Any, serve: Any) -> None:
    """Constant tensors the traced function captured (a `Normalization` layer's adapted mean and variance, held as
    tensors rather than variables) are graph inputs after tf2onnx, which freezes variables only: make them the
    initializers they are, with their values, so the file has one input."""
    from onnx import numpy_helper

    captured = {
        inner.name: outer.numpy() for outer, inner in serve.get_concrete_function().graph.captures if outer.dtype.name != "resource"
    }
    for graph_input in list(proto.graph.input)[1:]:
        if graph_input.name in captured:
            proto.graph.initializer.append(numpy_helper.from_array(captured[graph_input.name], graph_input.name))
            proto.graph.input.remove(graph_input)


_SCALE_COMMUTING = ("Reshape", "Transpose")


def fold_input_scale(proto: Any) -> bool:
    """Fold the model's input rescaling (`Mul(input, c)`, then `Add(0)` when the converter kept the Keras `Rescaling`
    layer's zero offset) into the first convolution's weights: conv(c * x, W) = conv(x, c * W) exactly, as a reshape
    or transpose between them commutes with a scalar. Quantized, the Mul is an op of its own (ONNX Runtime: a
    QLinearMul, about a fifth of a small CNN's batch-1 time, benchmarks/int8_architecture.py); LiteRT's converter
    already folds it. Returns whether it folded; a graph of any other shape is left as it is."""
    from onnx import numpy_helper

    graph = proto.graph
    initializers = {init.name: init for init in graph.initializer}  # converted to arrays only where read
    outputs = {o.name for o in graph.output}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)

    def only_consumer(tensor: str) -> Any:
        found = consumers.get(tensor, [])
        return found[0] if len(found) == 1 and tensor not in outputs else None

    def scalar(node: Any) -> float | None:
        names = [name for name in node.input if name in initializers]
        value = numpy_helper.to_array(initializers[names[0]]) if len(names) == 1 else None
        return float(value.reshape(())) if value is not None and value.size == 1 else None

    mul = only_consumer(graph.input[0].name)
    if mul is None or mul.op_type != "Mul" or scalar(mul) is None:
        return False
    removed, node = [mul], only_consumer(mul.output[0])
    if node is not None and node.op_type == "Add" and scalar(node) == 0.0:
        removed.append(node)
        node = only_consumer(node.output[0])
    while node is not None and node.op_type in _SCALE_COMMUTING:
        node = only_consumer(node.output[0])
    if node is None or node.op_type != "Conv" or node.input[1] not in initializers or len(consumers[node.input[1]]) != 1:
        return False  # no convolution, or its weights are shared with another node: scaling them would change it too
    weights = initializers[node.input[1]]
    weights.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(weights) * scalar(mul), weights.name))
    first_kept = only_consumer(removed[-1].output[0])
    first_kept.input[list(first_kept.input).index(removed[-1].output[0])] = graph.input[0].name
    for dropped in removed:
        graph.node.remove(dropped)
    for name in {name for d in removed for name in d.input if name in initializers and len(consumers[name]) == 1}:
        graph.initializer.remove(initializers[name])
    return True


def _quantize_static(fp32: Path, out: Path, calibration: CalibrationReader, float_nodes: list[str]) -> None:
    """Static QDQ int8 with per-channel weights; `float_nodes` stay in float (the fallback recipes)."""
    from onnxruntime.quantization import CalibrationMethod, QuantFormat, QuantType, quantize_static

    calibration.rewind()
    quantize_static(
        str(fp32),
        str(out),
        calibration,
        nodes_to_exclude=float_nodes,
        quant_format=QuantFormat.QDQ,
        per_channel=True,
        # 7-bit weights: AVX2 machines without VNNI sum u8*s8 pairs in saturating 16-bit lanes
        # (vpmaddubsw); full-range per-channel weights overflow there and cost ~2 points of agreement.
        reduce_range=True,
        activation_type=QuantType.QUInt8,
        weight_type=QuantType.QInt8,
        calibrate_method=CalibrationMethod.MinMax,
    )
