"""The input contract and output form of a Keras classifier trained elsewhere, read from the model itself.

A user's model says how it wants its pixels when it starts with its own preprocessing
(a `Rescaling` or `Normalization` layer, as keras.applications' MobileNetV3 and
EfficientNet do, or a CNN whose first layer is `Normalization`): then an app feeds raw
0-255 pixels. Otherwise only the user knows (`--input-range LO,HI`: what pixel 0 and
pixel 255 become), and a guess would silently cost accuracy, so none is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sketch_edge.data.dataset import InputSpec, image_contract
from sketch_edge.errors import ModelError

MIN_SIDE, MAX_SIDE = 16, 512
PREPROCESSING = ("Rescaling", "Normalization")
PROBABILITY_TOLERANCE = 1e-3
"""Outputs are probabilities when every row is in [0, 1] and sums to 1 within this."""


@dataclass(frozen=True)
class Shape:
    """A model's one image input as declared: (H, W, C), H and W None when any size is taken."""

    height: int | None
    width: int | None
    channels: int
    classes: int


def check_shape(model: Any, where: str) -> Shape:
    """One image input (batch free or 1, H x W x C with C 1 or 3, H and W in 16..512 or free) and one output of
    N class scores; a one-line `ModelError` saying what does not fit."""
    if len(model.inputs) != 1:
        raise ModelError(f"{where}: the model has {len(model.inputs)} inputs; sketch-edge takes classifiers of one image input")
    if len(model.outputs) != 1:
        raise ModelError(f"{where}: the model has {len(model.outputs)} outputs; sketch-edge takes one output of class scores")
    shape = tuple(model.inputs[0].shape)
    if len(shape) != 4:
        raise ModelError(f"{where}: its input has shape {shape}, not an image batch (batch, height, width, channels)")
    batch, height, width, channels = shape
    if batch not in (None, 1):
        raise ModelError(f"{where}: its input's batch dimension is fixed to {batch}; it must be free or 1")
    if channels not in (1, 3):
        raise ModelError(f"{where}: its input has {channels} channels; sketch-edge takes grayscale (1) or RGB (3) images")
    for name, side in (("height", height), ("width", width)):
        if side is not None and not MIN_SIDE <= side <= MAX_SIDE:
            raise ModelError(f"{where}: its input {name} is {side}, outside {MIN_SIDE}..{MAX_SIDE}")
    out = tuple(model.outputs[0].shape)
    if len(out) != 2 or out[1] is None or out[1] < 2:
        raise ModelError(f"{where}: its output has shape {out}, not (batch, classes) with at least 2 classes")
    return Shape(height, width, int(channels), int(out[1]))


def preprocessing_layer(model: Any) -> str | None:
    """The class name of the model's leading preprocessing layer (looking inside a nested first model), or None."""
    import keras

    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers:
        return None
    first = layers[0]
    if isinstance(first, keras.Model):
        return preprocessing_layer(first)
    name = type(first).__name__
    return name if name in PREPROCESSING else None


def parse_range(text: str) -> tuple[float, float]:
    """`LO,HI` of `--input-range`: finite, LO < HI."""
    parts = text.split(",")
    try:
        if len(parts) != 2:
            raise ValueError
        lo, hi = float(parts[0]), float(parts[1])
    except ValueError:
        raise ModelError(f"--input-range {text!r}: expected LO,HI (what pixel 0 and pixel 255 map to, e.g. 0,1 or -1,1)") from None
    if not (np.isfinite(lo) and np.isfinite(hi)) or lo >= hi or max(abs(lo), abs(hi)) > 1e6:
        raise ModelError(f"--input-range {text!r}: LO must be below HI, both finite and within +-1e6")
    return lo, hi


def contract(model: Any, size: tuple[int, int], channels: int, input_range: tuple[float, float] | None, where: str) -> InputSpec:
    """The model's contract: from `input_range` when the user gave it, else raw pixels when the model preprocesses
    them itself, else a one-line error asking for `--input-range`."""
    name = str(model.inputs[0].name).split(":")[0] or "image"
    if input_range is not None:
        lo, hi = input_range
        return image_contract((*size, channels), (hi - lo) / 255.0, lo, "none: an app maps pixels as --input-range said", name)
    layer = preprocessing_layer(model)
    if layer is not None:
        return image_contract((*size, channels), 1.0, 0.0, f"inside the model: the model's leading {layer} layer", name)
    raise ModelError(
        f"{where}: the model does not say what its input range is (no leading Rescaling or Normalization layer); "
        "pass --input-range=LO,HI (what pixel 0 and pixel 255 map to, e.g. 0,255 or 0,1 or -1,1)"
    )


def are_probabilities(outputs: np.ndarray) -> bool:
    """Whether a model's outputs on real inputs are probabilities (else they are taken to be logits)."""
    return bool(
        np.isfinite(outputs).all()
        and outputs.min() >= -PROBABILITY_TOLERANCE
        and outputs.max() <= 1 + PROBABILITY_TOLERANCE
        and np.abs(outputs.sum(axis=1) - 1).max() <= PROBABILITY_TOLERANCE
    )
