"""Multiply-accumulates per example, counted from the layers of a Keras model.

Convolutions, dense and recurrent layers: batch norm folds into the convolution
at export, and pooling, activations, rescaling and masks cost no multiply-accumulates
(element-wise products are not counted: they are not what bounds a GEMM peak).
"""

from __future__ import annotations

import math
from typing import Any

_GATES = {"LSTM": 4, "GRU": 3, "SimpleRNN": 1}


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
        elif kind == "SeparableConv2D":  # a depthwise pass over the input channels, then a 1x1 convolution
            out_positions, in_channels = math.prod(layer.output.shape[1:-1]), layer.input.shape[-1]
            total += out_positions * in_channels * (math.prod(layer.kernel_size) * layer.depth_multiplier + layer.filters)
        elif kind in _GATES:
            # every step multiplies the input and the previous state by each gate's weights
            steps, inputs = layer.input.shape[1], layer.input.shape[-1]
            total += steps * _GATES[kind] * layer.units * (inputs + layer.units)
        elif kind == "Dense":
            positions = math.prod(layer.input.shape[1:-1]) if len(layer.input.shape) > 2 else 1
            total += positions * layer.input.shape[-1] * layer.units
    return int(total)
