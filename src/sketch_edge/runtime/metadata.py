"""Reading what the export stage embeds in an artifact: labels, input contract, model, recipe.

ONNX: `metadata_props` entries. TFLite: an associated-file zip appended to the
flatbuffer (the layout TFLite's own metadata tools use for label files), holding
`sketch_edge.json`; interpreters ignore it, `zipfile` reads it. Reading needs
neither TensorFlow nor the onnx package. `sketch_edge.export.metadata` writes it.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError

METADATA_FILE = "sketch_edge.json"
ONNX_KEY = "sketch_edge"


def tflite_metadata(path: Path) -> dict[str, Any] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            return _parse(archive.read(METADATA_FILE), path)
    except (zipfile.BadZipFile, KeyError):
        return None


def onnx_metadata(props: dict[str, str], path: Path) -> dict[str, Any] | None:
    """From an ONNX Runtime session's `get_modelmeta().custom_metadata_map`."""
    return _parse(props[ONNX_KEY], path) if ONNX_KEY in props else None


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The sketch-edge metadata of a `.tflite` or `.onnx` file, or None when it carries none."""
    path = Path(path)
    if path.suffix == ".tflite":
        return tflite_metadata(path)
    if path.suffix == ".onnx":
        from sketch_edge.runtime.onnxruntime import OnnxRuntimeRunner

        return OnnxRuntimeRunner.load(path, threads=1).metadata
    raise ModelError(f"{path}: metadata is read from .tflite and .onnx files only")


def _parse(text: bytes | str, path: Path) -> dict[str, Any]:
    try:
        metadata = json.loads(text)
    except ValueError:
        raise ModelError(f"{path}: its sketch-edge metadata is not valid JSON") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: its sketch-edge metadata is not a JSON object")
    return metadata
