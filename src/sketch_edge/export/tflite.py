"""TFLite recipes: fp32, fp16 weights, dynamic-range, full int8, int16x8. Builtin ops only: a phone has no TF runtime."""

from __future__ import annotations

import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.recipes import Recipe
from sketch_edge.manifest import Artifact
from sketch_edge.models.saved import recurrent_layers


def export_tflite(model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader) -> Artifact:
    import tensorflow as tf

    model, unrolled = _unrolled(model)
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=fileio.owned_prefix(".convert-")) as scratch:
        # Through a SavedModel: converting Keras 3 concrete functions directly leaves the weights out as variables.
        model.export(scratch, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(scratch)
        flatbuffer = _convert(tf, converter, recipe, calibration)
    with fileio.atomic_path(out) as tmp:
        tmp.write_bytes(flatbuffer)
    artifact = recipe.artifact(out)
    if unrolled:
        return replace(
            artifact, details=replace(artifact.details, recurrent=f"{', '.join(unrolled)} unrolled over {input_spec.shape[0]} steps")
        )
    return artifact


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


def _convert(tf: Any, converter: Any, recipe: Recipe, calibration: CalibrationReader) -> bytes:
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS]
    quantization = recipe.options.get("quantization")
    if quantization is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantization == "fp16":
        converter.target_spec.supported_types = [tf.float16]
    elif quantization == "int8":
        converter.representative_dataset = calibration.representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
    elif quantization == "int16x8":
        converter.representative_dataset = calibration.representative_dataset
        converter.target_spec.supported_ops = [tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
    return converter.convert()
