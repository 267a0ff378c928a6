"""`sketch-edge data`: what a source holds, before anyone trains on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from sketch_edge import fileio
from sketch_edge.data.dataset import Dataset


def describe(data: Dataset) -> dict[str, Any]:
    return {
        **data.description,
        "input_kinds": list(data.kinds),
        "classes": len(data.labels),
        "drawings": len(data),
        "per_class": data.counts(),
    }


def save_sample_grid(data: Dataset, path: Path, per_class: int = 10) -> None:
    """A PNG with one row of sample bitmaps per class (ink drawn dark on light, as a person expects)."""
    side = data.pixels.shape[1]
    grid = np.full((len(data.labels) * side, per_class * side), 0, dtype=np.uint8)
    for label in range(len(data.labels)):
        for j, i in enumerate(np.flatnonzero(data.y == label)[:per_class]):
            grid[label * side : (label + 1) * side, j * side : (j + 1) * side] = data.pixels[i]
    image = Image.fromarray(255 - grid).resize((grid.shape[1] * 2, grid.shape[0] * 2), Image.Resampling.NEAREST)
    with fileio.atomic_path(path) as tmp:
        image.save(tmp, format="PNG")
