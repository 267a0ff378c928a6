"""The export manifest as typed records: what export writes and bench, the web build and the CLI read.

`ARTIFACTS/export/manifest.json` lists the source model (its digest, labels,
input contract, saved split), the gates the artifacts passed, and one `Artifact`
per recipe. `Manifest.load` validates every field it reads and names the one
that is wrong, so a hand-edited or truncated manifest is a one-line error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sketch_edge.errors import ManifestError, RecordError
from sketch_edge.layout import Layout
from sketch_edge.records import Count, Figure, Fraction, Record
from sketch_edge.runtime.base import TensorInfo

__all__ = [
    "ARM_FAILURE",
    "FILES_MADE_ELSEWHERE",
    "ArmCheck",
    "Artifact",
    "ClientCheck",
    "Details",
    "Fallback",
    "Manifest",
    "Parity",
    "ProviderCoverage",
    "SensitivitySummary",
    "Source",
    "TensorInfo",
    "TwinCheck",
    "resolve",
]


@dataclass(frozen=True)
class Parity(Record):
    """How closely an artifact reproduces the Keras model on validation drawings."""

    top1_agreement: Fraction
    max_abs_diff: float | None  # None: an output was not a finite number
    samples: Count
    output_shape: tuple[Count, ...] = ()  # (validation drawings, classes) as the artifact returned them
    non_finite: Count = 0  # NaN or infinite output values
    flip_margins: tuple[float, ...] = ()  # of each drawing answered otherwise: Keras's top-1 minus its second
    noise: float | None = None  # the file's own noise: 95th percentile over the drawings of the largest |output - Keras's|
    near_ties: Count = 0  # drawings whose Keras top two are within 2 x noise: either answer is within the file's noise


@dataclass(frozen=True)
class SensitivitySummary(Record):
    """What the manifest keeps of an int8 file's per-layer report (export.sensitivity; the report is its own file)."""

    worst_layer: str | None = None  # None with `layers` 0: no layer matched
    worst_added_noise: float | None = None
    worst_sqnr_db: float | None = None
    output_sqnr_db: float | None = None
    layers: Count = 0
    skipped: Count = 0
    error: str | None = None  # not measured, and why (the file passed or failed its own gates regardless)


@dataclass(frozen=True)
class FallbackStep(Record):
    k: Count  # Keras layers in float
    validation_top1: Fraction
    lost: Count
    gained: Count
    agreement: Fraction


@dataclass(frozen=True)
class Fallback(Record):
    """How a mixed recipe chose its float layers (export.fallback)."""

    k: Count  # float layers in the file kept
    float_layers: tuple[str, ...]
    float_ops: Count
    max_drop: Fraction
    keras_validation_top1: Fraction
    stopped: str
    budget_s: Figure
    seconds: Figure
    tried: tuple[FallbackStep, ...]


@dataclass(frozen=True)
class ProviderCoverage(Record):
    """ONNX Runtime Mobile's usability checker on one execution provider (`export.mobile.usability`)."""

    provider: str  # NNAPI | CoreML NeuralNetwork | CoreML MLProgram
    verdict: str  # YES | MAYBE | NO: "should the model perform well with it as is"
    supported_nodes: Count
    nodes: Count
    partitions: Count
    unsupported_ops: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClientCheck(Record):
    """A mobile client's own run of the file (MediaPipe Tasks' ImageClassifier) against the runtime's answers."""

    client: str  # the client and its version
    status: str  # ok | failed | skipped (the client is not installed)
    samples: Count = 0
    agreement: Fraction | None = None  # of its top-1 with the runtime's on the same file
    client_top1: Fraction | None = None  # on the test drawings, as the client answers
    runtime_top1: Fraction | None = None  # the same file in its default runtime (LiteRT)
    labels_from_metadata: bool | None = None  # every category it named is the metadata's label of that index
    reason: str | None = None  # failed or skipped: why


@dataclass(frozen=True)
class TwinCheck(Record):
    """A converted file against the artifact it was converted from (an `.ort` file and its `.onnx` twin)."""

    twin: str  # the recipe converted from
    sha256: str  # of the twin's file as it was converted
    max_abs_diff: float | None  # None: an output was not finite
    agreement: Fraction
    samples: Count


