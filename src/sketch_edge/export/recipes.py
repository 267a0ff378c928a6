"""Export recipes: a name -> the exporter that makes it, its format, precision and gate.

Exporters are named as "module:function" and imported inside the worker
subprocess, so a converter that crashes takes down only its own process.
Every exporter has one signature:
`export_<format>(model, out, *, input_spec, recipe, calibration) -> Artifact`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sketch_edge.errors import ExportError, unknown_name


@dataclass(frozen=True)
class Gate:
    """What an artifact must reproduce of the Keras model to be `ok`."""

    min_agreement: float
    max_abs_diff: float | None


GATES = {
    "fp32": Gate(0.999, 1e-4),
    "fp16": Gate(0.999, 1e-3),
    "quantized": Gate(0.98, None),
}


@dataclass(frozen=True)
class Recipe:
    name: str
    format: str  # tflite | onnx | saved_model
    precision: str
    exporter: str  # "module:function"
    suffix: str
    options: dict[str, Any] = field(default_factory=dict)
    default: bool = True

    def gate(self, gates: dict[str, Gate] = GATES) -> Gate:
        return gates.get(self.precision, gates["quantized"])


def parse_gate(text: str) -> tuple[str, Gate]:
    """`PRECISION:MIN_AGREEMENT[:MAX_ABS_DIFF]`, e.g. `fp16:0.999:2e-3`, as given to `export --gate`."""
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3) or parts[0] not in GATES:
            raise ValueError
        return parts[0], Gate(float(parts[1]), float(parts[2]) if len(parts) == 3 else None)
    except ValueError:
        precisions = ", ".join(GATES)
        raise ExportError(f"--gate {text!r}: expected PRECISION:MIN_AGREEMENT[:MAX_ABS_DIFF], PRECISION one of {precisions}") from None


_TFLITE = "sketch_edge.export.tflite:export_tflite"
_ONNX = "sketch_edge.export.onnx:export_onnx"

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("saved_model", "saved_model", "fp32", "sketch_edge.export.saved_model:export_saved_model", ""),
        Recipe("tflite-fp32", "tflite", "fp32", _TFLITE, ".tflite"),
        Recipe("tflite-fp16", "tflite", "fp16", _TFLITE, ".tflite", {"quantization": "fp16"}),
        Recipe("tflite-dynamic", "tflite", "dynamic-int8", _TFLITE, ".tflite", {"quantization": "dynamic"}),
        Recipe("tflite-int8", "tflite", "int8", _TFLITE, ".tflite", {"quantization": "int8"}),
        Recipe("tflite-int16x8", "tflite", "int16x8", _TFLITE, ".tflite", {"quantization": "int16x8"}, default=False),
        Recipe("onnx-fp32", "onnx", "fp32", _ONNX, ".onnx"),
        Recipe("onnx-int8", "onnx", "int8", _ONNX, ".onnx", {"quantization": "static-qdq"}),
        Recipe("onnx-int8-dynamic", "onnx", "dynamic-int8", _ONNX, ".onnx", {"quantization": "dynamic"}),
    )
}


def list_recipes(defaults_only: bool = False) -> list[str]:
    return [name for name, r in RECIPES.items() if r.default or not defaults_only]


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ExportError(unknown_name("export recipe", name, RECIPES)) from None
