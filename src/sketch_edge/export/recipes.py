"""Export recipes: a name -> the exporter that makes it, its format, precision and gate.

Exporters are named as "module:function" and imported inside the worker
subprocess, so a converter that crashes takes down only its own process.
Every recipe declares its compute kind: the arithmetic a runtime does with the
file, which says which measured peak bounds it (the bench) and which gate it meets.
Every exporter has one signature:
`export_<format>(model, out, *, input_spec, recipe, calibration) -> Artifact`.

The mobile recipes make what the mobile toolchains take as it is (batch 1;
MediaPipe's RGB input for TFLite, `.ort` files for ONNX Runtime Mobile) and name
the `client` whose own check they pass at export (`export.mobile`). A recipe
with a `from` option converts another recipe's file (its twin, exported first).

Two options are read by the export worker rather than an exporter: a quantized
recipe is compared layer by layer with its format's fp32 recipe (the
sensitivity report), and `fallback: auto` makes a mixed recipe: the worker
moves the noisiest layer to float, one at a time, passing them to the exporter
as `float_layers`, until validation top-1 is near Keras's (`export.fallback`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sketch_edge import numbers
from sketch_edge.data.dataset import InputSpec
from sketch_edge.errors import ExportError, unknown_name
from sketch_edge.formats import FORMATS
from sketch_edge.manifest import Artifact
from sketch_edge.records import Record

COMPUTE_KINDS = {
    "fp32": "fp32 weights and arithmetic",
    "fp16": "fp16 weights, fp32 arithmetic (CPUs run fp16 files in fp32)",
    "dynamic-int8": "int8 weights, activations quantized at run time, int8 arithmetic",
    "int8": "int8 weights and activations, int8 arithmetic",
    "int16x8": "int16 activations, int8 weights",
}
MAX_TOP1_DROP = 0.01
"""Default gate: an artifact's test top-1 may fall at most one point below Keras's."""
FALLBACK_MAX_DROP = 0.002
"""Default aim of the mixed recipes: top-1 within 0.2 points of Keras's."""


@dataclass(frozen=True)
class Gate:
    """What an artifact must reproduce of the Keras model to be `ok`."""

    min_agreement: float
    max_abs_diff: float | None
    max_top1_drop: float = MAX_TOP1_DROP


GATES = {
    "fp32": Gate(0.999, 1e-4),
    # fp16 weights round each weight by up to 2^-11 of itself; measured on probabilities: 6.5e-4 (cnn-bn), 1.9e-3
    # (seq-conv) and 2.5e-3 (seq-lstm), every one with 100% top-1 agreement. 5e-3 passes rounding and still fails a
    # conversion that changes answers; agreement and non-finite outputs are checked apart.
    "fp16": Gate(0.999, 5e-3),
    "quantized": Gate(0.98, None),
}


@dataclass(frozen=True)
class Recipe(Record):
    name: str
    format: str  # a registered format (sketch_edge.formats)
    precision: str
    compute: str  # a key of COMPUTE_KINDS
    exporter: str  # "module:function"
    libraries: tuple[str, ...]  # the distributions that make and check the file: the manifest names their versions
    options: dict[str, Any] = field(default_factory=dict)
    default: bool = True
    not_default_for: dict[str, str] = field(default_factory=dict)  # model kind (models.model_kind) -> why not
    cannot_run_on: dict[str, str] = field(default_factory=dict)  # runtime -> why its files do not load there
    input_kinds: tuple[str, ...] = ()  # the model input kinds it is made for (empty: any)
    client: str | None = None  # the mobile client that takes its files: a key of CLIENTS

    def file_input(self, contract: InputSpec) -> InputSpec:
        """The input its files take: the model's contract, or its RGB form (`input: rgb`, the MediaPipe recipes)."""
        return contract.rgb() if self.options.get("input") == "rgb" else contract

    def takes(self, input_kind: str | None) -> bool:
        """Whether it is made for models of this input kind (None: not asked)."""
        return input_kind is None or not self.input_kinds or input_kind in self.input_kinds

    def not_for(self, input_kind: str) -> str | None:
        """Why its files are not made for a model of this input kind, or None."""
        return None if self.takes(input_kind) else f"made for {' and '.join(self.input_kinds)} models; this model reads {input_kind}"

    @property
    def converts(self) -> str | None:
        """The recipe whose file this one converts (its twin, exported first), or None."""
        return self.options.get("from")

    @property
    def measures_sensitivity(self) -> bool:
        """Quantized, by a quantizer, in the desktop form: a converted file's layers are its twin's, and a mobile file's
        the desktop recipe's (the same quantizer on the same model; its fixed batch would not take the samples at once)."""
        return self.quantized and self.converts is None and not self.options.get("mobile")

    @property
    def suffix(self) -> str:
        """Of its files: its format's (sketch_edge.formats)."""
        return FORMATS[self.format].suffixes[0]

    @property
    def quantized(self) -> bool:
        """Whether its arithmetic is quantized (then its sensitivity is measured against the fp32 file of its format)."""
        return self.compute not in ("fp32", "fp16")

    def gate(self, gates: dict[str, Gate] = GATES) -> Gate:
        return gates.get(self.compute, gates["quantized"])

    def artifact(self, out: Path) -> Artifact:
        """The record an exporter returns for the file it wrote to `out`."""
        return Artifact(name=self.name, format=self.format, precision=self.precision, compute=self.compute, path=out.name)


