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
import logging
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


REDUCED_BUILD = "required_operators_and_types.config"


def reduced_build(ort_files: list[Path], folder: Path) -> str:
    """The .ort format's step after export (`Format.after_export`): their reduced-build config; its name in `folder`."""
    reduced_build_config(ort_files, folder / REDUCED_BUILD)
    return REDUCED_BUILD


def reduced_build_config(ort_files: list[Path], out: Path) -> None:
    """One `required_operators_and_types.config` for all the .ort files: the operators and types a reduced ONNX Runtime
    build must keep (`build.sh --include_ops_by_config`), from ONNX Runtime's own reader of .ort files."""
    from onnxruntime.tools.ort_format_model.utils import create_config_from_models

    logging.getLogger("ort_format_model.utils").setLevel(logging.WARNING)  # it logs the temporary file's name
    with fileio.atomic_path(out) as tmp:
        create_config_from_models([p.resolve() for p in sorted(ort_files)], tmp, enable_type_reduction=True)
