"""The record of one exported artifact, as the manifest stores it and the bench and apps read it."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sketch_edge.runtime.base import TensorInfo


@dataclass(frozen=True)
class Parity:
    """How closely an artifact reproduces the Keras model on validation drawings."""

    top1_agreement: float
    max_abs_diff: float
    samples: int


@dataclass(frozen=True)
class Artifact:
    name: str
    format: str  # tflite | onnx | saved_model
    precision: str  # fp32 | fp16 | dynamic-int8 | int8 | ...
    path: str  # relative to the manifest
    status: str = "ok"  # ok | failed
    error: str | None = None
    bytes: int = 0
    sha256: str = ""
    seconds: float = 0.0
    inputs: tuple[TensorInfo, ...] = ()
    outputs: tuple[TensorInfo, ...] = ()
    parity: Parity | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Artifact:
        data = dict(data)
        data["inputs"] = tuple(TensorInfo(**{**t, "shape": tuple(t["shape"])}) for t in data.get("inputs", ()))
        data["outputs"] = tuple(TensorInfo(**{**t, "shape": tuple(t["shape"])}) for t in data.get("outputs", ()))
        data["parity"] = Parity(**data["parity"]) if data.get("parity") else None
        return cls(**data)
