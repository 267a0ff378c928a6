"""Standard TFLite Model Metadata, written and read without tflite-support.

Android Studio's model binding, MediaPipe Tasks and the Task Library read a
model's labels, input normalization and image properties from one place: a
`ModelMetadata` flatbuffer (file identifier `M001`) in a model buffer named
`TFLITE_METADATA`, with its associated files (the labels) appended to the
model as one zip. The tables here follow the public schema,
`tensorflow_lite_support/metadata/metadata_schema.fbs` (1.0.0 fields only):
`tflite-support` cannot be installed beside the pins (it wants protobuf<4), and
mediapipe's own writer does not import from its wheel. The model side is the
TFLite schema module LiteRT ships (`ai_edge_litert.schema_py_generated`).

A table is written from a `Table` (its fields by slot number, as the schema
lists them) and read back by `read` into plain dicts named like the schema.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import flatbuffers
import numpy as np
from flatbuffers import number_types as nt

METADATA_BUFFER = "TFLITE_METADATA"
FILE_IDENTIFIER = b"M001"
PARSER_VERSION = "1.0.0"  # every field written here exists since the schema's 1.0.0
LABELS_FILE = "labels.txt"

# enums of metadata_schema.fbs
TENSOR_AXIS_LABELS = 2
DESCRIPTIONS = 1
COLOR_SPACES = {"RGB": 1, "GRAYSCALE": 2}
FEATURE_PROPERTIES, IMAGE_PROPERTIES = 1, 2  # ContentProperties union
NORMALIZATION_OPTIONS = 1  # ProcessUnitOptions union


@dataclass
class Table:
    """A table to write: slot -> ("str" | "u8" | "u32" | "floats" | "table" | "tables" | "strs", value)."""

    fields: dict[int, tuple[str, Any]] = field(default_factory=dict)


def associated_file(name: str, description: str, kind: int) -> Table:
    return Table({0: ("str", name), 1: ("str", description), 2: ("u8", kind)})


def _stats(lo: float, hi: float) -> Table:
    return Table({0: ("floats", [hi]), 1: ("floats", [lo])})  # max is slot 0, min slot 1


def image_input(
    name: str,
    description: str,
    color_space: str,
    size: tuple[int, int],
    value_range: tuple[float, float],
    normalization: tuple[float, float] = (0.0, 1.0),
) -> Table:
    """An image input of (height, width) with NormalizationOptions (mean, std): a client feeds (pixel - mean) / std.
    Mean 0, std 1 (a model that scales its input itself, or an integer input) means raw pixel values."""
    height, width = size
    image = Table({0: ("u8", COLOR_SPACES[color_space]), 1: ("table", Table({0: ("u32", width), 1: ("u32", height)}))})
    content = Table({0: ("u8", IMAGE_PROPERTIES), 1: ("table", image)})
    normalization_table = Table({0: ("floats", [normalization[0]]), 1: ("floats", [normalization[1]])})
    unit = Table({0: ("u8", NORMALIZATION_OPTIONS), 1: ("table", normalization_table)})
    return Table(
        {0: ("str", name), 1: ("str", description), 3: ("table", content), 4: ("tables", [unit]), 5: ("table", _stats(*value_range))}
    )


def feature_tensor(name: str, description: str, value_range: tuple[float, float], files: list[Table] | None = None) -> Table:
    """A tensor of plain features (stroke rows, or the class probabilities with their label file)."""
    tensor = Table(
        {
            0: ("str", name),
            1: ("str", description),
            3: ("table", Table({0: ("u8", FEATURE_PROPERTIES), 1: ("table", Table())})),
            5: ("table", _stats(*value_range)),
        }
    )
    if files:
        tensor.fields[6] = ("tables", files)
    return tensor


def model_metadata(
    *, name: str, description: str, version: str, author: str, license: str, inputs: list[Table], outputs: list[Table], files: list[Table]
) -> bytes:
    """The ModelMetadata flatbuffer: one subgraph with these tensors, and the model's own associated files."""
    subgraph = Table({0: ("str", "main"), 2: ("tables", inputs), 3: ("tables", outputs)})
    root = Table(
        {
            0: ("str", name),
            1: ("str", description),
            2: ("str", version),
            3: ("tables", [subgraph]),
            4: ("str", author),
            5: ("str", license),
            6: ("tables", files),
            7: ("str", PARSER_VERSION),
        }
    )
    builder = flatbuffers.Builder(1024)
    builder.Finish(_write(builder, root), FILE_IDENTIFIER)
    return bytes(builder.Output())


