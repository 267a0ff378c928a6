"""Float fallback: keep the fewest, most sensitive layers in float that bring int8 top-1 back near Keras's.

The recipe is first made fully int8; its sensitivity report ranks the layers by
the quantization noise each adds; then the K worst are kept in float, K = 0, 1,
2, ... until validation top-1 is within `max_drop` of Keras's on the same
drawings. K is chosen on the validation split so the test split, where the
manifest and the bench report top-1, plays no part in the choice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from sketch_edge.export.recipes import Recipe
from sketch_edge.export.sensitivity import Sensitivity, measure
from sketch_edge.manifest import Artifact


@dataclass(frozen=True)
class Validation:
    """The drawings K is chosen on, and the top-1 Keras reaches on them."""

    x: np.ndarray
    labels: np.ndarray
    keras_top1: float
    calibration: np.ndarray  # what the sensitivity report runs on


def choose_float_layers(
    recipe: Recipe,
    out: Path,
    float_twin: Path,
    export: Callable[[Recipe, Path], Artifact],
    predict: Callable[[Path, np.ndarray], np.ndarray],
    validation: Validation,
    max_drop: float,
) -> tuple[Artifact, dict[str, Any]]:
    """Export `recipe` to `out` with the fewest float layers that meet `max_drop`; the artifact and what was tried."""
    base = replace(recipe, options={k: v for k, v in recipe.options.items() if k != "fallback"})
    artifact = export(base, out)
    ranking: Sensitivity = measure(recipe.format, float_twin, out, validation.calibration)
    candidates = [layer for layer in ranking.layers if layer.added_noise > 0]
    aim = validation.keras_top1 - max_drop
    tried = []
    for k in range(len(candidates) + 1):
        if k:
            kept = [node for layer in candidates[:k] for node in layer.nodes]
            artifact = export(replace(base, options={**base.options, "float_layers": kept}), out)
        top1 = float((predict(out, validation.x).argmax(axis=1) == validation.labels).mean())
        tried.append({"k": k, "validation_top1": top1})
        if top1 >= aim:
            break
    float_layers = [f"{layer.op} {layer.tensor}" for layer in candidates[:k]]
    return artifact, {
        "fallback": {
            "k": k,
            "float_layers": float_layers,
            "max_drop": max_drop,
            "keras_validation_top1": validation.keras_top1,
            "reached": tried[-1]["validation_top1"] >= aim,
            "tried": tried,
        }
    }
