"""TFLite flatbuffers: standard TFLite Model Metadata, with the project's metadata as one of its associated files.

The file is the model flatbuffer with a `TFLITE_METADATA` buffer (model name,
licence and data attribution, the input's image properties and normalization,
the output's labels as TENSOR_AXIS_LABELS: what MediaPipe Tasks and Android
Studio read, `formats.tflite_metadata`), then the associated files as one zip:
`labels.txt` and `sketch_edge.json`. Interpreters ignore bytes after the
flatbuffer; `zipfile` finds the archive from its end, so `read_metadata` needs
neither TensorFlow nor LiteRT, and reads the files written before the standard
metadata (the same zip, without the buffer) alike.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.errors import ModelError
from sketch_edge.formats import tflite_metadata as tm
from sketch_edge.formats.base import MAX_METADATA_BYTES, Format, GraphFacts, parse_metadata

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
    files = {METADATA_FILE: json.dumps(metadata, sort_keys=True), tm.LABELS_FILE: "".join(f"{label}\n" for label in metadata["labels"])}
    flatbuffer = path.read_bytes()
    model = tm.attach(flatbuffer, standard_metadata(metadata, pixel_input=_integer_input(flatbuffer)))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    with fileio.atomic_path(path) as tmp:
        tmp.write_bytes(model + buffer.getvalue())


DEFAULT_ATTRIBUTION = "Training data: not recorded."


def _integer_input(flatbuffer: bytes) -> bool:
    """Whether the model's input tensor is integer (the mobile int8 file's uint8): its quantization maps raw pixels."""
    from ai_edge_litert import schema_py_generated as schema

    graph = schema.Model.GetRootAs(flatbuffer, 0).Subgraphs(0)
    return graph.Tensors(graph.Inputs(0)).Type() in (schema.TensorType.UINT8, schema.TensorType.INT8)


def standard_metadata(metadata: dict[str, Any], pixel_input: bool = False) -> bytes:
    """The ModelMetadata of a sketch-edge model, from the project's own metadata (labels, input contract, names).

    A picture input's NormalizationOptions say how a client maps a pixel to the model's value, (pixel - mean) / std,
    from the contract's value = pixel x scale + offset; an integer input (`pixel_input`) takes raw pixels, its own
    quantization doing the mapping, so it gets mean 0, std 1."""
    contract, labels = metadata["input"], metadata["labels"]
    shape, value_range = contract["shape"], tuple(contract["value_range"])
    if contract["kind"] in ("bitmap", "image"):
        space = "RGB" if shape[-1] == 3 else "GRAYSCALE"
        scale, offset = (1.0, 0.0) if pixel_input else (float(contract.get("scale", 1.0)), float(contract.get("offset", 0.0)))
        normalization = (-offset / scale, 1.0 / scale)
        tensor = tm.image_input(contract["name"], contract["description"], space, (shape[0], shape[1]), value_range, normalization)
    else:
        tensor = tm.feature_tensor(contract["name"], f"{contract['description']} ({contract['scaling']})", value_range)
    output = tm.feature_tensor(
        "probabilities",
        f"the probability of each of the {len(labels)} classes, in the order of {tm.LABELS_FILE}",
        (0.0, 1.0),
        [tm.associated_file(tm.LABELS_FILE, "the class names, one per line", tm.TENSOR_AXIS_LABELS)],
    )
    model = metadata.get("model", "")
    return tm.model_metadata(
        name=str(metadata.get("display_name", model)),
        description=f"Classifies {_what(contract)} into one of {len(labels)} classes. Model {model}, recipe "
        f"{metadata.get('recipe', '?')} ({metadata.get('precision', '?')}); made with sketch-edge.",
        version=f"sha256:{str(metadata.get('source_sha256', ''))[:16]}",
        author="sketch-edge",
        license=str(metadata.get("attribution", DEFAULT_ATTRIBUTION)),
        inputs=[tensor],
        outputs=[output],
        files=[tm.associated_file(METADATA_FILE, "sketch-edge metadata: labels, input contract, model, recipe", tm.DESCRIPTIONS)],
    )


def _what(contract: dict[str, Any]) -> str:
    return "an image" if contract["kind"] == "image" else "a sketch"


def read_standard_metadata(path: Path) -> dict[str, Any] | None:
    """The file's TFLite Model Metadata as a dict named like the schema, or None when it has none (files made before it)."""
    try:
        data = tm.metadata_buffer(path.read_bytes())
        return None if data is None else tm.read(data)
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc})") from None
    except (ValueError, IndexError, TypeError, struct.error) as exc:  # a flatbuffer that is not one
        raise ModelError(f"{path}: its TFLite metadata cannot be read ({exc})") from None


