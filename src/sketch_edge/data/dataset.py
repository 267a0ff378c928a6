"""The in-memory dataset every source produces, its input kinds, and its splits.

A dataset holds labels plus bitmaps, drawings, or both. Drawings (strokes) give
both input kinds, since bitmaps are rasterized from them; bitmap-only sources
(numpy_bitmap, TFDS) give only `bitmap`. Models ask for the kind they consume.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from sketch_edge.data.drawing import Drawing
from sketch_edge.data.raster import SIDE, rasterize_many
from sketch_edge.data.sequence import CHANNELS, STEPS, to_sequences
from sketch_edge.errors import DataError


@dataclass(frozen=True)
class InputSpec:
    """The input contract of a model: what one example looks like before the model's own scaling."""

    kind: str
    name: str  # the model's input tensor, in Keras and in every exported file
    shape: tuple[int, ...]
    dtype: str
    value_range: tuple[float, float]
    description: str
    scaling: str  # what the model does to the input itself, so apps feed it raw values

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "name": self.name,
            "shape": list(self.shape),
            "dtype": self.dtype,
            "value_range": list(self.value_range),
            "description": self.description,
            "scaling": self.scaling,
        }


INPUT_SPECS: dict[str, InputSpec] = {
    "bitmap": InputSpec(
        "bitmap",
        "image",
        (SIDE, SIDE, 1),
        "float32",
        (0.0, 255.0),
        "28x28 grayscale, 0 = background, 255 = ink",
        "inside the model: x / 255",
    ),
    "strokes": InputSpec(
        "strokes",
        "strokes",
        (STEPS, CHANNELS),
        "float32",
        (0.0, 255.0),
        f"the first {STEPS} points (x, y 0-255, stroke end 0/255, present 255), then zero rows",
        "inside the model: x / 255; padded rows zeroed after every layer",
    ),
}


@dataclass(frozen=True)
class Dataset:
    """Drawings of `labels`; `y[i]` indexes `labels`."""

    labels: tuple[str, ...]
    y: np.ndarray
    bitmaps: np.ndarray | None = None
    drawings: list[Drawing] | None = None
    description: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bitmaps is None and self.drawings is not None:
            object.__setattr__(self, "bitmaps", rasterize_many(self.drawings))

    def __len__(self) -> int:
        return len(self.y)

    @property
    def kinds(self) -> tuple[str, ...]:
        return ("bitmap", "strokes") if self.drawings is not None else ("bitmap",)

    def counts(self) -> dict[str, int]:
        return {name: int((self.y == i).sum()) for i, name in enumerate(self.labels)}

    def features(self, kind: str) -> np.ndarray:
        """The model input for every drawing: (N, 28, 28, 1) uint8 bitmaps or (N, STEPS, 4) float32 point sequences."""
        if kind not in self.kinds:
            raise DataError(
                f"this data has no {kind!r} input (it has {', '.join(self.kinds)}); "
                f"{self.description.get('source', 'the source')} holds bitmaps only"
            )
        if kind == "bitmap":
            return self.bitmaps[..., None]
        return to_sequences(self.drawings)

    def subset(self, index: np.ndarray) -> Dataset:
        return replace(
            self,
            y=self.y[index],
            bitmaps=self.bitmaps[index],
            drawings=[self.drawings[i] for i in index] if self.drawings is not None else None,
        )


@dataclass(frozen=True)
class Splits:
    train: Dataset
    val: Dataset
    test: Dataset
    index: dict[str, np.ndarray] = field(default_factory=dict)  # each split's positions in the source dataset

    def counts(self) -> dict[str, int]:
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def split(data: Dataset, seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1) -> Splits:
    """Deterministic stratified split: each class is shuffled with `seed` and cut in the same proportions."""
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "val": [], "test": []}
    for label in range(len(data.labels)):
        idx = rng.permutation(np.flatnonzero(data.y == label))
        n_test = int(round(len(idx) * test_fraction))
        n_val = int(round(len(idx) * val_fraction))
        if len(idx) - n_test - n_val < 1 or n_test < 1 or n_val < 1:
            raise DataError(f"class {data.labels[label]!r} has {len(idx)} drawings: too few to split into train, validation and test")
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test : n_test + n_val])
        parts["train"].append(idx[n_test + n_val :])
    index = {k: np.sort(np.concatenate(v)) for k, v in parts.items()}
    return Splits(**{k: data.subset(i) for k, i in index.items()}, index=index)
