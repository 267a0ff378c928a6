"""The export manifest as typed records: what export writes and bench, the web build and the CLI read.

`ARTIFACTS/export/manifest.json` lists the source model (its digest, labels,
input contract, saved split), the gates the artifacts passed, and one `Artifact`
per recipe. `Manifest.load` validates every field it reads and names the one
that is wrong, so a hand-edited or truncated manifest is a one-line error.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sketch_edge import fileio, numbers
from sketch_edge.errors import ManifestError
from sketch_edge.runtime.base import TensorInfo


@dataclass(frozen=True)
class Parity:
    """How closely an artifact reproduces the Keras model on validation drawings."""

    top1_agreement: float
    max_abs_diff: float
    samples: int
    output_shape: tuple[int, ...] = ()  # (validation drawings, classes) as the artifact returned them
    non_finite: int = 0  # NaN or infinite output values
    flip_margins: tuple[float, ...] = ()  # of each drawing answered otherwise: Keras's top-1 minus its second


@dataclass(frozen=True)
class Artifact:
    name: str
    format: str  # tflite | onnx | saved_model
    precision: str  # fp32 | fp16 | dynamic-int8 | int8 | int8+fp32 | int16x8: how the file stores the model
    compute: str  # the arithmetic the runtime does with it (export.recipes.COMPUTE_KINDS): which peak bounds it
    path: str  # relative to the manifest's folder
    status: str = "ok"  # ok | failed
    error: str | None = None
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()
    parity: Parity | None = None
    details: dict[str, Any] = field(default_factory=dict)  # test_top1, ops; sensitivity (quantized); fallback (mixed)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        data = dict(data)
        data["inputs"] = tuple(TensorInfo(**{**t, "shape": tuple(t["shape"])}) for t in data.get("inputs", ()))
        data["outputs"] = tuple(TensorInfo(**{**t, "shape": tuple(t["shape"])}) for t in data.get("outputs", ()))
        if data.get("parity"):
            parity = dict(data["parity"])
            parity["output_shape"] = tuple(parity.get("output_shape", ()))
            parity["flip_margins"] = tuple(parity.get("flip_margins", ()))
            data["parity"] = Parity(**parity)
        else:
            data["parity"] = None
        return cls(**data)


@dataclass(frozen=True)
class Source:
    """The Keras model every artifact was made from, and the saved split they were checked on."""

    sha256: str
    model: str
    labels: tuple[str, ...]
    input: dict[str, Any]  # the input contract (data.InputSpec.to_json())
    data: dict[str, Any]  # the training data request
    keras_test_top1: float
    split_sha256: str  # of ARTIFACTS/split.npz
    macs: int | None = None
    parameters: int | None = None


@dataclass(frozen=True)
class Manifest:
    created: str
    source: Source
    libraries: dict[str, str | None]
    gates: dict[str, dict[str, Any]]  # the gate settings the artifacts were checked against
    artifacts: tuple[Artifact, ...]
    reused: bool = False  # set when export found this manifest up to date; never saved
    left_out: dict[str, str] = field(default_factory=dict)  # default recipes not made for this model's kind, and why

    def artifact(self, name: str) -> Artifact | None:
        return next((a for a in self.artifacts if a.name == name), None)

    def failed(self) -> list[str]:
        return [a.name for a in self.artifacts if a.status != "ok"]

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("reused")
        data["source"]["labels"] = list(self.source.labels)
        return data

    def save(self, path: Path) -> None:
        fileio.write_json(path, self.to_json())

    @classmethod
    def load(cls, path: Path) -> Manifest:
        try:
            data = json.loads(path.read_text())
        except FileNotFoundError:
            raise ManifestError(f"{path}: no manifest (run `make export` first)") from None
        except (OSError, ValueError, RecursionError) as exc:
            raise ManifestError(f"{path}: not a readable manifest ({exc})") from None
        return cls.from_json(data, path)

    @classmethod
    def from_json(cls, data: Any, path: Path) -> Manifest:
        check = _Checker(path)
        check.kind(data, dict, "the manifest")
        source = check.field(data, "source", dict)
        for key, kind in _SOURCE_FIELDS.items():
            check.field(source, key, kind, "source.")
        check.kind(source["labels"], list, "source.labels")
        check.number(source["keras_test_top1"], "source.keras_test_top1", 0, 1)
        for key in ("macs", "parameters"):
            if source.get(key) is not None:
                check.number(source[key], f"source.{key}", 0, numbers.MAX_COUNT * 1e6, integer=True)
        for key in ("libraries", "gates", "left_out"):
            check.kind(data.get(key) or {}, dict, key)
        artifacts = check.field(data, "artifacts", list)
        if not artifacts:
            raise ManifestError(f"{path}: the manifest lists no artifacts")
        parsed = []
        for i, entry in enumerate(artifacts):
            check.kind(entry, dict, f"artifacts[{i}]")
            for key, kind in _ARTIFACT_FIELDS.items():
                check.field(entry, key, kind, f"artifacts[{i}].")
            for key in ("bytes", "seconds"):
                if key in entry:
                    check.number(entry[key], f"artifacts[{i}].{key}", 0, 1e15, integer=key == "bytes")
            try:
                parsed.append(Artifact.from_json(entry))
            except (TypeError, KeyError, ValueError) as exc:
                raise ManifestError(f"{path}: artifacts[{i}] ({entry['name']!r}) is malformed ({exc})") from None
        try:
            return cls(
                created=str(data.get("created", "")),
                source=Source(**{**{k: source.get(k) for k in Source.__dataclass_fields__}, "labels": tuple(source["labels"])}),
                libraries=dict(data.get("libraries") or {}),
                gates=dict(data.get("gates") or {}),
                artifacts=tuple(parsed),
                left_out={str(k): str(v) for k, v in (data.get("left_out") or {}).items()},
            )
        except TypeError as exc:
            raise ManifestError(f"{path}: malformed source ({exc})") from None


_SOURCE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "sha256": str,
    "model": str,
    "labels": list,
    "input": dict,
    "data": dict,
    "keras_test_top1": (int, float),
    "split_sha256": str,
}
_ARTIFACT_FIELDS: dict[str, type | tuple[type, ...]] = {
    "name": str,
    "format": str,
    "precision": str,
    "compute": str,
    "path": str,
    "status": str,
    "sha256": str,
}


@dataclass(frozen=True)
class _Checker:
    path: Path

    def kind(self, value: Any, kind: type | tuple[type, ...], where: str) -> Any:
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            names = " or ".join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))
            raise ManifestError(f"{self.path}: {where} should be {names}, not {type(value).__name__}")
        return value

    def number(self, value: Any, where: str, lo: float, hi: float, integer: bool = False) -> Any:
        try:
            return numbers.check(value, lo=lo, hi=hi, integer=integer)
        except ValueError as exc:
            raise ManifestError(f"{self.path}: {where} {exc}") from None

    def field(self, data: dict[str, Any], key: str, kind: type | tuple[type, ...], prefix: str = "") -> Any:
        if key not in data:
            raise ManifestError(f"{self.path}: {prefix}{key} is missing")
        return self.kind(data[key], kind, f"{prefix}{key}")


def resolve(export_dir: Path, artifact: Artifact) -> Path:
    """The artifact's file, which must lie inside the export folder: a manifest cannot point anywhere else."""
    root = export_dir.resolve()
    path = (export_dir / artifact.path).resolve()
    if Path(artifact.path).is_absolute() or not path.is_relative_to(root) or path == root:
        raise ManifestError(f"{export_dir / 'manifest.json'}: artifact {artifact.name!r} path {artifact.path!r} leaves the export folder")
    return path
