"""What an app needs to use an artifact without the manifest, carried inside the file.

ONNX: `metadata_props` entries. TFLite: an associated-file zip appended to the
flatbuffer (the layout TFLite's own metadata tools use for label files), holding
`sketch_edge.json`; interpreters ignore it, `zipfile` reads it. Both are read
back by `read_metadata`, which needs neither TensorFlow nor onnx.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError

METADATA_FILE = "sketch_edge.json"
ONNX_KEY = "sketch_edge"


def embed_metadata(path: Path, fmt: str, metadata: dict[str, Any]) -> None:
    text = json.dumps(metadata, sort_keys=True)
    if fmt == "tflite":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA_FILE, text)
            archive.writestr("labels.txt", "".join(f"{label}\n" for label in metadata["labels"]))
        with open(path, "ab") as handle:
            handle.write(buffer.getvalue())
    elif fmt == "onnx":
        import onnx

        model = onnx.load(str(path))
        del model.metadata_props[:]
        onnx.helper.set_model_props(model, {ONNX_KEY: text, "labels": json.dumps(metadata["labels"])})
        onnx.save(model, str(path))


def read_metadata(path: str | Path) -> dict[str, Any] | None:
    """The sketch-edge metadata of a `.tflite` or `.onnx` file, or None when it carries none."""
    path = Path(path)
    if path.suffix == ".tflite":
        try:
            with zipfile.ZipFile(path) as archive:
                return json.loads(archive.read(METADATA_FILE))
        except (zipfile.BadZipFile, KeyError):
            return None
    if path.suffix == ".onnx":
        import onnxruntime as ort

        try:
            props = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).get_modelmeta().custom_metadata_map
        except Exception as exc:  # ORT's own exception types
            raise ModelError(f"{path}: not a loadable ONNX model ({str(exc).strip().splitlines()[0]})") from None
        return json.loads(props[ONNX_KEY]) if ONNX_KEY in props else None
    raise ModelError(f"{path}: metadata is read from .tflite and .onnx files only")