def _write(builder: flatbuffers.Builder, table: Table) -> int:
    """Children first (a flatbuffer is built back to front), then the table's slots."""
    offsets: dict[int, int] = {}
    for slot, (kind, value) in table.fields.items():
        if kind == "str":
            offsets[slot] = builder.CreateString(value)
        elif kind == "floats":
            offsets[slot] = builder.CreateNumpyVector(np.asarray(value, dtype=np.float32))
        elif kind == "table":
            offsets[slot] = _write(builder, value)
        elif kind == "tables":
            children = [_write(builder, child) for child in value]
            builder.StartVector(4, len(children), 4)
            for child in reversed(children):
                builder.PrependUOffsetTRelative(child)
            offsets[slot] = builder.EndVector()
    builder.StartObject(max(table.fields, default=-1) + 1)
    for slot, (kind, value) in table.fields.items():
        if kind == "u8":
            builder.PrependUint8Slot(slot, value, 0)
        elif kind == "u32":
            builder.PrependUint32Slot(slot, value, 0)
        else:
            builder.PrependUOffsetTRelativeSlot(slot, offsets[slot], 0)
    return builder.EndObject()


def attach(model: bytes, metadata: bytes) -> bytes:
    """The model flatbuffer with `metadata` as its TFLITE_METADATA buffer (replacing one it had); the rest kept."""
    from ai_edge_litert import schema_py_generated as schema

    tree = unpack(model)
    tree.metadata = [m for m in (tree.metadata or []) if m.name not in (METADATA_BUFFER, METADATA_BUFFER.encode())]
    buffer = schema.BufferT()
    buffer.data = np.frombuffer(metadata, dtype=np.uint8)
    tree.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = METADATA_BUFFER, len(tree.buffers) - 1
    tree.metadata.append(entry)
    return pack(tree)


def unpack(model: bytes) -> Any:
    """A model file as an object tree to edit and `pack` again, its constants all inside the flatbuffer. Writers of
    large models (ai-edge-quantizer) put a buffer's bytes past the flatbuffer's end and record their `offset` and
    `size`; packing the tree again writes only the flatbuffer, so those offsets would point past the new file's end
    ("Constant buffer N specified an out of range offset" when LiteRT loads it). Only models under 2 GB are packed
    here, which a flatbuffer holds whole."""
    from ai_edge_litert import schema_py_generated as schema

    tree = schema.ModelT.InitFromPackedBuf(bytearray(model), 0)
    for buffer in tree.buffers or []:
        if buffer.offset > 1:  # 0 and 1 mean "no external data" in the schema
            end = buffer.offset + buffer.size
            if end > len(model):
                raise ValueError(f"a buffer's data at {buffer.offset}..{end} lies past the file's end ({len(model)} bytes)")
            buffer.data = np.frombuffer(model[buffer.offset : end], dtype=np.uint8)
            buffer.offset, buffer.size = 0, 0
    return tree


