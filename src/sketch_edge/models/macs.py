"""Multiply-accumulates per example, counted from the layers of a Keras model.

Convolutions and dense layers only: batch norm folds into the convolution at
export, and pooling, activations and rescaling cost no multiply-accumulates.
"""

from __future__ import annotations

import math
from typing import Any


def count_macs(model: Any) -> int:
    total = 0
    for layer in model.layers:
        kind = layer.__class__.__name__
        if kind in ("Conv1D", "Conv2D"):
            out_positions = math.prod(layer.output.shape[1:-1])
            in_channels = layer.input.shape[-1] // layer.groups
            total += out_positions * math.prod(layer.kernel_size) * in_channels * layer.filters
        elif kind == "DepthwiseConv2D":
            total += math.prod(layer.output.shape[1:]) * math.prod(layer.kernel_size)
        elif kind == "Dense":
            positions = math.prod(layer.input.shape[1:-1]) if len(layer.input.shape) > 2 else 1
            total += positions * layer.input.shape[-1] * layer.units
    return int(total)