def count_ops(path: Path) -> list[str]:
    from ai_edge_litert.interpreter import Interpreter

    return [op["op_name"] for op in Interpreter(model_path=str(path))._get_ops_details()]


def graph_facts(path: Path) -> GraphFacts:
    """The main subgraph's inputs, outputs and the types of its constant tensors (those with data in a buffer)."""
    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    names = {value: name.lower() for name, value in vars(schema.TensorType).items() if not name.startswith("_")}
    constant = [graph.Tensors(i) for i in range(graph.TensorsLength()) if _has_data(model, graph.Tensors(i).Buffer())]
    types = {names.get(tensor.Type(), "unknown") for tensor in constant}
    return GraphFacts(inputs=graph.InputsLength(), outputs=graph.OutputsLength(), tensor_types=tuple(sorted(types)))


def _has_data(model: Any, buffer: int) -> bool:
    """Buffer 0 is the empty sentinel; a buffer holds data inline or past the flatbuffer (offset > 1)."""
    if buffer <= 0 or buffer >= model.BuffersLength():
        return False
    entry = model.Buffers(buffer)
    return entry.DataLength() > 0 or entry.Offset() > 1


def count_macs(path: Path) -> int:
    """Multiply-accumulates per example of the convolutions and fully connected layers, as models.macs counts a Keras
    model's, from the static shapes of each op's weights and output (the same in a float and a quantized file)."""
    import math

    from ai_edge_litert import schema_py_generated as schema

    model = schema.Model.GetRootAs(path.read_bytes(), 0)
    graph = model.Subgraphs(0)
    ops = schema.BuiltinOperator

    def shape(index: int) -> tuple[int, ...]:
        return tuple(int(d) for d in graph.Tensors(index).ShapeAsNumpy())

    total = 0
    for i in range(graph.OperatorsLength()):
        op = graph.Operators(i)
        code = model.OperatorCodes(op.OpcodeIndex())
        builtin = max(code.BuiltinCode(), code.DeprecatedBuiltinCode())
        if builtin not in (ops.CONV_2D, ops.DEPTHWISE_CONV_2D, ops.FULLY_CONNECTED):
            continue
        weights, out = shape(op.Inputs(1)), shape(op.Outputs(0))
        per_example = math.prod(out[1:]) if len(out) > 1 else math.prod(out)
        if builtin == ops.CONV_2D:  # weights (out channels, kh, kw, in channels)
            total += per_example * math.prod(weights[1:])
        elif builtin == ops.DEPTHWISE_CONV_2D:  # weights (1, kh, kw, channels)
            total += per_example * weights[1] * weights[2]
        else:  # weights (units, inputs)
            total += per_example * weights[-1]
    return int(total)


FORMAT = Format(
    name="tflite",
    suffixes=(".tflite",),
    read_metadata=read_metadata,
    embed_metadata=embed_metadata,
    count_ops=count_ops,
    graph_facts=graph_facts,
    count_macs=count_macs,
    layers="sketch_edge.export.sensitivity:tflite_layers",
    emulated=True,
)
