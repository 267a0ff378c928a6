"""TFLite int8 through ai-edge-quantizer (LiteRT's current quantization tool) instead of the converter's PTQ.

The float TFLite file of the `tflite-fp32` recipe is quantized with its
`static_wi8_ai8` recipe (int8 weights per channel and int8 activations, min-max
calibration on the same drawings as every other int8 recipe). Layers named in
the `float_layers` option (their output tensor names, as the sensitivity report
gives them) get a regex-scoped `no_quantize` entry: that is how the
`tflite-int8-mixed` recipe keeps them in float.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.recipes import Recipe, get_recipe
from sketch_edge.export.tflite import export_tflite
from sketch_edge.manifest import Artifact


def export_aeq(
    model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader, float_layers: tuple[str, ...] = ()
) -> Artifact:
    from ai_edge_quantizer import quantizer
    from ai_edge_quantizer import recipe as recipes
    from ai_edge_quantizer.algorithm_manager import AlgorithmName

    flatbuffer, ranges = _calibrated(model, input_spec, calibration)
    quantize = quantizer.Quantizer(bytearray(flatbuffer))
    quantize.load_quantization_recipe(recipes.static_wi8_ai8())
    for tensor in float_layers:  # an op's scope: its output names, each followed by ";"
        quantize.update_quantization_recipe(regex=f"^{re.escape(tensor)};$", operation_name="*", algorithm_key=AlgorithmName.NO_QUANTIZE)
    result = quantize.quantize(ranges)
    with fileio.atomic_path(out) as tmp:
        tmp.write_bytes(result.quantized_model)
    return recipe.artifact(out)


_CALIBRATED: dict[tuple[int, int], tuple[bytes, dict[str, Any]]] = {}


def _calibrated(model: Any, input_spec: InputSpec, calibration: CalibrationReader) -> tuple[bytes, dict[str, Any]]:
    """The fp32 flatbuffer and every tensor's range over the calibration drawings, once per model and drawings in a
    process: a mixed recipe quantizes the same float model again at each step, and calibration is nearly all the
    time (40 of 41 s for an unrolled LSTM; quantizing with the ranges takes 0.4 s)."""
    from ai_edge_litert.interpreter import Interpreter
    from ai_edge_quantizer import quantizer
    from ai_edge_quantizer import recipe as recipes

    key = (id(model), id(calibration))
    if key not in _CALIBRATED:
        with tempfile.TemporaryDirectory(prefix=fileio.owned_prefix(".convert-")) as scratch:
            fp32 = Path(scratch) / "fp32.tflite"
            export_tflite(model, fp32, input_spec=input_spec, recipe=get_recipe("tflite-fp32"), calibration=calibration)
            flatbuffer = fp32.read_bytes()
            (signature,) = Interpreter(model_path=str(fp32)).get_signature_list()
        full = quantizer.Quantizer(bytearray(flatbuffer))
        full.load_quantization_recipe(recipes.static_wi8_ai8())  # ranges for every tensor: a mixed recipe needs fewer
        samples = [{calibration.input_name: calibration.samples[i : i + 1]} for i in range(len(calibration.samples))]
        _CALIBRATED[key] = (flatbuffer, full.calibrate({signature: samples}, num_threads=1))
    return _CALIBRATED[key]