def parse_gate(text: str, max_top1_drop: float = MAX_TOP1_DROP) -> tuple[str, Gate]:
    """`PRECISION:MIN_AGREEMENT[:MAX_ABS_DIFF]`, e.g. `fp16:0.999:2e-3`, as given to `export --gate` (agreement in
    [0, 1], the difference finite and not negative: a NaN gate would pass everything)."""
    parts = text.split(":")
    try:
        if len(parts) not in (2, 3) or parts[0] not in GATES:
            raise ValueError
        agreement, max_diff = float(parts[1]), float(parts[2]) if len(parts) == 3 else None
    except ValueError:
        precisions = ", ".join(GATES)
        raise ExportError(f"--gate {text!r}: expected PRECISION:MIN_AGREEMENT[:MAX_ABS_DIFF], PRECISION one of {precisions}") from None
    try:
        agreement = numbers.check(agreement, lo=0, hi=1)
        max_diff = None if max_diff is None else numbers.check(max_diff, lo=0, hi=1e6)
    except ValueError as exc:
        raise ExportError(f"--gate {text!r}: {exc}") from None
    return parts[0], Gate(agreement, max_diff, max_top1_drop)


CLIENTS = {
    "mediapipe": "MediaPipe Tasks ImageClassifier (Android, iOS, web, Python): runs the file on the test drawings",
    "onnxruntime-mobile": "ONNX Runtime Mobile (Android, iOS): its usability checker per execution provider",
}
"""The mobile clients a recipe's files are checked by at export (export.mobile)."""

# (exporter, the distributions it converts with and its file is checked with)
_SAVED = ("sketch_edge.export.saved_model:export_saved_model", ("tensorflow",))
_TFLITE = ("sketch_edge.export.tflite:export_tflite", ("tensorflow", "ai-edge-litert"))
_ONNX = ("sketch_edge.export.onnx:export_onnx", ("tensorflow", "tf2onnx", "onnx", "onnxruntime"))
_ORT = ("sketch_edge.export.ort:export_ort", ("onnx", "onnxruntime"))
_AEQ = ("sketch_edge.export.ai_edge_quantizer:export_aeq", ("tensorflow", "ai-edge-quantizer", "ai-edge-litert"))
_AEQ_NOT_ON = {"openvino": "OpenVINO's TFLite reader cannot load ai-edge-quantizer's files (Check 'opts != nullptr')"}
# Measured on seq-gru and seq-lstm trained on strokes/ (the export of every other recipe of theirs takes 15 s or less):
_RECURRENT = {
    "tflite-int8-aeq": "ai-edge-quantizer's calibration of the unrolled cell takes about 2 minutes, and its int8 file "
    "missed the 98% agreement gate (96.7% on seq-gru)",
    "tflite-int8-mixed": "its float-fallback search over the unrolled cell (ai-edge-quantizer, hundreds of ops a step) "
    "outlives the export's time-out",
    "onnx-int8-mixed": "ONNX Runtime's QDQ keeps the recurrent operator in float already, and excluding its nodes crashed "
    "ONNX Runtime (SIGABRT) on seq-gru",
}

