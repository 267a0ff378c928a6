"""`.ort` recipes: an exported fixed-batch ONNX file converted to ONNX Runtime's own format, for ONNX Runtime Mobile.

The conversion is ONNX Runtime's own tool (`convert_onnx_models_to_ort`) with the
`Fixed` optimization style and `--target_platform arm`: without it the int8 file
would keep `session.qdqisint8allowed=0`, the x86 setting, wrong for a phone. The
twin is the artifact named by the recipe's `from` option, made by the export's
first wave (`export.stage`); its sketch-edge metadata goes with it, naming this recipe.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from pathlib import Path
from typing import Any

from sketch_edge import fileio
from sketch_edge.data import InputSpec
from sketch_edge.errors import ExportError
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.recipes import Recipe
from sketch_edge.formats.onnx import METADATA_KEY
from sketch_edge.manifest import Artifact

TARGET_PLATFORM = "arm"


def export_ort(
    model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader, float_layers: tuple[str, ...] = ()
) -> Artifact:
    import onnx
    from onnxruntime.tools.convert_onnx_models_to_ort import OptimizationStyle, convert_onnx_models_to_ort

    twin = recipe.twin_path(out)
    if not twin.is_file():
        raise ExportError(f"{twin}: the ONNX twin of {recipe.name} was not exported (export {recipe.converts} first)")
    with tempfile.TemporaryDirectory(dir=out.parent, prefix=fileio.owned_prefix(".convert-")) as scratch:
        source, converted = Path(scratch) / f"{out.stem}.onnx", Path(scratch) / "ort"
        proto = onnx.load(str(twin))
        for prop in proto.metadata_props:
            if prop.key == METADATA_KEY:
                prop.value = json.dumps(json.loads(prop.value) | {"recipe": recipe.name}, sort_keys=True)
        onnx.save(proto, str(source))
        with contextlib.redirect_stdout(io.StringIO()):  # it prints each step; a failure raises
            convert_onnx_models_to_ort(source, converted, [OptimizationStyle.Fixed], target_platform=TARGET_PLATFORM)
        made = converted / f"{out.stem}.ort"
        if not made.is_file():
            raise ExportError(f"{twin}: ONNX Runtime's converter wrote no {made.name}")
        with fileio.atomic_path(out) as tmp:
            made.replace(tmp)
    return recipe.artifact(out)
