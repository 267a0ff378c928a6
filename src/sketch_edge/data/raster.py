"""Strokes -> the 28x28 bitmap, the way QuickDraw's numpy_bitmap files were made.

The official renderer (described in the quickdraw-dataset issue tracker) draws the
256x256 drawing with a 16-unit round-capped line, centred, inside 16 units of
padding, anti-aliased straight into 28x28. We reproduce that area coverage by
drawing at 8x the target size without anti-aliasing and averaging 8x8 blocks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw

from sketch_edge.data.drawing import Drawing
from sketch_edge.errors import DataError

SIDE = 28
ORIGINAL_SIDE = 256.0
LINE_DIAMETER = 16.0
PADDING = 16.0
SUPERSAMPLE = 8


def rasterize(drawing: Drawing, side: int = SIDE) -> np.ndarray:
    """One drawing -> (side, side) uint8, 0 = background, 255 = ink."""
    if not drawing or not any(len(xs) for xs, _ in drawing):
        raise DataError("empty drawing: it has no points to draw")
    big = side * SUPERSAMPLE
    total_padding = 2 * PADDING + LINE_DIAMETER
    scale = big / (ORIGINAL_SIDE + total_padding)
    xy_max = np.array([max(max(xs) for xs, _ in drawing), max(max(ys) for _, ys in drawing)], dtype=np.float64)
    offset = (ORIGINAL_SIDE - xy_max) / 2.0 + total_padding / 2.0
    width = LINE_DIAMETER * scale
    radius = width / 2.0

    canvas = Image.new("L", (big, big), 0)
    pen = ImageDraw.Draw(canvas)
    for xs, ys in drawing:
        pts = (np.stack([xs, ys], axis=1) + offset) * scale
        flat = [tuple(p) for p in pts.tolist()]
        if len(flat) > 1:
            pen.line(flat, fill=255, width=max(1, round(width)), joint="curve")
        for x, y in (flat[0], flat[-1]):  # round caps (the "curve" joint only rounds inner corners)
            pen.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)

    blocks = np.asarray(canvas, dtype=np.float32).reshape(side, SUPERSAMPLE, side, SUPERSAMPLE)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


def rasterize_many(drawings: Sequence[Drawing], side: int = SIDE) -> np.ndarray:
    """Drawings -> (N, side, side) uint8."""
    out = np.zeros((len(drawings), side, side), dtype=np.uint8)
    for i, d in enumerate(drawings):
        out[i] = rasterize(d, side)
    return out
