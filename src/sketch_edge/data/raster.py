"""Strokes -> the 28x28 bitmap, the way QuickDraw's numpy_bitmap files were made.

The official renderer draws the 256x256 drawing with a 16-unit round-capped line,
centred, inside 16 units of padding, anti-aliased into 28x28. We compute that area
coverage exactly as it is defined: a sample point is ink when it lies within half
the line width of a segment, on an 8x8 grid of samples per pixel. Every step is
plain IEEE arithmetic (no library drawing code), so the JavaScript port in
`web/src/raster.js` gives the same bytes; `tests/web` checks it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

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
    margin = 2 * PADDING + LINE_DIAMETER
    scale = big / (ORIGINAL_SIDE + margin)
    # centre the drawing's extent, as the official renderer does
    offset_x = (ORIGINAL_SIDE - max(max(xs) for xs, _ in drawing if xs)) / 2.0 + margin / 2.0
    offset_y = (ORIGINAL_SIDE - max(max(ys) for xs, ys in drawing if xs)) / 2.0 + margin / 2.0
    radius = LINE_DIAMETER / 2.0 * scale
    sample_centres = np.arange(big, dtype=np.float64) + 0.5
    ink = np.zeros((big, big), dtype=bool)
    for xs, ys in drawing:
        px = [(float(x) + offset_x) * scale for x in xs]
        py = [(float(y) + offset_y) * scale for y in ys]
        if len(px) == 1:  # a dot: a zero-length segment
            px, py = px * 2, py * 2
        for ax, ay, bx, by in zip(px[:-1], py[:-1], px[1:], py[1:], strict=True):
            x0, x1 = max(0, math.floor(min(ax, bx) - radius)), min(big, math.ceil(max(ax, bx) + radius) + 1)
            y0, y1 = max(0, math.floor(min(ay, by) - radius)), min(big, math.ceil(max(ay, by) + radius) + 1)
            ink[y0:y1, x0:x1] |= _within(sample_centres[x0:x1], sample_centres[y0:y1], ax, ay, bx, by, radius * radius)
    counts = ink.reshape(side, SUPERSAMPLE, side, SUPERSAMPLE).sum(axis=(1, 3))
    samples = SUPERSAMPLE * SUPERSAMPLE
    return ((counts * 255 + samples // 2) // samples).astype(np.uint8)  # integer rounding, as in the JS port


def _within(gx: np.ndarray, gy: np.ndarray, ax: float, ay: float, bx: float, by: float, r2: float) -> np.ndarray:
    """Grid points (gy rows x gx columns) whose squared distance to segment a-b is at most r2."""
    px = gx[None, :] - ax
    py = gy[:, None] - ay
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    if length2 > 0:
        t = np.minimum(np.maximum((px * dx + py * dy) / length2, 0.0), 1.0)
        px, py = px - t * dx, py - t * dy
    return px * px + py * py <= r2


def rasterize_many(drawings: Sequence[Drawing], side: int = SIDE) -> np.ndarray:
    """Drawings -> (N, side, side) uint8."""
    out = np.zeros((len(drawings), side, side), dtype=np.uint8)
    for i, d in enumerate(drawings):
        out[i] = rasterize(d, side)
    return out
