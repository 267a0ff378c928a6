"""Embedding what an app needs to use an artifact without the manifest, inside the file.

The layout (ONNX `metadata_props`, TFLite appended zip) and its reader live in
`sketch_edge.runtime.metadata`, which apps use without TensorFlow.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path
from typing import Any

from sketch_edge.runtime.metadata import METADATA_FILE, ONNX_KEY


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
