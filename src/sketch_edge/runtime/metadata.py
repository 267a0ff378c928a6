"""Reading what the export stage embeds in an artifact: labels, input contract, model, recipe.

ONNX: `metadata_props` entries. TFLite: an associated-file zip appended to the
flatbuffer (the layout TFLite's own metadata tools use for label files), holding
`sketch_edge.json`; interpreters ignore it, `zipfile` reads it. Reading needs
neither TensorFlow nor the onnx package. `sketch_edge.export.metadata` writes it.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError

METADATA_FILE = "sketch_edge.json"
ONNX_KEY = "sketch_edge"
MAX_METADATA_BYTES = 1 << 20
"""Labels and the input contract take a few kB even for 345 classes; a larger member is refused unread."""


def tflite_metadata(path: Path) -> dict[str, Any] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo(METADATA_FILE).file_size  # zipfile never inflates past the declared size
            if size > MAX_METADATA_BYTES:
                raise ModelError(f"{path}: its metadata would inflate to {size:,} bytes (limit {MAX_METADATA_BYTES:,}); refusing it")
            return _parse(archive.read(METADATA_FILE), path)
    except (zipfile.BadZipFile, KeyError):
        return None
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelError(f"{path}: its metadata cannot be read ({exc})") from None


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
    if len(text) > MAX_METADATA_BYTES:
        raise ModelError(f"{path}: its sketch-edge metadata is {len(text):,} bytes (limit {MAX_METADATA_BYTES:,})")
    try:
        metadata = json.loads(text)
    except (ValueError, RecursionError):
        raise ModelError(f"{path}: its sketch-edge metadata is not valid JSON (or nested too deep)") from None
    if not isinstance(metadata, dict):
        raise ModelError(f"{path}: its sketch-edge metadata is not a JSON object")
    return metadata
