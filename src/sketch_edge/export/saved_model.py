"""`saved_model`: Keras 3 `model.export()`, the TensorFlow serving form."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from sketch_edge.data import InputSpec
from sketch_edge.export.calibration import CalibrationReader
from sketch_edge.export.recipes import Recipe
from sketch_edge.manifest import Artifact


def export_saved_model(
    model: Any, out: Path, *, input_spec: InputSpec, recipe: Recipe, calibration: CalibrationReader, float_layers: tuple[str, ...] = ()
) -> Artifact:
    tmp = out.with_name(f".{out.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.export(str(tmp), format="tf_saved_model", verbose=False)
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    return recipe.artifact(out)