def pack(tree: Any) -> bytes:
    builder = flatbuffers.Builder(1024)
    builder.Finish(tree.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def metadata_buffer(model: bytes) -> bytes | None:
    """The TFLITE_METADATA buffer of a model flatbuffer, or None."""
    from ai_edge_litert import schema_py_generated as schema

    root = schema.Model.GetRootAs(model, 0)
    for i in range(root.MetadataLength()):
        entry = root.Metadata(i)
        if entry.Name() == METADATA_BUFFER.encode():
            return root.Buffers(entry.Buffer()).DataAsNumpy().tobytes()
    return None


# Reading: each table's fields by slot, as the schema names them.
_FILE = {0: ("name", "str"), 1: ("description", "str"), 2: ("type", "u8"), 3: ("locale", "str")}
_STATS = {0: ("max", "floats"), 1: ("min", "floats")}
_IMAGE = {0: ("color_space", "u8"), 1: ("default_size", {0: ("width", "u32"), 1: ("height", "u32")})}
_CONTENT = {0: ("content_properties_type", "u8"), 1: ("content_properties", _IMAGE), 2: ("range", {0: ("min", "i32"), 1: ("max", "i32")})}
_NORMALIZATION = {0: ("mean", "floats"), 1: ("std", "floats")}
_UNIT = {0: ("options_type", "u8"), 1: ("options", _NORMALIZATION)}
_TENSOR = {
    0: ("name", "str"),
    1: ("description", "str"),
    2: ("dimension_names", "strs"),
    3: ("content", _CONTENT),
    4: ("process_units", [_UNIT]),
    5: ("stats", _STATS),
    6: ("associated_files", [_FILE]),
}
_SUBGRAPH = {
    0: ("name", "str"),
    1: ("description", "str"),
    2: ("input_tensor_metadata", [_TENSOR]),
    3: ("output_tensor_metadata", [_TENSOR]),
    4: ("associated_files", [_FILE]),
}
_MODEL = {
    0: ("name", "str"),
    1: ("description", "str"),
    2: ("version", "str"),
    3: ("subgraph_metadata", [_SUBGRAPH]),
    4: ("author", "str"),
    5: ("license", "str"),
    6: ("associated_files", [_FILE]),
    7: ("min_parser_version", "str"),
}


def read(data: bytes) -> dict[str, Any]:
    """A ModelMetadata flatbuffer -> a dict of the fields present (unions read as the one member written here)."""
    if not flatbuffers.util.BufferHasIdentifier(data, 0, FILE_IDENTIFIER):
        raise ValueError(f"not a TFLite metadata flatbuffer (identifier {bytes(data[4:8])!r}, expected {FILE_IDENTIFIER!r})")
    try:
        root = flatbuffers.encode.Get(nt.UOffsetTFlags.packer_type, data, 0)
        return _read(flatbuffers.table.Table(bytearray(data), root), _MODEL)
    except (struct.error, IndexError, UnicodeDecodeError) as exc:  # offsets past the end, or text that is not UTF-8
        raise ValueError(f"a truncated or malformed metadata flatbuffer ({exc})") from None


_SCALARS: dict[str, tuple[Any, Callable[[Any], Any]]] = {
    "u8": (nt.Uint8Flags, int),
    "u32": (nt.Uint32Flags, int),
    "i32": (nt.Int32Flags, int),
}


def _read(table: flatbuffers.table.Table, layout: dict[int, tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for slot, (name, kind) in layout.items():
        at = table.Offset(4 + 2 * slot)
        if not at:
            continue
        if isinstance(kind, list):
            start = table.Vector(at)
            out[name] = [_read(_child(table, start + 4 * i), kind[0]) for i in range(table.VectorLen(at))]
        elif isinstance(kind, dict):
            out[name] = _read(_child(table, at + table.Pos), kind)
        elif kind == "str":
            out[name] = table.String(at + table.Pos).decode()
        elif kind in _SCALARS:
            flags, cast = _SCALARS[kind]
            out[name] = cast(table.Get(flags, at + table.Pos))
        elif kind == "floats":
            out[name] = table.GetVectorAsNumpy(nt.Float32Flags, at).tolist()
        elif kind == "strs":
            start = table.Vector(at)
            out[name] = [table.String(start + 4 * i).decode() for i in range(table.VectorLen(at))]
    return out


def _child(table: flatbuffers.table.Table, at: int) -> flatbuffers.table.Table:
    return flatbuffers.table.Table(table.Bytes, table.Indirect(at))