_MEDIAPIPE: dict[str, Any] = {"input_kinds": ("bitmap", "image"), "client": "mediapipe"}  # an image classifier: pictures only


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe("saved_model", "saved_model", "fp32", "fp32", *_SAVED),
        Recipe("tflite-fp32", "tflite", "fp32", "fp32", *_TFLITE),
        Recipe("tflite-fp16", "tflite", "fp16", "fp16", *_TFLITE, {"quantization": "fp16"}),
        Recipe("tflite-dynamic", "tflite", "dynamic-int8", "dynamic-int8", *_TFLITE, {"quantization": "dynamic"}),
        Recipe("tflite-int8", "tflite", "int8", "int8", *_TFLITE, {"quantization": "int8"}),
        Recipe(
            "tflite-int8-aeq",
            "tflite",
            "int8",
            "int8",
            *_AEQ,
            not_default_for={"recurrent": _RECURRENT["tflite-int8-aeq"]},
            cannot_run_on=_AEQ_NOT_ON,
        ),
        Recipe(
            "tflite-int8-mixed",
            "tflite",
            "int8+fp32",
            "int8",
            *_AEQ,
            {"fallback": "auto"},
            not_default_for={"recurrent": _RECURRENT["tflite-int8-mixed"]},
            cannot_run_on=_AEQ_NOT_ON,
        ),
        Recipe("tflite-int16x8", "tflite", "int16x8", "int16x8", *_TFLITE, {"quantization": "int16x8"}, default=False),
        Recipe("onnx-fp32", "onnx", "fp32", "fp32", *_ONNX),
        Recipe("onnx-int8", "onnx", "int8", "int8", *_ONNX, {"quantization": "static-qdq"}),
        Recipe(
            "onnx-int8-mixed",
            "onnx",
            "int8+fp32",
            "int8",
            *_ONNX,
            {"quantization": "static-qdq", "fallback": "auto"},
            not_default_for={"recurrent": _RECURRENT["onnx-int8-mixed"]},
        ),
        Recipe("onnx-int8-dynamic", "onnx", "dynamic-int8", "dynamic-int8", *_ONNX, {"quantization": "dynamic"}),
        Recipe("tflite-mobile-fp32", "tflite", "fp32", "fp32", *_TFLITE, {"mobile": True, "input": "rgb"}, **_MEDIAPIPE),
        Recipe(
            "tflite-mobile-int8", "tflite", "int8", "int8", *_TFLITE, {"mobile": True, "input": "rgb", "quantization": "int8"}, **_MEDIAPIPE
        ),
        Recipe("onnx-mobile-fp32", "onnx", "fp32", "fp32", *_ONNX, {"mobile": True}, client="onnxruntime-mobile"),
        Recipe(
            "onnx-mobile-int8", "onnx", "int8", "int8", *_ONNX, {"mobile": True, "quantization": "static-qdq"}, client="onnxruntime-mobile"
        ),
        Recipe("ort-mobile-fp32", "ort", "fp32", "fp32", *_ORT, {"from": "onnx-mobile-fp32"}, client="onnxruntime-mobile"),
        Recipe("ort-mobile-int8", "ort", "int8", "int8", *_ORT, {"from": "onnx-mobile-int8"}, client="onnxruntime-mobile"),
    )
}


def float_recipe(fmt: str) -> Recipe:
    """The fp32 recipe of a format: the float twin a quantized artifact is compared with, layer by layer (only desktop
    recipes measure sensitivity, `Recipe.measures_sensitivity`, so the first fp32 recipe of the format is the one)."""
    return next(r for r in RECIPES.values() if r.format == fmt and r.compute == "fp32")


def list_recipes(defaults_only: bool = False, kind: str | None = None, input_kind: str | None = None) -> list[str]:
    """Every recipe, or the defaults (of a model kind, `models.saved.model_kind`, and an input kind)."""
    return [
        name for name, r in RECIPES.items() if not defaults_only or (r.default and kind not in r.not_default_for and r.takes(input_kind))
    ]


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ExportError(unknown_name("export recipe", name, RECIPES)) from None
