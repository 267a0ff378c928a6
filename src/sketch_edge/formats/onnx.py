"""ONNX models: the project's metadata as `metadata_props` entries (key `sketch_edge`, and `labels`).

Reading walks the protobuf wire format of the ModelProto's top-level fields
(the public onnx.proto: `metadata_props` is field 14, each a StringStringEntryProto
of key 1 and value 2), so it needs neither the onnx package nor an ONNX Runtime
session: the graph is skipped by its length, never parsed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sketch_edge.errors import ModelError
from sketch_edge.formats.base import Format, parse_metadata

METADATA_KEY = "sketch_edge"
_METADATA_PROPS = 14


def read_metadata(path: Path) -> dict[str, Any] | None:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc})") from None
    try:
        props = {}
        for number, value in _fields(data):
            if number == _METADATA_PROPS and isinstance(value, bytes):
                entry = dict(_fields(value))
                key, text = entry.get(1, b""), entry.get(2, b"")
                if isinstance(key, bytes) and isinstance(text, bytes):
                    props[key.decode("utf-8", "replace")] = text
    except ValueError as exc:
        raise ModelError(f"{path}: not an ONNX model ({exc})") from None
    return parse_metadata(props[METADATA_KEY], path) if METADATA_KEY in props else None


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of each field of one protobuf message: varints as ints, length-delimited as bytes."""
    at = 0
    while at < len(data):
        key, at = _varint(data, at)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, at = _varint(data, at)
            yield number, value
        elif wire == 2:
            size, at = _varint(data, at)
            if at + size > len(data):
                raise ValueError("a field runs past the end of the file (truncated?)")
            yield number, data[at : at + size]
            at += size
        elif wire in (1, 5):
            at += 8 if wire == 1 else 4
        else:
            raise ValueError(f"protobuf wire type {wire} at byte {at}")


def _varint(data: bytes, at: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if at >= len(data) or shift > 63:
            raise ValueError("a truncated or overlong varint")
        byte = data[at]
        value |= (byte & 0x7F) << shift
        at, shift = at + 1, shift + 7
        if not byte & 0x80:
            return value, at


def embed_metadata(path: Path, metadata: dict[str, Any]) -> None:
    import onnx

    model = onnx.load(str(path))
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, {METADATA_KEY: json.dumps(metadata, sort_keys=True), "labels": json.dumps(metadata["labels"])})
    onnx.save(model, str(path))


def count_ops(path: Path) -> list[str]:
    import onnx

    return [node.op_type for node in onnx.load(str(path)).graph.node]


def check(path: Path) -> None:
    import onnx

    onnx.checker.check_model(str(path), full_check=True)


FORMAT = Format("onnx", (".onnx",), read_metadata, embed_metadata, count_ops, check)
