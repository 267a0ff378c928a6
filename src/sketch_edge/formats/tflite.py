"""TFLite flatbuffers: the project's metadata as an associated-file zip appended to the flatbuffer.

Interpreters ignore bytes after the flatbuffer; `zipfile` finds the archive from
its end, so reading needs neither TensorFlow nor LiteRT. The zip holds
`sketch_edge.json` and `labels.txt`.
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError
from sketch_edge.formats.base import MAX_METADATA_BYTES, Format, parse_metadata

METADATA_FILE = "sketch_edge.json"


def read_metadata(path: Path) -> dict[str, Any] | None:
    try:
        with zipfile.ZipFile(path) as archive:
            size = archive.getinfo(METADATA_FILE).file_size  # zipfile never inflates past the declared size
            if size > MAX_METADATA_BYTES:
                raise ModelError(f"{path}: its metadata would inflate to {size:,} bytes (limit {MAX_METADATA_BYTES:,}); refusing it")
            return parse_metadata(archive.read(METADATA_FILE), path)
    except (zipfile.BadZipFile, KeyError):
        return None
    except (OSError, EOFError, zlib.error) as exc:
        raise ModelError(f"{path}: its metadata cannot be read ({exc})") from None


def embed_metadata(path: Path, metadata: dict[str, Any]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA_FILE, json.dumps(metadata, sort_keys=True))
        archive.writestr("labels.txt", "".join(f"{label}\n" for label in metadata["labels"]))
    with open(path, "ab") as handle:
        handle.write(buffer.getvalue())


def count_ops(path: Path) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    return [op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()]


FORMAT = Format("tflite", (".tflite",), read_metadata, embed_metadata, count_ops)
