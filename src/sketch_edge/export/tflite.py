"""TFLite recipes: fp32, fp16 weights, dynamic-range, full int8, int16x8. Builtin ops only: a phone has no TF runtime.

The mobile recipes (`mobile` option) make the form MediaPipe Tasks' ImageClassifier
accepts: batch 1, an RGB input (a grayscale model averages the channels: MediaPipe
refuses one channel), uint8 input and output for the integer file (it feeds raw pixels,
so the input's scale and zero point are the contract's pixel mapping), tensors named `image` and
`probabilities`. The standard metadata it also needs is written with every file
(`formats.tflite`).
"""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.errors import ExportError
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.common import OUTPUT_NAME
from sketch_edge.export.recipes import Recipe
from sketch_edge.manifest import Artifact
from sketch_edge.models.saved import recurrent_layers


def export_tflite(
    model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader, float_layers: tuple[str, ...] = ()
) -> Artifact:
    import tensorflow as tf

    model, unrolled = _unrolled(model)
    mobile = recipe.mobile
    signature = None
    if mobile:
        if input_spec.colour != "rgb":
            model, calibration = mobile_model(model, input_spec), calibration.as_rgb()
        signature = [tf.TensorSpec((1, *input_spec.rgb().shape), tf.float32, name=input_spec.name)]
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=fileio.owned_prefix(".convert-")) as scratch:
        # Through a SavedModel: converting Keras 3 concrete functions directly leaves the weights out as variables.
        model.export(scratch, format="tf_saved_model", verbose=False, input_signature=signature)
        converter = tf.lite.TFLiteConverter.from_saved_model(scratch)
        flatbuffer = _convert(tf, converter, recipe, calibration, per_channel_dense=not unrolled)
    if unrolled:
        flatbuffer = short_names(flatbuffer)
    if mobile:
        flatbuffer = _mobile_io(flatbuffer, out, input_spec)
    with fileio.atomic_path(out) as tmp:
        tmp.write_bytes(flatbuffer)
    artifact = recipe.artifact(out)
    if unrolled:
        return replace(
            artifact, details=replace(artifact.details, recurrent=f"{', '.join(unrolled)} unrolled over {input_spec.shape[0]} steps")
        )
    return artifact


def mobile_model(model: Any, input_spec: InputSpec) -> Any:
    """The model behind a batch-1 RGB input whose three channels it averages: the input MediaPipe's ImageClassifier
    feeds, on the model's own 0-255 scale (the same weights; an app's gray drawing in every channel is the model's)."""
    import keras

    image = keras.Input(input_spec.rgb().shape, batch_size=1, name=input_spec.name)
    return keras.Model(image, model(keras.ops.mean(image, axis=-1, keepdims=True)), name=f"{model.name}_rgb")


def _mobile_io(flatbuffer: bytes, out: Path, input_spec: InputSpec) -> bytes:
    """Name the tensors as the metadata does, and make a uint8 input mean raw pixels (what MediaPipe feeds): its
    scale and zero point are set to the contract's pixel mapping (value = pixel x scale + offset). That is exact
    because the converter puts a QUANTIZE op behind a uint8 input, which requantizes from whatever it declares."""
    from ai_edge_litert import schema_py_generated as schema

    from sketch_edge.formats.tflite_metadata import pack, unpack

    tree = unpack(flatbuffer)
    graph = tree.subgraphs[0]
    image, probabilities = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    if image.type == schema.TensorType.UINT8:
        _pixel_quantization(tree, graph, image, out, input_spec)
    image.name, probabilities.name = input_spec.name.encode(), OUTPUT_NAME.encode()
    for signature in tree.signatureDefs or []:
        for entry in signature.outputs or []:
            entry.name = OUTPUT_NAME.encode()
    return pack(tree)


def pixel_quantization(input_spec: InputSpec) -> tuple[float, int]:
    """The uint8 (scale, zero point) under which a raw 0-255 pixel is the value the model reads; an `ExportError` when
    the mapping has no such form (its zero point must be a whole number within half a step, in 0..255)."""
    zero = -input_spec.offset / input_spec.scale
    rounded = int(np.round(zero))
    if not 0 <= rounded <= 255 or abs(zero - rounded) > 0.5:
        raise ExportError(f"the input mapping (pixel x {input_spec.scale:g} + {input_spec.offset:g}) has no uint8 form")
    return float(np.float32(input_spec.scale)), rounded


