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
from sketch_edge.formats.base import Format, GraphFacts, parse_metadata

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


def graph_facts(path: Path) -> GraphFacts:
    """The graph's inputs (initializers listed as inputs by older exporters left out), outputs, initializer types."""
    import onnx

    graph = onnx.load(str(path)).graph
    initializers = {t.name for t in graph.initializer}
    types = {onnx.helper.tensor_dtype_to_np_dtype(t.data_type).name for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in initializers]
    return GraphFacts(inputs=len(inputs), outputs=len(graph.output), tensor_types=tuple(sorted(types)))


def count_macs(path: Path) -> int:
    """Multiply-accumulates per example of Conv, Gemm and MatMul nodes (and their quantized forms), as models.macs
    counts a Keras model's, from shapes ONNX's shape inference gives every value (a QDQ weight's too)."""
    import math

    import onnx

    model = onnx.shape_inference.infer_shapes(onnx.load(str(path)))
    graph = model.graph
    shapes = {t.name: tuple(t.dims) for t in graph.initializer}
    for value in (*graph.input, *graph.value_info, *graph.output):
        dims = value.type.tensor_type.shape.dim
        shapes.setdefault(value.name, tuple(d.dim_value if d.HasField("dim_value") else 1 for d in dims))
    weight_input = {"Conv": 1, "ConvInteger": 1, "QLinearConv": 3, "Gemm": 1, "MatMul": 1, "MatMulInteger": 1, "QLinearMatMul": 3}
    total = 0
    for node in graph.node:
        if node.op_type not in weight_input or len(node.input) <= weight_input[node.op_type]:
            continue
        weights, out = shapes.get(node.input[weight_input[node.op_type]]), shapes.get(node.output[0])
        if not weights or not out:
            continue
        per_example = math.prod(out[1:]) if len(out) > 1 else math.prod(out)
        if "Conv" in node.op_type:  # weights (out channels, in channels / groups, kh, kw)
            total += per_example * math.prod(weights[1:])
        else:
            trans_b = node.op_type == "Gemm" and any(a.name == "transB" and a.i for a in node.attribute)
            total += per_example * (weights[-1] if trans_b else weights[0])
    return int(total)


def output_step(path: Path) -> float | None:
    """One step of a quantized output: the scale of the DequantizeLinear that makes it (None for a float output).
    ONNX Runtime gives the file's float output only, so verify-arm reads the step from the graph."""
    import onnx
    from onnx import numpy_helper

    graph = onnx.load(str(path)).graph
    producer = next((n for n in graph.node if graph.output[0].name in n.output), None)
    if producer is None or producer.op_type != "DequantizeLinear":
        return None
    scale = next((numpy_helper.to_array(t) for t in graph.initializer if t.name == producer.input[1]), None)
    return None if scale is None or scale.size != 1 else float(scale.reshape(()))


FORMAT = Format(
    name="onnx",
    suffixes=(".onnx",),
    read_metadata=read_metadata,
    embed_metadata=embed_metadata,
    count_ops=count_ops,
    check=check,
    graph_facts=graph_facts,
    count_macs=count_macs,
    output_step=output_step,
    layers="sketch_edge.export.sensitivity:onnx_layers",
    emulated=True,
)
