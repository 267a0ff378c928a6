"""Export recipes: a name -> the exporter that makes it, its format, precision and gate.

Exporters are named as "module:function" and imported inside the worker
subprocess, so a converter that crashes takes down only its own process.
Every recipe declares its compute kind: the arithmetic a runtime does with the
file, which says which measured peak bounds it (the bench) and which gate it meets.
Every exporter has one signature:
`export_<format>(model, out, *, input_spec, recipe, calibration, float_layers=()) -> Artifact`.

The mobile recipes make what the mobile toolchains take as it is (batch 1;
MediaPipe's RGB input for TFLite, `.ort` files for ONNX Runtime Mobile) and name
the `client` whose own check they pass at export (`export.mobile`). A recipe
that `converts` another recipe's file (its twin) is exported after it.

Two things are done by the export worker rather than an exporter: a quantized
recipe is compared layer by layer with its format's fp32 recipe (the
sensitivity report), and a `fallback` recipe is a mixed one: the worker moves
the noisiest layer to float, one at a time, passing them to the exporter as
`float_layers`, until validation top-1 is near Keras's (`export.fallback`).
Registry records are built by keyword only (`kw_only`): a field is never read by counting commas.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sketch_edge import numbers
from sketch_edge.data.dataset import InputSpec
from sketch_edge.errors import ExportError, RecordError, unknown_name
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


@dataclass(frozen=True, kw_only=True)
class Gate:
    """What an artifact must reproduce of the Keras model to be `ok`."""

    min_agreement: float
    max_abs_diff: float | None
    max_top1_drop: float = MAX_TOP1_DROP


GATES = {
    "fp32": Gate(min_agreement=0.999, max_abs_diff=1e-4),
    # fp16 weights round each weight by up to 2^-11 of itself, and the rounding adds up with depth; measured on
    # probabilities: 6.5e-4 (cnn-bn), 1.9e-3 (seq-conv), 2.5e-3 (seq-lstm), 7.6e-3 (MobileNetV3Small) and 2.3e-2
    # (MobileNetV2-0.35, 52 convolutions), every one with 100% top-1 agreement. 3e-2 passes rounding and still fails
    # a conversion that changes the outputs (a lost softmax, a wrong layer); agreement and non-finite outputs apart.
    "fp16": Gate(min_agreement=0.999, max_abs_diff=3e-2),
    "quantized": Gate(min_agreement=0.98, max_abs_diff=None),
}


QUANTIZATIONS = ("fp16", "dynamic", "int8", "int16x8", "static-qdq")
"""What a recipe asks its converter for: TFLite's float16, dynamic-range, full-integer and 16x8 modes; ONNX Runtime's
dynamic and static QDQ quantization."""


@dataclass(frozen=True, kw_only=True)
class Recipe(Record):
    name: str
    format: str  # a registered format (sketch_edge.formats)
    precision: str
    compute: str  # a key of COMPUTE_KINDS
    exporter: str  # "module:function"
    libraries: tuple[str, ...]  # the distributions that make and check the file: the manifest names their versions
    quantization: str | None = None  # one of QUANTIZATIONS; None: float
    mobile: bool = False  # the mobile form: batch 1, what the mobile toolchains take as it is
    rgb_input: bool = False  # its files take the RGB form of a picture input (MediaPipe's ImageClassifier feeds RGB)
    converts: str | None = None  # the recipe whose file it converts (its twin, exported first), or None
    fallback: bool = False  # a mixed recipe: the worker moves the noisiest layers to float (export.fallback)
    default: bool = True
    not_default_for: dict[str, str] = field(default_factory=dict)  # architecture (models.saved.architecture_of) -> why not
    cannot_run_on: dict[str, str] = field(default_factory=dict)  # runtime -> why its files do not load there
    input_kinds: tuple[str, ...] = ()  # the model input kinds it is made for (empty: any)
    client: str | None = None  # the mobile client that takes its files: a key of CLIENTS

    def file_input(self, contract: InputSpec) -> InputSpec:
        """The input its files take: the model's contract, or its RGB form (`input: rgb`, the MediaPipe recipes)."""
        return contract.rgb() if self.rgb_input else contract

    def takes(self, input_kind: str | None) -> bool:
        """Whether it is made for models of this input kind (None: not asked)."""
        return input_kind is None or not self.input_kinds or input_kind in self.input_kinds

    def not_for(self, input_kind: str) -> str | None:
        """Why its files are not made for a model of this input kind, or None."""
        return None if self.takes(input_kind) else f"made for {' and '.join(self.input_kinds)} models; this model reads {input_kind}"

    @property
    def measures_sensitivity(self) -> bool:
        """Quantized, by a quantizer, in the desktop form: a converted file's layers are its twin's, and a mobile file's
        the desktop recipe's (the same quantizer on the same model; its fixed batch would not take the samples at once)."""
        return self.quantized and self.converts is None and not self.mobile

    @property
    def suffix(self) -> str:
        """Of its files: its format's (sketch_edge.formats)."""
        return FORMATS[self.format].suffixes[0]

    def twin_path(self, out: Path) -> Path:
        """The file of the recipe this one converts (`converts`), beside `out`: export writes every recipe's file as
        its name and suffix in one folder."""
        if self.converts is None:
            raise ValueError(f"{self.name} converts no other recipe's file")
        return out.with_name(f"{self.converts}{RECIPES[self.converts].suffix}")

    @property
    def quantized(self) -> bool:
        """Whether its arithmetic is quantized (then its sensitivity is measured against the fp32 file of its format)."""
        return self.compute not in ("fp32", "fp16")

    def check(self, where: str) -> None:
        if self.quantization is not None and self.quantization not in QUANTIZATIONS:
            raise RecordError(f"quantization {self.quantization!r} is not one of {', '.join(QUANTIZATIONS)}")

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
    return parts[0], Gate(min_agreement=agreement, max_abs_diff=max_diff, max_top1_drop=max_top1_drop)