ARM_FAILURE = "on emulated Arm: "
"""How an artifact's error starts when only `verify-arm` failed it: its file is intact, export need not make it again."""


@dataclass(frozen=True)
class ArmCheck(Record):
    """The file run on one emulated Arm CPU (qemu user mode) against its own x86 answers (`export.arm`)."""

    status: str  # ok | failed: beyond the tolerance on some drawing, or it did not run
    samples: Count = 0
    agreement: Fraction | None = None  # of its top-1 with the x86 top-1 of the same file
    max_abs_diff: float | None = None  # None: not run, or an output was not finite
    max_steps: float | None = None  # max |diff| in steps of the quantized output (None: a float output)
    differing: Count = 0  # drawings on which any output differs from x86 at all
    tolerance: str = ""  # what it was held to: "1 step(s) of 0.00390625" | "1e-04"
    top1: Fraction | None = None  # its answers' top-1 on these drawings, here ...
    x86_top1: Fraction | None = None  # ... and on x86
    keras_max_abs_diff: float | None = None  # its outputs against Keras's on these drawings, here ...
    x86_keras_max_abs_diff: float | None = None  # ... and on x86: which side a difference comes from
    kernels: str = ""  # what ran it there: "XNNPACK delegate", "ONNX Runtime CPU execution provider (MLAS)"
    features: tuple[str, ...] = ()  # the emulated CPU's features as the runtime saw them (/proc/cpuinfo)
    emulator: str = ""  # "qemu-aarch64 10.0.13 (Debian 1:10.0.13+ds-0+deb13u1)"
    reference: str = ""  # the x86 CPU the answers were compared with
    reason: str | None = None  # failed: why


@dataclass(frozen=True)
class Details(Record):
    """What export measured of an artifact beyond parity."""

    test_top1: Fraction | None = None
    test_samples: Count | None = None
    test_changes: tuple[Count, Count] | None = None  # (lost, gained): test drawings Keras gets right and it wrong, and back
    ops: dict[str, Count] = field(default_factory=dict)  # operator -> how many, most frequent first
    sensitivity: SensitivitySummary | None = None  # quantized recipes
    fallback: Fallback | None = None  # mixed recipes
    recurrent: str | None = None  # how a recurrent layer was unrolled for the converter
    client: ClientCheck | None = None  # mobile recipes checked by a mobile client
    providers: tuple[ProviderCoverage, ...] = ()  # fixed-batch ONNX files: the mobile usability checker's verdicts
    twin: TwinCheck | None = None  # converted recipes (`.ort`)
    arm: dict[str, ArmCheck] = field(default_factory=dict)  # emulated Arm CPU (cortex-a55, ...) -> its run (`verify-arm`)


@dataclass(frozen=True)
class Artifact(Record):
    name: str
    format: str  # a registered format (sketch_edge.formats): tflite | onnx | saved_model
    precision: str  # fp32 | fp16 | dynamic-int8 | int8 | int8+fp32 | int16x8: how the file stores the model
    compute: str  # the arithmetic the runtime does with it (export.recipes.COMPUTE_KINDS): which peak bounds it
    path: str  # relative to the manifest's folder
    status: str = "ok"  # ok | failed
    error: str | None = None
    bytes: Count = 0
    sha256: str = ""
    seconds: Figure = 0.0
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()
    parity: Parity | None = None
    details: Details = field(default_factory=Details)


FILES_MADE_ELSEWHERE = "files made elsewhere"
"""A Source's origin when the artifacts are the user's own files (`bench --model`): there is no Keras model, and the
reference every file is compared with is the first float file given (`export.files`)."""