def _pixel_quantization(tree: Any, graph: Any, image: Any, out: Path, input_spec: InputSpec) -> None:
    from ai_edge_litert import schema_py_generated as schema

    scale, zero_point = pixel_quantization(input_spec)
    q = image.quantization
    declared = (q.scale[0], q.zeroPoint[0]) if q is not None and q.scale is not None else (None, None)
    if declared == (scale, zero_point):
        return
    index = graph.inputs[0]
    consumers = [op for op in graph.operators if index in list(op.inputs)]
    codes = {tree.operatorCodes[op.opcodeIndex].builtinCode for op in consumers}
    if codes != {schema.BuiltinOperator.QUANTIZE}:
        raise ExportError(
            f"{out}: the uint8 input is quantized with scale {declared[0]}, zero point {declared[1]}, not {scale:g} and "
            f"{zero_point}, and is read by other ops than QUANTIZE, so raw pixels would not be the model's values"
        )
    q.scale, q.zeroPoint = [scale], [zero_point]


MAX_NAME = 256
"""Longer tensor names are fused lists (`.../unstack;.../unstack1;...`, 2.6 kB each in an unrolled GRU's int8 file)."""


def short_names(flatbuffer: bytes) -> bytes:
    """The flatbuffer with every tensor name over MAX_NAME characters cut to its first part and a count of the rest:
    names only label tensors, the first part is the one the sensitivity report reads, and the float and int8 files of
    a model are cut alike, so their tensors still match by name."""
    from sketch_edge.formats.tflite_metadata import pack, unpack

    tree = unpack(flatbuffer)
    long = [t for graph in tree.subgraphs for t in graph.tensors if t.name is not None and len(t.name) > MAX_NAME]
    for tensor in long:
        parts = tensor.name.split(b";")
        tensor.name = parts[0][:MAX_NAME] + f";+{len(parts) - 1} fused".encode()
    return pack(tree) if long else flatbuffer


def _unrolled(model: Any) -> tuple[Any, list[str]]:
    """The model with its recurrent layers unrolled over the fixed sequence length, and their names.

    Keras 3 LSTM/GRU lower to TensorFlow tensor-list loops, which TFLite builtins cannot
    run ("Lowering tensor list ops is failed") and LiteRT has no Flex delegate for;
    unrolled, each step is plain fully-connected and element-wise ops. Same weights.
    """
    import keras

    recurrent = recurrent_layers(model)
    if not recurrent:
        return model, []

    def clone(layer: Any) -> Any:
        config = layer.get_config()
        if isinstance(layer, keras.layers.RNN):
            config["unroll"] = True
        return layer.__class__.from_config(config)

    twin = keras.models.clone_model(model, clone_function=clone)
    twin.set_weights(model.get_weights())
    return twin, recurrent


def _convert(tf: Any, converter: Any, recipe: Recipe, calibration: CalibrationReader, per_channel_dense: bool = True) -> bytes:
    """The converter's flatbuffer for the recipe. `per_channel_dense` False (an unrolled recurrent model): an int8
    file's fully connected weights get one scale per tensor. Unrolled over 100 steps a GRU's two projections are 200 FULLY_CONNECTED
    ops, and each one's int32 bias carries its own 384 per-channel scales and 64-bit zero points: 0.9 MB of
    quantization parameters that made seq-gru's int8 file 2.4 times its float one (the same agreement per tensor).
    A dynamic-range file's float biases carry none, so it keeps per-channel weights."""
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    quantization = recipe.quantization
    converter._experimental_disable_per_channel_quantization_for_dense_layers = quantization == "int8" and not per_channel_dense
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.representative_dataset = calibration.representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        io_type = tf.uint8 if recipe.mobile else tf.int8  # MediaPipe takes uint8 or float32, not int8
        converter.inference_input_type = io_type
        converter.inference_output_type = io_type
    elif quantization == "int16x8":
        converter.representative_dataset = calibration.representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return converter.convert()
