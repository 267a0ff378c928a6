"""ONNX Runtime's own format (`.ort`): what ONNX Runtime Mobile loads, and what a reduced build is configured from.

An `.ort` file is a flatbuffer (file identifier `ORTM`) converted from an `.onnx`
file; the ONNX model's `metadata_props` go with it, so the project's metadata
is the same `sketch_edge` entry (written into the ONNX twin before it is converted,
`export.ort`). It is read with the flatbuffer classes ONNX Runtime ships
(`onnxruntime.tools.ort_format_model`), without opening a session.
"""

from __future__ import annotations

import logging
import struct
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.errors import ModelError
from sketch_edge.formats.base import Format, GraphFacts, parse_metadata
from sketch_edge.formats.onnx import METADATA_KEY

IDENTIFIER = b"ORTM"


def _model(path: Path) -> Any:
    from onnxruntime.tools.ort_format_model.ort_flatbuffers_py.fbs.InferenceSession import InferenceSession

    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ModelError(f"{path}: cannot be read ({exc})") from None
    if len(data) < 8 or data[4:8] != IDENTIFIER:
        raise ModelError(f"{path}: not an ONNX Runtime (.ort) model (no {IDENTIFIER.decode()} identifier)")
    model = InferenceSession.GetRootAs(data, 0).Model()
    if model is None:
        raise ModelError(f"{path}: an .ort file without a model")
    return model


def read_metadata(path: Path) -> dict[str, Any] | None:
    try:
        model = _model(path)
        props = {model.MetadataProps(i).Key(): model.MetadataProps(i).Value() for i in range(model.MetadataPropsLength())}
    except (IndexError, ValueError, struct.error) as exc:  # offsets past the end: a truncated file
        raise ModelError(f"{path}: its metadata cannot be read ({exc})") from None
    text = props.get(METADATA_KEY.encode())
    return None if text is None else parse_metadata(text, path)


def count_ops(path: Path) -> list[str]:
    graph = _model(path).Graph()
    return [graph.Nodes(i).OpType().decode() for i in range(graph.NodesLength())]


def graph_facts(path: Path) -> GraphFacts:
    """As the ONNX twin's: an .ort file's initializers carry ONNX's element type numbers."""
    import onnx

    graph = _model(path).Graph()
    initializers = [graph.Initializers(i) for i in range(graph.InitializersLength())]
    names = {t.Name() for t in initializers}
    types = {onnx.helper.tensor_dtype_to_np_dtype(t.DataType()).name for t in initializers}
    inputs = [graph.Inputs(i) for i in range(graph.InputsLength()) if graph.Inputs(i) not in names]
    return GraphFacts(inputs=len(inputs), outputs=graph.OutputsLength(), tensor_types=tuple(sorted(types)))


REDUCED_BUILD = "required_operators_and_types.config"


def reduced_build(ort_files: list[Path], folder: Path) -> str:
    """The .ort format's step after export (`Format.after_export`): one `required_operators_and_types.config` for all
    the .ort files, the operators and types a reduced ONNX Runtime build must keep (`build.sh
    --include_ops_by_config`), from ONNX Runtime's own reader of .ort files; its name in `folder`."""
    from onnxruntime.tools.ort_format_model.utils import create_config_from_models

    logging.getLogger("ort_format_model.utils").setLevel(logging.WARNING)  # it logs the temporary file's name
    with fileio.atomic_path(folder / REDUCED_BUILD) as tmp:
        create_config_from_models([p.resolve() for p in sorted(ort_files)], tmp, enable_type_reduction=True)
    return REDUCED_BUILD


FORMAT = Format(
    name="ort",
    suffixes=(".ort",),
    read_metadata=read_metadata,
    count_ops=count_ops,
    graph_facts=graph_facts,
    after_export=reduced_build,
    after_export_says="ONNX Runtime reduced build (the operators and types of every .ort file)",
    emulated=True,
)