@dataclass(frozen=True, kw_only=True)
class Client:
    """A mobile client a recipe's files are checked by at export: what it is, and its check ("module:function", taking
    the file, its Details and `export.mobile.ClientExamples`, returning the Details with the client's verdict)."""

    name: str
    description: str
    check: str
    target: str  # where its files run, as the bench's answer names the target
    runs_here: str  # the runtime whose cells stand in for it on this machine (its files in that runtime, one thread)


CLIENTS: dict[str, Client] = {
    c.name: c
    for c in (
        Client(
            name="mediapipe",
            description="MediaPipe Tasks ImageClassifier (Android, iOS, web, Python): runs the file on the test drawings",
            check="sketch_edge.export.mobile:mediapipe_check",
            target="MediaPipe Tasks on Android and iOS",
            runs_here="litert",
        ),
        Client(
            name="onnxruntime-mobile",
            description="ONNX Runtime Mobile (Android, iOS): its usability checker per execution provider",
            check="sketch_edge.export.mobile:ort_mobile_check",
            target="ONNX Runtime Mobile on Android and iOS",
            runs_here="onnxruntime",
        ),
    )
}
"""The mobile clients a recipe's files are checked by at export (export.mobile): a new one is a check function and a line."""

_SAVED: dict[str, Any] = {"exporter": "sketch_edge.export.saved_model:export_saved_model", "libraries": ("tensorflow",)}
_TFLITE: dict[str, Any] = {
    "format": "tflite",
    "exporter": "sketch_edge.export.tflite:export_tflite",
    "libraries": ("tensorflow", "ai-edge-litert"),
}
_ONNX: dict[str, Any] = {
    "format": "onnx",
    "exporter": "sketch_edge.export.onnx:export_onnx",
    "libraries": ("tensorflow", "tf2onnx", "onnx", "onnxruntime"),
}
_ORT: dict[str, Any] = {"format": "ort", "exporter": "sketch_edge.export.ort:export_ort", "libraries": ("onnx", "onnxruntime")}
_AEQ: dict[str, Any] = {
    "format": "tflite",
    "exporter": "sketch_edge.export.ai_edge_quantizer:export_aeq",
    "libraries": ("tensorflow", "ai-edge-quantizer", "ai-edge-litert"),
    "cannot_run_on": {"openvino": "OpenVINO's TFLite reader cannot load ai-edge-quantizer's files (Check 'opts != nullptr')"},
}
# Measured on seq-gru and seq-lstm trained on strokes/ (the export of every other recipe of theirs takes 15 s or less):
_RECURRENT = {
    "tflite-int8-aeq": "ai-edge-quantizer's calibration of the unrolled cell takes about 2 minutes, and its int8 file "
    "missed the 98% agreement gate (96.7% on seq-gru)",
    "tflite-int8-mixed": "its float-fallback search over the unrolled cell (ai-edge-quantizer, hundreds of ops a step) "
    "outlives the export's time-out",
    "onnx-int8-mixed": "ONNX Runtime's QDQ keeps the recurrent operator in float already, and excluding its nodes crashed "
    "ONNX Runtime (SIGABRT) on seq-gru",
}
_MEDIAPIPE: dict[str, Any] = {"mobile": True, "rgb_input": True, "input_kinds": ("bitmap", "image"), "client": "mediapipe"}
_ORT_MOBILE: dict[str, Any] = {"mobile": True, "client": "onnxruntime-mobile"}
_FP32: dict[str, Any] = {"precision": "fp32", "compute": "fp32"}
_INT8: dict[str, Any] = {"precision": "int8", "compute": "int8"}
_DYNAMIC: dict[str, Any] = {"precision": "dynamic-int8", "compute": "dynamic-int8"}
_MIXED: dict[str, Any] = {"precision": "int8+fp32", "compute": "int8", "fallback": True}


RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        Recipe(name="saved_model", format="saved_model", **_FP32, **_SAVED),
        Recipe(name="tflite-fp32", **_FP32, **_TFLITE),
        Recipe(name="tflite-fp16", precision="fp16", compute="fp16", quantization="fp16", **_TFLITE),
        Recipe(name="tflite-dynamic", quantization="dynamic", **_DYNAMIC, **_TFLITE),
        Recipe(name="tflite-int8", quantization="int8", **_INT8, **_TFLITE),
        Recipe(name="tflite-int8-aeq", **_INT8, **_AEQ, not_default_for={"recurrent": _RECURRENT["tflite-int8-aeq"]}),
        Recipe(name="tflite-int8-mixed", **_MIXED, **_AEQ, not_default_for={"recurrent": _RECURRENT["tflite-int8-mixed"]}),
        Recipe(name="tflite-int16x8", precision="int16x8", compute="int16x8", quantization="int16x8", default=False, **_TFLITE),
        Recipe(name="onnx-fp32", **_FP32, **_ONNX),
        Recipe(name="onnx-int8", quantization="static-qdq", **_INT8, **_ONNX),
        Recipe(
            name="onnx-int8-mixed",
            quantization="static-qdq",
            **_MIXED,
            **_ONNX,
            not_default_for={"recurrent": _RECURRENT["onnx-int8-mixed"]},
        ),
        Recipe(name="onnx-int8-dynamic", quantization="dynamic", **_DYNAMIC, **_ONNX),
        Recipe(name="tflite-mobile-fp32", **_FP32, **_TFLITE, **_MEDIAPIPE),
        Recipe(name="tflite-mobile-int8", quantization="int8", **_INT8, **_TFLITE, **_MEDIAPIPE),
        Recipe(name="onnx-mobile-fp32", **_FP32, **_ONNX, **_ORT_MOBILE),
        Recipe(name="onnx-mobile-int8", quantization="static-qdq", **_INT8, **_ONNX, **_ORT_MOBILE),
        Recipe(name="ort-mobile-fp32", converts="onnx-mobile-fp32", **_FP32, **_ORT, **_ORT_MOBILE),
        Recipe(name="ort-mobile-int8", converts="onnx-mobile-int8", **_INT8, **_ORT, **_ORT_MOBILE),
    )
}


def float_recipe(format_name: str) -> Recipe:
    """The fp32 recipe of a format: the float twin a quantized artifact is compared with, layer by layer (only desktop
    recipes measure sensitivity, `Recipe.measures_sensitivity`, so the first fp32 recipe of the format is the one)."""
    return next(r for r in RECIPES.values() if r.format == format_name and r.compute == "fp32")


def list_recipes(defaults_only: bool = False, architecture: str | None = None, input_kind: str | None = None) -> list[str]:
    """Every recipe, or the defaults (of an architecture, `models.saved.architecture_of`, and an input kind)."""
    return [
        name
        for name, r in RECIPES.items()
        if not defaults_only or (r.default and architecture not in r.not_default_for and r.takes(input_kind))
    ]


def get_recipe(name: str) -> Recipe:
    try:
        return RECIPES[name]
    except KeyError:
        raise ExportError(unknown_name("export recipe", name, RECIPES)) from None