@dataclass(frozen=True)
class Source(Record):
    """The Keras model every artifact was made from (or, for files made elsewhere, the file they are compared with),
    and the saved split they were checked on."""

    sha256: str
    model: str
    labels: tuple[str, ...]
    input: dict[str, Any]  # the input contract (data.InputSpec.to_json())
    data: dict[str, Any]  # the training data request
    keras_test_top1: Fraction
    split_sha256: str  # of ARTIFACTS/split.npz
    macs: Count | None = None
    parameters: Count | None = None
    origin: str = "trained by sketch-edge"  # or "trained elsewhere" (`export --model`: ARTIFACTS/origin.json says more),
    # or FILES_MADE_ELSEWHERE (`bench --model`: `model` is then the reference file, `keras_test_top1` its top-1)
    outputs: str = "probabilities"  # "logits": the model's own outputs were logits, and a Softmax was appended

    @property
    def has_keras(self) -> bool:
        """Whether a Keras model is the reference (else the artifacts are files made elsewhere, compared with one)."""
        return self.origin != FILES_MADE_ELSEWHERE

    @property
    def reference(self) -> str:
        """What the tables call the reference the files are compared with."""
        return "Keras" if self.has_keras else f"the reference file {self.model}"


@dataclass(frozen=True)
class Manifest(Record):
    FILE = "manifest.json"
    SCHEMA_VERSION = 6  # 1: the first with a version; 2: the mobile checks (Details.client/providers/twin), reduced_build;
    # 3: the emulated Arm runs (Details.arm); 4: Source.origin and Source.outputs, and the input contract's colour,
    # scale and offset (a model trained elsewhere); 5: Parity.noise and near_ties (the near-tie-aware int8 gate);
    # 6: after_export, each format's file made after export, in place of the .ort format's reduced_build.
    READS_VERSIONS = (3, 4, 5)  # a 3 or 4 lacks only fields whose defaults it meant; a 5's reduced_build is read below

    created: str
    source: Source
    libraries: dict[str, str | None]
    gates: dict[str, dict[str, Any]]  # the gate settings the artifacts were checked against
    artifacts: tuple[Artifact, ...]
    left_out: dict[str, str] = field(default_factory=dict)  # default recipes not made for this model's architecture or input, and why
    after_export: dict[str, str] = field(default_factory=dict)  # format -> its file made from all its files (`Format.after_export`)
    reused: bool = False  # set when export found this manifest up to date; never saved

    def artifact(self, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def failed(self) -> list[str]:
        return [a.name for a in self.artifacts if a.status != "ok"]

    def made(self, name: str) -> Artifact | None:
        """The artifact if export made its file: ok, or failed only on emulated Arm afterwards."""
        a = self.artifact(name)
        return a if a is not None and (a.status == "ok" or (a.error or "").startswith(ARM_FAILURE)) else None

    def to_json(self) -> dict[str, Any]:
        data = super().to_json()
        data.pop("reused")
        return data

    @classmethod
    def from_json(cls, data: Any, where: str = "") -> Manifest:
        """Versions 2 to 5 named one after-export file, the .ort files' reduced-build config, `reduced_build`."""
        if isinstance(data, dict) and not where and "reduced_build" in data and data.get("schema_version") in cls.READS_VERSIONS:
            old = data["reduced_build"]
            data = {k: v for k, v in data.items() if k != "reduced_build"} | {"after_export": {"ort": old} if old is not None else {}}
        return super().from_json(data, where)

    def check(self, where: str) -> None:
        if not self.artifacts:
            raise RecordError("the manifest lists no artifacts")
        if self.reused:
            raise RecordError("reused is not a field of a saved manifest")

    @classmethod
    def upgrade_hint(cls) -> str:
        return "export again with this version (`make export`)"

    @classmethod
    def load(cls, path: Path, missing: str | None = None) -> Manifest:
        """The manifest at `path`; a one-line ManifestError naming the file and the field otherwise (without one: the
        command that makes it, for the folder it belongs to)."""
        missing = missing or f"no manifest (run {Layout(path.parent.parent).export_command} first)"
        try:
            return super().load(path, missing)
        except RecordError as exc:
            raise ManifestError(str(exc)) from None


def resolve(export_dir: Path, artifact: Artifact) -> Path:
    """The artifact's file, which must lie inside the export folder: a manifest cannot point anywhere else."""
    root = export_dir.resolve()
    path = (export_dir / artifact.path).resolve()
    if Path(artifact.path).is_absolute() or not path.is_relative_to(root) or path == root:
        raise ManifestError(f"{export_dir / 'manifest.json'}: artifact {artifact.name!r} path {artifact.path!r} leaves the export folder")
    return path
